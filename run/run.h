/* mini - run: the runtime.
 *
 * Turns an image config plus the user's flags into a process description
 * (runtime-spec semantics, Docker's defaults), starts it in fresh
 * namespaces on an overlay of the image layers, monitors it, and lets other
 * processes exec into it, stop it and remove it.
 *
 * Depends only on store/ and common/.  Library code never prints and never
 * exits; forked children report failures to their parent over a
 * close-on-exec socket as {errno, message} and _exit.
 */
#ifndef MINI_RUN_H
#define MINI_RUN_H

#include "common/common.h"
#include "store/store.h"

/* Exit statuses of `mini run` / `mini exec` when the container's own status
   is not available (Docker's). */
#define RUN_STATUS_ENGINE_ERROR 125   /* mini itself failed */
#define RUN_STATUS_CANNOT_EXEC 126    /* found but not executable */
#define RUN_STATUS_NOT_FOUND 127      /* command not found */

/* The user's overrides of the image config (`mini run` flags). */
struct run_overrides
{
  char **entrypoint;       /* NULL: the image's Entrypoint; {"", NULL}: no entrypoint;
                              else replaces the image's (and drops its Cmd) */
  char **args;             /* arguments after the image name; NULL or empty: image Cmd */
  char **env;              /* extra "K=V" (-e), replacing same keys; entries without
                              '=' are ignored (cmd/ resolves `-e K` from its own env) */
  const char *working_dir; /* -w (absolute) or NULL */
};

/* Fill C->argv, C->env, C->working_dir, C->user and C->stop_signal from the
   image config IMG and the overrides O (O may be NULL), replacing whatever C
   held.  Docker's rules (daemon mergeAndVerifyConfig):
     argv = entrypoint + (args, or the image Cmd when no args were given and
            no --entrypoint was given: any --entrypoint drops the image Cmd);
     env  = image Env; PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
            when the image sets none; HOSTNAME=<C->hostname> when C->hostname is
            set (run_container_start adds it otherwise); then O->env, replacing
            same keys;
     working_dir = O->working_dir, else the image WorkingDir, else "/".
   Errors: EINVAL "no command specified" when argv would be empty; EINVAL when
   the working directory is not absolute or an -e entry has an empty key. */
int run_spec_from_image (const struct store_image *img, const struct run_overrides *o,
                         struct store_container *c, mini_error_t *err);

/* Start container C, whose state was created with store_container_create
   (C->layers are chain_ids extracted under store_layer_diff_path();
   C->pid_host, C->net_host, C->detached, C->auto_remove are set).
   Creates containers/<id>/{upper,work,rootfs,hostname,hosts,resolv.conf};
   the overlay is mounted inside the container's own mount namespace only, so
   it vanishes with the container and no mount is ever left on the host.

   Foreground (!C->detached): the calling process is the monitor: stdio is
   passed through; SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are
   forwarded to the container's init; the state is saved RUNNING, then EXITED
   with the exit code; the container is removed when C->auto_remove.  Returns
   0 with *RET_STATUS = the container's exit status (128+n when killed by
   signal n).  The caller's signal mask and SIGCHLD disposition are restored.

   Detached: forks a monitor (own session, stdin /dev/null, container stdout
   and stderr appended to containers/<id>/ctr.log) that starts the container,
   saves RUNNING (pid, pid_start_time, monitor_pid, started_ns), then execs
   the static mini-monitor (same pid; next to mini or in libexec/mini), which
   reaps the init and writes containers/<id>/exit (store_container_load folds
   it into the state) or removes the container when C->auto_remove; without
   mini-monitor the fork waits and saves EXITED itself.  A --rm container's
   overlay is mounted "volatile" (no sync of the host file system when it
   goes away).  Returns 0 once the command was exec'd; C's in-memory
   status, pid, pid_start_time, monitor_pid and started_ns are updated.

   When the command cannot be executed: returns -1 with *ERR set (e.g.
   `exec: "nosuchcmd": executable file not found in $PATH`, errno 0) and
   *RET_STATUS 127 (not found) or 126 (not executable, permission denied);
   any other failure gives *RET_STATUS 125.  The container is then left
   EXITED with that code (or removed when C->auto_remove). */
int run_container_start (struct store *s, struct store_container *c, int *ret_status,
                         mini_error_t *err);

