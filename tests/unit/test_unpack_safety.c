/* Unit tests: unpack/ against hostile layers.  Every tar is built here with
   libarchive's write API; nothing may ever be created outside the layer
   directory.  Runs without root (and as root in CI). */
#include "unpack/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>

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
  cleanup_free char *outside = NULL;
  int fd;

  strcpy (tmpdir, "/tmp/mini-unpack-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  layer = xfmt ("%s/layer", tmpdir);
  canary = xfmt ("%s/canary", tmpdir);
  outside = xfmt ("%s/outside", tmpdir);
  ck_assert_int_eq (mkdir (layer, 0755), 0);
  ck_assert_int_eq (mkdir (canary, 0755), 0);
  fd = open (outside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (write (fd, "outside\n", 8), 8);
  close (fd);
  layerfd = open (layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge (layerfd, 0);
  safe_openat_force_fallback = false;
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

enum filter
{
  FILTER_NONE,
  FILTER_GZIP,
};

static struct archive *
tar_open (const char *rel, enum filter filter)
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, rel);
  struct archive *a = archive_write_new ();

  ck_assert_ptr_nonnull (a);
  ck_assert_int_eq (archive_write_set_format_pax_restricted (a), ARCHIVE_OK);
  if (filter == FILTER_GZIP)
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

/* Write E (consumed) with LEN bytes of DATA.  */
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
tar_dir (struct archive *a, const char *name)
{
  tar_put (a, tar_entry (name, AE_IFDIR, 0755), NULL, 0);
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

static int
apply (const char *rel, const struct unpack_limits *limits, mini_error_t *err)
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, rel);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);

  ck_assert_int_ge (fd, 0);
  return unpack_layer_apply (fd, layerfd, NULL, "sha256:hostile", limits, err);
}

/* ------------------------------------------------------------ assertions */

static void
assert_error (int ret, mini_error_t *err, const char *needle)
{
  ck_assert_int_lt (ret, 0);
  ck_assert_ptr_nonnull (*err);
  ck_assert_msg (strstr ((*err)->msg, needle) != NULL, "`%s` not in `%s`", needle, (*err)->msg);
  ck_assert_msg (strstr ((*err)->msg, "sha256:hostile") != NULL, "layer not named: `%s`",
                 (*err)->msg);
  mini_error_release (err);
}

static int
count_entries (const char *rel)
{
  cleanup_free char *path = xfmt ("%s/%s", tmpdir, rel);
  cleanup_dir DIR *d = opendir (path);
  struct dirent *de;
  int n = 0;

  ck_assert_ptr_nonnull (d);
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      n++;
  return n;
}

/* Nothing escaped: the canary dir is empty, the outside file untouched and
   nothing new appeared next to the layer dir.  */
static void
assert_contained (void)
{
  cleanup_free char *outside = xfmt ("%s/outside", tmpdir);
  struct stat st;

  ck_assert_int_eq (count_entries ("canary"), 0);
  ck_assert_int_eq (count_entries (""), 4); /* layer, canary, outside, tars */
  ck_assert_int_eq (stat (outside, &st), 0);
  ck_assert_int_eq (st.st_nlink, 1);
  ck_assert_int_eq (st.st_size, 8);
}

/* The tars live under tars/ so that assert_contained can count the top.  */
static struct archive *
tar_new (enum filter filter)
{
  cleanup_free char *dir = xfmt ("%s/tars", tmpdir);
  mkdir (dir, 0755);
  return tar_open ("tars/t.tar", filter);
}

static int
apply_new (const struct unpack_limits *limits, mini_error_t *err)
{
  return apply ("tars/t.tar", limits, err);
}

/* ------------------------------------------------------------ names */

START_TEST (test_absolute_name)
{
  mini_error_t err = NULL;
  cleanup_free char *abs = xfmt ("%s/canary/abs", tmpdir);
  struct archive *a = tar_new (FILTER_NONE);

  tar_file (a, abs, "pwned");
  tar_close (a);
  assert_error (apply_new (NULL, &err), &err, "absolute");
  ck_assert_int_eq (count_entries ("canary"), 0);
}
END_TEST

