/* Unit tests: store/ layer store (layer.json, temporaries owned by a lock),
   leftovers of interrupted commands, garbage collection, consistency check. */
#include "store/store.h"

#include <check.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>

#define BUSYBOX MINI_SOURCE_DIR "/../shared/images/busybox/blobs/sha256/"
#define BB_INDEX "sha256:6d9717d7eca1a49a389f5d34d1ac01d863cdd3637e9d0801fdb8a3cb36925f20"
#define BB_AMD64 "sha256:1cfa4e2b09e127b9c4ed43578d3f3c18e7d44ea47b9ea98475c0cbe9086525f8"
#define BB_CONFIG "sha256:c6348fa86ba0fb2108c9334f5fe913ddc6d853313e655891f133a0127c30099f"
#define BB_LAYER "sha256:b05093807bb0294152bb9cf86d64da722732dddaf7f8882fa1f120477dbc4db3"
#define BB_CHAIN "sha256:0958e0fef2d6a31e1325b8bfecd99dead933363682d69850a7606599023751bc"
#define REF "docker.io/library/busybox:latest"

static char tmpdir[64];
static struct store *st;

static void
setup (void)
{
  mini_error_t err = NULL;
  strcpy (tmpdir, "/tmp/mini-gc-XXXXXX");
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

static bool
exists (const char *rel)
{
  struct stat sb;
  return fstatat (st->root_fd, rel, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
count_prefix (const char *rel, const char *prefix)
{
  int fd = openat (st->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fdopendir (fd);
  struct dirent *de;
  int n = 0;
  ck_assert_ptr_nonnull (d);
  while ((de = readdir (d)))
    if (strncmp (de->d_name, prefix, strlen (prefix)) == 0)
      n++;
  closedir (d);
  return n;
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

/* A published layer CHAIN holding a file, a hardlink to it and a dir. */
static void
make_layer (const char *chain)
{
  mini_error_t err = NULL;
  cleanup_free char *tmp = NULL;
  int fd = -1, f;

  ck_assert_int_eq (store_layer_begin (st, &fd, &tmp, &err), 0);
  f = openat (fd, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ck_assert_int_ge (f, 0);
  ck_assert_int_eq (write_all (f, "0123456789", 10), 0);
  close (f);
  ck_assert_int_eq (linkat (fd, "file", fd, "hardlink", 0), 0);
  ck_assert_int_eq (mkdirat (fd, "dir", 0755), 0);
  close (fd);
  ck_assert_int_eq (store_layer_commit (st, tmp, chain, &err), 0);
}

/* busybox's blobs, its reference and its (fake) extracted layer. */
static void
add_busybox (void)
{
  mini_error_t err = NULL;
  put_shared_blob (BB_INDEX);
  put_shared_blob (BB_AMD64);
  put_shared_blob (BB_CONFIG);
  put_shared_blob (BB_LAYER);
  make_layer (BB_CHAIN);
  ck_assert_int_eq (store_ref_set (st, REF, BB_AMD64, BB_INDEX, &err), 0);
}

static bool
has_line (char **v, const char *needle)
{
  size_t i;
  for (i = 0; v && v[i]; i++)
    if (strstr (v[i], needle))
      return true;
  return false;
}

/* ------------------------------------------------------------ layers */

START_TEST (test_layer_info)
{
  mini_error_t err = NULL;
  struct store_layer_info info;

  make_layer (BB_CHAIN);
  ck_assert (store_layer_exists (st, BB_CHAIN));
  ck_assert_int_eq (store_layer_info_get (st, BB_CHAIN, &info, &err), 0);
  ck_assert_int_eq (info.files, 3);
  ck_assert_int_eq (info.bytes, 10); /* the hardlink counts once */
  /* No temporary and no temporary lock left. */
  ck_assert_int_eq (count_prefix ("locks", "tmp-"), 0);
  ck_assert_int_eq (count_prefix ("locks", "new-"), 0);
  ck_assert_int_eq (count_prefix ("layers", "tmp-"), 0);
  int64_t bytes = 0;
  ck_assert_int_eq (store_layer_remove (st, BB_CHAIN, &bytes, &err), 0);
  ck_assert_int_gt (bytes, 10); /* the file once, and layer.json */
  ck_assert (!store_layer_exists (st, BB_CHAIN));
  ck_assert_int_eq (store_layer_remove (st, BB_CHAIN, NULL, &err), 0); /* absent: fine */
}
END_TEST

START_TEST (test_tmpdirs)
{
  mini_error_t err = NULL;
  cleanup_free char *live = NULL;
  cleanup_strv char **removed = NULL;
  int64_t bytes = 0;
  int lock;

  /* A dead extraction without its lock file, one whose lock file is no
     longer locked, and a live one (ours). */
  ck_assert_int_eq (mkdirat (st->root_fd, "layers/tmp-0000000000000001", 0700), 0);
  ck_assert_int_eq (mkdirat (st->root_fd, "layers/tmp-0000000000000001/diff", 0700), 0);
  ck_assert_int_eq (mkdirat (st->root_fd, "layers/tmp-0000000000000002", 0700), 0);
  lock = openat (st->root_fd, "locks/tmp-0000000000000002", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ck_assert_int_ge (lock, 0);
  close (lock);
  ck_assert_int_eq (mkdirat (st->root_fd, "tmp/load-0000000000000003", 0700), 0);
  ck_assert_int_eq (store_tmpdir_begin (st, "tmp", "load", &live, &err), 0);

  ck_assert_int_eq (store_cleanup_tmpdirs (st, &removed, &bytes, &err), 0);
  ck_assert (!exists ("layers/tmp-0000000000000001"));
  ck_assert (!exists ("layers/tmp-0000000000000002"));
  ck_assert (!exists ("locks/tmp-0000000000000002"));
  ck_assert (!exists ("tmp/load-0000000000000003"));
  ck_assert (exists (live));
  ck_assert_uint_eq (strv_len (removed), 3);

  /* Another process (another open file description) sees it live too. */
  store_tmpdir_end (st, live, true);
  ck_assert (!exists (live));
}
END_TEST

START_TEST (test_layer_begin_sweeps)
{
  mini_error_t err = NULL;
  cleanup_free char *tmp = NULL;
  int fd = -1;

  ck_assert_int_eq (mkdirat (st->root_fd, "layers/tmp-00000000000000aa", 0700), 0);
  ck_assert_int_eq (store_layer_begin (st, &fd, &tmp, &err), 0);
  close (fd);
  ck_assert (!exists ("layers/tmp-00000000000000aa"));
  store_layer_abort (st, tmp);
  {
    cleanup_free char *rel = xfmt ("layers/%s", tmp);
    ck_assert (!exists (rel));
  }
}
END_TEST

/* ------------------------------------------------------------ leftovers, gc */

START_TEST (test_leftovers)
{
  mini_error_t err = NULL;
  struct store_report r = { 0 };
  struct timespec old[2] = { { time (NULL) - 3 * 86400, 0 }, { time (NULL) - 3 * 86400, 0 } };
  cleanup_free char *fresh = xfmt ("ingest/%064d.partial", 1);
  cleanup_free char *stale = xfmt ("ingest/%064d.partial", 2);
  cleanup_free char *done = xfmt ("ingest/%s.partial", digest_hex (BB_CONFIG));
  cleanup_free char *blobtmp = xfmt ("blobs/sha256/%s.tmp-0123456789abcdef", digest_hex (BB_CONFIG));
  cleanup_free char *cdir = xfmt ("containers/%064d", 7);
  cleanup_free char *cid = xfmt ("%064d", 7);

  put_shared_blob (BB_CONFIG);
  ck_assert_int_eq (write_file_atomic_at (st->root_fd, fresh, "ab", 2, 0600, &err), 0);
  ck_assert_int_eq (write_file_atomic_at (st->root_fd, stale, "ab", 2, 0600, &err), 0);
  ck_assert_int_eq (utimensat (st->root_fd, stale, old, 0), 0);
  ck_assert_int_eq (write_file_atomic_at (st->root_fd, done, "ab", 2, 0600, &err), 0);
  ck_assert_int_eq (write_file_atomic_at (st->root_fd, blobtmp, "x", 1, 0600, &err), 0);
  ck_assert_int_eq (write_file_atomic_at (st->root_fd, "index.json.tmp-0123456789abcdef", "x", 1, 0600, &err), 0);
  ck_assert_int_eq (mkdirat (st->root_fd, cdir, 0700), 0);
  ck_assert_int_eq (symlinkat (cid, st->root_fd, "names/ghost"), 0);

  /* Without PARTIALS, partial downloads are left alone. */
  ck_assert_int_eq (store_cleanup_leftovers (st, false, &r, &err), 0);
  ck_assert (exists (stale));
  ck_assert (exists (done));
  ck_assert (!exists (blobtmp));
  store_report_clear (&r);
  ck_assert_int_eq (store_cleanup_leftovers (st, true, &r, &err), 0);
  ck_assert (exists (fresh)); /* kept for resuming */
  ck_assert (!exists (stale));
  ck_assert (!exists (done));
  ck_assert (!exists (blobtmp));
  ck_assert (!exists ("index.json.tmp-0123456789abcdef"));
  ck_assert (exists ("index.json"));
  ck_assert (!exists (cdir));
  ck_assert (!exists ("names/ghost"));
  ck_assert (store_blob_exists (st, BB_CONFIG));
  ck_assert_uint_eq (r.n_partials, 1);
  ck_assert (has_line (r.removed, "finished partial download"));
  ck_assert_ptr_null (r.problems);
  store_report_clear (&r);
}
END_TEST

START_TEST (test_gc)
{
  mini_error_t err = NULL;
  struct store_report r = { 0 };
  char junk[72];
  static const char other_chain[] = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

  add_busybox ();
  sha256_digest ("junk", 4, junk);
  ck_assert_int_eq (store_blob_put (st, junk, "junk", 4, &err), 0);
  make_layer (other_chain);

  /* Only what nothing references goes. */
  ck_assert_int_eq (store_gc (st, NULL, 0, &r, &err), 0);
  ck_assert (!store_blob_exists (st, junk));
  ck_assert (!store_layer_exists (st, other_chain));
  ck_assert (store_blob_exists (st, BB_INDEX));
  ck_assert (store_blob_exists (st, BB_AMD64));
  ck_assert (store_blob_exists (st, BB_CONFIG));
  ck_assert (store_blob_exists (st, BB_LAYER));
  ck_assert (store_layer_exists (st, BB_CHAIN));
  ck_assert_uint_eq (r.n_blobs, 1);
  ck_assert_uint_eq (r.n_layers, 1);
  ck_assert_int_gt (r.bytes_freed, 4 + 10);
  store_report_clear (&r);

  /* A container keeps its image after the reference is gone. */
  {
    struct store_container c = { 0 };
    char *layers[] = { (char *) BB_CHAIN, NULL };
    c.image = (char *) "busybox";
    c.image_digest = (char *) BB_AMD64;
    c.config_digest = (char *) BB_CONFIG;
    c.layers = layers;
    ck_assert_int_eq (store_container_create (st, &c, &err), 0);
    ck_assert_int_eq (store_ref_remove (st, REF, &err), 0);
    ck_assert_int_eq (store_gc (st, NULL, 0, &r, &err), 0);
    ck_assert (store_blob_exists (st, BB_AMD64));
    ck_assert (store_blob_exists (st, BB_LAYER));
    ck_assert (store_layer_exists (st, BB_CHAIN));
    ck_assert (!store_blob_exists (st, BB_INDEX)); /* nothing names the index any more */
    store_report_clear (&r);
    ck_assert_int_eq (store_container_remove (st, &c, &err), 0);
    free (c.id);
    free (c.name);
    free (c.hostname);
  }
  ck_assert_int_eq (store_gc (st, NULL, 0, &r, &err), 0);
  ck_assert (!store_blob_exists (st, BB_AMD64));
  ck_assert (!store_layer_exists (st, BB_CHAIN));
  store_report_clear (&r);
}
END_TEST

START_TEST (test_gc_only)
{
  mini_error_t err = NULL;
  struct store_report r = { 0 };
  struct store_ref only = { (char *) REF, (char *) BB_AMD64, (char *) BB_INDEX };
  char junk[72];

  add_busybox ();
  sha256_digest ("junk", 4, junk);
  ck_assert_int_eq (store_blob_put (st, junk, "junk", 4, &err), 0);
  /* Still referenced: nothing goes. */
  ck_assert_int_eq (store_gc (st, &only, 1, &r, &err), 0);
  ck_assert (store_blob_exists (st, BB_AMD64));
  ck_assert_uint_eq (r.n_blobs, 0);
  store_report_clear (&r);
  /* Unreferenced: its blobs and layer go, unrelated garbage stays. */
  ck_assert_int_eq (store_ref_remove (st, REF, &err), 0);
  ck_assert_int_eq (store_gc (st, &only, 1, &r, &err), 0);
  ck_assert (!store_blob_exists (st, BB_AMD64));
  ck_assert (!store_blob_exists (st, BB_INDEX));
  ck_assert (!store_blob_exists (st, BB_LAYER));
  ck_assert (!store_layer_exists (st, BB_CHAIN));
  ck_assert (store_blob_exists (st, junk));
  ck_assert (has_line (r.removed, BB_CONFIG));
  store_report_clear (&r);
}
END_TEST

/* ------------------------------------------------------------ check */

START_TEST (test_check_clean)
{
  mini_error_t err = NULL;
  struct store_report r = { 0 };
  add_busybox ();
  ck_assert_int_eq (store_check (st, true, &r, &err), 0);
  ck_assert_ptr_null (r.problems);
  ck_assert_ptr_null (r.repaired);
  ck_assert_ptr_null (r.extract);
  ck_assert_uint_eq (r.n_blobs, 4);
  ck_assert_uint_eq (r.n_layers, 1);
  ck_assert_uint_eq (r.n_images, 1);
  store_report_clear (&r);
}
END_TEST

START_TEST (test_check_corrupt_blob)
{
  mini_error_t err = NULL;
  struct store_report r = { 0 };
  cleanup_free char *rel = xfmt ("blobs/sha256/%s", digest_hex (BB_LAYER));
  int fd;

  add_busybox ();
  fd = openat (st->root_fd, rel, O_WRONLY | O_CLOEXEC);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (pwrite (fd, "X", 1, 100), 1);
  close (fd);

  /* Dry run: reported, nothing changed. */
  ck_assert_int_eq (store_check (st, false, &r, &err), 0);
  ck_assert (has_line (r.problems, "is corrupt"));
  ck_assert (store_blob_exists (st, BB_LAYER));
  store_report_clear (&r);

  /* Repair: removed; the image then lacks its layer blob (pull again). */
  ck_assert_int_eq (store_check (st, true, &r, &err), 0);
  ck_assert (has_line (r.repaired, BB_LAYER));
  ck_assert (!store_blob_exists (st, BB_LAYER));
  ck_assert (has_line (r.problems, "layer blob"));
  store_report_clear (&r);
}
END_TEST

START_TEST (test_check_damaged_layer)
{
  mini_error_t err = NULL;
  struct store_report r = { 0 };
  cleanup_free char *file = xfmt ("layers/%s/diff/file", digest_hex (BB_CHAIN));
  cleanup_free char *info = xfmt ("layers/%s/layer.json", digest_hex (BB_CHAIN));

  add_busybox ();
  ck_assert_int_eq (unlinkat (st->root_fd, file, 0), 0);
  ck_assert_int_eq (store_check (st, true, &r, &err), 0);
  ck_assert (has_line (r.repaired, "damaged"));
  ck_assert (!store_layer_exists (st, BB_CHAIN));
  /* The caller re-extracts it. */
  ck_assert_uint_eq (strv_len (r.extract), 1);
  ck_assert_str_eq (r.extract[0], BB_AMD64);
  store_report_clear (&r);

  /* A layer without layer.json (older mini): recorded. */
  make_layer (BB_CHAIN);
  ck_assert_int_eq (unlinkat (st->root_fd, info, 0), 0);
  ck_assert_int_eq (store_check (st, true, &r, &err), 0);
  ck_assert (has_line (r.repaired, "recorded"));
  ck_assert (exists (info));
  store_report_clear (&r);
  ck_assert_int_eq (store_check (st, true, &r, &err), 0);
  ck_assert_ptr_null (r.repaired);
  ck_assert_ptr_null (r.problems);
  store_report_clear (&r);
}
END_TEST

START_TEST (test_check_missing_manifest)
{
  mini_error_t err = NULL;
  struct store_report r = { 0 };
  cleanup_free char *rel = xfmt ("blobs/sha256/%s", digest_hex (BB_AMD64));

  add_busybox ();
  ck_assert_int_eq (unlinkat (st->root_fd, rel, 0), 0);
  ck_assert_int_eq (store_check (st, true, &r, &err), 0);
  ck_assert (has_line (r.problems, REF));
  store_report_clear (&r);
}
END_TEST

START_TEST (test_df)
{
  mini_error_t err = NULL;
  struct store_df d;
  add_busybox ();
  ck_assert_int_eq (store_df (st, NULL, NULL, &d, &err), 0);
  ck_assert_uint_eq (d.images, 1);
  ck_assert_uint_eq (d.images_active, 0);
  ck_assert_int_gt (d.images_size, 2000000);
  ck_assert_int_eq (d.images_reclaimable, d.images_size);
  ck_assert_uint_eq (d.containers, 0);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("store_gc");
  TCase *tl = tcase_create ("layers");
  TCase *tg = tcase_create ("gc");
  TCase *tc = tcase_create ("check");

  tcase_add_checked_fixture (tl, setup, teardown);
  tcase_set_timeout (tl, 30);
  tcase_add_test (tl, test_layer_info);
  tcase_add_test (tl, test_tmpdirs);
  tcase_add_test (tl, test_layer_begin_sweeps);
  suite_add_tcase (s, tl);

  tcase_add_checked_fixture (tg, setup, teardown);
  tcase_set_timeout (tg, 30);
  tcase_add_test (tg, test_leftovers);
  tcase_add_test (tg, test_gc);
  tcase_add_test (tg, test_gc_only);
  tcase_add_test (tg, test_df);
  suite_add_tcase (s, tg);

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_check_clean);
  tcase_add_test (tc, test_check_corrupt_blob);
  tcase_add_test (tc, test_check_damaged_layer);
  tcase_add_test (tc, test_check_missing_manifest);
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
