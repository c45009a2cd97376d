/* mini - run: the last stage of a container process, shared by the init
 * and by exec: user, capabilities, fds, PATH lookup and execve; and the sync
 * protocol a child uses to tell its parent why it could not get there.
 */
#include "run/run-private.h"

#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <netinet/in.h>

/* ---------------------------------------------------------------- sync */

void
sync_send (int fd, int ret_status, mini_error_t err)
{
  struct sync_msg m;

  memset (&m, 0, sizeof (m));
  m.ret_status = ret_status;
  m.err_status = err ? err->status : 0;
  snprintf (m.msg, sizeof (m.msg), "%s", (err && err->msg) ? err->msg : "unknown error");
  (void) TEMP_FAILURE_RETRY (send (fd, &m, sizeof (m), MSG_NOSIGNAL));
}

void
child_fail (int fd, int ret_status, mini_error_t err)
{
  sync_send (fd, ret_status, err);
  _exit (ret_status);
}

int
sync_receive (int fd, int *ret_status, mini_error_t *err)
{
  struct sync_msg m;
  ssize_t n;

  memset (&m, 0, sizeof (m));
  n = TEMP_FAILURE_RETRY (recv (fd, &m, sizeof (m), 0));
  if (n == 0)
    return 0;
  if (n < 0)
    {
      *ret_status = RUN_STATUS_ENGINE_ERROR;
      return mini_error_set (err, errno, "read from the container setup process");
    }
  if ((size_t) n < sizeof (m))
    {
      *ret_status = RUN_STATUS_ENGINE_ERROR;
      return mini_error_set (err, EPROTO, "short message from the container setup process");
    }
  m.msg[sizeof (m.msg) - 1] = '\0';
  *ret_status = m.ret_status;
  return mini_error_set (err, m.err_status, "%s", m.msg);
}

/* ---------------------------------------------------------------- signals */

void
child_reset_signals (void)
{
  struct sigaction sa;
  sigset_t empty;
  int i;

  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = SIG_DFL;
  sigemptyset (&sa.sa_mask);
  for (i = 1; i < NSIG; i++)
    if (i != SIGKILL && i != SIGSTOP)
      (void) sigaction (i, &sa, NULL);
  sigemptyset (&empty);
  (void) sigprocmask (SIG_SETMASK, &empty, NULL);
}

/* ---------------------------------------------------------------- users */

struct exec_user
{
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t n_groups;
  char *home;
};

/* Parse a numeric id (whole string); -1 when S is not one. */
static long long
parse_id (const char *s)
{
  long long v = 0;

  if (s == NULL || *s == '\0')
    return -1;
  for (; *s; s++)
    {
      if (*s < '0' || *s > '9')
        return -1;
      v = v * 10 + (*s - '0');
      if (v > (long long) UINT32_MAX - 1)
        return -1;
    }
  return v;
}

/* Split LINE (modified in place) at ':' into at most MAX fields; returns the
   number of fields. */
static size_t
split_colon (char *line, char **fields, size_t max)
{
  size_t n = 0;
  char *p = line;

  line[strcspn (line, "\n")] = '\0';
  while (n < max)
    {
      fields[n++] = p;
      p = strchr (p, ':');
      if (p == NULL)
        break;
      *p++ = '\0';
    }
  return n;
}

/* Look NAME (or, when NAME is NULL, UID) up in /etc/passwd of the current
   root.  Returns 1 when found (*RET_NAME, *RET_GID, *RET_HOME set), 0 when
   not (or no passwd file). */