START_TEST (test_dotdot_name)
{
  static const char *const names[] = { "../x", "a/../../x", "..", "a/b/../../../canary/x",
                                       "./../canary/x" };
  size_t i;

  for (i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    {
      mini_error_t err = NULL;
      struct archive *a = tar_new (i % 2 ? FILTER_GZIP : FILTER_NONE);

      tar_file (a, names[i], "pwned");
      tar_close (a);
      assert_error (apply_new (NULL, &err), &err, "`..` component");
      assert_contained ();
    }
}
END_TEST

START_TEST (test_dotdot_names_entry)
{
  mini_error_t err = NULL;
  struct archive *a = tar_new (FILTER_NONE);

  tar_file (a, "ok", "fine");
  tar_file (a, "sub/../../x", "pwned");
  tar_close (a);
  assert_error (apply_new (NULL, &err), &err, "entry `sub/../../x`");
}
END_TEST

START_TEST (test_empty_name)
{
  mini_error_t err = NULL;
  struct archive *a = tar_new (FILTER_NONE);

  tar_file (a, "", "x");
  tar_close (a);
  ck_assert_int_lt (apply_new (NULL, &err), 0);
  ck_assert_ptr_nonnull (err);
  mini_error_release (&err);
}
END_TEST

/* ------------------------------------------------------------ symlinks */

/* Writing through a symlink (of this layer) is refused, naming the entry:
   whatever it points to, nothing appears outside (or inside) the layer.  */
static void
check_symlink_escapes (bool fallback)
{
  cleanup_free char *canary = xfmt ("%s/canary", tmpdir);
  const struct
  {
    const char *link, *target, *entry, *needle;
    bool dir; /* the entry is a directory */
  } cases[] = {
    { "evil", canary, "evil/pwned", "entry `evil/pwned`: `evil` is a symlink", false },
    { "root", "/", "root/etc/pwned", "entry `root/etc/pwned`: `root` is a symlink", false },
    { "a/b/up", "../../..", "a/b/up/canary/pwned", "`a/b/up` is a symlink", false },
    { "up1", "..", "up1/canary/pwned2", "`up1` is a symlink", false },
    { "up1", "..", "up1/outside", "`up1` is a symlink", false },
    { "self", ".", "self/x", "`self` is a symlink", false },
    { "root", "/", "root/tmp", "`root` is a symlink", true },
  };
  size_t i;

  safe_openat_force_fallback = fallback;
  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      mini_error_t err = NULL;
      struct archive *a = tar_new (i % 2 ? FILTER_GZIP : FILTER_NONE);
      struct stat st;

      tar_dir (a, "a");
      tar_dir (a, "a/b");
      tar_symlink (a, cases[i].link, cases[i].target);
      if (cases[i].dir)
        tar_dir (a, cases[i].entry);
      else
        tar_file (a, cases[i].entry, "pwned");
      tar_close (a);
      assert_error (apply_new (NULL, &err), &err, cases[i].needle);
      assert_contained ();
      /* not written inside the layer either */
      ck_assert_int_ne (fstatat (layerfd, "etc", &st, AT_SYMLINK_NOFOLLOW), 0);
      ck_assert_int_ne (fstatat (layerfd, "canary", &st, AT_SYMLINK_NOFOLLOW), 0);
      ck_assert_int_ne (fstatat (layerfd, "x", &st, AT_SYMLINK_NOFOLLOW), 0);
    }
}

START_TEST (test_symlink_escape)
{
  check_symlink_escapes (false);
}
END_TEST

START_TEST (test_symlink_escape_fallback)
{
  check_symlink_escapes (true);
}
END_TEST

