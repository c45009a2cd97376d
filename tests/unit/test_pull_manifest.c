/* Unit tests: pull/ platforms and choosing a manifest from an image index,
 * with the real busybox index from the shared images and synthetic ones. */
#include "pull/pull.h"

#include <check.h>
#include <string.h>
#include <sys/utsname.h>

#define BUSYBOX_INDEX                                                                          \
  "sha256:6d9717d7eca1a49a389f5d34d1ac01d863cdd3637e9d0801fdb8a3cb36925f20"
#define BB_AMD64 "sha256:1cfa4e2b09e127b9c4ed43578d3f3c18e7d44ea47b9ea98475c0cbe9086525f8"
#define BB_ARM64 "sha256:8f2ffdcb46f1b83e46665954ec130e497b979db766854f79ca9eee43242b7e4c"
#define BB_ARMV7 "sha256:1b67e4b2834b271c3221924b8e7dd4fb6539eb04bcbad9b6b5a51a271e5a9782"
#define BB_386 "sha256:011bb4ad411421bd6af53c4af41ecb2c23887229b8df526328d1a8a1fff94dab"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
                   c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static char *busybox_index;
static size_t busybox_index_len;

static const char *
shared_images (void)
{
  const char *e = getenv ("MINI_SHARED_IMAGES");
  return e && *e ? e : MINI_SOURCE_DIR "/../shared/images";
}

static void
load_busybox_index (void)
{
  mini_error_t err = NULL;
  char *path = xfmt ("%s/busybox/blobs/sha256/%s", shared_images (),
                     digest_hex (BUSYBOX_INDEX));
  char got[72];

  ck_assert_msg (read_file_at (AT_FDCWD, path, &busybox_index, &busybox_index_len, 0, &err) == 0,
                 "%s", err ? err->msg : "");
  free (path);
  sha256_digest (busybox_index, busybox_index_len, got);
  ck_assert_str_eq (got, BUSYBOX_INDEX);
}

static void
free_busybox_index (void)
{
  free (busybox_index);
  busybox_index = NULL;
}

/* Choose for platform string PLAT from JSON; returns the digest or NULL
   (then *ERRP holds the error). */
static char *
choose (const char *json, size_t len, const char *plat, char **ret_mt, mini_error_t *errp)
{
  struct pull_platform p = { NULL, NULL, NULL };
  mini_error_t err = NULL;
  char *digest = NULL, *mt = NULL;

  ck_assert_msg (pull_platform_parse (plat, &p, &err) == 0, "%s", err ? err->msg : "");
  if (pull_index_choose (json, len, &p, &digest, &mt, &err) < 0)
    {
      ck_assert_ptr_null (digest);
      *errp = err;
    }
  pull_platform_clear (&p);
  if (ret_mt)
    *ret_mt = mt;
  else
    free (mt);
  return digest;
}

static void
expect (const char *json, const char *plat, const char *want_digest, const char *want_mt)
{
  mini_error_t err = NULL;
  char *mt = NULL;
  char *d = choose (json, strlen (json), plat, &mt, &err);

  ck_assert_msg (d != NULL, "%s: %s", plat, err ? err->msg : "");
  ck_assert_msg (strcmp (d, want_digest) == 0, "%s: got %s, want %s", plat, d, want_digest);
  if (want_mt)
    ck_assert_str_eq (mt, want_mt);
  else
    ck_assert_ptr_null (mt);
  free (d);
  free (mt);
}

static char *
expect_fail (const char *json, const char *plat, int errnum)
{
  mini_error_t err = NULL;
  char *d = choose (json, strlen (json), plat, NULL, &err);
  char *msg;

  ck_assert_msg (d == NULL, "%s: unexpected match %s", plat, d);
  ck_assert_int_eq (mini_error_errno (err), errnum);
  msg = xstrdup (err->msg);
  mini_error_release (&err);
  return msg;
}

/* ------------------------------------------------------------ busybox */

