/* mini - content-addressable blobs (image-spec image-layout.md "Blobs"). */
#include "store/store.h"

#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

struct store_ingest
{
  struct store *s;
  int fd;
  char *tmp;            /* name under ingest/ */
  char *digest;         /* expected */
  int64_t expected_size;
  int64_t size;
  int64_t resumed_from; /* bytes found in the partial file when opened */
  bool keep;            /* stable name (store_ingest_resume): suspend keeps it */
  struct sha256_stream *hash;
};

static void ingest_free_ (struct store_ingest *in, bool unlink_tmp);

static char *
blob_rel (const char *digest)
{
  return xfmt ("blobs/sha256/%s", digest_hex (digest));
}

bool
store_blob_exists (struct store *s, const char *digest)
{
  cleanup_free char *rel = NULL;
  struct stat st;
  if (!digest_is_valid (digest))
    return false;
  rel = blob_rel (digest);
  return fstatat (s->root_fd, rel, &st, 0) == 0 && S_ISREG (st.st_mode);
}

char *
store_blob_path (struct store *s, const char *digest)
{
  return xfmt ("%s/blobs/sha256/%s", s->root, digest_hex (digest));
}

int
store_blob_open (struct store *s, const char *digest, int *ret_fd, mini_error_t *err)
{
  cleanup_free char *rel = NULL;
  int fd;
  if (!digest_is_valid (digest))
    return mini_error_set (err, EINVAL, "invalid digest `%s`", digest);
  rel = blob_rel (digest);
  fd = openat (s->root_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return mini_error_set (err, errno, "blob %s", digest);
  *ret_fd = fd;
  return 0;
}

int
store_blob_read (struct store *s, const char *digest, char **ret_buf, size_t *ret_len,
                 mini_error_t *err)
{
  cleanup_free char *rel = NULL;
  cleanup_free char *buf = NULL;
  size_t len = 0;
  char got[72];
  int ret;

  if (!digest_is_valid (digest))
    return mini_error_set (err, EINVAL, "invalid digest `%s`", digest);
  rel = blob_rel (digest);
  ret = read_file_at (s->root_fd, rel, &buf, &len, 16 << 20, err);
  if (ret < 0)
    return mini_error_wrap (err, "blob %s", digest);
  sha256_digest (buf, len, got);
  if (strcmp (got, digest) != 0)
    return mini_error_set (err, EIO, "blob %s is corrupt (content hashes to %s); run `mini pull` again",
                           digest, got);
  *ret_buf = steal_pointer (&buf);
  if (ret_len)
    *ret_len = len;
  return 0;
}

int
store_blob_put (struct store *s, const char *digest, const void *buf, size_t len, mini_error_t *err)
{
  char got[72];
  cleanup_free char *rel = NULL;

  if (!digest_is_valid (digest))
    return mini_error_set (err, EINVAL, "invalid digest `%s`", digest);
  sha256_digest (buf, len, got);
  if (strcmp (got, digest) != 0)
    return mini_error_set (err, EINVAL, "blob %s: digest mismatch: got %s", digest, got);
  if (store_blob_exists (s, digest))
    return 0;
  rel = blob_rel (digest);
  {
    cleanup_close int dfd = openat (s->root_fd, "blobs/sha256", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
      return mini_error_set (err, errno, "open blobs dir");
    return write_file_atomic_at (dfd, digest_hex (digest), buf, len, 0644, err);
  }
}

int
store_ingest_begin (struct store *s, const char *digest, int64_t expected_size,
                    struct store_ingest **ret, mini_error_t *err)
{
  struct store_ingest *in;
  char rnd[17];
  int ret_;

  if (!digest_is_valid (digest))
    return mini_error_set (err, EINVAL, "invalid digest `%s`", digest);
  ret_ = random_hex (rnd, 8, err);
  if (ret_ < 0)
    return ret_;
  in = xmalloc0 (sizeof (*in));
  in->s = s;
  in->tmp = xfmt ("ingest/%s.partial-%s", digest_hex (digest), rnd);
  in->digest = xstrdup (digest);
  in->expected_size = expected_size;
  in->fd = openat (s->root_fd, in->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (in->fd < 0)
    {
      int e = errno;
      free (in->tmp);
      free (in->digest);
      free (in);
      return mini_error_set (err, e, "create partial file for %s", digest);
    }
  in->hash = sha256_stream_new ();
  *ret = in;
  return 0;
}

int
store_ingest_resume (struct store *s, const char *digest, int64_t expected_size,
                     struct store_ingest **ret, mini_error_t *err)
{
  struct store_ingest *in;
  cleanup_close int fd = -1;
  cleanup_free char *name = NULL;
  struct stat st;
  char buf[65536];
  int64_t have, off = 0;

  if (!digest_is_valid (digest))
    return mini_error_set (err, EINVAL, "invalid digest `%s`", digest);
  name = xfmt ("ingest/%s.partial", digest_hex (digest));
  fd = openat (s->root_fd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return mini_error_set (err, errno, "open partial file for %s", digest);
  if (TEMP_FAILURE_RETRY (flock (fd, LOCK_EX | LOCK_NB)) < 0)
    {
      if (errno == EWOULDBLOCK)
        /* Another mini downloads the same blob right now: do our own,
           in a private file, rather than wait for it. */
        return store_ingest_begin (s, digest, expected_size, ret, err);
      return mini_error_set (err, errno, "lock partial file for %s", digest);
    }
  if (fstat (fd, &st) < 0)
    return mini_error_set (err, errno, "stat partial file for %s", digest);
  if (!S_ISREG (st.st_mode))
    return mini_error_set (err, EINVAL, "partial file for %s is not a regular file", digest);
  have = st.st_size;
  if (expected_size >= 0 && have > expected_size)
    {
      /* Longer than the blob can be: not a prefix of it. */
      if (ftruncate (fd, 0) < 0)
        return mini_error_set (err, errno, "truncate partial file for %s", digest);
      have = 0;
    }

  in = xmalloc0 (sizeof (*in));
  in->s = s;
  in->tmp = steal_pointer (&name);
  in->digest = xstrdup (digest);
  in->expected_size = expected_size;
  in->keep = true;
  in->hash = sha256_stream_new ();
  /* Re-hash what an earlier run left: the digest covers the whole blob. */
  while (off < have)
    {
      size_t want = have - off < (int64_t) sizeof (buf) ? (size_t) (have - off) : sizeof (buf);
      ssize_t r = TEMP_FAILURE_RETRY (pread (fd, buf, want, off));
      if (r < 0)
        {
          int e = errno;
          in->fd = -1;
          ingest_free_ (in, false);
          return mini_error_set (err, e, "read partial file for %s", digest);
        }
      if (r == 0)
        break;
      sha256_stream_update (in->hash, buf, r);
      off += r;
    }
  if (off < have && ftruncate (fd, off) < 0)
    {
      int e = errno;
      in->fd = -1;
      ingest_free_ (in, false);
      return mini_error_set (err, e, "truncate partial file for %s", digest);
    }
  if (lseek (fd, off, SEEK_SET) < 0)
    {
      int e = errno;
      in->fd = -1;
      ingest_free_ (in, false);
      return mini_error_set (err, e, "seek partial file for %s", digest);
    }
  in->size = in->resumed_from = off;
  in->fd = steal_fd (&fd);
  *ret = in;
  return 0;
}

int64_t
store_ingest_resumed_from (struct store_ingest *in)
{
  return in->resumed_from;
}

int
store_ingest_write (struct store_ingest *in, const void *buf, size_t len, mini_error_t *err)
{
  if (in->expected_size >= 0 && in->size + (int64_t) len > in->expected_size)
    return mini_error_set (err, EFBIG, "blob %s: more than the expected %lld bytes", in->digest,
                           (long long) in->expected_size);
  if (write_all (in->fd, buf, len) < 0)
    return mini_error_set (err, errno, "write blob %s", in->digest);
  sha256_stream_update (in->hash, buf, len);
  in->size += len;
  return 0;
}

int64_t
store_ingest_size (struct store_ingest *in)
{
  return in->size;
}

int
store_ingest_reset (struct store_ingest *in, mini_error_t *err)
{
  if (ftruncate (in->fd, 0) < 0 || lseek (in->fd, 0, SEEK_SET) < 0)
    return mini_error_set (err, errno, "truncate partial blob %s", in->digest);
  sha256_stream_free (in->hash);
  in->hash = sha256_stream_new ();
  in->size = 0;
  in->resumed_from = 0;
  return 0;
}

static void
ingest_free_ (struct store_ingest *in, bool unlink_tmp)
{
  if (in->fd >= 0)
    close (in->fd);
  if (unlink_tmp)
    unlinkat (in->s->root_fd, in->tmp, 0);
  sha256_stream_free (in->hash);
  free (in->tmp);
  free (in->digest);
  free (in);
}

int
store_ingest_commit (struct store_ingest *in, mini_error_t *err)
{
  char got[72];
  cleanup_free char *rel = NULL;

  sha256_stream_final (in->hash, got);
  if (in->expected_size >= 0 && in->size != in->expected_size)
    {
      mini_error_set (err, EIO, "blob %s: size mismatch: expected %lld bytes, got %lld", in->digest,
                      (long long) in->expected_size, (long long) in->size);
      ingest_free_ (in, true);
      return -1;
    }
  if (strcmp (got, in->digest) != 0)
    {
      mini_error_set (err, EINVAL, "blob %s: digest mismatch: got %s", in->digest, got);
      ingest_free_ (in, true);
      return -1;
    }
  if (fsync (in->fd) < 0 || fchmod (in->fd, 0644) < 0)
    {
      mini_error_set (err, errno, "sync blob %s", in->digest);
      ingest_free_ (in, true);
      return -1;
    }
  rel = blob_rel (in->digest);
  if (renameat (in->s->root_fd, in->tmp, in->s->root_fd, rel) < 0)
    {
      mini_error_set (err, errno, "publish blob %s", in->digest);
      ingest_free_ (in, true);
      return -1;
    }
  ingest_free_ (in, false);
  return 0;
}

void
store_ingest_abort (struct store_ingest *in)
{
  if (in)
    ingest_free_ (in, true);
}

void
store_ingest_suspend (struct store_ingest *in)
{
  if (in == NULL)
    return;
  /* Closing the fd drops the flock: a later store_ingest_resume goes on. */
  ingest_free_ (in, !in->keep || in->size == 0);
}
