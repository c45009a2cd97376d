/* mini - store root: opening and creating the directory layout (an OCI
   image layout, image-spec image-layout.md, plus mini's own directories). */
#include "store/store.h"

#include <string.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>

/* Create NAME with CONTENT unless it exists, under the root lock (which
   index.json writers and the leftover sweep of *.tmp-* files hold too). */
static int
create_once (struct store *s, const char *name, const char *content, mini_error_t *err)
{
  cleanup_close int lock = -1;
  struct stat st;

  if (fstatat (s->root_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  if (store_lock_path (s, "lock", LOCK_EX, &lock, err) < 0)
    return -1;
  if (fstatat (s->root_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  return write_file_atomic_at (s->root_fd, name, content, strlen (content), 0644, err);
}

int
store_open (const char *root, struct store **ret, mini_error_t *err)
{
  static const char *dirs[] = { "blobs", "blobs/sha256", "ingest", "layers", "containers",
                                "names", "locks", "tmp", "chains" };
  cleanup_free char *abs = NULL;
  cleanup_free char *index = NULL;
  struct store *s;
  json_t *j;
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

  j = store_index_new ();
  index = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  json_decref (j);
  if (create_once (s, "oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}\n", err) < 0
      || create_once (s, "index.json", index, err) < 0
      || store_ref_migrate_legacy (s, err) < 0)
    {
      store_close (s);
      return mini_error_wrap (err, "initialize the store at `%s`", root);
    }
  *ret = s;
  return 0;
}

void
store_close (struct store *s)
{
  if (s == NULL)
    return;
  while (s->tmps)
    {
      struct store_tmp *t = s->tmps;
      s->tmps = t->next;
      if (t->lock_fd >= 0)
        close (t->lock_fd);
      free (t->name);
      free (t);
    }
  if (s->root_fd >= 0)
    close (s->root_fd);
  free (s->root);
  free (s);
}