START_TEST (test_busybox_index)
{
  expect (busybox_index, "linux/amd64", BB_AMD64, MT_OCI_MANIFEST);
  expect (busybox_index, "linux/x86_64", BB_AMD64, MT_OCI_MANIFEST);
  expect (busybox_index, "LINUX/AMD64", BB_AMD64, MT_OCI_MANIFEST);
  expect (busybox_index, "amd64", BB_AMD64, MT_OCI_MANIFEST);
  expect (busybox_index, "linux/arm64", BB_ARM64, MT_OCI_MANIFEST);
  expect (busybox_index, "linux/arm64/v8", BB_ARM64, MT_OCI_MANIFEST);
  expect (busybox_index, "linux/aarch64", BB_ARM64, MT_OCI_MANIFEST);
  expect (busybox_index, "linux/arm/v7", BB_ARMV7, MT_OCI_MANIFEST);
  expect (busybox_index, "linux/armhf", BB_ARMV7, MT_OCI_MANIFEST);
  expect (busybox_index, "linux/arm", BB_ARMV7, MT_OCI_MANIFEST); /* best variant */
  expect (busybox_index, "linux/386", BB_386, MT_OCI_MANIFEST);
  expect (busybox_index, "linux/i386", BB_386, MT_OCI_MANIFEST);
}
END_TEST

START_TEST (test_busybox_no_match)
{
  char *msg;

  /* arm v6 and v7 are distinct: v6 is not served by the v7 image */
  msg = expect_fail (busybox_index, "linux/arm/v6", ENOENT);
  ck_assert_str_eq (msg, "no matching manifest for linux/arm/v6 in the manifest list entries "
                         "(available: linux/amd64, linux/arm64/v8, linux/arm/v7, linux/386, "
                         "linux/riscv64, linux/ppc64le, linux/s390x)");
  free (msg);
  msg = expect_fail (busybox_index, "linux/arm64/v9", ENOENT);
  free (msg);
  msg = expect_fail (busybox_index, "windows/amd64", ENOENT);
  ck_assert_ptr_nonnull (strstr (msg, "no matching manifest for windows/amd64"));
  free (msg);
  msg = expect_fail (busybox_index, "linux/mips64le", ENOENT);
  free (msg);
}
END_TEST

START_TEST (test_busybox_host)
{
  /* NULL platform = the host; the shared index covers common hosts. */
  struct pull_platform p = { NULL, NULL, NULL };
  mini_error_t err = NULL;
  struct utsname u;
  char *d = NULL, *mt = NULL;

  ck_assert_int_eq (pull_platform_parse (NULL, &p, &err), 0);
  ck_assert_str_eq (p.os, "linux");
  ck_assert_int_eq (uname (&u), 0);
  if (strcmp (u.machine, "x86_64") == 0)
    {
      ck_assert_str_eq (p.architecture, "amd64");
      ck_assert_ptr_null (p.variant);
      ck_assert_int_eq (pull_index_choose (busybox_index, busybox_index_len, &p, &d, &mt, &err),
                        0);
      ck_assert_str_eq (d, BB_AMD64);
    }
  else if (strcmp (u.machine, "aarch64") == 0)
    {
      ck_assert_str_eq (p.architecture, "arm64");
      ck_assert_str_eq (p.variant, "v8");
      ck_assert_int_eq (pull_index_choose (busybox_index, busybox_index_len, &p, &d, &mt, &err),
                        0);
      ck_assert_str_eq (d, BB_ARM64);
    }
  free (d);
  free (mt);
  pull_platform_clear (&p);
}
END_TEST

/* ------------------------------------------------------------ synthetic */

static const char docker_list[]
    = "{\"schemaVersion\":2,"
      "\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
      "\"manifests\":["
      "{\"mediaType\":\"" MT_DOCKER_V2 "\",\"size\":1,\"digest\":\"" D ("1") "\","
      "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
      "{\"mediaType\":\"" MT_DOCKER_V2 "\",\"size\":1,\"digest\":\"" D ("2") "\","
      "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v5\"}},"
      "{\"mediaType\":\"" MT_DOCKER_V2 "\",\"size\":1,\"digest\":\"" D ("3") "\","
      "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"}},"
      "{\"mediaType\":\"" MT_DOCKER_V2 "\",\"size\":1,\"digest\":\"" D ("4") "\","
      "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
      "{\"mediaType\":\"" MT_DOCKER_V2 "\",\"size\":1,\"digest\":\"" D ("5") "\","
      "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
      "{\"mediaType\":\"" MT_DOCKER_V2 "\",\"size\":1,\"digest\":\"" D ("6") "\","
      "\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\","
      "\"os.version\":\"10.0.17763.1\"}}"
      "]}";

