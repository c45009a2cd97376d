/* mini - run: starting a container and monitoring it.
 *
 * The init is cloned straight into its new namespaces; it builds its root
 * filesystem inside its own mount namespace, pivots into it and execs the
 * command, telling its parent over a close-on-exec SOCK_SEQPACKET socket why
 * when it cannot (EOF means execve succeeded).  The process that cloned it is
 * the monitor: the caller itself in the foreground, a double-forked daemon
 * when detached.  The monitor forwards signals, reaps the init and records
 * the exit in the container state.
 */
#include "run/run-private.h"

#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Signals the monitor forwards to the container's init. */
static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

/* ---------------------------------------------------------------- syscalls */

int
sys_pidfd_open (pid_t pid)
{
  return (int) syscall (SYS_pidfd_open, pid, 0);
}

int
sys_pidfd_send_signal (int pidfd, int sig)
{
  return (int) syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* clone (2) with FLAGS behaving like fork; *RET_PIDFD gets a pidfd when the
   kernel has clone3, else -1. */
static pid_t
clone_fork (unsigned long flags, int *ret_pidfd)
{
  struct clone_args args;
  int pidfd = -1;
  long ret;

  memset (&args, 0, sizeof (args));
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = (uint64_t) (uintptr_t) &pidfd;
  args.exit_signal = SIGCHLD;
  ret = syscall (SYS_clone3, &args, sizeof (args));
  if (ret >= 0 || errno != ENOSYS)
    {
      *ret_pidfd = ret > 0 ? pidfd : -1;
      return (pid_t) ret;
    }
  *ret_pidfd = -1;
  return (pid_t) syscall (SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------- signals & waiting */

static void
forwarded_set (sigset_t *set)
{
  size_t i;

  sigemptyset (set);
  for (i = 0; i < sizeof (forwarded_signals) / sizeof (forwarded_signals[0]); i++)
    sigaddset (set, forwarded_signals[i]);
  sigaddset (set, SIGCHLD);
}

void
signals_block (struct signal_state *st)
{
  struct sigaction sa;
  sigset_t set;

  forwarded_set (&set);
  sigprocmask (SIG_BLOCK, &set, &st->old_mask);
  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = SIG_DFL;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGCHLD, &sa, &st->old_chld);
}

void
signals_restore (struct signal_state *st)
{
  sigaction (SIGCHLD, &st->old_chld, NULL);
  sigprocmask (SIG_SETMASK, &st->old_mask, NULL);
}

int
status_from_wait (int wstatus)
{
  if (WIFEXITED (wstatus))
    return WEXITSTATUS (wstatus);
  if (WIFSIGNALED (wstatus))
    return 128 + WTERMSIG (wstatus);
  return 255;
}

/* true when PID neither catches nor ignores SIG (/proc/PID/status SigCgt
   and SigIgn masks). */
static bool
signal_has_default_action (pid_t pid, int sig)
{
  char path[64], buf[4096];
  cleanup_close int fd = -1;
  unsigned long long cgt = 0, ign = 0;
  ssize_t n;
  char *p;

  snprintf (path, sizeof (path), "/proc/%d/status", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  n = read_all (fd, buf, sizeof (buf) - 1);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  p = strstr (buf, "SigIgn:");
  if (p == NULL || sscanf (p + 7, "%llx", &ign) != 1)
    return false;
  p = strstr (buf, "SigCgt:");
  if (p == NULL || sscanf (p + 7, "%llx", &cgt) != 1)
    return false;
  return ((cgt | ign) & (1ULL << (sig - 1))) == 0;
}

int
wait_forward (pid_t pid, int pidfd, bool ns_init)
{
  sigset_t set;
  int killed_for = 0;

  forwarded_set (&set);
  for (;;)
    {
      siginfo_t si;
      int wstatus = 0;
      pid_t r;
      int sig;

      r = waitpid (pid, &wstatus, WNOHANG);
      if (r == pid)
        {
          if (killed_for && WIFSIGNALED (wstatus) && WTERMSIG (wstatus) == SIGKILL)
            return 128 + killed_for;
          return status_from_wait (wstatus);
        }
      if (r < 0 && errno != EINTR)
        return 255; /* somebody else reaped it */

      sig = sigwaitinfo (&set, &si);
      if (sig < 0 || sig == SIGCHLD)
        continue;
      /* PID 1 of a PID namespace is immune to signals it does not handle, so
         a forwarded Ctrl-C would do nothing.  A user who interrupts
         `mini run` expects what an ordinary process does: die of it.  So
         when the init neither catches nor ignores a terminating signal, it
         gets SIGKILL and mini reports 128+SIG.  */
      if (ns_init && sig != SIGUSR1 && sig != SIGUSR2 && signal_has_default_action (pid, sig))
        {
          killed_for = sig;
          sig = SIGKILL;
        }
      if (pidfd >= 0)
        (void) sys_pidfd_send_signal (pidfd, sig);
      else
        (void) kill (pid, sig);
    }
}

/* ---------------------------------------------------------------- preparation */

/* Make NAME in DIRFD a directory with exactly MODE. */
static int
mkdir_mode (int dirfd, const char *name, mode_t mode, mini_error_t *err)
{
  if (mkdirat (dirfd, name, mode) < 0 && errno != EEXIST)
    return mini_error_set (err, errno, "mkdir %s", name);
  if (fchmodat (dirfd, name, mode, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
    return mini_error_set (err, errno, "chmod %s", name);
  return 0;
}

static char *
hosts_content (const struct store_container *c, mini_error_t *err)
{
  char *buf = NULL;

  if (c->net_host)
    {
      mini_error_t tmp_err = NULL;

      if (read_file_at (AT_FDCWD, "/etc/hosts", &buf, NULL, 1 << 20, &tmp_err) == 0)
        return buf;
      mini_error_release (&tmp_err);
    }
  (void) err;
  return xfmt ("127.0.0.1\tlocalhost\n"
               "::1\tlocalhost ip6-localhost ip6-loopback\n"
               "fe00::0\tip6-localnet\n"
               "ff00::0\tip6-mcastprefix\n"
               "ff02::1\tip6-allnodes\n"
               "ff02::2\tip6-allrouters\n"
               "127.0.1.1\t%s\n",
               c->hostname);
}

/* Create upper/ and work/ (and empty/ for an image without layers, rootfs/
   for the vfs driver) in the container dir, and the contents of the /etc
   files into ETC (hostname, hosts, resolv.conf; caller frees): the init
   writes them into its scratch tmpfs, so a start creates no file for them
   on the store's file system. */
static int
prepare_container_dir (int dirfd, const struct store_container *c, char *etc[3], mini_error_t *err)
{
  size_t resolv_len = 0;
  mini_error_t tmp_err = NULL;

  if (mkdir_mode (dirfd, "upper", 0755, err) < 0 || mkdir_mode (dirfd, "work", 0700, err) < 0)
    return -1;
  if (storage_driver_get (dirfd) == STORAGE_VFS && mkdir_mode (dirfd, "rootfs", 0755, err) < 0)
    return -1;
  if (c->layers == NULL || c->layers[0] == NULL)
    if (mkdir_mode (dirfd, "empty", 0755, err) < 0)
      return -1;

  etc[0] = xfmt ("%s\n", c->hostname);
  etc[1] = hosts_content (c, err);
  if (read_file_at (AT_FDCWD, "/etc/resolv.conf", &etc[2], &resolv_len, 1 << 20, &tmp_err) < 0)
    {
      mini_error_release (&tmp_err);
      free (etc[2]);
      etc[2] = xstrdup ("");
    }
  return 0;
}

/* true if ID is 64 lowercase hex characters. */
static bool
id_valid (const char *id)
{
  size_t i;

  if (id == NULL || strlen (id) != 64)
    return false;
  for (i = 0; i < 64; i++)
    if (! ((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
      return false;
  return true;
}

/* The overlay's directories, relative to <root>/layers. */
struct overlay_spec
{
  char *opts;    /* mount (2) options; NULL when longer than a page */
  char **lowers; /* topmost first */
  char *upper;
  char *work;
};

static void
overlay_spec_clear (struct overlay_spec *o)
{
  free (o->opts);
  strv_free (o->lowers);
  free (o->upper);
  free (o->work);
  memset (o, 0, sizeof (*o));
}

/* Lower dirs are C's layers topmost first ("<hex>/diff"; an empty dir for
   an image without layers).  Relative paths keep the mount (2) options short;
   past a page the init uses fsconfig instead. */
static int
overlay_options (struct store *s, const struct store_container *c, struct overlay_spec *o,
                 mini_error_t *err)
{
  cleanup_free char *lower = NULL;
  size_t n = strv_len (c->layers);
  long page = sysconf (_SC_PAGESIZE);
  size_t i;

  memset (o, 0, sizeof (*o));
  o->lowers = xmalloc0 (sizeof (char *));
  lower = xstrdup ("");
  for (i = n; i > 0; i--)
    {
      const char *chain = c->layers[i - 1];
      cleanup_free char *rel = NULL;
      cleanup_free char *esc = NULL;
      char *tmp;

      if (! digest_is_valid (chain))
        {
          overlay_spec_clear (o);
          return mini_error_set (err, EINVAL, "invalid layer chain id `%s`", chain);
        }
      if (! store_layer_exists (s, chain))
        {
          overlay_spec_clear (o);
          return mini_error_set (err, ENOENT, "layer %s is missing from the store", chain);
        }
      rel = xfmt ("%s/diff", digest_hex (chain));
      strv_append (&o->lowers, rel);
      esc = overlay_escape (rel);
      tmp = xfmt ("%s%s%s", lower, lower[0] ? ":" : "", esc);
      free (lower);
      lower = tmp;
    }
  if (n == 0)
    {
      cleanup_free char *rel = xfmt ("../containers/%s/empty", c->id);

      strv_append (&o->lowers, rel);
      free (lower);
      lower = overlay_escape (rel);
    }
  o->upper = xfmt ("../containers/%s/upper", c->id);
  o->work = xfmt ("../containers/%s/work", c->id);
  /* --rm: overlay "volatile" skips the sync_filesystem of the whole upper
     file system (the host's) when the overlay is unmounted as the container
     dies; the upper dir is deleted right after.  Not for the containers that
     are kept: their upper dir must survive a host crash, and a volatile
     upper would refuse a second mount until work/work/incompat/volatile is
     removed. */
  o->opts = xfmt ("lowerdir=%s:%s,upperdir=%s,workdir=%s%s", RUN_SCRATCH_REL "/init", lower,
                  o->upper, o->work, c->auto_remove ? ",volatile" : "");
  if (page <= 0)
    page = 4096;
  if (strlen (o->opts) >= (size_t) page)
    {
      free (o->opts);
      o->opts = NULL;
    }
  return 0;
}

/* ---------------------------------------------------------------- the init */

struct init_args
{
  const struct store_container *c;
  struct rootfs_config rootfs;
  int sync_fd;
};

__attribute__ ((noreturn)) static void
init_main (struct init_args *a)
{
  cleanup_error mini_error_t err = NULL;
  const struct store_container *c = a->c;
  struct proc_spec p;

  child_reset_signals ();
  /* Out of the caller's session and process group: a Ctrl-C on the terminal
     reaches the monitor, which forwards it once (Docker's sig-proxy). */
  (void) setsid ();

  if (rootfs_setup (&a->rootfs, &err) < 0)
    child_fail (a->sync_fd, RUN_STATUS_ENGINE_ERROR, err);
  if (! c->net_host && loopback_up (&err) < 0)
    child_fail (a->sync_fd, RUN_STATUS_ENGINE_ERROR, err);
  if (sethostname (c->hostname, strlen (c->hostname)) < 0)
    {
      mini_error_set (&err, errno, "sethostname");
      child_fail (a->sync_fd, RUN_STATUS_ENGINE_ERROR, err);
    }

  memset (&p, 0, sizeof (p));
  p.argv = c->argv;
  p.env = c->env;
  p.user = c->user;
  p.cwd = c->working_dir;
  p.cwd_status = RUN_STATUS_ENGINE_ERROR;
  p.seccomp_unconfined = c->seccomp_unconfined;
  proc_exec (&p, a->sync_fd);
}

static void
etc_clear (char *(*etc)[3])
{
  for (size_t i = 0; i < 3; i++)
    free ((*etc)[i]);
}

/* Clone the container's init and wait until it exec'd.  On success returns
   0 with its pid (host namespace) and a pidfd (or -1).  On failure the child
   has been reaped; -1 with *ERR and *RET_STATUS (125/126/127). */
static int
spawn_init (struct store *s, struct store_container *c, pid_t *ret_pid, int *ret_pidfd,
            int *ret_status, mini_error_t *err)
{
  cleanup_close int ctr_dirfd = -1;
  cleanup_close int sync_parent = -1;
  cleanup_close int sync_child = -1;
  __attribute__ ((cleanup (overlay_spec_clear))) struct overlay_spec ov = { 0 };
  cleanup_free char *ctr_rel = NULL;
  cleanup_free char *layers_dir = NULL;
  unsigned long flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
  __attribute__ ((cleanup (etc_clear))) char *etc[3] = { NULL, NULL, NULL };
  struct init_args a;
  int fds[2];
  int pidfd = -1;
  pid_t pid;

  *ret_status = RUN_STATUS_ENGINE_ERROR;
  if (c->argv == NULL || c->argv[0] == NULL)
    return mini_error_set (err, EINVAL, "no command specified");

  if (store_container_dir (s, c->id, &ctr_dirfd, err) < 0)
    return -1;
  if (prepare_container_dir (ctr_dirfd, c, etc, err) < 0)
    return mini_error_wrap (err, "prepare container %s", c->id);
  if (overlay_options (s, c, &ov, err) < 0)
    return -1;
  ctr_rel = xfmt ("../containers/%s", c->id);
  layers_dir = xfmt ("%s/layers", s->root);
  if (mkdirat (s->root_fd, "layers", 0700) < 0 && errno != EEXIST)
    return mini_error_set (err, errno, "mkdir %s", layers_dir);

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return mini_error_set (err, errno, "socketpair");
  sync_parent = fds[0];
  sync_child = fds[1];

  memset (&a, 0, sizeof (a));
  a.c = c;
  a.sync_fd = sync_child;
  a.rootfs.layers_dir = layers_dir;
  a.rootfs.ctr_rel = ctr_rel;
  a.rootfs.overlay_opts = ov.opts;
  a.rootfs.lowers = ov.lowers;
  a.rootfs.upper = ov.upper;
  a.rootfs.work = ov.work;
  a.rootfs.working_dir = c->working_dir ? c->working_dir : "/";
  a.rootfs.net_host = c->net_host;
  a.rootfs.pid_host = c->pid_host;
  a.rootfs.volatile_upper = c->auto_remove;
  a.rootfs.storage = storage_driver_get (ctr_dirfd);
  a.rootfs.scratch_rel = RUN_SCRATCH_REL;
  a.rootfs.etc_content[0] = etc[0];
  a.rootfs.etc_content[1] = etc[1];
  a.rootfs.etc_content[2] = etc[2];

  if (! c->pid_host)
    flags |= CLONE_NEWPID;
  if (! c->net_host)
    flags |= CLONE_NEWNET;

  pid = clone_fork (flags, &pidfd);
  if (pid < 0)
    return mini_error_set (err, errno, "clone the container init");
  if (pid == 0)
    {
      close (sync_parent);
      init_main (&a);
    }

  close (steal_fd (&sync_child));
  if (sync_receive (sync_parent, ret_status, err) < 0)
    {
      int wstatus;

      (void) TEMP_FAILURE_RETRY (waitpid (pid, &wstatus, 0));
      if (pidfd >= 0)
        close (pidfd);
      return -1;
    }
  *ret_pid = pid;
  *ret_pidfd = pidfd;
  return 0;
}

/* ---------------------------------------------------------------- monitor */

/* Record that C exited with STATUS, or remove it when auto_remove.
   Failures are ignored: nobody is left to report them to. */
static void
record_exit (struct store *s, struct store_container *c, int status)
{
  mini_error_t tmp_err = NULL;

  c->status = STORE_CONTAINER_EXITED;
  c->exit_code = status;
  c->finished_ns = now_ns ();
  c->pid = 0;
  c->pid_start_time = 0;
  c->monitor_pid = 0;
  /* --rm: the state is deleted next; save it only when that fails. */
  if (c->auto_remove && store_container_remove (s, c, &tmp_err) == 0)
    return;
  mini_error_release (&tmp_err);
  if (store_container_save (s, c, &tmp_err) < 0)
    mini_error_release (&tmp_err);
}

/* Fill in the hostname and HOSTNAME when run_spec_from_image ran before the
   container had an ID. */
static void
complete_spec (struct store_container *c)
{
  if (c->hostname == NULL || c->hostname[0] == '\0')
    {
      free (c->hostname);
      c->hostname = xstrndup (c->id, 12);
    }
  if (c->env == NULL)
    c->env = xmalloc0 (sizeof (char *));
  if (env_get (c->env, "PATH") == NULL)
    env_set (&c->env, DEFAULT_PATH_ENV);
  if (env_get (c->env, "HOSTNAME") == NULL)
    {
      cleanup_free char *h = xfmt ("HOSTNAME=%s", c->hostname);
      env_set (&c->env, h);
    }
  if (c->working_dir == NULL || c->working_dir[0] == '\0')
    {
      free (c->working_dir);
      c->working_dir = xstrdup ("/");
    }
}

/* What a detached monitor tells the `mini run -d` process. */
struct detach_report
{
  int32_t ok;
  int32_t ret_status;
  int32_t err_status;
  int32_t pid;
  int32_t monitor_pid;
  uint64_t pid_start_time;
  int64_t started_ns;
  char msg[2048];
};

static void
send_report (int fd, const struct store_container *c, int ret_status, mini_error_t e)
{
  struct detach_report r;

  if (fd < 0)
    return;
  memset (&r, 0, sizeof (r));
  r.ok = e == NULL;
  r.ret_status = ret_status;
  r.err_status = e ? e->status : 0;
  if (e)
    snprintf (r.msg, sizeof (r.msg), "%s", e->msg ? e->msg : "unknown error");
  r.pid = c->pid;
  r.monitor_pid = c->monitor_pid;
  r.pid_start_time = c->pid_start_time;
  r.started_ns = c->started_ns;
  (void) write_all (fd, &r, sizeof (r));
}

/* The mini-monitor executable: next to the running mini (a build tree, or
   an install with both in one directory), else in MINI_LIBEXECDIR.
   Caller frees; NULL when there is none. */
static char *
monitor_helper_path (void)
{
  char self[PATH_MAX];
  ssize_t n;

  n = readlink ("/proc/self/exe", self, sizeof (self) - 1);
  if (n > 0)
    {
      char *slash;

      self[n] = '\0';
      slash = strrchr (self, '/');
      if (slash != NULL)
        {
          char *path;

          *slash = '\0';
          path = xfmt ("%s/" MINI_MONITOR_NAME, self);
          if (access (path, X_OK) == 0)
            return path;
          free (path);
        }
    }
#ifdef MINI_LIBEXECDIR
  if (access (MINI_LIBEXECDIR "/" MINI_MONITOR_NAME, X_OK) == 0)
    return xstrdup (MINI_LIBEXECDIR "/" MINI_MONITOR_NAME);
#endif
  return NULL;
}

/* Replace this detached monitor (the parent of C's init PID, with stdio
   already on /dev/null and ctr.log) by mini-monitor (run/monitor.c): fd 3
   becomes the store root, every other fd but 0-2 is close-on-exec.
   Returns only when the exec failed. */
static void
monitor_exec_helper (struct store *s, const struct store_container *c, pid_t pid)
{
  cleanup_free char *path = monitor_helper_path ();
  char pid_str[24];
  char *argv[6];

  if (path == NULL)
    return;
  if (s->root_fd == 3)
    {
      if (fcntl (3, F_SETFD, 0) < 0)
        return;
    }
  else if (dup2 (s->root_fd, 3) < 0)
    return;
  snprintf (pid_str, sizeof (pid_str), "%d", (int) pid);
  argv[0] = (char *) MINI_MONITOR_NAME;
  argv[1] = pid_str;
  argv[2] = c->id;
  argv[3] = c->name && store_container_name_valid (c->name) ? c->name : (char *) "";
  argv[4] = (char *) (c->auto_remove ? "1" : "0");
  argv[5] = NULL;
  execv (path, argv);
  /* fd 3 stays open and inheritable: harmless, the init was cloned before. */
}

/* Start C and monitor it until it exits.  Signals must already be blocked
   (signals_block).  REPORT_FD (or -1) gets the detach_report as soon as the
   command was exec'd or failed. */
static int
monitor_run (struct store *s, struct store_container *c, int report_fd, int *ret_status,
             mini_error_t *err)
{
  cleanup_close int pidfd = -1;
  mini_error_t tmp_err = NULL;
  pid_t pid = -1;
  int status;

  if (! id_valid (c->id))
    {
      *ret_status = RUN_STATUS_ENGINE_ERROR;
      mini_error_set (err, EINVAL, "invalid container id `%s`", c->id ? c->id : "");
      send_report (report_fd, c, *ret_status, *err);
      return -1;
    }
  complete_spec (c);

  if (spawn_init (s, c, &pid, &pidfd, ret_status, err) < 0)
    {
      record_exit (s, c, *ret_status);
      send_report (report_fd, c, *ret_status, *err);
      return -1;
    }

  c->status = STORE_CONTAINER_RUNNING;
  c->pid = pid;
  c->pid_start_time = proc_start_time (pid);
  c->monitor_pid = getpid ();
  c->started_ns = now_ns ();
  c->finished_ns = 0;
  c->exit_code = 0;
  if (store_container_save (s, c, &tmp_err) < 0)
    {
      int wstatus;

      if (pidfd >= 0)
        (void) sys_pidfd_send_signal (pidfd, SIGKILL);
      else
        (void) kill (pid, SIGKILL);
      (void) TEMP_FAILURE_RETRY (waitpid (pid, &wstatus, 0));
      *err = tmp_err;
      mini_error_wrap (err, "save the state of container %s", c->id);
      *ret_status = RUN_STATUS_ENGINE_ERROR;
      record_exit (s, c, *ret_status);
      send_report (report_fd, c, *ret_status, *err);
      return -1;
    }
  send_report (report_fd, c, 0, NULL);
  if (report_fd >= 0)
    {
      close (report_fd);
      /* Detached: the rest of the monitor's life is spent in mini-monitor,
         which holds none of mini's libraries.  When it cannot be exec'd,
         this process keeps monitoring as before (the init is its unreaped
         child, so its pid is safe to signal without the pidfd). */
      if (pidfd >= 0)
        close (steal_fd (&pidfd));
      monitor_exec_helper (s, c, pid);
    }

  status = wait_forward (pid, pidfd, !c->pid_host);
  record_exit (s, c, status);
  *ret_status = status;
  return 0;
}

/* ---------------------------------------------------------------- foreground */

static int
start_foreground (struct store *s, struct store_container *c, int *ret_status, mini_error_t *err)
{
  struct signal_state st;
  int ret;

  signals_block (&st);
  ret = monitor_run (s, c, -1, ret_status, err);
  signals_restore (&st);
  return ret;
}

/* ---------------------------------------------------------------- detached */

/* Close the fds FROM..TO (inclusive). */
static void
close_span (unsigned int from, unsigned int to)
{
  unsigned int fd;

  if (from > to)
    return;
  if (close_range (from, to, 0) == 0)
    return;
  for (fd = from; fd <= to && fd < 65536; fd++)
    close ((int) fd);
}

/* Close every fd >= 3 except KEEP_A and KEEP_B. */
static void
close_fds_except (int keep_a, int keep_b)
{
  int keep[2] = { keep_a < keep_b ? keep_a : keep_b, keep_a < keep_b ? keep_b : keep_a };
  unsigned int from = 3;
  size_t i;

  for (i = 0; i < 2; i++)
    {
      if (keep[i] < (int) from)
        continue;
      if ((unsigned int) keep[i] > from)
        close_span (from, (unsigned int) keep[i] - 1);
      from = (unsigned int) keep[i] + 1;
    }
  close_span (from, ~0U);
}

__attribute__ ((noreturn)) static void
monitor_main (struct store *s, struct store_container *c, int report_fd)
{
  cleanup_error mini_error_t err = NULL;
  struct signal_state st;
  int ctr_dirfd = -1;
  int null_fd, log_fd;
  int status;

  child_reset_signals ();
  (void) prctl (PR_SET_NAME, "mini-monitor", 0, 0, 0);
  if (chdir ("/") < 0)
    {
      /* keep going: the cwd only matters for unmounting it */
    }

  null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0)
    {
      mini_error_set (&err, errno, "open /dev/null");
      send_report (report_fd, c, RUN_STATUS_ENGINE_ERROR, err);
      _exit (1);
    }
  if (store_container_dir (s, c->id, &ctr_dirfd, &err) < 0)
    {
      send_report (report_fd, c, RUN_STATUS_ENGINE_ERROR, err);
      _exit (1);
    }
  log_fd = openat (ctr_dirfd, "ctr.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0)
    {
      mini_error_set (&err, errno, "open the log of container %s", c->id);
      send_report (report_fd, c, RUN_STATUS_ENGINE_ERROR, err);
      _exit (1);
    }
  if (dup2 (null_fd, 0) < 0 || dup2 (log_fd, 1) < 0 || dup2 (log_fd, 2) < 0)
    {
      mini_error_set (&err, errno, "dup2");
      send_report (report_fd, c, RUN_STATUS_ENGINE_ERROR, err);
      _exit (1);
    }
  /* Nothing of the caller's survives in the monitor: no inherited lock, no
     pipe that someone reads until EOF. */
  close_fds_except (s->root_fd, report_fd);

  signals_block (&st);
  (void) monitor_run (s, c, report_fd, &status, &err);
  _exit (0);
}

static int
start_detached (struct store *s, struct store_container *c, int *ret_status, mini_error_t *err)
{
  cleanup_close int rd = -1;
  cleanup_close int wr = -1;
  struct detach_report r;
  int fds[2];
  int wstatus;
  ssize_t n;
  pid_t pid;

  *ret_status = RUN_STATUS_ENGINE_ERROR;
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return mini_error_set (err, errno, "pipe");
  rd = fds[0];
  wr = fds[1];

  pid = fork ();
  if (pid < 0)
    return mini_error_set (err, errno, "fork the container monitor");
  if (pid == 0)
    {
      pid_t monitor;

      close (rd);
      (void) setsid ();
      monitor = fork ();
      if (monitor < 0)
        {
          mini_error_t e = NULL;
          mini_error_set (&e, errno, "fork the container monitor");
          send_report (wr, c, RUN_STATUS_ENGINE_ERROR, e);
          _exit (1);
        }
      if (monitor > 0)
        _exit (0);
      monitor_main (s, c, wr);
    }

  close (steal_fd (&wr));
  (void) TEMP_FAILURE_RETRY (waitpid (pid, &wstatus, 0));

  memset (&r, 0, sizeof (r));
  n = read_all (rd, &r, sizeof (r));
  if (n < 0)
    return mini_error_set (err, errno, "read from the container monitor");
  if ((size_t) n != sizeof (r))
    return mini_error_set (err, EPIPE, "the container monitor exited unexpectedly");
  r.msg[sizeof (r.msg) - 1] = '\0';
  if (! r.ok)
    {
      *ret_status = r.ret_status;
      c->status = STORE_CONTAINER_EXITED;
      c->exit_code = r.ret_status;
      return mini_error_set (err, r.err_status, "%s", r.msg);
    }
  complete_spec (c);
  c->status = STORE_CONTAINER_RUNNING;
  c->pid = r.pid;
  c->monitor_pid = r.monitor_pid;
  c->pid_start_time = r.pid_start_time;
  c->started_ns = r.started_ns;
  *ret_status = 0;
  return 0;
}

int
run_container_start (struct store *s, struct store_container *c, int *ret_status,
                     mini_error_t *err)
{
  int dummy;

  if (ret_status == NULL)
    ret_status = &dummy;
  if (c->detached)
    return start_detached (s, c, ret_status, err);
  return start_foreground (s, c, ret_status, err);
}
