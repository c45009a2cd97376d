/* mini - the layer store: one extracted directory per chain_id. */
#include "store/store.h"

#include <string.h>
#include <sys/stat.h>

bool
store_layer_exists (struct store *s, const char *chain_id)
{
  cleanup_free char *rel = NULL;
  struct stat st;
  if (!digest_is_valid (chain_id))
    return false;
  rel = xfmt ("layers/%s/diff", digest_hex (chain_id));
  return fstatat (s->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
}

char *
store_layer_diff_path (struct store *s, const char *chain_id)
{
  return xfmt ("%s/layers/%s/diff", s->root, digest_hex (chain_id));
}

int
store_layer_begin (struct store *s, int *ret_dirfd, char **ret_tmp, mini_error_t *err)
{
  char rnd[17];
  cleanup_free char *tmp = NULL;
  cleanup_free char *diff = NULL;
  int fd, r;

  r = random_hex (rnd, 8, err);
  if (r < 0)
    return r;
  tmp = xfmt ("tmp-%s", rnd);
  diff = xfmt ("layers/%s", tmp);
  if (mkdirat (s->root_fd, diff, 0700) < 0)
    return mini_error_set (err, errno, "create layer dir `%s`", diff);
  free (diff);
  diff = xfmt ("layers/%s/diff", tmp);
  if (mkdirat (s->root_fd, diff, 0755) < 0)
    return mini_error_set (err, errno, "create layer dir `%s`", diff);
  fd = openat (s->root_fd, diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return mini_error_set (err, errno, "open layer dir `%s`", diff);
  *ret_dirfd = fd;
  *ret_tmp = steal_pointer (&tmp);
  return 0;
}

int
store_layer_commit (struct store *s, const char *tmp, const char *chain_id, mini_error_t *err)
{
  cleanup_free char *from = xfmt ("layers/%s", tmp);
  cleanup_free char *to = xfmt ("layers/%s", digest_hex (chain_id));
  cleanup_close int dfd = -1;

  if (!digest_is_valid (chain_id))
    return mini_error_set (err, EINVAL, "invalid chain_id `%s`", chain_id);
  /* Make the layer dir itself traversable before it becomes visible.  */
  fchmodat (s->root_fd, from, 0755, 0);
  dfd = openat (s->root_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    fsync (dfd);
  if (renameat2 (s->root_fd, from, s->root_fd, to, RENAME_NOREPLACE) < 0)
    {
      if (errno == EEXIST || errno == ENOTEMPTY)
        {
          store_layer_abort (s, tmp);
          return 0;
        }
      return mini_error_set (err, errno, "publish layer %s", chain_id);
    }
  return 0;
}

void
store_layer_abort (struct store *s, const char *tmp)
{
  cleanup_free char *rel = xfmt ("layers/%s", tmp);
  mini_error_t e = NULL;
  remove_tree_at (s->root_fd, rel, &e);
  mini_error_release (&e);
}