/* Run ARGV inside the running container C: joins its ipc, uts, net, mnt and
   pid namespaces (the child is forked after joining the pid namespace, so it
   gets a PID inside it), applies the same capabilities and user, env =
   C->env + EXTRA_ENV (replacing same keys; may be NULL), cwd = CWD or
   C->working_dir.  Stdio is passed through and the signals listed for
   run_container_start are forwarded.  Returns 0 with *RET_STATUS = the exit
   status; on failure -1 with *RET_STATUS 127/126 (command not found / not
   executable, or the cwd is unusable: 126) or 125.  ESRCH "container X is not
   running" when it is not. */
int run_container_exec (struct store *s, struct store_container *c, char **argv,
                        char **extra_env, const char *cwd, int *ret_status, mini_error_t *err);

/* Refresh C's status: when C is RUNNING but its init is gone (pid missing or
   pid_start_time differs), reload the state (the monitor may have recorded
   the exit) and, if it still says RUNNING (the monitor died too), mark it
   EXITED with exit code 255 (unknown) and save.  Returns true if running. */
bool run_container_is_running (struct store *s, struct store_container *c);

/* Stop C: send C->stop_signal (default SIGTERM; "SIGQUIT", "QUIT" or a
   number) to its init, wait up to TIMEOUT_S seconds (< 0: forever) for it to
   exit, then SIGKILL; then wait (bounded, 10 s) until the monitor recorded
   EXITED, recording it ourselves if the monitor is gone.  C is reloaded
   from the store.  A container that is not running is success. */
int run_container_stop (struct store *s, struct store_container *c, int timeout_s,
                        mini_error_t *err);

/* Remove C.  When it is running: without FORCE, EBUSY "container X is
   running: stop it first or use rm -f"; with FORCE, SIGKILL it and wait for
   the monitor to record the exit.  Then store_container_remove (a container
   that its --rm monitor removed meanwhile is success). */
int run_container_remove (struct store *s, struct store_container *c, bool force,
                          mini_error_t *err);

/* Signal name ("SIGTERM", "TERM", any case, "SIGRTMIN+3") or number ("15")
   to its number; -1 when unknown or out of range. */
int run_signal_parse (const char *s);

/* ---------------------------------------------------------------- storage */

/* Storage drivers for a container's root filesystem (--storage-driver). */
#define RUN_STORAGE_OVERLAY "overlay" /* overlay of the layer directories */
#define RUN_STORAGE_VFS "vfs"         /* a private copy of the layers */

/* Record that container C (created, not started) uses the storage driver
   DRIVER: RUN_STORAGE_OVERLAY (an overlay mount, an error when it fails),
   RUN_STORAGE_VFS (containers/<id>/rootfs is a full copy of the layers,
   flattened before the first start: no overlay needed), or NULL for the
   default: overlay, falling back to vfs when the overlay cannot be mounted
   (the fallback is recorded, so that later commands see it).  Writes
   containers/<id>/storage-driver.  EINVAL for another name. */
int run_container_set_storage_driver (struct store *s, const struct store_container *c,
                                      const char *driver, mini_error_t *err);

/* A container's root filesystem opened for reading (run_container_rootfs_open). */
struct run_rootfs
{
  int fd;            /* O_RDONLY directory fd of the tree */
  int tmp_parent_fd; /* a private copy to remove on close, or -1 */
  char *tmp_name;
};

/* Open the root filesystem of container C as a directory fd, read-only,
   without mounting anything anywhere:
     running: /proc/<pid>/root (the container's own view; pid reuse is
              checked with pid_start_time); mounts inside it are the
              container's (/proc, /dev, ...);
     vfs:     containers/<id>/rootfs;
     overlay: a detached read-only overlay (fsmount, never attached to any
              mount table) of upper/ over the image's layers; on kernels
              without overlay "lowerdir+" a private flattened copy under
              the container directory, removed by run_rootfs_close.
   Release with run_rootfs_close.  Errors: ENOENT for a layer missing from
   the store, ESRCH when the container stopped while being opened. */
int run_container_rootfs_open (struct store *s, struct store_container *c, struct run_rootfs *ret,
                               mini_error_t *err);
void run_rootfs_close (struct run_rootfs *r);

#endif
