/* Unit tests: unpack/ applying layers on top of each other.  Flatten mode
   (`mini unpack`, vfs): whiteouts and opaque markers delete lower content
   in any order, what a layer makes itself stays; overlay mode with lower
   layers: hardlinks to lower files (copied up), implicit parent
   directories, lower symlinks.  Tars are built with libarchive's write API.
   Runs without root; what needs root (0:0 whiteout devices) asserts the
   EPERM error otherwise. */
#include "unpack/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static char tmpdir[64];
static int rootfd = -1; /* flatten target */

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
  cleanup_free char *root = NULL;
  cleanup_free char *tars = NULL;
  cleanup_free char *canary = NULL;
  int i;

  strcpy (tmpdir, "/tmp/mini-flatten-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  root = xfmt ("%s/root", tmpdir);
  tars = xfmt ("%s/tars", tmpdir);
  canary = xfmt ("%s/canary", tmpdir);
  ck_assert_int_eq (mkdir (root, 0755), 0);
  ck_assert_int_eq (mkdir (tars, 0755), 0);
  ck_assert_int_eq (mkdir (canary, 0755), 0);
  for (i = 1; i <= 3; i++)
    {
      cleanup_free char *l = xfmt ("%s/l%d", tmpdir, i);
      ck_assert_int_eq (mkdir (l, 0755), 0);
    }
  rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge (rootfd, 0);
}

static void
teardown (void)
{
  mini_error_t err = NULL;

  close (rootfd);
  nftw (tmpdir, make_removable_cb, 16, FTW_PHYS);
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
}

/* ------------------------------------------------------------ tar builder */

