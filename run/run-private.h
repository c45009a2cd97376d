/* mini - run: helpers shared between the files of run/ (not installed, not
 * included outside run/).
 */
#ifndef MINI_RUN_PRIVATE_H
#define MINI_RUN_PRIVATE_H

#include "run/run.h"

#include <signal.h>

/* The static monitor executable of detached containers (run/monitor.c),
   looked up next to mini, then in MINI_LIBEXECDIR (set by meson). */
#define MINI_MONITOR_NAME "mini-monitor"

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
  bool seccomp_unconfined; /* true: no seccomp filter (--security-opt seccomp=unconfined) */
};

/* Reset every signal disposition to default and unblock everything. */
void child_reset_signals (void);

/* In the container (after pivot_root or setns into its mount namespace):
   resolve the user from /etc/passwd and /etc/group, chdir, load Docker's
   default seccomp profile (unless P->seccomp_unconfined), drop
   capabilities to Docker's set, switch user, close every fd >= 3 on exec and
   execve P->argv[0] looked up in the container's PATH.  Reports failures on
   SYNC_FD (which must be close-on-exec) and _exits; never returns. */
__attribute__ ((noreturn)) void proc_exec (const struct proc_spec *p, int sync_fd);

/* Bring the loopback interface up in the current network namespace. */
int loopback_up (mini_error_t *err);

/* ---------------------------------------------------------------- seccomp (seccomp.c) */

/* How Docker's default profile treats one syscall (run/seccomp-syscalls.h
   has the list and what each rule means). */
enum seccomp_rule
{
  SECCOMP_RULE_ALLOW,       /* whatever the arguments */
  SECCOMP_RULE_SOCKET,      /* unless the family is AF_VSOCK */
  SECCOMP_RULE_PERSONALITY, /* only 0x0, 0x8, 0x20000, 0x20008, 0xffffffff */
  SECCOMP_RULE_CLONE,       /* unless a CLONE_NEW* namespace flag is set */
  SECCOMP_RULE_ENOSYS,      /* fails with ENOSYS (clone3) */
};

struct seccomp_syscall
{
  uint32_t nr;    /* syscall number of the table's ABI */
  uint8_t rule;   /* enum seccomp_rule */
};

/* The profile's syscalls, one table per ABI, in no particular order
   (seccomp-table.c): the native ABI's, and on x86_64 hosts the i386 and x32
   ABIs' (empty elsewhere).  *_len excludes the { 0, 0 } terminator. */
extern const struct seccomp_syscall seccomp_table_native[];
extern const size_t seccomp_table_native_len;
extern const struct seccomp_syscall seccomp_table_i386[];
extern const size_t seccomp_table_i386_len;
extern const struct seccomp_syscall seccomp_table_x32[];
extern const size_t seccomp_table_x32_len;

struct sock_filter;

/* Docker's default seccomp profile as a classic BPF program for
   SECCOMP_SET_MODE_FILTER: the architecture check (native ABI; on x86_64
   also i386 and x32, as Docker allows them; any other architecture kills
   the process), then per ABI a binary search over the syscall number.
   Denied syscalls fail with EPERM; syscalls numbered above the highest one
   the profile names fail with ENOSYS (runc does the same so that libc falls
   back when the kernel is newer than the profile).  On success returns 0
   with *RET_PROG (caller frees) of *RET_LEN instructions.  ENOTSUP when
   mini has no table for this architecture. */
int seccomp_profile_build (struct sock_filter **ret_prog, size_t *ret_len, mini_error_t *err);

/* Load the default profile into the calling thread with seccomp
   (SECCOMP_SET_MODE_FILTER) (prctl (PR_SET_SECCOMP) on kernels without
   seccomp (2)).  The caller needs CAP_SYS_ADMIN or no_new_privs set; the
   filter then applies to it and to everything it execs or forks.  On a
   kernel built without seccomp (prctl (PR_GET_SECCOMP) fails with EINVAL)
   nothing is loaded and 0 is returned, as Docker does.  Errors: those of
   seccomp_profile_build, or the errno of the load. */
int seccomp_profile_apply (mini_error_t *err);

/* ---------------------------------------------------------------- storage (storage.c) */

enum storage_driver
{
  STORAGE_AUTO = 0, /* overlay, falling back to vfs */
  STORAGE_OVERLAY,
  STORAGE_VFS,
};

/* The driver of the container whose directory is CTR_DIRFD: STORAGE_VFS
   once its rootfs/ is a complete copy, else what
   run_container_set_storage_driver recorded (STORAGE_AUTO when nothing). */
enum storage_driver storage_driver_get (int ctr_dirfd);

/* Copy the layer directories LOWERS (overlay form, topmost first, relative
   to BASE_DIRFD or absolute) bottom-most first onto the directory
   DST_DIRFD: a 0:0 character device removes the path, an opaque directory
   first loses what was below it, hardlinks within a layer are kept, file
   data is reflinked when possible (else copy_file_range), owners, modes,
   times and xattrs (not overlay ones) follow.  Nothing is followed. */
int vfs_flatten_layers (int base_dirfd, char *const *lowers, int dst_dirfd, mini_error_t *err);

/* vfs driver: unless containers/<id>/vfs-rootfs says it was done, empty
   CTR_DIRFD/rootfs, flatten LOWERS into it and create the marker. */
int vfs_prepare_rootfs (int base_dirfd, char *const *lowers, int ctr_dirfd, mini_error_t *err);

/* ---------------------------------------------------------------- rootfs (rootfs.c) */

/* Where the init mounts its scratch tmpfs, relative to <root>/layers. */
#define RUN_SCRATCH_REL "../tmp"

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
  bool volatile_upper;      /* overlay "volatile": no sync of the upper fs at unmount
                               (--rm: the upper dir is deleted anyway); overlay_opts
                               then ends in ",volatile" */
  int storage;              /* enum storage_driver (storage.c) */
  /* The container's scratch tmpfs, mounted by the init on SCRATCH_REL
     (relative to layers_dir: the store's tmp/, inside the container's
     mount namespace only): it holds the bind sources of /etc/hostname,
     /etc/hosts and /etc/resolv.conf (ETC_FILES[i], contents below), the
     overlay's mount point root/, and init/, the topmost lower layer with
     the mount points the image lacks (Docker's "init layer"; here it costs
     no inode on the store's file system).  overlay_opts already lists
     SCRATCH_REL/init first. */
  const char *scratch_rel;
  const char *etc_content[3]; /* hostname, hosts, resolv.conf */
};

/* The files rootfs_setup binds onto /etc/<name>, in etc_content order. */
extern const char *const rootfs_etc_files[3];

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
   signals_block blocked.  NS_INIT: PID is the init (PID 1) of its own PID
   namespace, which the kernel shields from signals it does not handle; a
   forwarded SIGINT/SIGTERM/SIGHUP/SIGQUIT it neither catches nor ignores is
   turned into SIGKILL and reported as 128+n of the original signal.
   Returns the Docker-style status (128+n for signal n). */
int wait_forward (pid_t pid, int pidfd, bool ns_init);

/* Docker-style status from a waitpid status. */
int status_from_wait (int wstatus);

/* pidfd_open (2); -1 with errno. */
int sys_pidfd_open (pid_t pid);
/* pidfd_send_signal (2); -1 with errno. */
int sys_pidfd_send_signal (int pidfd, int sig);

#endif