/* A symlink at the last component is replaced, never written through.  */
START_TEST (test_symlink_last_component_replaced)
{
  mini_error_t err = NULL;
  cleanup_free char *target = xfmt ("%s/canary/target", tmpdir);
  cleanup_free char *outside = xfmt ("%s/outside", tmpdir);
  cleanup_free char *canary = xfmt ("%s/canary", tmpdir);
  struct archive *a = tar_new (FILTER_NONE);
  struct stat st;

  tar_symlink (a, "f", target);
  tar_file (a, "f", "data");
  tar_symlink (a, "o", outside);
  tar_file (a, "o", "data");
  tar_symlink (a, "d", canary);
  tar_dir (a, "d");
  tar_file (a, "d/x", "data");
  tar_symlink (a, "h", outside);
  tar_file (a, "src", "data");
  tar_hardlink (a, "h", "src");
  tar_close (a);

  ck_assert_int_eq (apply_new (NULL, &err), 0);
  ck_assert_int_eq (fstatat (layerfd, "f", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert (S_ISREG (st.st_mode));
  ck_assert_int_eq (fstatat (layerfd, "o", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert (S_ISREG (st.st_mode));
  ck_assert_int_eq (fstatat (layerfd, "d", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert (S_ISDIR (st.st_mode));
  ck_assert_int_eq (fstatat (layerfd, "d/x", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert_int_eq (fstatat (layerfd, "h", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert (S_ISREG (st.st_mode));
  ck_assert_int_eq (st.st_nlink, 2);
  assert_contained ();
}
END_TEST

/* ------------------------------------------------------------ hardlinks */

START_TEST (test_hardlink_escape)
{
  cleanup_free char *outside = xfmt ("%s/outside", tmpdir);
  struct
  {
    const char *target;
    const char *needle;
  } cases[] = {
    { "/etc/passwd", "absolute" },
    { outside, "absolute" },
    { "../outside", "`..` component" },
    { "a/../../outside", "`..` component" },
    { "lnk/outside", "`lnk` is a symlink" },   /* lnk -> tmpdir (absolute) */
    { "lnk2/outside", "`lnk2` is a symlink" }, /* lnk2 -> .. */
    { "missing", "not in the layer" },
  };
  struct stat passwd_before, passwd_after;
  size_t i;

  ck_assert_int_eq (stat ("/etc/passwd", &passwd_before), 0);
  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      mini_error_t err = NULL;
      struct archive *a = tar_new (FILTER_GZIP);

      tar_symlink (a, "lnk", tmpdir);
      tar_symlink (a, "lnk2", "..");
      tar_hardlink (a, "h", cases[i].target);
      tar_close (a);
      assert_error (apply_new (NULL, &err), &err, cases[i].needle);
      assert_contained ();
    }
  ck_assert_int_eq (stat ("/etc/passwd", &passwd_after), 0);
  ck_assert_int_eq (passwd_before.st_nlink, passwd_after.st_nlink);
}
END_TEST

/* A hardlink to a symlink pointing outside links the symlink, not its
   target.  */
START_TEST (test_hardlink_to_symlink)
{
  mini_error_t err = NULL;
  cleanup_free char *outside = xfmt ("%s/outside", tmpdir);
  struct archive *a = tar_new (FILTER_NONE);
  struct stat st;

  tar_symlink (a, "s", outside);
  tar_hardlink (a, "h", "s");
  tar_close (a);
  ck_assert_int_eq (apply_new (NULL, &err), 0);
  ck_assert_int_eq (fstatat (layerfd, "h", &st, AT_SYMLINK_NOFOLLOW), 0);
  ck_assert (S_ISLNK (st.st_mode));
  assert_contained ();
}
END_TEST

START_TEST (test_hardlink_to_dir)
{
  mini_error_t err = NULL;
  struct archive *a = tar_new (FILTER_NONE);

  tar_dir (a, "d");
  tar_hardlink (a, "h", "d");
  tar_close (a);
  assert_error (apply_new (NULL, &err), &err, "directory");
}
END_TEST

/* ------------------------------------------------------------ whiteouts */

START_TEST (test_whiteout_names)
{
  static const struct
  {
    const char *name;
    const char *needle;
  } cases[] = {
    { "../.wh.x", "`..` component" },
    { "a/../../.wh.x", "`..` component" },
    { ".wh.", "invalid name" },
    { "dir/.wh.", "invalid name" },
    { ".wh..", "invalid name" },
    { ".wh...", "invalid name" },
  };
  size_t i;

  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      mini_error_t err = NULL;
      struct archive *a = tar_new (FILTER_NONE);

      tar_file (a, cases[i].name, NULL);
      tar_close (a);
      assert_error (apply_new (NULL, &err), &err, cases[i].needle);
      assert_contained ();
    }
}
END_TEST

START_TEST (test_whiteout_through_symlink)
{
  mini_error_t err = NULL;
  cleanup_free char *canary = xfmt ("%s/canary", tmpdir);
  struct archive *a = tar_new (FILTER_NONE);
  int ret;

  tar_symlink (a, "s", canary);
  tar_file (a, "s/.wh.x", NULL);
  tar_file (a, "s/.wh..wh..opq", NULL);
  tar_symlink (a, "up", "..");
  tar_file (a, "up/canary/.wh.y", NULL);
  tar_close (a);
  ret = apply_new (NULL, &err);
  if (ret < 0)
    mini_error_release (&err); /* e.g. no right to set trusted.* */
  assert_contained ();
}
END_TEST

/* ------------------------------------------------------------ limits */

START_TEST (test_too_many_entries)
{
  struct unpack_limits limits = { .max_entries = 10 };
  mini_error_t err = NULL;
  struct archive *a = tar_new (FILTER_GZIP);
  int i;

  for (i = 0; i < 20; i++)
    {
      cleanup_free char *name = xfmt ("f%d", i);
      tar_file (a, name, "x");
    }
  tar_close (a);
  assert_error (apply_new (&limits, &err), &err, "too many entries");

  /* the same layer passes with a limit it fits in */
  limits.max_entries = 20;
  ck_assert_int_eq (apply_new (&limits, &err), 0);
}
END_TEST

START_TEST (test_expansion_limit)
{
  struct unpack_limits limits = { .max_bytes = 1 << 20 };
  mini_error_t err = NULL;
  cleanup_free char *zeros = xmalloc0 (4 << 20);
  cleanup_free char *tar = xfmt ("%s/tars/t.tar", tmpdir);
  struct archive *a = tar_new (FILTER_GZIP);
  struct stat st;
  int i;

  /* 64 MiB of zeros: a few hundred KiB of gzip */
  for (i = 0; i < 16; i++)
    {
      cleanup_free char *name = xfmt ("zero%d", i);
      tar_put (a, tar_entry (name, AE_IFREG, 0644), zeros, 4 << 20);
    }
  tar_close (a);
  ck_assert_int_eq (stat (tar, &st), 0);
  ck_assert_int_lt (st.st_size, 1 << 20);

  assert_error (apply_new (&limits, &err), &err, "expands beyond 1048576 bytes");
  /* nothing much was written before the refusal */
  if (fstatat (layerfd, "zero0", &st, AT_SYMLINK_NOFOLLOW) == 0)
    ck_assert_int_le (st.st_size, 1 << 20);
  ck_assert_int_ne (fstatat (layerfd, "zero1", &st, AT_SYMLINK_NOFOLLOW), 0);
}
END_TEST

/* The expansion ratio stops a gzip of zeros (at any compression level)
   long before the size limit, once past the minimum size; ordinary data
   passes the same limits.  */
START_TEST (test_expansion_ratio)
{
  static const char *const levels[] = { "1", "6", "9" };
  struct unpack_limits limits = { .max_ratio = 200, .ratio_min_bytes = 2 << 20 };
  cleanup_free char *zeros = xmalloc0 (1 << 20);
  cleanup_free char *noise = xmalloc (1 << 20);
  mini_error_t err = NULL;
  struct stat st;
  size_t i;
  int j;

  for (i = 0; i < sizeof (levels) / sizeof (levels[0]); i++)
    {
      cleanup_free char *dir = xfmt ("%s/tars", tmpdir);
      struct archive *a = archive_write_new ();

      mkdir (dir, 0755);
      archive_write_set_format_pax_restricted (a);
      archive_write_add_filter_gzip (a);
      ck_assert_int_eq (archive_write_set_filter_option (a, "gzip", "compression-level",
                                                         levels[i]),
                        ARCHIVE_OK);
      {
        cleanup_free char *path = xfmt ("%s/tars/t.tar", tmpdir);
        ck_assert_int_eq (archive_write_open_filename (a, path), ARCHIVE_OK);
      }
      /* 64 MiB of zeros in one file */
      {
        struct archive_entry *e = tar_entry ("zeros", AE_IFREG, 0644);
        archive_entry_set_size (e, 64 << 20);
        ck_assert_int_eq (archive_write_header (a, e), ARCHIVE_OK);
        for (j = 0; j < 64; j++)
          ck_assert_int_eq (archive_write_data (a, zeros, 1 << 20), 1 << 20);
        archive_entry_free (e);
      }
      tar_close (a);
      assert_error (apply_new (&limits, &err), &err, "decompression bomb");
      /* refused early: well before the 64 MiB */
      ck_assert_int_eq (fstatat (layerfd, "zeros", &st, AT_SYMLINK_NOFOLLOW), 0);
      ck_assert_int_lt (st.st_size, 16 << 20);
      ck_assert_int_eq (unlinkat (layerfd, "zeros", 0), 0);
    }

  /* 8 MiB of incompressible data with a few MiB of zeros: fine.  */
  for (i = 0; i < (1 << 20); i++)
    noise[i] = (char) (i * 2654435761u >> 13);
  {
    struct archive *a = tar_new (FILTER_GZIP);
    for (j = 0; j < 8; j++)
      {
        cleanup_free char *name = xfmt ("noise%d", j);
        noise[0] = (char) j;
        tar_put (a, tar_entry (name, AE_IFREG, 0644), noise, 1 << 20);
      }
    tar_put (a, tar_entry ("zeros", AE_IFREG, 0644), zeros, 1 << 20);
    tar_close (a);
  }
  ck_assert_msg (apply_new (&limits, &err) == 0, "%s", err ? err->msg : "");
}
END_TEST

/* A raw gzip of zeros (not even a tar) is refused by the size limit too.  */
START_TEST (test_expansion_limit_raw)
{
  struct unpack_limits limits = { .max_bytes = 1 << 20 };
  mini_error_t err = NULL;
  cleanup_free char *zeros = xmalloc0 (8 << 20);
  cleanup_free char *dir = xfmt ("%s/tars", tmpdir);
  cleanup_free char *path = xfmt ("%s/tars/t.tar", tmpdir);
  struct archive *a = archive_write_new ();
  struct archive_entry *e = archive_entry_new ();

  mkdir (dir, 0755);
  archive_write_set_format_raw (a);
  archive_write_add_filter_gzip (a);
  ck_assert_int_eq (archive_write_open_filename (a, path), ARCHIVE_OK);
  archive_entry_set_filetype (e, AE_IFREG);
  ck_assert_int_eq (archive_write_header (a, e), ARCHIVE_OK);
  ck_assert_int_eq (archive_write_data (a, zeros, 8 << 20), 8 << 20);
  archive_entry_free (e);
  tar_close (a);
  ck_assert_int_lt (apply_new (&limits, &err), 0);
  ck_assert_ptr_nonnull (err);
  mini_error_release (&err);
}
END_TEST

/* ------------------------------------------------------------ garbage */

START_TEST (test_not_a_tar)
{
  mini_error_t err = NULL;
  cleanup_free char *dir = xfmt ("%s/tars", tmpdir);
  cleanup_free char *path = xfmt ("%s/tars/t.tar", tmpdir);
  cleanup_close int fd = -1;
  char junk[4096];
  size_t i;

  mkdir (dir, 0755);
  for (i = 0; i < sizeof (junk); i++)
    junk[i] = (char) (i * 7 + 3);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (write (fd, junk, sizeof (junk)), (ssize_t) sizeof (junk));
  ck_assert_int_lt (apply_new (NULL, &err), 0);
  ck_assert_ptr_nonnull (err);
  mini_error_release (&err);
}
END_TEST

START_TEST (test_truncated_gzip)
{
  mini_error_t err = NULL;
  cleanup_free char *path = xfmt ("%s/tars/t.tar", tmpdir);
  cleanup_free char *data = xmalloc (256 << 10);
  struct archive *a = tar_new (FILTER_GZIP);
  struct stat st;
  size_t i;

  for (i = 0; i < (256 << 10); i++)
    data[i] = (char) (i * 2654435761u >> 13);
  tar_put (a, tar_entry ("big", AE_IFREG, 0644), data, 256 << 10);
  tar_file (a, "after", "x");
  tar_close (a);
  ck_assert_int_eq (stat (path, &st), 0);
  ck_assert_int_eq (truncate (path, st.st_size / 2), 0);
  ck_assert_int_lt (apply_new (NULL, &err), 0);
  ck_assert_ptr_nonnull (err);
  ck_assert_ptr_nonnull (strstr (err->msg, "sha256:hostile"));
  mini_error_release (&err);
}
END_TEST

static Suite *
unpack_safety_suite (void)
{
  Suite *s = suite_create ("unpack_safety");
  TCase *tc;

  tc = tcase_create ("names");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_absolute_name);
  tcase_add_test (tc, test_dotdot_name);
  tcase_add_test (tc, test_dotdot_names_entry);
  tcase_add_test (tc, test_empty_name);
  suite_add_tcase (s, tc);

  tc = tcase_create ("symlinks");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_symlink_escape);
  tcase_add_test (tc, test_symlink_escape_fallback);
  tcase_add_test (tc, test_symlink_last_component_replaced);
  suite_add_tcase (s, tc);

  tc = tcase_create ("hardlinks");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_hardlink_escape);
  tcase_add_test (tc, test_hardlink_to_symlink);
  tcase_add_test (tc, test_hardlink_to_dir);
  suite_add_tcase (s, tc);

  tc = tcase_create ("whiteouts");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_whiteout_names);
  tcase_add_test (tc, test_whiteout_through_symlink);
  suite_add_tcase (s, tc);

  tc = tcase_create ("limits");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_too_many_entries);
  tcase_add_test (tc, test_expansion_limit);
  tcase_add_test (tc, test_expansion_limit_raw);
  tcase_add_test (tc, test_expansion_ratio);
  tcase_add_test (tc, test_not_a_tar);
  tcase_add_test (tc, test_truncated_gzip);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (unpack_safety_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
