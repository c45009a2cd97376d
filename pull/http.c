/* mini - pull: HTTP transport (distribution-spec "Pull", token auth spec).
 *
 * Every request is a struct xfer around a libcurl easy handle.  Redirects
 * are followed here, not by libcurl, so that the Authorization header is
 * built per hop and only sent to the endpoint's own origin (a blob GET on
 * Docker Hub is redirected to a CDN on another host).  Retries (3 attempts,
 * backoff) cover timeouts, broken transfers, 429 and 5xx.  Blobs stream
 * into store_ingest_*; several blobs run at once on one multi handle.
 */
#include "pull/pull-private.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <jansson.h>

#define USER_AGENT "mini/0.1.0"
#define MAX_REDIRECTS 10
#define MAX_ATTEMPTS 3
#define MANIFEST_MAX ((size_t) 4 << 20) /* Docker's limit for manifests */
#define TOKEN_MAX ((size_t) 1 << 20)
#define SMALL_MAX ((size_t) 64 << 10) /* ping and error bodies */
#define PROGRESS_STEP ((int64_t) 256 << 10)

enum xfer_kind
{
  XFER_PING,
  XFER_TOKEN,
  XFER_MANIFEST,
  XFER_BLOB,
};

enum xfer_next
{
  XFER_DONE,
  XFER_AGAIN,
  XFER_FAIL,
};

struct xfer
{
  struct pull_http *h;
  struct pull_endpoint *ep; /* whose token may be sent; NULL: never authenticated */
  enum xfer_kind kind;
  char *what; /* names the object in messages */
  CURL *curl;
  char *url; /* current URL (changes on redirects) */
  const char *accept;
  struct curl_slist *headers;
  char errbuf[CURL_ERROR_SIZE];
  bool send_auth; /* URL is on EP's origin */
  int redirects;
  int attempts;
  bool reauthed;
  long delay_ms;   /* before the next attempt */
  int64_t wake_ms; /* multi: not before this monotonic time */
  /* response of the current attempt */
  long status;
  char *content_type;
  char *docker_digest;
  char *www_authenticate;
  char *body;
  size_t len, cap, max;
  bool too_large;
  /* blob sink */
  struct pull_blob *blob;
  struct store_ingest *ingest;
  mini_error_t sink_err;
  int64_t last_progress;
};

static int endpoint_auth (struct pull_http *h, struct pull_endpoint *ep, const char *challenge,
                          mini_error_t *err);

/* ------------------------------------------------------------ helpers */

static int64_t
monotonic_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

