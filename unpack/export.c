/* mini - unpack: write a directory tree (a container's root filesystem) as
 * a tar stream, the reverse of layer application (`mini export`).
 *
 * The tree is walked with fds only: every entry is reached with
 * openat/statx relative to its parent's fd and O_NOFOLLOW /
 * AT_SYMLINK_NOFOLLOW, so a symlink in the tree is written as a symlink
 * and never followed, and nothing outside ROOTFD is ever read.  Entries on
 * another mount than the root (a container's /proc, /dev, /sys, its
 * bind-mounted /etc files) are written empty and not descended into.
 */
#include "unpack/unpack.h"

#include "common/archive-loader.h"
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define EXPORT_MAX_DEPTH 4096

struct link_slot
{
  dev_t dev;
  ino_t ino;
  char *path; /* NULL: empty slot */
};

struct export
{
  struct archive *a;
  uint64_t root_mnt_id;
  dev_t root_dev;
  bool have_mnt_id;
  struct link_slot *links; /* first path of every multiply-linked file */
  size_t links_size, n_links;
  char buf[128 * 1024];
};

static void
export_free (struct export *x)
{
  size_t i;

  for (i = 0; i < x->links_size; i++)
    free (x->links[i].path);
  free (x->links);
  if (x->a)
    archive_write_free (x->a);
}
#define cleanup_export __attribute__ ((cleanup (export_free)))

static size_t
hash_inode (dev_t dev, ino_t ino)
{
  uint64_t h = (uint64_t) ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t) dev;
  return (size_t) (h ^ (h >> 29));
}

/* The path recorded for (DEV, INO), or NULL after recording PATH for it. */
static const char *
link_seen (struct export *x, dev_t dev, ino_t ino, const char *path)
{
  size_t mask, h;

  if ((x->n_links + 1) * 2 > x->links_size)
    {
      size_t i, size = x->links_size ? x->links_size * 2 : 256;
      struct link_slot *slots = xmalloc0 (size * sizeof (*slots));

      for (i = 0; i < x->links_size; i++)
        if (x->links[i].path)
          {
            h = hash_inode (x->links[i].dev, x->links[i].ino) & (size - 1);
            while (slots[h].path)
              h = (h + 1) & (size - 1);
            slots[h] = x->links[i];
          }
      free (x->links);
      x->links = slots;
      x->links_size = size;
    }
  mask = x->links_size - 1;
  for (h = hash_inode (dev, ino) & mask; x->links[h].path; h = (h + 1) & mask)
    if (x->links[h].dev == dev && x->links[h].ino == ino)
      return x->links[h].path;
  x->links[h].dev = dev;
  x->links[h].ino = ino;
  x->links[h].path = xstrdup (path);
  x->n_links++;
  return NULL;
}

static int
archive_error (struct export *x, const char *what, const char *path, mini_error_t *err)
{
  int en = archive_errno (x->a);

  return mini_error_set (err, en > 0 ? en : EIO, "export: %s `%s`: %s", what, path,
                         archive_error_string (x->a) ?: "unknown error");
}

/* Add the xattrs of the object (through FD when >= 0, else PROC, a
   /proc/self/fd path) to E.  Overlay metadata is left out.  */
static void
add_xattrs (struct archive_entry *e, int fd, const char *proc)
{
  char list[16384];
  ssize_t n, off;

  n = fd >= 0 ? flistxattr (fd, list, sizeof (list)) : llistxattr (proc, list, sizeof (list));
  for (off = 0; n > 0 && off < n; off += strlen (list + off) + 1)
    {
      const char *name = list + off;
      char value[8192];
      ssize_t vlen;

      if (strncmp (name, "trusted.overlay.", 16) == 0 || strncmp (name, "user.overlay.", 13) == 0)
        continue;
      vlen = fd >= 0 ? fgetxattr (fd, name, value, sizeof (value))
                     : lgetxattr (proc, name, value, sizeof (value));
      if (vlen >= 0)
        archive_entry_xattr_add_entry (e, name, value, vlen);
    }
}

