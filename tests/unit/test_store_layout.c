/* Unit tests: store/ as an OCI image layout (oci-layout, index.json with
   ref.name annotations), references, legacy refs.json migration, locks. */
#include "store/store.h"

#include <check.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define BUSYBOX MINI_SOURCE_DIR "/../shared/images/busybox/blobs/sha256/"
#define BB_INDEX "sha256:6d9717d7eca1a49a389f5d34d1ac01d863cdd3637e9d0801fdb8a3cb36925f20"
#define BB_AMD64 "sha256:1cfa4e2b09e127b9c4ed43578d3f3c18e7d44ea47b9ea98475c0cbe9086525f8"
#define BB_CONFIG "sha256:c6348fa86ba0fb2108c9334f5fe913ddc6d853313e655891f133a0127c30099f"

static char tmpdir[64];
static char *root;
static struct store *st;

static void
setup (void)
{
  mini_error_t err = NULL;
  strcpy (tmpdir, "/tmp/mini-layout-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  root = xfmt ("%s/root", tmpdir);
  ck_assert_int_eq (store_open (root, &st, &err), 0);
}

static void
teardown (void)
{
  mini_error_t err = NULL;
  store_close (st);
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
  free (root);
}

static void
put_shared_blob (const char *digest)
{
  cleanup_free char *path = xfmt (BUSYBOX "%s", digest_hex (digest));
  cleanup_free char *buf = NULL;
  mini_error_t err = NULL;
  size_t len = 0;
  ck_assert_int_eq (read_file_at (AT_FDCWD, path, &buf, &len, 0, &err), 0);
  ck_assert_int_eq (store_blob_put (st, digest, buf, len, &err), 0);
}

static json_t *
load_json (const char *rel)
{
  cleanup_free char *buf = NULL;
  mini_error_t err = NULL;
  size_t len = 0;
  json_t *j;
  ck_assert_int_eq (read_file_at (st->root_fd, rel, &buf, &len, 0, &err), 0);
  j = json_loadb (buf, len, 0, NULL);
  ck_assert_ptr_nonnull (j);
  return j;
}

START_TEST (test_layout_files)
{
  json_t *j = load_json ("oci-layout");
  ck_assert_str_eq (json_string_value (json_object_get (j, "imageLayoutVersion")), "1.0.0");
  json_decref (j);
  j = load_json ("index.json");
  ck_assert_int_eq (json_integer_value (json_object_get (j, "schemaVersion")), 2);
  ck_assert_str_eq (json_string_value (json_object_get (j, "mediaType")),
                    "application/vnd.oci.image.index.v1+json");
  ck_assert (json_is_array (json_object_get (j, "manifests")));
  json_decref (j);
  {
    struct stat sb;
    ck_assert_int_eq (fstatat (st->root_fd, "blobs/sha256", &sb, 0), 0);
    ck_assert_int_eq (fstatat (st->root_fd, "locks", &sb, 0), 0);
  }
}
END_TEST

START_TEST (test_index_entries)
{
  mini_error_t err = NULL;
  struct store_ref r = { 0 };
  json_t *j, *ms, *e, *ann;

  put_shared_blob (BB_AMD64);
  put_shared_blob (BB_CONFIG);
  ck_assert_int_eq (store_ref_set (st, "127.0.0.1:5000/library/busybox:latest", BB_AMD64, BB_INDEX, &err), 0);
  j = load_json ("index.json");
  ms = json_object_get (j, "manifests");
  ck_assert_uint_eq (json_array_size (ms), 1);
  e = json_array_get (ms, 0);
  ck_assert_str_eq (json_string_value (json_object_get (e, "digest")), BB_AMD64);
  ck_assert_str_eq (json_string_value (json_object_get (e, "mediaType")),
                    "application/vnd.oci.image.manifest.v1+json");
  ck_assert_int_eq (json_integer_value (json_object_get (e, "size")), 610);
  ck_assert_str_eq (json_string_value (json_object_get (json_object_get (e, "platform"), "os")), "linux");
  ck_assert_str_eq (json_string_value (json_object_get (json_object_get (e, "platform"), "architecture")),
                    "amd64");
  ann = json_object_get (e, "annotations");
  ck_assert_str_eq (json_string_value (json_object_get (ann, STORE_ANNOTATION_REF_NAME)),
                    "127.0.0.1:5000/library/busybox:latest");
  ck_assert_str_eq (json_string_value (json_object_get (ann, STORE_ANNOTATION_INDEX)), BB_INDEX);
  json_decref (j);

  ck_assert_int_eq (store_ref_lookup (st, "127.0.0.1:5000/library/busybox:latest", &r, &err), 0);
  ck_assert_str_eq (r.manifest_digest, BB_AMD64);
  ck_assert_str_eq (r.index_digest, BB_INDEX);
  free (r.ref);
  free (r.manifest_digest);
  free (r.index_digest);

  /* Setting it again replaces, never duplicates. */
  ck_assert_int_eq (store_ref_set (st, "127.0.0.1:5000/library/busybox:latest", BB_AMD64, NULL, &err), 0);
  j = load_json ("index.json");
  ck_assert_uint_eq (json_array_size (json_object_get (j, "manifests")), 1);
  json_decref (j);
}
END_TEST

START_TEST (test_untagged_and_remove)
{
  mini_error_t err = NULL;
  struct store_ref *refs = NULL;
  size_t n = 0;

  put_shared_blob (BB_AMD64);
  /* Untagged (config missing: no platform, still fine). */
  ck_assert_int_eq (store_ref_set (st, NULL, BB_AMD64, NULL, &err), 0);
  ck_assert_int_eq (store_ref_set (st, NULL, BB_AMD64, NULL, &err), 0);
  ck_assert_int_eq (store_ref_list (st, &refs, &n, &err), 0);
  ck_assert_uint_eq (n, 1);
  ck_assert_ptr_null (refs[0].ref);
  store_refs_free (refs, n);

  /* Tagging it drops the untagged entry. */
  ck_assert_int_eq (store_ref_set (st, "docker.io/library/b:1", BB_AMD64, NULL, &err), 0);
  ck_assert_int_eq (store_ref_set (st, "docker.io/library/a:1", BB_AMD64, NULL, &err), 0);
  ck_assert_int_eq (store_ref_list (st, &refs, &n, &err), 0);
  ck_assert_uint_eq (n, 2);
  ck_assert_str_eq (refs[0].ref, "docker.io/library/a:1"); /* sorted */
  ck_assert_str_eq (refs[1].ref, "docker.io/library/b:1");
  store_refs_free (refs, n);

  ck_assert_int_eq (store_ref_remove (st, "docker.io/library/a:1", &err), 0);
  ck_assert_int_lt (store_ref_remove (st, "docker.io/library/a:1", &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  mini_error_release (&err);
  ck_assert_int_eq (store_ref_remove_manifest (st, BB_AMD64, &err), 0);
  ck_assert_int_eq (store_ref_list (st, &refs, &n, &err), 0);
  ck_assert_uint_eq (n, 0);
  store_refs_free (refs, n);

  /* Bad input. */
  ck_assert_int_lt (store_ref_set (st, "x y", BB_AMD64, NULL, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  mini_error_release (&err);
  ck_assert_int_lt (store_ref_set (st, "x", BB_AMD64, "sha256:nope", &err), 0);
  mini_error_release (&err);
}
END_TEST

START_TEST (test_reopen_keeps_index)
{
  mini_error_t err = NULL;
  char *m = NULL;

  put_shared_blob (BB_AMD64);
  ck_assert_int_eq (store_ref_set (st, "docker.io/library/busybox:latest", BB_AMD64, NULL, &err), 0);
  store_close (st);
  st = NULL;
  ck_assert_int_eq (store_open (root, &st, &err), 0);
  ck_assert_int_eq (store_ref_get (st, "docker.io/library/busybox:latest", &m, &err), 0);
  ck_assert_str_eq (m, BB_AMD64);
  free (m);
}
END_TEST

START_TEST (test_legacy_migration)
{
  mini_error_t err = NULL;
  char *m = NULL;
  static const char legacy[] = "{\"docker.io/library/busybox:latest\": {\"manifest\": \"" BB_AMD64
                               "\", \"index\": \"" BB_INDEX "\"},"
                               " \"docker.io/library/gone:1\": {\"manifest\": \"sha256:"
                               "0000000000000000000000000000000000000000000000000000000000000000\"}}";
  struct stat sb;

  put_shared_blob (BB_AMD64);
  ck_assert_int_eq (write_file_atomic_at (st->root_fd, "refs.json", legacy, strlen (legacy), 0600, &err), 0);
  store_close (st);
  st = NULL;
  ck_assert_int_eq (store_open (root, &st, &err), 0);
  ck_assert_int_eq (store_ref_get (st, "docker.io/library/busybox:latest", &m, &err), 0);
  ck_assert_str_eq (m, BB_AMD64);
  free (m);
  /* an image whose manifest is gone is dropped */
  ck_assert_int_lt (store_ref_get (st, "docker.io/library/gone:1", &m, &err), 0);
  mini_error_release (&err);
  ck_assert_int_lt (fstatat (st->root_fd, "refs.json", &sb, 0), 0);
}
END_TEST

START_TEST (test_corrupt_index)
{
  mini_error_t err = NULL;
  struct store_ref *refs = NULL;
  size_t n = 0;
  ck_assert_int_eq (write_file_atomic_at (st->root_fd, "index.json", "{nope", 5, 0644, &err), 0);
  ck_assert_int_lt (store_ref_list (st, &refs, &n, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  ck_assert_ptr_nonnull (strstr (err->msg, "index.json"));
  mini_error_release (&err);
}
END_TEST

START_TEST (test_locks)
{
  mini_error_t err = NULL;
  int a = -1, b = -1, c = -1;

  /* Shared holders coexist; exclusive waits for them. */
  ck_assert_int_eq (store_lock_gc (st, LOCK_SH, &a, &err), 0);
  ck_assert_int_eq (store_lock_gc (st, LOCK_SH | LOCK_NB, &b, &err), 0);
  ck_assert_int_lt (store_lock_gc (st, LOCK_EX | LOCK_NB, &c, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EWOULDBLOCK);
  mini_error_release (&err);
  close (a);
  close (b);
  ck_assert_int_eq (store_lock_gc (st, LOCK_EX | LOCK_NB, &c, &err), 0);
  close (c);

  ck_assert_int_eq (store_lock_layer (st, BB_AMD64, &a, &err), 0);
  close (a);
  ck_assert_int_lt (store_lock_layer (st, "sha256:../../x", &a, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  mini_error_release (&err);
  ck_assert_int_eq (store_lock_key (st, "pull docker.io/library/busybox", &a, &err), 0);
  close (a);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("store_layout");
  TCase *tc = tcase_create ("layout");
  TCase *tl = tcase_create ("locks");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_layout_files);
  tcase_add_test (tc, test_index_entries);
  tcase_add_test (tc, test_untagged_and_remove);
  tcase_add_test (tc, test_reopen_keeps_index);
  tcase_add_test (tc, test_legacy_migration);
  tcase_add_test (tc, test_corrupt_index);
  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tl, setup, teardown);
  tcase_set_timeout (tl, 30);
  tcase_add_test (tl, test_locks);
  suite_add_tcase (s, tl);
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
