/* Unit tests: unpack/ converts OCI whiteouts (image-spec layer.md) to the
   overlayfs form.  Whiteout devices (0:0) can be made without privileges
   since Linux 5.8; trusted.overlay.opaque needs CAP_SYS_ADMIN: without root
   the tests assert the EPERM error instead (CI runs them as root). */
#include "unpack/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

static char tmpdir[64];
static int layerfd = -1;

/* ------------------------------------------------------------ fixture */

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
  cleanup_free char *layer = NULL;
  cleanup_free char *canary = NULL;

  strcpy (tmpdir, "/tmp/mini-unpack-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  layer = xfmt ("%s/layer", tmpdir);
  canary = xfmt ("%s/canary", tmpdir);
  ck_assert_int_eq (mkdir (layer, 0755), 0);
  ck_assert_int_eq (mkdir (canary, 0755), 0);
  layerfd = open (layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge (layerfd, 0);
}

static void
teardown (void)
{
  mini_error_t err = NULL;

  close (layerfd);
  nftw (tmpdir, make_removable_cb, 16, FTW_PHYS);
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
}

/* ------------------------------------------------------------ tar builder */

static struct archive *
tar_new (void)
{
  cleanup_free char *path = xfmt ("%s/t.tar.gz", tmpdir);
  struct archive *a = archive_write_new ();

  ck_assert_ptr_nonnull (a);
  ck_assert_int_eq (archive_write_set_format_pax_restricted (a), ARCHIVE_OK);
  ck_assert_int_eq (archive_write_add_filter_gzip (a), ARCHIVE_OK);
  ck_assert_int_eq (archive_write_open_filename (a, path), ARCHIVE_OK);
  return a;
}

static struct archive_entry *
tar_entry (const char *name, mode_t type, mode_t perm)
{
  struct archive_entry *e = archive_entry_new ();

  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, perm);
  archive_entry_set_uid (e, getuid ());
  archive_entry_set_gid (e, getgid ());
  archive_entry_set_mtime (e, 1000000000, 0);
  return e;
}

static void
tar_put (struct archive *a, struct archive_entry *e, const char *data)
{
  size_t len = data ? strlen (data) : 0;

  if (archive_entry_filetype (e) == AE_IFREG && archive_entry_hardlink (e) == NULL)
    archive_entry_set_size (e, len);
  ck_assert_msg (archive_write_header (a, e) == ARCHIVE_OK, "write header: %s",
                 archive_error_string (a));
  if (len > 0)
    ck_assert_int_eq (archive_write_data (a, data, len), (la_ssize_t) len);
  archive_entry_free (e);
}

static void
tar_file (struct archive *a, const char *name, const char *data)
{
  tar_put (a, tar_entry (name, AE_IFREG, 0644), data);
}

static void
tar_dir (struct archive *a, const char *name)
{
  tar_put (a, tar_entry (name, AE_IFDIR, 0755), NULL);
}

static void
tar_close (struct archive *a)
{
  ck_assert_int_eq (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
}

static int
apply (mini_error_t *err)
{
  cleanup_free char *path = xfmt ("%s/t.tar.gz", tmpdir);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);

  ck_assert_int_ge (fd, 0);
  return unpack_layer_apply (fd, layerfd, NULL, "sha256:wh", NULL, err);
}

/* ------------------------------------------------------------ assertions */

