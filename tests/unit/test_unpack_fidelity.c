/* Unit tests: unpack/ restores what the layer says: contents, types,
   symlink targets, hardlinks, modes (setuid/setgid/sticky), owners, mtimes,
   xattrs (security.capability as root), long PAX and GNU names, sparse
   files; gzip, zstd and plain streams; the diff_id check;
   unpack_image through the store.  Runs without root (and as root in CI:
   owners and device nodes are only checked there). */
#include "unpack/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <ftw.h>
#include <locale.h>
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

  strcpy (tmpdir, "/tmp/mini-unpack-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  layer = xfmt ("%s/layer", tmpdir);
  ck_assert_int_eq (mkdir (layer, 0755), 0);
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

/* Empty the layer dir for the next round of a test.  */
static void
reset_layer (void)
{
  cleanup_free char *layer = xfmt ("%s/layer", tmpdir);
  mini_error_t err = NULL;

  close (layerfd);
  nftw (layer, make_removable_cb, 16, FTW_PHYS);
  ck_assert_int_eq (remove_tree_at (AT_FDCWD, layer, &err), 0);
  ck_assert_int_eq (mkdir (layer, 0755), 0);
  layerfd = open (layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge (layerfd, 0);
}

/* ------------------------------------------------------------ tar builder */

enum filter
{
  FILTER_NONE,
  FILTER_GZIP,
  FILTER_ZSTD,
  FILTER_XZ,
};

static const char *const filter_names[] = { "plain", "gzip", "zstd", "xz" };

static int
add_filter (struct archive *a, enum filter f)
{
  switch (f)
    {
    case FILTER_GZIP:
      return archive_write_add_filter_gzip (a);
    case FILTER_ZSTD:
      return archive_write_add_filter_zstd (a);
    case FILTER_XZ:
      return archive_write_add_filter_xz (a);
    default:
      return ARCHIVE_OK;
    }
}

/* A pax_restricted tar (what most tools write), or a full pax one (which
   always carries sub-second times) when FULL_PAX.  */
static struct archive *
tar_new_format (const char *rel, bool full_pax)
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, rel);
  struct archive *a = archive_write_new ();

  ck_assert_ptr_nonnull (a);
  if (full_pax)
    ck_assert_int_eq (archive_write_set_format_pax (a), ARCHIVE_OK);
  else
    ck_assert_int_eq (archive_write_set_format_pax_restricted (a), ARCHIVE_OK);
  ck_assert_int_eq (archive_write_open_filename (a, path), ARCHIVE_OK);
  return a;
}

static struct archive *
tar_new (const char *rel)
{
  return tar_new_format (rel, false);
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
tar_file (struct archive *a, const char *name, mode_t perm, const char *data)
{
  tar_put (a, tar_entry (name, AE_IFREG, perm), data, data ? strlen (data) : 0);
}

static void
tar_dir (struct archive *a, const char *name, mode_t perm)
{
  tar_put (a, tar_entry (name, AE_IFDIR, perm), NULL, 0);
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

/* Compress SRC into DST (both relative to tmpdir) with F.  false when this
   libarchive cannot write F.  */
static bool
compress_file (const char *src, const char *dst, enum filter f)
{
  cleanup_free char *spath = xfmt ("%s/%s", tmpdir, src);
  cleanup_free char *dpath = xfmt ("%s/%s", tmpdir, dst);
  cleanup_free char *buf = NULL;
  size_t len;
  mini_error_t err = NULL;
  struct archive *a = archive_write_new ();
  struct archive_entry *e;

  ck_assert_int_eq (read_file_at (AT_FDCWD, spath, &buf, &len, 0, &err), 0);
  archive_write_set_format_raw (a);
  if (add_filter (a, f) != ARCHIVE_OK)
    {
      archive_write_free (a);
      return false;
    }
  ck_assert_int_eq (archive_write_open_filename (a, dpath), ARCHIVE_OK);
  e = archive_entry_new ();
  archive_entry_set_filetype (e, AE_IFREG);
  ck_assert_int_eq (archive_write_header (a, e), ARCHIVE_OK);
  archive_entry_free (e);
  ck_assert_int_eq (archive_write_data (a, buf, len), (la_ssize_t) len);
  tar_close (a);
  return true;
}

static void
file_digest (const char *rel, char out[72])
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, rel);
  cleanup_free char *buf = NULL;
  size_t len;
  mini_error_t err = NULL;

  ck_assert_int_eq (read_file_at (AT_FDCWD, path, &buf, &len, 0, &err), 0);
  sha256_digest (buf, len, out);
}

static int
apply (const char *rel, const char *diff_id, mini_error_t *err)
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, rel);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);

  ck_assert_int_ge (fd, 0);
  return unpack_layer_apply (fd, layerfd, diff_id, "sha256:fidelity", NULL, err);
}

static void
apply_ok (const char *rel, const char *diff_id)
{
  mini_error_t err = NULL;
  int ret = apply (rel, diff_id, &err);
  ck_assert_msg (ret == 0, "apply %s: %s (%d)", rel, err ? err->msg : "", mini_error_errno (err));
}

/* ------------------------------------------------------------ checks */

