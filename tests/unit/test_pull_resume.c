/* Unit tests: blob transfers of pull_image against an in-process fake
 * registry on loopback: a connection cut mid-blob continues with a Range
 * request, a partial file left by an earlier run is continued (and started
 * over when it was wrong, or when the server ignores Range), 429 +
 * Retry-After is waited for within a bound, 503 is retried; plus the
 * store's resumable ingest files (store_ingest_resume). */
#include "pull/pull.h"

#include <check.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define LAYER_SIZE 200000

static char tmpdir[64];
static struct store *st;
static pid_t server_pid = -1;
static int port;

static char *layer;
static char layer_digest[72], cfg_digest[72];
static char *cfg, *man;

static void
make_image (void)
{
  char diff_id[72];
  uint32_t x = 12345;
  int i;

  layer = xmalloc (LAYER_SIZE);
  for (i = 0; i < LAYER_SIZE; i++)
    {
      x = x * 1103515245 + 12345;
      layer[i] = (char) (x >> 16);
    }
  sha256_digest (layer, LAYER_SIZE, layer_digest);
  sha256_digest ("uncompressed", 12, diff_id);
  cfg = xfmt ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
              "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
              diff_id);
  sha256_digest (cfg, strlen (cfg), cfg_digest);
  man = xfmt ("{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
              "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
              "\"digest\":\"%s\",\"size\":%zu},"
              "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
              "\"digest\":\"%s\",\"size\":%d}]}",
              cfg_digest, strlen (cfg), layer_digest, LAYER_SIZE);
}

/* ------------------------------------------------------------ fake server */

static void
respond (int c, int code, const char *extra_headers, const char *body, size_t len,
         size_t send_len)
{
  char head[1024];
  int n = snprintf (head, sizeof (head),
                    "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", code,
                    len, extra_headers ? extra_headers : "");
  (void) !write_all (c, head, n);
  (void) !write_all (c, body, send_len);
}

static int layer_requests; /* in the server process */

static void
serve_layer (int c, const char *mode, const char *range)
{
  long long start = -1;
  char hdr[256];

  layer_requests++;
  if (range[0])
    sscanf (range, "bytes=%lld-", &start);
  if (strcmp (mode, "ratelimit") == 0 && layer_requests == 1)
    return respond (c, 429, "Retry-After: 1\r\n", "{}", 2, 2);
  if (strcmp (mode, "toolong") == 0)
    return respond (c, 429, "Retry-After: 3600\r\n", "{}", 2, 2);
  if (strcmp (mode, "flaky") == 0 && layer_requests == 1)
    return respond (c, 503, NULL, "busy", 4, 4);
  if (strcmp (mode, "cut") == 0 && layer_requests == 1)
    /* announce everything, send half, hang up */
    return respond (c, 200, NULL, layer, LAYER_SIZE, LAYER_SIZE / 2);
  if (start > 0 && start < LAYER_SIZE && strcmp (mode, "norange") != 0)
    {
      snprintf (hdr, sizeof (hdr), "Content-Range: bytes %lld-%d/%d\r\n", start, LAYER_SIZE - 1,
                LAYER_SIZE);
      return respond (c, 206, hdr, layer + start, LAYER_SIZE - start, LAYER_SIZE - start);
    }
  if (start >= LAYER_SIZE)
    return respond (c, 416, NULL, "", 0, 0);
  respond (c, 200, NULL, layer, LAYER_SIZE, LAYER_SIZE);
}