static struct archive *
tar_new (const char *name)
{
  cleanup_free char *path = xfmt ("%s/tars/%s", tmpdir, name);
  struct archive *a = archive_write_new ();

  ck_assert_ptr_nonnull (a);
  ck_assert_int_eq (archive_write_set_format_pax_restricted (a), ARCHIVE_OK);
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
tar_put (struct archive *a, struct archive_entry *e, const void *data, size_t len)
{
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
  tar_put (a, tar_entry (name, AE_IFREG, 0644), data, data ? strlen (data) : 0);
}

static void
tar_dir_mode (struct archive *a, const char *name, mode_t mode, time_t mtime)
{
  struct archive_entry *e = tar_entry (name, AE_IFDIR, mode);
  archive_entry_set_mtime (e, mtime, 0);
  tar_put (a, e, NULL, 0);
}

static void
tar_dir (struct archive *a, const char *name)
{
  tar_dir_mode (a, name, 0755, 1000000000);
}

static void
tar_symlink (struct archive *a, const char *name, const char *target)
{
  struct archive_entry *e = tar_entry (name, AE_IFLNK, 0777);
  archive_entry_set_symlink (e, target);
  tar_put (a, e, NULL, 0);
}

static void
tar_hardlink (struct archive *a, const char *name, const char *target)
{
  struct archive_entry *e = tar_entry (name, AE_IFREG, 0644);
  archive_entry_set_hardlink (e, target);
  archive_entry_set_size (e, 0);
  tar_put (a, e, NULL, 0);
}

static void
tar_close (struct archive *a)
{
  ck_assert_int_eq (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
}

/* ------------------------------------------------------------ applying */

static int
apply_to (int dirfd, const char *tar, const struct unpack_options *o, mini_error_t *err)
{
  cleanup_free char *path = xfmt ("%s/tars/%s", tmpdir, tar);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);

  ck_assert_int_ge (fd, 0);
  return unpack_layer_apply_opts (fd, dirfd, NULL, "sha256:test", o, err);
}

/* Apply TAR to the flatten root; must succeed.  */
static void
flatten (const char *tar)
{
  struct unpack_options o = { .mode = UNPACK_MODE_FLATTEN };
  mini_error_t err = NULL;
  int ret = apply_to (rootfd, tar, &o, &err);

  ck_assert_msg (ret == 0, "apply %s: %s", tar, err ? err->msg : "?");
}

static int
layer_fd (int n)
{
  cleanup_free char *path = xfmt ("%s/l%d", tmpdir, n);
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  ck_assert_int_ge (fd, 0);
  return fd;
}

static bool
exists (int dirfd, const char *path)
{
  struct stat st;
  return fstatat (dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static char *
content (int dirfd, const char *path)
{
  char *buf = NULL;
  mini_error_t err = NULL;

  if (read_file_at (dirfd, path, &buf, NULL, 0, &err) < 0)
    {
      mini_error_release (&err);
      return xstrdup ("(missing)");
    }
  return buf;
}

static void
assert_content (int dirfd, const char *path, const char *want)
{
  cleanup_free char *got = content (dirfd, path);
  ck_assert_msg (strcmp (got, want) == 0, "%s: want `%s`, got `%s`", path, want, got);
}

static void
assert_error (int ret, mini_error_t *err, const char *needle)
{
  ck_assert_int_lt (ret, 0);
  ck_assert_ptr_nonnull (*err);
  ck_assert_msg (strstr ((*err)->msg, needle) != NULL, "`%s` not in `%s`", needle, (*err)->msg);
  ck_assert_msg (strstr ((*err)->msg, "sha256:test") != NULL, "layer not named: `%s`",
                 (*err)->msg);
  mini_error_release (err);
}

static bool
can_mknod_whiteout (void)
{
  cleanup_free char *p = xfmt ("%s/probe", tmpdir);
  bool ok = mknod (p, S_IFCHR | 0600, makedev (0, 0)) == 0;
  unlink (p);
  return ok;
}

/* ------------------------------------------------------------ flatten: whiteouts */

START_TEST (test_whiteout_removes_lower)
{
  struct archive *a = tar_new ("1.tar");
  tar_dir (a, "a");
  tar_file (a, "a/f", "f");
  tar_file (a, "a/keep", "keep");
  tar_file (a, "b", "b");
  tar_dir (a, "c");
  tar_dir (a, "c/d");
  tar_file (a, "c/d/x", "x");
  tar_symlink (a, "s", "/etc/passwd");
  tar_close (a);
  a = tar_new ("2.tar");
  tar_file (a, ".wh.b", NULL);
  tar_file (a, "a/.wh.f", NULL);
  tar_file (a, ".wh.c", NULL);
  tar_file (a, ".wh.s", NULL);
  tar_file (a, ".wh.missing", NULL);
  tar_close (a);

  flatten ("1.tar");
  flatten ("2.tar");
  ck_assert (!exists (rootfd, "b"));
  ck_assert (!exists (rootfd, "a/f"));
  ck_assert (!exists (rootfd, "c"));
  ck_assert (!exists (rootfd, "s"));
  ck_assert (!exists (rootfd, "missing"));
  assert_content (rootfd, "a/keep", "keep");
  /* nothing of the overlay form */
  ck_assert (!exists (rootfd, ".wh.b"));
  ck_assert (!exists (rootfd, "a/.wh.f"));
}
END_TEST

/* A whiteout and the same name in one layer: the layer's entry stays, in
   either order; its directory only loses the lower content.  */
START_TEST (test_whiteout_same_layer_any_order)
{
  struct archive *a = tar_new ("1.tar");
  tar_dir (a, "x");
  tar_file (a, "x/old", "old");
  tar_dir (a, "y");
  tar_file (a, "y/old", "old");
  tar_file (a, "f", "lower");
  tar_file (a, "g", "lower");
  tar_close (a);
  a = tar_new ("2.tar");
  tar_dir (a, "x");
  tar_file (a, "x/new", "new");
  tar_file (a, ".wh.x", NULL); /* after */
  tar_file (a, ".wh.y", NULL); /* before */
  tar_dir (a, "y");
  tar_file (a, "y/new", "new");
  tar_file (a, "f", "upper");
  tar_file (a, ".wh.f", NULL);
  tar_file (a, ".wh.g", NULL);
  tar_file (a, "g", "upper");
  tar_close (a);

  flatten ("1.tar");
  flatten ("2.tar");
  ck_assert (!exists (rootfd, "x/old"));
  assert_content (rootfd, "x/new", "new");
  ck_assert (!exists (rootfd, "y/old"));
  assert_content (rootfd, "y/new", "new");
  assert_content (rootfd, "f", "upper");
  assert_content (rootfd, "g", "upper");
}
END_TEST

/* .wh..wh..opq before or after the directory's content, with subdirectories. */
START_TEST (test_opaque_any_order)
{
  struct archive *a = tar_new ("1.tar");
  tar_dir (a, "d");
  tar_file (a, "d/old", "old");
  tar_dir (a, "d/sub");
  tar_file (a, "d/sub/old2", "old");
  tar_dir (a, "e");
  tar_file (a, "e/old", "old");
  tar_dir (a, "e/sub");
  tar_file (a, "e/sub/old2", "old");
  tar_close (a);
  a = tar_new ("2.tar");
  tar_dir (a, "d");
  tar_file (a, "d/new", "new");
  tar_dir (a, "d/sub");
  tar_file (a, "d/sub/new2", "new");
  tar_file (a, "d/.wh..wh..opq", NULL); /* after the content */
  tar_file (a, "e/.wh..wh..opq", NULL); /* before */
  tar_dir (a, "e");
  tar_dir (a, "e/sub");
  tar_file (a, "e/sub/new2", "new");
  tar_close (a);

  flatten ("1.tar");
  flatten ("2.tar");
  ck_assert (!exists (rootfd, "d/old"));
  ck_assert (!exists (rootfd, "d/sub/old2"));
  assert_content (rootfd, "d/new", "new");
  assert_content (rootfd, "d/sub/new2", "new");
  ck_assert (!exists (rootfd, "e/old"));
  ck_assert (!exists (rootfd, "e/sub/old2"));
  assert_content (rootfd, "e/sub/new2", "new");
  ck_assert (!exists (rootfd, "d/.wh..wh..opq"));
}
END_TEST

START_TEST (test_whiteout_invalid_names)
{
  static const struct
  {
    const char *name, *needle;
  } cases[] = {
    { ".wh.", "invalid name" },     { "d/.wh.", "invalid name" },
    { ".wh..", "invalid name" },    { ".wh...", "invalid name" },
    { "../.wh.x", "`..` component" }, { "d/../../.wh.x", "`..` component" },
  };
  size_t i;

  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      struct unpack_options o = { .mode = UNPACK_MODE_FLATTEN };
      mini_error_t err = NULL;
      struct archive *a = tar_new ("w.tar");

      tar_file (a, cases[i].name, NULL);
      tar_close (a);
      assert_error (apply_to (rootfd, "w.tar", &o, &err), &err, cases[i].needle);
    }
}
END_TEST

/* ------------------------------------------------------------ flatten: links, parents */

START_TEST (test_hardlink_to_lower_file)
{
  struct stat st1, st2;
  struct archive *a = tar_new ("1.tar");
  tar_file (a, "t", "target");
  tar_file (a, "gone", "deleted later");
  tar_close (a);
  a = tar_new ("2.tar");
  tar_hardlink (a, "h", "t");
  tar_hardlink (a, "h2", "gone");
  tar_close (a);
  a = tar_new ("3.tar");
  tar_file (a, ".wh.gone", NULL);
  tar_close (a);

  flatten ("1.tar");
  flatten ("2.tar");
  flatten ("3.tar");
  ck_assert_int_eq (fstatat (rootfd, "t", &st1, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (fstatat (rootfd, "h", &st2, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (st1.st_ino, st2.st_ino);
  /* the target went, the link stays with its content */
  ck_assert (!exists (rootfd, "gone"));
  assert_content (rootfd, "h2", "deleted later");
}
END_TEST

START_TEST (test_lower_symlink_not_written_through)
{
  struct unpack_options o = { .mode = UNPACK_MODE_FLATTEN };
  cleanup_free char *canary = xfmt ("%s/canary", tmpdir);
  mini_error_t err = NULL;
  struct archive *a = tar_new ("1.tar");
  int i;

  tar_symlink (a, "lnk", canary);
  tar_symlink (a, "root", "/");
  tar_close (a);
  flatten ("1.tar");

  for (i = 0; i < 3; i++)
    {
      a = tar_new ("2.tar");
      if (i == 0)
        tar_file (a, "lnk/pwned", "pwned");
      else if (i == 1)
        tar_file (a, "root/tmp/.wh.x", NULL);
      else
        tar_hardlink (a, "h", "root/etc/passwd");
      tar_close (a);
      assert_error (apply_to (rootfd, "2.tar", &o, &err), &err, "is a symlink");
    }
  {
    cleanup_dir DIR *d = opendir (canary);
    struct dirent *de;
    int n = 0;
    ck_assert_ptr_nonnull (d);
    while ((de = readdir (d)))
      n += de->d_name[0] != '.';
    ck_assert_int_eq (n, 0);
  }
}
END_TEST

/* A lower file where this layer needs a directory: replaced (the overlay's
   upper directory would hide it).  */
START_TEST (test_lower_file_becomes_dir)
{
  struct stat st;
  struct archive *a = tar_new ("1.tar");
  tar_file (a, "p", "file");
  tar_close (a);
  a = tar_new ("2.tar");
  tar_file (a, "p/x", "x");
  tar_close (a);

  flatten ("1.tar");
  flatten ("2.tar");
  ck_assert_int_eq (fstatat (rootfd, "p", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert (S_ISDIR (st.st_mode));
  assert_content (rootfd, "p/x", "x");
}
END_TEST

/* Lower directories keep their mtime when a layer adds to or removes from
   them; a directory this layer names gets the layer's metadata.  */
START_TEST (test_lower_dir_mtime_kept)
{
  struct stat st;
  struct archive *a = tar_new ("1.tar");
  tar_dir_mode (a, "d", 0750, 1111111111);
  tar_file (a, "d/old", "old");
  tar_dir_mode (a, "e", 0755, 1111111111);
  tar_close (a);
  a = tar_new ("2.tar");
  tar_file (a, "d/new", "new");
  tar_file (a, "d/.wh.old", NULL);
  tar_dir_mode (a, "e", 0700, 1222222222);
  tar_file (a, "e/x", "x");
  tar_close (a);

  flatten ("1.tar");
  flatten ("2.tar");
  ck_assert_int_eq (fstatat (rootfd, "d", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (st.st_mtime, 1111111111);
  ck_assert_int_eq (st.st_mode & 07777, 0750);
  ck_assert_int_eq (fstatat (rootfd, "e", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (st.st_mtime, 1222222222);
  ck_assert_int_eq (st.st_mode & 07777, 0700);
}
END_TEST

/* ------------------------------------------------------------ overlay mode with lowers */

START_TEST (test_overlay_hardlink_copies_up)
{
  struct unpack_options o = { .mode = UNPACK_MODE_OVERLAY };
  cleanup_close int l1 = layer_fd (1);
  cleanup_close int l2 = layer_fd (2);
  mini_error_t err = NULL;
  struct stat st1, st2, lst;
  struct archive *a = tar_new ("1.tar");
  int lowers[1];

  tar_dir_mode (a, "d", 0710, 1111111111);
  tar_put (a, tar_entry ("d/t", AE_IFREG, 04755), "target", 6);
  tar_close (a);
  a = tar_new ("2.tar");
  tar_hardlink (a, "h", "d/t");
  tar_close (a);

  ck_assert_int_eq (apply_to (l1, "1.tar", &o, &err), 0);
  /* without the lower layers, the target is missing */
  ck_assert_int_lt (apply_to (l2, "2.tar", &o, &err), 0);
  ck_assert_ptr_nonnull (strstr (err->msg, "not in the layer"));
  mini_error_release (&err);

  lowers[0] = l1;
  o.lower_fds = lowers;
  o.n_lower_fds = 1;
  ck_assert_msg (apply_to (l2, "2.tar", &o, &err) == 0, "%s", err ? err->msg : "");
  ck_assert_int_eq (fstatat (l2, "d/t", &st1, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (fstatat (l2, "h", &st2, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (st1.st_ino, st2.st_ino);
  ck_assert_int_eq (st1.st_mode & 07777, 04755);
  assert_content (l2, "h", "target");
  /* the copied-up parent shows the lower directory's metadata */
  ck_assert_int_eq (fstatat (l2, "d", &st1, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (st1.st_mode & 07777, 0710);
  ck_assert_int_eq (st1.st_mtime, 1111111111);
  /* the lower layer is untouched */
  ck_assert_int_eq (fstatat (l1, "d/t", &lst, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (lst.st_nlink, 1);
}
END_TEST

/* A hardlink to a lower file that a layer in between deleted is refused. */
START_TEST (test_overlay_hardlink_to_whited_out)
{
  struct unpack_options o = { .mode = UNPACK_MODE_OVERLAY };
  cleanup_close int l1 = layer_fd (1);
  cleanup_close int l2 = layer_fd (2);
  cleanup_close int l3 = layer_fd (3);
  mini_error_t err = NULL;
  struct archive *a = tar_new ("1.tar");
  int lowers[2];
  int ret;

  tar_file (a, "t", "target");
  tar_close (a);
  a = tar_new ("2.tar");
  tar_file (a, ".wh.t", NULL);
  tar_close (a);
  a = tar_new ("3.tar");
  tar_hardlink (a, "h", "t");
  tar_close (a);

  ck_assert_int_eq (apply_to (l1, "1.tar", &o, &err), 0);
  ret = apply_to (l2, "2.tar", &o, &err);
  if (!can_mknod_whiteout ())
    {
      ck_assert_int_eq (mini_error_errno (err), EPERM);
      mini_error_release (&err);
      return;
    }
  ck_assert_int_eq (ret, 0);
  lowers[0] = l2;
  lowers[1] = l1;
  o.lower_fds = lowers;
  o.n_lower_fds = 2;
  assert_error (apply_to (l3, "3.tar", &o, &err), &err, "is not in the layer or its lower layers");
}
END_TEST

START_TEST (test_overlay_lower_symlink_refused)
{
  struct unpack_options o = { .mode = UNPACK_MODE_OVERLAY };
  cleanup_free char *canary = xfmt ("%s/canary", tmpdir);
  cleanup_close int l1 = layer_fd (1);
  cleanup_close int l2 = layer_fd (2);
  mini_error_t err = NULL;
  struct archive *a = tar_new ("1.tar");
  int lowers[1];

  tar_symlink (a, "lnk", canary);
  tar_dir (a, "d");
  tar_symlink (a, "d/up", "..");
  tar_close (a);
  ck_assert_int_eq (apply_to (l1, "1.tar", &o, &err), 0);
  lowers[0] = l1;
  o.lower_fds = lowers;
  o.n_lower_fds = 1;

  a = tar_new ("2.tar");
  tar_file (a, "lnk/pwned", "pwned");
  tar_close (a);
  assert_error (apply_to (l2, "2.tar", &o, &err), &err, "`lnk` is a symlink");
  a = tar_new ("2.tar");
  tar_file (a, "d/up/x", "pwned");
  tar_close (a);
  assert_error (apply_to (l2, "2.tar", &o, &err), &err, "`d/up` is a symlink");
  ck_assert (!exists (l2, "lnk"));
  ck_assert_int_eq (rmdir (canary), 0); /* still empty */
}
END_TEST

/* ------------------------------------------------------------ streams and owners */

/* The sha256 (diff_id form) of the file TAR in the tars dir.  */
static char *
tar_digest (const char *tar)
{
  cleanup_free char *path = xfmt ("%s/tars/%s", tmpdir, tar);
  cleanup_free char *data = NULL;
  struct sha256_stream *h = sha256_stream_new ();
  mini_error_t err = NULL;
  size_t len = 0;
  char out[72];

  ck_assert_int_eq (read_file_at (AT_FDCWD, path, &data, &len, 0, &err), 0);
  sha256_stream_update (h, data, len);
  sha256_stream_final (h, out);
  sha256_stream_free (h);
  return xstrdup (out);
}

static struct unpack_stream *
open_stream (const char *tar)
{
  cleanup_free char *path = xfmt ("%s/tars/%s", tmpdir, tar);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct unpack_stream *st = NULL;
  mini_error_t err = NULL;

  ck_assert_int_ge (fd, 0);
  ck_assert_msg (unpack_stream_open (fd, "sha256:test", NULL, &st, &err) == 0, "open %s: %s",
                 tar, err ? err->msg : "?");
  return st;
}

/* Two layers decompressing at once (what unpack_image_flatten does): both
   apply in order and their diff_ids are checked; a stream applies once;
   a wrong diff_id fails.  */
START_TEST (test_stream_prefetch_in_order)
{
  struct unpack_options o = { .mode = UNPACK_MODE_FLATTEN };
  cleanup_free char *big = xmalloc (3 << 20);
  cleanup_free char *d1 = NULL;
  cleanup_free char *d2 = NULL;
  struct unpack_stream *s1, *s2, *s3;
  mini_error_t err = NULL;
  struct archive *a;
  size_t i;

  /* Larger than the ring: the producer of 2 blocks until 1 is applied.  */
  for (i = 0; i < (3u << 20); i++)
    big[i] = (char) ('a' + i % 23);
  a = tar_new ("1.tar");
  tar_dir (a, "d");
  tar_put (a, tar_entry ("d/big", AE_IFREG, 0644), big, 3 << 20);
  tar_file (a, "d/f", "one");
  tar_close (a);
  a = tar_new ("2.tar");
  tar_put (a, tar_entry ("d/big2", AE_IFREG, 0600), big, 3 << 20);
  tar_file (a, "d/f", "two");
  tar_close (a);
  d1 = tar_digest ("1.tar");
  d2 = tar_digest ("2.tar");

  s1 = open_stream ("1.tar");
  s2 = open_stream ("2.tar");
  ck_assert_msg (unpack_layer_apply_stream (s1, rootfd, d1, &o, &err) == 0, "%s",
                 err ? err->msg : "?");
  ck_assert_int_lt (unpack_layer_apply_stream (s1, rootfd, d1, &o, &err), 0);
  assert_error (-1, &err, "already read");
  ck_assert_msg (unpack_layer_apply_stream (s2, rootfd, d2, &o, &err) == 0, "%s",
                 err ? err->msg : "?");
  unpack_stream_free (s1);
  unpack_stream_free (s2);
  assert_content (rootfd, "d/f", "two");
  {
    struct stat st;
    ck_assert_int_eq (fstatat (rootfd, "d/big2", &st, AT_SYMLINK_NOFOLLOW), 0);
    ck_assert_int_eq (st.st_size, 3 << 20);
    ck_assert_int_eq (st.st_mode & 07777, 0600);
  }

  /* The diff_id of another layer: refused.  */
  s3 = open_stream ("2.tar");
  assert_error (unpack_layer_apply_stream (s3, rootfd, d1, &o, &err), &err, "diff_id mismatch");
  unpack_stream_free (s3);
}
END_TEST

/* A stream freed unread (a failed earlier layer): its helper threads,
   blocked on a full ring, stop; nothing leaks (ASan build).  */
START_TEST (test_stream_free_unread)
{
  cleanup_free char *big = xmalloc0 (4 << 20);
  struct archive *a = tar_new ("1.tar");
  struct unpack_stream *st;

  tar_put (a, tar_entry ("big", AE_IFREG, 0644), big, 4 << 20);
  tar_close (a);
  st = open_stream ("1.tar");
  unpack_stream_free (st);
  unpack_stream_free (NULL);
}
END_TEST

/* Owners: a file made in a setgid directory of a lower layer takes the
   directory's group from the kernel; its own group from the tar must
   still be set (chown is only skipped where the kernel gives euid:egid). */
START_TEST (test_flatten_setgid_dir_owner)
{
  gid_t dir_gid = getuid () == 0 ? 4321 : getgid ();
  struct archive_entry *e;
  struct archive *a;
  struct stat st;

  a = tar_new ("1.tar");
  e = tar_entry ("g", AE_IFDIR, 02775);
  archive_entry_set_gid (e, dir_gid);
  tar_put (a, e, NULL, 0);
  tar_close (a);
  a = tar_new ("2.tar");
  tar_file (a, "g/f", "x");
  tar_symlink (a, "g/l", "f");
  tar_dir (a, "g/sub");
  tar_close (a);

  flatten ("1.tar");
  ck_assert_int_eq (fstatat (rootfd, "g", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (st.st_mode & 07777, 02775);
  ck_assert_int_eq (st.st_gid, dir_gid);
  flatten ("2.tar");
  ck_assert_int_eq (fstatat (rootfd, "g/f", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (st.st_gid, getgid ());
  ck_assert_int_eq (st.st_mode & 07777, 0644);
  ck_assert_int_eq (fstatat (rootfd, "g/l", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (st.st_gid, getgid ());
  ck_assert_int_eq (fstatat (rootfd, "g/sub", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (st.st_gid, getgid ());
  ck_assert_int_eq (st.st_mode & 07777, 0755);
}
END_TEST

static Suite *
unpack_flatten_suite (void)
{
  Suite *s = suite_create ("unpack_flatten");
  TCase *tc;

  tc = tcase_create ("flatten_whiteouts");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_whiteout_removes_lower);
  tcase_add_test (tc, test_whiteout_same_layer_any_order);
  tcase_add_test (tc, test_opaque_any_order);
  tcase_add_test (tc, test_whiteout_invalid_names);
  suite_add_tcase (s, tc);

  tc = tcase_create ("flatten_paths");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_hardlink_to_lower_file);
  tcase_add_test (tc, test_lower_symlink_not_written_through);
  tcase_add_test (tc, test_lower_file_becomes_dir);
  tcase_add_test (tc, test_lower_dir_mtime_kept);
  suite_add_tcase (s, tc);

  tc = tcase_create ("overlay_lowers");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_overlay_hardlink_copies_up);
  tcase_add_test (tc, test_overlay_hardlink_to_whited_out);
  tcase_add_test (tc, test_overlay_lower_symlink_refused);
  suite_add_tcase (s, tc);

  tc = tcase_create ("streams_owners");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_stream_prefetch_in_order);
  tcase_add_test (tc, test_stream_free_unread);
  tcase_add_test (tc, test_flatten_setgid_dir_owner);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (unpack_flatten_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