static int
passwd_lookup (const char *name, uid_t uid, uid_t *ret_uid, gid_t *ret_gid, char **ret_name,
               char **ret_home)
{
  cleanup_file FILE *f = fopen ("/etc/passwd", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;

  if (f == NULL)
    return 0;
  while (getline (&line, &cap, f) > 0)
    {
      char *fld[7];
      long long u, g;

      if (split_colon (line, fld, 7) < 7)
        continue;
      u = parse_id (fld[2]);
      g = parse_id (fld[3]);
      if (u < 0 || g < 0)
        continue;
      if (name ? strcmp (fld[0], name) != 0 : (uid_t) u != uid)
        continue;
      *ret_uid = (uid_t) u;
      *ret_gid = (gid_t) g;
      *ret_name = xstrdup (fld[0]);
      *ret_home = xstrdup (fld[5][0] ? fld[5] : "/");
      return 1;
    }
  return 0;
}

/* Find group NAME in /etc/group; 1 when found. */
static int
group_lookup (const char *name, gid_t *ret_gid)
{
  cleanup_file FILE *f = fopen ("/etc/group", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;

  if (f == NULL)
    return 0;
  while (getline (&line, &cap, f) > 0)
    {
      char *fld[4];
      long long g;

      if (split_colon (line, fld, 4) < 3)
        continue;
      g = parse_id (fld[2]);
      if (g < 0 || strcmp (fld[0], name) != 0)
        continue;
      *ret_gid = (gid_t) g;
      return 1;
    }
  return 0;
}

static void
add_group (struct exec_user *u, gid_t g)
{
  size_t i;

  for (i = 0; i < u->n_groups; i++)
    if (u->groups[i] == g)
      return;
  u->groups = xrealloc (u->groups, (u->n_groups + 1) * sizeof (gid_t));
  u->groups[u->n_groups++] = g;
}

/* Add the groups of /etc/group that list USER as a member. */
static void
member_groups (struct exec_user *u, const char *user)
{
  cleanup_file FILE *f = fopen ("/etc/group", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;

  if (f == NULL)
    return;
  while (getline (&line, &cap, f) > 0)
    {
      char *fld[4];
      char *m, *save = NULL;
      long long g;

      if (split_colon (line, fld, 4) < 4)
        continue;
      g = parse_id (fld[2]);
      if (g < 0)
        continue;
      for (m = strtok_r (fld[3], ",", &save); m; m = strtok_r (NULL, ",", &save))
        if (strcmp (m, user) == 0)
          {
            add_group (u, (gid_t) g);
            break;
          }
    }
}

/* Resolve SPEC ("user[:group]", names or numbers; NULL = root) against the
   current root's /etc/passwd and /etc/group, like runc's GetExecUser. */
static int
resolve_user (const char *spec, struct exec_user *u, mini_error_t *err)
{
  cleanup_free char *copy = xstrdup (spec && spec[0] ? spec : "0");
  cleanup_free char *name = NULL;
  char *user = copy;
  char *group = strchr (copy, ':');
  long long id;
  uid_t uid = 0;
  gid_t gid = 0;
  int found;

  if (group)
    *group++ = '\0';
  memset (u, 0, sizeof (*u));

  id = parse_id (user);
  if (id >= 0)
    found = passwd_lookup (NULL, (uid_t) id, &uid, &gid, &name, &u->home);
  else
    {
      found = passwd_lookup (user, 0, &uid, &gid, &name, &u->home);
      if (! found)
        return mini_error_set (err, 0, "unable to find user %s: no matching entries in passwd file",
                               user);
    }
  if (id >= 0)
    uid = (uid_t) id;
  if (! found)
    {
      gid = 0;
      u->home = xstrdup ("/");
    }

  if (group && group[0])
    {
      id = parse_id (group);
      if (id >= 0)
        gid = (gid_t) id;
      else if (! group_lookup (group, &gid))
        return mini_error_set (err, 0,
                               "unable to find group %s: no matching entries in group file", group);
    }

  u->uid = uid;
  u->gid = gid;
  add_group (u, gid);
  if (found && ! (group && group[0]))
    member_groups (u, name);
  return 0;
}

/* ---------------------------------------------------------------- capabilities */

/* Docker's default capability set (REFERENCE.md). */
static const int default_caps[] = {
  CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,  CAP_FOWNER,           CAP_MKNOD,
  CAP_NET_RAW, CAP_SETGID,       CAP_SETUID,  CAP_SETFCAP,          CAP_SETPCAP,
  CAP_NET_BIND_SERVICE,          CAP_SYS_CHROOT, CAP_KILL,          CAP_AUDIT_WRITE,
};

static bool
cap_is_default (int cap)
{
  size_t i;

  for (i = 0; i < sizeof (default_caps) / sizeof (default_caps[0]); i++)
    if (default_caps[i] == cap)
      return true;
  return false;
}

static int
last_cap (void)
{
  cleanup_free char *buf = NULL;
  mini_error_t tmp_err = NULL;
  long v;

  if (read_file_at (AT_FDCWD, "/proc/sys/kernel/cap_last_cap", &buf, NULL, 64, &tmp_err) < 0)
    {
      mini_error_release (&tmp_err);
      return 63;
    }
  v = strtol (buf, NULL, 10);
  return (v > 0 && v < 64) ? (int) v : 63;
}

/* Drop every capability outside Docker's set from the bounding set. */
static int
drop_bounding (mini_error_t *err)
{
  int last = last_cap ();
  int cap;

  for (cap = 0; cap <= last; cap++)
    {
      if (cap_is_default (cap))
        continue;
      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
        return mini_error_set (err, errno, "drop capability %d from the bounding set", cap);
    }
  return 0;
}

/* permitted = effective = Docker's set (as far as we hold it), inheritable
   empty (moby after CVE-2022-24769); ambient cleared. */
static int
set_caps (bool keep, mini_error_t *err)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct cur[2], data[2];
  size_t i;

  memset (cur, 0, sizeof (cur));
  memset (data, 0, sizeof (data));
  if (syscall (SYS_capget, &hdr, cur) < 0)
    return mini_error_set (err, errno, "capget");
  if (keep)
    for (i = 0; i < sizeof (default_caps) / sizeof (default_caps[0]); i++)
      {
        int c = default_caps[i];
        data[c / 32].permitted |= 1U << (c % 32);
      }
  for (i = 0; i < 2; i++)
    {
      data[i].permitted &= cur[i].permitted;
      data[i].effective = data[i].permitted;
      data[i].inheritable = 0;
    }
  if (syscall (SYS_capset, &hdr, data) < 0)
    return mini_error_set (err, errno, "capset");
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return mini_error_set (err, errno, "clear the ambient capabilities");
  return 0;
}

/* ---------------------------------------------------------------- exec */

/* Like Go's exec.LookPath (what runc uses): the first regular file with an
   execute bit in PATH.  Returns a new path or NULL. */
static char *
lookup_path (const char *file, const char *path)
{
  const char *p = path ? path : "";

  for (;;)
    {
      size_t len = strcspn (p, ":");
      cleanup_free char *cand = NULL;
      struct stat st;

      if (len == 0)
        cand = xfmt ("./%s", file);
      else
        cand = xfmt ("%.*s/%s", (int) len, p, file);
      if (stat (cand, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 0111))
        return steal_pointer (&cand);
      if (p[len] == '\0')
        break;
      p += len + 1;
    }
  return NULL;
}

static int
exec_status (int e)
{
  return (e == ENOENT || e == ENOTDIR || e == ELOOP) ? RUN_STATUS_NOT_FOUND
                                                     : RUN_STATUS_CANNOT_EXEC;
}

void
proc_exec (const struct proc_spec *p, int sync_fd)
{
  cleanup_error mini_error_t err = NULL;
  cleanup_strv char **env = strv_dup (p->env);
  cleanup_free char *file = NULL;
  struct exec_user u;
  const char *argv0 = p->argv[0];

  if (resolve_user (p->user, &u, &err) < 0)
    child_fail (sync_fd, RUN_STATUS_ENGINE_ERROR, err);
  if (env_get (env, "HOME") == NULL)
    {
      cleanup_free char *h = xfmt ("HOME=%s", u.home);
      env_set (&env, h);
    }

  if (chdir (p->cwd) < 0)
    {
      mini_error_set (&err, errno, "chdir to cwd `%s`", p->cwd);
      child_fail (sync_fd, p->cwd_status, err);
    }

  /* Docker's default seccomp profile.  Loading it needs CAP_SYS_ADMIN (no
     no_new_privs, as in Docker), so it goes in before the capabilities are
     dropped (runc's order); the calls left until execve are all allowed. */
  if (! p->seccomp_unconfined && seccomp_profile_apply (&err) < 0)
    child_fail (sync_fd, RUN_STATUS_ENGINE_ERROR, err);
  if (drop_bounding (&err) < 0)
    child_fail (sync_fd, RUN_STATUS_ENGINE_ERROR, err);
  if (setgroups (u.n_groups, u.groups) < 0)
    {
      mini_error_set (&err, errno, "setgroups");
      child_fail (sync_fd, RUN_STATUS_ENGINE_ERROR, err);
    }
  if (setresgid (u.gid, u.gid, u.gid) < 0)
    {
      mini_error_set (&err, errno, "setgid %u", (unsigned) u.gid);
      child_fail (sync_fd, RUN_STATUS_ENGINE_ERROR, err);
    }
  if (setresuid (u.uid, u.uid, u.uid) < 0)
    {
      mini_error_set (&err, errno, "setuid %u", (unsigned) u.uid);
      child_fail (sync_fd, RUN_STATUS_ENGINE_ERROR, err);
    }
  /* A non-root uid lost permitted/effective in setresuid (no KEEP_CAPS), as
     with Docker; root keeps Docker's set. */
  if (set_caps (u.uid == 0, &err) < 0)
    child_fail (sync_fd, RUN_STATUS_ENGINE_ERROR, err);

  umask (022);

  if (strchr (argv0, '/') == NULL)
    {
      file = lookup_path (argv0, env_get (env, "PATH"));
      if (file == NULL)
        {
          mini_error_set (&err, 0, "exec: \"%s\": executable file not found in $PATH", argv0);
          child_fail (sync_fd, RUN_STATUS_NOT_FOUND, err);
        }
    }
  else
    file = xstrdup (argv0);

  /* Everything but stdio closes on exec, the sync socket included, so the
     parent reads EOF exactly when execve succeeded. */
  if (close_range (3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    {
      int fd;
      for (fd = 3; fd < 65536; fd++)
        if (fd != sync_fd)
          close (fd);
    }

  execve (file, p->argv, env);
  {
    int e = errno;
    mini_error_set (&err, e, "exec: \"%s\"", argv0);
    child_fail (sync_fd, exec_status (e), err);
  }
}

/* ---------------------------------------------------------------- network */

int
loopback_up (mini_error_t *err)
{
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;

  if (fd < 0)
    return mini_error_set (err, errno, "socket");
  memset (&ifr, 0, sizeof (ifr));
  strncpy (ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) < 0)
    return mini_error_set (err, errno, "get flags of lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)
    return mini_error_set (err, errno, "bring lo up");
  return 0;
}
