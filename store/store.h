/* mini - store: the content-addressable image cache, the layer store and
 * container state, all under one root directory (--root, default
 * /var/lib/mini).
 *
 * The root is an OCI image layout (image-spec image-layout.md), so that
 * `skopeo inspect oci:ROOT:REF` and umoci read it; mini's own metadata sits
 * beside it:
 *   oci-layout                  {"imageLayoutVersion": "1.0.0"}
 *   index.json                  one descriptor per reference (the platform's
 *                               image manifest), reference in the annotation
 *                               org.opencontainers.image.ref.name
 *   blobs/sha256/<hex>          verified blobs
 *   ingest/                     partial downloads (never look complete)
 *   layers/<chain hex>/diff     extracted layers, keyed by chain_id
 *   layers/<chain hex>/layer.json  what the layer held when published
 *   layers/tmp-*                layers being extracted or removed
 *   chains/<manifest hex>       the image's chain_ids, one per line (a cache
 *                               derived from the manifest's config, so that
 *                               `run` needs no hashing; rebuilt when absent)
 *   tmp/                        other temporaries (archive loads)
 *   containers/<id>/            per-container state.json, upper/, work/,
 *                               rootfs/ (mount point), ctr.log, etc files,
 *                               exit ("CODE FINISHED_NS", mini-monitor's record)
 *   names/<name> -> <id>        container names (symlinks, atomic reservation)
 *   lock                        flock for index.json updates
 *   locks/                      gc lock, per-layer and per-key locks,
 *                               temporaries' owner locks
 *
 * Concurrency: every command that adds content holds the gc lock shared
 * (store_lock_gc); garbage collection and the consistency check hold it
 * exclusive.  Writers of one layer serialize on store_lock_layer.
 *
 * Depends only on common/.
 */
#ifndef MINI_STORE_H
#define MINI_STORE_H

#include "common/common.h"
#include <jansson.h>

/* A temporary directory this process owns (see store_tmpdir_begin). */
struct store_tmp
{
  char *name;  /* relative to the root: "layers/tmp-<rnd>", "tmp/load-<rnd>" */
  int lock_fd; /* flock on locks/tmp-<rnd> */
  struct store_tmp *next;
};

struct store
{
  int root_fd;  /* O_PATH|O_DIRECTORY fd of the root */
  char *root;   /* absolute path of the root */
  struct store_tmp *tmps; /* temporaries owned by this process */
};

/* Annotation keys of index.json descriptors. */
#define STORE_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define STORE_ANNOTATION_INDEX "io.mini.index.digest"

/* Open (creating when missing) the store at ROOT (absolute or relative path):
   creates the directories, oci-layout and an empty index.json (never
   replacing existing ones), and converts a refs.json of older mini versions
   into index.json.  Returns 0 and a new store in *RET (free with
   store_close). */
int store_open (const char *root, struct store **ret, mini_error_t *err);
/* Close S; temporaries it still owns are left for the next cleanup. */
void store_close (struct store *s);

/* A new, empty OCI image index (JSON object, caller decrefs). */
json_t *store_index_new (void);

/* ------------------------------------------------------------ locks */

/* flock(OP) (LOCK_SH, LOCK_EX, optionally | LOCK_NB) on the file REL under
   the root, created when missing.  *RET_FD holds the lock until closed.
   Errors: EWOULDBLOCK with LOCK_NB when held elsewhere; open errors. */
int store_lock_path (struct store *s, const char *rel, int op, int *ret_fd, mini_error_t *err);
/* The gc lock (locks/gc): shared while adding content (pull, load, run,
   tag), exclusive for store_gc / store_check / store_cleanup_leftovers. */
int store_lock_gc (struct store *s, int op, int *ret_fd, mini_error_t *err);
/* Exclusive lock of layer CHAIN_ID (locks/layer-<hex>), taken around its
   extraction so that each layer is extracted once.  Take it only while
   holding the gc lock.  EINVAL for an invalid chain_id. */
int store_lock_layer (struct store *s, const char *chain_id, int *ret_fd, mini_error_t *err);
/* Exclusive lock named by any string KEY (locks/key-<sha256 of KEY>), e.g.
   a repository being pulled.  Take it only while holding the gc lock. */
int store_lock_key (struct store *s, const char *key, int *ret_fd, mini_error_t *err);

/* ------------------------------------------------------------ temporaries */

/* Make the directory PARENT/PREFIX-<random> (PARENT: "layers" or "tmp"),
   owned by this process: it holds the flock on locks/tmp-<random> until
   store_tmpdir_end (or exit).  *RET_REL gets the path relative to the root
   (caller frees). */
int store_tmpdir_begin (struct store *s, const char *parent, const char *prefix, char **ret_rel,
                        mini_error_t *err);
