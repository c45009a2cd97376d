/* Unit tests: pull_image against an in-process fake registry on loopback
 * (no network beyond 127.0.0.1, no root).  Covers bearer token auth, a blob
 * redirect to another origin (which must not see the Authorization header),
 * index platform choice, digest verification, and the error messages. */
#include "pull/pull.h"

#include <check.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"

static char tmpdir[64];
static struct store *st;
static pid_t server_pid = -1;
static int port;

/* The fake image. */
static const char layer[] = "pretend this is a gzipped tar layer";
static const char bad_layer_served[] = "pretend this is a gzipped tar layeR"; /* same size */
static char layer_digest[72], cfg_digest[72], man_digest[72], idx_digest[72];
static char broken_man_digest[72];
static char *cfg, *man, *idx, *broken_man, *schema1;

static void
make_image (void)
{
  char diff_id[72];

  sha256_digest (layer, strlen (layer), layer_digest);
  sha256_digest ("uncompressed", 12, diff_id);
  cfg = xfmt ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
              "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
              diff_id);
  sha256_digest (cfg, strlen (cfg), cfg_digest);
  man = xfmt ("{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
              "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
              "\"digest\":\"%s\",\"size\":%zu},"
              "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
              "\"digest\":\"%s\",\"size\":%zu}]}",
              cfg_digest, strlen (cfg), layer_digest, strlen (layer));
  sha256_digest (man, strlen (man), man_digest);
  idx = xfmt ("{\"schemaVersion\":2,\"mediaType\":\"" MT_INDEX "\",\"manifests\":["
              "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"sha256:%064d\",\"size\":1,"
              "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"},"
              "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}},"
              "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
              "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
              0, man_digest, strlen (man));
  sha256_digest (idx, strlen (idx), idx_digest);
  /* "broken": its layer is served with different bytes */
  broken_man = xstrdup (man);
  sha256_digest (broken_man, strlen (broken_man), broken_man_digest);
  schema1 = xstrdup ("{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"old\",\"fsLayers\":[]}");
}

/* ------------------------------------------------------------ fake server */

static void
respond (int c, int code, const char *extra_headers, const char *body, size_t len)
{
  char head[1024];
  int n = snprintf (head, sizeof (head),
                    "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", code,
                    len, extra_headers ? extra_headers : "");
  (void) !write_all (c, head, n);
  (void) !write_all (c, body, len);
}