static char *
url_escape (const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  char *out = xmalloc (strlen (s) * 3 + 1), *o = out;

  for (; *s; s++)
    {
      unsigned char c = (unsigned char) *s;
      if (isascii (c) && (isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~'))
        *o++ = c;
      else
        {
          *o++ = '%';
          *o++ = hex[c >> 4];
          *o++ = hex[c & 15];
        }
    }
  *o = '\0';
  return out;
}

struct url_parts
{
  char *scheme, *host, *port;
};

static void
url_parts_clear (struct url_parts *p)
{
  curl_free (p->scheme);
  curl_free (p->host);
  curl_free (p->port);
  p->scheme = p->host = p->port = NULL;
}

/* Split URL; the port is filled in from the scheme when absent. */
static bool
url_split (const char *url, struct url_parts *ret, char **ret_path)
{
  CURLU *u = curl_url ();
  bool ok = false;

  memset (ret, 0, sizeof (*ret));
  if (ret_path)
    *ret_path = NULL;
  if (u == NULL)
    return false;
  if (curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
      && curl_url_get (u, CURLUPART_SCHEME, &ret->scheme, 0) == CURLUE_OK
      && curl_url_get (u, CURLUPART_HOST, &ret->host, 0) == CURLUE_OK
      && curl_url_get (u, CURLUPART_PORT, &ret->port, CURLU_DEFAULT_PORT) == CURLUE_OK)
    ok = true;
  if (ok && ret_path)
    {
      char *path = NULL, *query = NULL, *frag = NULL;
      curl_url_get (u, CURLUPART_PATH, &path, 0);
      curl_url_get (u, CURLUPART_QUERY, &query, 0);
      curl_url_get (u, CURLUPART_FRAGMENT, &frag, 0);
      *ret_path = xfmt ("%s%s%s", path ? path : "", query ? "?" : "", frag ? "#" : "");
      curl_free (path);
      curl_free (query);
      curl_free (frag);
    }
  if (!ok)
    url_parts_clear (ret);
  curl_url_cleanup (u);
  return ok;
}

/* "host[:port]" of URL, the port only when not the scheme's default. */
static char *
url_hostport (const char *url)
{
  CURLU *u = curl_url ();
  char *host = NULL, *port = NULL, *r;

  if (u && curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
      && curl_url_get (u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
    {
      curl_url_get (u, CURLUPART_PORT, &port, 0);
      r = port ? xfmt ("%s:%s", host, port) : xstrdup (host);
    }
  else
    r = xstrdup (url);
  curl_free (host);
  curl_free (port);
  curl_url_cleanup (u);
  return r;
}

/* RFC 6454 origin equality: scheme, host and port. */
static bool
same_origin (const char *a, const char *b)
{
  struct url_parts pa, pb;
  bool same = false;

  if (url_split (a, &pa, NULL))
    {
      if (url_split (b, &pb, NULL))
        {
          same = strcasecmp (pa.scheme, pb.scheme) == 0 && strcasecmp (pa.host, pb.host) == 0
                 && strcmp (pa.port, pb.port) == 0;
          url_parts_clear (&pb);
        }
      url_parts_clear (&pa);
    }
  return same;
}

static bool
is_http_url (const char *url)
{
  return strncasecmp (url, "http://", 7) == 0 || strncasecmp (url, "https://", 8) == 0;
}

/* "CODE: message" of the first entry of a distribution-spec error body
   ({"errors":[{"code":..,"message":..}]}), or NULL. */
static char *
registry_error_summary (const char *body, size_t len, char **ret_code)
{
  json_auto_t *root = NULL;
  json_t *errors, *e, *code, *msg;

  if (ret_code)
    *ret_code = NULL;
  if (body == NULL || len == 0)
    return NULL;
  root = json_loadb (body, len, 0, NULL);
  errors = root ? json_object_get (root, "errors") : NULL;
  e = json_is_array (errors) ? json_array_get (errors, 0) : NULL;
  if (!json_is_object (e))
    return NULL;
  code = json_object_get (e, "code");
  msg = json_object_get (e, "message");
  if (ret_code && json_is_string (code))
    *ret_code = xstrdup (json_string_value (code));
  if (json_is_string (code) && json_is_string (msg))
    return xfmt ("%s: %s", json_string_value (code), json_string_value (msg));
  if (json_is_string (code))
    return xstrdup (json_string_value (code));
  if (json_is_string (msg))
    return xstrdup (json_string_value (msg));
  return NULL;
}

/* ------------------------------------------------------------ callbacks */

static curl_socket_t
open_socket_cb (void *data, curlsocktype purpose, struct curl_sockaddr *addr)
{
  (void) data;
  (void) purpose;
  return socket (addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

static void
response_reset (struct xfer *x)
{
  x->status = 0;
  free (x->content_type);
  free (x->docker_digest);
  free (x->www_authenticate);
  x->content_type = x->docker_digest = x->www_authenticate = NULL;
  x->len = 0;
  x->too_large = false;
}

static char *
header_value (const char *v, size_t len)
{
  while (len > 0 && (*v == ' ' || *v == '\t'))
    v++, len--;
  while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '
                     || v[len - 1] == '\t'))
    len--;
  return xstrndup (v, len);
}

static size_t
header_cb (char *buf, size_t size, size_t n, void *data)
{
  struct xfer *x = data;
  size_t total = size * n;
  const char *colon;
  size_t name_len;

  if (total >= 5 && memcmp (buf, "HTTP/", 5) == 0)
    {
      /* A new response (also after a proxy's CONNECT answer). */
      const char *sp = memchr (buf, ' ', total);
      response_reset (x);
      if (sp)
        x->status = strtol (sp + 1, NULL, 10);
      return total;
    }
  colon = memchr (buf, ':', total);
  if (colon == NULL)
    return total;
  name_len = colon - buf;

#define HEADER_IS(name) (name_len == strlen (name) && strncasecmp (buf, name, name_len) == 0)
  if (HEADER_IS ("content-type") && x->content_type == NULL)
    {
      char *v = header_value (colon + 1, total - name_len - 1);
      v[strcspn (v, "; \t")] = '\0';
      for (char *c = v; *c; c++)
        *c = tolower ((unsigned char) *c);
      x->content_type = v;
    }
  else if (HEADER_IS ("docker-content-digest") && x->docker_digest == NULL)
    x->docker_digest = header_value (colon + 1, total - name_len - 1);
  else if (HEADER_IS ("www-authenticate") && x->www_authenticate == NULL)
    x->www_authenticate = header_value (colon + 1, total - name_len - 1);
#undef HEADER_IS
  return total;
}

static void
report_progress (struct xfer *x, bool force)
{
  struct pull_http *h = x->h;
  int64_t done;

  if (h->progress == NULL || x->blob == NULL || !x->blob->progress || x->ingest == NULL)
    return;
  done = store_ingest_size (x->ingest);
  if (!force && done - x->last_progress < PROGRESS_STEP)
    return;
  x->last_progress = done;
  h->progress (h->progress_data, "downloading", x->blob->digest, done, x->blob->size);
}

static size_t
write_cb (char *ptr, size_t size, size_t n, void *data)
{
  struct xfer *x = data;
  size_t total = size * n;
  bool ok = x->status / 100 == 2;
  size_t limit = ok ? x->max : SMALL_MAX;

  if (ok && x->ingest)
    {
      if (x->sink_err)
        return 0;
      if (store_ingest_write (x->ingest, ptr, total, &x->sink_err) < 0)
        return 0;
      report_progress (x, false);
      return total;
    }
  if (x->len + total > limit)
    {
      if (ok)
        {
          x->too_large = true;
          return 0;
        }
      total = limit - x->len; /* keep the start of an error body */
      if (total == 0)
        return size * n;
    }
  if (x->len + total + 1 > x->cap)
    {
      x->cap = (x->len + total + 1) * 2;
      if (x->cap > limit + 1)
        x->cap = limit + 1;
      x->body = xrealloc (x->body, x->cap);
    }
  memcpy (x->body + x->len, ptr, total);
  x->len += total;
  x->body[x->len] = '\0';
  return size * n;
}

/* ------------------------------------------------------------ xfer */

static void
xfer_free (struct xfer *x)
{
  if (x == NULL)
    return;
  if (x->curl)
    curl_easy_cleanup (x->curl);
  curl_slist_free_all (x->headers);
  store_ingest_abort (x->ingest);
  mini_error_release (&x->sink_err);
  response_reset (x);
  free (x->body);
  free (x->url);
  free (x->what);
  free (x);
}

static void
cleanup_xferp (struct xfer **x)
{
  xfer_free (*x);
  *x = NULL;
}
#define cleanup_xfer __attribute__ ((cleanup (cleanup_xferp)))

static int
xfer_new (struct pull_http *h, struct pull_endpoint *ep, enum xfer_kind kind, const char *what,
          const char *url, const char *accept, size_t max, struct xfer **ret, mini_error_t *err)
{
  struct xfer *x = xmalloc0 (sizeof (*x));
  CURL *c;

  x->h = h;
  x->ep = ep;
  x->kind = kind;
  x->what = xstrdup (what);
  x->url = xstrdup (url);
  x->accept = accept;
  x->max = max;
  x->send_auth = ep != NULL && same_origin (ep->base, url);
  x->curl = c = curl_easy_init ();
  if (c == NULL)
    {
      xfer_free (x);
      return mini_error_set (err, ENOMEM, "curl_easy_init failed");
    }
  curl_easy_setopt (c, CURLOPT_PRIVATE, x);
  curl_easy_setopt (c, CURLOPT_SHARE, h->share);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_USERAGENT, USER_AGENT);
  curl_easy_setopt (c, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 0L); /* redirects: xfer_after */
  curl_easy_setopt (c, CURLOPT_UNRESTRICTED_AUTH, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt (c, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A stalled transfer (< 1 byte/s for 60 s) fails and is retried. */
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, 60L);
  if (kind != XFER_BLOB)
    curl_easy_setopt (c, CURLOPT_TIMEOUT, 300L);
  curl_easy_setopt (c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt (c, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, x);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, x);
  *ret = x;
  return 0;
}

/* Set up the handle for the next attempt. */
static int
xfer_prepare (struct xfer *x, mini_error_t *err)
{
  curl_slist_free_all (x->headers);
  x->headers = NULL;
  if (x->accept)
    {
      cleanup_free char *a = xfmt ("Accept: %s", x->accept);
      x->headers = curl_slist_append (x->headers, a);
    }
  /* Only ever to the registry's own origin: never to a redirect target on
     another host, never to the token realm. */
  if (x->send_auth && x->ep && x->ep->token)
    {
      cleanup_free char *a = xfmt ("Authorization: Bearer %s", x->ep->token);
      x->headers = curl_slist_append (x->headers, a);
    }
  curl_easy_setopt (x->curl, CURLOPT_URL, x->url);
  curl_easy_setopt (x->curl, CURLOPT_HTTPHEADER, x->headers);
  x->errbuf[0] = '\0';
  x->delay_ms = 0;
  response_reset (x);
  if (x->ingest && store_ingest_size (x->ingest) > 0)
    {
      x->last_progress = 0;
      if (store_ingest_reset (x->ingest, err) < 0)
        return -1;
      report_progress (x, true);
    }
  return 0;
}

static bool
curl_retriable (enum xfer_kind kind, CURLcode rc)
{
  switch (rc)
    {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    case CURLE_COULDNT_CONNECT:
      /* The registry answered the ping: a refused blob connection is a
         hiccup.  Elsewhere fail fast (the next mirror is waiting). */
      return kind == XFER_BLOB;
    default:
      return false;
    }
}

static int
xfer_curl_error (struct xfer *x, CURLcode rc, mini_error_t *err)
{
  cleanup_free char *host = url_hostport (x->url);
  const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror (rc);
  int status;

  switch (rc)
    {
    case CURLE_OPERATION_TIMEDOUT:
      status = ETIMEDOUT;
      break;
    case CURLE_COULDNT_CONNECT:
      status = ECONNREFUSED;
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      status = EHOSTUNREACH;
      break;
    default:
      status = EIO;
      break;
    }
  if (x->kind == XFER_BLOB && (x->status / 100 == 2))
    return mini_error_set (err, status, "%s: download from %s failed: %s", x->what, host, why);
  if (x->kind == XFER_TOKEN)
    return mini_error_set (err, status, "cannot reach token service %s: %s", host, why);
  return mini_error_set (err, status, "cannot reach registry %s: %s; check the address or "
                                      "--registry-mirror",
                         host, why);
}

static int
xfer_http_error (struct xfer *x, mini_error_t *err)
{
  cleanup_free char *code = NULL;
  cleanup_free char *summary = registry_error_summary (x->body, x->len, &code);
  cleanup_free char *host = url_hostport (x->url);
  cleanup_free char *detail = NULL;
  const char *registry = x->ep ? x->ep->name : host;
  long st = x->status;

  detail = summary ? xfmt (" (%s)", summary) : xstrdup ("");
  switch (x->kind)
    {
    case XFER_MANIFEST:
      if (st == 404 || (code && (strcmp (code, "MANIFEST_UNKNOWN") == 0
                                 || strcmp (code, "NAME_UNKNOWN") == 0)))
        return mini_error_set (err, ENOENT, "manifest unknown: %s not found in %s%s", x->what,
                               registry, x->ep && x->ep->mirror ? " (mirror)" : "");
      if (st == 401 || st == 403)
        return mini_error_set (err, EACCES,
                               "pull access denied for %s: repository does not exist or may "
                               "require authentication: %s returned HTTP %ld%s",
                               x->what, host, st, detail);
      break;
    case XFER_BLOB:
      if (st == 404 || (code && strcmp (code, "BLOB_UNKNOWN") == 0))
        return mini_error_set (err, ENOENT, "%s: not found in %s", x->what, registry);
      if (st == 401 || st == 403)
        return mini_error_set (err, EACCES, "%s: access denied: %s returned HTTP %ld%s",
                               x->what, host, st, detail);
      break;
    case XFER_TOKEN:
      return mini_error_set (err, st == 401 || st == 403 ? EACCES : EIO,
                             "get token from %s: HTTP %ld%s", host, st, detail);
    case XFER_PING:
      break;
    }
  return mini_error_set (err, EIO, "%s: %s returned HTTP %ld%s", x->what, host, st, detail);
}

/* Decide what follows a finished attempt. */
static enum xfer_next
xfer_after (struct xfer *x, CURLcode rc, mini_error_t *err)
{
  long st;

  if (x->sink_err)
    {
      *err = steal_pointer (&x->sink_err);
      return XFER_FAIL;
    }
  if (rc != CURLE_OK)
    {
      if (x->too_large)
        {
          cleanup_free char *host = url_hostport (x->url);
          mini_error_set (err, EFBIG, "%s: response from %s is larger than %zu bytes", x->what,
                          host, x->max);
          return XFER_FAIL;
        }
      if (curl_retriable (x->kind, rc) && x->attempts + 1 < MAX_ATTEMPTS)
        {
          x->delay_ms = 500L << x->attempts;
          x->attempts++;
          return XFER_AGAIN;
        }
      xfer_curl_error (x, rc, err);
      return XFER_FAIL;
    }

  st = x->status;
  if (st == 0)
    curl_easy_getinfo (x->curl, CURLINFO_RESPONSE_CODE, &st);
  x->status = st;

  if (st == 301 || st == 302 || st == 303 || st == 307 || st == 308)
    {
      char *loc = NULL;
      cleanup_free char *host = url_hostport (x->url);

      curl_easy_getinfo (x->curl, CURLINFO_REDIRECT_URL, &loc);
      if (loc == NULL)
        {
          mini_error_set (err, EIO, "%s: %s answered HTTP %ld without Location", x->what, host,
                          st);
          return XFER_FAIL;
        }
      if (!is_http_url (loc))
        {
          mini_error_set (err, EIO, "%s: %s redirected to a non-HTTP URL", x->what, host);
          return XFER_FAIL;
        }
      if (++x->redirects > MAX_REDIRECTS)
        {
          mini_error_set (err, EIO, "%s: too many redirects (last from %s)", x->what, host);
          return XFER_FAIL;
        }
      free (x->url);
      x->url = xstrdup (loc);
      x->send_auth = x->ep != NULL && same_origin (x->ep->base, x->url);
      return XFER_AGAIN;
    }

  if (x->kind == XFER_PING)
    return XFER_DONE; /* the caller reads the status */

  if (st == 401 && x->ep && x->send_auth && !x->reauthed && x->www_authenticate)
    {
      /* No token yet for this scope, or it expired: get one, once. */
      x->reauthed = true;
      if (endpoint_auth (x->h, x->ep, x->www_authenticate, err) < 0)
        return XFER_FAIL;
      return XFER_AGAIN;
    }

  if (st / 100 == 2)
    return XFER_DONE;

  if ((st == 429 || st == 500 || st == 502 || st == 503 || st == 504)
      && x->attempts + 1 < MAX_ATTEMPTS)
    {
      x->delay_ms = 500L << x->attempts;
      x->attempts++;
      return XFER_AGAIN;
    }
  xfer_http_error (x, err);
  return XFER_FAIL;
}

/* Run X to completion on its own easy handle. */
static int
xfer_run (struct xfer *x, mini_error_t *err)
{
  for (;;)
    {
      CURLcode rc;

      if (xfer_prepare (x, err) < 0)
        return -1;
      rc = curl_easy_perform (x->curl);
      switch (xfer_after (x, rc, err))
        {
        case XFER_DONE:
          return 0;
        case XFER_FAIL:
          return -1;
        case XFER_AGAIN:
          if (x->delay_ms)
            sleep_ms (x->delay_ms);
          break;
        }
    }
}

/* ------------------------------------------------------------ endpoints */

int
pull_endpoint_init (struct pull_endpoint *ep, const char *base, bool mirror, mini_error_t *err)
{
  struct url_parts p;
  cleanup_free char *path = NULL;
  const char *dflt;

  memset (ep, 0, sizeof (*ep));
  if (!is_http_url (base) || !url_split (base, &p, &path))
    return mini_error_set (err, EINVAL, "invalid registry URL `%s`", base);
  if (strcmp (path, "") != 0 && strcmp (path, "/") != 0)
    {
      url_parts_clear (&p);
      return mini_error_set (err, EINVAL, "invalid registry URL `%s`: must not have a path",
                             base);
    }
  dflt = strcasecmp (p.scheme, "https") == 0 ? "443" : "80";
  if (strcmp (p.port, dflt) == 0)
    ep->name = xstrdup (p.host);
  else
    ep->name = xfmt ("%s:%s", p.host, p.port);
  ep->base = xfmt ("%s://%s", p.scheme, ep->name);
  ep->mirror = mirror;
  url_parts_clear (&p);
  return 0;
}

void
pull_endpoint_clear (struct pull_endpoint *ep)
{
  free (ep->base);
  free (ep->name);
  free (ep->token);
  memset (ep, 0, sizeof (*ep));
}

/* Distribution token authentication: GET realm?service=..&scope=..
   anonymously and keep "token" (or "access_token"). */
static int
endpoint_auth (struct pull_http *h, struct pull_endpoint *ep, const char *header,
               mini_error_t *err)
{
  struct pull_challenge *c = NULL;
  cleanup_xfer struct xfer *x = NULL;
  cleanup_free char *scope = NULL;
  cleanup_free char *esc_scope = NULL;
  cleanup_free char *esc_service = NULL;
  cleanup_free char *esc_extra = NULL;
  cleanup_free char *url = NULL;
  cleanup_free char *realm_host = NULL;
  json_auto_t *root = NULL;
  json_t *tok;
  const char *t;
  int ret;

  ret = pull_challenge_parse (header, &c, err);
  if (ret < 0)
    return mini_error_wrap (err, "registry %s", ep->name);
  if (strcmp (c->scheme, "bearer") != 0)
    {
      bool basic = strcmp (c->scheme, "basic") == 0;
      mini_error_set (err, EACCES, "registry %s: authentication required (%s scheme%s)",
                      ep->name, c->scheme, basic ? "; logging in is not supported yet" : "");
      pull_challenge_free (c);
      return -1;
    }
  if (!is_http_url (c->realm))
    {
      mini_error_set (err, EACCES, "registry %s: token realm `%s` is not an HTTP URL", ep->name,
                      c->realm);
      pull_challenge_free (c);
      return -1;
    }

  scope = xfmt ("repository:%s:pull", h->repo_path);
  esc_scope = url_escape (scope);
  if (c->service)
    esc_service = url_escape (c->service);
  if (c->scope && strcmp (c->scope, scope) != 0)
    esc_extra = url_escape (c->scope);
  url = xfmt ("%s%c%s%s%sscope=%s%s%s", c->realm, strchr (c->realm, '?') ? '&' : '?',
              esc_service ? "service=" : "", esc_service ? esc_service : "",
              esc_service ? "&" : "", esc_scope, esc_extra ? "&scope=" : "",
              esc_extra ? esc_extra : "");
  realm_host = url_hostport (c->realm);
  pull_challenge_free (c);

  /* The token request itself is anonymous: no endpoint, no Authorization. */
  ret = xfer_new (h, NULL, XFER_TOKEN, "token", url, "application/json", TOKEN_MAX, &x, err);
  if (ret < 0)
    return ret;
  ret = xfer_run (x, err);
  if (ret < 0)
    return mini_error_wrap (err, "registry %s", ep->name);

  root = json_loadb (x->body ? x->body : "", x->len, 0, NULL);
  tok = root ? json_object_get (root, "token") : NULL;
  if (!json_is_string (tok) || json_string_length (tok) == 0)
    tok = root ? json_object_get (root, "access_token") : NULL;
  if (!json_is_string (tok) || json_string_length (tok) == 0)
    return mini_error_set (err, EPROTO, "registry %s: token service %s sent no token", ep->name,
                           realm_host);
  t = json_string_value (tok);
  for (const char *q = t; *q; q++)
    if (!isascii ((unsigned char) *q) || !isgraph ((unsigned char) *q))
      return mini_error_set (err, EPROTO, "registry %s: token service %s sent an invalid token",
                             ep->name, realm_host);
  free (ep->token);
  ep->token = xstrdup (t);
  return 0;
}

int
pull_endpoint_ping (struct pull_http *h, struct pull_endpoint *ep, mini_error_t *err)
{
  cleanup_xfer struct xfer *x = NULL;
  cleanup_free char *url = NULL;
  cleanup_free char *what = NULL;
  int ret;

  if (ep->pinged)
    return 0;
  url = xfmt ("%s/v2/", ep->base);
  what = xfmt ("registry %s", ep->name);
  ret = xfer_new (h, NULL, XFER_PING, what, url, NULL, SMALL_MAX, &x, err);
  if (ret < 0)
    return ret;
  ret = xfer_run (x, err);
  if (ret < 0)
    return ret;
  if (x->status == 401)
    {
      if (x->www_authenticate == NULL)
        return mini_error_set (err, EACCES,
                               "registry %s: authentication required (no challenge sent)",
                               ep->name);
      struct pull_challenge *c = NULL;

      ret = pull_challenge_parse (x->www_authenticate, &c, err);
      if (ret < 0)
        return mini_error_wrap (err, "registry %s", ep->name);
      /* A Basic (or other) challenge on /v2/ alone is no failure yet:
         public repositories may still be readable anonymously.  A 401 on
         the repository itself then says "authentication required". */
      if (strcmp (c->scheme, "bearer") == 0)
        ret = endpoint_auth (h, ep, x->www_authenticate, err);
      pull_challenge_free (c);
      if (ret < 0)
        return ret;
    }
  /* Anything else (200, or a registry without /v2/): go on, the manifest
     request gives the real answer. */
  ep->pinged = true;
  return 0;
}

/* ------------------------------------------------------------ requests */

int
pull_http_init (struct pull_http *h, mini_error_t *err)
{
  CURLcode rc = curl_global_init (CURL_GLOBAL_DEFAULT);

  if (rc != CURLE_OK)
    return mini_error_set (err, EIO, "curl_global_init: %s", curl_easy_strerror (rc));
  h->share = curl_share_init ();
  if (h->share == NULL)
    {
      curl_global_cleanup ();
      return mini_error_set (err, ENOMEM, "curl_share_init failed");
    }
  curl_share_setopt (h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt (h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt (h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  return 0;
}

void
pull_http_fini (struct pull_http *h)
{
  if (h->share)
    {
      curl_share_cleanup (h->share);
      h->share = NULL;
      curl_global_cleanup ();
    }
}

void
pull_response_clear (struct pull_response *r)
{
  free (r->body);
  free (r->content_type);
  free (r->docker_digest);
  memset (r, 0, sizeof (*r));
}

int
pull_http_get_manifest (struct pull_http *h, struct pull_endpoint *ep, const char *reference,
                        const char *accept, const char *what, struct pull_response *ret,
                        mini_error_t *err)
{
  cleanup_xfer struct xfer *x = NULL;
  cleanup_free char *url = NULL;
  int r;

  r = pull_endpoint_ping (h, ep, err);
  if (r < 0)
    return r;
  url = xfmt ("%s/v2/%s/manifests/%s", ep->base, h->repo_path, reference);
  r = xfer_new (h, ep, XFER_MANIFEST, what, url, accept, MANIFEST_MAX, &x, err);
  if (r < 0)
    return r;
  r = xfer_run (x, err);
  if (r < 0)
    return r;
  memset (ret, 0, sizeof (*ret));
  ret->body = x->body ? steal_pointer (&x->body) : xstrdup ("");
  ret->len = x->len;
  ret->content_type = steal_pointer (&x->content_type);
  ret->docker_digest = steal_pointer (&x->docker_digest);
  return 0;
}

enum blob_state
{
  BLOB_QUEUED,
  BLOB_ACTIVE,
  BLOB_WAITING,
  BLOB_FINISHED,
};

int
pull_http_get_blobs (struct pull_http *h, struct pull_endpoint *ep, struct pull_blob *blobs,
                     size_t n, int parallel, mini_error_t *err)
{
  CURLM *multi = NULL;
  struct xfer **xs = NULL;
  enum blob_state *state = NULL;
  size_t i, remaining = 0;
  int active = 0, ret = 0;

  for (i = 0; i < n; i++)
    if (!blobs[i].done)
      remaining++;
  if (remaining == 0)
    return 0;
  ret = pull_endpoint_ping (h, ep, err);
  if (ret < 0)
    return ret;
  if (parallel < 1)
    parallel = 1;

  multi = curl_multi_init ();
  if (multi == NULL)
    return mini_error_set (err, ENOMEM, "curl_multi_init failed");
  xs = xmalloc0 (n * sizeof (*xs));
  state = xmalloc0 (n * sizeof (*state));
  for (i = 0; i < n; i++)
    state[i] = blobs[i].done ? BLOB_FINISHED : BLOB_QUEUED;

  while (remaining > 0)
    {
      int64_t now = monotonic_ms ();
      long wait_ms = 1000;
      int running = 0;
      CURLMsg *msg;
      int left;
      CURLMcode mc;

      /* Start (or restart) transfers up to PARALLEL. */
      for (i = 0; i < n && active < parallel; i++)
        {
          struct xfer *x = xs[i];

          if (state[i] == BLOB_QUEUED)
            {
              cleanup_free char *url = NULL;
              cleanup_free char *what = NULL;

              url = xfmt ("%s/v2/%s/blobs/%s", ep->base, h->repo_path, blobs[i].digest);
              what = xfmt ("blob %s", blobs[i].digest);
              ret = xfer_new (h, ep, XFER_BLOB, what, url, NULL, 0, &xs[i], err);
              if (ret < 0)
                goto out;
              x = xs[i];
              x->blob = &blobs[i];
              ret = store_ingest_begin (h->store, blobs[i].digest, blobs[i].size, &x->ingest,
                                        err);
              if (ret < 0)
                goto out;
              report_progress (x, true);
            }
          else if (state[i] == BLOB_WAITING)
            {
              if (x->wake_ms > now)
                {
                  if (x->wake_ms - now < wait_ms)
                    wait_ms = (long) (x->wake_ms - now);
                  continue;
                }
            }
          else
            continue;
          ret = xfer_prepare (x, err);
          if (ret < 0)
            goto out;
          mc = curl_multi_add_handle (multi, x->curl);
          if (mc != CURLM_OK)
            {
              ret = mini_error_set (err, EIO, "curl_multi_add_handle: %s",
                                    curl_multi_strerror (mc));
              goto out;
            }
          state[i] = BLOB_ACTIVE;
          active++;
        }

      mc = curl_multi_perform (multi, &running);
      if (mc != CURLM_OK)
        {
          ret = mini_error_set (err, EIO, "curl_multi_perform: %s", curl_multi_strerror (mc));
          goto out;
        }

      while ((msg = curl_multi_info_read (multi, &left)) != NULL)
        {
          struct xfer *x = NULL;
          CURLcode result;
          size_t k;

          if (msg->msg != CURLMSG_DONE)
            continue;
          /* MSG does not survive curl_multi_remove_handle. */
          result = msg->data.result;
          curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &x);
          k = x->blob - blobs;
          curl_multi_remove_handle (multi, x->curl);
          active--;
          state[k] = BLOB_WAITING;
          switch (xfer_after (x, result, err))
            {
            case XFER_FAIL:
              ret = -1;
              goto out;
            case XFER_AGAIN:
              x->wake_ms = monotonic_ms () + x->delay_ms;
              break;
            case XFER_DONE:
              ret = store_ingest_commit (steal_pointer (&x->ingest), err);
              if (ret < 0)
                goto out;
              blobs[k].done = true;
              if (h->progress && blobs[k].progress)
                h->progress (h->progress_data, "done", blobs[k].digest, blobs[k].size,
                             blobs[k].size);
              state[k] = BLOB_FINISHED;
              xfer_free (x);
              xs[k] = NULL;
              remaining--;
              break;
            }
        }

      if (remaining == 0)
        break;
      if (active > 0)
        {
          mc = curl_multi_poll (multi, NULL, 0, (int) wait_ms, NULL);
          if (mc != CURLM_OK)
            {
              ret = mini_error_set (err, EIO, "curl_multi_poll: %s", curl_multi_strerror (mc));
              goto out;
            }
        }
      else
        {
          /* Only delayed retries left. */
          now = monotonic_ms ();
          for (i = 0; i < n; i++)
            if (state[i] == BLOB_WAITING && xs[i]->wake_ms - now < wait_ms)
              wait_ms = xs[i]->wake_ms > now ? (long) (xs[i]->wake_ms - now) : 0;
          if (wait_ms > 0)
            sleep_ms (wait_ms);
        }
    }
  ret = 0;

out:
  for (i = 0; i < n; i++)
    if (xs[i])
      {
        if (state[i] == BLOB_ACTIVE)
          curl_multi_remove_handle (multi, xs[i]->curl);
        xfer_free (xs[i]); /* aborts a partial ingest */
      }
  free (xs);
  free (state);
  curl_multi_cleanup (multi);
  return ret;
}
