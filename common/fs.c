/* mini - file-system helpers: full I/O, atomic writes, safe in-root path
   resolution (openat2 RESOLVE_IN_ROOT with a manual fallback). */
#include "common/common.h"

#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

bool safe_openat_force_fallback = false;

int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t w = TEMP_FAILURE_RETRY (write (fd, p, len));
      if (w < 0)
        return -1;
      p += w;
      len -= w;
    }
  return 0;
}

ssize_t
read_all (int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t got = 0;
  while (got < len)
    {
      ssize_t r = TEMP_FAILURE_RETRY (read (fd, p + got, len - got));
      if (r < 0)
        return -1;
      if (r == 0)
        break;
      got += r;
    }
  return got;
}

int
read_file_at (int dirfd, const char *path, char **ret_buf, size_t *ret_len, size_t max_len,
              mini_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;

  if (max_len == 0)
    max_len = 64 << 20;
  fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return mini_error_set (err, errno, "open `%s`", path);
  for (;;)
    {
      ssize_t r;
      if (cap - len < 4096)
        {
          cap = cap ? cap * 2 : 8192;
          buf = xrealloc (buf, cap + 1);
        }
      r = TEMP_FAILURE_RETRY (read (fd, buf + len, cap - len));
      if (r < 0)
        return mini_error_set (err, errno, "read `%s`", path);
      if (r == 0)
        break;
      len += r;
      if (len > max_len)
        return mini_error_set (err, EFBIG, "read `%s`: larger than %zu bytes", path, max_len);
    }
  buf = xrealloc (buf, len + 1);
  buf[len] = '\0';
  if (ret_len)
    *ret_len = len;
  *ret_buf = steal_pointer (&buf);
  return 0;
}

const char *
path_split (const char *path, char **ret_parent)
{
  size_t len = strlen (path);
  const char *slash;
  cleanup_free char *copy = NULL;

  while (len > 1 && path[len - 1] == '/')
    len--;
  copy = xstrndup (path, len);
  slash = strrchr (copy, '/');
  if (slash == NULL)
    {
      *ret_parent = xstrdup (".");
      return path;
    }
  if (slash == copy)
    *ret_parent = xstrdup ("/");
  else
    *ret_parent = xstrndup (copy, slash - copy);
  return path + (slash - copy) + 1;
}

int
write_file_atomic_at (int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                      mini_error_t *err)
{
  return write_file_atomic_at_flags (dirfd, path, buf, len, mode, true, err);
}

int
write_file_atomic_at_flags (int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                            bool durable, mini_error_t *err)
{
  cleanup_free char *tmp = NULL;
  cleanup_close int fd = -1;
  char rnd[17];
  int ret;

  ret = random_hex (rnd, 8, err);
  if (ret < 0)
    return ret;
  tmp = xfmt ("%s.tmp-%s", path, rnd);
  fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return mini_error_set (err, errno, "create `%s`", tmp);
  if (write_all (fd, buf, len) < 0 || (durable && fsync (fd) < 0))
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return mini_error_set (err, e, "write `%s`", tmp);
    }
  if (fchmod (fd, mode) < 0)
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return mini_error_set (err, e, "chmod `%s`", tmp);
    }
  if (renameat (dirfd, tmp, dirfd, path) < 0)
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return mini_error_set (err, e, "rename `%s` to `%s`", tmp, path);
    }
  return 0;
}

int
mkdir_p_at (int dirfd, const char *path, mode_t mode, mini_error_t *err)
{
  cleanup_free char *p = xstrdup (path);
  char *s;

  for (s = p + 1; *s; s++)
    {
      if (*s != '/')
        continue;
      *s = '\0';
      if (mkdirat (dirfd, p, mode) < 0 && errno != EEXIST)
        return mini_error_set (err, errno, "mkdir `%s`", p);
      *s = '/';
    }
  if (mkdirat (dirfd, p, mode) < 0 && errno != EEXIST)
    return mini_error_set (err, errno, "mkdir `%s`", p);
  return 0;
}

