/* mini - unpack: apply one layer tar stream to a layer directory.
 *
 * A helper thread turns the blob into the uncompressed tar stream, counts
 * the bytes against the size and ratio limits and hands them over in a
 * small ring of buffers.  gzip blobs are inflated there with ISA-L's igzip
 * when libisal.so.2 can be loaded (about 4x faster than zlib, whose inflate
 * was the critical path); everything else (zstd, xz, bzip2, plain tar, and
 * gzip without ISA-L) goes through an outer libarchive reader (format "raw"
 * + filters).  A second helper hashes each buffer of the ring (the diff_id)
 * while the calling thread extracts it, so sha256 is on nobody's critical
 * path.  The stream of a layer can be opened (and so decompress) while the
 * previous layer is still being extracted (unpack_stream_open).  The inner
 * libarchive reader (tar formats only) reads the ring through a callback on
 * the calling thread, which creates the entries with *at() syscalls
 * relative to directory fds resolved inside the layer root.
 *
 * archive_write_disk is not used: every path goes through our own checks.
 */
#include "unpack/unpack.h"

#include "common/archive-loader.h"
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#ifdef HAVE_ISAL
#include <dlfcn.h>
#include <isa-l/igzip_lib.h>
#endif

#define BLOB_READ_SIZE (64 * 1024)    /* read(2) size on the blob (also the
                                         granularity of the ratio check) */
#define STREAM_SLOTS 4                 /* ring of uncompressed buffers */
#define STREAM_SLOT_SIZE (512 * 1024)
#define PARENT_CACHE_SIZE 8            /* recently used parent dir fds */

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"

static void
cleanup_archivep (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}
#define cleanup_archive __attribute__ ((cleanup (cleanup_archivep)))

static const char *
layer_name (const char *digest)
{
  return digest ? digest : "(unnamed)";
}

/* ================================================================ stream */

#ifdef HAVE_ISAL
/* ISA-L, loaded on first use like libarchive (common/archive-loader.h):
   only the two entry points unpack needs.  When libisal.so.2 is missing,
   gzip goes through libarchive's filter (zlib) instead.  */
#define ISAL_SONAME "libisal.so.2"

static struct
{
  __typeof__ (isal_inflate_init) *inflate_init;
  __typeof__ (isal_inflate) *inflate;
} isal;
static pthread_once_t isal_once = PTHREAD_ONCE_INIT;
static bool isal_loaded;

