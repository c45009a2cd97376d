/* Unit tests: store/ image archives: save (OCI layout + docker-archive in one
   tar), load of OCI archives and docker-archives (any layout, symlinked
   layers, compressed), and hostile or broken archives. */
#include "store/store.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <string.h>
#include <sys/stat.h>

#define BUSYBOX MINI_SOURCE_DIR "/../shared/images/busybox/blobs/sha256/"
#define BB_INDEX "sha256:6d9717d7eca1a49a389f5d34d1ac01d863cdd3637e9d0801fdb8a3cb36925f20"
#define BB_AMD64 "sha256:1cfa4e2b09e127b9c4ed43578d3f3c18e7d44ea47b9ea98475c0cbe9086525f8"
#define BB_CONFIG "sha256:c6348fa86ba0fb2108c9334f5fe913ddc6d853313e655891f133a0127c30099f"
#define BB_LAYER "sha256:b05093807bb0294152bb9cf86d64da722732dddaf7f8882fa1f120477dbc4db3"
#define REF "docker.io/library/busybox:latest"

static char tmpdir[64];
static struct store *a, *b;

static void
setup (void)
{
  mini_error_t err = NULL;
  cleanup_free char *ra = NULL;
  cleanup_free char *rb = NULL;
  strcpy (tmpdir, "/tmp/mini-archive-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  ra = xfmt ("%s/a", tmpdir);
  rb = xfmt ("%s/b", tmpdir);
  ck_assert_int_eq (store_open (ra, &a, &err), 0);
  ck_assert_int_eq (store_open (rb, &b, &err), 0);
}

static void
teardown (void)
{
  mini_error_t err = NULL;
  store_close (a);
  store_close (b);
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
}

static char *
shared (const char *digest, size_t *len)
{
  cleanup_free char *path = xfmt (BUSYBOX "%s", digest_hex (digest));
  char *buf = NULL;
  mini_error_t err = NULL;
  ck_assert_int_eq (read_file_at (AT_FDCWD, path, &buf, len, 0, &err), 0);
  return buf;
}

static void
put_shared (struct store *s, const char *digest)
{
  size_t len = 0;
  cleanup_free char *buf = shared (digest, &len);
  mini_error_t err = NULL;
  ck_assert_int_eq (store_blob_put (s, digest, buf, len, &err), 0);
}

static int
tmpfile_fd (const char *name)
{
  cleanup_free char *p = xfmt ("%s/%s", tmpdir, name);
  int fd = open (p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ck_assert_int_ge (fd, 0);
  return fd;
}

static bool
dir_empty (struct store *s, const char *rel)
{
  int fd = openat (s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fdopendir (fd);
  struct dirent *de;
  bool empty = true;
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      empty = false;
  closedir (d);
  return empty;
}

/* ------------------------------------------------------------ a tar writer */

struct tarw
{
  struct archive *w;
};

static void
tar_open (struct tarw *t, int fd, bool gzip)
{
  t->w = archive_write_new ();
  ck_assert_int_eq (archive_write_set_format_pax_restricted (t->w), ARCHIVE_OK);
  if (gzip)
    ck_assert_int_eq (archive_write_add_filter_gzip (t->w), ARCHIVE_OK);
  ck_assert_int_eq (archive_write_open_fd (t->w, fd), ARCHIVE_OK);
}

static void
tar_file (struct tarw *t, const char *path, const void *buf, size_t len)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, len);
  ck_assert_int_eq (archive_write_header (t->w, e), ARCHIVE_OK);
  if (len)
    ck_assert_int_eq (archive_write_data (t->w, buf, len), (la_ssize_t) len);
  archive_entry_free (e);
}

static void
tar_symlink (struct tarw *t, const char *path, const char *target)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, AE_IFLNK);
  archive_entry_set_perm (e, 0777);
  archive_entry_set_symlink (e, target);
  ck_assert_int_eq (archive_write_header (t->w, e), ARCHIVE_OK);
  archive_entry_free (e);
}

static void
tar_shared_blob (struct tarw *t, const char *digest)
{
  size_t len = 0;
  cleanup_free char *buf = shared (digest, &len);
  cleanup_free char *p = xfmt ("blobs/sha256/%s", digest_hex (digest));
  tar_file (t, p, buf, len);
}

