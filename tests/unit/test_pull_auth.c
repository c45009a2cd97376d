/* Unit tests: pull/ WWW-Authenticate challenge parsing (RFC 7235). */
#include "pull/pull.h"

#include <check.h>
#include <string.h>

struct auth_case
{
  const char *header;
  const char *scheme; /* NULL: must fail */
  const char *realm;
  const char *service;
  const char *scope;
};

static const struct auth_case cases[] = {
  /* Docker Hub's challenge */
  { "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\"", "bearer",
    "https://auth.docker.io/token", "registry.docker.io", NULL },
  /* realm with its own query string, scope on a resource */
  { "Bearer realm=\"https://auth.example.com/token?tenant=a&x=1\",service=\"reg\","
    "scope=\"repository:library/busybox:pull\"",
    "bearer", "https://auth.example.com/token?tenant=a&x=1", "reg",
    "repository:library/busybox:pull" },
  /* commas inside a quoted-string */
  { "Bearer realm=\"https://a.example/t\",scope=\"repository:a/b:pull,push\",service=\"s\"",
    "bearer", "https://a.example/t", "s", "repository:a/b:pull,push" },
  /* several scopes in one value, separated by a space */
  { "Bearer realm=\"https://a.example/t\",scope=\"repository:a:pull repository:b:pull\"",
    "bearer", "https://a.example/t", NULL, "repository:a:pull repository:b:pull" },
  /* unquoted token values */
  { "Bearer realm=\"https://a.example/t\", service=registry.example.com, scope=x", "bearer",
    "https://a.example/t", "registry.example.com", "x" },
  /* unquoted URL (not a token, accepted leniently) */
  { "Bearer realm=https://a.example/token,service=svc", "bearer", "https://a.example/token",
    "svc", NULL },
  /* case-insensitive scheme and parameter names */
  { "bearer realm=\"https://a.example/t\"", "bearer", "https://a.example/t", NULL, NULL },
  { "BEARER REALM=\"https://a.example/t\",Service=\"S\",SCOPE=\"q\"", "bearer",
    "https://a.example/t", "S", "q" },
  /* escaped quotes and backslashes */
  { "Bearer realm=\"https://a.example/t\",service=\"my \\\"quoted\\\" svc \\\\ x\"", "bearer",
    "https://a.example/t", "my \"quoted\" svc \\ x", NULL },
  /* BWS around '=', OWS around ',' and empty list elements */
  { "Bearer realm = \"https://a.example/t\" ,, service =\t\"s\" ,", "bearer",
    "https://a.example/t", "s", NULL },
  /* unknown parameters are ignored */
  { "Bearer realm=\"r\",error=\"invalid_token\",error_description=\"expired, renew\"",
    "bearer", "r", NULL, NULL },
  /* several challenges: the first one is returned */
  { "Bearer realm=\"https://a.example/t\",service=\"s\", Basic realm=\"other\"", "bearer",
    "https://a.example/t", "s", NULL },
  { "Basic realm=\"Registry Realm\", Bearer realm=\"https://a.example/t\"", "basic",
    "Registry Realm", NULL, NULL },
  /* basic */
  { "Basic realm=\"Registry Realm\"", "basic", "Registry Realm", NULL, NULL },
  { "Basic", "basic", NULL, NULL, NULL },
  /* Docker Hub's answer on a repository: a realm on another host, quoted
     scope, an error param */
  { "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
    "scope=\"repository:library/busybox:pull\",error=\"insufficient_scope\"",
    "bearer", "https://auth.docker.io/token", "registry.docker.io",
    "repository:library/busybox:pull" },
  /* a realm whose own query holds a comma and an '=' (quoted), then more params */
  { "Bearer realm=\"https://t.example/token?a=1,b=2&c\",service=svc,scope=\"x\"", "bearer",
    "https://t.example/token?a=1,b=2&c", "svc", "x" },
  /* unquoted scope with ':' and '/' */
  { "Bearer realm=\"https://a/t\",scope=repository:a/b:pull", "bearer", "https://a/t", NULL,
    "repository:a/b:pull" },
  /* several scopes, one per repository, in one quoted value */
  { "bearer realm=\"https://a/t\",scope=\"repository:x/a:pull repository:x/b:pull,push\"",
    "bearer", "https://a/t", NULL, "repository:x/a:pull repository:x/b:pull,push" },
  /* mixed-case scheme */
  { "bEaReR realm=\"https://a/t\"", "bearer", "https://a/t", NULL, NULL },
  /* token68 form */
  { "Negotiate abc123==", "negotiate", NULL, NULL, NULL },
  /* failures */
  { "Bearer service=\"x\"", NULL, NULL, NULL, NULL },        /* missing realm */
  { "Bearer", NULL, NULL, NULL, NULL },                      /* missing realm */
  { "Bearer realm=\"\"", NULL, NULL, NULL, NULL },           /* empty realm */
  { "Bearer realm=", NULL, NULL, NULL, NULL },               /* no value */
  { "Bearer realm=\"https://a/t", NULL, NULL, NULL, NULL },  /* unterminated */
  { "Bearer realm=\"a\" service=\"b\"", NULL, NULL, NULL, NULL }, /* missing ',' */
  { "", NULL, NULL, NULL, NULL },
  { "   ", NULL, NULL, NULL, NULL },
  { "\"Bearer\" realm=x", NULL, NULL, NULL, NULL },
};

static void
check_str (const char *what, const char *got, const char *want)
{
  if (want == NULL)
    ck_assert_msg (got == NULL, "%s: expected NULL, got `%s`", what, got);
  else
    {
      ck_assert_msg (got != NULL, "%s: expected `%s`, got NULL", what, want);
      ck_assert_str_eq (got, want);
    }
}

START_TEST (test_challenge_table)
{
  const struct auth_case *c = &cases[_i];
  struct pull_challenge *ch = NULL;
  mini_error_t err = NULL;
  int ret = pull_challenge_parse (c->header, &ch, &err);

  if (c->scheme)
    {
      ck_assert_msg (ret == 0, "`%s`: %s", c->header, err ? err->msg : "");
      check_str ("scheme", ch->scheme, c->scheme);
      check_str ("realm", ch->realm, c->realm);
      check_str ("service", ch->service, c->service);
      check_str ("scope", ch->scope, c->scope);
      pull_challenge_free (ch);
    }
  else
    {
      ck_assert_msg (ret < 0, "`%s` should be refused", c->header);
      ck_assert_int_eq (mini_error_errno (err), EINVAL);
      ck_assert_ptr_nonnull (strstr (err->msg, "WWW-Authenticate"));
      mini_error_release (&err);
    }
}
END_TEST

START_TEST (test_challenge_missing_realm_message)
{
  struct pull_challenge *ch = NULL;
  mini_error_t err = NULL;

  ck_assert_int_lt (pull_challenge_parse ("Bearer service=\"x\"", &ch, &err), 0);
  ck_assert_ptr_nonnull (strstr (err->msg, "without realm"));
  mini_error_release (&err);
  ck_assert_int_lt (pull_challenge_parse (NULL, &ch, &err), 0);
  mini_error_release (&err);
  pull_challenge_free (NULL);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("pull_auth");
  TCase *tc = tcase_create ("challenge");

  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_challenge_table, 0, sizeof (cases) / sizeof (cases[0]));
  tcase_add_test (tc, test_challenge_missing_realm_message);
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