static void
serve_one (int c, int logfd)
{
  char req[8192], path[2048] = "", host[256] = "", auth[256] = "";
  size_t len = 0;
  char *line;
  char hdr[1024];

  while (len < sizeof (req) - 1)
    {
      ssize_t r = read (c, req + len, sizeof (req) - 1 - len);
      if (r <= 0)
        return;
      len += r;
      req[len] = '\0';
      /* A TLS ClientHello (mini tries HTTPS first on loopback, as Docker
         does): this server speaks plain HTTP only; hang up. */
      if ((unsigned char) req[0] == 0x16)
        return;
      if (strstr (req, "\r\n\r\n"))
        break;
    }
  sscanf (req, "GET %2047s", path);
  for (line = strstr (req, "\r\n"); line && line[2]; line = strstr (line + 2, "\r\n"))
    {
      if (strncasecmp (line + 2, "Host: ", 6) == 0)
        sscanf (line + 8, "%255[^\r]", host);
      if (strncasecmp (line + 2, "Authorization: ", 15) == 0)
        sscanf (line + 17, "%255[^\r]", auth);
    }
  dprintf (logfd, "%s %s auth=%s\n", host, path, auth[0] ? auth : "-");

  if (strcmp (path, "/v2/") == 0)
    {
      snprintf (hdr, sizeof (hdr),
                "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token?a=1\","
                "service=\"fake\"\r\n",
                port);
      return respond (c, 401, hdr, "{}", 2);
    }
  if (strncmp (path, "/token?", 7) == 0)
    {
      const char *t = "{\"token\":\"secret-token\"}";
      if (auth[0] || strstr (path, "a=1&service=fake&scope=repository%3Atest%2F") == NULL)
        return respond (c, 403, NULL, "no", 2);
      return respond (c, 200, "Content-Type: application/json\r\n", t, strlen (t));
    }
  if (strncmp (path, "/cdn/", 5) == 0)
    {
      if (auth[0])
        return respond (c, 400, NULL, "leak", 4);
      if (strstr (path, "broken") && strstr (path, layer_digest))
        return respond (c, 200, NULL, bad_layer_served, strlen (bad_layer_served));
      if (strstr (path, layer_digest))
        return respond (c, 200, NULL, layer, strlen (layer));
      if (strstr (path, cfg_digest))
        return respond (c, 200, NULL, cfg, strlen (cfg));
      return respond (c, 404, NULL, "", 0);
    }
  if (strncmp (path, "/v2/test/", 9) == 0)
    {
      const char *body = NULL, *ct = MT_MANIFEST, *dcd = NULL;
      const char *blob = strstr (path, "/blobs/");

      if (strcmp (auth, "Bearer secret-token") != 0)
        {
          snprintf (hdr, sizeof (hdr),
                    "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token?a=1\","
                    "service=\"fake\",scope=\"repository:test/x:pull\"\r\n",
                    port);
          return respond (c, 401, hdr, "{}", 2);
        }
      if (strncmp (path, "/v2/test/private/", 17) == 0)
        return respond (c, 401, "WWW-Authenticate: Basic realm=\"private\"\r\n", "{}", 2);
      if (blob)
        {
          /* to another origin: localhost instead of 127.0.0.1 */
          snprintf (hdr, sizeof (hdr), "Location: http://localhost:%d/cdn/%s%s\r\n", port,
                    strstr (path, "/broken/") ? "broken/" : "", blob + 7);
          return respond (c, 307, hdr, "", 0);
        }
      if (strcmp (path, "/v2/test/img/manifests/latest") == 0)
        body = idx, ct = MT_INDEX, dcd = idx_digest;
      else if (strstr (path, "/manifests/") && strstr (path, man_digest))
        body = man, dcd = man_digest;
      else if (strcmp (path, "/v2/test/single/manifests/v1") == 0)
        body = man;
      else if (strcmp (path, "/v2/test/broken/manifests/latest") == 0)
        body = broken_man;
      else if (strcmp (path, "/v2/test/img/manifests/baddcd") == 0)
        body = man, dcd = idx_digest;
      else if (strcmp (path, "/v2/test/img/manifests/old") == 0)
        body = schema1, ct = "application/vnd.docker.distribution.manifest.v1+prettyjws";
      if (body)
        {
          snprintf (hdr, sizeof (hdr), "Content-Type: %s\r\n%s%s%s", ct,
                    dcd ? "Docker-Content-Digest: " : "", dcd ? dcd : "", dcd ? "\r\n" : "");
          return respond (c, 200, hdr, body, strlen (body));
        }
      {
        const char *e = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
                        "unknown\"}]}";
        return respond (c, 404, "Content-Type: application/json\r\n", e, strlen (e));
      }
    }
  respond (c, 404, NULL, "", 0);
}