static void
assert_stat (const char *path, struct stat *st)
{
  ck_assert_msg (fstatat (layerfd, path, st, AT_SYMLINK_NOFOLLOW) == 0, "stat `%s`: %s", path,
                 strerror (errno));
}

static void
assert_content (const char *path, const void *data, size_t len)
{
  cleanup_close int fd = openat (layerfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_free char *buf = xmalloc (len + 1);

  ck_assert_msg (fd >= 0, "open `%s`", path);
  ck_assert_int_eq (read_all (fd, buf, len + 1), (ssize_t) len);
  ck_assert (memcmp (buf, data, len) == 0);
}

static void
assert_link (const char *path, const char *target)
{
  char buf[PATH_MAX];
  ssize_t n = readlinkat (layerfd, path, buf, sizeof (buf) - 1);

  ck_assert_msg (n >= 0, "readlink `%s`", path);
  buf[n] = '\0';
  ck_assert_str_eq (buf, target);
}

static void
assert_mode (const char *path, mode_t type, mode_t perm)
{
  struct stat st;

  assert_stat (path, &st);
  ck_assert_msg ((st.st_mode & S_IFMT) == type, "`%s` type 0%o", path, st.st_mode & S_IFMT);
  ck_assert_msg ((st.st_mode & 07777) == perm, "`%s` mode 0%o, want 0%o", path,
                 st.st_mode & 07777, perm);
}

static void
assert_mtime (const char *path, time_t sec, long nsec)
{
  struct stat st;

  assert_stat (path, &st);
  ck_assert_msg (st.st_mtim.tv_sec == sec && st.st_mtim.tv_nsec == nsec, "`%s` mtime %ld.%09ld",
                 path, (long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* ------------------------------------------------------------ the tree */

#define BIG_SIZE (3 * 1024 * 1024 + 123) /* crosses several stream buffers */

static char *
big_data (void)
{
  char *b = xmalloc (BIG_SIZE);
  uint32_t x = 2463534242u;
  size_t i;

  for (i = 0; i < BIG_SIZE; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      b[i] = (char) x;
    }
  return b;
}

static char *
long_name (void)
{
  /* 3 components of 200 bytes: a 600+ byte path, only PAX can carry it */
  char comp[201];
  memset (comp, 'n', 200);
  comp[200] = '\0';
  return xfmt ("long/%s/%s/%s.txt", comp, comp, comp);
}

static void
build_tree (struct archive *a)
{
  cleanup_free char *big = big_data ();
  cleanup_free char *lname = long_name ();

  tar_dir (a, "etc", 0755);
  tar_file (a, "etc/hostname", 0644, "mini\n");
  tar_file (a, "./etc/empty", 0600, NULL);
  tar_put (a, tar_entry ("usr/lib/big.bin", AE_IFREG, 0644), big, BIG_SIZE);
  tar_symlink (a, "etc/rel", "../usr/lib/big.bin");
  tar_symlink (a, "etc/abs", "/etc/hostname");
  tar_symlink (a, "etc/dangling", "/no/such/file");
  tar_hardlink (a, "usr/lib/big.hard", "usr/lib/big.bin");
  tar_hardlink (a, "etc/hostname2", "./etc/hostname");
  tar_put (a, tar_entry ("run/fifo", AE_IFIFO, 0620), NULL, 0);
  tar_file (a, lname, 0644, "long");
  /* A UTF-8 name in a PAX "path" record (what Go's archive/tar writes).  */
  tar_file (a, "caf\xc3\xa9/na\xc3\xafve.txt", 0644, "utf8");
}

static void
verify_tree (void)
{
  cleanup_free char *big = big_data ();
  cleanup_free char *lname = long_name ();
  struct stat st, st2;

  assert_mode ("etc", S_IFDIR, 0755);
  assert_content ("etc/hostname", "mini\n", 5);
  assert_mode ("etc/empty", S_IFREG, 0600);
  assert_content ("etc/empty", "", 0);
  assert_content ("usr/lib/big.bin", big, BIG_SIZE);
  assert_mode ("usr/lib", S_IFDIR, 0755); /* implicit parent */
  assert_link ("etc/rel", "../usr/lib/big.bin");
  assert_link ("etc/abs", "/etc/hostname");
  assert_link ("etc/dangling", "/no/such/file");
  assert_stat ("usr/lib/big.bin", &st);
  assert_stat ("usr/lib/big.hard", &st2);
  ck_assert_int_eq (st.st_ino, st2.st_ino);
  ck_assert_int_eq (st.st_nlink, 2);
  assert_stat ("etc/hostname2", &st2);
  ck_assert_int_eq (st2.st_nlink, 2);
  assert_mode ("run/fifo", S_IFIFO, 0620);
  assert_content (lname, "long", 4);
  assert_content ("caf\xc3\xa9/na\xc3\xafve.txt", "utf8", 4);
}

/* ------------------------------------------------------------ tests */

START_TEST (test_tree_all_filters)
{
  struct archive *a;
  char diff_id[72];
  int f;

  /* Written in a UTF-8 locale (for the UTF-8 name), extracted in "C" like
     mini runs.  */
  ck_assert_ptr_nonnull (setlocale (LC_CTYPE, "C.UTF-8"));
  a = tar_new ("t.tar");
  build_tree (a);
  tar_close (a);
  ck_assert_ptr_nonnull (setlocale (LC_CTYPE, "C"));
  file_digest ("t.tar", diff_id);
  for (f = FILTER_NONE; f <= FILTER_XZ; f++)
    {
      cleanup_free char *name = xfmt ("t.tar.%s", filter_names[f]);
      if (!compress_file ("t.tar", name, f))
        {
          ck_assert_int_ne (f, FILTER_GZIP); /* gzip must always work */
          continue;
        }
      reset_layer ();
      apply_ok (name, diff_id);
      verify_tree ();
    }
}
END_TEST

START_TEST (test_diff_id)
{
  mini_error_t err = NULL;
  struct archive *a = tar_new ("t.tar");
  char diff_id[72];
  const char *wrong = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

  tar_file (a, "f", 0644, "content");
  tar_close (a);
  file_digest ("t.tar", diff_id);
  ck_assert (compress_file ("t.tar", "t.tar.gz", FILTER_GZIP));

  apply_ok ("t.tar", diff_id);
  reset_layer ();
  apply_ok ("t.tar.gz", diff_id);
  reset_layer ();
  apply_ok ("t.tar.gz", NULL);

  reset_layer ();
  ck_assert_int_lt (apply ("t.tar.gz", wrong, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  ck_assert_ptr_nonnull (strstr (err->msg, "layer sha256:fidelity: diff_id mismatch"));
  mini_error_release (&err);

  /* the compressed digest is not the diff_id */
  reset_layer ();
  file_digest ("t.tar.gz", diff_id);
  ck_assert_int_lt (apply ("t.tar.gz", diff_id, &err), 0);
  ck_assert_ptr_nonnull (strstr (err->msg, "diff_id mismatch"));
  mini_error_release (&err);

  reset_layer ();
  ck_assert_int_lt (apply ("t.tar.gz", "sha256:short", &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  mini_error_release (&err);
}
END_TEST

/* Bytes after the end-of-archive marker are part of the diff_id.  */
START_TEST (test_diff_id_trailing_data)
{
  cleanup_free char *path = xfmt ("%s/t.tar", tmpdir);
  struct archive *a = tar_new ("t.tar");
  char diff_id[72], short_id[72];
  char junk[3000];
  int fd;

  tar_file (a, "f", 0644, "content");
  tar_close (a);
  file_digest ("t.tar", short_id);
  memset (junk, 0, sizeof (junk));
  memcpy (junk + 2000, "trailing", 8);
  fd = open (path, O_WRONLY | O_APPEND | O_CLOEXEC);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (write (fd, junk, sizeof (junk)), (ssize_t) sizeof (junk));
  close (fd);
  file_digest ("t.tar", diff_id);
  ck_assert (compress_file ("t.tar", "t.tar.gz", FILTER_GZIP));
  apply_ok ("t.tar.gz", diff_id);
  assert_content ("f", "content", 7);
  reset_layer ();
  {
    mini_error_t err = NULL;
    ck_assert_int_lt (apply ("t.tar.gz", short_id, &err), 0);
    mini_error_release (&err);
  }
}
END_TEST

/* ------------------------------------------------------------ gzip
   gzip layers are inflated by ISA-L when it is there (else libarchive's
   filter): both must read every member, ignore what follows the last one
   and refuse a damaged member.  */

/* Write LEN bytes of BUF to REL (created or truncated), or append them.  */
static void
put_bytes (const char *rel, const void *buf, size_t len, bool append)
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, rel);
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC),
                               0644);

  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (write (fd, buf, len), (ssize_t) len);
}

static char *
get_bytes (const char *rel, size_t *len)
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, rel);
  char *buf = NULL;
  mini_error_t err = NULL;

  ck_assert_int_eq (read_file_at (AT_FDCWD, path, &buf, len, 0, &err), 0);
  return buf;
}

/* 3 MiB that compress (repeats at many distances, across the 512 KiB
   buffers of the stream) and do not (pseudo-random runs).  */
static char *
mixed_data (size_t len)
{
  char *d = xmalloc (len);
  uint32_t x = 12345;
  size_t i;

  for (i = 0; i < len; i++)
    {
      x = x * 1103515245u + 12345u;
      if (i >= 40000 && (x >> 16) % 4 != 0)
        d[i] = d[i - 1 - (x >> 8) % 32000];
      else
        d[i] = (char) (x >> 24);
    }
  return d;
}

/* A layer split into several gzip members (an empty one among them),
   as `cat a.gz b.gz` or pigz make: the diff_id covers all of them.  */
START_TEST (test_gzip_multi_member)
{
  const size_t big_len = 3 << 20;
  cleanup_free char *big = mixed_data (big_len);
  cleanup_free char *tar = NULL, *gz = NULL;
  struct archive *a = tar_new ("t.tar");
  size_t len, gz_len, cuts[] = { 0, 777, 777, 1500001, 0 };
  char diff_id[72];
  int i;

  tar_file (a, "first", 0644, "first file");
  tar_put (a, tar_entry ("big", AE_IFREG, 0644), big, big_len);
  tar_file (a, "last", 0644, "last file");
  tar_close (a);
  file_digest ("t.tar", diff_id);
  tar = get_bytes ("t.tar", &len);
  cuts[4] = len;
  put_bytes ("multi.gz", "", 0, false);
  for (i = 0; i < 4; i++)
    {
      put_bytes ("part", tar + cuts[i], cuts[i + 1] - cuts[i], false);
      ck_assert (compress_file ("part", "part.gz", FILTER_GZIP));
      gz = get_bytes ("part.gz", &gz_len);
      put_bytes ("multi.gz", gz, gz_len, true);
      free (steal_pointer (&gz));
    }
  apply_ok ("multi.gz", diff_id);
  assert_content ("first", "first file", 10);
  assert_content ("big", big, big_len);
  assert_content ("last", "last file", 9);
}
END_TEST

/* After the last member, zero padding and other garbage are ignored (as
   gzip -d does) and are not part of the diff_id.  */
START_TEST (test_gzip_trailing_garbage)
{
  static const char *const tails[] = { "\0\0\0\0\0\0\0\0\0\0\0\0", "garbage after the end", "\x1f" };
  struct archive *a = tar_new ("t.tar");
  cleanup_free char *gz = NULL;
  char diff_id[72];
  size_t gz_len, i;

  tar_file (a, "f", 0644, "content");
  tar_close (a);
  file_digest ("t.tar", diff_id);
  ck_assert (compress_file ("t.tar", "t.tar.gz", FILTER_GZIP));
  gz = get_bytes ("t.tar.gz", &gz_len);
  for (i = 0; i < sizeof (tails) / sizeof (tails[0]); i++)
    {
      put_bytes ("tail.gz", gz, gz_len, false);
      put_bytes ("tail.gz", tails[i], i == 0 ? 12 : strlen (tails[i]), true);
      apply_ok ("tail.gz", diff_id);
      assert_content ("f", "content", 7);
      reset_layer ();
    }
}
END_TEST

/* A damaged member is refused: wrong CRC-32 or length (ISA-L checks the
   trailer, as gzip does), cut short, corrupt deflate data, and a second
   member that is only a header.  */
START_TEST (test_gzip_damaged)
{
  const size_t big_len = 1 << 20;
  cleanup_free char *big = mixed_data (big_len);
  cleanup_free char *gz = NULL;
  struct archive *a = tar_new ("t.tar");
  char diff_id[72];
  size_t gz_len;
  int i;

  tar_put (a, tar_entry ("big", AE_IFREG, 0644), big, big_len);
  tar_close (a);
  file_digest ("t.tar", diff_id);
  ck_assert (compress_file ("t.tar", "t.tar.gz", FILTER_GZIP));
  gz = get_bytes ("t.tar.gz", &gz_len);
  for (i = 0; i < 5; i++)
    {
      mini_error_t err = NULL;
      cleanup_free char *bad = xmalloc (gz_len);
      size_t bad_len = gz_len;

#ifndef HAVE_ISAL
      /* libarchive's gzip filter checks neither (the diff_id still holds).  */
      if (i <= 1)
        continue;
#endif
      memcpy (bad, gz, gz_len);
      if (i == 0)
        bad[gz_len - 8] ^= 1; /* CRC-32 */
      else if (i == 1)
        bad[gz_len - 4] ^= 1; /* ISIZE */
      else if (i == 2)
        bad_len = gz_len - 9; /* cut inside the trailer... */
      else if (i == 3)
        memset (bad + gz_len / 2, 0xff, 64); /* deflate data */
      put_bytes ("bad.gz", bad, bad_len, false);
      if (i == 4)
        put_bytes ("bad.gz", "\x1f\x8b\x08\0\0\0\0\0\0\x03", 10, true); /* header only */
      ck_assert_msg (apply ("bad.gz", diff_id, &err) < 0, "damage %d accepted", i);
      ck_assert_ptr_nonnull (err);
      ck_assert_msg (strstr (err->msg, "sha256:fidelity") != NULL, "%s", err->msg);
      mini_error_release (&err);
      reset_layer ();
    }
}
END_TEST

START_TEST (test_modes)
{
  struct archive *a = tar_new ("t.tar");

  tar_file (a, "bin/su", 04755, "suid");
  tar_file (a, "bin/wall", 02755, "sgid");
  tar_file (a, "bin/none", 0000, "none");
  tar_file (a, "bin/ro", 0444, "ro");
  tar_dir (a, "tmp", 01777);
  tar_dir (a, "shared", 02775);
  tar_dir (a, "ro", 0555);
  tar_dir (a, "ro/sub", 0500);
  tar_file (a, "ro/sub/file", 0400, "inside");
  tar_file (a, "ro/file", 0644, "inside");
  tar_dir (a, "closed", 0000);
  tar_file (a, "closed/file", 0644, "inside");
  tar_close (a);
  apply_ok ("t.tar", NULL);

  assert_mode ("bin/su", S_IFREG, 04755);
  assert_mode ("bin/wall", S_IFREG, 02755);
  assert_mode ("bin/none", S_IFREG, 0000);
  assert_mode ("bin/ro", S_IFREG, 0444);
  assert_mode ("tmp", S_IFDIR, 01777);
  assert_mode ("shared", S_IFDIR, 02775);
  assert_mode ("ro", S_IFDIR, 0555);
  assert_mode ("ro/sub", S_IFDIR, 0500);
  assert_mode ("ro/sub/file", S_IFREG, 0400);
  assert_mode ("ro/file", S_IFREG, 0644);
  assert_mode ("closed", S_IFDIR, 0000);
  if (geteuid () == 0)
    assert_content ("closed/file", "inside", 6);
  assert_content ("ro/sub/file", "inside", 6);
}
END_TEST

START_TEST (test_mtimes)
{
  struct archive *a = tar_new_format ("t.tar", true);
  struct archive_entry *e;

  e = tar_entry ("d", AE_IFDIR, 0755);
  archive_entry_set_mtime (e, 1234567890, 123456789);
  tar_put (a, e, NULL, 0);
  e = tar_entry ("d/f", AE_IFREG, 0644);
  archive_entry_set_mtime (e, 1500000000, 5);
  tar_put (a, e, "x", 1);
  e = tar_entry ("d/l", AE_IFLNK, 0777);
  archive_entry_set_symlink (e, "f");
  archive_entry_set_mtime (e, 1600000000, 999999999);
  tar_put (a, e, NULL, 0);
  e = tar_entry ("d/sub", AE_IFDIR, 0555);
  archive_entry_set_mtime (e, 42, 0);
  tar_put (a, e, NULL, 0);
  tar_file (a, "d/sub/late", 0644, "late"); /* must not disturb d/sub's mtime */
  e = tar_entry ("old", AE_IFREG, 0644);
  archive_entry_set_mtime (e, -86400, 0); /* before 1970 */
  tar_put (a, e, NULL, 0);
  tar_close (a);
  apply_ok ("t.tar", NULL);

  assert_mtime ("d", 1234567890, 123456789);
  assert_mtime ("d/f", 1500000000, 5);
  assert_mtime ("d/l", 1600000000, 999999999);
  assert_mtime ("d/sub", 42, 0);
  assert_mtime ("old", -86400, 0);
}
END_TEST

START_TEST (test_owners)
{
  bool root = geteuid () == 0;
  uid_t uid = root ? 1234 : getuid ();
  gid_t gid = root ? 5678 : getgid ();
  struct archive *a = tar_new ("t.tar");
  static const char *const names[] = { "d", "d/f", "d/l", "d/suid" };
  struct archive_entry *e;
  size_t i;

  e = tar_entry ("d", AE_IFDIR, 0755);
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  tar_put (a, e, NULL, 0);
  e = tar_entry ("d/f", AE_IFREG, 0644);
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  tar_put (a, e, "x", 1);
  e = tar_entry ("d/l", AE_IFLNK, 0777);
  archive_entry_set_symlink (e, "f");
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  tar_put (a, e, NULL, 0);
  e = tar_entry ("d/suid", AE_IFREG, 06755); /* chown must not drop the bits */
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  tar_put (a, e, "x", 1);
  /* the largest valid id; as non-root it is skipped (best effort) */
  e = tar_entry ("max", AE_IFREG, 0644);
  archive_entry_set_uid (e, 4294967294LL);
  archive_entry_set_gid (e, 4294967294LL);
  tar_put (a, e, "x", 1);
  tar_close (a);
  apply_ok ("t.tar", NULL);

  for (i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    {
      struct stat st;
      assert_stat (names[i], &st);
      ck_assert_int_eq (st.st_uid, uid);
      ck_assert_int_eq (st.st_gid, gid);
    }
  assert_mode ("d/suid", S_IFREG, 06755);
  if (root)
    {
      struct stat st;
      assert_stat ("max", &st);
      ck_assert_uint_eq (st.st_uid, 4294967294u);
    }
}
END_TEST

START_TEST (test_owner_out_of_range)
{
  mini_error_t err = NULL;
  struct archive *a = tar_new ("t.tar");
  struct archive_entry *e;

  e = tar_entry ("f", AE_IFREG, 0644);
  archive_entry_set_uid (e, 4294967295LL); /* (uid_t) -1: "do not change" */
  tar_put (a, e, "x", 1);
  tar_close (a);
  ck_assert_int_lt (apply ("t.tar", NULL, &err), 0);
  ck_assert_ptr_nonnull (strstr (err->msg, "out of range"));
  mini_error_release (&err);
}
END_TEST

START_TEST (test_replace)
{
  struct archive *a = tar_new ("t.tar");
  struct stat st;

  /* file, then a directory of the same name */
  tar_file (a, "a", 0644, "file");
  tar_dir (a, "a", 0755);
  tar_file (a, "a/in", 0644, "in");
  /* directory with content, then a file of the same name */
  tar_dir (a, "b", 0755);
  tar_dir (a, "b/sub", 0555);
  tar_file (a, "b/sub/x", 0644, "x");
  tar_file (a, "b", 0600, "now a file");
  /* directory over directory: contents stay, metadata updated */
  tar_dir (a, "c", 0755);
  tar_file (a, "c/keep", 0644, "keep");
  tar_dir (a, "c", 0711);
  /* a file replaced while a hardlink to it exists */
  tar_file (a, "h1", 0644, "old");
  tar_hardlink (a, "h2", "h1");
  tar_file (a, "h1", 0644, "new");
  /* symlink replaced by a file, file replaced by a symlink */
  tar_symlink (a, "s", "target");
  tar_file (a, "s", 0644, "file");
  tar_file (a, "t", 0644, "file");
  tar_symlink (a, "t", "target");
  /* a duplicate hardlink entry */
  tar_hardlink (a, "h3", "h2");
  tar_hardlink (a, "h3", "h2");
  tar_close (a);
  apply_ok ("t.tar", NULL);

  assert_mode ("a", S_IFDIR, 0755);
  assert_content ("a/in", "in", 2);
  assert_mode ("b", S_IFREG, 0600);
  assert_content ("b", "now a file", 10);
  assert_mode ("c", S_IFDIR, 0711);
  assert_content ("c/keep", "keep", 4);
  assert_content ("h1", "new", 3);
  assert_content ("h2", "old", 3);
  assert_stat ("h1", &st);
  ck_assert_int_eq (st.st_nlink, 1);
  assert_mode ("s", S_IFREG, 0644);
  assert_link ("t", "target");
  assert_stat ("h3", &st);
  ck_assert_int_eq (st.st_nlink, 2);
}
END_TEST

START_TEST (test_root_entry)
{
  struct archive *a = tar_new ("t.tar");
  struct archive_entry *e;

  e = tar_entry ("./", AE_IFDIR, 0751);
  archive_entry_set_mtime (e, 777, 0);
  tar_put (a, e, NULL, 0);
  tar_file (a, "./f", 0644, "f");
  tar_close (a);
  apply_ok ("t.tar", NULL);
  assert_mode (".", S_IFDIR, 0751);
  assert_mtime (".", 777, 0);
  assert_content ("f", "f", 1);
}
END_TEST

START_TEST (test_xattrs)
{
  struct archive *a = tar_new ("t.tar");
  struct archive_entry *e;
  char v[64];
  ssize_t n;

  e = tar_entry ("f", AE_IFREG, 0644);
  archive_entry_xattr_add_entry (e, "user.mini.test", "value", 5);
  archive_entry_xattr_add_entry (e, "user.mini.empty", "", 0);
  tar_put (a, e, "x", 1);
  e = tar_entry ("d", AE_IFDIR, 0555);
  archive_entry_xattr_add_entry (e, "user.mini.dir", "dv", 2);
  tar_put (a, e, NULL, 0);
  tar_close (a);
  apply_ok ("t.tar", NULL);

  {
    cleanup_close int fd = openat (layerfd, "f", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge (fd, 0);
    n = fgetxattr (fd, "user.mini.test", v, sizeof (v));
    if (n < 0 && errno == ENOTSUP)
      return; /* file system without user xattrs */
    ck_assert_int_eq (n, 5);
    ck_assert (memcmp (v, "value", 5) == 0);
    ck_assert_int_eq (fgetxattr (fd, "user.mini.empty", v, sizeof (v)), 0);
  }
  {
    cleanup_close int fd = openat (layerfd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge (fd, 0);
    ck_assert_int_eq (fgetxattr (fd, "user.mini.dir", v, sizeof (v)), 2);
  }
}
END_TEST

/* A sparse file (GNU sparse 1.0 in pax): holes stay holes, data lands at
   its offsets.  */
START_TEST (test_sparse)
{
  const size_t size = 4 << 20, chunk = 64 << 10;
  cleanup_free char *data = xmalloc0 (size);
  struct archive *a = tar_new_format ("t.tar", true);
  struct archive_entry *e = tar_entry ("sparse", AE_IFREG, 0644);
  cleanup_close int fd = -1;
  cleanup_free char *back = xmalloc (size);
  struct stat st;

  memset (data, 'a', chunk);
  memset (data + size - chunk, 'z', chunk);
  archive_entry_set_size (e, size);
  archive_entry_sparse_add_entry (e, 0, chunk);
  archive_entry_sparse_add_entry (e, size - chunk, chunk);
  ck_assert_int_eq (archive_write_header (a, e), ARCHIVE_OK);
  ck_assert_int_eq (archive_write_data (a, data, size), (la_ssize_t) size);
  archive_entry_free (e);
  tar_close (a);
  {
    /* the archive holds the data, not the holes */
    cleanup_free char *path = xfmt ("%s/t.tar", tmpdir);
    ck_assert_int_eq (stat (path, &st), 0);
    ck_assert_int_lt (st.st_size, 1 << 20);
  }
  apply_ok ("t.tar", NULL);
  fd = openat (layerfd, "sparse", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (fstat (fd, &st), 0);
  ck_assert_int_eq (st.st_size, (off_t) size);
  ck_assert_int_eq (read_all (fd, back, size), (ssize_t) size);
  ck_assert (memcmp (back, data, size) == 0);
  /* most of it is a hole (st_blocks counts 512-byte units) */
  ck_assert_int_lt ((long long) st.st_blocks * 512, (long long) size / 2);
}
END_TEST

/* security.capability (file capabilities, VFS_CAP_REVISION_2): restored
   as root; skipped without root (the kernel needs CAP_SETFCAP).  */
START_TEST (test_file_capabilities)
{
  /* cap_net_bind_service+ep */
  static const unsigned char cap[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00,
                                         0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                         0x00, 0x00, 0x00, 0x00 };
  struct archive *a = tar_new ("t.tar");
  struct archive_entry *e = tar_entry ("bin/ping", AE_IFREG, 0755);
  unsigned char v[64];
  ssize_t n;

  archive_entry_xattr_add_entry (e, "security.capability", cap, sizeof (cap));
  tar_put (a, e, "#!", 2);
  tar_close (a);
  apply_ok ("t.tar", NULL);
  {
    cleanup_free char *path = xfmt ("%s/layer/bin/ping", tmpdir);
    n = getxattr (path, "security.capability", v, sizeof (v));
  }
  if (geteuid () != 0)
    {
      ck_assert_int_lt (n, 0);
      return;
    }
  ck_assert_int_eq (n, (ssize_t) sizeof (cap));
  ck_assert (memcmp (v, cap, sizeof (cap)) == 0);
  assert_mode ("bin/ping", S_IFREG, 0755);
}
END_TEST

/* GNU tar's own long names and link targets (././@LongLink), as older
   images carry.  */
START_TEST (test_gnu_long_names)
{
  cleanup_free char *path = xfmt ("%s/t.tar", tmpdir);
  cleanup_free char *comp = xmalloc (201);
  cleanup_free char *name = NULL;
  cleanup_free char *target = NULL;
  struct archive *a = archive_write_new ();
  struct archive_entry *e;
  char buf[512];
  ssize_t n;

  memset (comp, 'g', 200);
  comp[200] = '\0';
  name = xfmt ("%s/%s/file", comp, comp);
  target = xfmt ("/%s/%s/target", comp, comp);
  ck_assert_int_eq (archive_write_set_format_gnutar (a), ARCHIVE_OK);
  ck_assert_int_eq (archive_write_open_filename (a, path), ARCHIVE_OK);
  tar_put (a, tar_entry (name, AE_IFREG, 0600), "gnu", 3);
  e = tar_entry ("link", AE_IFLNK, 0777);
  archive_entry_set_symlink (e, target);
  tar_put (a, e, NULL, 0);
  e = tar_entry ("hard", AE_IFREG, 0600);
  archive_entry_set_hardlink (e, name);
  tar_put (a, e, NULL, 0);
  tar_close (a);
  apply_ok ("t.tar", NULL);
  assert_content (name, "gnu", 3);
  assert_content ("hard", "gnu", 3);
  n = readlinkat (layerfd, "link", buf, sizeof (buf) - 1);
  ck_assert_int_eq (n, (ssize_t) strlen (target));
  buf[n] = '\0';
  ck_assert_str_eq (buf, target);
}
END_TEST

START_TEST (test_devices)
{
  mini_error_t err = NULL;
  struct archive *a = tar_new ("t.tar");
  struct archive_entry *e;
  struct stat st;
  int ret;

  e = tar_entry ("dev/null", AE_IFCHR, 0666);
  archive_entry_set_rdevmajor (e, 1);
  archive_entry_set_rdevminor (e, 3);
  tar_put (a, e, NULL, 0);
  e = tar_entry ("dev/loop9", AE_IFBLK, 0660);
  archive_entry_set_rdevmajor (e, 7);
  archive_entry_set_rdevminor (e, 9);
  tar_put (a, e, NULL, 0);
  tar_close (a);
  ret = apply ("t.tar", NULL, &err);
  if (geteuid () != 0)
    {
      /* mknod of a real device needs CAP_MKNOD */
      ck_assert_int_lt (ret, 0);
      ck_assert_int_eq (mini_error_errno (err), EPERM);
      ck_assert_ptr_nonnull (strstr (err->msg, "entry `dev/null`: mknod"));
      mini_error_release (&err);
      return;
    }
  ck_assert_msg (ret == 0, "%s", err ? err->msg : "");
  assert_mode ("dev/null", S_IFCHR, 0666);
  assert_stat ("dev/null", &st);
  ck_assert_int_eq (major (st.st_rdev), 1);
  ck_assert_int_eq (minor (st.st_rdev), 3);
  assert_mode ("dev/loop9", S_IFBLK, 0660);
  assert_stat ("dev/loop9", &st);
  ck_assert_int_eq (major (st.st_rdev), 7);
  ck_assert_int_eq (minor (st.st_rdev), 9);
}
END_TEST

START_TEST (test_empty_layers)
{
  cleanup_free char *path = xfmt ("%s/zero", tmpdir);
  struct archive *a = tar_new ("t.tar");
  char diff_id[72];
  int fd;

  tar_close (a); /* only the end-of-archive blocks */
  file_digest ("t.tar", diff_id);
  ck_assert (compress_file ("t.tar", "t.tar.gz", FILTER_GZIP));
  apply_ok ("t.tar.gz", diff_id);

  fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644); /* a zero-byte blob */
  ck_assert_int_ge (fd, 0);
  close (fd);
  file_digest ("zero", diff_id);
  apply_ok ("zero", diff_id);
}
END_TEST

/* ------------------------------------------------------------ unpack_image */

static struct store_image *
one_layer_image (struct store *s, const char *tar_rel, const char *diff_id)
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, tar_rel);
  cleanup_free char *buf = NULL;
  struct store_image *img = xmalloc0 (sizeof (*img));
  mini_error_t err = NULL;
  char digest[72], chain[72];
  size_t len;

  ck_assert_int_eq (read_file_at (AT_FDCWD, path, &buf, &len, 0, &err), 0);
  sha256_digest (buf, len, digest);
  ck_assert_int_eq (store_blob_put (s, digest, buf, len, &err), 0);
  store_chain_id (NULL, diff_id, chain);
  img->manifest_digest = xstrdup (digest);
  img->n_layers = 1;
  img->layers = xmalloc0 (sizeof (*img->layers));
  img->layers[0].digest = xstrdup (digest);
  img->layers[0].media_type = xstrdup ("application/vnd.oci.image.layer.v1.tar+gzip");
  img->layers[0].size = len;
  img->layers[0].diff_id = xstrdup (diff_id);
  img->layers[0].chain_id = xstrdup (chain);
  return img;
}

static int
count_layer_dirs (struct store *s)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd = openat (s->root_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int n = 0;

  if (fd < 0)
    return 0;
  d = fdopendir (fd);
  ck_assert_ptr_nonnull (d);
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      n++;
  return n;
}

START_TEST (test_unpack_image)
{
  cleanup_free char *root = xfmt ("%s/store", tmpdir);
  cleanup_free char *diff = NULL;
  struct store *s = NULL;
  struct store_image *img = NULL;
  mini_error_t err = NULL;
  struct archive *a = tar_new ("t.tar");
  char diff_id[72];
  struct stat st;
  int ret;

  tar_file (a, "etc/os-release", 0644, "ID=mini\n");
  tar_close (a);
  file_digest ("t.tar", diff_id);
  ck_assert (compress_file ("t.tar", "t.tar.gz", FILTER_GZIP));
  ck_assert_int_eq (store_open (root, &s, &err), 0);

  /* a wrong diff_id: nothing is published, no temporary stays behind */
  img = one_layer_image (s, "t.tar.gz",
                         "sha256:1111111111111111111111111111111111111111111111111111111111111111");
  ck_assert_int_lt (unpack_image (s, img, NULL, &err), 0);
  ck_assert_ptr_nonnull (strstr (err->msg, "diff_id mismatch"));
  mini_error_release (&err);
  ck_assert (!store_layer_exists (s, img->layers[0].chain_id));
  ck_assert_int_eq (count_layer_dirs (s), 0);
  store_image_free (img);

  img = one_layer_image (s, "t.tar.gz", diff_id);
  ret = unpack_image (s, img, NULL, &err);
  ck_assert_msg (ret == 0, "%s", err ? err->msg : "");
  ck_assert (store_layer_exists (s, img->layers[0].chain_id));
  diff = store_layer_diff_path (s, img->layers[0].chain_id);
  {
    cleanup_free char *f = xfmt ("%s/etc/os-release", diff);
    ck_assert_int_eq (stat (f, &st), 0);
    ck_assert_int_eq (st.st_size, 8);
  }
  ck_assert_int_eq (count_layer_dirs (s), 1);
  /* a second call finds it there */
  ck_assert_int_eq (unpack_image (s, img, NULL, &err), 0);
  ck_assert_int_eq (count_layer_dirs (s), 1);
  store_image_free (img);
  store_close (s);
}
END_TEST

static Suite *
unpack_fidelity_suite (void)
{
  Suite *s = suite_create ("unpack_fidelity");
  TCase *tc;

  tc = tcase_create ("content");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_tree_all_filters);
  tcase_add_test (tc, test_replace);
  tcase_add_test (tc, test_root_entry);
  tcase_add_test (tc, test_empty_layers);
  tcase_add_test (tc, test_sparse);
  tcase_add_test (tc, test_gnu_long_names);
  suite_add_tcase (s, tc);

  tc = tcase_create ("metadata");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_modes);
  tcase_add_test (tc, test_mtimes);
  tcase_add_test (tc, test_owners);
  tcase_add_test (tc, test_owner_out_of_range);
  tcase_add_test (tc, test_xattrs);
  tcase_add_test (tc, test_devices);
  tcase_add_test (tc, test_file_capabilities);
  suite_add_tcase (s, tc);

  tc = tcase_create ("diff_id");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_diff_id);
  tcase_add_test (tc, test_diff_id_trailing_data);
  suite_add_tcase (s, tc);

  tc = tcase_create ("gzip");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_gzip_multi_member);
  tcase_add_test (tc, test_gzip_trailing_garbage);
  tcase_add_test (tc, test_gzip_damaged);
  suite_add_tcase (s, tc);

  tc = tcase_create ("image");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_unpack_image);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (unpack_fidelity_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
