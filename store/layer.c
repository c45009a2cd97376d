/* mini - the layer store: one extracted directory per chain_id
 * (image-spec config.md "Layer ChainID"), shared by every image and
 * container that has that layer stack.
 *
 *   layers/<chain hex>/diff        the extracted layer (overlay lowerdir)
 *   layers/<chain hex>/layer.json  {chain_id, files, bytes}: what the
 *                                  directory held when it was published,
 *                                  so `mini system check` can tell a
 *                                  damaged layer from a complete one
 *   layers/tmp-<rnd>/              being extracted or being removed
 *
 * A layer becomes visible only by the rename of a complete temporary
 * directory, and stops being visible by the rename back to a temporary
 * name before its removal, so a crash never leaves a half-made or
 * half-removed layer under its chain_id.
 *
 * Temporary directories (layers/tmp-<rnd>, tmp/<kind>-<rnd>) are owned by
 * the process holding the flock on locks/tmp-<rnd>; one whose lock is free
 * (or gone) belongs to a dead process and is removed by the next
 * store_cleanup_tmpdirs().  The lock file is created as locks/new-<rnd>,
 * locked, then renamed, so it is never seen unlocked while its owner lives.
 */
#include "store/store.h"

#include <ftw.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>

/* ------------------------------------------------------------ temp dirs */

