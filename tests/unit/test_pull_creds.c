/* Unit tests: registry credentials in Docker's config.json format
 * (pull_auth_lookup / store / erase, pull_registry_normalize) and the
 * docker-credential-helpers protocol, with a helper script made here. */
#include "pull/pull.h"

#include <check.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>

static char tmpdir[64];
static char *cfg_path;

static void
setup (void)
{
  char *path;

  strcpy (tmpdir, "/tmp/mini-pull-creds-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  cfg_path = xfmt ("%s/docker/config.json", tmpdir);
  /* helpers are found in PATH: ours first */
  path = xfmt ("%s/bin:%s", tmpdir, getenv ("PATH") ? getenv ("PATH") : "/usr/bin:/bin");
  setenv ("PATH", path, 1);
  free (path);
}

static void
teardown (void)
{
  mini_error_t err = NULL;
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
  free (cfg_path);
}

static void
write_config (const char *json)
{
  mini_error_t err = NULL;
  char *dir = xfmt ("%s/docker", tmpdir);
  ck_assert_int_eq (mkdir_p_at (AT_FDCWD, dir, 0700, &err), 0);
  ck_assert_int_eq (write_file_atomic_at (AT_FDCWD, cfg_path, json, strlen (json), 0600, &err), 0);
  free (dir);
}

/* A docker-credential-NAME script: knows USER/SECRET for SERVER, logs
   "VERB INPUT" lines to <tmpdir>/NAME.log. */
static void
write_helper (const char *name, const char *server, const char *user, const char *secret)
{
  mini_error_t err = NULL;
  char *dir = xfmt ("%s/bin", tmpdir);
  char *p = xfmt ("%s/docker-credential-%s", dir, name);
  char *script = xfmt ("#!/bin/sh\n"
                       "input=$(cat)\n"
                       "echo \"$1 $input\" >>%s/%s.log\n"
                       "case \"$1\" in\n"
                       "get) if [ \"$input\" = \"%s\" ]; then\n"
                       "       printf '{\"ServerURL\":\"%%s\",\"Username\":\"%s\",\"Secret\":\"%s\"}' \"$input\"\n"
                       "       exit 0; fi\n"
                       "     echo 'credentials not found in native keychain'; exit 1;;\n"
                       "store|erase) exit 0;;\n"
                       "esac\n"
                       "exit 1\n",
                       tmpdir, name, server, user, secret);

  ck_assert_int_eq (mkdir_p_at (AT_FDCWD, dir, 0755, &err), 0);
  ck_assert_int_eq (write_file_atomic_at (AT_FDCWD, p, script, strlen (script), 0755, &err), 0);
  free (script);
  free (p);
  free (dir);
}

static char *
helper_log (const char *name)
{
  mini_error_t err = NULL;
  char *p = xfmt ("%s/%s.log", tmpdir, name), *buf = NULL;
  if (read_file_at (AT_FDCWD, p, &buf, NULL, 0, &err) < 0)
    {
      mini_error_release (&err);
      buf = xstrdup ("");
    }
  free (p);
  return buf;
}

static void
expect_creds (const char *registry, const char *user, const char *secret)
{
  mini_error_t err = NULL;
  char *u = NULL, *s = NULL;

  ck_assert_msg (pull_auth_lookup (cfg_path, registry, &u, &s, &err) == 0, "%s",
                 err ? err->msg : "");
  if (user == NULL)
    {
      ck_assert_ptr_null (u);
      ck_assert_ptr_null (s);
      return;
    }
  ck_assert_ptr_nonnull (u);
  ck_assert_str_eq (u, user);
  ck_assert_str_eq (s, secret);
  free (u);
  free (s);
}

START_TEST (test_normalize)
{
  static const char *cases[][2] = {
    { "docker.io", "docker.io" },
    { "index.docker.io", "docker.io" },
    { "https://index.docker.io/v1/", "docker.io" },
    { "registry-1.docker.io", "docker.io" },
    { "Registry.Example.COM:5000", "registry.example.com:5000" },
    { "https://registry.example.com:5000/v2/", "registry.example.com:5000" },
    { "127.0.0.1:5000", "127.0.0.1:5000" },
    { "[::1]:5000", "[::1]:5000" },
  };
  size_t i;

  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      char *n = pull_registry_normalize (cases[i][0], NULL);
      ck_assert_ptr_nonnull (n);
      ck_assert_str_eq (n, cases[i][1]);
      free (n);
    }
  ck_assert_ptr_null (pull_registry_normalize ("", NULL));
  ck_assert_ptr_null (pull_registry_normalize ("https:///x", NULL));
  ck_assert_ptr_null (pull_registry_normalize ("bad host", NULL));
}
END_TEST