START_TEST (test_docker_list)
{
  char *msg;

  expect (docker_list, "linux/amd64", D ("1"), MT_DOCKER_V2);
  expect (docker_list, "linux/arm/v5", D ("2"), MT_DOCKER_V2);
  expect (docker_list, "linux/arm/v6", D ("3"), MT_DOCKER_V2);
  expect (docker_list, "linux/armel", D ("3"), MT_DOCKER_V2);
  expect (docker_list, "linux/arm/7", D ("4"), MT_DOCKER_V2);
  expect (docker_list, "linux/arm", D ("4"), MT_DOCKER_V2);
  expect (docker_list, "linux/arm64", D ("5"), MT_DOCKER_V2);
  expect (docker_list, "linux/arm64/v8", D ("5"), MT_DOCKER_V2);
  expect (docker_list, "windows/amd64", D ("6"), MT_DOCKER_V2);
  msg = expect_fail (docker_list, "linux/386", ENOENT);
  ck_assert_ptr_nonnull (strstr (msg, "(available: linux/amd64, linux/arm/v5, linux/arm/v6, "
                                      "linux/arm/v7, linux/arm64/v8, windows/amd64)"));
  free (msg);
}
END_TEST

static const char attest_index[]
    = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
      "\"manifests\":["
      /* attestation for the amd64 image listed first: must never be chosen */
      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":1,\"digest\":\"" D ("a") "\","
      "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"},"
      "\"annotations\":{\"vnd.docker.reference.digest\":\"" D ("1") "\","
      "\"vnd.docker.reference.type\":\"attestation-manifest\"}},"
      /* an attestation that claims a real platform: skipped by annotation */
      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":1,\"digest\":\"" D ("b") "\","
      "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"},"
      "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}},"
      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":1,\"digest\":\"" D ("1") "\","
      "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
      /* nested index: skipped */
      "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"size\":1,"
      "\"digest\":\"" D ("c") "\",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}},"
      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":1,\"digest\":\"" D ("2") "\","
      "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}"
      "]}";

START_TEST (test_attestations_skipped)
{
  char *msg;

  expect (attest_index, "linux/amd64", D ("1"), MT_OCI_MANIFEST);
  /* arm64 entry without variant serves a v8 request */
  expect (attest_index, "linux/arm64/v8", D ("2"), MT_OCI_MANIFEST);
  expect (attest_index, "linux/arm64", D ("2"), MT_OCI_MANIFEST);
  msg = expect_fail (attest_index, "linux/s390x", ENOENT);
  ck_assert_ptr_nonnull (strstr (msg, "(available: linux/amd64, linux/arm64)"));
  ck_assert_ptr_null (strstr (msg, "unknown"));
  free (msg);

  /* only an attestation: nothing to choose */
  msg = expect_fail ("{\"manifests\":[{\"digest\":\"" D ("a") "\","
                     "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}]}",
                     "linux/amd64", ENOENT);
  ck_assert_ptr_nonnull (strstr (msg, "available: none"));
  free (msg);
}
END_TEST

START_TEST (test_variant_preference)
{
  /* no wanted variant: the entry without variant beats amd64/v3 */
  expect ("{\"manifests\":["
          "{\"digest\":\"" D ("3") "\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\","
          "\"variant\":\"v3\"}},"
          "{\"digest\":\"" D ("1") "\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}"
          "]}",
          "linux/amd64", D ("1"), NULL);
  /* arm without variant: the highest */
  expect ("{\"manifests\":["
          "{\"digest\":\"" D ("6") "\",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\","
          "\"variant\":\"v6\"}},"
          "{\"digest\":\"" D ("7") "\",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\","
          "\"variant\":\"v7\"}},"
          "{\"digest\":\"" D ("5") "\",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\","
          "\"variant\":\"v5\"}}"
          "]}",
          "linux/arm", D ("7"), NULL);
  /* an entry without platform is the last resort */
  expect ("{\"manifests\":["
          "{\"digest\":\"" D ("0") "\"},"
          "{\"digest\":\"" D ("1") "\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}"
          "]}",
          "linux/amd64", D ("1"), NULL);
  expect ("{\"manifests\":[{\"digest\":\"" D ("0") "\"}]}", "linux/s390x", D ("0"), NULL);
}
END_TEST

