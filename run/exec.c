/* mini - run: running another process inside a running container.
 *
 * The caller joins the container's pid namespace for its children only
 * (setns CLONE_NEWPID changes pid_for_children), forks, and restores its own
 * pid_for_children at once.  The child joins ipc, uts, net and mnt (which
 * also moves its root to the container's), then goes through the same last
 * stage as the init (user, capabilities, PATH lookup, execve).
 */
#include "run/run-private.h"

#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

struct ns_entry
{
  const char *name;
  int type;
};

/* Joined in this order by the child; "pid" by the parent. */
static const struct ns_entry child_namespaces[] = {
  { "ipc", CLONE_NEWIPC },
  { "uts", CLONE_NEWUTS },
  { "net", CLONE_NEWNET },
  { "mnt", CLONE_NEWNS },
};
#define N_CHILD_NS (sizeof (child_namespaces) / sizeof (child_namespaces[0]))

static void
close_all (int *fds, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (fds[i] >= 0)
      {
        close (fds[i]);
        fds[i] = -1;
      }
}

int
run_container_exec (struct store *s, struct store_container *c, char **argv, char **extra_env,
                    const char *cwd, int *ret_status, mini_error_t *err)
{
  cleanup_close int pid_ns = -1;
  cleanup_close int own_pid_ns = -1;
  cleanup_close int sync_parent = -1;
  cleanup_close int sync_child = -1;
  cleanup_close int pidfd = -1;
  cleanup_strv char **env = NULL;
  int ns_fds[N_CHILD_NS];
  struct signal_state st;
  int dummy;
  int fds[2];
  size_t i;
  pid_t pid;

  if (ret_status == NULL)
    ret_status = &dummy;
  *ret_status = RUN_STATUS_ENGINE_ERROR;
  for (i = 0; i < N_CHILD_NS; i++)
    ns_fds[i] = -1;

  if (argv == NULL || argv[0] == NULL)
    return mini_error_set (err, EINVAL, "no command specified");
  if (cwd && cwd[0] != '/')
    return mini_error_set (err, EINVAL,
                           "the working directory `%s` is invalid, it needs to be an absolute path",
                           cwd);
  if (! run_container_is_running (s, c))
    return mini_error_set (err, ESRCH, "container %s is not running", c->name ? c->name : c->id);

  for (i = 0; i < N_CHILD_NS; i++)
    {
      cleanup_free char *path = xfmt ("/proc/%d/ns/%s", (int) c->pid, child_namespaces[i].name);

      ns_fds[i] = open (path, O_RDONLY | O_CLOEXEC);
      if (ns_fds[i] < 0)
        {
          int e = errno;
          close_all (ns_fds, N_CHILD_NS);
          return mini_error_set (err, e, "open %s", path);
        }
    }
  {
    cleanup_free char *path = xfmt ("/proc/%d/ns/pid", (int) c->pid);

    pid_ns = open (path, O_RDONLY | O_CLOEXEC);
    if (pid_ns < 0)
      {
        int e = errno;
        close_all (ns_fds, N_CHILD_NS);
        return mini_error_set (err, e, "open %s", path);
      }
  }
  /* Opened after the liveness check: make sure they belong to the init we
     recorded and not to a process that recycled its pid. */
  if (proc_start_time (c->pid) != c->pid_start_time)
    {
      close_all (ns_fds, N_CHILD_NS);
      return mini_error_set (err, ESRCH, "container %s is not running",
                             c->name ? c->name : c->id);
    }
  own_pid_ns = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  if (own_pid_ns < 0)
    {
      int e = errno;
      close_all (ns_fds, N_CHILD_NS);
      return mini_error_set (err, e, "open /proc/self/ns/pid");
    }

  env = strv_dup (c->env ? c->env : (char *[]){ NULL });
  for (i = 0; extra_env && extra_env[i]; i++)
    env_set (&env, extra_env[i]);
  if (env_get (env, "PATH") == NULL)
    env_set (&env, DEFAULT_PATH_ENV);

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    {
      int e = errno;
      close_all (ns_fds, N_CHILD_NS);
      return mini_error_set (err, e, "socketpair");
    }
  sync_parent = fds[0];
  sync_child = fds[1];

  signals_block (&st);
  if (setns (pid_ns, CLONE_NEWPID) < 0)
    {
      int e = errno;
      signals_restore (&st);
      close_all (ns_fds, N_CHILD_NS);
      return mini_error_set (err, e, "join the pid namespace of container %s", c->id);
    }
  pid = fork ();
  if (pid == 0)
    {
      cleanup_error mini_error_t cerr = NULL;
      struct proc_spec p;

      close (sync_parent);
      child_reset_signals ();
      for (i = 0; i < N_CHILD_NS; i++)
        if (setns (ns_fds[i], child_namespaces[i].type) < 0)
          {
            mini_error_set (&cerr, errno, "join the %s namespace of container %s",
                            child_namespaces[i].name, c->id);
            child_fail (sync_child, RUN_STATUS_ENGINE_ERROR, cerr);
          }
      (void) setsid ();

      memset (&p, 0, sizeof (p));
      p.argv = argv;
      p.env = env;
      p.user = c->user;
      p.cwd = cwd ? cwd : (c->working_dir ? c->working_dir : "/");
      p.cwd_status = RUN_STATUS_CANNOT_EXEC;
      p.seccomp_unconfined = c->seccomp_unconfined;
      proc_exec (&p, sync_child);
    }
  {
    int fork_errno = errno;

    /* Back to our own pid namespace for any later child of the caller. */
    if (setns (own_pid_ns, CLONE_NEWPID) < 0)
      {
        /* Cannot happen for our own active namespace; nothing to undo. */
      }
    close_all (ns_fds, N_CHILD_NS);
    if (pid < 0)
      {
        signals_restore (&st);
        return mini_error_set (err, fork_errno, "fork into container %s", c->id);
      }
  }

  close (steal_fd (&sync_child));
  pidfd = sys_pidfd_open (pid);
  if (sync_receive (sync_parent, ret_status, err) < 0)
    {
      int wstatus;

      (void) TEMP_FAILURE_RETRY (waitpid (pid, &wstatus, 0));
      signals_restore (&st);
      return -1;
    }
  *ret_status = wait_forward (pid, pidfd, false);
  signals_restore (&st);
  return 0;
}