static void
serve_one (int c, int logfd)
{
  char req[8192], path[2048] = "", range[256] = "", mode[64] = "";
  size_t len = 0;
  char *line;

  while (len < sizeof (req) - 1)
    {
      ssize_t r = read (c, req + len, sizeof (req) - 1 - len);
      if (r <= 0)
        return;
      len += r;
      req[len] = '\0';
      if ((unsigned char) req[0] == 0x16)
        return; /* TLS ClientHello: plain HTTP only here */
      if (strstr (req, "\r\n\r\n"))
        break;
    }
  sscanf (req, "GET %2047s", path);
  for (line = strstr (req, "\r\n"); line && line[2]; line = strstr (line + 2, "\r\n"))
    if (strncasecmp (line + 2, "Range: ", 7) == 0)
      sscanf (line + 9, "%255[^\r]", range);
  dprintf (logfd, "%s range=%s\n", path, range[0] ? range : "-");

  if (strcmp (path, "/v2/") == 0)
    return respond (c, 200, NULL, "{}", 2, 2);
  if (sscanf (path, "/v2/test/%63[a-z]/", mode) != 1)
    return respond (c, 404, NULL, "", 0, 0);
  if (strstr (path, "/manifests/latest"))
    {
      const char *ct = "Content-Type: " MT_MANIFEST "\r\n";
      return respond (c, 200, ct, man, strlen (man), strlen (man));
    }
  if (strstr (path, "/blobs/") && strstr (path, cfg_digest))
    return respond (c, 200, NULL, cfg, strlen (cfg), strlen (cfg));
  if (strstr (path, "/blobs/") && strstr (path, layer_digest))
    return serve_layer (c, mode, range);
  respond (c, 404, NULL, "", 0, 0);
}

static void
setup (void)
{
  mini_error_t err = NULL;
  struct sockaddr_in a;
  socklen_t alen = sizeof (a);
  int s, logfd;
  char *root, *logp;

  strcpy (tmpdir, "/tmp/mini-pull-resume-XXXXXX");
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
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () == 1)
        _exit (0);
      alarm (120);
      signal (SIGPIPE, SIG_IGN);
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
  free (layer);
  free (cfg);
  free (man);
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
count (const char *hay, const char *needle)
{
  int n = 0;
  for (const char *p = hay; (p = strstr (p, needle)) != NULL; p++)
    n++;
  return n;
}

/* Progress events seen, as "event:done " words. */
static char events[4096];

static void
on_progress (void *data, const char *event, const char *digest, int64_t done, int64_t total)
{
  size_t l = strlen (events);
  (void) data;
  (void) digest;
  (void) total;
  if (strcmp (event, "downloading") == 0)
    return;
  snprintf (events + l, sizeof (events) - l, "%s:%lld ", event, (long long) done);
}

static int
do_pull (const char *mode, mini_error_t *err)
{
  struct pull_reference *r = NULL;
  struct pull_result *res = NULL;
  struct pull_options o;
  char *s = xfmt ("127.0.0.1:%d/test/%s", port, mode);
  int ret;

  memset (&o, 0, sizeof (o));
  o.progress = on_progress;
  events[0] = '\0';
  ck_assert_int_eq (pull_reference_parse (s, &r, err), 0);
  free (s);
  ret = pull_image (st, r, &o, &res, err);
  pull_reference_free (r);
  pull_result_free (res);
  return ret;
}

/* Write BYTES of the layer (WRONG: flipped) as the partial file a killed
   run would have left. */
static void
leave_partial (size_t bytes, bool wrong)
{
  char *p = xfmt ("%s/root/ingest/%s.partial", tmpdir, digest_hex (layer_digest));
  int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  char *buf = xmalloc (bytes);

  ck_assert_int_ge (fd, 0);
  memcpy (buf, layer, bytes);
  if (wrong)
    buf[bytes / 2] ^= 0x55;
  ck_assert_int_eq (write_all (fd, buf, bytes), 0);
  close (fd);
  free (buf);
  free (p);
}

static bool
partial_exists (void)
{
  char *p = xfmt ("%s/root/ingest/%s.partial", tmpdir, digest_hex (layer_digest));
  bool r = access (p, F_OK) == 0;
  free (p);
  return r;
}

