/* mini - run: container liveness, stop and remove.
 *
 * The monitor is the only writer of the exit record while it lives; these
 * functions signal the init through a pidfd (checked against the recorded
 * start time, so a recycled pid is never signalled) and wait for the
 * monitor's record, writing it themselves only when the monitor is gone.
 */
#include "run/run-private.h"

#include <poll.h>
#include <string.h>
#include <time.h>

#define RECORD_WAIT_MS 10000
#define EXIT_UNKNOWN 255

static void
sleep_ms (long ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* Replace the contents of C with its state on disk. */
static int
reload (struct store *s, struct store_container *c, mini_error_t *err)
{
  struct store_container *fresh = NULL;
  struct store_container tmp;

  if (store_container_load (s, c->id, &fresh, err) < 0)
    return -1;
  tmp = *c;
  *c = *fresh;
  *fresh = tmp;
  store_container_free (fresh);
  return 0;
}

/* true if PID exists and is not a zombie. */
static bool
process_alive (pid_t pid)
{
  cleanup_free char *buf = NULL;
  cleanup_free char *path = NULL;
  mini_error_t tmp_err = NULL;
  const char *p;

  if (pid <= 0)
    return false;
  path = xfmt ("/proc/%d/stat", (int) pid);
  if (read_file_at (AT_FDCWD, path, &buf, NULL, 4096, &tmp_err) < 0)
    {
      mini_error_release (&tmp_err);
      return false;
    }
  p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    return false;
  return p[2] != 'Z' && p[2] != 'X' && p[2] != 'x';
}

/* true if C's init (its recorded pid with its recorded start time) exists,
   zombies included. */
static bool
init_exists (const struct store_container *c)
{
  uint64_t t;

  if (c->pid <= 0)
    return false;
  t = proc_start_time (c->pid);
  return t != 0 && t == c->pid_start_time;
}

/* Record the exit ourselves (the monitor is gone). */
static void
mark_exited (struct store *s, struct store_container *c, int status)
{
  mini_error_t tmp_err = NULL;

  c->status = STORE_CONTAINER_EXITED;
  c->exit_code = status;
  c->finished_ns = now_ns ();
  c->pid = 0;
  c->pid_start_time = 0;
  c->monitor_pid = 0;
  if (store_container_save (s, c, &tmp_err) < 0)
    mini_error_release (&tmp_err);
}

/* The init is gone or going: wait up to TIMEOUT_MS for the monitor to record
   the exit; when the monitor is dead and the init gone, record
   UNKNOWN_STATUS.  Returns 1 when C vanished from the store (--rm), else 0. */
static int
wait_recorded (struct store *s, struct store_container *c, long timeout_ms, int unknown_status)
{
  long waited = 0;

  for (;;)
    {
      mini_error_t tmp_err = NULL;
      bool monitor_alive, init_alive;

      /* Liveness first, then the state: a monitor found dead here had
         written its last record before the reload below. */
      monitor_alive = process_alive (c->monitor_pid);
      if (reload (s, c, &tmp_err) < 0)
        {
          bool gone = mini_error_errno (tmp_err) == ENOENT;

          mini_error_release (&tmp_err);
          if (gone)
            {
              c->status = STORE_CONTAINER_EXITED;
              c->pid = 0;
              c->pid_start_time = 0;
              c->monitor_pid = 0;
              return 1;
            }
        }
      if (c->status != STORE_CONTAINER_RUNNING)
        return 0;
      init_alive = init_exists (c) && process_alive (c->pid);
      if (! monitor_alive || waited >= timeout_ms)
        {
          if (! init_alive)
            mark_exited (s, c, unknown_status);
          return 0;
        }
      sleep_ms (10);
      waited += 10;
    }
}

bool
run_container_is_running (struct store *s, struct store_container *c)
{
  if (c->status != STORE_CONTAINER_RUNNING)
    return false;
  if (init_exists (c) && process_alive (c->pid))
    return true;
  /* Exited: let its monitor record it (briefly), or record it ourselves. */
  (void) wait_recorded (s, c, 2000, EXIT_UNKNOWN);
  return c->status == STORE_CONTAINER_RUNNING && init_exists (c) && process_alive (c->pid);
}

/* Wait until PIDFD's process exits, at most TIMEOUT_MS (< 0: forever).
   Returns true if it exited. */
static bool
pidfd_wait (int pidfd, long timeout_ms)
{
  struct timespec start, now;

  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
      long left = -1;
      int r;

      if (timeout_ms >= 0)
        {
          clock_gettime (CLOCK_MONOTONIC, &now);
          left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000
                               + (now.tv_nsec - start.tv_nsec) / 1000000);
          if (left < 0)
            left = 0;
        }
      r = poll (&pfd, 1, left > INT32_MAX ? INT32_MAX : (int) left);
      if (r > 0)
        return true;
      if (r == 0 && left >= 0 && left < INT32_MAX)
        return false;
      if (r < 0 && errno != EINTR)
        return false;
    }
}

