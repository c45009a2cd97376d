/* mini - store: the content-addressable image cache, the layer store and
 * container state, all under one root directory (--root, default
 * /var/lib/mini).
 *
 * Layout (root):
 *   blobs/sha256/<hex>          verified blobs (image-spec image-layout.md)
 *   ingest/                     partial downloads (never look complete)
 *   refs.json                   reference -> manifest digest (+ platform)
 *   layers/<chain hex>/diff     extracted layers, keyed by chain_id
 *   layers/tmp-*                layers being extracted (removed on failure)
 *   containers/<id>/            per-container state.json, upper/, work/,
 *                               rootfs/ (mount point), ctr.log, etc files
 *   names/<name> -> <id>        container names (symlinks, atomic reservation)
 *   lock                        flock for ref/name updates
 *
 * Depends only on common/.
 */
#ifndef MINI_STORE_H
#define MINI_STORE_H

#include "common/common.h"
#include <jansson.h>

struct store
{
  int root_fd;  /* O_PATH|O_DIRECTORY fd of the root */
  char *root;   /* absolute path of the root */
};

/* Open (creating when missing) the store at ROOT (absolute or relative path).
   Returns 0 and a new store in *RET (free with store_close). */
int store_open (const char *root, struct store **ret, mini_error_t *err);
void store_close (struct store *s);

/* ------------------------------------------------------------ blobs */

/* true if the verified blob DIGEST is present. */
bool store_blob_exists (struct store *s, const char *digest);

/* Open blob DIGEST read-only (O_CLOEXEC); ENOENT in *err when absent. */
int store_blob_open (struct store *s, const char *digest, int *ret_fd, mini_error_t *err);

/* Absolute path of blob DIGEST (whether or not it exists), caller frees. */
char *store_blob_path (struct store *s, const char *digest);

/* Read a whole (small, <= 16 MiB) blob and re-verify its digest. */
int store_blob_read (struct store *s, const char *digest, char **ret_buf, size_t *ret_len,
                     mini_error_t *err);

/* Store BUF as a blob after checking that its sha256 equals DIGEST.
   EINVAL "digest mismatch" otherwise; nothing is written then. */
int store_blob_put (struct store *s, const char *digest, const void *buf, size_t len,
                    mini_error_t *err);

/* A blob being written: bytes are hashed as they arrive; only commit makes it
   visible under blobs/, after the digest (and size, when known) matched. */
struct store_ingest;

/* Begin ingesting a blob expected to have DIGEST and EXPECTED_SIZE bytes
   (-1 = unknown).  The partial file lives under ingest/. */
int store_ingest_begin (struct store *s, const char *digest, int64_t expected_size,
                        struct store_ingest **ret, mini_error_t *err);
/* Append LEN bytes.  EFBIG when more than the expected size arrives. */
int store_ingest_write (struct store_ingest *in, const void *buf, size_t len, mini_error_t *err);
/* Bytes written so far. */
int64_t store_ingest_size (struct store_ingest *in);
/* Discard what was written so far (e.g. a retried transfer restarting). */
int store_ingest_reset (struct store_ingest *in, mini_error_t *err);
/* Verify digest+size, fsync, rename into blobs/.  Frees IN in every case.
   On mismatch: EINVAL with a message naming expected and actual digests; the
   partial file is removed. */
int store_ingest_commit (struct store_ingest *in, mini_error_t *err);
/* Remove the partial file and free IN.  Safe on NULL. */
void store_ingest_abort (struct store_ingest *in);

/* ------------------------------------------------------------ references */

/* Record that normalized reference REF ("docker.io/library/busybox:latest" or
   "host/repo@sha256:...") resolves to manifest MANIFEST_DIGEST (the
   platform-specific image manifest, not an index).  INDEX_DIGEST may be NULL
   (the digest of the index/list the manifest was chosen from, if any). */
int store_ref_set (struct store *s, const char *ref, const char *manifest_digest,
                   const char *index_digest, mini_error_t *err);
/* Look up REF; ENOENT (with a message naming REF) when unknown.  Caller frees. */
int store_ref_get (struct store *s, const char *ref, char **ret_manifest_digest,
                   mini_error_t *err);

struct store_ref
{
  char *ref;
  char *manifest_digest;
  char *index_digest; /* may be NULL */
};
/* All references, sorted by name.  Free with store_refs_free. */
int store_ref_list (struct store *s, struct store_ref **ret, size_t *ret_n, mini_error_t *err);
void store_refs_free (struct store_ref *refs, size_t n);

/* ------------------------------------------------------------ images */

struct store_layer
{
  char *digest;     /* compressed blob digest (manifest descriptor) */
  char *media_type; /* descriptor mediaType */
  int64_t size;     /* compressed size */
  char *diff_id;    /* from config rootfs.diff_ids */
  char *chain_id;   /* image-spec config.md "Layer ChainID" */
};

