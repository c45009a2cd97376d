/* Unit tests: the two ways mini flattens layers give the same tree.  Layers
   extracted in overlay form (unpack_layer_apply_opts, what the store keeps)
   and then copied by the vfs storage driver (run/storage.c
   vfs_flatten_layers) must equal the same layers applied in flatten mode
   (what `mini unpack` writes).  Whiteouts and opaque directories need root
   (0:0 devices, trusted.* xattrs); without root the layers have none. */
#include "run/run-private.h"
#include "unpack/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>

static char tmpdir[64];

static int
make_removable_cb (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void) ftw;
  if (type == FTW_D || type == FTW_DNR)
    chmod (path, (st->st_mode & 07777) | 0700);
  return 0;
}

static void
setup (void)
{
  strcpy (tmpdir, "/tmp/mini-vfs-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
}

static void
teardown (void)
{
  mini_error_t err = NULL;

  nftw (tmpdir, make_removable_cb, 16, FTW_PHYS);
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
}

static int
open_dir (const char *rel)
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, rel);
  int fd;

  mkdir (path, 0755);
  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge (fd, 0);
  return fd;
}

/* ------------------------------------------------------------ layers */

static struct archive *
tar_new (const char *name)
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, name);
  struct archive *a = archive_write_new ();

  archive_write_set_format_pax_restricted (a);
  ck_assert_int_eq (archive_write_open_filename (a, path), ARCHIVE_OK);
  return a;
}

static void
put (struct archive *a, const char *name, mode_t type, mode_t perm, const char *data,
     const char *link, bool hard)
{
  struct archive_entry *e = archive_entry_new ();
  size_t len = data ? strlen (data) : 0;

  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, perm);
  archive_entry_set_uid (e, getuid ());
  archive_entry_set_gid (e, getgid ());
  archive_entry_set_mtime (e, 1000000000, 0);
  if (link && hard)
    archive_entry_set_hardlink (e, link);
  else if (link)
    archive_entry_set_symlink (e, link);
  archive_entry_set_size (e, hard ? 0 : len);
  ck_assert_int_eq (archive_write_header (a, e), ARCHIVE_OK);
  if (len && !hard)
    ck_assert_int_eq (archive_write_data (a, data, len), (la_ssize_t) len);
  archive_entry_free (e);
}

#define FILE_(a, n, d) put (a, n, AE_IFREG, 0644, d, NULL, false)
#define DIR_(a, n, m) put (a, n, AE_IFDIR, m, NULL, NULL, false)
#define SYMLINK_(a, n, t) put (a, n, AE_IFLNK, 0777, NULL, t, false)
#define HARDLINK_(a, n, t) put (a, n, AE_IFREG, 0644, NULL, t, true)

static void
tar_close (struct archive *a)
{
  ck_assert_int_eq (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
}

/* Three layers exercising everything the vfs copy has to understand
   (WHITEOUTS: also what needs root).  */
static void
make_layers (bool whiteouts)
{
  struct archive *a = tar_new ("1.tar");
  DIR_ (a, "bin", 0755);
  FILE_ (a, "bin/busybox", "#!busybox");
  HARDLINK_ (a, "bin/sh", "bin/busybox");
  HARDLINK_ (a, "bin/ls", "bin/busybox");
  SYMLINK_ (a, "lib64", "lib");
  DIR_ (a, "lib", 0755);
  FILE_ (a, "lib/libc.so", "libc");
  DIR_ (a, "op", 0700);
  FILE_ (a, "op/old", "old");
  DIR_ (a, "op/sub", 0755);
  FILE_ (a, "op/sub/old", "old");
  DIR_ (a, "ro", 0555);
  FILE_ (a, "ro/f", "f");
  FILE_ (a, "gone", "gone");
  FILE_ (a, "replaced", "a file");
  tar_close (a);

  a = tar_new ("2.tar");
  DIR_ (a, "op", 0750);
  FILE_ (a, "op/new", "new");
  if (whiteouts)
    {
      FILE_ (a, "op/.wh..wh..opq", NULL);
      FILE_ (a, ".wh.gone", NULL);
      FILE_ (a, "bin/.wh.ls", NULL);
    }
  DIR_ (a, "replaced", 0755);
  FILE_ (a, "replaced/x", "x");
  HARDLINK_ (a, "lib/libc.so.6", "lib/libc.so"); /* to a lower file */
  tar_close (a);

  a = tar_new ("3.tar");
  FILE_ (a, "bin/busybox", "#!busybox v2"); /* breaks the link of bin/sh */
  if (whiteouts)
    FILE_ (a, "lib/.wh.libc.so", NULL); /* its hardlink libc.so.6 stays */
  if (whiteouts)
    DIR_ (a, "ro/sub", 0555); /* into a 0555 directory of a lower layer: root only */
  tar_close (a);
}

static void
apply (const char *tar, int dirfd, const struct unpack_options *o)
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, tar);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  mini_error_t err = NULL;
  int ret;

  ck_assert_int_ge (fd, 0);
  ret = unpack_layer_apply_opts (fd, dirfd, NULL, tar, o, &err);
  ck_assert_msg (ret == 0, "%s: %s", tar, err ? err->msg : "?");
}

