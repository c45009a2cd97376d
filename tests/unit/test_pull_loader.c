/* Unit tests: libcurl is dlopened on first use (pull/curl-loader.c), not
 * linked: this test binary links pull/ and must start without libcurl. */
#include "pull/pull-private.h"

#include <check.h>
#include <dlfcn.h>
#include <string.h>

static bool
curl_is_loaded (void)
{
  void *h = dlopen ("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD);
  if (h == NULL)
    return false;
  dlclose (h); /* drops only the reference RTLD_NOLOAD took */
  return true;
}

START_TEST (test_not_linked)
{
  /* Each case runs in a fresh fork of a process that never loaded it. */
  ck_assert_msg (!curl_is_loaded (), "libcurl.so.4 is mapped before any pull: is it linked?");
  ck_assert_ptr_null (pull_curl);
}
END_TEST

START_TEST (test_load)
{
  mini_error_t err = NULL;
  const struct curl_api *first;
  curl_version_info_data *v;
  void *const *fn;
  size_t i;

  ck_assert_msg (pull_curl_load (&err) == 0, "%s", err ? err->msg : "");
  ck_assert_ptr_null (err);
  ck_assert (curl_is_loaded ());
  first = pull_curl;
  ck_assert_ptr_nonnull (first);
  /* Every entry point resolved. */
  fn = (void *const *) first;
  for (i = 0; i < sizeof (*first) / sizeof (void *); i++)
    ck_assert_msg (fn[i] != NULL, "entry %zu of struct curl_api is NULL", i);
  /* Callable, and the library is the one the headers describe (ABI 4). */
  v = pull_curl->version_info (CURLVERSION_NOW);
  ck_assert_ptr_nonnull (v);
  ck_assert_uint_ge (v->version_num, 0x074200);
  ck_assert_str_eq (pull_curl->easy_strerror (CURLE_OK), "No error");
  /* Once per process. */
  ck_assert_int_eq (pull_curl_load (&err), 0);
  ck_assert_ptr_eq (pull_curl, first);
}
END_TEST

START_TEST (test_missing_library)
{
  mini_error_t err = NULL;

  ck_assert_int_lt (pull_curl_load_from ("libcurl-mini-missing.so.4", &err), 0);
  ck_assert_ptr_nonnull (err);
  ck_assert_str_eq (err->msg, "libcurl-mini-missing.so.4 not found: install libcurl4 "
                              "(apt-get install libcurl4)");
  ck_assert_int_eq (mini_error_errno (err), 0); /* no strerror suffix */
  mini_error_release (&err);
  ck_assert_ptr_null (pull_curl);
  /* The real one still loads after a failed attempt. */
  ck_assert_msg (pull_curl_load (&err) == 0, "%s", err ? err->msg : "");
  ck_assert_ptr_nonnull (pull_curl);
}
END_TEST

START_TEST (test_not_libcurl)
{
  mini_error_t err = NULL;

  /* A library that exists but is not libcurl (jansson is linked anyway). */
  ck_assert_int_lt (pull_curl_load_from ("libjansson.so.4", &err), 0);
  ck_assert_ptr_nonnull (err);
  ck_assert_msg (strstr (err->msg, "libjansson.so.4 has no curl_global_init") != NULL, "%s",
                 err->msg);
  mini_error_release (&err);
  ck_assert_ptr_null (pull_curl);
}
END_TEST

START_TEST (test_pull_loads_it)
{
  mini_error_t err = NULL;

  /* A login to a closed loopback port fails, but only after loading libcurl:
     the registry paths load it themselves. */
  ck_assert (!curl_is_loaded ());
  ck_assert_int_lt (pull_login ("127.0.0.1:9", NULL, "u", "p", &err), 0);
  ck_assert_ptr_nonnull (err);
  ck_assert_msg (strstr (err->msg, "not found") == NULL, "%s", err->msg);
  mini_error_release (&err);
  ck_assert (curl_is_loaded ());
  ck_assert_ptr_nonnull (pull_curl);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("pull_loader");
  TCase *tc = tcase_create ("curl_loader");

  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_not_linked);
  tcase_add_test (tc, test_load);
  tcase_add_test (tc, test_missing_library);
  tcase_add_test (tc, test_not_libcurl);
  tcase_add_test (tc, test_pull_loads_it);
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