static int
tmp_lock_create (struct store *s, const char *rnd, mini_error_t *err)
{
  cleanup_free char *newrel = xfmt ("locks/new-%s", rnd);
  cleanup_free char *rel = xfmt ("locks/tmp-%s", rnd);
  int fd, e;

  fd = openat (s->root_fd, newrel, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return mini_error_set (err, errno, "create lock `%s`", newrel);
  if (flock (fd, LOCK_EX | LOCK_NB) < 0 || renameat (s->root_fd, newrel, s->root_fd, rel) < 0)
    {
      e = errno;
      unlinkat (s->root_fd, newrel, 0);
      close (fd);
      return mini_error_set (err, e, "lock `%s`", rel);
    }
  return fd;
}

static void
tmp_register (struct store *s, const char *name, int lock_fd)
{
  struct store_tmp *t = xmalloc0 (sizeof (*t));
  t->name = xstrdup (name);
  t->lock_fd = lock_fd;
  t->next = s->tmps;
  s->tmps = t;
}

/* Forget temporary NAME: drop its lock file and close the lock. */
static void
tmp_release (struct store *s, const char *name)
{
  struct store_tmp **p, *t;
  const char *rnd = strrchr (name, '-');

  for (p = &s->tmps; (t = *p) != NULL; p = &t->next)
    if (strcmp (t->name, name) == 0)
      {
        *p = t->next;
        if (rnd)
          {
            cleanup_free char *rel = xfmt ("locks/tmp-%s", rnd + 1);
            unlinkat (s->root_fd, rel, 0);
          }
        if (t->lock_fd >= 0)
          close (t->lock_fd);
        free (t->name);
        free (t);
        return;
      }
}

int
store_tmpdir_begin (struct store *s, const char *parent, const char *prefix, char **ret_rel,
                    mini_error_t *err)
{
  char rnd[17];
  cleanup_free char *rel = NULL;
  int lock, r;

  r = random_hex (rnd, 8, err);
  if (r < 0)
    return r;
  lock = tmp_lock_create (s, rnd, err);
  if (lock < 0)
    return lock;
  rel = xfmt ("%s/%s-%s", parent, prefix, rnd);
  if (mkdirat (s->root_fd, rel, 0700) < 0)
    {
      int e = errno;
      cleanup_free char *lrel = xfmt ("locks/tmp-%s", rnd);
      unlinkat (s->root_fd, lrel, 0);
      close (lock);
      return mini_error_set (err, e, "create `%s/%s`", s->root, rel);
    }
  tmp_register (s, rel, lock);
  *ret_rel = steal_pointer (&rel);
  return 0;
}

void
store_tmpdir_end (struct store *s, const char *rel, bool remove)
{
  if (remove)
    {
      mini_error_t e = NULL;
      remove_tree_at (s->root_fd, rel, &e);
      mini_error_release (&e);
    }
  tmp_release (s, rel);
}

/* nftw has no user pointer: the walk's state (one walk at a time). */
static int64_t tree_bytes_;
static int64_t tree_files_;
static ino_t *tree_inodes_; /* open-addressing set of hardlinked inodes seen */
static size_t tree_inodes_cap_, tree_inodes_n_;

/* true if INO was already seen (then its bytes are counted already). */
static bool
inode_seen (ino_t ino)
{
  size_t i;
  if (tree_inodes_n_ * 2 >= tree_inodes_cap_)
    {
      ino_t *old = tree_inodes_;
      size_t oldcap = tree_inodes_cap_;
      tree_inodes_cap_ = oldcap ? oldcap * 2 : 1024;
      tree_inodes_ = xmalloc0 (tree_inodes_cap_ * sizeof (ino_t));
      tree_inodes_n_ = 0;
      for (i = 0; i < oldcap; i++)
        if (old[i])
          inode_seen (old[i]);
      free (old);
    }
  for (i = (size_t) (ino * 2654435761u) % tree_inodes_cap_; tree_inodes_[i];
       i = (i + 1) % tree_inodes_cap_)
    if (tree_inodes_[i] == ino)
      return true;
  tree_inodes_[i] = ino;
  tree_inodes_n_++;
  return false;
}

static int
tree_visit (const char *path, const struct stat *st, int flag, struct FTW *f)
{
  (void) path;
  (void) flag;
  if (f->level == 0)
    return 0;
  tree_files_++;
  if (S_ISREG (st->st_mode) && (st->st_nlink < 2 || st->st_ino == 0 || !inode_seen (st->st_ino)))
    tree_bytes_ += st->st_size;
  return 0;
}

int
store_tree_stats (struct store *s, const char *rel, int64_t *ret_files, int64_t *ret_bytes,
                  mini_error_t *err)
{
  cleanup_free char *path = xfmt ("%s/%s", s->root, rel);
  int r, e;

  tree_bytes_ = 0;
  tree_files_ = 0;
  r = nftw (path, tree_visit, 32, FTW_PHYS | FTW_MOUNT);
  e = errno;
  free (tree_inodes_);
  tree_inodes_ = NULL;
  tree_inodes_cap_ = tree_inodes_n_ = 0;
  if (r != 0)
    return mini_error_set (err, e, "walk `%s`", path);
  *ret_files = tree_files_;
  *ret_bytes = tree_bytes_;
  return 0;
}

/* Is the temporary NAME (under PARENT) owned by a live process?  */
static bool
tmp_is_live (struct store *s, const char *name)
{
  const char *rnd = strchr (name, '-');
  cleanup_free char *rel = NULL;
  cleanup_close int fd = -1;

  if (rnd == NULL)
    return false;
  rel = xfmt ("locks/tmp-%s", rnd + 1);
  fd = openat (s->root_fd, rel, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return false;
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    return errno == EWOULDBLOCK;
  /* Dead owner: its lock file goes too. */
  unlinkat (s->root_fd, rel, 0);
  return false;
}

static void
report_removed (char ***v, const char *root, const char *rel)
{
  cleanup_free char *m = NULL;
  if (v == NULL)
    return;
  m = xfmt ("leftover %s/%s (interrupted extraction, removal or load)", root, rel);
  strv_append (v, m);
}

int
store_cleanup_tmpdirs (struct store *s, char ***removed, int64_t *bytes, mini_error_t *err)
{
  static const char *parents[] = { "layers", "tmp" };
  size_t i;

  for (i = 0; i < 2; i++)
    {
      cleanup_dir DIR *d = NULL;
      struct dirent *de;
      int fd = openat (s->root_fd, parents[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

      if (fd < 0)
        return mini_error_set (err, errno, "open `%s/%s`", s->root, parents[i]);
      d = fdopendir (fd);
      if (d == NULL)
        {
          close (fd);
          return mini_error_set (err, errno, "open `%s/%s`", s->root, parents[i]);
        }
      while ((de = readdir (d)))
        {
          cleanup_free char *rel = NULL;
          mini_error_t e = NULL;
          int64_t nf = 0, nb = 0;

          if (de->d_name[0] == '.')
            continue;
          if (i == 0 && strncmp (de->d_name, "tmp-", 4) != 0)
            continue;
          rel = xfmt ("%s/%s", parents[i], de->d_name);
          if (tmp_is_live (s, de->d_name))
            continue;
          if (bytes && store_tree_stats (s, rel, &nf, &nb, &e) == 0)
            *bytes += nb;
          mini_error_release (&e);
          if (remove_tree_at (s->root_fd, rel, &e) < 0)
            {
              mini_error_release (&e);
              continue;
            }
          report_removed (removed, s->root, rel);
        }
    }

  /* Lock files of temporaries that are gone. */
  {
    cleanup_dir DIR *d = NULL;
    struct dirent *de;
    int fd = openat (s->root_fd, "locks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && (d = fdopendir (fd)) == NULL)
      close (fd);
    while (d && (de = readdir (d)))
      {
        if (strncmp (de->d_name, "tmp-", 4) == 0)
          tmp_is_live (s, de->d_name); /* unlinks it when dead */
        else if (strncmp (de->d_name, "new-", 4) == 0)
          {
            struct stat st;
            /* A lock being created is renamed within microseconds. */
            if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
                && st.st_mtime < time (NULL) - 600)
              unlinkat (dirfd (d), de->d_name, 0);
          }
      }
  }
  return 0;
}

/* ------------------------------------------------------------ layers */

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
  cleanup_free char *rel = NULL;
  cleanup_free char *diff = NULL;
  mini_error_t e = NULL;
  int fd;

  /* Leftovers of processes killed while extracting go first.  */
  if (store_cleanup_tmpdirs (s, NULL, NULL, &e) < 0)
    mini_error_release (&e);
  if (store_tmpdir_begin (s, "layers", "tmp", &rel, err) < 0)
    return -1;
  diff = xfmt ("%s/diff", rel);
  if (mkdirat (s->root_fd, diff, 0755) < 0)
    {
      int en = errno;
      store_tmpdir_end (s, rel, true);
      return mini_error_set (err, en, "create layer dir `%s`", diff);
    }
  fd = openat (s->root_fd, diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      int en = errno;
      store_tmpdir_end (s, rel, true);
      return mini_error_set (err, en, "open layer dir `%s`", diff);
    }
  *ret_dirfd = fd;
  /* The name under layers/ (what store_layer_commit/abort take).  */
  *ret_tmp = xstrdup (rel + strlen ("layers/"));
  return 0;
}

int
store_layer_commit (struct store *s, const char *tmp, const char *chain_id, mini_error_t *err)
{
  cleanup_free char *from = xfmt ("layers/%s", tmp);
  cleanup_free char *to = NULL;
  cleanup_free char *diff = NULL;
  cleanup_free char *info = NULL;
  cleanup_free char *inforel = NULL;
  cleanup_close int dfd = -1;
  int64_t files = 0, bytes = 0;
  json_t *j;

  if (!digest_is_valid (chain_id))
    return mini_error_set (err, EINVAL, "invalid chain_id `%s`", chain_id);
  if (strchr (tmp, '/') != NULL || strncmp (tmp, "tmp-", 4) != 0)
    return mini_error_set (err, EINVAL, "invalid temporary layer `%s`", tmp);
  to = xfmt ("layers/%s", digest_hex (chain_id));
  diff = xfmt ("%s/diff", from);
  if (store_tree_stats (s, diff, &files, &bytes, err) < 0)
    return mini_error_wrap (err, "layer %s", chain_id);
  j = json_pack ("{s:s, s:I, s:I}", "chain_id", chain_id, "files", (json_int_t) files, "bytes",
                 (json_int_t) bytes);
  info = json_dumps (j, JSON_INDENT (1) | JSON_PRESERVE_ORDER);
  json_decref (j);
  inforel = xfmt ("%s/layer.json", from);
  if (write_file_atomic_at (s->root_fd, inforel, info, strlen (info), 0644, err) < 0)
    return mini_error_wrap (err, "layer %s", chain_id);
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
  tmp_release (s, from);
  return 0;
}

void
store_layer_abort (struct store *s, const char *tmp)
{
  cleanup_free char *rel = xfmt ("layers/%s", tmp);
  if (strchr (tmp, '/') != NULL)
    return;
  store_tmpdir_end (s, rel, true);
}

int
store_layer_info_get (struct store *s, const char *chain_id, struct store_layer_info *ret,
                      mini_error_t *err)
{
  cleanup_free char *rel = NULL;
  cleanup_free char *buf = NULL;
  json_t *j, *f, *b;
  size_t len;

  if (!digest_is_valid (chain_id))
    return mini_error_set (err, EINVAL, "invalid chain_id `%s`", chain_id);
  rel = xfmt ("layers/%s/layer.json", digest_hex (chain_id));
  if (read_file_at (s->root_fd, rel, &buf, &len, 1 << 20, err) < 0)
    return -1;
  j = json_loadb (buf, len, 0, NULL);
  f = json_object_get (j, "files");
  b = json_object_get (j, "bytes");
  if (!json_is_integer (f) || !json_is_integer (b))
    {
      json_decref (j);
      return mini_error_set (err, EINVAL, "%s/%s is corrupt", s->root, rel);
    }
  ret->files = json_integer_value (f);
  ret->bytes = json_integer_value (b);
  json_decref (j);
  return 0;
}

int
store_layer_remove (struct store *s, const char *chain_id, int64_t *ret_bytes, mini_error_t *err)
{
  cleanup_free char *rel = NULL;
  cleanup_free char *tmp = NULL;
  char rnd[17];
  int64_t files = 0, bytes = 0;
  mini_error_t e = NULL;

  if (!digest_is_valid (chain_id))
    return mini_error_set (err, EINVAL, "invalid chain_id `%s`", chain_id);
  if (random_hex (rnd, 8, err) < 0)
    return -1;
  rel = xfmt ("layers/%s", digest_hex (chain_id));
  tmp = xfmt ("layers/tmp-%s", rnd);
  /* Invisible first: a crash from here on leaves only a temporary. */
  if (renameat (s->root_fd, rel, s->root_fd, tmp) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return mini_error_set (err, errno, "remove layer %s", chain_id);
    }
  if (store_tree_stats (s, tmp, &files, &bytes, &e) < 0)
    mini_error_release (&e);
  if (ret_bytes)
    *ret_bytes = bytes;
  if (remove_tree_at (s->root_fd, tmp, err) < 0)
    return mini_error_wrap (err, "remove layer %s", chain_id);
  return 0;
}