/* Signal C's init with SIG, wait up to TIMEOUT_S for it to exit, SIGKILL
   it, and wait for the exit record. */
static int
kill_and_wait (struct store *s, struct store_container *c, int sig, int timeout_s,
               mini_error_t *err)
{
  cleanup_close int pidfd = -1;
  int unknown = 128 + sig;

  pidfd = sys_pidfd_open (c->pid);
  if (pidfd < 0)
    {
      if (errno != ESRCH)
        return mini_error_set (err, errno, "pidfd_open %d", (int) c->pid);
      (void) wait_recorded (s, c, RECORD_WAIT_MS, EXIT_UNKNOWN);
      return 0;
    }
  /* The pidfd pins the process: if the start time still matches now, it is
     the container's init and not a recycled pid. */
  if (! init_exists (c))
    {
      (void) wait_recorded (s, c, RECORD_WAIT_MS, EXIT_UNKNOWN);
      return 0;
    }

  if (sys_pidfd_send_signal (pidfd, sig) < 0 && errno != ESRCH)
    return mini_error_set (err, errno, "send signal %d to container %s", sig, c->id);
  if (sig != SIGKILL
      && ! pidfd_wait (pidfd, timeout_s < 0 ? -1 : (long) timeout_s * 1000))
    {
      if (sys_pidfd_send_signal (pidfd, SIGKILL) < 0 && errno != ESRCH)
        return mini_error_set (err, errno, "kill container %s", c->id);
      unknown = 128 + SIGKILL;
    }
  if (! pidfd_wait (pidfd, RECORD_WAIT_MS))
    return mini_error_set (err, ETIMEDOUT, "container %s did not exit after SIGKILL", c->id);
  (void) wait_recorded (s, c, RECORD_WAIT_MS, unknown);
  return 0;
}

int
run_container_stop (struct store *s, struct store_container *c, int timeout_s, mini_error_t *err)
{
  int sig = SIGTERM;

  if (! run_container_is_running (s, c))
    return 0;
  if (c->stop_signal && c->stop_signal[0])
    {
      sig = run_signal_parse (c->stop_signal);
      if (sig < 0)
        sig = SIGTERM;
    }
  if (kill_and_wait (s, c, sig, timeout_s, err) < 0)
    return mini_error_wrap (err, "stop container %s", c->id);
  return 0;
}

int
run_container_remove (struct store *s, struct store_container *c, bool force, mini_error_t *err)
{
  if (run_container_is_running (s, c))
    {
      if (! force)
        return mini_error_set (err, EBUSY,
                               "container %s is running: stop it first or use rm -f",
                               c->name ? c->name : c->id);
      if (kill_and_wait (s, c, SIGKILL, 0, err) < 0)
        return mini_error_wrap (err, "remove container %s", c->id);
    }
  if (store_container_remove (s, c, err) < 0)
    {
      if (c->auto_remove && mini_error_errno (*err) == ENOENT)
        {
          mini_error_release (err);
          return 0;
        }
      return -1;
    }
  return 0;
}