static bool
is_whiteout (const char *path)
{
  struct stat st;

  if (fstatat (layerfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return false;
  return S_ISCHR (st.st_mode) && major (st.st_rdev) == 0 && minor (st.st_rdev) == 0;
}

static bool
exists (const char *path)
{
  struct stat st;
  return fstatat (layerfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool
is_opaque (const char *dir)
{
  cleanup_close int fd = openat (layerfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char v[8];
  ssize_t n;

  ck_assert_int_ge (fd, 0);
  n = fgetxattr (fd, "trusted.overlay.opaque", v, sizeof (v));
  return n == 1 && v[0] == 'y';
}

/* Whether this process may create whiteout devices (unprivileged since
   Linux 5.8) and set trusted.* xattrs (CAP_SYS_ADMIN).  */
static bool
can_mknod_whiteout (void)
{
  bool ok = mknodat (layerfd, "probe", S_IFCHR | 0, makedev (0, 0)) == 0;
  unlinkat (layerfd, "probe", 0);
  return ok;
}

static bool
can_set_trusted (void)
{
  int r = fsetxattr (layerfd, "trusted.mini-probe", "y", 1, 0);
  fremovexattr (layerfd, "trusted.mini-probe");
  return r == 0;
}

static void
assert_eperm (int ret, mini_error_t *err, const char *needle)
{
  ck_assert_int_lt (ret, 0);
  ck_assert_ptr_nonnull (*err);
  ck_assert_int_eq (mini_error_errno (*err), EPERM);
  ck_assert_msg (strstr ((*err)->msg, needle) != NULL, "`%s` not in `%s`", needle, (*err)->msg);
  mini_error_release (err);
}

/* ------------------------------------------------------------ whiteouts */

START_TEST (test_whiteout_file)
{
  mini_error_t err = NULL;
  bool can = can_mknod_whiteout ();
  struct archive *a = tar_new ();
  int ret;

  tar_file (a, ".wh.foo", NULL);
  tar_dir (a, "dir");
  tar_file (a, "dir/.wh.bar", NULL);
  tar_file (a, "implicit/sub/.wh.baz", NULL); /* parents not in the layer */
  tar_close (a);
  ret = apply (&err);
  if (!can)
    {
      assert_eperm (ret, &err, "create whiteout `foo`");
      return;
    }
  ck_assert_msg (ret == 0, "%s", err ? err->msg : "");
  ck_assert (is_whiteout ("foo"));
  ck_assert (is_whiteout ("dir/bar"));
  ck_assert (is_whiteout ("implicit/sub/baz"));
  ck_assert (!exists (".wh.foo"));
  ck_assert (!exists ("dir/.wh.bar"));
}
END_TEST

/* A whiteout only hides lower layers: content of the same layer stays,
   whichever order the entries come in.  */
START_TEST (test_whiteout_same_layer)
{
  mini_error_t err = NULL;
  bool can = can_mknod_whiteout ();
  struct archive *a = tar_new ();
  struct stat st;
  int ret;

  tar_file (a, "foo", "kept");
  tar_file (a, ".wh.foo", NULL);
  tar_file (a, ".wh.bar", NULL);
  tar_file (a, "bar", "new");
  tar_close (a);
  ret = apply (&err);
  if (!can)
    {
      assert_eperm (ret, &err, "whiteout");
      return;
    }
  ck_assert_msg (ret == 0, "%s", err ? err->msg : "");
  ck_assert_int_eq (fstatat (layerfd, "foo", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert (S_ISREG (st.st_mode));
  ck_assert_int_eq (st.st_size, 4);
  ck_assert_int_eq (fstatat (layerfd, "bar", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert (S_ISREG (st.st_mode));
  ck_assert_int_eq (st.st_size, 3);
}
END_TEST

/* A whiteout and a directory of the same name in one layer: the lower
   directory is deleted and the new one must not merge with it, so it
   becomes an opaque directory, in either order.  */
START_TEST (test_whiteout_and_dir_same_layer)
{
  mini_error_t err = NULL;
  bool can = can_mknod_whiteout () && can_set_trusted ();
  struct archive *a = tar_new ();
  int ret;

  tar_file (a, ".wh.d1", NULL); /* whiteout, then the directory */
  tar_dir (a, "d1");
  tar_file (a, "d1/x", "x");
  tar_dir (a, "d2"); /* directory, then the whiteout */
  tar_file (a, "d2/y", "y");
  tar_file (a, ".wh.d2", NULL);
  tar_file (a, "p/.wh.d3", NULL); /* whiteout, then content without a dir entry */
  tar_file (a, "p/d3/sub/z", "z");
  tar_file (a, ".wh.f", NULL); /* whiteout, then a file: just the file */
  tar_file (a, "f", "f");
  tar_close (a);
  ret = apply (&err);
  if (!can)
    {
      ck_assert_int_lt (ret, 0);
      ck_assert_int_eq (mini_error_errno (err), EPERM);
      mini_error_release (&err);
      return;
    }
  ck_assert_msg (ret == 0, "%s", err ? err->msg : "");
  ck_assert (is_opaque ("d1"));
  ck_assert (exists ("d1/x"));
  ck_assert (is_opaque ("d2"));
  ck_assert (exists ("d2/y"));
  ck_assert (is_opaque ("p/d3"));
  ck_assert (!is_opaque ("p/d3/sub"));
  ck_assert (exists ("p/d3/sub/z"));
  ck_assert (!is_whiteout ("f"));
  ck_assert (exists ("f"));
}
END_TEST

START_TEST (test_whiteout_hardlinks)
{
  static const char *const cases[][2] = {
    { ".wh.x", "target" }, /* a hardlink named like a whiteout */
    { "y", ".wh.target" }, /* a hardlink to a whiteout name */
    { "z", "gone" },       /* a hardlink to a whiteout device */
  };
  size_t i;

  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      mini_error_t err = NULL;
      struct archive *a = tar_new ();
      struct archive_entry *e;

      tar_file (a, "target", "data");
      tar_file (a, ".wh.gone", NULL);
      e = tar_entry (cases[i][0], AE_IFREG, 0644);
      archive_entry_set_hardlink (e, cases[i][1]);
      tar_put (a, e, NULL);
      tar_close (a);
      ck_assert_int_lt (apply (&err), 0);
      ck_assert_ptr_nonnull (err);
      ck_assert_msg (strstr (err->msg, "sha256:wh") != NULL, "%s", err->msg);
      mini_error_release (&err);
    }
}
END_TEST

/* Top-level aufs metadata (.wh..wh.plnk/...) is skipped like Docker does.  */
START_TEST (test_aufs_metadata_skipped)
{
  mini_error_t err = NULL;
  struct archive *a = tar_new ();

  tar_dir (a, ".wh..wh.plnk");
  tar_file (a, ".wh..wh.plnk/123.456", "x");
  tar_file (a, ".wh..wh.aufs", NULL);
  tar_file (a, "keep", "x");
  tar_close (a);
  ck_assert_int_eq (apply (&err), 0);
  ck_assert (!exists (".wh..wh.plnk"));
  ck_assert (!exists (".wh..wh.aufs"));
  ck_assert (!exists ("wh..plnk"));
  ck_assert (exists ("keep"));
}
END_TEST

/* ------------------------------------------------------------ opaque */

START_TEST (test_opaque)
{
  mini_error_t err = NULL;
  bool can = can_set_trusted ();
  struct archive *a = tar_new ();
  int ret;

  /* marker first, then content */
  tar_dir (a, "before");
  tar_file (a, "before/.wh..wh..opq", NULL);
  tar_file (a, "before/a", "a");
  /* content first, then marker */
  tar_dir (a, "after");
  tar_file (a, "after/b", "b");
  tar_file (a, "after/.wh..wh..opq", NULL);
  /* marker only, parent not in the layer */
  tar_file (a, "deep/er/.wh..wh..opq", NULL);
  tar_close (a);
  ret = apply (&err);
  if (!can)
    {
      assert_eperm (ret, &err, "trusted.overlay.opaque");
      return;
    }
  ck_assert_msg (ret == 0, "%s", err ? err->msg : "");
  ck_assert (is_opaque ("before"));
  ck_assert (is_opaque ("after"));
  ck_assert (is_opaque ("deep/er"));
  ck_assert (!is_opaque ("deep"));
  ck_assert (exists ("before/a"));
  ck_assert (exists ("after/b"));
  ck_assert (!exists ("before/.wh..wh..opq"));
  ck_assert (!exists ("after/.wh..wh..opq"));
}
END_TEST

/* The opaque xattr survives the directory's own entry coming later (mode
   and mtime are applied at the end).  */
START_TEST (test_opaque_then_dir_entry)
{
  mini_error_t err = NULL;
  bool can = can_set_trusted ();
  struct archive *a = tar_new ();
  struct stat st;
  int ret;

  tar_file (a, "d/.wh..wh..opq", NULL);
  tar_put (a, tar_entry ("d", AE_IFDIR, 0750), NULL);
  tar_close (a);
  ret = apply (&err);
  if (!can)
    {
      assert_eperm (ret, &err, "trusted.overlay.opaque");
      return;
    }
  ck_assert_msg (ret == 0, "%s", err ? err->msg : "");
  ck_assert (is_opaque ("d"));
  ck_assert_int_eq (fstatat (layerfd, "d", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (st.st_mode & 07777, 0750);
}
END_TEST

/* Overlay xattrs carried by the tar itself are never applied: only whiteout
   entries produce overlay metadata.  */
START_TEST (test_overlay_xattrs_in_tar_ignored)
{
  mini_error_t err = NULL;
  struct archive *a = tar_new ();
  struct archive_entry *e;

  e = tar_entry ("d", AE_IFDIR, 0755);
  archive_entry_xattr_add_entry (e, "trusted.overlay.opaque", "y", 1);
  archive_entry_xattr_add_entry (e, "trusted.overlay.redirect", "/etc", 4);
  tar_put (a, e, NULL);
  e = tar_entry ("f", AE_IFREG, 0644);
  archive_entry_xattr_add_entry (e, "user.overlay.metacopy", "", 0);
  tar_put (a, e, "x");
  tar_close (a);
  ck_assert_int_eq (apply (&err), 0);
  ck_assert (!is_opaque ("d"));
  {
    cleanup_close int fd = openat (layerfd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char v[16];
    ck_assert_int_lt (fgetxattr (fd, "trusted.overlay.redirect", v, sizeof (v)), 0);
  }
  {
    cleanup_close int fd = openat (layerfd, "f", O_RDONLY | O_CLOEXEC);
    char v[16];
    ck_assert_int_lt (fgetxattr (fd, "user.overlay.metacopy", v, sizeof (v)), 0);
  }
}
END_TEST

/* A whiteout resolved through a symlink stays inside the layer.  */
START_TEST (test_whiteout_parent_in_root)
{
  mini_error_t err = NULL;
  cleanup_free char *canary = xfmt ("%s/canary", tmpdir);
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  struct archive *a = tar_new ();
  struct archive_entry *e;
  int n = 0;

  e = tar_entry ("s", AE_IFLNK, 0777);
  archive_entry_set_symlink (e, canary);
  tar_put (a, e, NULL);
  tar_file (a, "s/.wh.x", NULL);
  tar_close (a);
  if (apply (&err) < 0)
    mini_error_release (&err);
  else
    {
      /* the absolute symlink resolved against the layer root */
      cleanup_free char *inside = xfmt ("%s/x", canary + 1);
      ck_assert (is_whiteout (inside));
    }
  d = opendir (canary);
  ck_assert_ptr_nonnull (d);
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      n++;
  ck_assert_int_eq (n, 0);
}
END_TEST

static Suite *
unpack_whiteout_suite (void)
{
  Suite *s = suite_create ("unpack_whiteout");
  TCase *tc;

  tc = tcase_create ("whiteout");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_whiteout_file);
  tcase_add_test (tc, test_whiteout_same_layer);
  tcase_add_test (tc, test_whiteout_and_dir_same_layer);
  tcase_add_test (tc, test_whiteout_hardlinks);
  tcase_add_test (tc, test_aufs_metadata_skipped);
  tcase_add_test (tc, test_whiteout_parent_in_root);
  suite_add_tcase (s, tc);

  tc = tcase_create ("opaque");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_opaque);
  tcase_add_test (tc, test_opaque_then_dir_entry);
  tcase_add_test (tc, test_overlay_xattrs_in_tar_ignored);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (unpack_whiteout_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