/* An image manifest plus its config (image-spec manifest.md, config.md). */
struct store_image
{
  char *manifest_digest;
  char *config_digest;
  size_t n_layers;
  struct store_layer *layers; /* bottom-most first */
  /* config */
  char *os, *architecture, *variant;
  char *created;      /* RFC 3339 or NULL */
  char **env;         /* NULL-terminated, may be empty */
  char **entrypoint;  /* NULL when unset */
  char **cmd;         /* NULL when unset */
  char *working_dir;  /* NULL when unset */
  char *user;         /* NULL when unset */
  char *stop_signal;  /* NULL when unset */
  int64_t size;       /* sum of layer sizes */
};

/* Parse manifest MANIFEST (OCI image manifest or Docker v2s2) and config
   CONFIG into a new store_image.  Checks that layer count equals the number
   of diff_ids, that every digest is valid, and computes chain_ids.  Errors:
   EINVAL naming the broken field. */
int store_image_parse (const char *manifest_digest, const char *manifest, size_t manifest_len,
                       const char *config, size_t config_len, struct store_image **ret,
                       mini_error_t *err);
/* Load from blobs: the manifest MANIFEST_DIGEST and the config it names. */
int store_image_load (struct store *s, const char *manifest_digest, struct store_image **ret,
                      mini_error_t *err);
void store_image_free (struct store_image *img);

/* chain_id of the layer after PARENT_CHAIN_ID (NULL for the first) with
   DIFF_ID, into OUT ("sha256:<hex>"). */
void store_chain_id (const char *parent_chain_id, const char *diff_id, char out[72]);

/* ------------------------------------------------------------ layers */

/* true if the layer CHAIN_ID is fully extracted. */
bool store_layer_exists (struct store *s, const char *chain_id);
/* Absolute path of layers/<hex>/diff (caller frees). */
char *store_layer_diff_path (struct store *s, const char *chain_id);

/* Make a fresh temporary layer directory; *RET_DIRFD is an O_DIRECTORY fd
   of its diff/ dir to extract into; *RET_TMP names it for commit/abort. */
int store_layer_begin (struct store *s, int *ret_dirfd, char **ret_tmp, mini_error_t *err);
/* Publish the temporary layer as CHAIN_ID (rename); if another process
   published it first, the temporary is removed and 0 returned. */
int store_layer_commit (struct store *s, const char *tmp, const char *chain_id, mini_error_t *err);
/* Remove a temporary layer (best effort). */
void store_layer_abort (struct store *s, const char *tmp);

/* ------------------------------------------------------------ containers */

enum store_container_status
{
  STORE_CONTAINER_CREATED = 0,
  STORE_CONTAINER_RUNNING,
  STORE_CONTAINER_EXITED,
};

struct store_container
{
  char *id;            /* 64 hex */
  char *name;
  char *image;         /* reference as the user gave it (normalized) */
  char *image_digest;  /* manifest digest */
  char *config_digest; /* image ID */
  char **argv;         /* the process: entrypoint + cmd */
  char **env;          /* full environment of the process (image Env + -e) */
  char *working_dir;   /* absolute, "/" by default */
  char *user;          /* image User or NULL (root) */
  char *hostname;      /* first 12 hex of id */
  int64_t created_ns;
  int64_t started_ns;
  int64_t finished_ns;
  enum store_container_status status;
  pid_t pid;                /* container init, host pid namespace */
  uint64_t pid_start_time;  /* proc_start_time (pid) to detect pid reuse */
  pid_t monitor_pid;
  int exit_code;            /* valid when EXITED; 128+n for signal n */
  char *stop_signal;        /* e.g. "SIGQUIT"; NULL = SIGTERM */
  bool pid_host, net_host, auto_remove, detached;
  char **layers;            /* chain_ids, bottom-most first */
};

/* Validate a container name: [a-zA-Z0-9][a-zA-Z0-9_.-]* (Docker's rule),
   at most 128 chars. */
bool store_container_name_valid (const char *name);

/* Create a container directory with a new random 64-hex ID and reserve
   C->name (when NULL, a generated "adjective_noun" style name is assigned).
   C->id is set.  EEXIST with "name already in use by container <id>" when
   taken.  Writes state.json. */
int store_container_create (struct store *s, struct store_container *c, mini_error_t *err);
/* Rewrite state.json atomically. */
int store_container_save (struct store *s, const struct store_container *c, mini_error_t *err);
/* Find by full ID, unique ID prefix or name.  ENOENT "no such container: X". */
int store_container_load (struct store *s, const char *id_or_name, struct store_container **ret,
                          mini_error_t *err);
/* All containers (order: newest first). */
int store_container_list (struct store *s, struct store_container ***ret, size_t *ret_n,
                          mini_error_t *err);
/* Open containers/<id> as an O_DIRECTORY fd. */
int store_container_dir (struct store *s, const char *id, int *ret_dirfd, mini_error_t *err);
/* Absolute path of containers/<id> (caller frees). */
char *store_container_path (struct store *s, const char *id);
/* Remove the container directory and its name. */
int store_container_remove (struct store *s, const struct store_container *c, mini_error_t *err);
void store_container_free (struct store_container *c);
void store_containers_free (struct store_container **v, size_t n);

/* Exclusive flock on containers/<id>/lock (blocking).  Returns the fd. */
int store_container_lock (struct store *s, const char *id, mini_error_t *err);

#endif