static int
remove_tree_fd (int parentfd, const char *name, dev_t dev, int depth, mini_error_t *err)
{
  struct stat st;
  cleanup_close int fd = -1;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (depth > 4096)
    return mini_error_set (err, ELOOP, "remove `%s`: tree too deep", name);
  if (fstatat (parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return mini_error_set (err, errno, "stat `%s`", name);
    }
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (parentfd, name, 0) < 0 && errno != ENOENT)
        return mini_error_set (err, errno, "remove `%s`", name);
      return 0;
    }
  if (dev != 0 && st.st_dev != dev)
    return mini_error_set (err, EXDEV, "remove `%s`: it is a mount point", name);
  if (unlinkat (parentfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
    return 0;
  fd = openat (parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == EACCES)
        {
          /* a 0000 directory: make it readable first */
          fchmodat (parentfd, name, 0700, 0);
          fd = openat (parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (fd < 0)
        return mini_error_set (err, errno, "open `%s`", name);
    }
  d = fdopendir (fd);
  if (d == NULL)
    return mini_error_set (err, errno, "opendir `%s`", name);
  fd = -1; /* owned by d */
  while ((de = readdir (d)))
    {
      int ret;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      ret = remove_tree_fd (dirfd (d), de->d_name, st.st_dev, depth + 1, err);
      if (ret < 0)
        return ret;
    }
  if (unlinkat (parentfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return mini_error_set (err, errno, "remove `%s`", name);
  return 0;
}

int
remove_tree_at (int dirfd, const char *name, mini_error_t *err)
{
  return remove_tree_fd (dirfd, name, 0, 0, err);
}

/* ------------------------------------------------------------ safe_openat */

static int
openat2_in_root (int rootfd, const char *path, int flags, mode_t mode)
{
  struct open_how how = { 0 };
  how.flags = flags;
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return syscall (SYS_openat2, rootfd, path, &how, sizeof (how));
}

/* Fallback: walk PATH one component at a time with O_NOFOLLOW, resolving
   symlinks by hand against ROOTFD.  ".." never goes above the root. */
static int
walk_in_root (int rootfd, const char *path, int flags, mode_t mode)
{
  cleanup_free char *todo = xstrdup (path);
  int stack[PATH_MAX / 2];
  int depth = 0, links = 0, i;
  int cur;
  int result = -1;
  char *rest;

  cur = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  if (cur < 0)
    return -1;
  rest = todo;
  for (;;)
    {
      char *comp, *slash;
      int fd;
      struct stat st;
      bool last;

      while (*rest == '/')
        rest++;
      if (*rest == '\0')
        {
          /* Path resolved to a directory (cur): reopen with FLAGS.  */
          result = openat (cur, ".", (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC, mode);
          break;
        }
      comp = rest;
      slash = strchr (rest, '/');
      if (slash)
        {
          *slash = '\0';
          rest = slash + 1;
        }
      else
        rest = comp + strlen (comp);
      last = slash == NULL || rest[strspn (rest, "/")] == '\0';

      if (strcmp (comp, ".") == 0)
        continue;
      if (strcmp (comp, "..") == 0)
        {
          if (depth > 0)
            {
              close (cur);
              cur = stack[--depth];
            }
          if (last)
            {
              result = openat (cur, ".", (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC, mode);
              break;
            }
          continue;
        }

      fd = openat (cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0 && fstat (fd, &st) == 0 && S_ISLNK (st.st_mode)
          && !(last && (flags & O_NOFOLLOW)))
        {
          char target[PATH_MAX];
          ssize_t n = readlinkat (fd, "", target, sizeof (target) - 1);
          close (fd);
          if (n < 0)
            break;
          target[n] = '\0';
          if (++links > 40)
            {
              errno = ELOOP;
              break;
            }
          {
            char *nt = xfmt ("%s/%s", target, rest);
            free (todo);
            todo = nt;
            rest = todo;
          }
          if (target[0] == '/')
            {
              while (depth > 0)
                close (stack[--depth]);
              close (cur);
              cur = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
              if (cur < 0)
                break;
            }
          continue;
        }
      if (last)
        {
          if (fd >= 0)
            close (fd);
          result = openat (cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
          if (result < 0 && errno == ELOOP && (flags & O_PATH))
            result = openat (cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
          break;
        }
      if (fd < 0)
        break;
      if (depth >= (int) (sizeof (stack) / sizeof (stack[0])))
        {
          close (fd);
          errno = ENAMETOOLONG;
          break;
        }
      stack[depth++] = cur;
      cur = fd;
    }
  {
    int saved = errno;
    for (i = 0; i < depth; i++)
      close (stack[i]);
    if (cur >= 0)
      close (cur);
    errno = saved;
  }
  return result;
}

int
safe_openat (int rootfd, const char *path, int flags, mode_t mode, mini_error_t *err)
{
  int fd = -1;
  flags |= O_CLOEXEC;
  if (!safe_openat_force_fallback)
    {
      fd = TEMP_FAILURE_RETRY (openat2_in_root (rootfd, path, flags, mode));
      if (fd >= 0)
        return fd;
      if (errno == EAGAIN)
        fd = TEMP_FAILURE_RETRY (openat2_in_root (rootfd, path, flags, mode));
      if (fd >= 0)
        return fd;
      if (errno != ENOSYS)
        return mini_error_set (err, errno, "open `%s` in root", path);
    }
  fd = walk_in_root (rootfd, path, flags, mode);
  if (fd < 0)
    return mini_error_set (err, errno, "open `%s` in root", path);
  return fd;
}

int
safe_mkdir_p (int rootfd, const char *path, mode_t mode, mini_error_t *err)
{
  cleanup_free char *p = xstrdup (path);
  cleanup_close int parent = -1;
  char *s = p, *comp;
  int fd;

  /* Fast path: it exists already.  */
  fd = safe_openat (rootfd, path, O_PATH | O_DIRECTORY, 0, NULL);
  if (fd >= 0)
    return fd;

  parent = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  if (parent < 0)
    return mini_error_set (err, errno, "dup root fd");
  for (;;)
    {
      char saved;
      while (*s == '/')
        s++;
      if (*s == '\0')
        break;
      comp = s;
      while (*s && *s != '/')
        s++;
      saved = *s;
      *s = '\0';
      fd = safe_openat (rootfd, p, O_PATH | O_DIRECTORY, 0, NULL);
      if (fd < 0)
        {
          if (strcmp (comp, "..") == 0 || strcmp (comp, ".") == 0)
            return mini_error_set (err, EINVAL, "mkdir `%s`: bad component", p);
          if (mkdirat (parent, comp, mode) < 0 && errno != EEXIST)
            return mini_error_set (err, errno, "mkdir `%s`", p);
          fd = safe_openat (rootfd, p, O_PATH | O_DIRECTORY, 0, err);
          if (fd < 0)
            return fd;
        }
      close (parent);
      parent = fd;
      *s = saved;
    }
  return steal_fd (&parent);
}
