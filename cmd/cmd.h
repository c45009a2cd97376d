/* mini - command-line front end (internal header of cmd/).
 * The only place that prints errors or exits. */
#ifndef MINI_CMD_H
#define MINI_CMD_H

#include "common/common.h"
#include "store/store.h"
#include "pull/pull.h"

struct cmd_globals
{
  const char *root;           /* --root / MINI_ROOT / /var/lib/mini */
  const char *config;         /* --config FILE or NULL (default file, optional) */
  struct pull_options pull;   /* mirrors, insecure registries */
  struct store *store;        /* opened lazily by cmd_store () */
  bool offline;               /* --offline: never touch the network */
  const char *storage_driver; /* --storage-driver overlay|vfs, NULL: overlay, vfs as fallback */
};

/* Open the store (once).  Prints and exits 125 on failure. */
struct store *cmd_store (struct cmd_globals *g);

/* Print "mini: <error>" on stderr and free ERR. */
void cmd_print_error (mini_error_t *err);

/* Pull REF (already parsed) with progress on stderr and Docker's summary
   lines on OUT (stdout for `mini pull`, stderr for `mini run`).
   Returns 0 or -1 with *err set. */
int cmd_pull_ref (struct cmd_globals *g, const struct pull_reference *ref, const char *platform,
                  FILE *out, mini_error_t *err);

/* The short form of a normalized reference, as Docker shows it:
   docker.io/library/busybox:latest -> busybox:latest. Caller frees. */
char *cmd_familiar_ref (const char *ref);

/* The gc lock (store_lock_gc) held shared, for commands that add content
   (pull, load, run until its container is recorded, tag, save): returns
   the fd holding it (close to release) or -1 with *ERR set.  When no other
   mini uses the store, leftovers of interrupted commands are removed first
   (store_cleanup_leftovers).  Never keep it across a fork that outlives
   the command (a detached monitor would hold it).  SWEEP false skips that
   cleanup (run: a container start must not pay for scanning the store;
   the other verbs that take this lock still do it). */
int cmd_lock_shared (struct cmd_globals *g, bool sweep, mini_error_t *err);
/* The gc lock held exclusive (rmi, prune, system check); says on stderr
   that it waits when another mini holds it. */
int cmd_lock_exclusive (struct cmd_globals *g, mini_error_t *err);
/* Extract the missing layers of IMG (unpack_image), each under its layer
   lock (store_lock_layer), so concurrent commands extract a layer once.
   The caller holds the gc lock. */
int cmd_unpack_image (struct cmd_globals *g, const struct store_image *img, mini_error_t *err);

/* An image named by a reference or an image ID (prefix). */
struct cmd_image_match
{
  char *ref;             /* the normalized reference it was named by, NULL by ID */
  bool by_id;
  char *manifest_digest;
  char *index_digest;    /* or NULL */
  char *config_digest;   /* the image ID, NULL when the config is unreadable */
  struct store_ref *refs; /* every index.json entry for this manifest */
  size_t n;
};
/* Find NAME: a reference first (normalized: busybox = docker.io/library/busybox:latest),
   then an image ID ("sha256:" optional, any unique prefix).  ENOENT
   "No such image: NAME"; EINVAL for an ambiguous prefix. */
int cmd_image_lookup (struct cmd_globals *g, const char *name, struct cmd_image_match *ret,
                      mini_error_t *err);
void cmd_image_match_clear (struct cmd_image_match *m);

int cmd_pull (struct cmd_globals *g, int argc, char **argv);
int cmd_login (struct cmd_globals *g, int argc, char **argv);
int cmd_logout (struct cmd_globals *g, int argc, char **argv);
/* Registry defaults (login.c): G->pull.certs_dirs /etc/mini/certs.d and
   /etc/docker/certs.d when none was given; G->pull.auth_file
   $DOCKER_CONFIG/config.json or ~/.docker/config.json when none was. */
void cmd_registry_defaults (struct cmd_globals *g);
/* --registry-mirror HOST=URL: append "host=url" to OPTS->registry_mirrors;
   prints the problem and returns -1 when ARG is malformed. */
int cmd_add_registry_mirror (struct pull_options *opts, const char *arg);
int cmd_unpack (struct cmd_globals *g, int argc, char **argv);
int cmd_export (struct cmd_globals *g, int argc, char **argv);
int cmd_images (struct cmd_globals *g, int argc, char **argv);
int cmd_rmi (struct cmd_globals *g, int argc, char **argv);
int cmd_tag (struct cmd_globals *g, int argc, char **argv);
int cmd_inspect (struct cmd_globals *g, int argc, char **argv);
int cmd_save (struct cmd_globals *g, int argc, char **argv);
int cmd_load (struct cmd_globals *g, int argc, char **argv);
int cmd_image (struct cmd_globals *g, int argc, char **argv);
int cmd_system (struct cmd_globals *g, int argc, char **argv);
int cmd_run (struct cmd_globals *g, int argc, char **argv);
int cmd_ps (struct cmd_globals *g, int argc, char **argv);
int cmd_exec (struct cmd_globals *g, int argc, char **argv);
int cmd_logs (struct cmd_globals *g, int argc, char **argv);
int cmd_stop (struct cmd_globals *g, int argc, char **argv);
int cmd_rm (struct cmd_globals *g, int argc, char **argv);

#endif
