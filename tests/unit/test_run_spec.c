/* Unit tests: run/ process description from an image config (Docker's
 * merge rules), signal names, and the small helpers behind them.  No root:
 * nothing here starts a container. */
#include "run/run.h"
#include "run/run-private.h"

#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static struct store_image img;
static struct store_container *ctr;

static char *img_ep[] = { "/docker-entrypoint.sh", "--flag", NULL };
static char *img_cmd[] = { "nginx", "-g", "daemon off;", NULL };
static char *img_env[] = { "PATH=/opt/bin:/bin", "LANG=C.UTF-8", "EMPTY=", NULL };

static void
setup (void)
{
  memset (&img, 0, sizeof (img));
  img.entrypoint = img_ep;
  img.cmd = img_cmd;
  img.env = img_env;
  ctr = xmalloc0 (sizeof (*ctr));
  ctr->id = xstrdup ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  ctr->hostname = xstrdup ("0123456789ab");
}

static void
teardown (void)
{
  store_container_free (ctr);
  ctr = NULL;
}

/* Assert that V equals the NULL-terminated list of strings after V. */
static void
assert_strv (char **v, ...)
{
  va_list ap;
  const char *want;
  size_t i = 0;

  ck_assert_ptr_nonnull (v);
  va_start (ap, v);
  while ((want = va_arg (ap, const char *)) != NULL)
    {
      ck_assert_msg (v[i] != NULL, "vector too short at %zu (want `%s`)", i, want);
      ck_assert_str_eq (v[i], want);
      i++;
    }
  va_end (ap);
  ck_assert_msg (v[i] == NULL, "vector too long: extra `%s`", v[i]);
}

static int
spec (const struct run_overrides *o, mini_error_t *err)
{
  return run_spec_from_image (&img, o, ctr, err);
}

/* ---------------------------------------------------------------- argv */

START_TEST (test_argv_entrypoint_and_cmd)
{
  mini_error_t err = NULL;

  ck_assert_int_eq (spec (NULL, &err), 0);
  assert_strv (ctr->argv, "/docker-entrypoint.sh", "--flag", "nginx", "-g", "daemon off;", NULL);
}
END_TEST

START_TEST (test_argv_cmd_only)
{
  mini_error_t err = NULL;
  struct run_overrides o = { 0 };

  img.entrypoint = NULL;
  ck_assert_int_eq (spec (&o, &err), 0);
  assert_strv (ctr->argv, "nginx", "-g", "daemon off;", NULL);
}
END_TEST

START_TEST (test_argv_entrypoint_only)
{
  mini_error_t err = NULL;

  img.cmd = NULL;
  ck_assert_int_eq (spec (NULL, &err), 0);
  assert_strv (ctr->argv, "/docker-entrypoint.sh", "--flag", NULL);
}
END_TEST

START_TEST (test_argv_args_replace_cmd)
{
  mini_error_t err = NULL;
  char *args[] = { "echo", "hi", NULL };
  struct run_overrides o = { .args = args };

  ck_assert_int_eq (spec (&o, &err), 0);
  assert_strv (ctr->argv, "/docker-entrypoint.sh", "--flag", "echo", "hi", NULL);

  img.entrypoint = NULL;
  ck_assert_int_eq (spec (&o, &err), 0);
  assert_strv (ctr->argv, "echo", "hi", NULL);
}
END_TEST

START_TEST (test_argv_empty_args_mean_cmd)
{
  mini_error_t err = NULL;
  char *args[] = { NULL };
  struct run_overrides o = { .args = args };

  img.entrypoint = NULL;
  ck_assert_int_eq (spec (&o, &err), 0);
  assert_strv (ctr->argv, "nginx", "-g", "daemon off;", NULL);
}
END_TEST

START_TEST (test_argv_entrypoint_override_drops_cmd)
{
  mini_error_t err = NULL;
  char *ep[] = { "/bin/sh", NULL };
  char *args[] = { "-c", "true", NULL };
  struct run_overrides o = { .entrypoint = ep };

  /* Docker: --entrypoint discards the image's Cmd. */
  ck_assert_int_eq (spec (&o, &err), 0);
  assert_strv (ctr->argv, "/bin/sh", NULL);

  o.args = args;
  ck_assert_int_eq (spec (&o, &err), 0);
  assert_strv (ctr->argv, "/bin/sh", "-c", "true", NULL);
}
END_TEST