static void
setup (void)
{
  mini_error_t err = NULL;
  struct sockaddr_in a;
  socklen_t alen = sizeof (a);
  int s, logfd;
  char *root, *logp;

  strcpy (tmpdir, "/tmp/mini-pull-http-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  root = xfmt ("%s/root", tmpdir);
  ck_assert_int_eq (store_open (root, &st, &err), 0);
  free (root);
  make_image ();

  s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge (s, 0);
  memset (&a, 0, sizeof (a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  ck_assert_int_eq (bind (s, (struct sockaddr *) &a, sizeof (a)), 0);
  ck_assert_int_eq (listen (s, 64), 0);
  ck_assert_int_eq (getsockname (s, (struct sockaddr *) &a, &alen), 0);
  port = ntohs (a.sin_port);
  logp = xfmt ("%s/requests.log", tmpdir);
  logfd = open (logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  free (logp);
  ck_assert_int_ge (logfd, 0);

  server_pid = fork ();
  ck_assert_int_ge (server_pid, 0);
  if (server_pid == 0)
    {
      /* never outlive the test, even when it fails before teardown */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () == 1)
        _exit (0);
      alarm (120);
      for (;;)
        {
          int c = accept4 (s, NULL, NULL, SOCK_CLOEXEC);
          if (c < 0)
            continue;
          serve_one (c, logfd);
          shutdown (c, SHUT_WR);
          close (c);
        }
    }
  close (s);
  close (logfd);
}

static void
teardown (void)
{
  mini_error_t err = NULL;

  if (server_pid > 0)
    {
      kill (server_pid, SIGKILL);
      waitpid (server_pid, NULL, 0);
      server_pid = -1;
    }
  store_close (st);
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
  free (cfg);
  free (man);
  free (idx);
  free (broken_man);
  free (schema1);
}

static char *
read_log (void)
{
  mini_error_t err = NULL;
  char *p = xfmt ("%s/requests.log", tmpdir), *buf = NULL;

  ck_assert_int_eq (read_file_at (AT_FDCWD, p, &buf, NULL, 0, &err), 0);
  free (p);
  return buf;
}

static int
count_ingest (void)
{
  int fd = openat (st->root_fd, "ingest", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fdopendir (fd);
  struct dirent *de;
  int n = 0;

  ck_assert_ptr_nonnull (d);
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      n++;
  closedir (d);
  return n;
}

static int
do_pull (const char *name, const char *platform, struct pull_result **res, mini_error_t *err)
{
  struct pull_reference *r = NULL;
  struct pull_options o;
  char *s = xfmt ("127.0.0.1:%d/%s", port, name);
  int ret;

  memset (&o, 0, sizeof (o));
  o.platform = platform;
  ck_assert_int_eq (pull_reference_parse (s, &r, err), 0);
  free (s);
  ret = pull_image (st, r, &o, res, err);
  pull_reference_free (r);
  return ret;
}

START_TEST (test_pull_auth_redirect)
{
  struct pull_result *res = NULL;
  mini_error_t err = NULL;
  char *log, *want_ref, *got = NULL, *line;

  ck_assert_msg (do_pull ("test/img", "linux/amd64", &res, &err) == 0, "%s",
                 err ? err->msg : "");
  want_ref = xfmt ("127.0.0.1:%d/test/img:latest", port);
  ck_assert_str_eq (res->reference, want_ref);
  ck_assert_str_eq (res->digest, idx_digest);
  ck_assert_str_eq (res->index_digest, idx_digest);
  ck_assert_str_eq (res->manifest_digest, man_digest);
  ck_assert_int_eq (res->blobs_fetched, 2);
  ck_assert_int_eq (res->blobs_present, 0);
  pull_result_free (res);
  ck_assert (store_blob_exists (st, idx_digest));
  ck_assert (store_blob_exists (st, man_digest));
  ck_assert (store_blob_exists (st, cfg_digest));
  ck_assert (store_blob_exists (st, layer_digest));
  ck_assert_int_eq (store_ref_get (st, want_ref, &got, &err), 0);
  ck_assert_str_eq (got, man_digest);
  free (got);

  /* Authorization went to the registry, never to the token realm or the
     redirect target on the other origin. */
  log = read_log ();
  ck_assert_ptr_nonnull (strstr (log, "/cdn/"));
  for (line = strtok (log, "\n"); line; line = strtok (NULL, "\n"))
    {
      if (strstr (line, " /cdn/") || strstr (line, " /token?") || strstr (line, " /v2/ "))
        ck_assert_msg (strstr (line, "auth=-") != NULL, "%s", line);
      else
        ck_assert_msg (strstr (line, "auth=Bearer secret-token") != NULL, "%s", line);
    }
  free (log);

  /* Second pull: nothing downloaded. */
  ck_assert_int_eq (do_pull ("test/img", "linux/amd64", &res, &err), 0);
  ck_assert_int_eq (res->blobs_fetched, 0);
  ck_assert_int_eq (res->blobs_present, 2);
  pull_result_free (res);
  free (want_ref);
}
END_TEST

START_TEST (test_pull_single_manifest)
{
  struct pull_result *res = NULL;
  mini_error_t err = NULL;

  ck_assert_msg (do_pull ("test/single:v1", NULL, &res, &err) == 0, "%s", err ? err->msg : "");
  ck_assert_str_eq (res->digest, man_digest);
  ck_assert_ptr_null (res->index_digest);
  pull_result_free (res);

  /* an explicit platform the single-platform image does not have */
  ck_assert_int_lt (do_pull ("test/single:v1", "linux/s390x", &res, &err), 0);
  ck_assert_ptr_nonnull (strstr (err->msg, "does not match the specified platform"));
  mini_error_release (&err);
}
END_TEST

START_TEST (test_pull_digest_mismatch)
{
  struct pull_result *res = NULL;
  mini_error_t err = NULL;
  char *want, *ref, *got = NULL;

  ck_assert_int_lt (do_pull ("test/broken", NULL, &res, &err), 0);
  want = xfmt ("blob %s: digest mismatch: got sha256:", layer_digest);
  ck_assert_msg (strstr (err->msg, want) == err->msg, "%s", err->msg);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  mini_error_release (&err);
  free (want);
  ck_assert (!store_blob_exists (st, layer_digest));
  ck_assert (!store_blob_exists (st, broken_man_digest));
  ck_assert_int_eq (count_ingest (), 0);
  ref = xfmt ("127.0.0.1:%d/test/broken:latest", port);
  ck_assert_int_lt (store_ref_get (st, ref, &got, &err), 0);
  mini_error_release (&err);
  free (ref);
}
END_TEST

START_TEST (test_pull_errors)
{
  struct pull_result *res = NULL;
  mini_error_t err = NULL;
  char *want;

  /* unknown tag */
  ck_assert_int_lt (do_pull ("test/img:nope", NULL, &res, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  want = xfmt ("manifest unknown: 127.0.0.1:%d/test/img:nope not found in 127.0.0.1:%d", port,
               port);
  ck_assert_str_eq (err->msg, want);
  free (want);
  mini_error_release (&err);

  /* platform not in the index */
  ck_assert_int_lt (do_pull ("test/img", "linux/arm/v7", &res, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  ck_assert_ptr_nonnull (strstr (err->msg, "no matching manifest for linux/arm/v7 in the "
                                           "manifest list entries (available: linux/amd64)"));
  mini_error_release (&err);

  /* Docker-Content-Digest disagrees with the content */
  ck_assert_int_lt (do_pull ("test/img:baddcd", NULL, &res, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EINVAL);
  ck_assert_ptr_nonnull (strstr (err->msg, "digest mismatch"));
  mini_error_release (&err);

  /* schema1 */
  ck_assert_int_lt (do_pull ("test/img:old", NULL, &res, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOTSUP);
  ck_assert_ptr_nonnull (strstr (err->msg, "schema 1"));
  mini_error_release (&err);

  /* a repository that wants Basic credentials */
  ck_assert_int_lt (do_pull ("test/private", NULL, &res, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EACCES);
  ck_assert_msg (strstr (err->msg, "requires a login") != NULL, "%s", err->msg);
  mini_error_release (&err);

  /* pinned digest that the content does not have */
  {
    char *ref = xfmt ("test/img@%s", idx_digest);
    ck_assert_int_lt (do_pull (ref, NULL, &res, &err), 0);
    ck_assert_int_eq (mini_error_errno (err), ENOENT);
    mini_error_release (&err);
    free (ref);
  }
  ck_assert_int_eq (count_ingest (), 0);
}
END_TEST

START_TEST (test_pull_unreachable)
{
  struct pull_result *res = NULL;
  mini_error_t err = NULL;

  /* the server is gone: nothing listens on the port any more */
  kill (server_pid, SIGKILL);
  waitpid (server_pid, NULL, 0);
  server_pid = -1;
  ck_assert_int_lt (do_pull ("test/img", NULL, &res, &err), 0);
  ck_assert_ptr_nonnull (strstr (err->msg, "cannot reach registry 127.0.0.1:"));
  ck_assert_ptr_nonnull (strstr (err->msg, "check the address or --registry-mirror"));
  mini_error_release (&err);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("pull_http");
  TCase *tc = tcase_create ("pull_image");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_pull_auth_redirect);
  tcase_add_test (tc, test_pull_single_manifest);
  tcase_add_test (tc, test_pull_digest_mismatch);
  tcase_add_test (tc, test_pull_errors);
  tcase_add_test (tc, test_pull_unreachable);
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
