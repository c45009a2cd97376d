/* Unit tests: store/image.c's chain_id cache (chains/<manifest hex>), which
   lets `run` load an image without hashing: written on the first load,
   used while it fits the config, rebuilt when it does not, collected with
   its manifest. */
#include "store/store.h"

#include <check.h>
#include <string.h>
#include <sys/stat.h>

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define BOGUS "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

static char tmpdir[64];
static struct store *st;
static char manifest_digest[72];
static char expect[3][72];

/* A three-layer image (layer blobs absent: loading needs only the manifest
   and the config). */
static void
setup (void)
{
  mini_error_t err = NULL;
  cleanup_free char *root = NULL;
  cleanup_free char *manifest = NULL;
  char config_digest[72];
  const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
                       "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\",\"" D3 "\"]}}";

  strcpy (tmpdir, "/tmp/mini-chains-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  root = xfmt ("%s/root", tmpdir);
  ck_assert_int_eq (store_open (root, &st, &err), 0);
  sha256_digest (config, strlen (config), config_digest);
  ck_assert_int_eq (store_blob_put (st, config_digest, config, strlen (config), &err), 0);
  manifest = xfmt ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                   "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                   "\"digest\":\"%s\",\"size\":%zu},\"layers\":["
                   "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":1},"
                   "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":1},"
                   "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":1}]}",
                   config_digest, strlen (config), D1, D2, D3);
  sha256_digest (manifest, strlen (manifest), manifest_digest);
  ck_assert_int_eq (store_blob_put (st, manifest_digest, manifest, strlen (manifest), &err), 0);
  store_chain_id (NULL, D1, expect[0]);
  store_chain_id (expect[0], D2, expect[1]);
  store_chain_id (expect[1], D3, expect[2]);
}

static void
teardown (void)
{
  mini_error_t err = NULL;
  store_close (st);
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
}

static char *
cache_rel (void)
{
  return xfmt ("chains/%s", digest_hex (manifest_digest));
}

static void
write_cache (const char *content)
{
  cleanup_free char *rel = cache_rel ();
  mini_error_t err = NULL;
  ck_assert_int_eq (write_file_atomic_at (st->root_fd, rel, content, strlen (content), 0644, &err), 0);
}

static void
check_chains (const char *a, const char *b, const char *c)
{
  struct store_image *img = NULL;
  mini_error_t err = NULL;

  ck_assert_int_eq (store_image_load (st, manifest_digest, &img, &err), 0);
  ck_assert_uint_eq (img->n_layers, 3);
  ck_assert_str_eq (img->layers[0].chain_id, a);
  ck_assert_str_eq (img->layers[1].chain_id, b);
  ck_assert_str_eq (img->layers[2].chain_id, c);
  store_image_free (img);
}

START_TEST (test_first_load_writes_cache)
{
  cleanup_free char *rel = cache_rel ();
  cleanup_free char *buf = NULL;
  cleanup_free char *want = xfmt ("%s\n%s\n%s\n", expect[0], expect[1], expect[2]);
  mini_error_t err = NULL;

  ck_assert_str_eq (expect[0], D1); /* image-spec: ChainID(L0) = DiffID(L0) */
  ck_assert_str_ne (expect[1], D2);
  check_chains (expect[0], expect[1], expect[2]);
  ck_assert_int_eq (read_file_at (st->root_fd, rel, &buf, NULL, 0, &err), 0);
  ck_assert_str_eq (buf, want);
}
END_TEST

START_TEST (test_fitting_cache_is_used)
{
  /* Valid digests, the first one the first diff_id: taken as they are
     (what proves no hashing happened). */
  write_cache (D1 "\n" BOGUS "\n" BOGUS "\n");
  check_chains (D1, BOGUS, BOGUS);
}
END_TEST

START_TEST (test_unfitting_cache_is_rebuilt)
{
  static const char *const bad[] = {
    D1 "\n" BOGUS "\n",                       /* too few */
    D1 "\n" BOGUS "\n" BOGUS "\n" BOGUS "\n", /* too many */
    BOGUS "\n" BOGUS "\n" BOGUS "\n",         /* first is not the diff_id */
    D1 "\nnot-a-digest\n" BOGUS "\n",         /* invalid */
    "",
  };
  size_t i;

  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      write_cache (bad[i]);
      check_chains (expect[0], expect[1], expect[2]);
      /* ... and the rebuilt cache is the right one */
      check_chains (expect[0], expect[1], expect[2]);
    }
}
END_TEST

START_TEST (test_gc_drops_cache_of_removed_manifest)
{
  cleanup_free char *rel = cache_rel ();
  mini_error_t err = NULL;
  struct stat sb;

  check_chains (expect[0], expect[1], expect[2]);
  ck_assert_uint_eq (store_chains_gc (st), 0);
  ck_assert_int_eq (fstatat (st->root_fd, rel, &sb, 0), 0);
  ck_assert_int_eq (store_blob_remove (st, manifest_digest, &err), 0);
  ck_assert_uint_eq (store_chains_gc (st), 1);
  ck_assert_int_eq (fstatat (st->root_fd, rel, &sb, 0), -1);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("store_chains");
  TCase *tc = tcase_create ("chains");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_first_load_writes_cache);
  tcase_add_test (tc, test_fitting_cache_is_used);
  tcase_add_test (tc, test_unfitting_cache_is_rebuilt);
  tcase_add_test (tc, test_gc_drops_cache_of_removed_manifest);
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
  return failed ? 1 : 0;
}