/* Give up ownership of REL (from store_tmpdir_begin), removing the
   directory first when REMOVE.  REL may already have been renamed away. */
void store_tmpdir_end (struct store *s, const char *rel, bool remove);
/* Remove the temporaries (layers/tmp-*, tmp/ *) whose owner is dead (lock
   free or gone) and their lock files.  Appends one line per removed
   directory to *REMOVED (may be NULL) and adds their bytes to *BYTES (may be
   NULL).  Safe at any time: live temporaries are never touched. */
int store_cleanup_tmpdirs (struct store *s, char ***removed, int64_t *bytes, mini_error_t *err);
/* Entries (below REL, not counting REL) and bytes of regular files in the
   tree REL under the root (hardlinked files counted once; never following
   symlinks or crossing mounts).  Not thread-safe (nftw). */
int store_tree_stats (struct store *s, const char *rel, int64_t *ret_files, int64_t *ret_bytes,
                      mini_error_t *err);

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

/* Size in bytes of blob DIGEST, -1 when absent. */
int64_t store_blob_size (struct store *s, const char *digest);

/* Remove blob DIGEST (absent is success).  Only gc and check call this,
   under the exclusive gc lock. */
int store_blob_remove (struct store *s, const char *digest, mini_error_t *err);

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

/* Like store_ingest_begin, but the partial file has a stable name,
   ingest/<hex>.partial, so that an interrupted download can go on later, in
   this process or the next one: the bytes already there are re-hashed
   (store_ingest_size tells how many; store_ingest_resumed_from too) and new
   ones are appended.  A file longer than EXPECTED_SIZE is emptied.  The file
   is flock'ed while open; when another process holds it, a private partial
   file is used instead (as store_ingest_begin does).  Commit and abort work
   as for store_ingest_begin; store_ingest_suspend keeps the file. */
int store_ingest_resume (struct store *s, const char *digest, int64_t expected_size,
                         struct store_ingest **ret, mini_error_t *err);
/* Bytes that were already in the partial file when IN was opened (0 for
   store_ingest_begin, and after store_ingest_reset). */
int64_t store_ingest_resumed_from (struct store_ingest *in);
/* Close IN and free it, keeping a non-empty partial file of
   store_ingest_resume for a later resume (others are removed, as by
   store_ingest_abort).  Safe on NULL. */
void store_ingest_suspend (struct store_ingest *in);

/* ------------------------------------------------------------ references */

/* Record in index.json that normalized reference REF
   ("docker.io/library/busybox:latest" or "host/repo@sha256:...") resolves
   to manifest MANIFEST_DIGEST (the platform-specific image manifest, not an
   index), replacing REF's previous entry.  INDEX_DIGEST may be NULL (the
   digest of the index/list the manifest was chosen from, if any).  REF
   NULL records an untagged image (nothing changes when the manifest is
   already listed).  The manifest blob must be in the store (its size,
   media type and platform go into the descriptor): ENOENT otherwise.
   Atomic (under the root lock; index.json replaced by rename). */
int store_ref_set (struct store *s, const char *ref, const char *manifest_digest,
                   const char *index_digest, mini_error_t *err);
/* Look up REF; ENOENT (with a message naming REF) when unknown.  Caller frees. */
int store_ref_get (struct store *s, const char *ref, char **ret_manifest_digest,
                   mini_error_t *err);

struct store_ref
{
  char *ref;          /* NULL for an untagged image */
  char *manifest_digest;
  char *index_digest; /* may be NULL */
};
/* Look up REF into *RET (strings owned by the caller: free them or use
   store_refs_free (ret, 1) on a heap copy).  ENOENT when unknown. */
int store_ref_lookup (struct store *s, const char *ref, struct store_ref *ret, mini_error_t *err);
/* All references, sorted by name, untagged images last.  Free with
   store_refs_free. */
int store_ref_list (struct store *s, struct store_ref **ret, size_t *ret_n, mini_error_t *err);
void store_refs_free (struct store_ref *refs, size_t n);
/* Remove REF from index.json (its blobs stay until store_gc).  ENOENT when
   unknown. */
int store_ref_remove (struct store *s, const char *ref, mini_error_t *err);
/* Remove every entry (tagged or not) naming MANIFEST_DIGEST.  ENOENT when
   none. */
int store_ref_remove_manifest (struct store *s, const char *manifest_digest, mini_error_t *err);
/* Convert refs.json (older mini) into index.json entries and remove it;
   nothing to do when absent.  Called by store_open. */