START_TEST (test_cut_resumes_with_range)
{
  mini_error_t err = NULL;
  char *log, *want;

  ck_assert_msg (do_pull ("cut", &err) == 0, "%s", err ? err->msg : "");
  ck_assert (store_blob_exists (st, layer_digest));
  log = read_log ();
  want = xfmt ("%s range=bytes=%d-", layer_digest, LAYER_SIZE / 2);
  ck_assert_msg (strstr (log, want) != NULL, "no Range request in:\n%s", log);
  ck_assert_msg (strstr (events, "retrying:1") != NULL, "%s", events);
  ck_assert (!partial_exists ());
  free (want);
  free (log);
}
END_TEST

START_TEST (test_partial_from_earlier_run)
{
  mini_error_t err = NULL;
  char *log, *want;

  leave_partial (70000, false);
  ck_assert_msg (do_pull ("resume", &err) == 0, "%s", err ? err->msg : "");
  ck_assert (store_blob_exists (st, layer_digest));
  log = read_log ();
  want = xfmt ("%s range=bytes=70000-", layer_digest);
  ck_assert_msg (strstr (log, want) != NULL, "%s", log);
  ck_assert_int_eq (count (log, layer_digest), 1);
  ck_assert_msg (strstr (events, "resuming:70000") != NULL, "%s", events);
  free (want);
  free (log);
}
END_TEST

START_TEST (test_wrong_partial_starts_over)
{
  mini_error_t err = NULL;
  char *log;

  leave_partial (70000, true);
  ck_assert_msg (do_pull ("resume", &err) == 0, "%s", err ? err->msg : "");
  ck_assert (store_blob_exists (st, layer_digest));
  log = read_log ();
  /* resumed, found wrong at the end, fetched whole once more */
  ck_assert_int_eq (count (log, layer_digest), 2);
  ck_assert_int_eq (count (log, "range=bytes=70000-"), 1);
  ck_assert_msg (strstr (events, "restarting:0") != NULL, "%s", events);
  free (log);
}
END_TEST

START_TEST (test_server_ignoring_range)
{
  mini_error_t err = NULL;
  char *log;

  leave_partial (70000, false);
  ck_assert_msg (do_pull ("norange", &err) == 0, "%s", err ? err->msg : "");
  ck_assert (store_blob_exists (st, layer_digest));
  log = read_log ();
  ck_assert_int_eq (count (log, layer_digest), 1);
  ck_assert_msg (strstr (events, "restarting:0") != NULL, "%s", events);
  free (log);
}
END_TEST

START_TEST (test_complete_partial_needs_no_request)
{
  mini_error_t err = NULL;
  char *log;

  /* killed after the last byte, before the commit */
  leave_partial (LAYER_SIZE, false);
  ck_assert_msg (do_pull ("resume", &err) == 0, "%s", err ? err->msg : "");
  ck_assert (store_blob_exists (st, layer_digest));
  log = read_log ();
  ck_assert_int_eq (count (log, layer_digest), 0);
  free (log);
}
END_TEST

START_TEST (test_retry_after)
{
  mini_error_t err = NULL;
  int64_t t0 = now_ns ();

  ck_assert_msg (do_pull ("ratelimit", &err) == 0, "%s", err ? err->msg : "");
  ck_assert_int_ge (now_ns () - t0, 900000000LL);
  ck_assert_msg (strstr (events, "waiting:1000") != NULL, "%s", events);
}
END_TEST

START_TEST (test_retry_after_beyond_bound)
{
  mini_error_t err = NULL;
  int64_t t0;

  /* beyond the bound: an error at once, saying why */
  t0 = now_ns ();
  ck_assert_int_lt (do_pull ("toolong", &err), 0);
  ck_assert_int_eq (mini_error_errno (err), EAGAIN);
  ck_assert_msg (strstr (err->msg, "3600") != NULL, "%s", err->msg);
  ck_assert_int_lt (now_ns () - t0, 5000000000LL);
  mini_error_release (&err);
}
END_TEST