/* ------------------------------------------------------------ comparing */

static void
compare (int a, int b, const char *path)
{
  cleanup_dir DIR *d = fdopendir (openat (a, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct dirent *de;
  size_t na = 0, nb = 0;

  ck_assert_ptr_nonnull (d);
  while ((de = readdir (d)))
    {
      cleanup_free char *p = xfmt ("%s/%s", path, de->d_name);
      struct stat sa, sb;

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      na++;
      ck_assert_int_eq (fstatat (a, de->d_name, &sa, AT_SYMLINK_NOFOLLOW), 0);
      ck_assert_msg (fstatat (b, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0, "%s missing", p);
      ck_assert_msg (sa.st_mode == sb.st_mode, "%s: mode 0%o != 0%o", p, sa.st_mode, sb.st_mode);
      ck_assert_msg (sa.st_uid == sb.st_uid && sa.st_gid == sb.st_gid, "%s: owner", p);
      if (!S_ISDIR (sa.st_mode))
        {
          ck_assert_msg (sa.st_size == sb.st_size, "%s: size", p);
          ck_assert_msg (sa.st_nlink == sb.st_nlink, "%s: nlink %d != %d", p, (int) sa.st_nlink,
                         (int) sb.st_nlink);
        }
      if (S_ISREG (sa.st_mode))
        {
          char ba[64] = { 0 }, bb[64] = { 0 };
          cleanup_close int fa = openat (a, de->d_name, O_RDONLY | O_CLOEXEC);
          cleanup_close int fb = openat (b, de->d_name, O_RDONLY | O_CLOEXEC);
          ck_assert (read (fa, ba, sizeof (ba) - 1) >= 0 && read (fb, bb, sizeof (bb) - 1) >= 0);
          ck_assert_msg (strcmp (ba, bb) == 0, "%s: `%s` != `%s`", p, ba, bb);
        }
      else if (S_ISLNK (sa.st_mode))
        {
          char ta[256] = { 0 }, tb[256] = { 0 };
          ck_assert (readlinkat (a, de->d_name, ta, 255) > 0 && readlinkat (b, de->d_name, tb, 255) > 0);
          ck_assert_str_eq (ta, tb);
        }
      else if (S_ISDIR (sa.st_mode))
        {
          cleanup_close int ca = openat (a, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          cleanup_close int cb = openat (b, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          ck_assert (ca >= 0 && cb >= 0);
          compare (ca, cb, p);
        }
    }
  closedir (steal_pointer (&d));
  d = fdopendir (openat (b, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  while ((de = readdir (d)))
    nb += strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0;
  ck_assert_msg (na == nb, "%s: %zu entries != %zu", path, na, nb);
}

static bool
privileged (void)
{
  return geteuid () == 0;
}

START_TEST (test_vfs_copy_equals_flatten)
{
  bool wh = privileged ();
  cleanup_close int l1 = open_dir ("l1");
  cleanup_close int l2 = open_dir ("l2");
  cleanup_close int l3 = open_dir ("l3");
  cleanup_close int flat = open_dir ("flat");
  cleanup_close int copy = open_dir ("copy");
  cleanup_close int base = open (tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct unpack_options o = { .mode = UNPACK_MODE_OVERLAY };
  struct unpack_options of = { .mode = UNPACK_MODE_FLATTEN };
  char *lowers[] = { "l3", "l2", "l1", NULL };
  mini_error_t err = NULL;
  int lo[2];
  struct stat st;

  make_layers (wh);
  /* the store's way: overlay form, each layer knowing the ones below */
  apply ("1.tar", l1, &o);
  lo[0] = l1;
  o.lower_fds = lo;
  o.n_lower_fds = 1;
  apply ("2.tar", l2, &o);
  lo[0] = l2;
  lo[1] = l1;
  o.n_lower_fds = 2;
  apply ("3.tar", l3, &o);
  ck_assert_msg (vfs_flatten_layers (base, lowers, copy, &err) == 0, "%s", err ? err->msg : "");

  /* `mini unpack`'s way */
  apply ("1.tar", flat, &of);
  apply ("2.tar", flat, &of);
  apply ("3.tar", flat, &of);

  compare (flat, copy, "");
  ck_assert_int_eq (fstatat (copy, "lib/libc.so.6", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (fstatat (copy, "ro", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (st.st_mode & 07777, 0555);
  if (wh)
    {
      ck_assert_int_ne (fstatat (copy, "gone", &st, AT_SYMLINK_NOFOLLOW), 0);
      ck_assert_int_ne (fstatat (copy, "op/old", &st, AT_SYMLINK_NOFOLLOW), 0);
      ck_assert_int_ne (fstatat (copy, "op/sub", &st, AT_SYMLINK_NOFOLLOW), 0);
      ck_assert_int_ne (fstatat (copy, "bin/ls", &st, AT_SYMLINK_NOFOLLOW), 0);
      ck_assert_int_ne (fstatat (copy, "lib/libc.so", &st, AT_SYMLINK_NOFOLLOW), 0);
    }
}
END_TEST

/* A symlink of a layer is copied, never followed: a layer whose symlink
   points at the host writes nothing there.  */
START_TEST (test_vfs_copy_does_not_follow)
{
  cleanup_close int l1 = open_dir ("l1");
  cleanup_close int l2 = open_dir ("l2");
  cleanup_close int copy = open_dir ("copy");
  cleanup_close int outside = open_dir ("outside");
  cleanup_free char *outside_path = xfmt ("%s/outside", tmpdir);
  char *lowers[] = { "l2", "l1", NULL };
  cleanup_close int base = open (tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  mini_error_t err = NULL;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int n = 0;

  /* layer dirs made by hand: l1 has a symlink to the host dir, l2 a
     directory of the same name with a file */
  ck_assert_int_eq (symlinkat (outside_path, l1, "evil"), 0);
  ck_assert_int_eq (mkdirat (l2, "evil", 0755), 0);
  {
    cleanup_close int fd = openat (l2, "evil/pwned", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ck_assert_int_ge (fd, 0);
  }
  ck_assert_msg (vfs_flatten_layers (base, lowers, copy, &err) == 0, "%s", err ? err->msg : "");
  d = fdopendir (fcntl (outside, F_DUPFD_CLOEXEC, 3));
  while ((de = readdir (d)))
    n += de->d_name[0] != '.';
  ck_assert_int_eq (n, 0);
}
END_TEST

static Suite *
unpack_vfs_suite (void)
{
  Suite *s = suite_create ("unpack_vfs");
  TCase *tc = tcase_create ("vfs");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_vfs_copy_equals_flatten);
  tcase_add_test (tc, test_vfs_copy_does_not_follow);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (unpack_vfs_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
