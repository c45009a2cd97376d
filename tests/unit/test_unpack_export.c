/* Unit tests: unpack_export_tree (`mini export`): a directory tree written
   as a tar and read back with libarchive.  Runs without root. */
#include "unpack/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

static char tmpdir[64];
static int rootfd = -1;

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

  strcpy (tmpdir, "/tmp/mini-export-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  root = xfmt ("%s/root", tmpdir);
  ck_assert_int_eq (mkdir (root, 0755), 0);
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

static void
put_file (const char *rel, const char *data, mode_t mode)
{
  int fd = openat (rootfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (write (fd, data, strlen (data)), (ssize_t) strlen (data));
  ck_assert_int_eq (fchmod (fd, mode), 0);
  close (fd);
}

/* Export the root into tmpdir/out.tar; returns its path.  */
static char *
export (void)
{
  char *path = xfmt ("%s/out.tar", tmpdir);
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  mini_error_t err = NULL;
  int ret;

  ck_assert_int_ge (fd, 0);
  ret = unpack_export_tree (rootfd, fd, &err);
  ck_assert_msg (ret == 0, "export: %s", err ? err->msg : "?");
  return path;
}

struct seen
{
  char *name;
  mode_t type, perm;
  char *symlink, *hardlink, *data, *xattr;
  time_t mtime;
};

/* Read TAR back: up to MAX entries into OUT; returns the count.  */
static size_t
read_back (const char *tar, struct seen *out, size_t max)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  size_t n = 0;

  archive_read_support_format_tar (a);
  ck_assert_int_eq (archive_read_open_filename (a, tar, 10240), ARCHIVE_OK);
  while (archive_read_next_header (a, &e) == ARCHIVE_OK)
    {
      struct seen *s = &out[n];
      la_int64_t size = archive_entry_size (e);
      const char *xname;
      const void *xval;
      size_t xlen;

      ck_assert_uint_lt (n, max);
      memset (s, 0, sizeof (*s));
      s->name = xstrdup (archive_entry_pathname (e));
      s->type = archive_entry_filetype (e);
      s->perm = archive_entry_perm (e);
      s->mtime = archive_entry_mtime (e);
      if (archive_entry_symlink (e))
        s->symlink = xstrdup (archive_entry_symlink (e));
      if (archive_entry_hardlink (e))
        s->hardlink = xstrdup (archive_entry_hardlink (e));
      if (archive_entry_xattr_reset (e) > 0)
        while (archive_entry_xattr_next (e, &xname, &xval, &xlen) == ARCHIVE_OK)
          {
            if (strcmp (xname, "user.test") == 0)
              {
                /* pax carries it twice (SCHILY. and LIBARCHIVE.) */
                free (s->xattr);
                s->xattr = xstrndup (xval, xlen);
              }
            else
              ck_assert_msg (strstr (xname, "overlay") == NULL, "overlay xattr %s exported",
                             xname);
          }
      if (size > 0)
        {
          s->data = xmalloc0 (size + 1);
          ck_assert_int_eq (archive_read_data (a, s->data, size), size);
        }
      n++;
    }
  archive_read_free (a);
  return n;
}

static void
seen_free (struct seen *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    {
      free (s[i].name);
      free (s[i].symlink);
      free (s[i].hardlink);
      free (s[i].data);
      free (s[i].xattr);
    }
}

static struct seen *
find (struct seen *s, size_t n, const char *name)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (strcmp (s[i].name, name) == 0 || (strlen (s[i].name) == strlen (name) + 1
                                            && strncmp (s[i].name, name, strlen (name)) == 0
                                            && s[i].name[strlen (name)] == '/'))
      return &s[i];
  ck_abort_msg ("entry %s not exported", name);
  return NULL;
}

