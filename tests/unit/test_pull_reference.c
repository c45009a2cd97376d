/* Unit tests: pull/ image reference parsing and normalization
 * (distribution/reference rules, see pull/pull.h). */
#include "pull/pull.h"

#include <check.h>
#include <string.h>

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct ref_case
{
  const char *input;
  const char *normalized; /* NULL: must fail */
  const char *error;      /* substring of the message when failing */
};

static const struct ref_case cases[] = {
  { "busybox", "docker.io/library/busybox:latest", NULL },
  { "library/busybox", "docker.io/library/busybox:latest", NULL },
  { "docker.io/busybox", "docker.io/library/busybox:latest", NULL },
  { "docker.io/library/busybox", "docker.io/library/busybox:latest", NULL },
  { "index.docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36", NULL },
  { "index.docker.io/busybox", "docker.io/library/busybox:latest", NULL },
  { "busybox:1.36.1-glibc", "docker.io/library/busybox:1.36.1-glibc", NULL },
  { "user/app", "docker.io/user/app:latest", NULL },
  { "user/app:v2", "docker.io/user/app:v2", NULL },
  { "localhost/foo", "localhost/foo:latest", NULL },
  { "localhost:5000/foo:bar", "localhost:5000/foo:bar", NULL },
  { "localhost", "docker.io/library/localhost:latest", NULL },
  { "localhost:5000", "docker.io/library/localhost:5000", NULL },
  { "127.0.0.1:5000/a/b/c", "127.0.0.1:5000/a/b/c:latest", NULL },
  { "[::1]:5000/foo", "[::1]:5000/foo:latest", NULL },
  { "example.com/a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "example.com/a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
  { "a:b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker.io/library/a:b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
  { "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
  { "my-registry.example.com:443/team/app:T_A-G.1", "my-registry.example.com:443/team/app:T_A-G.1", NULL },
  { "Example.COM/foo", "Example.COM/foo:latest", NULL },
  { "repo__name", "docker.io/library/repo__name:latest", NULL },
  { "repo--name", "docker.io/library/repo--name:latest", NULL },
  { "repo.name_x-y", "docker.io/library/repo.name_x-y:latest", NULL },
  { "a0/b1/c2/d3", "docker.io/a0/b1/c2/d3:latest", NULL },
  { "busybox:_x", "docker.io/library/busybox:_x", NULL },
  { "busybox:tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt", "docker.io/library/busybox:tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt", NULL },
  { "example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:latest", NULL },
  { "", NULL, "at least one component" },
  { "UPPER", NULL, "lowercase" },
  { "library/Busybox", NULL, "lowercase" },
  { "a//b", NULL, "empty path component" },
  { "-a", NULL, "invalid path component" },
  { "a-", NULL, "invalid path component" },
  { "a.", NULL, "invalid path component" },
  { "a..b", NULL, "invalid path component" },
  { "a._b", NULL, "invalid path component" },
  { "repo___name", NULL, "invalid path component" },
  { "a/", NULL, "empty path component" },
  { "/a", NULL, "empty path component" },
  { ":tag", NULL, "at least one component" },
  { "busybox:", NULL, "empty tag" },
  { "busybox:-x", NULL, "tag must start" },
  { "busybox:a+b", NULL, "invalid character in tag" },
  { "busybox:ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt", NULL, "longer than 128" },
  { "busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, "invalid digest" },
  { "busybox@sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, "invalid digest" },
  { "busybox@md5:d41d8cd98f00b204e9800998ecf8427e", NULL, "invalid digest" },
  { "busybox@", NULL, "invalid digest" },
  { "a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL, "invalid digest" },
  { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, "64-byte hexadecimal" },
  { "exa_mple.com/foo", NULL, "invalid domain" },
  { "ex-.com/foo", NULL, "invalid domain" },
  { "localhost:/foo", NULL, "invalid port" },
  { "localhost:50a0/foo", NULL, "invalid port" },
  { "busybox:ta/g", NULL, "invalid port" },
  { "foo bar", NULL, "invalid" },
  { "example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, "255 characters" },
  { "docker.io/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, "255 characters" },
};

START_TEST (test_reference_table)
{
  const struct ref_case *c = &cases[_i];
  struct pull_reference *r = NULL;
  mini_error_t err = NULL;
  int ret = pull_reference_parse (c->input, &r, &err);

  if (c->normalized)
    {
      char *s;
      ck_assert_msg (ret == 0, "`%s` should parse: %s", c->input, err ? err->msg : "");
      s = pull_reference_string (r);
      ck_assert_str_eq (s, c->normalized);
      free (s);
      pull_reference_free (r);
    }
  else
    {
      ck_assert_msg (ret < 0, "`%s` should be refused", c->input);
      ck_assert_ptr_null (r);
      ck_assert_int_eq (mini_error_errno (err), EINVAL);
      ck_assert_msg (strstr (err->msg, "invalid reference format: ") == err->msg, "%s", err->msg);
      ck_assert_msg (strstr (err->msg, c->error) != NULL, "`%s`: %s", c->input, err->msg);
      /* the message names the input (long inputs too) */
      ck_assert_msg (strstr (err->msg, c->input) != NULL, "%s", err->msg);
      mini_error_release (&err);
    }
}
END_TEST

START_TEST (test_reference_fields)
{
  struct pull_reference *r = NULL;
  mini_error_t err = NULL;

  ck_assert_int_eq (pull_reference_parse ("busybox", &r, &err), 0);
  ck_assert_str_eq (r->domain, "docker.io");
  ck_assert_str_eq (r->path, "library/busybox");
  ck_assert_str_eq (r->tag, "latest");
  ck_assert_ptr_null (r->digest);
  pull_reference_free (r);

  /* digest only: no default tag */
  ck_assert_int_eq (pull_reference_parse ("127.0.0.1:5000/x/y@sha256:" HEX, &r, &err), 0);
  ck_assert_str_eq (r->domain, "127.0.0.1:5000");
  ck_assert_str_eq (r->path, "x/y");
  ck_assert_ptr_null (r->tag);
  ck_assert_str_eq (r->digest, "sha256:" HEX);
  pull_reference_free (r);

  /* tag and digest: both kept */
  ck_assert_int_eq (pull_reference_parse ("d.io/p:tag@sha256:" HEX, &r, &err), 0);
  ck_assert_str_eq (r->domain, "d.io");
  ck_assert_str_eq (r->path, "p");
  ck_assert_str_eq (r->tag, "tag");
  ck_assert_str_eq (r->digest, "sha256:" HEX);
  {
    char *s = pull_reference_string (r);
    ck_assert_str_eq (s, "d.io/p:tag@sha256:" HEX);
    free (s);
  }
  pull_reference_free (r);

  /* localhost is a domain only before a '/' */
  ck_assert_int_eq (pull_reference_parse ("localhost/foo", &r, &err), 0);
  ck_assert_str_eq (r->domain, "localhost");
  ck_assert_str_eq (r->path, "foo");
  pull_reference_free (r);

  /* user/app is not a domain (no '.' or ':') */
  ck_assert_int_eq (pull_reference_parse ("user/app", &r, &err), 0);
  ck_assert_str_eq (r->domain, "docker.io");
  ck_assert_str_eq (r->path, "user/app");
  pull_reference_free (r);

  /* NULL input */
  ck_assert_int_lt (pull_reference_parse (NULL, &r, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  mini_error_release (&err);

  pull_reference_free (NULL);
}
END_TEST

START_TEST (test_reference_roundtrip)
{
  /* The normalized string parses back to itself. */
  size_t i;

  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      struct pull_reference *r = NULL, *r2 = NULL;
      mini_error_t err = NULL;
      char *s, *s2;

      if (cases[i].normalized == NULL)
        continue;
      ck_assert_int_eq (pull_reference_parse (cases[i].normalized, &r, &err), 0);
      s = pull_reference_string (r);
      ck_assert_int_eq (pull_reference_parse (s, &r2, &err), 0);
      s2 = pull_reference_string (r2);
      ck_assert_str_eq (s, s2);
      ck_assert_str_eq (s, cases[i].normalized);
      free (s);
      free (s2);
      pull_reference_free (r);
      pull_reference_free (r2);
    }
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("pull_reference");
  TCase *tc = tcase_create ("reference");

  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_reference_table, 0, sizeof (cases) / sizeof (cases[0]));
  tcase_add_test (tc, test_reference_fields);
  tcase_add_test (tc, test_reference_roundtrip);
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