START_TEST (test_lookup_auths)
{
  mini_error_t err = NULL;
  char *u = NULL, *s = NULL;

  /* no file: no credentials, no error */
  expect_creds ("docker.io", NULL, NULL);
  ck_assert_int_eq (pull_auth_lookup (NULL, "docker.io", &u, &s, &err), 0);
  ck_assert_ptr_null (u);

  /* "alice:wonder:land" (colons in the password are kept) */
  write_config ("{\"auths\":{"
                "\"https://index.docker.io/v1/\":{\"auth\":\"YWxpY2U6d29uZGVyOmxhbmQ=\"},"
                "\"http://reg.example:5000/v2/\":{\"auth\":\"Ym9iOnNlY3JldA==\"},"
                "\"other.example\":{\"username\":\"carol\",\"password\":\"pw\"},"
                "\"empty.example\":{}}}");
  expect_creds ("docker.io", "alice", "wonder:land");
  expect_creds ("reg.example:5000", "bob", "secret");
  expect_creds ("other.example", "carol", "pw");
  expect_creds ("empty.example", NULL, NULL);
  expect_creds ("reg.example", NULL, NULL); /* another port is another registry */

  /* broken files are errors, naming the file */
  write_config ("{\"auths\":{\"x.example\":{\"auth\":\"not base64!\"}}}");
  ck_assert_int_lt (pull_auth_lookup (cfg_path, "x.example", &u, &s, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  ck_assert_ptr_nonnull (strstr (err->msg, cfg_path));
  mini_error_release (&err);
  write_config ("{\"auths\":");
  ck_assert_int_lt (pull_auth_lookup (cfg_path, "x.example", &u, &s, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  mini_error_release (&err);
}
END_TEST

START_TEST (test_store_erase_file)
{
  mini_error_t err = NULL;
  json_t *j;
  struct stat sb;
  char *dir;
  bool found = false;

  write_config ("{\"auths\":{\"https://reg.example:5000\":{\"auth\":\"b2xkOm9sZA==\"}},"
                "\"psFormat\":\"table {{.ID}}\"}");
  ck_assert_int_eq (pull_auth_store (cfg_path, "reg.example:5000", "alice", "p@ss:w0rd", &err), 0);
  ck_assert_int_eq (pull_auth_store (cfg_path, "docker.io", "bob", "x", &err), 0);
  expect_creds ("reg.example:5000", "alice", "p@ss:w0rd");
  expect_creds ("docker.io", "bob", "x");

  j = json_load_file (cfg_path, 0, NULL);
  ck_assert_ptr_nonnull (j);
  /* other keys kept, the old spelling replaced, Docker Hub under its key */
  ck_assert_str_eq (json_string_value (json_object_get (j, "psFormat")), "table {{.ID}}");
  ck_assert_ptr_null (json_object_get (json_object_get (j, "auths"), "https://reg.example:5000"));
  ck_assert_str_eq (json_string_value (json_object_get (
                        json_object_get (json_object_get (j, "auths"), "reg.example:5000"), "auth")),
                    "YWxpY2U6cEBzczp3MHJk");
  ck_assert_ptr_nonnull (json_object_get (json_object_get (j, "auths"), "https://index.docker.io/v1/"));
  json_decref (j);
  ck_assert_int_eq (stat (cfg_path, &sb), 0);
  ck_assert_int_eq (sb.st_mode & 0777, 0600);

  ck_assert_int_eq (pull_auth_erase (cfg_path, "reg.example:5000", &found, &err), 0);
  ck_assert (found);
  expect_creds ("reg.example:5000", NULL, NULL);
  expect_creds ("docker.io", "bob", "x");
  ck_assert_int_eq (pull_auth_erase (cfg_path, "reg.example:5000", &found, &err), 0);
  ck_assert (!found);

  /* a new file in a new directory: 0700 directory, 0600 file */
  free (cfg_path);
  cfg_path = xfmt ("%s/new/dir/config.json", tmpdir);
  ck_assert_int_eq (pull_auth_store (cfg_path, "reg.example", "u", "p", &err), 0);
  ck_assert_int_eq (stat (cfg_path, &sb), 0);
  ck_assert_int_eq (sb.st_mode & 0777, 0600);
  dir = xfmt ("%s/new/dir", tmpdir);
  ck_assert_int_eq (stat (dir, &sb), 0);
  ck_assert_int_eq (sb.st_mode & 0777, 0700);
  free (dir);
}
END_TEST

START_TEST (test_helpers)
{
  mini_error_t err = NULL;
  char *u = NULL, *s = NULL, *log;
  bool found = false;
  json_t *j;

  write_helper ("store1", "https://index.docker.io/v1/", "hub-user", "hub-secret");
  write_helper ("special", "reg.example:5000", "reg-user", "reg-secret");

  /* credsStore for all; credHelpers wins for its registry; auths ignored then */
  write_config ("{\"credsStore\":\"store1\","
                "\"credHelpers\":{\"reg.example:5000\":\"special\"},"
                "\"auths\":{\"reg.example:5000\":{\"auth\":\"Ym9iOnNlY3JldA==\"}}}");
  expect_creds ("docker.io", "hub-user", "hub-secret");
  expect_creds ("reg.example:5000", "reg-user", "reg-secret");
  expect_creds ("unknown.example", NULL, NULL); /* "not found": none, no error */
  log = helper_log ("store1");
  ck_assert_msg (strstr (log, "get https://index.docker.io/v1/") != NULL, "%s", log);
  ck_assert_msg (strstr (log, "get unknown.example") != NULL, "%s", log);
  free (log);
  log = helper_log ("special");
  ck_assert_msg (strstr (log, "get reg.example:5000") != NULL, "%s", log);
  free (log);

  /* login through the helper: `store` gets JSON, auths keeps an empty entry */
  ck_assert_int_eq (pull_auth_store (cfg_path, "docker.io", "new-user", "new-secret", &err), 0);
  log = helper_log ("store1");
  ck_assert_msg (strstr (log, "store {\"ServerURL\":\"https://index.docker.io/v1/\","
                              "\"Username\":\"new-user\",\"Secret\":\"new-secret\"}")
                     != NULL,
                 "%s", log);
  free (log);
  j = json_load_file (cfg_path, 0, NULL);
  ck_assert_int_eq (json_object_size (json_object_get (json_object_get (j, "auths"),
                                                       "https://index.docker.io/v1/")),
                    0);
  json_decref (j);
  ck_assert_int_eq (pull_auth_erase (cfg_path, "docker.io", &found, &err), 0);
  ck_assert (found);
  log = helper_log ("store1");
  ck_assert_ptr_nonnull (strstr (log, "erase https://index.docker.io/v1/"));
  free (log);

  /* a helper that is not installed: an error naming it */
  write_config ("{\"credsStore\":\"nosuchhelper\"}");
  ck_assert_int_lt (pull_auth_lookup (cfg_path, "docker.io", &u, &s, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  ck_assert_ptr_nonnull (strstr (err->msg, "docker-credential-nosuchhelper"));
  mini_error_release (&err);
  /* and a name that could be a path is refused */
  write_config ("{\"credsStore\":\"../../bin/sh\"}");
  ck_assert_int_lt (pull_auth_lookup (cfg_path, "docker.io", &u, &s, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  mini_error_release (&err);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("pull_creds");
  TCase *tc = tcase_create ("creds");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_normalize);
  tcase_add_test (tc, test_lookup_auths);
  tcase_add_test (tc, test_store_erase_file);
  tcase_add_test (tc, test_helpers);
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
