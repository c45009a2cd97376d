/* mini - store locks: flock(2) on files under locks/ (and the root `lock`).
 *
 * Lock files are never unlinked while someone may still open them by name
 * (an unlinked lock file would let two processes hold "the same" lock on
 * two inodes); only store_gc removes the per-layer and per-key lock files,
 * under the exclusive gc lock, when nobody else can be holding them.
 * Temporary-directory locks (locks/tmp-*) are the exception: their names
 * are random and used once, see layer.c.
 */
#include "store/store.h"

#include <string.h>
#include <sys/file.h>

int
store_lock_path (struct store *s, const char *rel, int op, int *ret_fd, mini_error_t *err)
{
  int fd, e;

  fd = openat (s->root_fd, rel, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return mini_error_set (err, errno, "open lock `%s/%s`", s->root, rel);
  if (TEMP_FAILURE_RETRY (flock (fd, op)) < 0)
    {
      e = errno;
      close (fd);
      if (e == EWOULDBLOCK)
        return mini_error_set (err, e, "`%s/%s` is locked by another mini process", s->root, rel);
      return mini_error_set (err, e, "lock `%s/%s`", s->root, rel);
    }
  *ret_fd = fd;
  return 0;
}

int
store_lock_gc (struct store *s, int op, int *ret_fd, mini_error_t *err)
{
  return store_lock_path (s, "locks/gc", op, ret_fd, err);
}

int
store_lock_layer (struct store *s, const char *chain_id, int *ret_fd, mini_error_t *err)
{
  cleanup_free char *rel = NULL;

  if (!digest_is_valid (chain_id))
    return mini_error_set (err, EINVAL, "invalid chain_id `%s`", chain_id ? chain_id : "");
  rel = xfmt ("locks/layer-%s", digest_hex (chain_id));
  return store_lock_path (s, rel, LOCK_EX, ret_fd, err);
}

int
store_lock_key (struct store *s, const char *key, int *ret_fd, mini_error_t *err)
{
  cleanup_free char *rel = NULL;
  char d[72];

  sha256_digest (key, strlen (key), d);
  rel = xfmt ("locks/key-%s", digest_hex (d));
  return store_lock_path (s, rel, LOCK_EX, ret_fd, err);
}
