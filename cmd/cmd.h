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

int cmd_pull (struct cmd_globals *g, int argc, char **argv);
int cmd_images (struct cmd_globals *g, int argc, char **argv);
int cmd_run (struct cmd_globals *g, int argc, char **argv);
int cmd_ps (struct cmd_globals *g, int argc, char **argv);
int cmd_exec (struct cmd_globals *g, int argc, char **argv);
int cmd_logs (struct cmd_globals *g, int argc, char **argv);
int cmd_stop (struct cmd_globals *g, int argc, char **argv);
int cmd_rm (struct cmd_globals *g, int argc, char **argv);

#endif