/* Copy SIZE bytes of FD into the archive (zeros when the file shrank
   meanwhile: the header already promised SIZE).  */
static int
write_data (struct export *x, int fd, int64_t size, const char *path, mini_error_t *err)
{
  int64_t done = 0;

  while (done < size)
    {
      size_t want = size - done < (int64_t) sizeof (x->buf) ? (size_t) (size - done)
                                                            : sizeof (x->buf);
      ssize_t n = TEMP_FAILURE_RETRY (read (fd, x->buf, want));

      if (n < 0)
        return mini_error_set (err, errno, "export: read `%s`", path);
      if (n == 0)
        {
          memset (x->buf, 0, want);
          n = (ssize_t) want;
        }
      if (archive_write_data (x->a, x->buf, n) != n)
        return archive_error (x, "write", path, err);
      done += n;
    }
  return 0;
}

static int
strcmp_p (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
cleanup_entryp (struct archive_entry **e)
{
  if (*e)
    archive_entry_free (*e);
}

static int export_dir (struct export *x, int dfd, const char *rel, int depth, mini_error_t *err);

/* Write entry NAME of directory DFD (path REL in the archive).  */
static int
export_entry (struct export *x, int dfd, const char *name, const char *rel, int depth,
              mini_error_t *err)
{
  __attribute__ ((cleanup (cleanup_entryp))) struct archive_entry *e = NULL;
  cleanup_free char *proc = NULL;
  cleanup_close int fd = -1;
  struct statx stx;
  mode_t type;
  bool mount_point;
  const char *first;

  if (statx (dfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_MNT_ID, &stx) < 0)
    {
      if (errno == ENOENT)
        return 0; /* removed meanwhile (a running container) */
      return mini_error_set (err, errno, "export: stat `%s`", rel);
    }
  type = stx.stx_mode & S_IFMT;
  if (type == S_IFSOCK)
    return 0; /* tar has no sockets */
  if (x->have_mnt_id && (stx.stx_mask & STATX_MNT_ID))
    mount_point = stx.stx_mnt_id != x->root_mnt_id;
  else
    mount_point = makedev (stx.stx_dev_major, stx.stx_dev_minor) != x->root_dev;

  e = archive_entry_new ();
  archive_entry_set_pathname (e, rel);
  archive_entry_set_uid (e, stx.stx_uid);
  archive_entry_set_gid (e, stx.stx_gid);
  archive_entry_set_perm (e, stx.stx_mode & 07777);
  archive_entry_set_mtime (e, stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec);
  archive_entry_set_filetype (e, type);
  archive_entry_set_size (e, 0);

  if (mount_point && type != S_IFDIR)
    {
      /* A file bind-mounted over the rootfs (/etc/hosts): not the tree's. */
      archive_entry_set_filetype (e, AE_IFREG);
      if (archive_write_header (x->a, e) < ARCHIVE_WARN)
        return archive_error (x, "write header of", rel, err);
      return 0;
    }

  switch (type)
    {
    case S_IFREG:
      if (stx.stx_nlink > 1)
        {
          first = link_seen (x, makedev (stx.stx_dev_major, stx.stx_dev_minor), stx.stx_ino, rel);
          if (first)
            {
              archive_entry_set_hardlink (e, first);
              if (archive_write_header (x->a, e) < ARCHIVE_WARN)
                return archive_error (x, "write header of", rel, err);
              return 0;
            }
        }
      fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0)
        return mini_error_set (err, errno, "export: open `%s`", rel);
      add_xattrs (e, fd, NULL);
      archive_entry_set_size (e, (la_int64_t) stx.stx_size);
      if (archive_write_header (x->a, e) < ARCHIVE_WARN)
        return archive_error (x, "write header of", rel, err);
      return write_data (x, fd, (int64_t) stx.stx_size, rel, err);

    case S_IFDIR:
      if (!mount_point)
        {
          fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            return mini_error_set (err, errno, "export: open `%s`", rel);
          add_xattrs (e, fd, NULL);
        }
      if (archive_write_header (x->a, e) < ARCHIVE_WARN)
        return archive_error (x, "write header of", rel, err);
      if (mount_point)
        return 0;
      return export_dir (x, fd, rel, depth + 1, err);

    case S_IFLNK:
      {
        char target[PATH_MAX + 1];
        ssize_t n = readlinkat (dfd, name, target, sizeof (target) - 1);

        if (n < 0)
          return mini_error_set (err, errno, "export: readlink `%s`", rel);
        target[n] = '\0';
        archive_entry_set_symlink (e, target);
        break;
      }

    case S_IFCHR:
    case S_IFBLK:
      archive_entry_set_rdevmajor (e, stx.stx_rdev_major);
      archive_entry_set_rdevminor (e, stx.stx_rdev_minor);
      break;

    default: /* fifo */
      break;
    }

  proc = xfmt ("/proc/self/fd/%d/%s", dfd, name);
  add_xattrs (e, -1, proc);
  if (archive_write_header (x->a, e) < ARCHIVE_WARN)
    return archive_error (x, "write header of", rel, err);
  return 0;
}

