/* mini - run: helpers shared between the files of run/ (not installed, not
 * included outside run/).
 */
#ifndef MINI_RUN_PRIVATE_H
#define MINI_RUN_PRIVATE_H

#include "run/run.h"

#include <signal.h>

#define DEFAULT_PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---------------------------------------------------------------- env (spec.c) */

/* Index of the entry of ENV whose key is KEY (KEYLEN bytes), or -1. */
ssize_t env_find (char *const *env, const char *key, size_t keylen);
/* Value of KEY in ENV or NULL. */
const char *env_get (char *const *env, const char *key);
/* Set "K=V" entry KV in *ENV, replacing an entry with the same key. */
void env_set (char ***env, const char *kv);

/* ---------------------------------------------------------------- sync (process.c) */

/* A child that failed before exec sends one message on its sync socket
   (SOCK_SEQPACKET): the exit status the caller should report (125, 126 or
   127), the errno and the message.  Exec success shows as EOF. */
struct sync_msg
{
  int32_t ret_status;
  int32_t err_status;
  char msg[2048];
};

/* Child side: send ERR (status RET_STATUS) on FD; never fails visibly. */
void sync_send (int fd, int ret_status, mini_error_t err);
/* Child side: report ERR on FD and _exit. */
__attribute__ ((noreturn)) void child_fail (int fd, int ret_status, mini_error_t err);
/* Parent side: read FD until EOF or a message.  Returns 0 on EOF (the child
   exec'd); -1 with *ERR and *RET_STATUS from the message, or 125 and the read
   error. */
int sync_receive (int fd, int *ret_status, mini_error_t *err);

/* ---------------------------------------------------------------- process (process.c) */

/* What the last stage of a container process needs (init or exec). */
struct proc_spec
{
  char **argv;
  char **env;        /* the process env; HOME is added from passwd when missing */
  const char *user;  /* "name|uid[:group|gid]" or NULL for root */
  const char *cwd;   /* absolute; chdir'd before dropping privileges */
  int cwd_status;    /* ret_status to report when chdir fails */
};

/* Reset every signal disposition to default and unblock everything. */
void child_reset_signals (void);

/* In the container (after pivot_root or setns into its mount namespace):
   resolve the user from /etc/passwd and /etc/group, chdir, drop
   capabilities to Docker's set, switch user, close every fd >= 3 on exec and
   execve P->argv[0] looked up in the container's PATH.  Reports failures on
   SYNC_FD (which must be close-on-exec) and _exits; never returns. */
__attribute__ ((noreturn)) void proc_exec (const struct proc_spec *p, int sync_fd);

/* Bring the loopback interface up in the current network namespace. */
int loopback_up (mini_error_t *err);

/* ---------------------------------------------------------------- rootfs (rootfs.c) */

struct rootfs_config
{
  /* Paths, not fds: an fd opened before the clone refers to the host
     namespace's mounts; the child resolves these in its own namespace. */
  const char *layers_dir;  /* absolute <root>/layers: cwd for the overlay mount */
  const char *ctr_rel;     /* containers/<id>, relative to layers_dir ("../containers/<id>") */
  const char *overlay_opts; /* mount (2) data, or NULL when longer than a page */
  char **lowers;            /* lower dirs topmost first, relative to layers_dir */
  const char *upper, *work; /* relative to layers_dir */
  const char *working_dir;
  bool net_host;
  bool pid_host;
};

/* In a fresh mount namespace: make every mount private, mount the overlay,
   /proc, /dev, /sys, the /etc files, masked and read-only paths, create the
   working directory and pivot_root into the rootfs.  Afterwards "/" is the
   container's root and the host's tree is detached. */
int rootfs_setup (const struct rootfs_config *cfg, mini_error_t *err);

/* Escape `\`, `,` and `:` in PATH for an overlay option (caller frees). */
char *overlay_escape (const char *path);

/* ---------------------------------------------------------------- wait (start.c) */

/* Blocked while a monitor waits: the forwarded signals and SIGCHLD. */
struct signal_state
{
  sigset_t old_mask;
  struct sigaction old_chld;
};
/* Block the forwarded signals and SIGCHLD, make SIGCHLD default (so children
   are not auto-reaped). */
void signals_block (struct signal_state *st);
void signals_restore (struct signal_state *st);

/* Wait for child PID (PIDFD may be -1) to exit, forwarding the signals that
   signals_block blocked.  Returns the Docker-style status (128+n for signal
   n). */
int wait_forward (pid_t pid, int pidfd);

/* Docker-style status from a waitpid status. */
int status_from_wait (int wstatus);

/* pidfd_open (2); -1 with errno. */
int sys_pidfd_open (pid_t pid);
/* pidfd_send_signal (2); -1 with errno. */
int sys_pidfd_send_signal (int pidfd, int sig);

#endif