START_TEST (test_index_invalid)
{
  char *msg;

  msg = expect_fail ("{not json", "linux/amd64", EINVAL);
  free (msg);
  msg = expect_fail ("[]", "linux/amd64", EINVAL);
  free (msg);
  msg = expect_fail ("{\"schemaVersion\":2}", "linux/amd64", EINVAL);
  ck_assert_ptr_nonnull (strstr (msg, "manifests"));
  free (msg);
  msg = expect_fail ("{\"manifests\":[{\"digest\":\"sha256:1234\","
                     "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
                     "linux/amd64", EINVAL);
  ck_assert_ptr_nonnull (strstr (msg, "sha256:1234"));
  free (msg);
  msg = expect_fail ("{\"manifests\":[42]}", "linux/amd64", EINVAL);
  free (msg);
}
END_TEST

/* ------------------------------------------------------------ platforms */

START_TEST (test_platform_parse)
{
  static const struct
  {
    const char *in, *os, *arch, *variant;
  } ok[] = {
    { "linux/amd64", "linux", "amd64", NULL },
    { "linux/x86_64", "linux", "amd64", NULL },
    { "linux/amd64/v1", "linux", "amd64", NULL },
    { "Linux/ARM64", "linux", "arm64", NULL },
    { "linux/arm64/v8", "linux", "arm64", "v8" },
    { "linux/aarch64/8", "linux", "arm64", "v8" },
    { "linux/arm/v7", "linux", "arm", "v7" },
    { "linux/arm/6", "linux", "arm", "v6" },
    { "linux/armv7l", "linux", "arm", "v7" },
    { "linux/armel", "linux", "arm", "v6" },
    { "linux/i686", "linux", "386", NULL },
    { "linux/ppc64le", "linux", "ppc64le", NULL },
    { "windows/amd64", "windows", "amd64", NULL },
    { "s390x", "linux", "s390x", NULL },
    { "arm64", "linux", "arm64", NULL },
  };
  static const char *const bad[] = {
    "", "/", "linux/", "/amd64", "linux//amd64", "a/b/c/d", "bogus", "linux/amd 64",
  };
  size_t i;

  for (i = 0; i < sizeof (ok) / sizeof (ok[0]); i++)
    {
      struct pull_platform p = { NULL, NULL, NULL };
      mini_error_t err = NULL;

      ck_assert_msg (pull_platform_parse (ok[i].in, &p, &err) == 0, "%s: %s", ok[i].in,
                     err ? err->msg : "");
      ck_assert_str_eq (p.os, ok[i].os);
      ck_assert_str_eq (p.architecture, ok[i].arch);
      if (ok[i].variant)
        ck_assert_str_eq (p.variant, ok[i].variant);
      else
        ck_assert_msg (p.variant == NULL, "%s: variant %s", ok[i].in, p.variant);
      pull_platform_clear (&p);
    }
  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      struct pull_platform p = { NULL, NULL, NULL };
      mini_error_t err = NULL;

      ck_assert_msg (pull_platform_parse (bad[i], &p, &err) < 0, "`%s` should fail", bad[i]);
      ck_assert_int_eq (mini_error_errno (err), EINVAL);
      ck_assert_ptr_nonnull (strstr (err->msg, "invalid platform"));
      mini_error_release (&err);
      ck_assert_ptr_null (p.os);
    }

  /* an OS alone: the host architecture */
  {
    struct pull_platform p = { NULL, NULL, NULL }, host = { NULL, NULL, NULL };
    mini_error_t err = NULL;

    ck_assert_int_eq (pull_platform_parse ("linux", &p, &err), 0);
    ck_assert_int_eq (pull_platform_parse (NULL, &host, &err), 0);
    ck_assert_str_eq (p.architecture, host.architecture);
    pull_platform_clear (&p);
    pull_platform_clear (&host);
    pull_platform_clear (&host);
  }
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("pull_manifest");
  TCase *tc = tcase_create ("index");
  TCase *tp = tcase_create ("platform");

  tcase_add_checked_fixture (tc, load_busybox_index, free_busybox_index);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_busybox_index);
  tcase_add_test (tc, test_busybox_no_match);
  tcase_add_test (tc, test_busybox_host);
  tcase_add_test (tc, test_docker_list);
  tcase_add_test (tc, test_attestations_skipped);
  tcase_add_test (tc, test_variant_preference);
  tcase_add_test (tc, test_index_invalid);
  suite_add_tcase (s, tc);

  tcase_set_timeout (tp, 30);
  tcase_add_test (tp, test_platform_parse);
  suite_add_tcase (s, tp);
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
