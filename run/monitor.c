/* mini - run: mini-monitor, the resident monitor of a detached container.
 *
 * A detached container's monitor is a fork of `mini run -d`: it clones the
 * container's init, saves the RUNNING state and reports to the caller, then
 * execs this small program (linked statically, libc only) so that what
 * stays resident for the container's lifetime holds none of mini's
 * libraries.  The pid stays the same, so the init remains its child and
 * state.json's monitor_pid remains right.
 *
 *   mini-monitor PID ID NAME RM      (fd 3: the store's root directory)
 *
 * It reaps the init PID and records the exit in <root>/containers/<ID>/exit
 * as "CODE FINISHED_NS\n" (CODE: the exit status, 128+n for signal n;
 * FINISHED_NS: CLOCK_REALTIME in ns), written to a temporary file and
 * renamed.  store_container_load folds that record into the state of a
 * container that state.json still says is running.  With RM ("1") it
 * removes the container instead: state.json first, then the directory
 * (never following a symlink, never crossing a mount), then names/NAME
 * when it still points at ID.  Stdin is /dev/null and stdout/stderr are the
 * container's ctr.log, inherited from the fork and kept open; the init
 * writes to the log itself.  Signals that could end the monitor by
 * accident (SIGTERM, SIGINT, SIGHUP, ...) are ignored: the monitor
 * forwards nothing, `mini stop` signals the init through a pidfd.
 *
 * Depends on nothing of mini (not even common/), so that it links with libc
 * alone.  Exit status 0, or 2 on bad arguments.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROOT_FD 3
#define MAX_DEPTH 4096

static bool
hex64 (const char *s)
{
  size_t i;

  for (i = 0; i < 64; i++)
    if (! ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return s[64] == '\0';
}

/* Docker's container name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128. */
static bool
name_valid (const char *s)
{
  size_t i, n = strlen (s);

  if (n == 0 || n > 128)
    return false;
  for (i = 0; i < n; i++)
    {
      char ch = s[i];
      bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');

      if (! alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
        return false;
    }
  return true;
}

/* rm -rf of NAME in PARENTFD: never follows a symlink (O_NOFOLLOW, lstat),
   never enters another file system than DEV (0: take NAME's).  Returns 0,
   or -1 with errno. */
static int
remove_tree (int parentfd, const char *name, dev_t dev, int depth)
{
  struct stat st;
  struct dirent *de;
  DIR *d;
  int fd, ret = 0;

  if (depth > MAX_DEPTH)
    {
      errno = ELOOP;
      return -1;
    }
  if (fstatat (parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : -1;
  if (! S_ISDIR (st.st_mode))
    return unlinkat (parentfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
  if (dev != 0 && st.st_dev != dev)
    {
      errno = EXDEV;
      return -1;
    }
  if (unlinkat (parentfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
    return 0;
  fd = openat (parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES)
    {
      (void) fchmodat (parentfd, name, 0700, 0);
      fd = openat (parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  if (fd < 0)
    return -1;
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return -1;
    }
  while (ret == 0 && (de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      ret = remove_tree (dirfd (d), de->d_name, st.st_dev, depth + 1);
    }
  closedir (d);
  if (ret < 0)
    return -1;
  return unlinkat (parentfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1 : 0;
}

/* store_container_remove's order: state.json, the directory, the name. */
static int
remove_container (int rootfd, const char *id, const char *name)
{
  char rel[128], target[80];
  ssize_t n;

  snprintf (rel, sizeof (rel), "containers/%s/state.json", id);
  (void) unlinkat (rootfd, rel, 0);
  snprintf (rel, sizeof (rel), "containers/%s", id);
  if (remove_tree (rootfd, rel, 0, 0) < 0)
    return -1;
  if (name[0] != '\0')
    {
      snprintf (rel, sizeof (rel), "names/%s", name);
      n = readlinkat (rootfd, rel, target, sizeof (target) - 1);
      if (n == 64 && memcmp (target, id, 64) == 0)
        (void) unlinkat (rootfd, rel, 0);
    }
  return 0;
}

static void
write_exit (int rootfd, const char *id, int code, long long finished_ns)
{
  char rel[128], buf[64];
  int dfd, fd, len;
  bool ok;

  snprintf (rel, sizeof (rel), "containers/%s", id);
  dfd = openat (rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return;
  len = snprintf (buf, sizeof (buf), "%d %lld\n", code, finished_ns);
  fd = openat (dfd, "exit.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0)
    {
      ssize_t w;

      do
        w = write (fd, buf, (size_t) len);
      while (w < 0 && errno == EINTR);
      ok = w == len;
      close (fd);
      if (! ok || renameat (dfd, "exit.tmp", dfd, "exit") < 0)
        (void) unlinkat (dfd, "exit.tmp", 0);
    }
  close (dfd);
}

int
main (int argc, char **argv)
{
  static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE };
  struct sigaction sa;
  struct timespec ts;
  sigset_t none;
  char *end;
  long pid;
  int wstatus = 0, code = 255;
  size_t i;
  pid_t r;

  if (argc != 5 || ! hex64 (argv[2]) || (argv[3][0] != '\0' && ! name_valid (argv[3]))
      || (strcmp (argv[4], "0") != 0 && strcmp (argv[4], "1") != 0))
    {
      fprintf (stderr, "usage: mini-monitor PID ID NAME RM (fd 3: the store root)\n");
      return 2;
    }
  errno = 0;
  pid = strtol (argv[1], &end, 10);
  if (errno != 0 || *end != '\0' || pid <= 0 || pid > 0x7fffffffL
      || fcntl (ROOT_FD, F_SETFD, FD_CLOEXEC) < 0)
    {
      fprintf (stderr, "mini-monitor: bad pid or no store root on fd 3\n");
      return 2;
    }

  memset (&sa, 0, sizeof (sa));
  sigemptyset (&sa.sa_mask);
  sa.sa_handler = SIG_IGN;
  for (i = 0; i < sizeof (ignored) / sizeof (ignored[0]); i++)
    sigaction (ignored[i], &sa, NULL);
  sa.sa_handler = SIG_DFL;
  sigaction (SIGCHLD, &sa, NULL); /* SIG_IGN would auto-reap: no status */
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);

  do
    r = waitpid ((pid_t) pid, &wstatus, 0);
  while (r < 0 && errno == EINTR);
  if (r == (pid_t) pid)
    {
      if (WIFEXITED (wstatus))
        code = WEXITSTATUS (wstatus);
      else if (WIFSIGNALED (wstatus))
        code = 128 + WTERMSIG (wstatus);
    }
  clock_gettime (CLOCK_REALTIME, &ts);

  if (strcmp (argv[4], "1") == 0 && remove_container (ROOT_FD, argv[2], argv[3]) == 0)
    return 0;
  write_exit (ROOT_FD, argv[2], code, (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec);
  return 0;
}
