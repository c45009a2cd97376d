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

/* Guards against decompression bombs.  A NULL pointer means all defaults. */
struct unpack_limits
{
  uint64_t max_entries; /* tar entries per layer; 0 = 1,000,000 */
  uint64_t max_bytes;   /* uncompressed tar stream bytes; 0 = 64 GiB */
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
   it.  Returns 0, or < 0 with *ERR set. */
int unpack_layer_apply (int blob_fd, int layer_dirfd, const char *expected_diff_id,
                        const char *layer_digest, const struct unpack_limits *limits,
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

#endif
