/* mini - run: storage drivers for a container's root filesystem.
 *
 * overlay (the default): the layers are the lower directories of an
 * overlay mounted inside the container's mount namespace (rootfs.c).
 *
 * vfs (--storage-driver vfs, or automatically when the overlay cannot be
 * mounted): containers/<id>/rootfs is a full copy of the layers, made once
 * by flattening the layer directories bottom-most first (overlay whiteouts
 * delete, opaque directories lose their lower content; file data is
 * reflinked when the file system can, else copied in the kernel), then
 * bind-mounted onto itself as the root.  The container writes straight
 * into it.
 *
 * The choice is recorded in the container directory: `storage-driver`
 * holds what was asked ("overlay" or "vfs"; absent: automatic) and
 * `vfs-rootfs` exists once rootfs/ is a complete copy.
 *
 * Every path inside a layer or rootfs is reached relative to a directory
 * fd with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW: the copy never follows a
 * symlink of the image.
 */
#include "run/run-private.h"

#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define STORAGE_DRIVER_FILE "storage-driver"
#define VFS_MARKER "vfs-rootfs"
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"
#define COPY_MAX_DEPTH 4096

/* ---------------------------------------------------------------- the choice */

int
run_container_set_storage_driver (struct store *s, const struct store_container *c,
                                  const char *driver, mini_error_t *err)
{
  cleanup_close int dirfd = -1;

  if (driver == NULL)
    return 0;
  if (strcmp (driver, RUN_STORAGE_OVERLAY) != 0 && strcmp (driver, RUN_STORAGE_VFS) != 0)
    return mini_error_set (err, EINVAL, "unknown storage driver `%s` (overlay or vfs)", driver);
  if (store_container_dir (s, c->id, &dirfd, err) < 0)
    return -1;
  return write_file_atomic_at (dirfd, STORAGE_DRIVER_FILE, driver, strlen (driver), 0644, err);
}

