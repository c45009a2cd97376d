/* Unit tests: pull/ options from a daemon.json-style file. */
#include "pull/pull.h"

#include <check.h>
#include <string.h>

static char tmpdir[64];

static void
setup (void)
{
  strcpy (tmpdir, "/tmp/mini-pull-opts-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
}

static void
teardown (void)
{
  mini_error_t err = NULL;
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
}

static char *
write_conf (const char *content)
{
  mini_error_t err = NULL;
  char *path = xfmt ("%s/daemon.json", tmpdir);

  ck_assert_int_eq (write_file_atomic_at (AT_FDCWD, path, content, strlen (content), 0644, &err),
                    0);
  return path;
}

START_TEST (test_load_config)
{
  struct pull_options o;
  mini_error_t err = NULL;
  char *path;

  memset (&o, 0, sizeof (o));
  strv_append (&o.mirrors, "http://first.example");
  path = write_conf ("{\n"
                     "  \"debug\": true,\n"
                     "  \"registry-mirrors\": [\"http://127.0.0.1:5001/\", "
                     "\"https://mirror.example\"],\n"
                     "  \"insecure-registries\": [\"myreg:5000\", \"http://other:80\", "
                     "\"10.0.0.0/8\"]\n"
                     "}\n");
  ck_assert_msg (pull_options_load_config (path, true, &o, &err) == 0, "%s",
                 err ? err->msg : "");
  ck_assert_int_eq (strv_len (o.mirrors), 3);
  ck_assert_str_eq (o.mirrors[0], "http://first.example"); /* appended after */
  ck_assert_str_eq (o.mirrors[1], "http://127.0.0.1:5001");
  ck_assert_str_eq (o.mirrors[2], "https://mirror.example");
  ck_assert_int_eq (strv_len (o.insecure_registries), 3);
  ck_assert_str_eq (o.insecure_registries[0], "myreg:5000");
  ck_assert_str_eq (o.insecure_registries[1], "other:80");
  ck_assert_str_eq (o.insecure_registries[2], "10.0.0.0/8");
  pull_options_clear (&o);
  ck_assert_ptr_null (o.mirrors);
  ck_assert_ptr_null (o.insecure_registries);
  free (path);
}
END_TEST

START_TEST (test_mirrors_per_registry)
{
  struct pull_options o;
  mini_error_t err = NULL;
  char *path;
  static const char *bad[] = {
    "{\"registry-mirrors-per-registry\": [\"x\"]}",
    "{\"registry-mirrors-per-registry\": {\"reg.example\": \"https://m\"}}",
    "{\"registry-mirrors-per-registry\": {\"reg.example\": [\"ftp://m\"]}}",
    "{\"registry-mirrors-per-registry\": {\"reg.example\": [\"https://m/path\"]}}",
    "{\"registry-mirrors-per-registry\": {\"bad host\": [\"https://m\"]}}",
    "{\"max-concurrent-downloads\": 0}",
    "{\"max-concurrent-downloads\": \"3\"}",
    "{\"max-concurrent-downloads\": 1000}",
  };
  size_t i;

  memset (&o, 0, sizeof (o));
  path = write_conf ("{\"registry-mirrors-per-registry\": {\n"
                     "  \"Reg.Example:5000\": [\"https://m1.example/\", \"http://127.0.0.1:5001\"],\n"
                     "  \"index.docker.io\": [\"https://hub-mirror.example\"]},\n"
                     " \"max-concurrent-downloads\": 6}\n");
  ck_assert_msg (pull_options_load_config (path, true, &o, &err) == 0, "%s",
                 err ? err->msg : "");
  ck_assert_int_eq (strv_len (o.registry_mirrors), 3);
  ck_assert_str_eq (o.registry_mirrors[0], "reg.example:5000=https://m1.example");
  ck_assert_str_eq (o.registry_mirrors[1], "reg.example:5000=http://127.0.0.1:5001");
  ck_assert_str_eq (o.registry_mirrors[2], "docker.io=https://hub-mirror.example");
  ck_assert_int_eq (o.max_concurrent_downloads, 6);
  pull_options_clear (&o);
  ck_assert_ptr_null (o.registry_mirrors);
  free (path);

  /* the command line's value wins */
  memset (&o, 0, sizeof (o));
  o.max_concurrent_downloads = 2;
  path = write_conf ("{\"max-concurrent-downloads\": 6}");
  ck_assert_int_eq (pull_options_load_config (path, true, &o, &err), 0);
  ck_assert_int_eq (o.max_concurrent_downloads, 2);
  free (path);

  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      memset (&o, 0, sizeof (o));
      path = write_conf (bad[i]);
      ck_assert_msg (pull_options_load_config (path, true, &o, &err) < 0, "accepted %s", bad[i]);
      ck_assert_int_eq (mini_error_errno (err), EINVAL);
      ck_assert_ptr_nonnull (strstr (err->msg, path));
      mini_error_release (&err);
      ck_assert_ptr_null (o.registry_mirrors);
      pull_options_clear (&o);
      free (path);
    }
}
END_TEST

START_TEST (test_missing_file)
{
  struct pull_options o;
  mini_error_t err = NULL;
  char *path = xfmt ("%s/nope.json", tmpdir);

  memset (&o, 0, sizeof (o));
  ck_assert_int_eq (pull_options_load_config (path, false, &o, &err), 0);
  ck_assert_ptr_null (o.mirrors);
  ck_assert_int_lt (pull_options_load_config (path, true, &o, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  mini_error_release (&err);
  free (path);
}
END_TEST

START_TEST (test_bad_config)
{
  static const char *const bad[] = {
    "{\n  \"registry-mirrors\": [\"http://a\",]\n}\n", /* bad JSON on line 2 */
    "[1]",
    "{\"registry-mirrors\": \"http://a\"}",
    "{\"registry-mirrors\": [1]}",
    "{\"registry-mirrors\": [\"ftp://a\"]}",
    "{\"registry-mirrors\": [\"a.example\"]}",
    "{\"registry-mirrors\": [\"https://a.example/path\"]}",
    "{\"insecure-registries\": [\"ftp://x\"]}",
    "{\"insecure-registries\": {}}",
  };
  size_t i;

  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      struct pull_options o;
      mini_error_t err = NULL;
      char *path = write_conf (bad[i]);

      memset (&o, 0, sizeof (o));
      ck_assert_msg (pull_options_load_config (path, true, &o, &err) < 0, "%s", bad[i]);
      ck_assert_int_eq (mini_error_errno (err), EINVAL);
      ck_assert_msg (strstr (err->msg, path) != NULL, "%s", err->msg);
      if (i == 0)
        ck_assert_msg (strstr (err->msg, "daemon.json:2:") != NULL, "%s", err->msg);
      mini_error_release (&err);
      ck_assert_ptr_null (o.mirrors);
      ck_assert_ptr_null (o.insecure_registries);
      free (path);
    }
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("pull_options");
  TCase *tc = tcase_create ("config");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_load_config);
  tcase_add_test (tc, test_mirrors_per_registry);
  tcase_add_test (tc, test_missing_file);
  tcase_add_test (tc, test_bad_config);
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
