/* mini - store root: opening and creating the directory layout. */
#include "store/store.h"

#include <string.h>
#include <limits.h>
#include <sys/stat.h>

int
store_open (const char *root, struct store **ret, mini_error_t *err)
{
  static const char *dirs[] = { "blobs", "blobs/sha256", "ingest", "layers", "containers", "names" };
  cleanup_free char *abs = NULL;
  struct store *s;
  size_t i;
  int ret_;
  int fd;

  if (root == NULL || *root == '\0')
    return mini_error_set (err, EINVAL, "store root is empty");
  ret_ = mkdir_p_at (AT_FDCWD, root, 0700, err);
  if (ret_ < 0)
    return mini_error_wrap (err, "create store root `%s`", root);
  abs = realpath (root, NULL);
  if (abs == NULL)
    return mini_error_set (err, errno, "resolve store root `%s`", root);
  fd = open (abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return mini_error_set (err, errno, "open store root `%s`", abs);
  for (i = 0; i < sizeof (dirs) / sizeof (dirs[0]); i++)
    if (mkdirat (fd, dirs[i], 0700) < 0 && errno != EEXIST)
      {
        int e = errno;
        close (fd);
        return mini_error_set (err, e, "create `%s/%s`", abs, dirs[i]);
      }
  s = xmalloc0 (sizeof (*s));
  s->root_fd = fd;
  s->root = steal_pointer (&abs);
  *ret = s;
  return 0;
}

void
store_close (struct store *s)
{
  if (s == NULL)
    return;
  if (s->root_fd >= 0)
    close (s->root_fd);
  free (s->root);
  free (s);
}
