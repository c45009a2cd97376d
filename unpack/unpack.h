/* mini - unpack: layer application (image-spec layer.md).
 *
 * A layer blob (gzip, zstd, xz, bzip2 or plain tar: autodetected, with
 * in-process decompressors only) is extracted into a layer directory with
 * *at() syscalls only, every path resolved inside that directory (openat2
 * RESOLVE_IN_ROOT through common's safe_openat/safe_mkdir_p), never
 * following a symlink at the last component.  OCI whiteouts are converted to the overlayfs form:
 *
 *   dir/.wh.name        -> character device 0:0 `dir/name`
 *   dir/.wh..wh..opq    -> xattr trusted.overlay.opaque="y" on `dir`
 *
 * The uncompressed stream is hashed while it is read, so the diff_id is
 * verified in the same pass; decompression runs on a helper thread while
 * the calling thread hashes and writes files.
 *
 * Depends on store/ and common/.
 */
#ifndef MINI_UNPACK_H
#define MINI_UNPACK_H

#include "common/common.h"
#include "store/store.h"

#include <stdint.h>

/* Defaults used when a field of struct unpack_limits is 0. */
#define UNPACK_DEFAULT_MAX_ENTRIES ((uint64_t) 1000000)
#define UNPACK_DEFAULT_MAX_BYTES ((uint64_t) 64 << 30)
#define UNPACK_DEFAULT_MAX_RATIO ((uint64_t) 200)
#define UNPACK_DEFAULT_RATIO_MIN_BYTES ((uint64_t) 128 << 20)

/* Guards against decompression bombs.  A NULL pointer means all defaults.
   The expansion ratio is the uncompressed tar stream over the compressed
   bytes read so far; it is only checked once the stream is past
   RATIO_MIN_BYTES, so small layers of zeros are fine.  Ordinary layers
   expand 2-10 times, a tar of 100k tiny files about 80 times; a gzip of
   zeros about 230 (gzip -1) to 1030 times (gzip -9), zstd and xz far more. */
struct unpack_limits
{
  uint64_t max_entries;     /* tar entries per layer; 0 = 1,000,000 */
  uint64_t max_bytes;       /* uncompressed tar stream bytes; 0 = 64 GiB */
  uint64_t max_ratio;       /* uncompressed / compressed; 0 = 200 */
  uint64_t ratio_min_bytes; /* check the ratio past this size; 0 = 128 MiB */
};

/* How a layer is applied to the target directory. */
enum unpack_mode
{
  /* The target is the layer's own directory, used as an overlayfs lower
     layer: whiteouts become overlay whiteouts (see above). */
  UNPACK_MODE_OVERLAY = 0,
  /* The target already holds the lower layers, flattened (a rootfs): a
     whiteout removes the lower path, an opaque marker removes the lower
     content of its directory, what this layer made stays (layer.md: in
     any order).  Nothing of the overlay form is ever created. */
  UNPACK_MODE_FLATTEN,
};

struct unpack_options
{
  enum unpack_mode mode;
  /* Overlay mode only (may be NULL): the directories of the lower layers,
     topmost first, in overlay form.  With them a hardlink to a file of a
     lower layer works (the file is copied up into this layer first, as
     overlayfs does), implicit parent directories take the metadata the
     lower layers show, and a lower symlink is never written through. */
  const int *lower_fds;
  size_t n_lower_fds;
  const struct unpack_limits *limits; /* NULL: defaults */
};

/* Extract the layer tar stream read from BLOB_FD (gzip, zstd, xz, bzip2 or
   plain tar, autodetected) into the directory LAYER_DIRFD, converting OCI
   whiteouts to overlayfs form.

   Entry names are normalized ("./" and empty components dropped); absolute
   names, empty names and any ".." component are refused, naming the entry
   and the layer.  Hardlink targets must already exist in this layer.  An
   existing entry is replaced, except that a directory over a directory keeps
   its contents and only takes the new metadata, and a whiteout never
   replaces content of the same layer: a same-layer directory of that name
   becomes opaque instead (it replaces the lower one, in either order).  Owners, modes (setuid/setgid/sticky
   included), mtimes and xattrs are restored; directory modes and mtimes are
   applied once all entries are written.  When not running as root, ownership
   and xattrs the kernel refuses are skipped (best effort), but the overlay
   whiteout devices and opaque xattrs are required (EPERM error).  Tar xattrs
   in the overlay namespaces (trusted.overlay.*, user.overlay.*) are ignored:
   only whiteout entries may produce them.

   If EXPECTED_DIFF_ID is non-NULL, the sha256 of the uncompressed stream
   (including anything after the end-of-archive marker) must equal it, else
   EINVAL "layer <LAYER_DIGEST>: diff_id mismatch".  LAYER_DIGEST is only used
   in messages (may be NULL).  LIMITS may be NULL (defaults).

   On failure LAYER_DIRFD holds a partial extraction: the caller discards
   it.  Returns 0, or < 0 with *ERR set.

   Same as unpack_layer_apply_opts with the overlay mode, no lower layers
   and LIMITS. */