int store_ref_migrate_legacy (struct store *s, mini_error_t *err);

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
/* Load from blobs: the manifest MANIFEST_DIGEST and the config it names.
   The blobs are trusted, not hashed again: every blob was verified when it
   entered the store (pull, load) and `mini system check` re-verifies them.
   chain_ids come from chains/<manifest hex> when that cache matches the
   config (one valid digest per layer, the first equal to its diff_id), else
   they are computed (image-spec config.md "Layer ChainID") and the cache is
   written (best effort, not fsynced).  So a `run` of a pulled image loads
   no crypto library.  *RET is the caller's (store_image_free).  Errors:
   ENOENT when a blob is missing, EINVAL for a manifest or config that does
   not parse. */
int store_image_load (struct store *s, const char *manifest_digest, struct store_image **ret,
                      mini_error_t *err);
/* Remove chains/<hex> entries whose manifest blob is gone.  Returns the
   number removed. */
size_t store_chains_gc (struct store *s);
void store_image_free (struct store_image *img);

/* chain_id of the layer after PARENT_CHAIN_ID (NULL for the first) with
   DIFF_ID, into OUT ("sha256:<hex>"). */
void store_chain_id (const char *parent_chain_id, const char *diff_id, char out[72]);

/* ------------------------------------------------------------ layers */

/* true if the layer CHAIN_ID is fully extracted (published). */
bool store_layer_exists (struct store *s, const char *chain_id);
/* Absolute path of layers/<hex>/diff (caller frees). */
char *store_layer_diff_path (struct store *s, const char *chain_id);

/* Make a fresh temporary layer directory layers/tmp-<rnd> owned by this
   process (store_tmpdir_begin), after removing those of dead processes;
   *RET_DIRFD is an O_DIRECTORY fd of its diff/ dir to extract into;
   *RET_TMP names it for commit/abort (caller frees). */
int store_layer_begin (struct store *s, int *ret_dirfd, char **ret_tmp, mini_error_t *err);
/* Record what the temporary layer holds (layer.json: entries and bytes)
   and publish it as CHAIN_ID (rename, never replacing); if another process
   published it first, the temporary is removed and 0 returned. */
int store_layer_commit (struct store *s, const char *tmp, const char *chain_id, mini_error_t *err);
/* Remove a temporary layer (best effort). */
void store_layer_abort (struct store *s, const char *tmp);

struct store_layer_info
{
  int64_t files; /* entries under diff/ when published */
  int64_t bytes; /* bytes of regular files under diff/ when published */
};
/* Read layers/<hex>/layer.json.  ENOENT for a layer without one. */
int store_layer_info_get (struct store *s, const char *chain_id, struct store_layer_info *ret,
                          mini_error_t *err);
/* Unpublish layer CHAIN_ID (rename to a temporary, then remove it), adding
   its bytes to *RET_BYTES (may be NULL).  Absent is success.  Only under the
   exclusive gc lock. */
int store_layer_remove (struct store *s, const char *chain_id, int64_t *ret_bytes,
                        mini_error_t *err);

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
  bool seccomp_unconfined;  /* --security-opt seccomp=unconfined: no seccomp filter */
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
/* Rewrite state.json atomically (temp file + rename, no fsync: readers see
   the old or the new state, but a host crash may lose the last update). */
int store_container_save (struct store *s, const struct store_container *c, mini_error_t *err);
/* Find by full ID, unique ID prefix or name.  ENOENT "no such container: X".
   A container that state.json says is running but whose detached monitor
   left containers/<id>/exit (newer than its start) comes back EXITED with
   that exit code and finish time, pid, pid_start_time and monitor_pid 0. */
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

/* ------------------------------------------------------------ archives */

/* One image to save. */
struct store_save_image
{
  const char *manifest_digest;
  const char *index_digest; /* or NULL; saved (and annotated) when its blob is present */
  char **names;             /* NULL-terminated normalized references for index.json
                               (io.containerd.image.name and ref.name), or NULL */
  char **repo_tags;         /* NULL-terminated docker-archive RepoTags, or NULL */
};

/* Write the N images IMGS to OUT_FD as one tar (pax) that is both an OCI
   image layout (oci-layout, index.json: one descriptor per name, blobs/)
   and a docker-archive (manifest.json: Config, RepoTags, Layers naming the
   same blobs/sha256/ files).  Blobs are written as stored (digests
   preserved).  Every blob is checked to be present before anything is
   written: ENOENT naming the missing blob.  Write errors carry errno (e.g.
   EPIPE). */
int store_archive_save (struct store *s, const struct store_save_image *imgs, size_t n, int out_fd,
                        mini_error_t *err);

struct store_load_options
{
  /* Choose the manifest for this platform from the image index (or Docker
     manifest list) INDEX_JSON (LEN bytes): *RET_DIGEST (caller frees). */
  int (*choose) (void *data, const char *index_json, size_t len, char **ret_digest,
                 mini_error_t *err);
  void *data;
};

