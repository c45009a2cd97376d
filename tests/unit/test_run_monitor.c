/* Unit tests: run/monitor.c (the mini-monitor executable, run as the parent
   of a short-lived child the way a detached monitor is the parent of the
   init) and store_container_load folding its exit record into the state. */
#include "store/store.h"

#include <check.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char tmpdir[64];
static struct store *st;

static void
setup (void)
{
  mini_error_t err = NULL;
  strcpy (tmpdir, "/tmp/mini-monitor-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  cleanup_free char *root = xfmt ("%s/root", tmpdir);
  ck_assert_int_eq (store_open (root, &st, &err), 0);
}

static void
teardown (void)
{
  mini_error_t err = NULL;
  store_close (st);
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
}

static bool
exists (int dirfd, const char *rel)
{
  struct stat sb;
  return fstatat (dirfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A running container named NAME, as `mini run -d` leaves it. */
static struct store_container *
running_container (const char *name)
{
  mini_error_t err = NULL;
  struct store_container *c = xmalloc0 (sizeof (*c));

  c->name = xstrdup (name);
  ck_assert_int_eq (store_container_create (st, c, &err), 0);
  c->status = STORE_CONTAINER_RUNNING;
  c->pid = 12345;
  c->pid_start_time = 777;
  c->monitor_pid = 12344;
  c->started_ns = now_ns ();
  ck_assert_int_eq (store_container_save (st, c, &err), 0);
  return c;
}

/* Run mini-monitor as the parent of a child that dies with WSTATUS_CODE
   (exit code, or -N: killed by signal N), for container C with RM. */
static void
run_monitor (const struct store_container *c, int code, bool rm)
{
  const char *helper = getenv ("MINI_MONITOR");
  pid_t p;
  int wstatus;

  ck_assert_ptr_nonnull (helper);
  p = fork ();
  ck_assert_int_ge (p, 0);
  if (p == 0)
    {
      char pid_str[24];
      pid_t child = fork ();

      if (child == 0)
        {
          if (code < 0)
            raise (-code);
          _exit (code);
        }
      snprintf (pid_str, sizeof (pid_str), "%d", (int) child);
      if (dup2 (st->root_fd, 3) < 0)
        _exit (99);
      execl (helper, "mini-monitor", pid_str, c->id, c->name, rm ? "1" : "0", (char *) NULL);
      _exit (98);
    }
  ck_assert_int_eq (waitpid (p, &wstatus, 0), p);
  ck_assert (WIFEXITED (wstatus));
  ck_assert_int_eq (WEXITSTATUS (wstatus), 0);
}

START_TEST (test_exit_record)
{
  mini_error_t err = NULL;
  struct store_container *c = running_container ("rec");
  struct store_container *l = NULL;
  int64_t before = now_ns ();

  run_monitor (c, 7, false);
  ck_assert_int_eq (store_container_load (st, "rec", &l, &err), 0);
  ck_assert_int_eq (l->status, STORE_CONTAINER_EXITED);
  ck_assert_int_eq (l->exit_code, 7);
  ck_assert_int_ge (l->finished_ns, before);
  ck_assert_int_eq (l->pid, 0);
  ck_assert_int_eq (l->monitor_pid, 0);
  store_container_free (l);
  store_container_free (c);
}
END_TEST

START_TEST (test_exit_record_signal)
{
  mini_error_t err = NULL;
  struct store_container *c = running_container ("sig");
  struct store_container *l = NULL;

  run_monitor (c, -SIGKILL, false);
  ck_assert_int_eq (store_container_load (st, c->id, &l, &err), 0);
  ck_assert_int_eq (l->status, STORE_CONTAINER_EXITED);
  ck_assert_int_eq (l->exit_code, 128 + SIGKILL);
  store_container_free (l);
  store_container_free (c);
}
END_TEST

/* A record older than the start, or malformed, does not end a running
   container; an exited one keeps its own record. */
START_TEST (test_exit_record_ignored)
{
  mini_error_t err = NULL;
  struct store_container *c = running_container ("stale");
  struct store_container *l = NULL;
  cleanup_free char *rel = xfmt ("containers/%s/exit", c->id);
  cleanup_free char *old = xfmt ("3 %lld\n", (long long) c->started_ns - 1);

  ck_assert_int_eq (write_file_atomic_at (st->root_fd, rel, old, strlen (old), 0600, &err), 0);
  ck_assert_int_eq (store_container_load (st, c->id, &l, &err), 0);
  ck_assert_int_eq (l->status, STORE_CONTAINER_RUNNING);
  ck_assert_int_eq (l->pid, 12345);
  store_container_free (l);

  ck_assert_int_eq (write_file_atomic_at (st->root_fd, rel, "garbage", 7, 0600, &err), 0);
  ck_assert_int_eq (store_container_load (st, c->id, &l, &err), 0);
  ck_assert_int_eq (l->status, STORE_CONTAINER_RUNNING);
  store_container_free (l);

  c->status = STORE_CONTAINER_EXITED;
  c->exit_code = 4;
  ck_assert_int_eq (store_container_save (st, c, &err), 0);
  free (old);
  old = xfmt ("3 %lld\n", (long long) now_ns ());
  ck_assert_int_eq (write_file_atomic_at (st->root_fd, rel, old, strlen (old), 0600, &err), 0);
  ck_assert_int_eq (store_container_load (st, c->id, &l, &err), 0);
  ck_assert_int_eq (l->exit_code, 4);
  store_container_free (l);
  store_container_free (c);
}
END_TEST

/* RM: the directory and the name go; a symlink inside pointing out of the
   container is removed, not followed; nothing else in the store moves. */
START_TEST (test_remove)
{
  mini_error_t err = NULL;
  struct store_container *c = running_container ("gone");
  struct store_container *other = running_container ("stays");
  struct store_container *l = NULL;
  cleanup_free char *ctr = xfmt ("containers/%s", c->id);
  cleanup_free char *deep = xfmt ("%s/upper/a/b/c", ctr);
  cleanup_free char *link = xfmt ("%s/upper/a/escape", ctr);
  cleanup_free char *outside = xfmt ("%s/outside", tmpdir);
  cleanup_free char *victim = xfmt ("%s/outside/victim", tmpdir);
  cleanup_free char *locked = xfmt ("%s/work/work", ctr);
  int fd;

  ck_assert_int_eq (mkdir_p_at (st->root_fd, deep, 0755, &err), 0);
  ck_assert_int_eq (mkdir_p_at (st->root_fd, locked, 0755, &err), 0);
  ck_assert_int_eq (fchmodat (st->root_fd, locked, 0, 0), 0); /* like overlay's work/work */
  ck_assert_int_eq (mkdirat (AT_FDCWD, outside, 0755), 0);
  fd = open (victim, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ck_assert_int_ge (fd, 0);
  close (fd);
  ck_assert_int_eq (symlinkat (outside, st->root_fd, link), 0);

  run_monitor (c, 0, true);
  ck_assert (! exists (st->root_fd, ctr));
  ck_assert (! exists (st->root_fd, "names/gone"));
  ck_assert (exists (AT_FDCWD, victim));
  ck_assert_int_lt (store_container_load (st, "gone", &l, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  mini_error_release (&err);
  ck_assert_int_eq (store_container_load (st, "stays", &l, &err), 0);
  ck_assert_int_eq (l->status, STORE_CONTAINER_RUNNING);
  store_container_free (l);
  store_container_free (other);
  store_container_free (c);
}
END_TEST

START_TEST (test_bad_arguments)
{
  const char *helper = getenv ("MINI_MONITOR");
  pid_t p;
  int wstatus;

  ck_assert_ptr_nonnull (helper);
  p = fork ();
  ck_assert_int_ge (p, 0);
  if (p == 0)
    {
      int devnull = open ("/dev/null", O_WRONLY);
      dup2 (devnull, 2);
      dup2 (st->root_fd, 3);
      execl (helper, "mini-monitor", "1", "../../etc", "", "1", (char *) NULL);
      _exit (98);
    }
  ck_assert_int_eq (waitpid (p, &wstatus, 0), p);
  ck_assert (WIFEXITED (wstatus));
  ck_assert_int_eq (WEXITSTATUS (wstatus), 2);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("run_monitor");
  TCase *tc = tcase_create ("monitor");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_exit_record);
  tcase_add_test (tc, test_exit_record_signal);
  tcase_add_test (tc, test_exit_record_ignored);
  tcase_add_test (tc, test_remove);
  tcase_add_test (tc, test_bad_arguments);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (suite ());
  int failed;
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