static void
tar_close (struct tarw *t)
{
  ck_assert_int_eq (archive_write_close (t->w), ARCHIVE_OK);
  archive_write_free (t->w);
}

static int
choose_amd64 (void *data, const char *index_json, size_t len, char **ret_digest, mini_error_t *err)
{
  (void) data;
  (void) err;
  ck_assert_ptr_nonnull (strstr (index_json, BB_AMD64));
  ck_assert_uint_gt (len, 0);
  *ret_digest = xstrdup (BB_AMD64);
  return 0;
}

static const struct store_load_options choose = { choose_amd64, NULL };

static int
load_file (const char *name, struct store_loaded **v, size_t *n, mini_error_t *err)
{
  cleanup_free char *p = xfmt ("%s/%s", tmpdir, name);
  int fd = open (p, O_RDONLY | O_CLOEXEC), r;
  ck_assert_int_ge (fd, 0);
  r = store_archive_load (b, fd, &choose, v, n, err);
  close (fd);
  return r;
}

/* ------------------------------------------------------------ save + load */

START_TEST (test_roundtrip)
{
  mini_error_t err = NULL;
  char *names[] = { (char *) REF, NULL };
  char *tags[] = { (char *) "busybox:latest", NULL };
  struct store_save_image img = { BB_AMD64, BB_INDEX, names, tags };
  struct store_loaded *v = NULL;
  size_t n = 0;
  int fd;

  put_shared (a, BB_INDEX);
  put_shared (a, BB_AMD64);
  put_shared (a, BB_CONFIG);
  put_shared (a, BB_LAYER);
  fd = tmpfile_fd ("out.tar");
  ck_assert_int_eq (store_archive_save (a, &img, 1, fd, &err), 0);
  close (fd);

  /* Both formats' files are there. */
  {
    cleanup_free char *p = xfmt ("%s/out.tar", tmpdir);
    struct archive *r = archive_read_new ();
    struct archive_entry *e;
    int seen = 0;
    archive_read_support_format_tar (r);
    ck_assert_int_eq (archive_read_open_filename (r, p, 10240), ARCHIVE_OK);
    while (archive_read_next_header (r, &e) == ARCHIVE_OK)
      {
        const char *name = archive_entry_pathname (e);
        if (strcmp (name, "index.json") == 0)
          seen |= 1;
        else if (strcmp (name, "manifest.json") == 0)
          {
            char buf[4096];
            la_ssize_t got = archive_read_data (r, buf, sizeof (buf) - 1);
            ck_assert_int_gt (got, 0);
            buf[got] = '\0';
            ck_assert_ptr_nonnull (strstr (buf, "\"RepoTags\":[\"busybox:latest\"]"));
            ck_assert_ptr_nonnull (strstr (buf, "blobs/sha256/" "b05093807bb0294152bb9cf86d64da722732dddaf7f8882fa1f120477dbc4db3"));
            seen |= 2;
          }
        else if (strcmp (name, "oci-layout") == 0)
          seen |= 4;
        else if (strstr (name, digest_hex (BB_INDEX)))
          seen |= 8;
      }
    archive_read_free (r);
    ck_assert_int_eq (seen, 15);
  }

  ck_assert_int_eq (load_file ("out.tar", &v, &n, &err), 0);
  ck_assert_uint_eq (n, 1);
  ck_assert_str_eq (v[0].manifest_digest, BB_AMD64);
  ck_assert_str_eq (v[0].index_digest, BB_INDEX);
  ck_assert_str_eq (v[0].names[0], REF);
  ck_assert_ptr_null (v[0].names[1]);
  store_loaded_free (v, n);
  ck_assert (store_blob_exists (b, BB_INDEX));
  ck_assert (store_blob_exists (b, BB_CONFIG));
  ck_assert (store_blob_exists (b, BB_LAYER));
  ck_assert (dir_empty (b, "tmp"));
}
END_TEST