/* One image found in a loaded archive. */
struct store_loaded
{
  char *manifest_digest; /* in the store now, with its config and layer blobs */
  char *index_digest;    /* or NULL */
  char **names;          /* NULL-terminated names as written in the archive (OCI:
                            io.containerd.image.name, else ref.name; docker-archive:
                            RepoTags); may be empty; not normalized */
};

/* Read an image archive (tar, optionally gzip/zstd/xz/bzip2 compressed)
   from IN_FD (a pipe is fine: read once, front to back): an OCI archive
   (index.json; entries naming an index are resolved with O->choose) or a
   docker-archive (manifest.json; any version's layout, symlinked layers
   included; a new OCI manifest is built for each image).  Every blob is
   verified against its digest and moved into blobs/; nothing is written to
   index.json (the caller names the images).  The caller holds the gc lock
   shared.  Files are staged under tmp/load-<rnd>, removed at the end (or by
   the next cleanup after a crash).  *RET gets N_RET images (free with
   store_loaded_free).  Errors: EINVAL for something that is not such an
   archive, a bad path or a digest mismatch (naming the entry); ENOENT for
   an incomplete archive (naming the missing blob). */
int store_archive_load (struct store *s, int in_fd, const struct store_load_options *o,
                        struct store_loaded **ret, size_t *ret_n, mini_error_t *err);
void store_loaded_free (struct store_loaded *v, size_t n);

/* ------------------------------------------------------------ maintenance */

/* What store_gc / store_check / store_cleanup_leftovers did and found.
   Every line is a complete sentence naming the object. */
struct store_report
{
  char **removed;   /* garbage and leftovers removed */
  char **repaired;  /* inconsistencies found and repaired */
  char **problems;  /* inconsistencies found and not repaired */
  char **notes;     /* informational */
  char **extract;   /* store_check: manifest digests whose layers must be
                       (re-)extracted (the caller runs unpack) */
  int64_t bytes_freed;
  size_t n_blobs, n_layers;   /* gc: removed; check: verified */
  size_t n_images, n_containers, n_partials;
};
void store_report_clear (struct store_report *r);

/* The blobs (INDEX_DIGEST when non-NULL, the manifest, its config and
   layers) of image MANIFEST_DIGEST appended to *BLOBS, its chain_ids to
   *CHAINS, as far as the store allows: *RET_KNOWN is false when the
   chain_ids could not be computed (config or manifest missing). */
void store_image_parts (struct store *s, const char *manifest_digest, const char *index_digest,
                        char ***blobs, char ***chains, bool *ret_known);

/* Remove what interrupted commands left (caller holds the exclusive gc
   lock): dead temporaries, blob and index.json temp files, container
   directories without state.json, names of missing containers; with
   PARTIALS also the partial downloads that are finished (the blob exists)
   or older than a day and not being written (younger ones are kept for
   resuming; counted in R->n_partials). */
int store_cleanup_leftovers (struct store *s, bool partials, struct store_report *r,
                             mini_error_t *err);

/* Garbage collection (caller holds the exclusive gc lock).  With ONLY ==
   NULL: store_cleanup_leftovers, then every blob and layer not referenced
   by index.json or by a container is removed, and unused lock files.  With
   ONLY (N_ONLY images, e.g. just untagged by rmi): only those images' blobs
   and layers that nothing references any more.  Adds to R. */
int store_gc (struct store *s, const struct store_ref *only, size_t n_only, struct store_report *r,
              mini_error_t *err);

/* Consistency check (caller holds the exclusive gc lock): every blob's
   digest is recomputed, every layer's contents compared with its
   layer.json, every image's manifest, config and layer blobs looked up,
   every container's layers looked up.  With REPAIR: leftovers are removed
   first, corrupt blobs and damaged or incomplete layers are removed
   (layers of running containers excepted), missing layer.json recorded.
   Images whose layers must be extracted (again) are listed in R->extract.
   Returns 0 once checked (whatever it found: see R), < 0 when it could not
   check. */
int store_check (struct store *s, bool repair, struct store_report *r, mini_error_t *err);

/* Disk usage, as `docker system df` shows it. */
struct store_df
{
  size_t images, images_active;         /* distinct images; used by a container */
  int64_t images_size;                  /* all blobs and extracted layers */
  int64_t images_reclaimable;           /* what no container needs */
  size_t containers, containers_active; /* all; running */
  int64_t containers_size;              /* their writable layers (upper/) */
  int64_t containers_reclaimable;       /* of the containers not running */
};
/* Fill *RET.  IS_RUNNING (may be NULL: the recorded status is used) tells
   whether a container runs. */
int store_df (struct store *s, bool (*is_running) (void *, struct store_container *), void *data,
              struct store_df *ret, mini_error_t *err);

#endif