START_TEST (test_round_trip)
{
  cleanup_free char *tar = NULL;
  cleanup_free char *longdir = NULL;
  cleanup_free char *longname = NULL;
  struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
  struct seen s[32];
  struct seen *e, *e2;
  bool have_xattr;
  size_t n;

  ck_assert_int_eq (mkdirat (rootfd, "bin", 0755), 0);
  put_file ("bin/busybox", "#!busybox\n", 04755);
  ck_assert_int_eq (linkat (rootfd, "bin/busybox", rootfd, "bin/sh", 0), 0);
  ck_assert_int_eq (symlinkat ("/etc", rootfd, "etclink"), 0);
  ck_assert_int_eq (mkfifoat (rootfd, "fifo", 0640), 0);
  ck_assert_int_eq (mkdirat (rootfd, "ro", 0555), 0);
  ck_assert_int_eq (utimensat (rootfd, "bin/busybox", ts, 0), 0);
  longdir = xmalloc (201);
  memset (longdir, 'd', 200);
  longdir[200] = '\0';
  longname = xfmt ("%s/%0200d", longdir, 7);
  ck_assert_int_eq (mkdirat (rootfd, longdir, 0755), 0);
  put_file (longname, "long", 0644);
  {
    cleanup_free char *p = xfmt ("%s/root/bin", tmpdir);
    have_xattr = setxattr (p, "user.test", "v", 1, 0) == 0;
    (void) setxattr (p, "user.overlay.opaque", "y", 1, 0);
  }

  tar = export ();
  n = read_back (tar, s, 32);
  ck_assert_uint_eq (n, 8);
  /* sorted, relative, no root entry */
  ck_assert_msg (strncmp (s[0].name, "bin", 3) == 0, "first: %s", s[0].name);

  e = find (s, n, "bin");
  ck_assert_int_eq (e->type, AE_IFDIR);
  if (have_xattr)
    ck_assert_str_eq (e->xattr, "v");
  e = find (s, n, "bin/busybox");
  ck_assert_int_eq (e->type, AE_IFREG);
  ck_assert_int_eq (e->perm, 04755);
  ck_assert_int_eq (e->mtime, 1000000000);
  ck_assert_str_eq (e->data, "#!busybox\n");
  e2 = find (s, n, "bin/sh");
  ck_assert_ptr_nonnull (e2->hardlink);
  ck_assert_str_eq (e2->hardlink, "bin/busybox");
  e = find (s, n, "etclink");
  ck_assert_int_eq (e->type, AE_IFLNK);
  ck_assert_str_eq (e->symlink, "/etc");
  e = find (s, n, "fifo");
  ck_assert_int_eq (e->type, AE_IFIFO);
  ck_assert_int_eq (e->perm, 0640);
  e = find (s, n, "ro");
  ck_assert_int_eq (e->perm, 0555);
  e = find (s, n, longname);
  ck_assert_str_eq (e->data, "long");
  seen_free (s, n);
}
END_TEST

/* A symlink to a directory is written as a symlink: nothing of its target
   (here the host's /etc) ends up in the archive.  */
START_TEST (test_symlinks_not_followed)
{
  cleanup_free char *tar = NULL;
  struct seen s[8];
  size_t n, i;

  ck_assert_int_eq (symlinkat ("/etc", rootfd, "etc"), 0);
  ck_assert_int_eq (symlinkat ("..", rootfd, "up"), 0);
  tar = export ();
  n = read_back (tar, s, 8);
  ck_assert_uint_eq (n, 2);
  for (i = 0; i < n; i++)
    ck_assert_int_eq (s[i].type, AE_IFLNK);
  seen_free (s, n);
}
END_TEST

START_TEST (test_write_error)
{
  cleanup_close int full = open ("/dev/full", O_WRONLY | O_CLOEXEC);
  cleanup_free char *big = xmalloc0 (1 << 20);
  mini_error_t err = NULL;
  int fd;

  ck_assert_int_ge (full, 0);
  fd = openat (rootfd, "big", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (write (fd, big, 1 << 20), 1 << 20);
  close (fd);
  ck_assert_int_lt (unpack_export_tree (rootfd, full, &err), 0);
  ck_assert_ptr_nonnull (err);
  mini_error_release (&err);
}
END_TEST

static Suite *
unpack_export_suite (void)
{
  Suite *s = suite_create ("unpack_export");
  TCase *tc = tcase_create ("export");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_round_trip);
  tcase_add_test (tc, test_symlinks_not_followed);
  tcase_add_test (tc, test_write_error);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (unpack_export_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