START_TEST (test_save_missing_blob)
{
  mini_error_t err = NULL;
  struct store_save_image img = { BB_AMD64, NULL, NULL, NULL };
  struct stat sb;
  int fd;

  put_shared (a, BB_AMD64);
  put_shared (a, BB_CONFIG);
  fd = tmpfile_fd ("out.tar");
  ck_assert_int_lt (store_archive_save (a, &img, 1, fd, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  ck_assert_ptr_nonnull (strstr (err->msg, BB_LAYER));
  mini_error_release (&err);
  ck_assert_int_eq (fstat (fd, &sb), 0);
  ck_assert_int_eq (sb.st_size, 0); /* nothing written */
  close (fd);
}
END_TEST

START_TEST (test_oci_index_entry)
{
  mini_error_t err = NULL;
  struct store_loaded *v = NULL;
  size_t n = 0;
  struct tarw t;
  int fd = tmpfile_fd ("oci.tar");
  static const char idx[] = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                            "\"application/vnd.oci.image.index.v1+json\",\"digest\":\"" BB_INDEX
                            "\",\"size\":2050,\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}";

  /* skopeo's oci-archive of a multi-platform image: index.json names the
     index; only one platform's blobs are there. */
  tar_open (&t, fd, false);
  tar_file (&t, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
  tar_shared_blob (&t, BB_INDEX);
  tar_shared_blob (&t, BB_AMD64);
  tar_shared_blob (&t, BB_CONFIG);
  tar_shared_blob (&t, BB_LAYER);
  tar_file (&t, "index.json", idx, strlen (idx));
  tar_close (&t);
  close (fd);

  ck_assert_int_eq (load_file ("oci.tar", &v, &n, &err), 0);
  ck_assert_uint_eq (n, 1);
  ck_assert_str_eq (v[0].manifest_digest, BB_AMD64);
  ck_assert_str_eq (v[0].index_digest, BB_INDEX);
  ck_assert_ptr_null (v[0].names[0]); /* a bare tag names no repository */
  store_loaded_free (v, n);
}
END_TEST

START_TEST (test_docker_archive)
{
  mini_error_t err = NULL;
  struct store_loaded *v = NULL;
  size_t n = 0, clen = 0, llen = 0;
  cleanup_free char *cfg = shared (BB_CONFIG, &clen);
  cleanup_free char *layer = shared (BB_LAYER, &llen);
  cleanup_free char *m = NULL;
  size_t mlen = 0;
  struct tarw t;
  int fd = tmpfile_fd ("docker.tar.gz");
  static const char manifest[] = "[{\"Config\":\"c6348fa86ba0.json\",\"RepoTags\":[\"busybox:dk\"],"
                                 "\"Layers\":[\"abc/layer.tar\"]}]";
  json_t *j, *l;

  /* Old `docker save` layout: <id>/layer.tar symlinked to the real file,
     manifest.json last; the whole tar gzip-compressed. */
  tar_open (&t, fd, true);
  tar_file (&t, "real/layer.tar", layer, llen);
  tar_symlink (&t, "abc/layer.tar", "../real/layer.tar");
  tar_file (&t, "abc/VERSION", "1.0", 3);
  tar_file (&t, "c6348fa86ba0.json", cfg, clen);
  tar_file (&t, "manifest.json", manifest, strlen (manifest));
  tar_close (&t);
  close (fd);

  ck_assert_msg (load_file ("docker.tar.gz", &v, &n, &err) == 0, "load: %s", err ? err->msg : "");
  ck_assert_uint_eq (n, 1);
  ck_assert_ptr_null (v[0].index_digest);
  ck_assert_str_eq (v[0].names[0], "busybox:dk");
  ck_assert (store_blob_exists (b, BB_CONFIG));
  ck_assert (store_blob_exists (b, BB_LAYER));
  ck_assert_int_eq (store_blob_read (b, v[0].manifest_digest, &m, &mlen, &err), 0);
  j = json_loadb (m, mlen, 0, NULL);
  ck_assert_str_eq (json_string_value (json_object_get (json_object_get (j, "config"), "digest")), BB_CONFIG);
  l = json_array_get (json_object_get (j, "layers"), 0);
  ck_assert_str_eq (json_string_value (json_object_get (l, "digest")), BB_LAYER);
  ck_assert_str_eq (json_string_value (json_object_get (l, "mediaType")),
                    "application/vnd.oci.image.layer.v1.tar+gzip");
  json_decref (j);
  /* The generated manifest is a valid image. */
  {
    struct store_image *img = NULL;
    ck_assert_int_eq (store_image_load (b, v[0].manifest_digest, &img, &err), 0);
    ck_assert_uint_eq (img->n_layers, 1);
    store_image_free (img);
  }
  store_loaded_free (v, n);
  ck_assert (dir_empty (b, "tmp"));
}
END_TEST

/* ------------------------------------------------------------ hostile and broken */

static void
expect_load_fails (const char *name, int expect_errno, const char *needle)
{
  mini_error_t err = NULL;
  struct store_loaded *v = NULL;
  size_t n = 0;
  ck_assert_int_lt (load_file (name, &v, &n, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), expect_errno);
  if (needle)
    ck_assert_msg (strstr (err->msg, needle) != NULL, "message `%s` lacks `%s`", err->msg, needle);
  mini_error_release (&err);
  ck_assert (dir_empty (b, "tmp"));
}

START_TEST (test_hostile)
{
  struct tarw t;
  int fd;
  static const char idx[] = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                            "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" BB_AMD64
                            "\",\"size\":610}]}";

  /* An escaping path. */
  fd = tmpfile_fd ("evil.tar");
  tar_open (&t, fd, false);
  tar_file (&t, "../../evil", "x", 1);
  tar_close (&t);
  close (fd);
  expect_load_fails ("evil.tar", EINVAL, "../../evil");

  /* A blob whose content does not match its name. */
  fd = tmpfile_fd ("liar.tar");
  tar_open (&t, fd, false);
  {
    cleanup_free char *p = xfmt ("blobs/sha256/%s", digest_hex (BB_AMD64));
    tar_file (&t, p, "not a manifest", 14);
  }
  tar_file (&t, "index.json", idx, strlen (idx));
  tar_close (&t);
  close (fd);
  expect_load_fails ("liar.tar", EINVAL, "hashes to");
  ck_assert (!store_blob_exists (b, BB_AMD64));

  /* A layer missing. */
  fd = tmpfile_fd ("short.tar");
  tar_open (&t, fd, false);
  tar_shared_blob (&t, BB_AMD64);
  tar_shared_blob (&t, BB_CONFIG);
  tar_file (&t, "index.json", idx, strlen (idx));
  tar_close (&t);
  close (fd);
  {
    mini_error_t err = NULL;
    struct store_loaded *v = NULL;
    size_t n = 0;
    ck_assert_int_lt (load_file ("short.tar", &v, &n, &err), 0);
    ck_assert_int_eq (mini_error_errno (err), ENOENT);
    ck_assert_ptr_nonnull (strstr (err->msg, BB_LAYER));
    mini_error_release (&err);
    ck_assert (dir_empty (b, "tmp"));
  }

  /* Neither format; not a tar at all; empty input. */
  fd = tmpfile_fd ("other.tar");
  tar_open (&t, fd, false);
  tar_file (&t, "hello.txt", "hi", 2);
  tar_close (&t);
  close (fd);
  expect_load_fails ("other.tar", EINVAL, "neither");
  fd = tmpfile_fd ("junk.tar");
  ck_assert_int_eq (write_all (fd, "this is not a tar archive, not at all, definitely", 49), 0);
  close (fd);
  {
    mini_error_t err = NULL;
    struct store_loaded *v = NULL;
    size_t n = 0;
    ck_assert_int_lt (load_file ("junk.tar", &v, &n, &err), 0);
    mini_error_release (&err);
    ck_assert (dir_empty (b, "tmp"));
  }
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("store_archive");
  TCase *ts = tcase_create ("save_load");
  TCase *th = tcase_create ("hostile");

  tcase_add_checked_fixture (ts, setup, teardown);
  tcase_set_timeout (ts, 60);
  tcase_add_test (ts, test_roundtrip);
  tcase_add_test (ts, test_save_missing_blob);
  tcase_add_test (ts, test_oci_index_entry);
  tcase_add_test (ts, test_docker_archive);
  suite_add_tcase (s, ts);

  tcase_add_checked_fixture (th, setup, teardown);
  tcase_set_timeout (th, 60);
  tcase_add_test (th, test_hostile);
  suite_add_tcase (s, th);
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