static void
isal_load (void)
{
  void *h = dlopen (ISAL_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

  if (h == NULL)
    return;
  *(void **) &isal.inflate_init = dlsym (h, "isal_inflate_init");
  *(void **) &isal.inflate = dlsym (h, "isal_inflate");
  isal_loaded = isal.inflate_init && isal.inflate;
}

static bool
isal_available (void)
{
  pthread_once (&isal_once, isal_load);
  return isal_loaded;
}

static const char *
isal_strerror (int r)
{
  switch (r)
    {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid deflate distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported gzip compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "gzip checksum or length mismatch";
    case ISAL_NEED_DICT:
      return "deflate dictionary required";
    default:
      return "inflate failed";
    }
}
#endif

/* A gzip member starts with ID1 ID2 CM=8 (deflate), RFC 1952 2.3.1.  */
static bool
is_gzip_magic (const unsigned char *p)
{
  return p[0] == 0x1f && p[1] == 0x8b && p[2] == 0x08;
}

/* The uncompressed tar stream (struct unpack_stream in unpack.h), produced
   by a helper thread into a ring of slots; a second helper hashes each slot
   (the diff_id) while the caller extracts it, so that neither inflate nor
   extraction waits for sha256.  Slots are numbered by sequence: slot K is
   free again once both the hasher and the consumer are past K.  */
struct unpack_stream
{
  int fd;                  /* the blob (our own dup) */
  char *layer;             /* digest, for messages */
  unsigned char *inbuf;    /* BLOB_READ_SIZE bytes of compressed input */
  size_t pending;          /* libarchive path: bytes of INBUF read ahead by
                              stream_start, not yet handed to the reader */
  bool in_eof;             /* read(2) on FD returned 0 */
  uint64_t in_total;       /* compressed bytes read from FD */
  struct archive *outer;   /* libarchive path (not gzip with ISA-L) */
#ifdef HAVE_ISAL
  struct inflate_state *z; /* ISA-L path */
#endif
  struct sha256_stream *sha;
  uint64_t max_bytes;
  uint64_t max_ratio;       /* uncompressed / compressed */
  uint64_t ratio_min_bytes; /* the ratio is checked past this many bytes */
  uint64_t total; /* uncompressed bytes so far (producer only) */

  pthread_mutex_t lock;
  pthread_cond_t cond;
  pthread_t thread;        /* producer */
  pthread_t hasher;
  bool sync_init;
  bool started;            /* both threads run */
  char *bufs[STREAM_SLOTS];
  size_t lens[STREAM_SLOTS];
  uint64_t produced;       /* slots filled so far */
  uint64_t hashed;         /* slots hashed so far */
  uint64_t consumed;       /* slots released by the consumer */
  bool held;            /* the consumer is reading slot CONSUMED */
  bool done;            /* producer finished (EOF or PERR) */
  bool cancel;          /* consumer gave up: helpers must stop */
  mini_error_t perr;    /* producer failure, read after DONE */
};

/* Count LEN more uncompressed bytes against the limits.  */
static int
stream_account (struct unpack_stream *st, size_t len, mini_error_t *err)
{
  st->total += len;
  if (st->total > st->max_bytes)
    return mini_error_set (err, EFBIG,
                           "layer %s: expands beyond %llu bytes; refusing (decompression bomb?)",
                           st->layer, (unsigned long long) st->max_bytes);
  /* Compressed bytes read so far (whole reads: an overestimate, so the
     ratio is never overstated).  */
  if (st->total > st->ratio_min_bytes && st->in_total > 0
      && st->total / st->in_total > st->max_ratio)
    return mini_error_set (err, EFBIG,
                           "layer %s: decompression bomb: %llu bytes of compressed data "
                           "expand to more than %llu bytes (ratio over %llu:1); refusing",
                           st->layer, (unsigned long long) st->in_total,
                           (unsigned long long) st->total, (unsigned long long) st->max_ratio);
  return 0;
}

#ifdef HAVE_ISAL
/* Read more of the blob after the AVAIL_IN bytes not yet consumed (moved to
   the front of INBUF).  Sets IN_EOF at the end of the file.  */
static int
isal_refill (struct unpack_stream *st, mini_error_t *err)
{
  struct inflate_state *z = st->z;
  size_t keep = z->avail_in;
  ssize_t n;

  if (keep > 0 && z->next_in != st->inbuf)
    memmove (st->inbuf, z->next_in, keep);
  n = TEMP_FAILURE_RETRY (read (st->fd, st->inbuf + keep, BLOB_READ_SIZE - keep));
  if (n < 0)
    return mini_error_set (err, errno, "layer %s: read blob", st->layer);
  if (n == 0)
    st->in_eof = true;
  st->in_total += n;
  z->next_in = st->inbuf;
  z->avail_in = keep + n;
  return 0;
}

/* Start a gzip member at NEXT_IN (header, deflate data and trailer are all
   ISA-L's: ISAL_GZIP checks the CRC-32 and ISIZE).  */
static void
isal_member_start (struct unpack_stream *st)
{
  struct inflate_state *z = st->z;
  uint8_t *in = z->next_in, *out = z->next_out;
  uint32_t avail_in = z->avail_in, avail_out = z->avail_out;

  isal.inflate_init (z);
  z->crc_flag = ISAL_GZIP;
  z->next_in = in;
  z->avail_in = avail_in;
  z->next_out = out;
  z->avail_out = avail_out;
}

/* Fill one slot with igzip.  Like gzip -d, members are decompressed one
   after the other; after the last one, anything that does not start a
   member (zero padding, trailing garbage) is ignored, as gzip and
   libarchive's filter do.  A stream cut inside a member is an error.  */
static size_t
stream_fill_isal (struct unpack_stream *st, char *buf, bool *eof, mini_error_t *err)
{
  struct inflate_state *z = st->z;

  z->next_out = (uint8_t *) buf;
  z->avail_out = STREAM_SLOT_SIZE;
  while (z->avail_out > 0)
    {
      uint32_t out_before, in_before;
      int r;

      if (z->block_state == ISAL_BLOCK_FINISH)
        {
          while (z->avail_in < 3 && !st->in_eof)
            if (isal_refill (st, err) < 0)
              goto out;
          if (z->avail_in >= 3 && is_gzip_magic (z->next_in))
            {
              isal_member_start (st);
              continue;
            }
          *eof = true;
          break;
        }
      if (z->avail_in == 0 && !st->in_eof && isal_refill (st, err) < 0)
        break;
      out_before = z->avail_out;
      in_before = z->avail_in;
      r = isal.inflate (z);
      if (r < 0 || r == ISAL_NEED_DICT)
        {
          mini_error_set (err, EIO, "layer %s: decompress: %s", st->layer, isal_strerror (r));
          break;
        }
      if (stream_account (st, out_before - z->avail_out, err) < 0)
        {
          /* Hand over nothing past the limit.  */
          z->avail_out = out_before;
          break;
        }
      if (z->block_state != ISAL_BLOCK_FINISH && st->in_eof && in_before == 0
          && z->avail_out == out_before)
        {
          mini_error_set (err, EIO, "layer %s: decompress: truncated gzip data", st->layer);
          break;
        }
    }
out:
  return STREAM_SLOT_SIZE - z->avail_out;
}
#endif

/* Fill one slot from the outer reader.  Sets *EOF at the end of the data.  */
static size_t
stream_fill (struct unpack_stream *st, char *buf, const void **block, size_t *block_len, bool *eof,
             mini_error_t *err)
{
  size_t len = 0;

  while (len < STREAM_SLOT_SIZE)
    {
      size_t n;

      if (*block_len == 0)
        {
          la_int64_t off;
          int r = archive_read_data_block (st->outer, block, block_len, &off);
          if (r == ARCHIVE_EOF)
            {
              *block_len = 0;
              *eof = true;
              break;
            }
          if (r < ARCHIVE_WARN)
            {
              mini_error_set (err, archive_errno (st->outer) > 0 ? archive_errno (st->outer) : EIO,
                              "layer %s: decompress: %s", st->layer,
                              archive_error_string (st->outer) ?: "unknown error");
              break;
            }
          if (*block_len == 0)
            continue;
          if (stream_account (st, *block_len, err) < 0)
            break;
        }
      n = *block_len < STREAM_SLOT_SIZE - len ? *block_len : STREAM_SLOT_SIZE - len;
      memcpy (buf + len, *block, n);
      *block = (const char *) *block + n;
      *block_len -= n;
      len += n;
    }
  return len;
}

static void *
stream_producer (void *arg)
{
  struct unpack_stream *st = arg;
  const void *block = NULL;
  size_t block_len = 0;
  bool eof = false, stop = false;
  mini_error_t e = NULL;

  while (!stop)
    {
      unsigned idx;
      size_t len;

      pthread_mutex_lock (&st->lock);
      while (!st->cancel
             && st->produced - (st->hashed < st->consumed ? st->hashed : st->consumed)
                    == STREAM_SLOTS)
        pthread_cond_wait (&st->cond, &st->lock);
      if (st->cancel)
        {
          st->done = true;
          pthread_cond_broadcast (&st->cond);
          pthread_mutex_unlock (&st->lock);
          mini_error_release (&e);
          return NULL;
        }
      idx = st->produced % STREAM_SLOTS;
      pthread_mutex_unlock (&st->lock);

#ifdef HAVE_ISAL
      if (st->z)
        len = stream_fill_isal (st, st->bufs[idx], &eof, &e);
      else
#endif
        len = stream_fill (st, st->bufs[idx], &block, &block_len, &eof, &e);

      pthread_mutex_lock (&st->lock);
      if (len > 0)
        {
          st->lens[idx] = len;
          st->produced++;
        }
      if (eof || e)
        {
          stop = true;
          st->done = true;
          st->perr = steal_pointer (&e);
        }
      pthread_cond_broadcast (&st->cond);
      pthread_mutex_unlock (&st->lock);
    }
  return NULL;
}

/* The second helper: hash every slot, in order, as soon as it is filled
   (the consumer reads the same slot meanwhile: both only read it).  */
static void *
stream_hasher (void *arg)
{
  struct unpack_stream *st = arg;

  pthread_mutex_lock (&st->lock);
  for (;;)
    {
      unsigned idx;

      while (!st->cancel && st->hashed == st->produced && !st->done)
        pthread_cond_wait (&st->cond, &st->lock);
      if (st->cancel || st->hashed == st->produced)
        break;
      idx = st->hashed % STREAM_SLOTS;
      pthread_mutex_unlock (&st->lock);
      sha256_stream_update (st->sha, st->bufs[idx], st->lens[idx]);
      pthread_mutex_lock (&st->lock);
      st->hashed++;
      pthread_cond_broadcast (&st->cond);
    }
  pthread_mutex_unlock (&st->lock);
  return NULL;
}

/* Next chunk of the uncompressed stream; the previous one is released.
   Returns its length, 0 at the end, -1 when the producer failed.  */
static ssize_t
stream_next (struct unpack_stream *st, const void **buf)
{
  ssize_t n;

  pthread_mutex_lock (&st->lock);
  if (st->held)
    {
      st->consumed++;
      st->held = false;
      pthread_cond_broadcast (&st->cond);
    }
  while (st->consumed == st->produced && !st->done)
    pthread_cond_wait (&st->cond, &st->lock);
  if (st->consumed == st->produced)
    n = st->perr ? -1 : 0;
  else
    {
      st->held = true;
      *buf = st->bufs[st->consumed % STREAM_SLOTS];
      n = st->lens[st->consumed % STREAM_SLOTS];
    }
  pthread_mutex_unlock (&st->lock);
  return n;
}

static la_ssize_t
stream_read_cb (struct archive *a, void *data, const void **buf)
{
  ssize_t n = stream_next (data, buf);
  if (n < 0)
    {
      archive_set_error (a, EIO, "uncompressed stream failed");
      return -1;
    }
  return n;
}

/* Stop and join the helpers (if running).  */
static void
stream_stop (struct unpack_stream *st)
{
  if (!st->started)
    return;
  pthread_mutex_lock (&st->lock);
  st->cancel = true;
  pthread_cond_broadcast (&st->cond);
  pthread_mutex_unlock (&st->lock);
  pthread_join (st->thread, NULL);
  pthread_join (st->hasher, NULL);
  st->started = false;
}

void
unpack_stream_free (struct unpack_stream *st)
{
  size_t i;

  if (st == NULL)
    return;
  stream_stop (st);
  if (st->sync_init)
    {
      pthread_mutex_destroy (&st->lock);
      pthread_cond_destroy (&st->cond);
    }
  for (i = 0; i < STREAM_SLOTS; i++)
    free (st->bufs[i]);
  if (st->outer)
    archive_read_free (st->outer);
#ifdef HAVE_ISAL
  free (st->z);
#endif
  free (st->inbuf);
  sha256_stream_free (st->sha);
  mini_error_release (&st->perr);
  if (st->fd >= 0)
    close (st->fd);
  free (st->layer);
  free (st);
}

void
cleanup_unpack_streamp (struct unpack_stream **st)
{
  unpack_stream_free (*st);
}

/* libarchive's read callback: the bytes stream_start read ahead, then the
   rest of the blob.  */
static la_ssize_t
blob_read_cb (struct archive *a, void *data, const void **buf)
{
  struct unpack_stream *st = data;
  ssize_t n;

  *buf = st->inbuf;
  if (st->pending > 0)
    {
      n = st->pending;
      st->pending = 0;
      return n;
    }
  n = TEMP_FAILURE_RETRY (read (st->fd, st->inbuf, BLOB_READ_SIZE));
  if (n < 0)
    {
      archive_set_error (a, errno, "read blob");
      return -1;
    }
  st->in_total += n;
  return n;
}

/* Enable a decompression filter only if libarchive has it built in: without
   the library, libarchive would run an external program (ARCHIVE_WARN),
   which mini never wants on untrusted input.  */
static void
add_inprocess_filter (struct archive *a, int (*support) (struct archive *))
{
  cleanup_archive struct archive *probe = archive_read_new ();

  if (probe && support (probe) == ARCHIVE_OK)
    support (a);
}

/* Detect the compression of the blob in ST->FD and start the helpers.  */
static int
stream_start (struct unpack_stream *st, mini_error_t *err)
{
  const char *layer = st->layer;
  struct archive_entry *entry;
  sigset_t all, old;
  size_t i;
  int r;

  st->sha = sha256_stream_new ();
  if (pthread_mutex_init (&st->lock, NULL) != 0)
    return mini_error_set (err, ENOMEM, "layer %s: init stream", layer);
  if (pthread_cond_init (&st->cond, NULL) != 0)
    {
      pthread_mutex_destroy (&st->lock);
      return mini_error_set (err, ENOMEM, "layer %s: init stream", layer);
    }
  st->sync_init = true;

  /* Read the first bytes to tell gzip from the rest.  */
  st->inbuf = xmalloc (BLOB_READ_SIZE);
  while (st->pending < 3 && !st->in_eof)
    {
      ssize_t n = TEMP_FAILURE_RETRY (read (st->fd, st->inbuf + st->pending,
                                            BLOB_READ_SIZE - st->pending));
      if (n < 0)
        return mini_error_set (err, errno, "layer %s: read blob", layer);
      if (n == 0)
        st->in_eof = true;
      st->pending += n;
      st->in_total += n;
    }
  /* A zero-byte blob is an empty stream (libarchive cannot open it).  */
  if (st->pending == 0)
    {
      st->done = true;
      return 0;
    }

#ifdef HAVE_ISAL
  if (st->pending >= 3 && is_gzip_magic (st->inbuf) && isal_available ())
    {
      st->z = xmalloc0 (sizeof (*st->z));
      st->z->next_in = st->inbuf;
      st->z->avail_in = st->pending;
      st->z->next_out = NULL;
      st->z->avail_out = 0;
      st->pending = 0;
      isal_member_start (st);
    }
  else
#endif
    {
      st->outer = archive_read_new ();
      if (st->outer == NULL)
        return mini_error_set (err, ENOMEM, "layer %s: archive_read_new", layer);
      add_inprocess_filter (st->outer, archive_read_support_filter_gzip);
      add_inprocess_filter (st->outer, archive_read_support_filter_zstd);
      add_inprocess_filter (st->outer, archive_read_support_filter_xz);
      add_inprocess_filter (st->outer, archive_read_support_filter_bzip2);
      archive_read_support_format_raw (st->outer);
      r = archive_read_open (st->outer, st, NULL, blob_read_cb, NULL);
      if (r == ARCHIVE_OK)
        r = archive_read_next_header (st->outer, &entry);
      if (r == ARCHIVE_EOF)
        {
          /* An empty blob: an empty stream (the tar reader will complain).  */
          st->done = true;
          return 0;
        }
      if (r < ARCHIVE_WARN)
        return mini_error_set (err,
                               archive_errno (st->outer) > 0 ? archive_errno (st->outer) : EINVAL,
                               "layer %s: open blob: %s", layer,
                               archive_error_string (st->outer) ?: "unknown error");
    }

  for (i = 0; i < STREAM_SLOTS; i++)
    st->bufs[i] = xmalloc (STREAM_SLOT_SIZE);

  /* The helper threads take no signals: they stay with the caller.  */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  r = pthread_create (&st->thread, NULL, stream_producer, st);
  if (r == 0)
    {
      r = pthread_create (&st->hasher, NULL, stream_hasher, st);
      if (r != 0)
        {
          pthread_mutex_lock (&st->lock);
          st->cancel = true;
          pthread_cond_broadcast (&st->cond);
          pthread_mutex_unlock (&st->lock);
          pthread_join (st->thread, NULL);
        }
    }
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (r != 0)
    return mini_error_set (err, r, "layer %s: start decompression thread", layer);
  st->started = true;
  return 0;
}

int
unpack_stream_open (int blob_fd, const char *layer_digest, const struct unpack_limits *limits,
                    struct unpack_stream **ret, mini_error_t *err)
{
  struct unpack_stream *st;

  if (mini_archive_load (err) < 0)
    return -1;
  st = xmalloc0 (sizeof (*st));
  st->fd = -1;
  st->layer = xstrdup (layer_name (layer_digest));
  st->max_bytes = limits && limits->max_bytes ? limits->max_bytes : UNPACK_DEFAULT_MAX_BYTES;
  st->max_ratio = limits && limits->max_ratio ? limits->max_ratio : UNPACK_DEFAULT_MAX_RATIO;
  st->ratio_min_bytes = limits && limits->ratio_min_bytes ? limits->ratio_min_bytes
                                                          : UNPACK_DEFAULT_RATIO_MIN_BYTES;
  st->fd = fcntl (blob_fd, F_DUPFD_CLOEXEC, 3);
  if (st->fd < 0)
    {
      mini_error_set (err, errno, "layer %s: dup blob fd", st->layer);
      unpack_stream_free (st);
      return -1;
    }
  if (stream_start (st, err) < 0)
    {
      unpack_stream_free (st);
      return -1;
    }
  *ret = st;
  return 0;
}

/* Read the rest of the stream (anything after the end-of-archive counts for
   the diff_id), join the helpers and write the digest into OUT.  */
static int
stream_finish (struct unpack_stream *st, char out[72], mini_error_t *err)
{
  const void *buf;
  ssize_t n;

  while ((n = stream_next (st, &buf)) > 0)
    ;
  if (st->started)
    {
      pthread_join (st->thread, NULL);
      pthread_join (st->hasher, NULL);
      st->started = false;
    }
  if (n < 0)
    {
      *err = steal_pointer (&st->perr);
      return -1;
    }
  sha256_stream_final (st->sha, out);
  return 0;
}

/* ================================================================ extraction */

struct entry_meta
{
  uid_t uid;
  gid_t gid;
  mode_t mode;              /* permission bits incl. setuid/setgid/sticky */
  struct timespec times[2]; /* atime, mtime (UTIME_OMIT when unknown) */
};

/* A directory whose metadata is applied after all entries.  */
struct dir_meta
{
  char *path; /* normalized, "." for the root */
  dev_t dev;
  ino_t ino;
  struct entry_meta m;
};

struct parent_cache_entry
{
  char *path;
  int fd; /* O_PATH directory fd */
  bool fresh_owner; /* what dir_gives_fresh_owner said of it */
};

/* A set of normalized paths (open addressing).  */
struct pathset
{
  char **slots;
  size_t size, n;
};

struct extract
{
  int rootfd;
  const char *layer;
  bool is_root;      /* euid 0: ownership and privileged xattrs must work */
  uid_t euid;
  gid_t egid;
  bool root_fresh_owner; /* dir_gives_fresh_owner of the root */
  bool cur_fresh_owner;  /* ... of the parent of the current entry */
  mode_t umask;      /* (mode_t) -1 when unknown */
  struct parent_cache_entry cache[PARENT_CACHE_SIZE];
  unsigned cache_next;
  int orphan_fd;     /* uncached parent fd still used by the current entry */
  struct dir_meta *dirs; /* creation order */
  size_t n_dirs, alloc_dirs;
  size_t *dir_index; /* open addressing on path: index + 1, 0 = empty */
  size_t dir_index_size;
  bool flatten;          /* UNPACK_MODE_FLATTEN: whiteouts delete */
  const int *lowers;     /* overlay mode: lower layer dirs, topmost first */
  size_t n_lowers;
  struct pathset mine;   /* flatten: paths of this layer and their parents */
};

static void
extract_free (struct extract *x)
{
  size_t i;

  for (i = 0; i < PARENT_CACHE_SIZE; i++)
    {
      free (x->cache[i].path);
      if (x->cache[i].fd >= 0)
        close (x->cache[i].fd);
    }
  if (x->orphan_fd >= 0)
    close (x->orphan_fd);
  for (i = 0; i < x->n_dirs; i++)
    free (x->dirs[i].path);
  free (x->dirs);
  free (x->dir_index);
  for (i = 0; i < x->mine.size; i++)
    free (x->mine.slots[i]);
  free (x->mine.slots);
}
#define cleanup_extract __attribute__ ((cleanup (extract_free)))

/* The process umask, from /proc/self/status (reading it with umask(2) would
   change it for other threads meanwhile).  */
static mode_t
current_umask (void)
{
  cleanup_file FILE *f = fopen ("/proc/self/status", "re");
  char line[256];
  unsigned int m;

  if (f == NULL)
    return (mode_t) -1;
  while (fgets (line, sizeof (line), f))
    if (sscanf (line, "Umask: %o", &m) == 1)
      return m;
  return (mode_t) -1;
}

/* Forget every cached parent.  KEEP (the parent fd the current entry is
   using, or -1) stays open until the entry is done.  */
static void
cache_invalidate (struct extract *x, int keep)
{
  size_t i;

  for (i = 0; i < PARENT_CACHE_SIZE; i++)
    {
      free (x->cache[i].path);
      x->cache[i].path = NULL;
      if (x->cache[i].fd >= 0 && x->cache[i].fd == keep)
        {
          if (x->orphan_fd >= 0)
            close (x->orphan_fd);
          x->orphan_fd = keep;
        }
      else if (x->cache[i].fd >= 0)
        close (x->cache[i].fd);
      x->cache[i].fd = -1;
    }
}

/* Whether a new object made in the directory described by ST already has
   the owner euid:egid: the directory is not setgid (its group would be
   inherited) and its group is egid (a "grpid" mount gives the same).  Then
   chown (and the chmod it forces) can be skipped for entries owned by
   euid:egid: most of an image's files when extracting as root.  */
static bool
dir_gives_fresh_owner (const struct extract *x, const struct stat *st)
{
  return !(st->st_mode & S_ISGID) && st->st_gid == x->egid;
}

/* Remember FD (ownership taken) as the directory PATH, whose owner rule is
   FRESH_OWNER (dir_gives_fresh_owner).  */
static void
cache_put (struct extract *x, const char *path, int fd, bool fresh_owner)
{
  struct parent_cache_entry *c = NULL;
  size_t i;

  for (i = 0; i < PARENT_CACHE_SIZE; i++)
    if (x->cache[i].path && strcmp (x->cache[i].path, path) == 0)
      c = &x->cache[i];
  if (c == NULL)
    c = &x->cache[x->cache_next++ % PARENT_CACHE_SIZE];

  free (c->path);
  if (c->fd >= 0)
    close (c->fd);
  c->path = xstrdup (path);
  c->fd = fd;
  c->fresh_owner = fresh_owner;
}

static bool
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

/* Mark the directory BASE in PFD (PFD itself when BASE is NULL) opaque: it
   hides the content of the same directory in lower layers.  */
static int
set_opaque (struct extract *x, int pfd, const char *base, const char *name, mini_error_t *err)
{
  cleanup_close int fd = openat (pfd, base ? base : ".",
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: open directory", x->layer, name);
  if (fsetxattr (fd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: set %s", x->layer, name,
                           OVERLAY_OPAQUE_XATTR);
  return 0;
}

static size_t
hash_path (const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    {
      h ^= (unsigned char) *s;
      h *= 1099511628211ULL;
    }
  return (size_t) h;
}

/* The record for directory PATH, or NULL.  */
static struct dir_meta *
dir_meta_find (struct extract *x, const char *path)
{
  size_t mask, h;

  if (x->dir_index_size == 0)
    return NULL;
  mask = x->dir_index_size - 1;
  for (h = hash_path (path) & mask; x->dir_index[h]; h = (h + 1) & mask)
    {
      struct dir_meta *d = &x->dirs[x->dir_index[h] - 1];
      if (strcmp (d->path, path) == 0)
        return d;
    }
  return NULL;
}

/* The record for directory PATH, a new one (path set, rest zero) if none.  */
static struct dir_meta *
dir_meta_get (struct extract *x, const char *path)
{
  size_t mask, h;

  if ((x->n_dirs + 1) * 2 > x->dir_index_size)
    {
      size_t i, size = x->dir_index_size ? x->dir_index_size * 2 : 256;
      free (x->dir_index);
      x->dir_index = xmalloc0 (size * sizeof (size_t));
      x->dir_index_size = size;
      for (i = 0; i < x->n_dirs; i++)
        {
          h = hash_path (x->dirs[i].path) & (size - 1);
          while (x->dir_index[h])
            h = (h + 1) & (size - 1);
          x->dir_index[h] = i + 1;
        }
    }
  mask = x->dir_index_size - 1;
  for (h = hash_path (path) & mask; x->dir_index[h]; h = (h + 1) & mask)
    {
      struct dir_meta *d = &x->dirs[x->dir_index[h] - 1];
      if (strcmp (d->path, path) == 0)
        return d;
    }
  if (x->n_dirs == x->alloc_dirs)
    {
      x->alloc_dirs = x->alloc_dirs ? x->alloc_dirs * 2 : 64;
      x->dirs = xrealloc (x->dirs, x->alloc_dirs * sizeof (*x->dirs));
    }
  memset (&x->dirs[x->n_dirs], 0, sizeof (*x->dirs));
  x->dirs[x->n_dirs].path = xstrdup (path);
  x->dir_index[h] = ++x->n_dirs;
  return &x->dirs[x->n_dirs - 1];
}

/* Normalize tar entry name RAW: components joined by '/', without "." and
   empty ones; "" is the layer root.  Returns NULL, or why RAW is refused.  */
static const char *
normalize_name (const char *raw, char **ret)
{
  cleanup_free char *out = NULL;
  const char *p = raw;
  size_t o = 0;

  if (raw == NULL || raw[0] == '\0')
    return "empty name";
  if (raw[0] == '/')
    return "absolute path";
  out = xmalloc (strlen (raw) + 1);
  while (*p)
    {
      const char *q = strchrnul (p, '/');
      size_t n = q - p;

      if (n == 2 && p[0] == '.' && p[1] == '.')
        return "`..` component";
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (o > 0)
            out[o++] = '/';
          memcpy (out + o, p, n);
          o += n;
        }
      p = *q ? q + 1 : q;
    }
  out[o] = '\0';
  *ret = steal_pointer (&out);
  return NULL;
}

/* Split normalized NAME: returns its last component (inside NAME) and sets
   *RET_PARENT to a new copy of the rest ("" for the root).  */
static const char *
split_name (const char *name, char **ret_parent)
{
  const char *slash = strrchr (name, '/');

  if (slash == NULL)
    {
      *ret_parent = xstrdup ("");
      return name;
    }
  *ret_parent = xstrndup (name, slash - name);
  return slash + 1;
}

/* ---------------------------------------------------------------- path sets */

static bool
pathset_has (const struct pathset *s, const char *path)
{
  size_t mask, h;

  if (s->size == 0)
    return false;
  mask = s->size - 1;
  for (h = hash_path (path) & mask; s->slots[h]; h = (h + 1) & mask)
    if (strcmp (s->slots[h], path) == 0)
      return true;
  return false;
}

/* Add a copy of PATH; returns false if it was already there.  */
static bool
pathset_add (struct pathset *s, const char *path)
{
  size_t mask, h;

  if ((s->n + 1) * 2 > s->size)
    {
      size_t i, size = s->size ? s->size * 2 : 1024;
      char **slots = xmalloc0 (size * sizeof (char *));

      for (i = 0; i < s->size; i++)
        if (s->slots[i])
          {
            h = hash_path (s->slots[i]) & (size - 1);
            while (slots[h])
              h = (h + 1) & (size - 1);
            slots[h] = s->slots[i];
          }
      free (s->slots);
      s->slots = slots;
      s->size = size;
    }
  mask = s->size - 1;
  for (h = hash_path (path) & mask; s->slots[h]; h = (h + 1) & mask)
    if (strcmp (s->slots[h], path) == 0)
      return false;
  s->slots[h] = xstrdup (path);
  s->n++;
  return true;
}

/* Flatten mode: PATH and every directory above it belong to this layer
   (a whiteout of this layer never removes them).  */
static void
mark_mine (struct extract *x, const char *path)
{
  cleanup_free char *p = NULL;
  char *slash;

  if (!x->flatten || path[0] == '\0')
    return;
  p = xstrdup (path);
  for (;;)
    {
      if (!pathset_add (&x->mine, p))
        return; /* its parents are there already */
      slash = strrchr (p, '/');
      if (slash == NULL)
        return;
      *slash = '\0';
    }
}

/* ---------------------------------------------------------------- lower layers */

enum lower_result
{
  LOWER_ABSENT = 0, /* not visible in the merged lower layers */
  LOWER_FOUND,      /* *ret_idx and *ret_st tell where and what */
};

/* What the lower layers (X->lowers, topmost first, overlay form) show at
   the normalized PATH, as overlayfs would: whiteouts hide, opaque
   directories stop the descent, a directory hides lower non-directories.
   UPPER_DIRS leading components of PATH are known to be directories above
   the lowers (in the layer being extracted).  A path below a lower
   non-directory is absent.  Returns LOWER_ABSENT, LOWER_FOUND or -1.  */
static int
lower_lookup (struct extract *x, const char *path, size_t upper_dirs, size_t *ret_idx,
              struct stat *ret_st, mini_error_t *err)
{
  cleanup_free char *copy = xstrdup (path);
  cleanup_free char **comps = NULL;
  size_t n = 0, i, k, dirs_seen = upper_dirs;
  char *p, *save = NULL;

  comps = xmalloc0 ((strlen (path) / 2 + 2) * sizeof (char *));
  for (p = strtok_r (copy, "/", &save); p; p = strtok_r (NULL, "/", &save))
    comps[n++] = p;
  if (n == 0)
    return LOWER_ABSENT;

  for (i = 0; i < x->n_lowers; i++)
    {
      cleanup_close int dfd = fcntl (x->lowers[i], F_DUPFD_CLOEXEC, 3);
      bool opaque = false;

      if (dfd < 0)
        return mini_error_set (err, errno, "layer %s: dup lower layer", x->layer);
      for (k = 0; k < n; k++)
        {
          struct stat st;
          char v = 0;
          int fd;

          if (fstatat (dfd, comps[k], &st, AT_SYMLINK_NOFOLLOW) < 0)
            {
              if (errno == ENOENT || errno == ENOTDIR)
                break;
              return mini_error_set (err, errno, "layer %s: look up `%s` in lower layer %zu",
                                     x->layer, path, i);
            }
          if (is_whiteout (&st))
            return LOWER_ABSENT;
          if (k + 1 == n)
            {
              if (k < dirs_seen && !S_ISDIR (st.st_mode))
                return LOWER_ABSENT;
              *ret_idx = i;
              *ret_st = st;
              return LOWER_FOUND;
            }
          if (!S_ISDIR (st.st_mode))
            return LOWER_ABSENT;
          fd = openat (dfd, comps[k], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            return mini_error_set (err, errno, "layer %s: look up `%s` in lower layer %zu",
                                   x->layer, path, i);
          if (fgetxattr (fd, OVERLAY_OPAQUE_XATTR, &v, 1) == 1 && v == 'y')
            opaque = true;
          if (k + 1 > dirs_seen)
            dirs_seen = k + 1;
          close (dfd);
          dfd = fd;
        }
      if (opaque)
        return LOWER_ABSENT;
    }
  return LOWER_ABSENT;
}

/* Open PATH (normalized, already checked to be made of directories) inside
   ROOTFD without following any symlink.  */
static int
open_nofollow (int rootfd, const char *path, int flags)
{
  cleanup_free char *copy = xstrdup (path);
  cleanup_close int dfd = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  char *p, *save = NULL, *next;

  if (dfd < 0)
    return -1;
  p = strtok_r (copy, "/", &save);
  if (p == NULL)
    return openat (dfd, ".", flags | O_CLOEXEC);
  for (; p; p = next)
    {
      int fd;

      next = strtok_r (NULL, "/", &save);
      fd = openat (dfd, p, (next ? O_PATH | O_DIRECTORY : flags) | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return -1;
      close (dfd);
      dfd = fd;
    }
  return steal_fd (&dfd);
}

/* ---------------------------------------------------------------- parents */

static struct dir_meta *dir_meta_find (struct extract *x, const char *path);

/* Remember the current metadata of the existing directory FD (PATH) so that
   finish_dirs puts it back after this layer changed its entries (flatten
   mode: the mtimes of lower directories stay as the image made them).  */
static void
keep_dir_meta (struct extract *x, int fd, const char *path)
{
  struct dir_meta *d;
  struct stat st;

  if (dir_meta_find (x, path) || fstat (fd, &st) < 0)
    return;
  d = dir_meta_get (x, path);
  d->dev = st.st_dev;
  d->ino = st.st_ino;
  d->m.uid = st.st_uid;
  d->m.gid = st.st_gid;
  d->m.mode = st.st_mode & 07777;
  d->m.times[0] = st.st_atim;
  d->m.times[1] = st.st_mtim;
}

static int
refuse_symlink (struct extract *x, const char *entry, const char *path, mini_error_t *err)
{
  return mini_error_set (err, EINVAL,
                         "layer %s: refusing entry `%s`: `%s` is a symlink; writing through "
                         "a symlink is not allowed",
                         x->layer, entry, path);
}

/* Component COMP (PATH from the root) is missing in DFD: create it, with
   the metadata of the directory the lower layers show there if any (a
   lower symlink there is refused: the entry would be written through it). */
static int
make_parent_dir (struct extract *x, int dfd, const char *comp, const char *path, size_t depth,
                 const char *entry, mini_error_t *err)
{
  struct stat lst;
  size_t idx;
  int r = LOWER_ABSENT;

  if (!x->flatten && x->n_lowers > 0)
    {
      r = lower_lookup (x, path, depth, &idx, &lst, err);
      if (r < 0)
        return mini_error_wrap (err, "entry `%s`", entry);
      if (r == LOWER_FOUND && S_ISLNK (lst.st_mode))
        return refuse_symlink (x, entry, path, err);
    }
  if (mkdirat (dfd, comp, 0755) < 0 && errno != EEXIST)
    return mini_error_set (err, errno, "layer %s: entry `%s`: mkdir `%s`", x->layer, entry, path);
  if (r == LOWER_FOUND && S_ISDIR (lst.st_mode) && dir_meta_find (x, path) == NULL)
    {
      /* The merged view keeps the lower directory's owner, mode and times. */
      cleanup_close int fd = openat (dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      struct dir_meta *d;
      struct stat st;

      if (fd >= 0 && fstat (fd, &st) == 0)
        {
          d = dir_meta_get (x, path);
          d->dev = st.st_dev;
          d->ino = st.st_ino;
          d->m.uid = lst.st_uid;
          d->m.gid = lst.st_gid;
          d->m.mode = lst.st_mode & 07777;
          d->m.times[0] = lst.st_atim;
          d->m.times[1] = lst.st_mtim;
        }
    }
  return 0;
}

/* Component COMP (PATH) of DFD exists but is not a directory.  A symlink
   is refused; a whiteout of this layer becomes an opaque directory (`.wh.d`
   then `d/x`: the new d hides the lower one); in flatten mode a
   non-directory of a lower layer is replaced by a directory (as the
   overlay's upper directory would hide it).  Returns 0 when COMP is now a
   directory, 1 when CREATE is false and it would have to be made.  */
static int
fix_parent (struct extract *x, int dfd, const char *comp, const char *path, const char *entry,
            bool create, mini_error_t *err)
{
  struct stat st;

  if (fstatat (dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: stat `%s`", x->layer, entry, path);
  if (S_ISLNK (st.st_mode))
    return refuse_symlink (x, entry, path, err);
  if (S_ISDIR (st.st_mode))
    return 0;
  if ((!x->flatten && is_whiteout (&st)) || (x->flatten && !pathset_has (&x->mine, path)))
    {
      if (!create)
        return 1;
      cache_invalidate (x, -1);
      if (unlinkat (dfd, comp, 0) < 0 || mkdirat (dfd, comp, 0755) < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: replace `%s` with a directory",
                               x->layer, entry, path);
      if (!x->flatten)
        return set_opaque (x, dfd, comp, entry, err);
      return 0;
    }
  return mini_error_set (err, ENOTDIR, "layer %s: entry `%s`: `%s` is not a directory", x->layer,
                         entry, path);
}

/* Directory PATH (normalized, "" = the root) inside the layer as a new
   O_PATH fd, never following a symlink (one openat2 RESOLVE_IN_ROOT |
   RESOLVE_NO_SYMLINKS call when everything exists, else a walk one
   component at a time with O_NOFOLLOW).  With CREATE, missing directories
   are made (see make_parent_dir and fix_parent).  Returns 0 with *RET_FD;
   1 when a component is missing and !CREATE (*RET_DEPTH = the number of
   components that exist); -1 with *ERR naming ENTRY.  */
static int
walk_dir (struct extract *x, const char *path, const char *entry, bool create, int *ret_fd,
          size_t *ret_depth, mini_error_t *err)
{
  struct open_how how = { 0 };
  cleanup_free char *p = NULL;
  cleanup_close int dfd = -1;
  size_t depth = 0;
  char *comp;
  int fd;

  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  fd = (int) syscall (SYS_openat2, x->rootfd, path[0] ? path : ".", &how, sizeof (how));
  if (fd >= 0)
    {
      *ret_fd = fd;
      return 0;
    }

  dfd = fcntl (x->rootfd, F_DUPFD_CLOEXEC, 3);
  if (dfd < 0)
    return mini_error_set (err, errno, "layer %s: dup", x->layer);
  p = xstrdup (path);
  comp = p;
  while (*comp)
    {
      char *slash = strchr (comp, '/');

      if (slash)
        *slash = '\0';
      /* P is now the path up to and including COMP */
      fd = openat (dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        {
          int r;

          if (errno == ENOENT)
            {
              if (!create)
                {
                  if (ret_depth)
                    *ret_depth = depth;
                  return 1;
                }
              r = make_parent_dir (x, dfd, comp, p, depth, entry, err);
            }
          else if (errno == ENOTDIR || errno == ELOOP)
            r = fix_parent (x, dfd, comp, p, entry, create, err);
          else
            return mini_error_set (err, errno, "layer %s: entry `%s`: open `%s`", x->layer, entry,
                                   p);
          if (r < 0)
            return -1;
          if (r > 0)
            {
              if (ret_depth)
                *ret_depth = depth;
              return 1;
            }
          fd = openat (dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            return mini_error_set (err, errno, "layer %s: entry `%s`: open `%s`", x->layer, entry,
                                   p);
        }
      close (dfd);
      dfd = fd;
      depth++;
      if (slash == NULL)
        break;
      *slash = '/';
      comp = slash + 1;
    }
  *ret_fd = steal_fd (&dfd);
  return 0;
}

/* Directory fd of PARENT ("" = the root) resolved inside the layer,
   creating missing directories.  The fd is borrowed from the cache: valid
   until the next get_parent or cache_put.  */
static int
get_parent (struct extract *x, const char *parent, const char *entry, int *ret_fd,
            mini_error_t *err)
{
  struct stat st;
  size_t i;
  int fd = -1;

  if (parent[0] == '\0')
    {
      if (x->flatten)
        keep_dir_meta (x, x->rootfd, ".");
      x->cur_fresh_owner = x->root_fresh_owner;
      *ret_fd = x->rootfd;
      return 0;
    }
  for (i = 0; i < PARENT_CACHE_SIZE; i++)
    if (x->cache[i].path && strcmp (x->cache[i].path, parent) == 0)
      {
        x->cur_fresh_owner = x->cache[i].fresh_owner;
        *ret_fd = x->cache[i].fd;
        return 0;
      }
  if (walk_dir (x, parent, entry, true, &fd, NULL, err) < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    {
      int en = errno;
      close (fd);
      return mini_error_set (err, en, "layer %s: entry `%s`: stat `%s`", x->layer, entry, parent);
    }
  if (x->flatten)
    keep_dir_meta (x, fd, parent);
  x->cur_fresh_owner = dir_gives_fresh_owner (x, &st);
  cache_put (x, parent, fd, x->cur_fresh_owner);
  *ret_fd = fd;
  return 0;
}

static int
entry_meta_get (struct extract *x, struct archive_entry *e, const char *name,
                struct entry_meta *m, mini_error_t *err)
{
  la_int64_t uid = archive_entry_uid (e), gid = archive_entry_gid (e);

  if (uid < 0 || uid > 0xfffffffeLL || gid < 0 || gid > 0xfffffffeLL)
    return mini_error_set (err, EINVAL, "layer %s: entry `%s`: uid/gid %lld:%lld out of range",
                           x->layer, name, (long long) uid, (long long) gid);
  m->uid = uid;
  m->gid = gid;
  m->mode = archive_entry_perm (e) & 07777;
  if (archive_entry_mtime_is_set (e))
    {
      m->times[1].tv_sec = archive_entry_mtime (e);
      m->times[1].tv_nsec = archive_entry_mtime_nsec (e);
    }
  else
    m->times[1].tv_nsec = UTIME_OMIT;
  if (archive_entry_atime_is_set (e))
    {
      m->times[0].tv_sec = archive_entry_atime (e);
      m->times[0].tv_nsec = archive_entry_atime_nsec (e);
    }
  else
    m->times[0] = m->times[1];
  return 0;
}

/* Whether chown is needed for a freshly created object.  */
static bool
need_chown (struct extract *x, const struct entry_meta *m)
{
  return !(x->cur_fresh_owner && m->uid == x->euid && m->gid == x->egid);
}

/* A failed chown: fatal as root; skipped when unprivileged (rootless best
   effort, like tar).  */
static int
chown_failed (struct extract *x, const char *name, mini_error_t *err)
{
  int e = errno;
  if (!x->is_root && (e == EPERM || e == EINVAL))
    return 0;
  return mini_error_set (err, e, "layer %s: entry `%s`: chown", x->layer, name);
}

/* Apply the xattrs of E: with fsetxattr on FD when >= 0, else with lsetxattr
   on BASE inside PFD (through /proc/self/fd).  */
static int
apply_xattrs (struct extract *x, struct archive_entry *e, int fd, int pfd, const char *base,
              const char *name, bool reg_or_dir, mini_error_t *err)
{
  cleanup_free char *proc = NULL;
  const char *xname;
  const void *value;
  size_t size;

  if (archive_entry_xattr_reset (e) == 0)
    return 0;
  while (archive_entry_xattr_next (e, &xname, &value, &size) == ARCHIVE_OK)
    {
      int r;

      if (xname == NULL || xname[0] == '\0')
        continue;
      /* Only whiteout entries may produce overlay metadata.  */
      if (strncmp (xname, "trusted.overlay.", 16) == 0 || strncmp (xname, "user.overlay.", 13) == 0)
        continue;
      if (fd >= 0)
        r = fsetxattr (fd, xname, value, size, 0);
      else
        {
          if (proc == NULL)
            proc = xfmt ("/proc/self/fd/%d/%s", pfd, base);
          r = lsetxattr (proc, xname, value, size, 0);
        }
      if (r < 0)
        {
          int en = errno;
          if (en == ENOTSUP)
            continue;
          if (en == EPERM && (!x->is_root || !reg_or_dir || strncmp (xname, "security.", 9) == 0))
            continue;
          return mini_error_set (err, en, "layer %s: entry `%s`: set xattr `%s`", x->layer, name,
                                 xname);
        }
    }
  return 0;
}

/* Make room for a new entry BASE in PFD: remove whatever is there (a
   directory recursively).  */
static int
remove_existing (struct extract *x, int pfd, const char *base, const char *name,
                 mini_error_t *err)
{
  struct stat st;

  if (fstatat (pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return mini_error_set (err, errno, "layer %s: entry `%s`: stat existing", x->layer, name);
    }
  /* Anything removed may be (or lead to) a cached parent.  */
  cache_invalidate (x, pfd);
  if (S_ISDIR (st.st_mode))
    {
      if (remove_tree_at (pfd, base, err) < 0)
        return mini_error_wrap (err, "layer %s: entry `%s`: replace directory", x->layer, name);
      return 0;
    }
  if (unlinkat (pfd, base, 0) < 0 && errno != ENOENT)
    return mini_error_set (err, errno, "layer %s: entry `%s`: replace existing", x->layer, name);
  return 0;
}

static int
extract_file (struct extract *x, struct archive *a, struct archive_entry *e, int pfd,
              const char *base, const char *name, const struct entry_meta *m, mini_error_t *err)
{
  cleanup_close int fd = -1;
  const void *buf;
  size_t size;
  la_int64_t off, pos = 0;
  bool chowned = false;
  int r;

  fd = openat (pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, m->mode & 0777);
  if (fd < 0 && errno == EEXIST)
    {
      if (remove_existing (x, pfd, base, name, err) < 0)
        return -1;
      fd = openat (pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, m->mode & 0777);
    }
  if (fd < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: create", x->layer, name);

  while ((r = archive_read_data_block (a, &buf, &size, &off)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      if (off != pos)
        {
          /* sparse file: leave a hole */
          if (off < pos || lseek (fd, off, SEEK_SET) < 0)
            return mini_error_set (err, off < pos ? EINVAL : errno,
                                   "layer %s: entry `%s`: bad data offset", x->layer, name);
          pos = off;
        }
      if (size > 0 && write_all (fd, buf, size) < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: write", x->layer, name);
      pos += size;
    }
  if (r != ARCHIVE_EOF)
    return -1; /* the caller reports the archive (or stream) error */
  if (archive_entry_size_is_set (e) && pos < archive_entry_size (e)
      && ftruncate (fd, archive_entry_size (e)) < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: truncate", x->layer, name);

  if (need_chown (x, m))
    {
      if (fchown (fd, m->uid, m->gid) < 0)
        {
          if (chown_failed (x, name, err) < 0)
            return -1;
        }
      else
        chowned = true;
    }
  /* chown clears setuid/setgid; umask may have dropped bits at creation.  */
  if ((chowned || (m->mode & 07000) || x->umask == (mode_t) -1 || (m->mode & x->umask))
      && fchmod (fd, m->mode) < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: chmod", x->layer, name);
  if (apply_xattrs (x, e, fd, pfd, base, name, true, err) < 0)
    return -1;
  if (m->times[1].tv_nsec != UTIME_OMIT && futimens (fd, m->times) < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: set times", x->layer, name);
  if (close (steal_fd (&fd)) < 0 && errno != EINTR)
    return mini_error_set (err, errno, "layer %s: entry `%s`: close", x->layer, name);
  return 0;
}

static int
extract_dir (struct extract *x, struct archive_entry *e, int pfd, const char *base,
             const char *name, const struct entry_meta *m, mini_error_t *err)
{
  struct dir_meta *d;
  struct stat st;
  int fd;

  if (base[0] == '\0')
    {
      /* "./": the root directory itself */
      fd = openat (x->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
      name = ".";
    }
  else
    {
      if (mkdirat (pfd, base, 0700) < 0)
        {
          if (errno != EEXIST)
            return mini_error_set (err, errno, "layer %s: entry `%s`: mkdir", x->layer, name);
          if (fstatat (pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return mini_error_set (err, errno, "layer %s: entry `%s`: stat", x->layer, name);
          if (!S_ISDIR (st.st_mode))
            {
              if (remove_existing (x, pfd, base, name, err) < 0)
                return -1;
              if (mkdirat (pfd, base, 0700) < 0)
                return mini_error_set (err, errno, "layer %s: entry `%s`: mkdir", x->layer, name);
              /* `.wh.d` then `d/`: the new d replaces the lower one */
              if (is_whiteout (&st) && set_opaque (x, pfd, base, name, err) < 0)
                return -1;
            }
        }
      fd = openat (pfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      int en = errno;
      if (fd >= 0)
        close (fd);
      return mini_error_set (err, en, "layer %s: entry `%s`: open directory", x->layer, name);
    }
  if (archive_entry_xattr_count (e) > 0)
    {
      cleanup_close int rfd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (rfd < 0)
        {
          int en = errno;
          close (fd);
          return mini_error_set (err, en, "layer %s: entry `%s`: open directory", x->layer, name);
        }
      if (apply_xattrs (x, e, rfd, -1, NULL, name, true, err) < 0)
        {
          close (fd);
          return -1;
        }
    }
  /* The children of this directory usually come next.  */
  if (strcmp (name, ".") != 0)
    cache_put (x, name, fd, dir_gives_fresh_owner (x, &st));
  else
    close (fd);

  d = dir_meta_get (x, name);
  d->dev = st.st_dev;
  d->ino = st.st_ino;
  d->m = *m;
  return 0;
}

static int
extract_symlink (struct extract *x, struct archive_entry *e, int pfd, const char *base,
                 const char *name, const struct entry_meta *m, mini_error_t *err)
{
  const char *target = archive_entry_symlink (e);

  if (target == NULL || target[0] == '\0')
    return mini_error_set (err, EINVAL, "layer %s: entry `%s`: empty symlink target", x->layer,
                           name);
  if (symlinkat (target, pfd, base) < 0)
    {
      if (errno != EEXIST)
        return mini_error_set (err, errno, "layer %s: entry `%s`: symlink", x->layer, name);
      if (remove_existing (x, pfd, base, name, err) < 0)
        return -1;
      if (symlinkat (target, pfd, base) < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: symlink", x->layer, name);
    }
  if (need_chown (x, m) && fchownat (pfd, base, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0
      && chown_failed (x, name, err) < 0)
    return -1;
  if (apply_xattrs (x, e, -1, pfd, base, name, false, err) < 0)
    return -1;
  if (m->times[1].tv_nsec != UTIME_OMIT
      && utimensat (pfd, base, m->times, AT_SYMLINK_NOFOLLOW) < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: set times", x->layer, name);
  return 0;
}

static int
extract_node (struct extract *x, struct archive_entry *e, int pfd, const char *base,
              const char *name, const struct entry_meta *m, mini_error_t *err)
{
  mode_t type = archive_entry_filetype (e);
  dev_t dev = 0;

  if (type != AE_IFIFO)
    dev = makedev (archive_entry_rdevmajor (e), archive_entry_rdevminor (e));
  if (mknodat (pfd, base, type | 0600, dev) < 0)
    {
      if (errno != EEXIST)
        return mini_error_set (err, errno, "layer %s: entry `%s`: mknod", x->layer, name);
      if (remove_existing (x, pfd, base, name, err) < 0)
        return -1;
      if (mknodat (pfd, base, type | 0600, dev) < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: mknod", x->layer, name);
    }
  if (need_chown (x, m) && fchownat (pfd, base, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0
      && chown_failed (x, name, err) < 0)
    return -1;
  if (fchmodat (pfd, base, m->mode, AT_SYMLINK_NOFOLLOW) < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: chmod", x->layer, name);
  if (apply_xattrs (x, e, -1, pfd, base, name, false, err) < 0)
    return -1;
  if (m->times[1].tv_nsec != UTIME_OMIT
      && utimensat (pfd, base, m->times, AT_SYMLINK_NOFOLLOW) < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: set times", x->layer, name);
  return 0;
}

/* Copy the extended attributes of SRC (a path, usually /proc/self/fd/N/x)
   to DST, best effort (overlay metadata never).  */
static void
copy_xattrs (const char *src, const char *dst)
{
  char list[8192];
  ssize_t n, off;

  n = llistxattr (src, list, sizeof (list));
  for (off = 0; n > 0 && off < n; off += strlen (list + off) + 1)
    {
      const char *name = list + off;
      char value[4096];
      ssize_t vlen;

      if (strncmp (name, "trusted.overlay.", 16) == 0 || strncmp (name, "user.overlay.", 13) == 0)
        continue;
      vlen = lgetxattr (src, name, value, sizeof (value));
      if (vlen >= 0)
        (void) lsetxattr (dst, name, value, vlen, 0);
    }
}

static int
copy_data (int in, int out)
{
  char buf[65536];

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

/* Copy the non-directory SBASE in SPFD (a lower layer), described by ST, to
   DBASE in DPFD (this layer) with its owner, mode, times and xattrs.  */
static int
copy_up (struct extract *x, int spfd, const char *sbase, const struct stat *st, int dpfd,
         const char *dbase, const char *entry, mini_error_t *err)
{
  cleanup_free char *src_proc = xfmt ("/proc/self/fd/%d/%s", spfd, sbase);
  cleanup_free char *dst_proc = xfmt ("/proc/self/fd/%d/%s", dpfd, dbase);
  struct timespec times[2] = { st->st_atim, st->st_mtim };

  if (S_ISREG (st->st_mode))
    {
      cleanup_close int in = openat (spfd, sbase, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      cleanup_close int out = -1;

      if (in < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: open lower file", x->layer,
                               entry);
      out = openat (dpfd, dbase, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (out < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: copy up", x->layer, entry);
      if (copy_data (in, out) < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: copy up", x->layer, entry);
      if (fchown (out, st->st_uid, st->st_gid) < 0 && chown_failed (x, entry, err) < 0)
        return -1;
      if (fchmod (out, st->st_mode & 07777) < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: chmod", x->layer, entry);
      copy_xattrs (src_proc, dst_proc);
      if (futimens (out, times) < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: set times", x->layer, entry);
      return 0;
    }
  if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX + 1];
      ssize_t n = readlinkat (spfd, sbase, target, sizeof (target) - 1);

      if (n < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: readlink", x->layer, entry);
      target[n] = '\0';
      if (symlinkat (target, dpfd, dbase) < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: copy up", x->layer, entry);
    }
  else if (mknodat (dpfd, dbase, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: copy up", x->layer, entry);
  if (fchownat (dpfd, dbase, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0
      && chown_failed (x, entry, err) < 0)
    return -1;
  if (!S_ISLNK (st->st_mode) && fchmodat (dpfd, dbase, st->st_mode & 07777, 0) < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: chmod", x->layer, entry);
  copy_xattrs (src_proc, dst_proc);
  if (utimensat (dpfd, dbase, times, AT_SYMLINK_NOFOLLOW) < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: set times", x->layer, entry);
  return 0;
}

/* The hardlink target TARGET (TPARENT/TBASE) is not in this layer: find it
   in the lower layers and copy it up to the same path in this layer (what
   overlayfs does when a file of a lower layer gets a new link), so that the
   link can be made here.  *RET_TPFD gets the new target parent fd.  */
static int
hardlink_copy_up (struct extract *x, const char *target, const char *tparent, const char *tbase,
                  size_t upper_dirs, const char *raw_target, const char *name, int *ret_tpfd,
                  mini_error_t *err)
{
  cleanup_close int lpfd = -1;
  cleanup_close int tpfd = -1;
  struct stat lst;
  size_t idx = 0;
  int r;

  r = lower_lookup (x, target, upper_dirs, &idx, &lst, err);
  if (r < 0)
    return mini_error_wrap (err, "entry `%s`", name);
  if (r == LOWER_ABSENT)
    return mini_error_set (err, ENOENT,
                           "layer %s: entry `%s`: hardlink target `%s` is not in the layer or "
                           "its lower layers",
                           x->layer, name, raw_target);
  if (S_ISDIR (lst.st_mode))
    return mini_error_set (err, EINVAL,
                           "layer %s: refusing hardlink `%s` to `%s`: a directory or whiteout",
                           x->layer, name, raw_target);
  lpfd = open_nofollow (x->lowers[idx], tparent, O_PATH | O_DIRECTORY);
  if (lpfd < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: open lower `%s`", x->layer, name,
                           tparent[0] ? tparent : ".");
  if (walk_dir (x, tparent, name, true, &tpfd, NULL, err) < 0)
    return -1;
  if (copy_up (x, lpfd, tbase, &lst, tpfd, tbase, name, err) < 0)
    return -1;
  *ret_tpfd = steal_fd (&tpfd);
  return 0;
}

static int
extract_hardlink (struct extract *x, const char *raw_target, int borrowed_pfd, const char *base,
                  const char *name, mini_error_t *err)
{
  cleanup_free char *target = NULL;
  cleanup_free char *tparent = NULL;
  cleanup_close int tpfd = -1;
  cleanup_close int pfd = -1;
  const char *why, *tbase;
  struct stat st, cur;
  size_t depth = 0;
  int r;

  why = normalize_name (raw_target, &target);
  if (why == NULL && target[0] == '\0')
    why = "names the layer root";
  if (why)
    return mini_error_set (err, EINVAL, "layer %s: refusing hardlink `%s` to `%s`: %s", x->layer,
                           name, raw_target, why);
  tbase = split_name (target, &tparent);
  if (strncmp (tbase, WHITEOUT_PREFIX, strlen (WHITEOUT_PREFIX)) == 0)
    return mini_error_set (err, EINVAL, "layer %s: refusing hardlink `%s` to whiteout `%s`",
                           x->layer, name, raw_target);

  /* Our own fds: the cache may be emptied below.  */
  pfd = fcntl (borrowed_pfd, F_DUPFD_CLOEXEC, 3);
  if (pfd < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: dup", x->layer, name);

  /* The target's parent, inside the layer, never through a symlink.  */
  r = walk_dir (x, tparent, name, false, &tpfd, &depth, err);
  if (r < 0)
    return -1;
  if (r == 0 && fstatat (tpfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno != ENOENT)
        return mini_error_set (err, errno, "layer %s: entry `%s`: stat hardlink target `%s`",
                               x->layer, name, raw_target);
      r = 1;
      depth = SIZE_MAX; /* the whole parent exists here */
    }
  if (r == 1)
    {
      if (x->flatten || x->n_lowers == 0)
        return mini_error_set (err, ENOENT,
                               "layer %s: entry `%s`: hardlink target `%s` is not in the layer",
                               x->layer, name, raw_target);
      if (depth == SIZE_MAX)
        {
          const char *c;
          for (depth = 1, c = tparent; *c; c++)
            depth += *c == '/';
          if (tparent[0] == '\0')
            depth = 0;
        }
      if (tpfd >= 0)
        close (steal_fd (&tpfd));
      if (hardlink_copy_up (x, target, tparent, tbase, depth, raw_target, name, &tpfd, err) < 0)
        return -1;
      if (fstatat (tpfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: stat hardlink target `%s`",
                               x->layer, name, raw_target);
    }
  if (S_ISDIR (st.st_mode) || (!x->flatten && is_whiteout (&st)))
    return mini_error_set (err, EINVAL,
                           "layer %s: refusing hardlink `%s` to `%s`: a directory or whiteout",
                           x->layer, name, raw_target);

  /* No AT_SYMLINK_FOLLOW: a symlink target is linked itself.  */
  if (linkat (tpfd, tbase, pfd, base, 0) == 0)
    return 0;
  if (errno == EEXIST)
    {
      if (fstatat (pfd, base, &cur, AT_SYMLINK_NOFOLLOW) == 0 && cur.st_dev == st.st_dev
          && cur.st_ino == st.st_ino)
        return 0; /* already that file */
      if (remove_existing (x, pfd, base, name, err) < 0)
        return -1;
      if (linkat (tpfd, tbase, pfd, base, 0) == 0)
        return 0;
    }
  return mini_error_set (err, errno, "layer %s: entry `%s`: link to `%s`", x->layer, name,
                         raw_target);
}

/* Flatten mode: remove from the directory FD (PATH) everything that is not
   of this layer, descending into this layer's directories (an opaque
   directory, or a whiteout of a directory this layer also has).  */
static int
prune_lower (struct extract *x, int fd, const char *path, const char *entry, int depth,
             mini_error_t *err)
{
  cleanup_close int rfd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  cleanup_strv char **names = NULL;
  struct dirent *de;
  size_t i;

  if (depth > 4096)
    return mini_error_set (err, ELOOP, "layer %s: entry `%s`: tree too deep", x->layer, entry);
  if (rfd < 0)
    return mini_error_set (err, errno, "layer %s: entry `%s`: open `%s`", x->layer, entry,
                           path[0] ? path : ".");
  d = fdopendir (rfd);
  if (d == NULL)
    return mini_error_set (err, errno, "layer %s: entry `%s`: opendir", x->layer, entry);
  rfd = -1;
  names = xmalloc0 (sizeof (char *));
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      strv_append (&names, de->d_name);

  for (i = 0; names[i]; i++)
    {
      cleanup_free char *child = path[0] ? xfmt ("%s/%s", path, names[i]) : xstrdup (names[i]);
      struct stat st;

      if (!pathset_has (&x->mine, child))
        {
          if (remove_tree_at (dirfd (d), names[i], err) < 0)
            return mini_error_wrap (err, "layer %s: entry `%s`: remove lower `%s`", x->layer,
                                    entry, child);
          continue;
        }
      if (fstatat (dirfd (d), names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
        {
          cleanup_close int cfd
              = openat (dirfd (d), names[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (cfd < 0)
            return mini_error_set (err, errno, "layer %s: entry `%s`: open `%s`", x->layer,
                                   entry, child);
          if (prune_lower (x, cfd, child, entry, depth + 1, err) < 0)
            return -1;
        }
    }
  return 0;
}

/* Flatten mode, dir/.wh.NAME: remove NAME of the lower layers.  What this
   layer made stays (layer.md): a directory of this layer only loses the
   lower content it merged with.  */
static int
flatten_whiteout (struct extract *x, int pfd, const char *parent, const char *target,
                  const char *name, mini_error_t *err)
{
  cleanup_free char *path = parent[0] ? xfmt ("%s/%s", parent, target) : xstrdup (target);
  struct stat st;

  mark_mine (x, parent);
  if (!pathset_has (&x->mine, path))
    return remove_existing (x, pfd, target, name, err);
  if (fstatat (pfd, target, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
    {
      cleanup_close int fd = openat (pfd, target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

      if (fd < 0)
        return mini_error_set (err, errno, "layer %s: entry `%s`: open `%s`", x->layer, name,
                               path);
      cache_invalidate (x, pfd);
      return prune_lower (x, fd, path, name, 0, err);
    }
  return 0;
}

/* dir/.wh.NAME: a 0:0 character device NAME, unless this layer has NAME
   (then an opaque directory, or nothing).  */
static int
extract_whiteout (struct extract *x, int pfd, const char *target, const char *name,
                  mini_error_t *err)
{
  struct stat st;

  if (mknodat (pfd, target, S_IFCHR | 0, makedev (0, 0)) == 0)
    return 0;
  if (errno != EEXIST)
    return mini_error_set (err, errno, "layer %s: entry `%s`: create whiteout `%s`", x->layer,
                           name, target);
  /* Content of this layer stays (layer.md); a directory of this layer must
     still hide the lower one it replaces, instead of merging with it.  */
  if (fstatat (pfd, target, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
    return set_opaque (x, pfd, target, name, err);
  return 0;
}

static int
extract_entry (struct extract *x, struct archive *a, struct archive_entry *e, mini_error_t *err)
{
  const char *raw = archive_entry_pathname (e);
  const char *hardlink = archive_entry_hardlink (e);
  mode_t type = archive_entry_filetype (e);
  cleanup_free char *name = NULL;
  cleanup_free char *parent = NULL;
  struct entry_meta m;
  const char *why, *base;
  int pfd, r;

  why = normalize_name (raw, &name);
  if (why)
    return mini_error_set (err, EINVAL, "layer %s: refusing entry `%s`: %s", x->layer,
                           raw ? raw : "", why);

  /* Top-level aufs metadata (.wh..wh.plnk, .wh..wh.aufs...) is skipped, as
     Docker does.  */
  if (strncmp (name, WHITEOUT_META_PREFIX, strlen (WHITEOUT_META_PREFIX)) == 0
      && strcmp (name, WHITEOUT_OPAQUE) != 0)
    return 0;

  base = split_name (name, &parent);

  if (strncmp (base, WHITEOUT_PREFIX, strlen (WHITEOUT_PREFIX)) == 0)
    {
      const char *target = base + strlen (WHITEOUT_PREFIX);


      if (hardlink)
        return mini_error_set (err, EINVAL, "layer %s: refusing entry `%s`: hardlink whiteout",
                               x->layer, name);
      if (strcmp (base, WHITEOUT_OPAQUE) == 0)
        {
          if (get_parent (x, parent, name, &pfd, err) < 0)
            return -1;
          if (x->flatten)
            {
              /* The directory is this layer's; what lower layers put in it
                 goes, whatever the order of the entries.  */
              mark_mine (x, parent);
              cache_invalidate (x, pfd);
              return prune_lower (x, pfd, parent, name, 0, err);
            }
          return set_opaque (x, pfd, NULL, name, err);
        }
      if (strncmp (base, WHITEOUT_META_PREFIX, strlen (WHITEOUT_META_PREFIX)) == 0)
        return 0; /* other aufs metadata */
      if (target[0] == '\0' || strcmp (target, ".") == 0 || strcmp (target, "..") == 0)
        return mini_error_set (err, EINVAL, "layer %s: refusing whiteout `%s`: invalid name",
                               x->layer, name);
      if (get_parent (x, parent, name, &pfd, err) < 0)
        return -1;
      if (x->flatten)
        return flatten_whiteout (x, pfd, parent, target, name, err);
      return extract_whiteout (x, pfd, target, name, err);
    }

  if (base[0] == '\0')
    {
      /* The root itself ("./").  */
      if (hardlink || type != AE_IFDIR)
        return mini_error_set (err, EINVAL, "layer %s: refusing entry `%s`: the root must be a "
                               "directory", x->layer, raw);
      if (entry_meta_get (x, e, name, &m, err) < 0)
        return -1;
      return extract_dir (x, e, x->rootfd, base, name, &m, err);
    }

  if (get_parent (x, parent, name, &pfd, err) < 0)
    return -1;

  if (hardlink)
    r = extract_hardlink (x, hardlink, pfd, base, name, err);
  else
    {
      if (entry_meta_get (x, e, name, &m, err) < 0)
        return -1;
      switch (type)
        {
        case AE_IFREG:
          r = extract_file (x, a, e, pfd, base, name, &m, err);
          break;
        case AE_IFDIR:
          r = extract_dir (x, e, pfd, base, name, &m, err);
          break;
        case AE_IFLNK:
          r = extract_symlink (x, e, pfd, base, name, &m, err);
          break;
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
          r = extract_node (x, e, pfd, base, name, &m, err);
          break;
        default:
          return mini_error_set (err, EINVAL, "layer %s: entry `%s`: unsupported type 0%o",
                                 x->layer, name, (unsigned) type);
        }
    }
  if (r == 0)
    mark_mine (x, name);
  return r;
}

/* Directory metadata last, deepest (latest created) first, so that a 0555
   directory still received its contents and no mtime is disturbed.  */
static int
finish_dirs (struct extract *x, mini_error_t *err)
{
  size_t i;

  cache_invalidate (x, -1);
  for (i = x->n_dirs; i-- > 0;)
    {
      struct dir_meta *d = &x->dirs[i];
      mini_error_t tmp = NULL;
      cleanup_close int fd = -1;
      struct stat st;

      fd = safe_openat (x->rootfd, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, &tmp);
      if (fd < 0)
        {
          int en = mini_error_errno (tmp);
          if (en == ENOENT || en == ENOTDIR || en == ELOOP)
            {
              /* replaced by a later entry */
              mini_error_release (&tmp);
              continue;
            }
          *err = tmp;
          return mini_error_wrap (err, "layer %s: directory `%s`", x->layer, d->path);
        }
      if (fstat (fd, &st) < 0)
        return mini_error_set (err, errno, "layer %s: directory `%s`: stat", x->layer, d->path);
      if (st.st_dev != d->dev || st.st_ino != d->ino)
        continue; /* replaced by a later entry */
      if ((st.st_uid != d->m.uid || st.st_gid != d->m.gid) && fchown (fd, d->m.uid, d->m.gid) < 0
          && chown_failed (x, d->path, err) < 0)
        return -1;
      if (fchmod (fd, d->m.mode) < 0)
        return mini_error_set (err, errno, "layer %s: directory `%s`: chmod", x->layer, d->path);
      if (d->m.times[1].tv_nsec != UTIME_OMIT && futimens (fd, d->m.times) < 0)
        return mini_error_set (err, errno, "layer %s: directory `%s`: set times", x->layer,
                               d->path);
    }
  return 0;
}

static int
archive_failed (struct archive *a, struct unpack_stream *st, const char *layer, const char *what,
                mini_error_t *err)
{
  /* A producer failure (decompression, size limit) is the real cause.  */
  pthread_mutex_lock (&st->lock);
  if (st->done && st->perr)
    {
      *err = steal_pointer (&st->perr);
      pthread_mutex_unlock (&st->lock);
      return -1;
    }
  pthread_mutex_unlock (&st->lock);
  return mini_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EINVAL,
                         "layer %s: %s: %s", layer, what,
                         archive_error_string (a) ?: "unknown error");
}

int
unpack_layer_apply_stream (struct unpack_stream *st, int layer_dirfd, const char *expected_diff_id,
                           const struct unpack_options *opts, mini_error_t *err)
{
  const char *layer = st->layer;
  const struct unpack_limits *limits = opts ? opts->limits : NULL;
  uint64_t max_entries = limits && limits->max_entries ? limits->max_entries
                                                       : UNPACK_DEFAULT_MAX_ENTRIES;
  cleanup_extract struct extract x = { 0 };
  cleanup_archive struct archive *inner = NULL;
  struct archive_entry *entry;
  uint64_t n_entries = 0;
  char digest[72];
  struct stat root_st;
  size_t i;
  int r;

  x.orphan_fd = -1;
  for (i = 0; i < PARENT_CACHE_SIZE; i++)
    x.cache[i].fd = -1;
  if (st->consumed > 0 || st->held)
    return mini_error_set (err, EINVAL, "layer %s: stream already read", layer);
  if (expected_diff_id && !digest_is_valid (expected_diff_id))
    return mini_error_set (err, EINVAL, "layer %s: invalid diff_id `%s`", layer,
                           expected_diff_id);
  if (fstat (layer_dirfd, &root_st) < 0)
    return mini_error_set (err, errno, "layer %s: stat layer directory", layer);
  if (mini_archive_load (err) < 0)
    return -1;

  x.rootfd = layer_dirfd;
  x.layer = layer;
  x.euid = geteuid ();
  x.egid = getegid ();
  x.is_root = x.euid == 0;
  x.umask = current_umask ();
  x.flatten = opts && opts->mode == UNPACK_MODE_FLATTEN;
  x.root_fresh_owner = dir_gives_fresh_owner (&x, &root_st);
  if (!x.flatten && opts && opts->n_lower_fds > 0)
    {
      x.lowers = opts->lower_fds;
      x.n_lowers = opts->n_lower_fds;
    }

  inner = archive_read_new ();
  if (inner == NULL)
    return mini_error_set (err, ENOMEM, "layer %s: archive_read_new", layer);
  archive_read_support_format_tar (inner);
  archive_read_support_format_empty (inner);
  if (archive_read_open (inner, st, NULL, stream_read_cb, NULL) != ARCHIVE_OK)
    return archive_failed (inner, st, layer, "not a tar archive", err);

  for (;;)
    {
      r = archive_read_next_header (inner, &entry);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return archive_failed (inner, st, layer, "read tar header", err);
      if (++n_entries > max_entries)
        return mini_error_set (err, EFBIG,
                               "layer %s: too many entries (more than %llu); refusing "
                               "(decompression bomb?)",
                               layer, (unsigned long long) max_entries);
      r = extract_entry (&x, inner, entry, err);
      if (x.orphan_fd >= 0)
        {
          close (x.orphan_fd);
          x.orphan_fd = -1;
        }
      if (r < 0)
        {
          if (*err == NULL)
            return archive_failed (inner, st, layer, "read tar data", err);
          return -1;
        }
    }

  if (finish_dirs (&x, err) < 0)
    return -1;
  if (stream_finish (st, digest, err) < 0)
    return -1;
  if (expected_diff_id && strcmp (digest, expected_diff_id) != 0)
    return mini_error_set (err, EINVAL, "layer %s: diff_id mismatch: expected %s, got %s", layer,
                           expected_diff_id, digest);
  return 0;
}

int
unpack_layer_apply_opts (int blob_fd, int layer_dirfd, const char *expected_diff_id,
                         const char *layer_digest, const struct unpack_options *opts,
                         mini_error_t *err)
{
  cleanup_unpack_stream struct unpack_stream *st = NULL;

  if (expected_diff_id && !digest_is_valid (expected_diff_id))
    return mini_error_set (err, EINVAL, "layer %s: invalid diff_id `%s`",
                           layer_name (layer_digest), expected_diff_id);
  if (unpack_stream_open (blob_fd, layer_digest, opts ? opts->limits : NULL, &st, err) < 0)
    return -1;
  return unpack_layer_apply_stream (st, layer_dirfd, expected_diff_id, opts, err);
}

int
unpack_layer_apply (int blob_fd, int layer_dirfd, const char *expected_diff_id,
                    const char *layer_digest, const struct unpack_limits *limits,
                    mini_error_t *err)
{
  struct unpack_options opts = { .mode = UNPACK_MODE_OVERLAY, .limits = limits };

  return unpack_layer_apply_opts (blob_fd, layer_dirfd, expected_diff_id, layer_digest, &opts,
                                  err);
}