START_TEST (test_argv_empty_entrypoint)
{
  mini_error_t err = NULL;
  char *ep[] = { "", NULL };
  char *args[] = { "ls", "-l", NULL };
  struct run_overrides o = { .entrypoint = ep, .args = args };

  ck_assert_int_eq (spec (&o, &err), 0);
  assert_strv (ctr->argv, "ls", "-l", NULL);

  /* --entrypoint "" and no arguments: nothing left to run (moby's
     mergeAndVerifyConfig). */
  o.args = NULL;
  ck_assert_int_lt (spec (&o, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  ck_assert_str_eq (err->msg, "no command specified");
  mini_error_release (&err);
}
END_TEST

START_TEST (test_argv_nothing)
{
  mini_error_t err = NULL;

  img.entrypoint = NULL;
  img.cmd = NULL;
  ck_assert_int_lt (spec (NULL, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  ck_assert_str_eq (err->msg, "no command specified");
  mini_error_release (&err);
  /* C is left untouched on failure. */
  ck_assert_ptr_null (ctr->argv);
  ck_assert_ptr_null (ctr->env);
}
END_TEST

/* ---------------------------------------------------------------- env */

START_TEST (test_env_image_kept_and_hostname)
{
  mini_error_t err = NULL;

  ck_assert_int_eq (spec (NULL, &err), 0);
  assert_strv (ctr->env, "PATH=/opt/bin:/bin", "LANG=C.UTF-8", "EMPTY=",
               "HOSTNAME=0123456789ab", NULL);
}
END_TEST

START_TEST (test_env_default_path)
{
  mini_error_t err = NULL;
  char *env[] = { "A=1", NULL };

  img.env = env;
  ck_assert_int_eq (spec (NULL, &err), 0);
  assert_strv (ctr->env, "A=1", DEFAULT_PATH, "HOSTNAME=0123456789ab", NULL);

  img.env = NULL;
  ck_assert_int_eq (spec (NULL, &err), 0);
  assert_strv (ctr->env, DEFAULT_PATH, "HOSTNAME=0123456789ab", NULL);
}
END_TEST

START_TEST (test_env_overrides)
{
  mini_error_t err = NULL;
  char *extra[] = { "LANG=fr_FR", "NEW=a=b", "PATH=/x", "NOVALUE", "HOSTNAME=mine", "NEW=c", NULL };
  struct run_overrides o = { .env = extra };

  ck_assert_int_eq (spec (&o, &err), 0);
  /* Same keys replaced in place, new keys appended in order, "K" alone
     ignored (cmd/ resolves it), the last -e of a key wins. */
  assert_strv (ctr->env, "PATH=/x", "LANG=fr_FR", "EMPTY=", "HOSTNAME=mine", "NEW=c", NULL);
}
END_TEST

START_TEST (test_env_bad_key)
{
  mini_error_t err = NULL;
  char *extra[] = { "=oops", NULL };
  struct run_overrides o = { .env = extra };

  ck_assert_int_lt (spec (&o, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  mini_error_release (&err);
}
END_TEST

START_TEST (test_env_no_hostname_yet)
{
  mini_error_t err = NULL;

  free (ctr->hostname);
  ctr->hostname = NULL;
  ck_assert_int_eq (spec (NULL, &err), 0);
  assert_strv (ctr->env, "PATH=/opt/bin:/bin", "LANG=C.UTF-8", "EMPTY=", NULL);
}
END_TEST

START_TEST (test_env_helpers)
{
  char **env = NULL;

  env_set (&env, "A=1");
  env_set (&env, "AB=2");
  env_set (&env, "A=3");
  env_set (&env, "NOEQ");
  assert_strv (env, "A=3", "AB=2", NULL);
  ck_assert_str_eq (env_get (env, "A"), "3");
  ck_assert_str_eq (env_get (env, "AB"), "2");
  ck_assert_ptr_null (env_get (env, "ABC"));
  ck_assert_ptr_null (env_get (env, ""));
  ck_assert_int_eq (env_find (env, "AB", 2), 1);
  ck_assert_int_eq (env_find (NULL, "AB", 2), -1);
  strv_free (env);
}
END_TEST

/* ---------------------------------------------------------------- working dir, user */

START_TEST (test_working_dir)
{
  mini_error_t err = NULL;
  struct run_overrides o = { 0 };

  ck_assert_int_eq (spec (&o, &err), 0);
  ck_assert_str_eq (ctr->working_dir, "/");

  img.working_dir = "";
  ck_assert_int_eq (spec (&o, &err), 0);
  ck_assert_str_eq (ctr->working_dir, "/");

  img.working_dir = "/usr/src/app";
  ck_assert_int_eq (spec (&o, &err), 0);
  ck_assert_str_eq (ctr->working_dir, "/usr/src/app");

  o.working_dir = "/tmp";
  ck_assert_int_eq (spec (&o, &err), 0);
  ck_assert_str_eq (ctr->working_dir, "/tmp");

  o.working_dir = "relative";
  ck_assert_int_lt (spec (&o, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  ck_assert_ptr_nonnull (strstr (err->msg, "absolute"));
  mini_error_release (&err);
}
END_TEST

START_TEST (test_user_and_stop_signal)
{
  mini_error_t err = NULL;

  ck_assert_int_eq (spec (NULL, &err), 0);
  ck_assert_ptr_null (ctr->user);
  ck_assert_ptr_null (ctr->stop_signal);

  img.user = "nginx:nginx";
  img.stop_signal = "SIGQUIT";
  ck_assert_int_eq (spec (NULL, &err), 0);
  ck_assert_str_eq (ctr->user, "nginx:nginx");
  ck_assert_str_eq (ctr->stop_signal, "SIGQUIT");

  /* Replacing earlier values (no leak, no stale pointer). */
  img.user = "";
  img.stop_signal = NULL;
  ck_assert_int_eq (spec (NULL, &err), 0);
  ck_assert_ptr_null (ctr->user);
  ck_assert_ptr_null (ctr->stop_signal);
}
END_TEST

/* ---------------------------------------------------------------- signals */

START_TEST (test_signal_parse)
{
  ck_assert_int_eq (run_signal_parse ("SIGTERM"), SIGTERM);
  ck_assert_int_eq (run_signal_parse ("TERM"), SIGTERM);
  ck_assert_int_eq (run_signal_parse ("sigterm"), SIGTERM);
  ck_assert_int_eq (run_signal_parse ("SIGKILL"), SIGKILL);
  ck_assert_int_eq (run_signal_parse ("QUIT"), SIGQUIT);
  ck_assert_int_eq (run_signal_parse ("SIGUSR1"), SIGUSR1);
  ck_assert_int_eq (run_signal_parse ("SIGWINCH"), SIGWINCH);
  ck_assert_int_eq (run_signal_parse ("9"), 9);
  ck_assert_int_eq (run_signal_parse ("15"), 15);
  ck_assert_int_eq (run_signal_parse ("SIGRTMIN"), SIGRTMIN);
  ck_assert_int_eq (run_signal_parse ("SIGRTMIN+3"), SIGRTMIN + 3);
  ck_assert_int_eq (run_signal_parse ("RTMAX-1"), SIGRTMAX - 1);
  ck_assert_int_eq (run_signal_parse ("RTMAX"), SIGRTMAX);

  ck_assert_int_eq (run_signal_parse (NULL), -1);
  ck_assert_int_eq (run_signal_parse (""), -1);
  ck_assert_int_eq (run_signal_parse ("0"), -1);
  ck_assert_int_eq (run_signal_parse ("-9"), -1);
  ck_assert_int_eq (run_signal_parse ("65"), -1);
  ck_assert_int_eq (run_signal_parse ("99999999999999"), -1);
  ck_assert_int_eq (run_signal_parse ("15x"), -1);
  ck_assert_int_eq (run_signal_parse ("SIG"), -1);
  ck_assert_int_eq (run_signal_parse ("SIGFOO"), -1);
  ck_assert_int_eq (run_signal_parse ("SIGRTMIN+100"), -1);
  ck_assert_int_eq (run_signal_parse ("RTMAX+1"), -1);
  ck_assert_int_eq (run_signal_parse ("RTMINx"), -1);
}
END_TEST

/* ---------------------------------------------------------------- overlay */

START_TEST (test_overlay_escape)
{
  char *e;

  e = overlay_escape ("abc/diff");
  ck_assert_str_eq (e, "abc/diff");
  free (e);
  e = overlay_escape ("a,b:c\\d");
  ck_assert_str_eq (e, "a\\,b\\:c\\\\d");
  free (e);
  e = overlay_escape ("");
  ck_assert_str_eq (e, "");
  free (e);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("run_spec");
  TCase *tc;

  tc = tcase_create ("argv");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 10);
  tcase_add_test (tc, test_argv_entrypoint_and_cmd);
  tcase_add_test (tc, test_argv_cmd_only);
  tcase_add_test (tc, test_argv_entrypoint_only);
  tcase_add_test (tc, test_argv_args_replace_cmd);
  tcase_add_test (tc, test_argv_empty_args_mean_cmd);
  tcase_add_test (tc, test_argv_entrypoint_override_drops_cmd);
  tcase_add_test (tc, test_argv_empty_entrypoint);
  tcase_add_test (tc, test_argv_nothing);
  suite_add_tcase (s, tc);

  tc = tcase_create ("env");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 10);
  tcase_add_test (tc, test_env_image_kept_and_hostname);
  tcase_add_test (tc, test_env_default_path);
  tcase_add_test (tc, test_env_overrides);
  tcase_add_test (tc, test_env_bad_key);
  tcase_add_test (tc, test_env_no_hostname_yet);
  tcase_add_test (tc, test_env_helpers);
  suite_add_tcase (s, tc);

  tc = tcase_create ("config");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 10);
  tcase_add_test (tc, test_working_dir);
  tcase_add_test (tc, test_user_and_stop_signal);
  suite_add_tcase (s, tc);

  tc = tcase_create ("signals");
  tcase_set_timeout (tc, 10);
  tcase_add_test (tc, test_signal_parse);
  tcase_add_test (tc, test_overlay_escape);
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