/* Write the entries of directory FD (an O_RDONLY directory fd, taken) whose
   archive path is REL ("" for the root), sorted by name.  */
static int
export_dir (struct export *x, int fd, const char *rel, int depth, mini_error_t *err)
{
  cleanup_dir DIR *d = NULL;
  cleanup_strv char **names = NULL;
  struct dirent *de;
  size_t i, n = 0;

  if (depth > EXPORT_MAX_DEPTH)
    {
      close (fd);
      return mini_error_set (err, ELOOP, "export: `%s`: tree too deep", rel);
    }
  d = fdopendir (fd);
  if (d == NULL)
    {
      int en = errno;
      close (fd);
      return mini_error_set (err, en, "export: opendir `%s`", rel[0] ? rel : ".");
    }
  names = xmalloc0 (sizeof (char *));
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      {
        strv_append (&names, de->d_name);
        n++;
      }
  qsort (names, n, sizeof (char *), strcmp_p);

  for (i = 0; i < n; i++)
    {
      cleanup_free char *child = rel[0] ? xfmt ("%s/%s", rel, names[i]) : xstrdup (names[i]);

      if (export_entry (x, dirfd (d), names[i], child, depth, err) < 0)
        return -1;
    }
  return 0;
}

int
unpack_export_tree (int rootfd, int out_fd, mini_error_t *err)
{
  cleanup_export struct export x = { 0 };
  struct statx stx;
  int fd;

  if (statx (rootfd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID, &stx) < 0)
    return mini_error_set (err, errno, "export: stat the root");
  if (!S_ISDIR (stx.stx_mode))
    return mini_error_set (err, ENOTDIR, "export: the root is not a directory");
  x.root_dev = makedev (stx.stx_dev_major, stx.stx_dev_minor);
  x.have_mnt_id = (stx.stx_mask & STATX_MNT_ID) != 0;
  x.root_mnt_id = stx.stx_mnt_id;

  if (mini_archive_load (err) < 0)
    return -1;
  x.a = archive_write_new ();
  if (x.a == NULL)
    return mini_error_set (err, ENOMEM, "export: archive_write_new");
  if (archive_write_set_format_pax_restricted (x.a) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (x.a, 1) != ARCHIVE_OK
      || archive_write_open_fd (x.a, out_fd) != ARCHIVE_OK)
    return archive_error (&x, "open", "output", err);

  fd = openat (rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return mini_error_set (err, errno, "export: open the root");
  if (export_dir (&x, fd, "", 0, err) < 0)
    return -1;
  if (archive_write_close (x.a) != ARCHIVE_OK)
    return archive_error (&x, "finish", "output", err);
  return 0;
}
