/* mini - common: errors, cleanup helpers, safe fs helpers, digests.
 *
 * Every other module depends on this one; it depends on nothing of mini's.
 * Library code never prints or exits: it reports failures through
 * mini_error_t (crun's libcrun_error_t shape).
 */
#ifndef MINI_COMMON_H
#define MINI_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/types.h>

/* ---------------------------------------------------------------- errors */

struct mini_error_s
{
  int status; /* errno value (0 when none applies) */
  char *msg;  /* owned, human-readable, without strerror */
};
typedef struct mini_error_s *mini_error_t;

/* Set *err (which must be NULL) to a new error built from FMT.  STATUS is an
   errno value or 0.  Always returns -1 so callers can `return mini_error_set (...)`. */
int mini_error_set (mini_error_t *err, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Prefix the message of an existing error with context: "CTX: old message".
   Returns -1.  If *err is NULL it creates a new error with status 0. */
int mini_error_wrap (mini_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* errno value carried by ERR (0 if none or ERR is NULL). */
int mini_error_errno (mini_error_t err);

/* Free *err and set it to NULL.  Safe on NULL. */
void mini_error_release (mini_error_t *err);

/* Format "MSG: strerror(status)" (or only MSG when status is 0) into a new
   string owned by the caller. */
char *mini_error_string (mini_error_t err);

/* ---------------------------------------------------------------- memory */

void *xmalloc (size_t n);
void *xmalloc0 (size_t n);
void *xrealloc (void *p, size_t n);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
int xasprintf (char **ret, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Convenience: returns the newly allocated formatted string. */
char *xfmt (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* NULL-terminated string vectors. */
size_t strv_len (char *const *v);
char **strv_dup (char *const *v);
void strv_free (char **v);
/* Append a copy of S to *V (reallocating).  */
void strv_append (char ***v, const char *s);

/* ---------------------------------------------------------------- cleanup */

void cleanup_freep (void *p);
void cleanup_closep (int *fd);
void cleanup_filep (FILE **f);
void cleanup_dirp (DIR **d);
void cleanup_strvp (char ***v);
void cleanup_errorp (mini_error_t *e);

#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_file __attribute__ ((cleanup (cleanup_filep)))
#define cleanup_dir __attribute__ ((cleanup (cleanup_dirp)))
#define cleanup_strv __attribute__ ((cleanup (cleanup_strvp)))
#define cleanup_error __attribute__ ((cleanup (cleanup_errorp)))

static inline void *
steal_pointer_ (void *pp)
{
  void **p = (void **) pp;
  void *r = *p;
  *p = NULL;
  return r;
}
#define steal_pointer(pp) steal_pointer_ (pp)

static inline int
steal_fd (int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}

#ifndef TEMP_FAILURE_RETRY
#define TEMP_FAILURE_RETRY(expression)                                         \
  (__extension__ ({                                                            \
    long int __result;                                                         \
    do                                                                         \
      __result = (long int) (expression);                                      \
    while (__result == -1L && errno == EINTR);                                 \
    __result;                                                                  \
  }))
#endif

/* ---------------------------------------------------------------- I/O */

/* Write all LEN bytes of BUF to FD, retrying on EINTR and short writes.
   Returns 0 or -1 with errno set. */
int write_all (int fd, const void *buf, size_t len);
/* Read until EOF or LEN bytes.  Returns bytes read or -1 with errno set. */
ssize_t read_all (int fd, void *buf, size_t len);

/* Read the whole file PATH (relative to DIRFD, or AT_FDCWD) into a new
   NUL-terminated buffer.  *RET_LEN (optional) gets its length in bytes.
   MAX_LEN bounds the size (0 = 64 MiB).  Errors: open/read failures (errno
   kept), EFBIG when larger than MAX_LEN. */
int read_file_at (int dirfd, const char *path, char **ret_buf, size_t *ret_len,
                  size_t max_len, mini_error_t *err);

/* Atomically replace PATH (relative to DIRFD) with LEN bytes of BUF: writes a
   temporary file in the same directory (O_CREAT|O_EXCL), fsyncs it and renames
   it over PATH.  The temporary is removed on failure.  MODE is the file mode. */
int write_file_atomic_at (int dirfd, const char *path, const void *buf, size_t len,
                          mode_t mode, mini_error_t *err);

/* write_file_atomic_at, with the fsync only when DURABLE.  Without it the
   rename is still atomic (a reader sees the old or the new content, never a
   part), but after a power loss the file may be empty or old: for state that
   does not need to survive a crash (a container's /etc files and its state
   while it is being created or run).  Errors: as write_file_atomic_at. */
int write_file_atomic_at_flags (int dirfd, const char *path, const void *buf, size_t len,
                                mode_t mode, bool durable, mini_error_t *err);

/* mkdir -p of PATH relative to DIRFD (plain host paths, trusted).  Existing
   directories are fine. */
int mkdir_p_at (int dirfd, const char *path, mode_t mode, mini_error_t *err);

/* rm -rf of NAME inside DIRFD, never following symlinks and never crossing
   into another mount (EXDEV on a mount point).  A missing NAME is success. */
int remove_tree_at (int dirfd, const char *name, mini_error_t *err);

/* ---------------------------------------------------------------- safe paths */

/* Open PATH inside the tree rooted at ROOTFD as if ROOTFD were "/":
   openat2 (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); on kernels without
   openat2 (ENOSYS) a component-by-component walk that resolves symlinks
   against ROOTFD itself.  Absolute symlinks and ".." can never leave the root.
   FLAGS always gets O_CLOEXEC added.  Returns the fd or -1 with *err set
   (errno of the failing step kept, e.g. ENOENT). */
int safe_openat (int rootfd, const char *path, int flags, mode_t mode, mini_error_t *err);

/* Like safe_openat with O_PATH|O_DIRECTORY, creating missing directories
   (mode MODE) along the way, each created with mkdirat on the already
   resolved parent fd.  Returns a directory fd (O_PATH) or -1. */
int safe_mkdir_p (int rootfd, const char *path, mode_t mode, mini_error_t *err);

/* Test hook: when true, safe_openat uses the fallback walk as if openat2
   returned ENOSYS. */
extern bool safe_openat_force_fallback;

/* Split PATH into a newly allocated parent ("." when none) and returns a
   pointer to the last component inside PATH.  Trailing slashes are ignored. */
const char *path_split (const char *path, char **ret_parent);

/* ---------------------------------------------------------------- digests */

/* true if S is "sha256:" followed by exactly 64 lowercase hex characters
   (image-spec descriptor.md "Digests", the only algorithm mini accepts). */
bool digest_is_valid (const char *s);
/* Pointer to the 64-hex part of a valid digest. */
const char *digest_hex (const char *digest);

/* Streaming sha256 (OpenSSL EVP). */
struct sha256_stream;
struct sha256_stream *sha256_stream_new (void);
void sha256_stream_update (struct sha256_stream *s, const void *buf, size_t len);
/* Writes "sha256:<64 hex>" (72 bytes incl. NUL) into OUT; the stream may not
   be updated afterwards. */
void sha256_stream_final (struct sha256_stream *s, char out[72]);
void sha256_stream_free (struct sha256_stream *s);
void cleanup_sha256p (struct sha256_stream **s);
#define cleanup_sha256 __attribute__ ((cleanup (cleanup_sha256p)))

/* "sha256:<hex>" of BUF into OUT. */
void sha256_digest (const void *buf, size_t len, char out[72]);

/* OpenSSL reads openssl.cnf when a process first uses it (~1.4 ms, most of
   the cost of the first digest).  mini only needs that file for TLS, i.e.
   once libcurl is loaded.  crypto_skip_config: start OpenSSL without it
   (call before any other OpenSSL use: cmd/main.c does, for every verb).
   crypto_load_skipped_config: read it now, as OpenSSL would have (the
   OPENSSL_CONF variable included), when crypto_skip_config ran; called by
   pull/ before loading libcurl, so TLS sees the system settings.  Neither
   can fail: a broken config file is ignored, as OpenSSL's default start does. */
void crypto_skip_config (void);
void crypto_load_skipped_config (void);

/* ---------------------------------------------------------------- misc */

/* Fill OUT with 2*NBYTES random lowercase hex chars + NUL (getrandom). */
int random_hex (char *out, size_t nbytes, mini_error_t *err);

/* Start time of process PID in clock ticks since boot (field 22 of
   /proc/PID/stat), 0 if the process does not exist. */
uint64_t proc_start_time (pid_t pid);

/* Current wall-clock time in nanoseconds since the epoch. */
int64_t now_ns (void);

/* Human duration like Docker's: "Less than a second", "5 seconds",
   "About a minute", "3 minutes", "About an hour", "2 hours", "3 days"...
   Returns a static string-free new allocation. */
char *human_duration (int64_t seconds);

/* Human size like Docker's ("4.26MB", "187MB", "1.2GB"), decimal units. */
char *human_size (int64_t bytes);

#endif