START_TEST (test_5xx_retried)
{
  mini_error_t err = NULL;
  char *log;

  ck_assert_msg (do_pull ("flaky", &err) == 0, "%s", err ? err->msg : "");
  ck_assert_msg (strstr (events, "retrying:1") != NULL, "%s", events);
  log = read_log ();
  ck_assert_int_eq (count (log, layer_digest), 2);
  free (log);
}
END_TEST

/* ------------------------------------------------------------ store ingest */

START_TEST (test_ingest_resume_files)
{
  mini_error_t err = NULL;
  struct store_ingest *a = NULL, *b = NULL;

  /* a partial file longer than the blob is not a prefix of it */
  leave_partial (LAYER_SIZE, false);
  ck_assert_int_eq (store_ingest_resume (st, layer_digest, 1000, &a, &err), 0);
  ck_assert_int_eq (store_ingest_size (a), 0);
  store_ingest_abort (a);

  leave_partial (5000, false);
  ck_assert_int_eq (store_ingest_resume (st, layer_digest, LAYER_SIZE, &a, &err), 0);
  ck_assert_int_eq (store_ingest_size (a), 5000);
  ck_assert_int_eq (store_ingest_resumed_from (a), 5000);
  /* held by A: a second writer gets a private file */
  ck_assert_int_eq (store_ingest_resume (st, layer_digest, LAYER_SIZE, &b, &err), 0);
  ck_assert_int_eq (store_ingest_size (b), 0);
  ck_assert_int_eq (store_ingest_write (b, layer, LAYER_SIZE, &err), 0);
  ck_assert_int_eq (store_ingest_commit (b, &err), 0);
  /* A goes on from byte 5000 */
  ck_assert_int_eq (store_ingest_write (a, layer + 5000, 1000, &err), 0);
  store_ingest_suspend (a);
  ck_assert (partial_exists ());
  ck_assert_int_eq (store_ingest_resume (st, layer_digest, LAYER_SIZE, &a, &err), 0);
  ck_assert_int_eq (store_ingest_size (a), 6000);
  ck_assert_int_eq (store_ingest_write (a, layer + 6000, LAYER_SIZE - 6000, &err), 0);
  ck_assert_int_eq (store_ingest_commit (a, &err), 0);
  ck_assert (!partial_exists ());
  ck_assert (store_blob_exists (st, layer_digest));

  /* wrong bytes: the commit fails and removes the partial file */
  {
    char d[72];
    sha256_digest ("other", 5, d);
    ck_assert_int_eq (store_ingest_resume (st, d, 5, &a, &err), 0);
    ck_assert_int_eq (store_ingest_write (a, "OTHER", 5, &err), 0);
    ck_assert_int_lt (store_ingest_commit (a, &err), 0);
    ck_assert_int_eq (mini_error_errno (err), EINVAL);
    mini_error_release (&err);
    ck_assert (!store_blob_exists (st, d));
  }
  /* an empty partial is not kept */
  {
    char d[72], *p;
    sha256_digest ("empty", 5, d);
    ck_assert_int_eq (store_ingest_resume (st, d, 5, &a, &err), 0);
    store_ingest_suspend (a);
    p = xfmt ("%s/root/ingest/%s.partial", tmpdir, digest_hex (d));
    ck_assert (access (p, F_OK) != 0);
    free (p);
  }
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("pull_resume");
  TCase *tc = tcase_create ("transfers");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_cut_resumes_with_range);
  tcase_add_test (tc, test_partial_from_earlier_run);
  tcase_add_test (tc, test_wrong_partial_starts_over);
  tcase_add_test (tc, test_server_ignoring_range);
  tcase_add_test (tc, test_complete_partial_needs_no_request);
  tcase_add_test (tc, test_retry_after);
  tcase_add_test (tc, test_retry_after_beyond_bound);
  tcase_add_test (tc, test_5xx_retried);
  tcase_add_test (tc, test_ingest_resume_files);
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