enum storage_driver
storage_driver_get (int ctr_dirfd)
{
  char buf[16];
  ssize_t n;
  cleanup_close int fd = -1;
  struct stat st;

  if (fstatat (ctr_dirfd, VFS_MARKER, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return STORAGE_VFS;
  fd = openat (ctr_dirfd, STORAGE_DRIVER_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return STORAGE_AUTO;
  n = read_all (fd, buf, sizeof (buf) - 1);
  if (n <= 0)
    return STORAGE_AUTO;
  buf[n] = '\0';
  if (strcmp (buf, RUN_STORAGE_VFS) == 0)
    return STORAGE_VFS;
  if (strcmp (buf, RUN_STORAGE_OVERLAY) == 0)
    return STORAGE_OVERLAY;
  return STORAGE_AUTO;
}

/* ---------------------------------------------------------------- copying */

struct inode_slot
{
  dev_t dev;
  ino_t ino;
  char *path; /* in the destination, relative to its root */
};

/* One layer being copied: hardlinks are kept by inode.  */
struct copy
{
  int dst_root;
  struct inode_slot *slots;
  size_t size, n;
};

static void
copy_clear (struct copy *c)
{
  size_t i;

  for (i = 0; i < c->size; i++)
    free (c->slots[i].path);
  free (c->slots);
  c->slots = NULL;
  c->size = c->n = 0;
}

/* The destination path recorded for the source inode (DEV, INO), or NULL
   after recording PATH.  */
static const char *
inode_seen (struct copy *c, dev_t dev, ino_t ino, const char *path)
{
  size_t mask, h;

  if ((c->n + 1) * 2 > c->size)
    {
      size_t i, size = c->size ? c->size * 2 : 256;
      struct inode_slot *slots = xmalloc0 (size * sizeof (*slots));

      for (i = 0; i < c->size; i++)
        if (c->slots[i].path)
          {
            h = (size_t) (c->slots[i].ino * 0x9e3779b97f4a7c15ULL) & (size - 1);
            while (slots[h].path)
              h = (h + 1) & (size - 1);
            slots[h] = c->slots[i];
          }
      free (c->slots);
      c->slots = slots;
      c->size = size;
    }
  mask = c->size - 1;
  for (h = (size_t) (ino * 0x9e3779b97f4a7c15ULL) & mask; c->slots[h].path; h = (h + 1) & mask)
    if (c->slots[h].dev == dev && c->slots[h].ino == ino)
      return c->slots[h].path;
  c->slots[h].dev = dev;
  c->slots[h].ino = ino;
  c->slots[h].path = xstrdup (path);
  c->n++;
  return NULL;
}

static void
copy_xattrs (int sfd, const char *sname, int dfd, const char *dname)
{
  cleanup_free char *src = xfmt ("/proc/self/fd/%d/%s", sfd, sname);
  cleanup_free char *dst = xfmt ("/proc/self/fd/%d/%s", dfd, dname);
  char list[16384];
  ssize_t n, off;

  n = llistxattr (src, list, sizeof (list));
  for (off = 0; n > 0 && off < n; off += strlen (list + off) + 1)
    {
      const char *name = list + off;
      char value[8192];
      ssize_t vlen;

      if (strncmp (name, "trusted.overlay.", 16) == 0 || strncmp (name, "user.overlay.", 13) == 0)
        continue;
      vlen = lgetxattr (src, name, value, sizeof (value));
      if (vlen >= 0)
        (void) lsetxattr (dst, name, value, vlen, 0);
    }
}

/* Owner, mode, xattrs and times of ST onto NAME in DFD (not followed).  */
static int
copy_meta (int sfd, const char *sname, const struct stat *st, int dfd, const char *dname,
           const char *path, mini_error_t *err)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };

  if (fchownat (dfd, dname, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM)
    return mini_error_set (err, errno, "vfs: chown `%s`", path);
  copy_xattrs (sfd, sname, dfd, dname);
  /* after chown, which clears setuid/setgid */
  if (!S_ISLNK (st->st_mode) && fchmodat (dfd, dname, st->st_mode & 07777, 0) < 0)
    return mini_error_set (err, errno, "vfs: chmod `%s`", path);
  if (utimensat (dfd, dname, times, AT_SYMLINK_NOFOLLOW) < 0)
    return mini_error_set (err, errno, "vfs: set times of `%s`", path);
  return 0;
}

static int
copy_file_data (int in, int out)
{
  char buf[65536];

  if (ioctl (out, FICLONE, in) == 0)
    return 0;
  for (;;)
    {
      ssize_t n = copy_file_range (in, NULL, out, NULL, 1 << 30, 0);
      if (n == 0)
        return 0;
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return -1;
          break;
        }
    }
  for (;;)
    {
      ssize_t n = TEMP_FAILURE_RETRY (read (in, buf, sizeof (buf)));
      if (n <= 0)
        return (int) n;
      if (write_all (out, buf, n) < 0)
        return -1;
    }
}

/* Remove NAME from DFD, whatever it is.  */
static int
remove_entry (int dfd, const char *name, const char *path, mini_error_t *err)
{
  if (remove_tree_at (dfd, name, err) < 0)
    return mini_error_wrap (err, "vfs: replace `%s`", path);
  return 0;
}

/* Remove everything inside the directory DFD.  */
static int
clear_dir (int dfd, const char *path, mini_error_t *err)
{
  cleanup_close int fd = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  cleanup_strv char **names = NULL;
  struct dirent *de;
  size_t i;

  if (fd < 0)
    return mini_error_set (err, errno, "vfs: open `%s`", path);
  d = fdopendir (fd);
  if (d == NULL)
    return mini_error_set (err, errno, "vfs: opendir `%s`", path);
  fd = -1;
  names = xmalloc0 (sizeof (char *));
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      strv_append (&names, de->d_name);
  for (i = 0; names[i]; i++)
    if (remove_entry (dirfd (d), names[i], path, err) < 0)
      return -1;
  return 0;
}

static int copy_tree (struct copy *c, int sfd, int dfd, const char *path, int depth,
                      mini_error_t *err);

/* Copy entry NAME of the layer directory SFD onto DFD (PATH in the rootfs). */
static int
copy_entry (struct copy *c, int sfd, int dfd, const char *name, const char *path, int depth,
            mini_error_t *err)
{
  struct stat st, dst;
  bool dst_exists;

  if (fstatat (sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return mini_error_set (err, errno, "vfs: stat layer entry `%s`", path);
  dst_exists = fstatat (dfd, name, &dst, AT_SYMLINK_NOFOLLOW) == 0;

  /* an overlay whiteout: the lower path goes */
  if (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0))
    return dst_exists ? remove_entry (dfd, name, path, err) : 0;

  if (S_ISDIR (st.st_mode))
    {
      cleanup_close int s2 = -1;
      cleanup_close int d2 = -1;
      char v = 0;

      if (dst_exists && !S_ISDIR (dst.st_mode))
        {
          if (remove_entry (dfd, name, path, err) < 0)
            return -1;
          dst_exists = false;
        }
      if (!dst_exists && mkdirat (dfd, name, 0700) < 0)
        return mini_error_set (err, errno, "vfs: mkdir `%s`", path);
      s2 = openat (sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      d2 = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (s2 < 0 || d2 < 0)
        return mini_error_set (err, errno, "vfs: open `%s`", path);
      /* an opaque directory hides what the lower layers had in it */
      if (dst_exists && fgetxattr (s2, OVERLAY_OPAQUE_XATTR, &v, 1) == 1 && v == 'y'
          && clear_dir (d2, path, err) < 0)
        return -1;
      if (copy_tree (c, s2, d2, path, depth + 1, err) < 0)
        return -1;
      /* the directory's own metadata once its content is in (0555) */
      return copy_meta (sfd, name, &st, dfd, name, path, err);
    }

  if (dst_exists && remove_entry (dfd, name, path, err) < 0)
    return -1;

  if (S_ISREG (st.st_mode) && st.st_nlink > 1)
    {
      const char *first = inode_seen (c, st.st_dev, st.st_ino, path);
      if (first)
        {
          cleanup_free char *parent = NULL;
          cleanup_close int pfd = -1;
          const char *base = path_split (first, &parent);

          pfd = safe_openat (c->dst_root, parent, O_PATH | O_DIRECTORY, 0, err);
          if (pfd < 0)
            return mini_error_wrap (err, "vfs: link `%s`", path);
          if (linkat (pfd, base, dfd, name, 0) < 0)
            return mini_error_set (err, errno, "vfs: link `%s` to `%s`", path, first);
          return 0;
        }
    }

  switch (st.st_mode & S_IFMT)
    {
    case S_IFREG:
      {
        cleanup_close int in = openat (sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        cleanup_close int out = -1;

        if (in < 0)
          return mini_error_set (err, errno, "vfs: open layer file `%s`", path);
        out = openat (dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
          return mini_error_set (err, errno, "vfs: create `%s`", path);
        if (copy_file_data (in, out) < 0)
          return mini_error_set (err, errno, "vfs: copy `%s`", path);
        break;
      }
    case S_IFLNK:
      {
        char target[4097];
        ssize_t n = readlinkat (sfd, name, target, sizeof (target) - 1);

        if (n < 0)
          return mini_error_set (err, errno, "vfs: readlink `%s`", path);
        target[n] = '\0';
        if (symlinkat (target, dfd, name) < 0)
          return mini_error_set (err, errno, "vfs: symlink `%s`", path);
        break;
      }
    default:
      if (mknodat (dfd, name, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0)
        return mini_error_set (err, errno, "vfs: mknod `%s`", path);
      break;
    }
  return copy_meta (sfd, name, &st, dfd, name, path, err);
}

/* Copy the content of the layer directory SFD onto DFD (PATH).  */
static int
copy_tree (struct copy *c, int sfd, int dfd, const char *path, int depth, mini_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (depth > COPY_MAX_DEPTH)
    return mini_error_set (err, ELOOP, "vfs: `%s`: tree too deep", path);
  fd = openat (sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return mini_error_set (err, errno, "vfs: open layer dir `%s`", path);
  d = fdopendir (fd);
  if (d == NULL)
    return mini_error_set (err, errno, "vfs: opendir `%s`", path);
  fd = -1;
  while ((de = readdir (d)))
    {
      cleanup_free char *child = NULL;

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      child = path[0] ? xfmt ("%s/%s", path, de->d_name) : xstrdup (de->d_name);
      if (copy_entry (c, dirfd (d), dfd, de->d_name, child, depth, err) < 0)
        return -1;
    }
  return 0;
}

int
vfs_flatten_layers (int base_dirfd, char *const *lowers, int dst_dirfd, mini_error_t *err)
{
  size_t n = strv_len (lowers), i;

  for (i = n; i > 0; i--)
    {
      struct copy c = { .dst_root = dst_dirfd };
      cleanup_close int sfd = -1;
      struct stat st;
      int r;

      sfd = openat (base_dirfd, lowers[i - 1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (sfd < 0)
        return mini_error_set (err, errno, "vfs: open layer `%s`", lowers[i - 1]);
      r = copy_tree (&c, sfd, dst_dirfd, "", 0, err);
      copy_clear (&c);
      if (r < 0)
        return mini_error_wrap (err, "layer %s", lowers[i - 1]);
      /* the root takes the topmost layer's metadata, as in the overlay */
      if (fstat (sfd, &st) == 0)
        {
          struct timespec times[2] = { st.st_atim, st.st_mtim };
          if (fchown (dst_dirfd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
            return mini_error_set (err, errno, "vfs: chown the root");
          if (fchmod (dst_dirfd, st.st_mode & 07777) < 0)
            return mini_error_set (err, errno, "vfs: chmod the root");
          (void) futimens (dst_dirfd, times);
        }
    }
  return 0;
}

int
vfs_prepare_rootfs (int base_dirfd, char *const *lowers, int ctr_dirfd, mini_error_t *err)
{
  cleanup_close int rootfd = -1;
  cleanup_close int marker = -1;
  struct stat st;

  if (fstatat (ctr_dirfd, VFS_MARKER, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return 0; /* copied before */
  rootfd = openat (ctr_dirfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (rootfd < 0)
    return mini_error_set (err, errno, "vfs: open rootfs");
  /* whatever an interrupted copy left */
  if (clear_dir (rootfd, "rootfs", err) < 0)
    return -1;
  if (vfs_flatten_layers (base_dirfd, lowers, rootfd, err) < 0)
    return mini_error_wrap (err, "copy the layers into the rootfs (vfs storage driver)");
  marker = openat (ctr_dirfd, VFS_MARKER, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (marker < 0)
    return mini_error_set (err, errno, "vfs: mark the rootfs complete");
  return 0;
}

/* ---------------------------------------------------------------- reading a rootfs */

/* A detached, read-only overlay of LAYERS (NULL terminated, topmost
   first, absolute, at least two): mounted nowhere, so nothing of it is
   visible in any mount table; it goes away with the last fd.  Needs
   fsconfig "lowerdir+" (Linux 6.8).  */
static int
overlay_detached (char *const *layers, int *ret_fd, mini_error_t *err)
{
  cleanup_close int fsfd = -1;
  cleanup_close int mfd = -1;
  size_t i;
  int fd;

  fsfd = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return mini_error_set (err, errno, "fsopen overlay");
  for (i = 0; layers[i]; i++)
    if (fsconfig (fsfd, FSCONFIG_SET_STRING, "lowerdir+", layers[i], 0) < 0)
      return mini_error_set (err, errno, "overlay lower layer %s", layers[i]);
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return mini_error_set (err, errno, "create the overlay");
  mfd = fsmount (fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (mfd < 0)
    return mini_error_set (err, errno, "fsmount overlay");
  fd = openat (mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return mini_error_set (err, errno, "open the overlay");
  *ret_fd = fd;
  return 0;
}

void
run_rootfs_close (struct run_rootfs *r)
{
  mini_error_t tmp_err = NULL;

  if (r->fd >= 0)
    close (r->fd);
  r->fd = -1;
  if (r->tmp_parent_fd >= 0 && r->tmp_name)
    {
      remove_tree_at (r->tmp_parent_fd, r->tmp_name, &tmp_err);
      mini_error_release (&tmp_err);
    }
  if (r->tmp_parent_fd >= 0)
    close (r->tmp_parent_fd);
  r->tmp_parent_fd = -1;
  free (r->tmp_name);
  r->tmp_name = NULL;
}

int
run_container_rootfs_open (struct store *s, struct store_container *c, struct run_rootfs *ret,
                           mini_error_t *err)
{
  cleanup_close int ctr_dirfd = -1;
  cleanup_strv char **layers = NULL;
  cleanup_free char *ctr_path = NULL;
  cleanup_free char *tmp = NULL;
  cleanup_close int tmpfd = -1;
  size_t n = strv_len (c->layers), i;
  struct stat st;
  char rnd[17];
  int fd;

  ret->fd = -1;
  ret->tmp_parent_fd = -1;
  ret->tmp_name = NULL;

  if (run_container_is_running (s, c))
    {
      /* The merged tree lives in the container's mount namespace only. */
      cleanup_free char *proc = xfmt ("/proc/%d/root", (int) c->pid);

      fd = open (proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return mini_error_set (err, errno, "open the root of container %s", c->id);
      if (proc_start_time (c->pid) != c->pid_start_time)
        {
          close (fd);
          return mini_error_set (err, ESRCH, "container %s stopped meanwhile", c->id);
        }
      ret->fd = fd;
      return 0;
    }

  if (store_container_dir (s, c->id, &ctr_dirfd, err) < 0)
    return -1;
  if (fstatat (ctr_dirfd, VFS_MARKER, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      fd = openat (ctr_dirfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return mini_error_set (err, errno, "open the rootfs of container %s", c->id);
      ret->fd = fd;
      return 0;
    }

  /* overlay: the container's upper directory over the image's layers */
  ctr_path = store_container_path (s, c->id);
  layers = xmalloc0 (sizeof (char *));
  if (fstatat (ctr_dirfd, "upper", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
    {
      cleanup_free char *upper = xfmt ("%s/upper", ctr_path);
      strv_append (&layers, upper);
    }
  for (i = n; i > 0; i--)
    {
      cleanup_free char *p = NULL;

      if (!digest_is_valid (c->layers[i - 1]) || !store_layer_exists (s, c->layers[i - 1]))
        return mini_error_set (err, ENOENT, "layer %s of container %s is missing from the store",
                               c->layers[i - 1], c->id);
      p = store_layer_diff_path (s, c->layers[i - 1]);
      strv_append (&layers, p);
    }
  if (strv_len (layers) >= 2)
    {
      mini_error_t tmp_err = NULL;

      if (overlay_detached (layers, &ret->fd, &tmp_err) == 0)
        return 0;
      /* An older kernel (no lowerdir+): flatten a private copy instead.  */
      mini_error_release (&tmp_err);
    }

  if (random_hex (rnd, 8, err) < 0)
    return -1;
  tmp = xfmt ("export-%s", rnd);
  if (mkdirat (ctr_dirfd, tmp, 0700) < 0)
    return mini_error_set (err, errno, "create %s", tmp);
  tmpfd = openat (ctr_dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (tmpfd < 0 || vfs_flatten_layers (AT_FDCWD, layers, tmpfd, err) < 0)
    {
      mini_error_t tmp_err = NULL;
      if (tmpfd < 0)
        mini_error_set (err, errno, "open %s", tmp);
      remove_tree_at (ctr_dirfd, tmp, &tmp_err);
      mini_error_release (&tmp_err);
      return -1;
    }
  ret->fd = steal_fd (&tmpfd);
  ret->tmp_parent_fd = steal_fd (&ctr_dirfd);
  ret->tmp_name = steal_pointer (&tmp);
  return 0;
}