int unpack_layer_apply (int blob_fd, int layer_dirfd, const char *expected_diff_id,
                        const char *layer_digest, const struct unpack_limits *limits,
                        mini_error_t *err);

/* unpack_layer_apply with options OPTS (NULL: overlay mode, defaults).

   Paths: every parent directory is resolved inside LAYER_DIRFD without
   following any symlink (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS, or
   a walk with O_NOFOLLOW): an entry, whiteout or hardlink target whose path
   goes through a symlink (of this layer, of the flattened lower layers or,
   with OPTS->lower_fds, of a lower layer) is refused with EINVAL naming
   the entry and the layer.  Limits: EFBIG "... decompression bomb ..." past
   OPTS->limits (entries, bytes, expansion ratio).  In flatten mode the
   directories of lower layers whose entries change keep their mtime. */
int unpack_layer_apply_opts (int blob_fd, int layer_dirfd, const char *expected_diff_id,
                             const char *layer_digest, const struct unpack_options *opts,
                             mini_error_t *err);

/* A layer's uncompressed tar stream (image-spec layer.md: the diff_id is
   the digest of this stream), decompressed and hashed by two helper threads
   into a small ring of buffers (2 MiB) as soon as it is opened.  Opening
   the stream of the next layer before applying the current one lets its
   decompression overlap the current extraction (unpack_image and
   unpack_image_flatten do so). */
struct unpack_stream;

/* Start decompressing the layer blob BLOB_FD (gzip, zstd, xz, bzip2 or plain
   tar, autodetected; BLOB_FD is duplicated, the caller keeps its own fd).
   LAYER_DIGEST (may be NULL) names the layer in messages; LIMITS (NULL:
   defaults) bounds the uncompressed size and expansion ratio.  On success
   *RET is a new stream for unpack_layer_apply_stream, freed by the caller
   with unpack_stream_free.  Returns 0, or < 0 with *ERR set (unreadable
   blob, unknown compression, thread creation). */
int unpack_stream_open (int blob_fd, const char *layer_digest, const struct unpack_limits *limits,
                        struct unpack_stream **ret, mini_error_t *err);

/* Stop the helper threads of ST (if still running) and free it.  NULL is
   accepted. */
void unpack_stream_free (struct unpack_stream *st);
/* unpack_stream_free (*ST), for the cleanup_unpack_stream attribute. */
void cleanup_unpack_streamp (struct unpack_stream **st);
#define cleanup_unpack_stream __attribute__ ((cleanup (cleanup_unpack_streamp)))

/* unpack_layer_apply_opts on the stream ST (from unpack_stream_open, not yet
   read; it is read to its end, ST stays owned by the caller).  OPTS->limits
   only supplies max_entries here: the stream's limits were given to
   unpack_stream_open. */
int unpack_layer_apply_stream (struct unpack_stream *st, int layer_dirfd,
                               const char *expected_diff_id, const struct unpack_options *opts,
                               mini_error_t *err);

/* Make sure every layer of IMG is extracted in the store S: each layer whose
   chain_id is not yet there is extracted into a temporary layer directory
   (store_layer_begin), verified against its diff_id and published
   (store_layer_commit).  On failure the temporary directory is removed
   (store_layer_abort), so nothing half-made is ever visible; layers
   published before the failure stay (they are complete).  Returns 0, or < 0
   with *ERR set. */
int unpack_image (struct store *s, const struct store_image *img,
                  const struct unpack_limits *limits, mini_error_t *err);

/* Write the flattened root filesystem of IMG into the directory DIRFD
   (normally empty): each layer blob, bottom-most first, is read from the
   store S, verified against its diff_id and applied in UNPACK_MODE_FLATTEN
   (whiteouts delete, opaque directories lose their lower content).  The
   result is what a container sees in its rootfs before it runs (what
   `umoci unpack` writes).  Errors name the layer; DIRFD then holds a
   partial tree for the caller to remove.  Returns 0, or < 0 with *ERR. */
int unpack_image_flatten (struct store *s, const struct store_image *img, int dirfd,
                          const struct unpack_limits *limits, mini_error_t *err);

/* Write the tree under ROOTFD (a directory fd: a container's rootfs, a
   detached overlay mount, /proc/PID/root) to OUT_FD as a POSIX tar (pax
   where needed): regular files, directories, symlinks, hardlinks (by
   inode), devices, fifos, owners, modes, mtimes, xattrs (overlay ones
   skipped).  Nothing is followed: every entry is opened relative to its
   parent's fd with O_NOFOLLOW.  Mount points inside the tree (another
   mount than ROOTFD's: /proc, /dev, bind-mounted /etc files) are written as
   empty directories or files, never descended into.  Names are relative
   ("bin/sh"), the root itself is not an entry; entries come sorted by
   name.  Returns 0, or < 0 with *ERR (a write error on OUT_FD included). */
int unpack_export_tree (int rootfd, int out_fd, mini_error_t *err);

#endif
