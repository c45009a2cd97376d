/* mini - run: the container's filesystem, built inside its own mount
 * namespace (so nothing of it is ever visible on the host): overlay of the
 * layers, /proc, /dev, /sys, the per-container /etc files, Docker's masked
 * and read-only paths, then pivot_root.
 *
 * Every target inside the rootfs is resolved with safe_openat/safe_mkdir_p
 * (openat2 RESOLVE_IN_ROOT) and mounted onto /proc/self/fd/N of the O_PATH
 * fd, as crun does: a symlink in the image can never point a mount at the
 * host.
 */
#include "run/run-private.h"

#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* Docker's masked paths (moby oci/defaults.go). */
static const char *const masked_paths[] = {
  "/proc/acpi",        "/proc/asound",     "/proc/interrupts",
  "/proc/kcore",       "/proc/keys",       "/proc/latency_stats",
  "/proc/sched_debug", "/proc/scsi",       "/proc/timer_list",
  "/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware",
};

/* Docker's read-only paths. */
static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const struct
{
  const char *name;
  unsigned maj, min;
} default_devices[] = {
  { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
  { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

char *
overlay_escape (const char *path)
{
  char *out = xmalloc (strlen (path) * 2 + 1);
  char *o = out;

  for (; *path; path++)
    {
      if (*path == '\\' || *path == ',' || *path == ':')
        *o++ = '\\';
      *o++ = *path;
    }
  *o = '\0';
  return out;
}

/* "/proc/self/fd/N" for FD, in BUF. */
static const char *
fd_path (char *buf, size_t len, int fd)
{
  snprintf (buf, len, "/proc/self/fd/%d", fd);
  return buf;
}

/* mount (2) onto the object FD refers to. */
static int
mount_on_fd (const char *source, int fd, const char *fstype, unsigned long flags,
             const char *data, const char *what, mini_error_t *err)
{
  char target[64];

  if (mount (source, fd_path (target, sizeof (target), fd), fstype, flags, data) < 0)
    return mini_error_set (err, errno, "mount %s", what);
  return 0;
}

/* Bind SRC_FD onto TARGET_FD (recursively when REC). */
static int
bind_fd (int src_fd, int target_fd, bool rec, const char *what, mini_error_t *err)
{
  char src[64];

  return mount_on_fd (fd_path (src, sizeof (src), src_fd), target_fd, NULL,
                      MS_BIND | (rec ? MS_REC : 0), NULL, what, err);
}

/* Make the mount whose root is PATH (inside ROOTFD) read-only (with its
   submounts when REC), keeping nosuid/nodev/noexec. */
static int
make_readonly (int rootfd, const char *path, bool rec, mini_error_t *err)
{
  cleanup_close int fd = -1;
  struct mount_attr attr;
  struct statvfs sv;
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  char target[64];

  fd = safe_openat (rootfd, path, O_PATH, 0, err);
  if (fd < 0)
    return mini_error_wrap (err, "open %s", path);

  memset (&attr, 0, sizeof (attr));
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (syscall (SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &attr,
               sizeof (attr))
      == 0)
    return 0;
  if (errno != ENOSYS)
    return mini_error_set (err, errno, "make %s read-only", path);

  /* Older kernels: remount the top mount only. */
  if (fstatvfs (fd, &sv) < 0)
    return mini_error_set (err, errno, "statvfs %s", path);
  if (sv.f_flag & ST_NOSUID)
    flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    flags |= MS_NOEXEC;
  if (mount (NULL, fd_path (target, sizeof (target), fd), NULL, flags, NULL) < 0)
    return mini_error_set (err, errno, "remount %s read-only", path);
  return 0;
}

/* Open (creating it and its parents when missing) the regular file PATH
   inside ROOTFD as an O_PATH fd.  A dangling symlink in its place (e.g.
   /etc/resolv.conf -> ../run/...) is replaced by an empty file: it lives in
   the container's upper layer. */
static int
open_file_target (int rootfd, const char *path, mini_error_t *err)
{
  cleanup_free char *parent = NULL;
  cleanup_close int dirfd = -1;
  cleanup_close int fd = -1;
  const char *base;
  int ret;

  ret = safe_openat (rootfd, path, O_PATH, 0, err);
  if (ret >= 0)
    return ret;
  if (mini_error_errno (*err) != ENOENT)
    return mini_error_wrap (err, "open %s", path);
  mini_error_release (err);

  base = path_split (path, &parent);
  dirfd = safe_mkdir_p (rootfd, parent, 0755, err);
  if (dirfd < 0)
    return mini_error_wrap (err, "create %s", parent);

  fd = openat (dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    {
      struct stat st;

      if (fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode)
          && unlinkat (dirfd, base, 0) == 0)
        fd = openat (dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      else
        errno = EEXIST;
    }
  if (fd < 0)
    return mini_error_set (err, errno, "create %s", path);

  ret = openat (dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (ret < 0)
    return mini_error_set (err, errno, "open %s", path);
  return ret;
}

/* Mount a filesystem of type FSTYPE on directory PATH inside ROOTFD. */
static int
mount_dir (int rootfd, const char *path, const char *source, const char *fstype,
           unsigned long flags, const char *data, mini_error_t *err)
{
  cleanup_close int fd = safe_mkdir_p (rootfd, path, 0755, err);

  if (fd < 0)
    return mini_error_wrap (err, "create mount point %s", path);
  return mount_on_fd (source, fd, fstype, flags, data, path, err);
}

/* Make directory NAME in DEVFD (our fresh tmpfs) and mount on it. */
static int
dev_mount (int devfd, const char *name, const char *source, const char *fstype,
           unsigned long flags, const char *data, mini_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *what = xfmt ("/dev/%s", name);

  if (mkdirat (devfd, name, 0755) < 0 && errno != EEXIST)
    return mini_error_set (err, errno, "mkdir %s", what);
  fd = openat (devfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return mini_error_set (err, errno, "open %s", what);
  return mount_on_fd (source, fd, fstype, flags, data, what, err);
}

static int
setup_dev (int rootfd, mini_error_t *err)
{
  cleanup_close int devfd = -1;
  static const char *const links[][2] = {
    { "fd", "/proc/self/fd" },
    { "stdin", "/proc/self/fd/0" },
    { "stdout", "/proc/self/fd/1" },
    { "stderr", "/proc/self/fd/2" },
    { "ptmx", "pts/ptmx" },
  };
  size_t i;

  if (mount_dir (rootfd, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                 "mode=755,size=65536k", err)
      < 0)
    return -1;
  devfd = safe_openat (rootfd, "/dev", O_PATH | O_DIRECTORY, 0, err);
  if (devfd < 0)
    return mini_error_wrap (err, "open /dev");

  for (i = 0; i < sizeof (default_devices) / sizeof (default_devices[0]); i++)
    {
      const char *name = default_devices[i].name;

      if (mknodat (devfd, name, S_IFCHR | 0666,
                   makedev (default_devices[i].maj, default_devices[i].min))
          == 0)
        continue;
      if (errno != EPERM)
        return mini_error_set (err, errno, "mknod /dev/%s", name);
      /* Not allowed to create devices: bind the host's node. */
      {
        cleanup_close int src = -1;
        cleanup_close int dst = -1;
        cleanup_close int tmp = -1;
        cleanup_free char *host = xfmt ("/dev/%s", name);

        tmp = openat (devfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (tmp < 0)
          return mini_error_set (err, errno, "create /dev/%s", name);
        dst = openat (devfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        src = open (host, O_PATH | O_CLOEXEC);
        if (dst < 0 || src < 0)
          return mini_error_set (err, errno, "open /dev/%s", name);
        if (bind_fd (src, dst, false, host, err) < 0)
          return -1;
      }
    }

  if (dev_mount (devfd, "pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=0620,gid=5", err)
      < 0)
    return -1;
  if (dev_mount (devfd, "shm", "shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV,
                 "mode=1777,size=65536k", err)
      < 0)
    return -1;
  if (dev_mount (devfd, "mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, err)
      < 0)
    return -1;

  for (i = 0; i < sizeof (links) / sizeof (links[0]); i++)
    if (symlinkat (links[i][1], devfd, links[i][0]) < 0 && errno != EEXIST)
      return mini_error_set (err, errno, "symlink /dev/%s", links[i][0]);
  return 0;
}

static int
setup_sys (int rootfd, mini_error_t *err)
{
  cleanup_close int fd = -1;
  struct stat st;

  fd = safe_mkdir_p (rootfd, "/sys", 0755, err);
  if (fd < 0)
    return mini_error_wrap (err, "create mount point /sys");
  if (mount_on_fd ("sysfs", fd, "sysfs", MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL,
                   "/sys", err)
      < 0)
    {
      cleanup_close int host = -1;

      if (mini_error_errno (*err) != EPERM)
        return -1;
      mini_error_release (err);
      /* Not allowed to mount a fresh sysfs: the host's, read-only. */
      host = open ("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (host < 0)
        return mini_error_set (err, errno, "open /sys");
      if (bind_fd (host, fd, true, "/sys", err) < 0)
        return -1;
      if (make_readonly (rootfd, "/sys", true, err) < 0)
        return -1;
    }

  /* /sys/fs/cgroup: the host's hierarchy, read-only (no cgroup namespace
     yet). */
  if (stat ("/sys/fs/cgroup", &st) == 0 && S_ISDIR (st.st_mode))
    {
      cleanup_close int target = -1;
      cleanup_close int host = -1;

      target = safe_openat (rootfd, "/sys/fs/cgroup", O_PATH | O_DIRECTORY, 0, err);
      if (target < 0)
        {
          if (mini_error_errno (*err) != ENOENT)
            return mini_error_wrap (err, "open /sys/fs/cgroup");
          mini_error_release (err);
          return 0;
        }
      host = open ("/sys/fs/cgroup", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (host < 0)
        return mini_error_set (err, errno, "open /sys/fs/cgroup");
      if (bind_fd (host, target, true, "/sys/fs/cgroup", err) < 0)
        return -1;
      if (make_readonly (rootfd, "/sys/fs/cgroup", true, err) < 0)
        return -1;
    }
  return 0;
}

static int
setup_masked (int rootfd, mini_error_t *err)
{
  size_t i;

  for (i = 0; i < sizeof (masked_paths) / sizeof (masked_paths[0]); i++)
    {
      cleanup_close int fd = -1;
      struct stat st;
      const char *p = masked_paths[i];

      fd = safe_openat (rootfd, p, O_PATH, 0, err);
      if (fd < 0)
        {
          if (mini_error_errno (*err) != ENOENT)
            return mini_error_wrap (err, "open masked path %s", p);
          mini_error_release (err);
          continue;
        }
      if (fstat (fd, &st) < 0)
        return mini_error_set (err, errno, "stat %s", p);
      if (S_ISDIR (st.st_mode))
        {
          if (mount_on_fd ("tmpfs", fd, "tmpfs", MS_RDONLY, NULL, p, err) < 0)
            return -1;
        }
      else
        {
          cleanup_close int null = open ("/dev/null", O_PATH | O_CLOEXEC);

          if (null < 0)
            return mini_error_set (err, errno, "open /dev/null");
          if (bind_fd (null, fd, false, p, err) < 0)
            return -1;
        }
    }

  for (i = 0; i < sizeof (readonly_paths) / sizeof (readonly_paths[0]); i++)
    {
      cleanup_close int fd = -1;
      const char *p = readonly_paths[i];

      fd = safe_openat (rootfd, p, O_PATH, 0, err);
      if (fd < 0)
        {
          if (mini_error_errno (*err) != ENOENT)
            return mini_error_wrap (err, "open read-only path %s", p);
          mini_error_release (err);
          continue;
        }
      if (bind_fd (fd, fd, true, p, err) < 0)
        return -1;
      if (make_readonly (rootfd, p, true, err) < 0)
        return -1;
    }
  return 0;
}

const char *const rootfs_etc_files[3] = { "hostname", "hosts", "resolv.conf" };

/* Bind the scratch tmpfs's hostname, hosts and resolv.conf onto /etc. */
static int
setup_etc (int rootfd, int scratchfd, mini_error_t *err)
{
  size_t i;

  for (i = 0; i < 3; i++)
    {
      cleanup_close int src = -1;
      cleanup_close int dst = -1;
      cleanup_free char *path = xfmt ("/etc/%s", rootfs_etc_files[i]);

      src = openat (scratchfd, rootfs_etc_files[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (src < 0)
        return mini_error_set (err, errno, "open %s", rootfs_etc_files[i]);
      dst = open_file_target (rootfd, path, err);
      if (dst < 0)
        return -1;
      if (bind_fd (src, dst, false, path, err) < 0)
        return -1;
    }
  return 0;
}

/* Create NAME in DIRFD holding LEN bytes of BUF (or empty when BUF is
   NULL), mode 0644. */
static int
scratch_file (int dirfd, const char *name, const char *buf, mini_error_t *err)
{
  cleanup_close int fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                 0644);

  if (fd < 0)
    return mini_error_set (err, errno, "create %s", name);
  if (buf && write_all (fd, buf, strlen (buf)) < 0)
    return mini_error_set (err, errno, "write %s", name);
  return 0;
}

/* Look NAME (an entry of the root directory) up as overlayfs does: in the
   upper dir, then in the lower dirs topmost first, a whiteout (char 0:0)
   hiding the layers below.  Paths are relative to the cwd (<root>/layers).
   Returns 2 when the upper has it, 1 when a lower has it (*ST: its stat),
   0 when the merged tree has no NAME. */
static int
layers_lookup (const struct rootfs_config *cfg, const char *name, struct stat *st)
{
  cleanup_free char *up = xfmt ("%s/%s", cfg->upper, name);
  size_t i;

  if (fstatat (AT_FDCWD, up, st, AT_SYMLINK_NOFOLLOW) == 0)
    return 2;
  for (i = 0; cfg->lowers && cfg->lowers[i]; i++)
    {
      cleanup_free char *p = xfmt ("%s/%s", cfg->lowers[i], name);

      if (fstatat (AT_FDCWD, p, st, AT_SYMLINK_NOFOLLOW) == 0)
        return S_ISCHR (st->st_mode) && st->st_rdev == 0 ? 0 : 1;
    }
  return 0;
}

/* Fill the init layer INITFD (topmost lower of the overlay) with the mount
   points the merged tree lacks: /proc, /sys, /dev, and /etc/{hostname,
   hosts,resolv.conf}.  An /etc the image has is repeated with its owner,
   mode and times (overlayfs shows the attributes of the topmost layer
   holding a directory); an /etc that is not a directory, or that the
   upper dir already holds, is left alone (setup_etc then creates what it
   needs in the upper dir, as before). */
static int
populate_init (const struct rootfs_config *cfg, int initfd, mini_error_t *err)
{
  static const char *const dirs[] = { "proc", "sys", "dev" };
  cleanup_close int etcfd = -1;
  struct stat st;
  size_t i;
  int r;

  for (i = 0; i < sizeof (dirs) / sizeof (dirs[0]); i++)
    if (layers_lookup (cfg, dirs[i], &st) == 0 && mkdirat (initfd, dirs[i], 0755) < 0)
      return mini_error_set (err, errno, "create the mount point /%s", dirs[i]);

  r = layers_lookup (cfg, "etc", &st);
  if (r == 2 || (r == 1 && !S_ISDIR (st.st_mode)))
    return 0;
  if (mkdirat (initfd, "etc", r == 1 ? st.st_mode & 07777 : 0755) < 0)
    return mini_error_set (err, errno, "create the init layer's /etc");
  etcfd = openat (initfd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (etcfd < 0)
    return mini_error_set (err, errno, "open the init layer's /etc");
  for (i = 0; i < 3; i++)
    if (scratch_file (etcfd, rootfs_etc_files[i], NULL, err) < 0)
      return -1;
  if (r == 1)
    {
      struct timespec ts[2] = { st.st_atim, st.st_mtim };

      if (fchown (etcfd, st.st_uid, st.st_gid) < 0)
        return mini_error_set (err, errno, "chown the init layer's /etc");
      if (futimens (etcfd, ts) < 0)
        return mini_error_set (err, errno, "set the times of the init layer's /etc");
    }
  return 0;
}

/* Mount the container's scratch tmpfs on cfg->scratch_rel (inside this
   mount namespace only) and fill it: the /etc files' contents, root/ (the
   overlay's mount point) and, for overlay, the init layer.  Returns an fd
   of it. */
static int
setup_scratch (const struct rootfs_config *cfg, bool overlay, mini_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_close int initfd = -1;
  size_t i;

  if (mount ("tmpfs", cfg->scratch_rel, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
             "mode=0700,size=1m,nr_inodes=64")
      < 0)
    return mini_error_set (err, errno, "mount the container's scratch tmpfs");
  fd = open (cfg->scratch_rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return mini_error_set (err, errno, "open the container's scratch tmpfs");
  for (i = 0; i < 3; i++)
    if (scratch_file (fd, rootfs_etc_files[i], cfg->etc_content[i] ? cfg->etc_content[i] : "",
                      err)
        < 0)
      return -1;
  if (!overlay)
    return steal_fd (&fd);
  if (mkdirat (fd, "root", 0755) < 0 || mkdirat (fd, "init", 0755) < 0)
    return mini_error_set (err, errno, "create the overlay's directories");
  initfd = openat (fd, "init", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (initfd < 0)
    return mini_error_set (err, errno, "open the init layer");
  if (populate_init (cfg, initfd, err) < 0)
    return -1;
  return steal_fd (&fd);
}

/* Mount the overlay on TARGET with the new mount API, one lower layer per
   fsconfig call ("lowerdir+", Linux 6.8): no option-length limit and no
   escaping.  Used when the mount (2) options do not fit in a page. */
static int
mount_overlay_fsconfig (const struct rootfs_config *cfg, const char *target, mini_error_t *err)
{
  cleanup_close int fsfd = -1;
  cleanup_close int mfd = -1;
  size_t i;

  cleanup_free char *init = xfmt ("%s/init", cfg->scratch_rel);

  fsfd = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return mini_error_set (err, errno, "fsopen overlay");
  if (fsconfig (fsfd, FSCONFIG_SET_STRING, "lowerdir+", init, 0) < 0)
    return mini_error_set (err, errno, "overlay init layer");
  for (i = 0; cfg->lowers && cfg->lowers[i]; i++)
    if (fsconfig (fsfd, FSCONFIG_SET_STRING, "lowerdir+", cfg->lowers[i], 0) < 0)
      {
        if (errno == EINVAL)
          return mini_error_set (err, E2BIG,
                                 "too many layers (%zu) for an overlay mount on this kernel",
                                 strv_len (cfg->lowers));
        return mini_error_set (err, errno, "overlay lower layer %s", cfg->lowers[i]);
      }
  if (fsconfig (fsfd, FSCONFIG_SET_STRING, "upperdir", cfg->upper, 0) < 0)
    return mini_error_set (err, errno, "overlay upperdir");
  if (fsconfig (fsfd, FSCONFIG_SET_STRING, "workdir", cfg->work, 0) < 0)
    return mini_error_set (err, errno, "overlay workdir");
  /* Kernels before 5.10 do not know it: the mount is then merely slower. */
  if (cfg->volatile_upper)
    (void) fsconfig (fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0);
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return mini_error_set (err, errno, "create the overlay rootfs");
  mfd = fsmount (fsfd, FSMOUNT_CLOEXEC, 0);
  if (mfd < 0)
    return mini_error_set (err, errno, "fsmount overlay");
  if (move_mount (mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return mini_error_set (err, errno, "move the overlay rootfs into place");
  return 0;
}

/* The overlay of the layers on TARGET: mount (2) when the options fit in
   a page, else the new mount API. */
static int
mount_overlay (const struct rootfs_config *cfg, const char *target, mini_error_t *err)
{
  if (cfg->overlay_opts)
    {
      if (mount ("overlay", target, "overlay", 0, cfg->overlay_opts) == 0)
        return 0;
      if (errno == EINVAL && cfg->volatile_upper)
        {
          /* Kernels before 5.10 have no "volatile": mount without it. */
          cleanup_free char *opts = xstrdup (cfg->overlay_opts);
          char *v = strstr (opts, ",volatile");

          if (v != NULL && v[strlen (",volatile")] == '\0')
            {
              *v = '\0';
              if (mount ("overlay", target, "overlay", 0, opts) == 0)
                return 0;
            }
        }
      return mini_error_set (err, errno, "mount overlay rootfs");
    }
  return mount_overlay_fsconfig (cfg, target, err);
}

int
rootfs_setup (const struct rootfs_config *cfg, mini_error_t *err)
{
  cleanup_close int ctr_dirfd = -1;
  cleanup_close int rootfd = -1;
  cleanup_close int scratchfd = -1;
  cleanup_free char *target = NULL;
  bool use_vfs = false;

  umask (0);

  /* Nothing we mount may propagate back to the host. */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return mini_error_set (err, errno, "make / private");

  /* Relative layer paths keep the options short: cwd is <root>/layers. */
  if (chdir (cfg->layers_dir) < 0)
    return mini_error_set (err, errno, "chdir to %s", cfg->layers_dir);
  ctr_dirfd = open (cfg->ctr_rel, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (ctr_dirfd < 0)
    return mini_error_set (err, errno, "open the container directory");
  scratchfd = setup_scratch (cfg, cfg->storage != STORAGE_VFS, err);
  if (scratchfd < 0)
    return -1;
  target = xfmt ("%s/root", cfg->scratch_rel);
  if (cfg->storage != STORAGE_VFS && mount_overlay (cfg, target, err) < 0)
    {
      if (cfg->storage == STORAGE_OVERLAY)
        return -1;
      /* No overlay here (kernel, file system of the store): a copy. */
      mini_error_release (err);
      use_vfs = true;
    }
  if (cfg->storage == STORAGE_VFS || use_vfs)
    {
      cleanup_close int layers_fd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);

      if (layers_fd < 0)
        return mini_error_set (err, errno, "open %s", cfg->layers_dir);
      free (target);
      target = xfmt ("%s/rootfs", cfg->ctr_rel);
      if (mkdirat (ctr_dirfd, "rootfs", 0755) < 0 && errno != EEXIST)
        return mini_error_set (err, errno, "create the rootfs directory");
      if (vfs_prepare_rootfs (layers_fd, cfg->lowers, ctr_dirfd, err) < 0)
        return -1;
      /* pivot_root needs a mount point */
      if (mount (target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
        return mini_error_set (err, errno, "bind the rootfs");
    }

  rootfd = open (target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (rootfd < 0)
    return mini_error_set (err, errno, "open rootfs");

  if (mount_dir (rootfd, "/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, err)
      < 0)
    return -1;
  if (setup_dev (rootfd, err) < 0)
    return -1;
  if (setup_sys (rootfd, err) < 0)
    return -1;
  if (setup_masked (rootfd, err) < 0)
    return -1;
  if (setup_etc (rootfd, scratchfd, err) < 0)
    return -1;

  {
    cleanup_close int wd = safe_mkdir_p (rootfd, cfg->working_dir, 0755, err);
    if (wd < 0)
      return mini_error_wrap (err, "create working directory %s", cfg->working_dir);
  }

  /* pivot_root (".", "."): the old root ends up on top of the new one and
     is detached right away (runc's trick, no temporary directory). */
  if (fchdir (rootfd) < 0)
    return mini_error_set (err, errno, "chdir to rootfs");
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return mini_error_set (err, errno, "pivot_root");
  if (umount2 (".", MNT_DETACH) < 0)
    return mini_error_set (err, errno, "detach the old root");
  if (chdir ("/") < 0)
    return mini_error_set (err, errno, "chdir /");
  return 0;
}
