/* Unit tests: store/ blobs, ingest, references, image parsing, containers. */
#include "store/store.h"

#include <check.h>
#include <string.h>
#include <sys/stat.h>

#define BUSYBOX MINI_SOURCE_DIR "/../shared/images/busybox/blobs/sha256/"
#define BB_AMD64 "sha256:1cfa4e2b09e127b9c4ed43578d3f3c18e7d44ea47b9ea98475c0cbe9086525f8"

static char tmpdir[64];
static struct store *st;

static void
setup (void)
{
  mini_error_t err = NULL;
  strcpy (tmpdir, "/tmp/mini-store-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  cleanup_free char *root = xfmt ("%s/root", tmpdir);
  ck_assert_int_eq (store_open (root, &st, &err), 0);
}

static void
teardown (void)
{
  mini_error_t err = NULL;
  store_close (st);
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
}

static int
count_dir (const char *rel)
{
  int fd = openat (st->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fdopendir (fd);
  struct dirent *de;
  int n = 0;
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      n++;
  closedir (d);
  return n;
}

START_TEST (test_ingest)
{
  mini_error_t err = NULL;
  struct store_ingest *in = NULL;
  char d[72];
  sha256_digest ("hello", 5, d);

  /* Wrong bytes: error, nothing stored, no partial left.  */
  ck_assert_int_eq (store_ingest_begin (st, d, 5, &in, &err), 0);
  ck_assert_int_eq (store_ingest_write (in, "hellO", 5, &err), 0);
  ck_assert_int_lt (store_ingest_commit (in, &err), 0);
  ck_assert_ptr_nonnull (strstr (err->msg, "digest mismatch"));
  mini_error_release (&err);
  ck_assert (!store_blob_exists (st, d));
  ck_assert_int_eq (count_dir ("ingest"), 0);

  /* Too many bytes.  */
  ck_assert_int_eq (store_ingest_begin (st, d, 5, &in, &err), 0);
  ck_assert_int_lt (store_ingest_write (in, "hello!", 6, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EFBIG);
  mini_error_release (&err);
  store_ingest_abort (in);
  ck_assert_int_eq (count_dir ("ingest"), 0);

  /* Right bytes, after a reset.  */
  ck_assert_int_eq (store_ingest_begin (st, d, 5, &in, &err), 0);
  ck_assert_int_eq (store_ingest_write (in, "he", 2, &err), 0);
  ck_assert_int_eq (store_ingest_reset (in, &err), 0);
  ck_assert_int_eq (store_ingest_write (in, "hel", 3, &err), 0);
  ck_assert_int_eq (store_ingest_write (in, "lo", 2, &err), 0);
  ck_assert_int_eq (store_ingest_commit (in, &err), 0);
  ck_assert (store_blob_exists (st, d));
  ck_assert_int_eq (count_dir ("ingest"), 0);

  /* put checks the digest too */
  ck_assert_int_lt (store_blob_put (st, d, "nope", 4, &err), 0);
  mini_error_release (&err);
}
END_TEST

static char *slurp (const char *path, size_t *len);

START_TEST (test_refs)
{
  mini_error_t err = NULL;
  char *m = NULL;
  struct store_ref *refs;
  size_t n, mlen = 0;
  cleanup_free char *mb = slurp (BUSYBOX "1cfa4e2b09e127b9c4ed43578d3f3c18e7d44ea47b9ea98475c0cbe9086525f8", &mlen);

  /* A reference needs its manifest in the store. */
  ck_assert_int_lt (store_ref_set (st, "docker.io/library/busybox:latest", BB_AMD64, NULL, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  mini_error_release (&err);
  ck_assert_int_eq (store_blob_put (st, BB_AMD64, mb, mlen, &err), 0);
  ck_assert_int_lt (store_ref_get (st, "docker.io/library/busybox:latest", &m, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  mini_error_release (&err);
  ck_assert_int_eq (store_ref_set (st, "docker.io/library/busybox:latest", BB_AMD64, NULL, &err), 0);
  ck_assert_int_eq (store_ref_set (st, "a/b:c", BB_AMD64, BB_AMD64, &err), 0);
  ck_assert_int_lt (store_ref_set (st, "x", "sha256:bad", NULL, &err), 0);
  mini_error_release (&err);
  ck_assert_int_eq (store_ref_get (st, "docker.io/library/busybox:latest", &m, &err), 0);
  ck_assert_str_eq (m, BB_AMD64);
  free (m);
  ck_assert_int_eq (store_ref_list (st, &refs, &n, &err), 0);
  ck_assert_uint_eq (n, 2);
  store_refs_free (refs, n);
}
END_TEST

static char *
slurp (const char *path, size_t *len)
{
  mini_error_t err = NULL;
  char *buf = NULL;
  ck_assert_int_eq (read_file_at (AT_FDCWD, path, &buf, len, 0, &err), 0);
  return buf;
}

START_TEST (test_image_parse)
{
  mini_error_t err = NULL;
  struct store_image *img = NULL;
  size_t mlen, clen;
  char *m = slurp (BUSYBOX "1cfa4e2b09e127b9c4ed43578d3f3c18e7d44ea47b9ea98475c0cbe9086525f8", &mlen);
  json_t *j = json_loadb (m, mlen, 0, NULL);
  const char *cd = json_string_value (json_object_get (json_object_get (j, "config"), "digest"));
  cleanup_free char *cpath = xfmt (BUSYBOX "%s", digest_hex (cd));
  char *c = slurp (cpath, &clen);

  ck_assert_int_eq (store_image_parse (BB_AMD64, m, mlen, c, clen, &img, &err), 0);
  ck_assert_uint_eq (img->n_layers, 1);
  ck_assert_str_eq (img->architecture, "amd64");
  ck_assert_str_eq (img->os, "linux");
  ck_assert_str_eq (img->cmd[0], "sh");
  ck_assert_ptr_null (img->entrypoint);
  /* One layer: chain_id == diff_id.  */
  ck_assert_str_eq (img->layers[0].chain_id, img->layers[0].diff_id);
  ck_assert (digest_is_valid (img->layers[0].digest));
  store_image_free (img);

  /* diff_ids count mismatch is refused.  */
  ck_assert_int_lt (store_image_parse (BB_AMD64, m, mlen, "{\"rootfs\":{\"diff_ids\":[]}}", 26, &img, &err), 0);
  ck_assert_ptr_nonnull (strstr (err->msg, "diff_ids"));
  mini_error_release (&err);
  /* An index is not an image manifest.  */
  ck_assert_int_lt (store_image_parse (BB_AMD64, "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}", 55, c, clen, &img, &err), 0);
  mini_error_release (&err);
  json_decref (j);
  free (m);
  free (c);
}
END_TEST

START_TEST (test_chain_id)
{
  char out[72];
  const char *a = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const char *b = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  char expect[72];
  char *s = xfmt ("%s %s", a, b);
  store_chain_id (NULL, a, out);
  ck_assert_str_eq (out, a);
  store_chain_id (a, b, out);
  sha256_digest (s, strlen (s), expect);
  ck_assert_str_eq (out, expect);
  free (s);
}
END_TEST

START_TEST (test_containers)
{
  mini_error_t err = NULL;
  struct store_container *c = xmalloc0 (sizeof (*c)), *d = xmalloc0 (sizeof (*d)), *l = NULL;
  struct store_container **v;
  size_t n;
  c->name = xstrdup ("web");
  c->argv = strv_dup ((char *[]){ "sh", "-c", "sleep 1", NULL });
  ck_assert_int_eq (store_container_create (st, c, &err), 0);
  ck_assert_uint_eq (strlen (c->id), 64);
  ck_assert_int_eq (strncmp (c->hostname, c->id, 12), 0);
  ck_assert_uint_eq (strlen (c->hostname), 12);

  d->name = xstrdup ("web");
  ck_assert_int_lt (store_container_create (st, d, &err), 0);
  ck_assert_ptr_nonnull (strstr (err->msg, "already in use"));
  mini_error_release (&err);
  free (d->name);
  d->name = xstrdup ("../evil");
  ck_assert_int_lt (store_container_create (st, d, &err), 0);
  mini_error_release (&err);
  free (d->name);
  d->name = NULL; /* generated */
  ck_assert_int_eq (store_container_create (st, d, &err), 0);
  ck_assert (store_container_name_valid (d->name));

  ck_assert_int_eq (store_container_load (st, "web", &l, &err), 0);
  ck_assert_str_eq (l->id, c->id);
  ck_assert_str_eq (l->argv[2], "sleep 1");
  store_container_free (l);
  {
    cleanup_free char *prefix = xstrndup (c->id, 12);
    ck_assert_int_eq (store_container_load (st, prefix, &l, &err), 0);
  }
  store_container_free (l);
  ck_assert_int_lt (store_container_load (st, "nosuch", &l, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  mini_error_release (&err);

  ck_assert_int_eq (store_container_list (st, &v, &n, &err), 0);
  ck_assert_uint_eq (n, 2);
  store_containers_free (v, n);

  ck_assert_int_eq (store_container_remove (st, c, &err), 0);
  ck_assert_int_lt (store_container_load (st, "web", &l, &err), 0);
  mini_error_release (&err);
  /* name is free again */
  free (c->id);
  c->id = NULL;
  ck_assert_int_eq (store_container_create (st, c, &err), 0);
  store_container_free (c);
  store_container_free (d);
}
END_TEST

START_TEST (test_layers)
{
  mini_error_t err = NULL;
  int fd;
  char *tmp;
  const char *chain = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  ck_assert (!store_layer_exists (st, chain));
  ck_assert_int_eq (store_layer_begin (st, &fd, &tmp, &err), 0);
  close (fd);
  ck_assert (!store_layer_exists (st, chain));
  ck_assert_int_eq (store_layer_commit (st, tmp, chain, &err), 0);
  ck_assert (store_layer_exists (st, chain));
  free (tmp);
  /* A second commit of the same chain_id is fine and leaves no temp.  */
  ck_assert_int_eq (store_layer_begin (st, &fd, &tmp, &err), 0);
  close (fd);
  ck_assert_int_eq (store_layer_commit (st, tmp, chain, &err), 0);
  free (tmp);
  ck_assert_int_eq (count_dir ("layers"), 1);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("store");
  TCase *tc = tcase_create ("store");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_ingest);
  tcase_add_test (tc, test_refs);
  tcase_add_test (tc, test_image_parse);
  tcase_add_test (tc, test_chain_id);
  tcase_add_test (tc, test_containers);
  tcase_add_test (tc, test_layers);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (suite ());
  int failed;
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
