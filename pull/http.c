/* mini - pull: HTTP transport (distribution-spec "Pull", token auth spec).
 *
 * Every request is a struct xfer around a libcurl easy handle.  Redirects
 * are followed here, not by libcurl, so that the Authorization header is
 * built per hop and only sent to the endpoint's own origin (a blob GET on
 * Docker Hub is redirected to a CDN on another host).  Retries (5 attempts,
 * exponential backoff) cover network errors and 5xx; 429 waits as long as
 * Retry-After says, within a bound.  Blobs stream into store_ingest_*
 * under a stable partial name: a broken transfer goes on with a Range
 * request, in this run or the next.  Several blobs run at once on one multi
 * handle.  TLS: libcurl's CA bundle plus the CAs of certs.d-style
 * directories for the registry's host[:port] (used for its redirects and
 * token service too, as Docker's per-registry transport does).
 */
#include "pull/pull-private.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <jansson.h>

/* libcurl is dlopened on first use: every call goes through its table. */
#define C pull_curl

#define USER_AGENT "mini/0.1.0"
#define MAX_REDIRECTS 10
#define MAX_ATTEMPTS 5           /* Docker's: 5 tries per layer */
#define BACKOFF_FIRST_MS 500L
#define BACKOFF_MAX_MS 8000L
#define RETRY_AFTER_MAX_S 60     /* longer 429 waits fail at once */
#define PROGRESS_RESETS_ATTEMPTS ((int64_t) 256 << 10)
#define TOKEN_RENEW_MARGIN_MS 10000
#define TOKEN_DEFAULT_EXPIRY_S 60 /* token spec: when expires_in is absent */
#define MANIFEST_MAX ((size_t) 4 << 20) /* Docker's limit for manifests */
#define TOKEN_MAX ((size_t) 1 << 20)
#define SMALL_MAX ((size_t) 64 << 10) /* ping and error bodies */
#define PROGRESS_STEP ((int64_t) 256 << 10)
#define DEFAULT_CAFILE "/etc/ssl/certs/ca-certificates.crt"

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
  struct pull_endpoint *ep;     /* whose credentials may be sent; NULL: never */
  struct pull_endpoint *tls_ep; /* whose TLS settings apply; NULL: defaults */
  enum xfer_kind kind;
  bool head;  /* HEAD instead of GET */
  char *what; /* names the object in messages */
  CURL *curl;
  char *url; /* current URL (changes on redirects) */
  const char *accept;
  char *fixed_auth;        /* an Authorization value for FIXED_AUTH_ORIGIN only */
  char *fixed_auth_origin; /* (token requests with credentials, login) */
  struct curl_slist *headers;
  char errbuf[CURL_ERROR_SIZE];
  bool send_auth; /* URL is on EP's origin */
  int redirects;
  int attempts;
  bool reauthed;
  bool no_range;   /* the next attempt asks for the whole blob */
  long delay_ms;   /* before the next attempt */
  int64_t wake_ms; /* multi: not before this monotonic time */
  CURLcode last_rc;
  /* response of the current attempt */
  long status;
  char *content_type;
  char *docker_digest;
  char *www_authenticate;
  char *retry_after;
  char *content_range;
  char *body;
  size_t len, cap, max;
  bool too_large;
  bool body_started;
  /* blob sink */
  struct pull_blob *blob;
  struct store_ingest *ingest;
  mini_error_t sink_err;
  bool sink_discard; /* the partial file is bad: drop it */
  int64_t last_progress;
  int64_t attempt_start; /* ingest size when the attempt began */
  bool mismatch_retried;
};

struct pull_tls_entry
{
  char *key;       /* "epname|urlhost" */
  char *blob;      /* PEM: libcurl's bundle + the extra CAs; NULL: none extra */
  size_t len;
  char *cert_file; /* client certificate, or NULL */
  char *key_file;
  struct pull_tls_entry *next;
};

static int endpoint_auth (struct pull_http *h, struct pull_endpoint *ep, const char *challenge,
                          mini_error_t *err);
static int endpoint_token (struct pull_http *h, struct pull_endpoint *ep, const char *extra_scope,
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
  C->free (p->scheme);
  C->free (p->host);
  C->free (p->port);
  p->scheme = p->host = p->port = NULL;
}

/* Split URL; the port is filled in from the scheme when absent. */
static bool
url_split (const char *url, struct url_parts *ret, char **ret_path)
{
  CURLU *u = C->url ();
  bool ok = false;

  memset (ret, 0, sizeof (*ret));
  if (ret_path)
    *ret_path = NULL;
  if (u == NULL)
    return false;
  if (C->url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
      && C->url_get (u, CURLUPART_SCHEME, &ret->scheme, 0) == CURLUE_OK
      && C->url_get (u, CURLUPART_HOST, &ret->host, 0) == CURLUE_OK
      && C->url_get (u, CURLUPART_PORT, &ret->port, CURLU_DEFAULT_PORT) == CURLUE_OK)
    ok = true;
  if (ok && ret_path)
    {
      char *path = NULL, *query = NULL, *frag = NULL;
      C->url_get (u, CURLUPART_PATH, &path, 0);
      C->url_get (u, CURLUPART_QUERY, &query, 0);
      C->url_get (u, CURLUPART_FRAGMENT, &frag, 0);
      *ret_path = xfmt ("%s%s%s", path ? path : "", query ? "?" : "", frag ? "#" : "");
      C->free (path);
      C->free (query);
      C->free (frag);
    }
  if (!ok)
    url_parts_clear (ret);
  C->url_cleanup (u);
  return ok;
}

/* "host[:port]" of URL, the port only when not the scheme's default. */
static char *
url_hostport (const char *url)
{
  CURLU *u = C->url ();
  char *host = NULL, *port = NULL, *r;

  if (u && C->url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
      && C->url_get (u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
    {
      C->url_get (u, CURLUPART_PORT, &port, 0);
      r = port ? xfmt ("%s:%s", host, port) : xstrdup (host);
    }
  else
    r = xstrdup (url);
  C->free (host);
  C->free (port);
  C->url_cleanup (u);
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

/* ------------------------------------------------------------ TLS */

/* Append the *.crt files (and note a .cert + .key pair) of DIR/NAME. */
static void
tls_collect (const char *dir, const char *name, char **blob, size_t *len, char **cert,
             char **key)
{
  cleanup_free char *path = xfmt ("%s/%s", dir, name);
  cleanup_dir DIR *d = opendir (path);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    {
      size_t n = strlen (de->d_name);
      cleanup_free char *file = NULL;

      if (de->d_name[0] == '.')
        continue;
      file = xfmt ("%s/%s", path, de->d_name);
      if (n > 4 && strcmp (de->d_name + n - 4, ".crt") == 0)
        {
          cleanup_free char *buf = NULL;
          size_t blen = 0;
          mini_error_t e = NULL;

          if (read_file_at (AT_FDCWD, file, &buf, &blen, 4 << 20, &e) < 0)
            {
              mini_error_release (&e);
              continue;
            }
          *blob = xrealloc (*blob, *len + blen + 2);
          memcpy (*blob + *len, buf, blen);
          *len += blen;
          (*blob)[(*len)++] = '\n';
          (*blob)[*len] = '\0';
        }
      else if (n > 5 && strcmp (de->d_name + n - 5, ".cert") == 0 && *cert == NULL)
        {
          cleanup_free char *k = xfmt ("%s/%.*s.key", path, (int) (n - 5), de->d_name);
          if (access (k, R_OK) == 0)
            {
              *cert = steal_pointer (&file);
              *key = steal_pointer (&k);
            }
        }
    }
}

/* The TLS material for a request to URLHOST made for endpoint EPNAME (NULL
   when none): CAs and client certificate of both from H->certs_dirs. */
static struct pull_tls_entry *
tls_lookup (struct pull_http *h, const char *epname, const char *urlhost)
{
  cleanup_free char *key = xfmt ("%s|%s", epname ? epname : "", urlhost);
  struct pull_tls_entry *t;
  char *extra = NULL;
  size_t extra_len = 0;

  for (t = h->tls; t; t = t->next)
    if (strcmp (t->key, key) == 0)
      return t;
  t = xmalloc0 (sizeof (*t));
  for (char *const *d = h->certs_dirs; d && *d; d++)
    {
      if (epname)
        tls_collect (*d, epname, &extra, &extra_len, &t->cert_file, &t->key_file);
      if (epname == NULL || strcmp (epname, urlhost) != 0)
        tls_collect (*d, urlhost, &extra, &extra_len, &t->cert_file, &t->key_file);
    }
  if (extra)
    {
      /* A CA blob replaces libcurl's bundle: put the bundle in too. */
      cleanup_free char *sys = NULL;
      size_t sys_len = 0;
      mini_error_t e = NULL;

      if (read_file_at (AT_FDCWD, h->default_cafile ? h->default_cafile : DEFAULT_CAFILE, &sys,
                        &sys_len, 64 << 20, &e)
          < 0)
        mini_error_release (&e);
      t->blob = xmalloc (sys_len + extra_len + 2);
      if (sys)
        memcpy (t->blob, sys, sys_len);
      t->blob[sys_len] = '\n';
      memcpy (t->blob + sys_len + 1, extra, extra_len);
      t->len = sys_len + 1 + extra_len;
      t->blob[t->len] = '\0';
      free (extra);
    }
  t->key = steal_pointer (&key);
  t->next = h->tls;
  h->tls = t;
  return t;
}

static void
xfer_tls (struct xfer *x)
{
  struct pull_endpoint *ep = x->tls_ep;
  cleanup_free char *urlhost = url_hostport (x->url);
  struct pull_tls_entry *t;
  bool verify = ep ? ep->tls_verify : true;

  C->easy_setopt (x->curl, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
  C->easy_setopt (x->curl, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
  if (strncasecmp (x->url, "https://", 8) != 0)
    return;
  t = tls_lookup (x->h, ep ? ep->name : NULL, urlhost);
  if (t->blob)
    {
      struct curl_blob b = { t->blob, t->len, CURL_BLOB_NOCOPY };
      C->easy_setopt (x->curl, CURLOPT_CAINFO_BLOB, &b);
    }
  else
    C->easy_setopt (x->curl, CURLOPT_CAINFO_BLOB, NULL);
  C->easy_setopt (x->curl, CURLOPT_SSLCERT, t->cert_file);
  C->easy_setopt (x->curl, CURLOPT_SSLKEY, t->key_file);
}

/* Where the user puts a CA for NAME, for messages. */
static char *
tls_hint (struct pull_http *h, const char *name)
{
  char *const *d = h->certs_dirs;

  if (d == NULL || d[0] == NULL)
    return xfmt ("no certificate directory is configured (--certs-dir DIR, with "
                 "DIR/%s/ca.crt), or add %s to insecure-registries",
                 name, name);
  if (d[1] == NULL)
    return xfmt ("to trust its CA, put the CA certificate in %s/%s/ca.crt, or add %s to "
                 "insecure-registries",
                 d[0], name, name);
  return xfmt ("to trust its CA, put the CA certificate in %s/%s/ca.crt (or %s/%s/*.crt), or "
               "add %s to insecure-registries",
               d[0], name, d[1], name, name);
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
  free (x->retry_after);
  free (x->content_range);
  x->content_type = x->docker_digest = x->www_authenticate = NULL;
  x->retry_after = x->content_range = NULL;
  x->len = 0;
  x->too_large = false;
  x->body_started = false;
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
#define KEEP(field)                                                                           \
  do                                                                                          \
    if (x->field == NULL)                                                                     \
      x->field = header_value (colon + 1, total - name_len - 1);                              \
  while (0)
  if (HEADER_IS ("content-type") && x->content_type == NULL)
    {
      char *v = header_value (colon + 1, total - name_len - 1);
      v[strcspn (v, "; \t")] = '\0';
      for (char *c = v; *c; c++)
        *c = tolower ((unsigned char) *c);
      x->content_type = v;
    }
  else if (HEADER_IS ("docker-content-digest"))
    KEEP (docker_digest);
  else if (HEADER_IS ("www-authenticate"))
    KEEP (www_authenticate);
  else if (HEADER_IS ("retry-after"))
    KEEP (retry_after);
  else if (HEADER_IS ("content-range"))
    KEEP (content_range);
#undef KEEP
#undef HEADER_IS
  return total;
}

static void
emit (struct pull_http *h, const char *event, const char *digest, int64_t done, int64_t total)
{
  if (h->progress)
    h->progress (h->progress_data, event, digest, done, total);
}

/* Progress events go out for layers (blob->progress) only. */
static void
blob_event (struct xfer *x, const char *event, int64_t done, int64_t total)
{
  if (x->blob && x->blob->progress)
    emit (x->h, event, x->blob->digest, done, total);
}

static void
report_progress (struct xfer *x, bool force)
{
  int64_t done;

  if (x->ingest == NULL)
    return;
  done = store_ingest_size (x->ingest);
  if (!force && done - x->last_progress < PROGRESS_STEP)
    return;
  x->last_progress = done;
  blob_event (x, "downloading", done, x->blob ? x->blob->size : -1);
}

/* "bytes START-END/TOTAL": START, or -1. */
static int64_t
content_range_start (const char *v)
{
  char *end = NULL;
  long long start;

  if (v == NULL || strncasecmp (v, "bytes ", 6) != 0)
    return -1;
  v += 6;
  while (*v == ' ')
    v++;
  if (!isdigit ((unsigned char) *v))
    return -1;
  start = strtoll (v, &end, 10);
  return end && *end == '-' ? (int64_t) start : -1;
}

/* The first body bytes of a blob answer: check that they continue what we
   have (206 from the right offset), or start over (200). */
static bool
blob_body_starts (struct xfer *x)
{
  int64_t have = store_ingest_size (x->ingest);

  x->body_started = true;
  if (have == 0)
    return x->status == 200 || content_range_start (x->content_range) == 0;
  if (x->status == 206 && content_range_start (x->content_range) == have)
    return true;
  if (x->status == 200)
    {
      /* The server ignored Range: the whole blob follows. */
      if (store_ingest_reset (x->ingest, &x->sink_err) < 0)
        return false;
      x->last_progress = 0;
      blob_event (x, "restarting", 0, x->blob ? x->blob->size : -1);
      return true;
    }
  /* A range we did not ask for: drop it, ask for everything next time. */
  x->no_range = true;
  return false;
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
      if (!x->body_started && !blob_body_starts (x))
        return 0;
      if (store_ingest_write (x->ingest, ptr, total, &x->sink_err) < 0)
        {
          /* More bytes than the descriptor's size: wrong content. */
          if (mini_error_errno (x->sink_err) == EFBIG)
            x->sink_discard = true;
          return 0;
        }
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
    C->easy_cleanup (x->curl);
  C->slist_free_all (x->headers);
  /* Keep what arrived for the next run, unless it is known to be wrong. */
  if (x->sink_discard)
    store_ingest_abort (x->ingest);
  else
    store_ingest_suspend (x->ingest);
  mini_error_release (&x->sink_err);
  response_reset (x);
  free (x->body);
  free (x->url);
  free (x->what);
  free (x->fixed_auth);
  free (x->fixed_auth_origin);
  free (x);
}

static void
cleanup_xferp (struct xfer **x)
{
  xfer_free (*x);
  *x = NULL;
}
#define cleanup_xfer __attribute__ ((cleanup (cleanup_xferp)))

/* A new request for URL.  EP (may be NULL) is the endpoint whose
   credentials may go to its own origin; TLS_EP (may be NULL) the one whose
   certificates and verification setting apply. */
static int
xfer_new (struct pull_http *h, struct pull_endpoint *ep, struct pull_endpoint *tls_ep,
          enum xfer_kind kind, const char *what, const char *url, const char *accept,
          size_t max, struct xfer **ret, mini_error_t *err)
{
  struct xfer *x = xmalloc0 (sizeof (*x));
  CURL *c;

  x->h = h;
  x->ep = ep;
  x->tls_ep = tls_ep;
  x->kind = kind;
  x->what = xstrdup (what);
  x->url = xstrdup (url);
  x->accept = accept;
  x->max = max;
  x->send_auth = ep != NULL && same_origin (ep->base, url);
  x->curl = c = C->easy_init ();
  if (c == NULL)
    {
      xfer_free (x);
      return mini_error_set (err, ENOMEM, "curl_easy_init failed");
    }
  C->easy_setopt (c, CURLOPT_PRIVATE, x);
  C->easy_setopt (c, CURLOPT_SHARE, h->share);
  C->easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  C->easy_setopt (c, CURLOPT_USERAGENT, USER_AGENT);
  C->easy_setopt (c, CURLOPT_HTTPGET, 1L);
  C->easy_setopt (c, CURLOPT_FOLLOWLOCATION, 0L); /* redirects: xfer_after */
  C->easy_setopt (c, CURLOPT_UNRESTRICTED_AUTH, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  C->easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  C->easy_setopt (c, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  C->easy_setopt (c, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A stalled transfer (< 1 byte/s for 60 s) fails and is retried. */
  C->easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  C->easy_setopt (c, CURLOPT_LOW_SPEED_TIME, 60L);
  if (kind != XFER_BLOB)
    C->easy_setopt (c, CURLOPT_TIMEOUT, 300L);
  C->easy_setopt (c, CURLOPT_TCP_KEEPALIVE, 1L);
  C->easy_setopt (c, CURLOPT_ERRORBUFFER, x->errbuf);
  C->easy_setopt (c, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
  C->easy_setopt (c, CURLOPT_HEADERFUNCTION, header_cb);
  C->easy_setopt (c, CURLOPT_HEADERDATA, x);
  C->easy_setopt (c, CURLOPT_WRITEFUNCTION, write_cb);
  C->easy_setopt (c, CURLOPT_WRITEDATA, x);
  *ret = x;
  return 0;
}

static int64_t
backoff_ms (int attempts)
{
  int64_t d = BACKOFF_FIRST_MS << (attempts < 8 ? attempts : 8);
  return d > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d;
}

/* Set up the handle for the next attempt (or hop). */
static int
xfer_prepare (struct xfer *x, mini_error_t *err)
{
  struct pull_endpoint *ep = x->ep;

  C->slist_free_all (x->headers);
  x->headers = NULL;
  if (x->accept)
    {
      cleanup_free char *a = xfmt ("Accept: %s", x->accept);
      x->headers = C->slist_append (x->headers, a);
    }
  /* Only ever to the registry's own origin: never to a redirect target on
     another host, never to the token realm. */
  if (x->send_auth && ep && ep->scheme == PULL_AUTH_BEARER && ep->token
      && ep->token_expiry_ms > 0 && monotonic_ms () > ep->token_expiry_ms && ep->realm)
    {
      /* About to expire: renew it before it is refused. */
      if (endpoint_token (x->h, ep, NULL, err) < 0)
        return -1;
    }
  if (x->send_auth && ep && ep->scheme == PULL_AUTH_BEARER && ep->token)
    {
      cleanup_free char *a = xfmt ("Authorization: Bearer %s", ep->token);
      x->headers = C->slist_append (x->headers, a);
    }
  else if (x->send_auth && ep && ep->scheme == PULL_AUTH_BASIC && ep->user)
    {
      cleanup_free char *pair = xfmt ("%s:%s", ep->user, ep->secret ? ep->secret : "");
      cleanup_free char *b64 = pull_base64_encode (pair, strlen (pair));
      cleanup_free char *a = xfmt ("Authorization: Basic %s", b64);
      x->headers = C->slist_append (x->headers, a);
    }
  else if (x->fixed_auth && same_origin (x->fixed_auth_origin, x->url))
    {
      cleanup_free char *a = xfmt ("Authorization: %s", x->fixed_auth);
      x->headers = C->slist_append (x->headers, a);
    }
  if (x->ingest && store_ingest_size (x->ingest) > 0)
    {
      if (x->no_range)
        {
          if (store_ingest_reset (x->ingest, err) < 0)
            return -1;
          x->last_progress = 0;
        }
      else
        {
          cleanup_free char *r = xfmt ("Range: bytes=%lld-",
                                       (long long) store_ingest_size (x->ingest));
          x->headers = C->slist_append (x->headers, r);
        }
    }
  x->no_range = false;
  x->attempt_start = x->ingest ? store_ingest_size (x->ingest) : 0;
  C->easy_setopt (x->curl, CURLOPT_URL, x->url);
  C->easy_setopt (x->curl, CURLOPT_HTTPHEADER, x->headers);
  C->easy_setopt (x->curl, CURLOPT_NOBODY, x->head ? 1L : 0L);
  if (!x->head)
    C->easy_setopt (x->curl, CURLOPT_HTTPGET, 1L);
  xfer_tls (x);
  x->errbuf[0] = '\0';
  x->delay_ms = 0;
  response_reset (x);
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
      return kind != XFER_PING;
    case CURLE_COULDNT_CONNECT:
      /* The registry answered the ping: a refused blob connection is a
         hiccup.  Elsewhere fail fast (the next mirror is waiting). */
      return kind == XFER_BLOB;
    default:
      return false;
    }
}

static bool
tls_verify_error (CURLcode rc)
{
  return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE
         || rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_ISSUER_ERROR;
}

static int
xfer_curl_error (struct xfer *x, CURLcode rc, mini_error_t *err)
{
  cleanup_free char *host = url_hostport (x->url);
  const char *why = x->errbuf[0] ? x->errbuf : C->easy_strerror (rc);
  int status;

  if (tls_verify_error (rc))
    {
      cleanup_free char *hint = tls_hint (x->h, x->tls_ep ? x->tls_ep->name : host);
      /* Status 0: the message says it all (no strerror suffix). */
      return mini_error_set (err, 0, "cannot verify the TLS certificate of %s (%s): %s", host,
                             why, hint);
    }
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
      status = EHOSTUNREACH;
      break;
    default:
      status = EIO;
      break;
    }
  if (x->kind == XFER_BLOB && (x->status / 100 == 2))
    return mini_error_set (err, status, "%s: download from %s failed after %d attempts: %s",
                           x->what, host, x->attempts + 1, why);
  if (x->kind == XFER_TOKEN)
    return mini_error_set (err, status, "cannot reach token service %s: %s", host, why);
  if (x->kind == XFER_BLOB)
    return mini_error_set (err, status, "%s: cannot reach %s: %s", x->what, host, why);
  return mini_error_set (err, status, "cannot reach registry %s: %s; check the address or "
                                      "--registry-mirror",
                         host, why);
}

/* The "details" of a token service's error ({"details": ...}), or NULL. */
static char *
token_error_details (const char *body, size_t len)
{
  json_auto_t *root = body && len ? json_loadb (body, len, 0, NULL) : NULL;
  json_t *d = root ? json_object_get (root, "details") : NULL;

  if (!json_is_string (d))
    d = root ? json_object_get (root, "error_description") : NULL;
  if (!json_is_string (d))
    d = root ? json_object_get (root, "error") : NULL;
  return json_is_string (d) ? xstrdup (json_string_value (d)) : NULL;
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
                               "require 'mini login %s': %s returned HTTP %ld%s",
                               x->what, x->ep ? x->ep->registry : registry, host, st, detail);
      break;
    case XFER_BLOB:
      if (st == 404 || (code && strcmp (code, "BLOB_UNKNOWN") == 0))
        return mini_error_set (err, ENOENT, "%s: not found in %s", x->what, host);
      if (st == 401 || st == 403)
        return mini_error_set (err, EACCES, "%s: access denied: %s returned HTTP %ld%s",
                               x->what, host, st, detail);
      break;
    case XFER_TOKEN:
      {
        cleanup_free char *d = token_error_details (x->body, x->len);
        return mini_error_set (err, st == 401 || st == 403 ? EACCES : EIO,
                               "token service %s answered HTTP %ld%s%s", host, st,
                               d ? ": " : "", d ? d : "");
      }
    case XFER_PING:
      break;
    }
  if (st == 429)
    return mini_error_set (err, EAGAIN, "%s: too many requests: %s returned HTTP 429%s", x->what,
                           host, detail);
  return mini_error_set (err, EIO, "%s: %s returned HTTP %ld%s", x->what, host, st, detail);
}

/* Seconds of a Retry-After value (delay-seconds or HTTP-date), -1 if none. */
static int64_t
retry_after_seconds (const char *v)
{
  char *end = NULL;
  long long n;
  struct tm tm;

  if (v == NULL || *v == '\0')
    return -1;
  if (isdigit ((unsigned char) *v))
    {
      n = strtoll (v, &end, 10);
      return end && *end == '\0' && n >= 0 ? (int64_t) n : -1;
    }
  memset (&tm, 0, sizeof (tm));
  end = strptime (v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == NULL)
    return -1;
  n = (long long) timegm (&tm) - (long long) time (NULL);
  return n < 0 ? 0 : (int64_t) n;
}

/* Plan another attempt after DELAY ms; false when none is left. */
static bool
xfer_retry (struct xfer *x, int64_t delay, const char *event)
{
  /* A transfer that moved on before it broke is not failing: count anew. */
  if (x->ingest && store_ingest_size (x->ingest) - x->attempt_start >= PROGRESS_RESETS_ATTEMPTS)
    x->attempts = 0;
  if (x->attempts + 1 >= MAX_ATTEMPTS)
    return false;
  x->attempts++;
  x->delay_ms = (long) delay;
  if (event == NULL)
    return true;
  if (strcmp (event, "waiting") == 0)
    {
      if (x->blob)
        blob_event (x, event, delay, -1);
      else
        emit (x->h, event, NULL, delay, -1);
    }
  else if (x->blob)
    blob_event (x, event, x->attempts, MAX_ATTEMPTS);
  else
    emit (x->h, event, NULL, x->attempts, MAX_ATTEMPTS);
  return true;
}

/* Decide what follows a finished attempt. */
static enum xfer_next
xfer_after (struct xfer *x, CURLcode rc, mini_error_t *err)
{
  long st;

  x->last_rc = rc;
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
      if (rc == CURLE_WRITE_ERROR && x->no_range)
        {
          /* blob_body_starts refused an unexpected range: ask for all. */
          if (xfer_retry (x, 0, NULL))
            return XFER_AGAIN;
        }
      else if (curl_retriable (x->kind, rc) && xfer_retry (x, backoff_ms (x->attempts), "retrying"))
        return XFER_AGAIN;
      xfer_curl_error (x, rc, err);
      return XFER_FAIL;
    }

  st = x->status;
  if (st == 0)
    C->easy_getinfo (x->curl, CURLINFO_RESPONSE_CODE, &st);
  x->status = st;

  if (st == 301 || st == 302 || st == 303 || st == 307 || st == 308)
    {
      char *loc = NULL;
      cleanup_free char *host = url_hostport (x->url);

      C->easy_getinfo (x->curl, CURLINFO_REDIRECT_URL, &loc);
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

  if (st == 416 && x->ingest && store_ingest_size (x->ingest) > 0)
    {
      /* Our partial file is not a prefix the server knows: start over. */
      x->no_range = true;
      if (xfer_retry (x, 0, NULL))
        return XFER_AGAIN;
    }

  if (st / 100 == 2)
    return XFER_DONE;

  if (st == 429)
    {
      int64_t secs = retry_after_seconds (x->retry_after);
      cleanup_free char *host = url_hostport (x->url);

      if (secs > RETRY_AFTER_MAX_S)
        {
          cleanup_free char *summary = registry_error_summary (x->body, x->len, NULL);
          mini_error_set (err, EAGAIN,
                          "%s: too many requests: %s asks to wait %lld seconds (Retry-After), "
                          "longer than mini waits (%d s); try again later%s%s",
                          x->what, host, (long long) secs, RETRY_AFTER_MAX_S,
                          summary ? ": " : "", summary ? summary : "");
          return XFER_FAIL;
        }
      if (xfer_retry (x, secs >= 0 ? secs * 1000 : backoff_ms (x->attempts), "waiting"))
        return XFER_AGAIN;
    }
  else if ((st == 500 || st == 502 || st == 503 || st == 504)
           && xfer_retry (x, backoff_ms (x->attempts), "retrying"))
    return XFER_AGAIN;
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
      rc = C->easy_perform (x->curl);
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
  if (pull_curl_load (err) < 0) /* url_split parses with libcurl */
    return -1;
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
  ep->registry = pull_registry_normalize (ep->name, NULL);
  if (ep->registry == NULL)
    ep->registry = xstrdup (ep->name);
  ep->mirror = mirror;
  ep->tls_verify = true;
  url_parts_clear (&p);
  return 0;
}

void
pull_endpoint_clear (struct pull_endpoint *ep)
{
  free (ep->base);
  free (ep->name);
  free (ep->registry);
  free (ep->token);
  free (ep->realm);
  free (ep->service);
  free (ep->user);
  free (ep->secret);
  memset (ep, 0, sizeof (*ep));
}

static int
endpoint_load_creds (struct pull_http *h, struct pull_endpoint *ep, mini_error_t *err)
{
  if (ep->creds_loaded)
    return 0;
  if (pull_auth_lookup (h->auth_file, ep->registry, &ep->user, &ep->secret, err) < 0)
    return -1;
  ep->creds_loaded = true;
  return 0;
}

/* Distribution token authentication: GET realm?service=..&scope=..
   (&account=.. with Basic credentials when EP has some) and keep "token"
   (or "access_token") and its lifetime. */
static int
endpoint_token (struct pull_http *h, struct pull_endpoint *ep, const char *extra_scope,
                mini_error_t *err)
{
  cleanup_xfer struct xfer *x = NULL;
  cleanup_free char *scope = NULL;
  cleanup_free char *esc_scope = NULL;
  cleanup_free char *esc_service = NULL;
  cleanup_free char *esc_extra = NULL;
  cleanup_free char *esc_account = NULL;
  cleanup_free char *url = NULL;
  cleanup_free char *realm_host = NULL;
  cleanup_free char *params = NULL;
  json_auto_t *root = NULL;
  json_t *tok, *exp;
  const char *t;
  int ret;

  if (ep->realm == NULL)
    return mini_error_set (err, EACCES, "registry %s: no token realm known", ep->name);
  if (h->repo_path)
    {
      scope = xfmt ("repository:%s:pull", h->repo_path);
      esc_scope = url_escape (scope);
    }
  if (ep->service)
    esc_service = url_escape (ep->service);
  if (extra_scope && (scope == NULL || strcmp (extra_scope, scope) != 0))
    esc_extra = url_escape (extra_scope);
  if (ep->user)
    esc_account = url_escape (ep->user);
  params = xfmt ("%s%s%s%s%s%s%s%s", esc_service ? "&service=" : "", esc_service ? esc_service : "",
                 esc_scope ? "&scope=" : "", esc_scope ? esc_scope : "",
                 esc_extra ? "&scope=" : "", esc_extra ? esc_extra : "",
                 esc_account ? "&account=" : "", esc_account ? esc_account : "");
  url = xfmt ("%s%c%s", ep->realm, strchr (ep->realm, '?') ? '&' : '?',
              params[0] ? params + 1 : "");
  realm_host = url_hostport (ep->realm);

  /* The token request goes to another origin: never the registry's token,
     only the user's own credentials, and only to the realm's origin. */
  ret = xfer_new (h, NULL, ep, XFER_TOKEN, "token", url, "application/json", TOKEN_MAX, &x, err);
  if (ret < 0)
    return ret;
  if (ep->user)
    {
      cleanup_free char *pair = xfmt ("%s:%s", ep->user, ep->secret ? ep->secret : "");
      cleanup_free char *b64 = pull_base64_encode (pair, strlen (pair));
      x->fixed_auth = xfmt ("Basic %s", b64);
      x->fixed_auth_origin = xstrdup (ep->realm);
    }
  ret = xfer_run (x, err);
  if (ret < 0)
    {
      if (ep->user && mini_error_errno (*err) == EACCES)
        {
          cleanup_free char *d = token_error_details (x->body, x->len);
          mini_error_release (err);
          return mini_error_set (err, EACCES,
                                 "registry %s: the token service %s refused the credentials of "
                                 "`%s`: %s",
                                 ep->registry, realm_host, ep->user,
                                 d ? d : "unauthorized: incorrect username or password");
        }
      return mini_error_wrap (err, "registry %s", ep->name);
    }

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
  ep->scheme = PULL_AUTH_BEARER;
  exp = root ? json_object_get (root, "expires_in") : NULL;
  {
    int64_t secs = json_is_integer (exp) && json_integer_value (exp) > 0
                       ? (int64_t) json_integer_value (exp)
                       : TOKEN_DEFAULT_EXPIRY_S;
    int64_t life = secs * 1000 - TOKEN_RENEW_MARGIN_MS;
    ep->token_expiry_ms = monotonic_ms () + (life > 1000 ? life : 1000);
  }
  return 0;
}

/* Answer the challenge HEADER of EP (a 401). */
static int
endpoint_auth (struct pull_http *h, struct pull_endpoint *ep, const char *header,
               mini_error_t *err)
{
  struct pull_challenge *c = NULL;
  int ret;

  ret = pull_challenge_parse (header, &c, err);
  if (ret < 0)
    return mini_error_wrap (err, "registry %s", ep->name);
  if (strcmp (c->scheme, "basic") == 0)
    {
      pull_challenge_free (c);
      if (endpoint_load_creds (h, ep, err) < 0)
        return -1;
      if (ep->user == NULL)
        return mini_error_set (err, EACCES,
                               "registry %s requires a login (Basic authentication): run "
                               "`mini login %s`",
                               ep->name, ep->registry);
      if (ep->scheme == PULL_AUTH_BASIC)
        return mini_error_set (err, EACCES,
                               "registry %s: unauthorized: incorrect username or password "
                               "(user `%s`)",
                               ep->name, ep->user);
      ep->scheme = PULL_AUTH_BASIC;
      return 0;
    }
  if (strcmp (c->scheme, "bearer") != 0)
    {
      mini_error_set (err, EACCES, "registry %s: unsupported authentication scheme `%s`",
                      ep->name, c->scheme);
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
  free (ep->realm);
  free (ep->service);
  ep->realm = xstrdup (c->realm);
  ep->service = c->service ? xstrdup (c->service) : NULL;
  ret = endpoint_load_creds (h, ep, err);
  if (ret == 0)
    ret = endpoint_token (h, ep, c->scope, err);
  pull_challenge_free (c);
  return ret;
}

/* GET /v2/ on EP; switches EP to http:// when allowed and the TLS
   handshake fails (the server speaks plain HTTP).  *RET gets the finished
   request. */
static int
ping_run (struct pull_http *h, struct pull_endpoint *ep, struct xfer **ret, mini_error_t *err)
{
  for (;;)
    {
      cleanup_xfer struct xfer *x = NULL;
      cleanup_free char *url = xfmt ("%s/v2/", ep->base);
      cleanup_free char *what = xfmt ("registry %s", ep->name);
      int r;

      r = xfer_new (h, NULL, ep, XFER_PING, what, url, NULL, SMALL_MAX, &x, err);
      if (r < 0)
        return r;
      r = xfer_run (x, err);
      if (r < 0 && x->last_rc == CURLE_SSL_CONNECT_ERROR && ep->http_fallback
          && strncmp (ep->base, "https://", 8) == 0)
        {
          /* Docker's rule for insecure (and loopback) registries: HTTPS
             first, then plain HTTP. */
          mini_error_release (err);
          free (ep->base);
          ep->base = xfmt ("http://%s", ep->name);
          continue;
        }
      if (r < 0)
        return r;
      *ret = steal_pointer (&x);
      return 0;
    }
}

int
pull_endpoint_ping (struct pull_http *h, struct pull_endpoint *ep, mini_error_t *err)
{
  cleanup_xfer struct xfer *x = NULL;
  int ret;

  if (ep->pinged)
    return 0;
  ret = ping_run (h, ep, &x, err);
  if (ret < 0)
    return ret;
  if (x->status == 401)
    {
      struct pull_challenge *c = NULL;

      if (x->www_authenticate == NULL)
        return mini_error_set (err, EACCES,
                               "registry %s: authentication required (no challenge sent)",
                               ep->name);
      ret = pull_challenge_parse (x->www_authenticate, &c, err);
      if (ret < 0)
        return mini_error_wrap (err, "registry %s", ep->name);
      if (strcmp (c->scheme, "bearer") == 0)
        ret = endpoint_auth (h, ep, x->www_authenticate, err);
      else if (strcmp (c->scheme, "basic") == 0)
        {
          /* Send credentials from the start when there are some; without,
             public repositories may still be readable anonymously and the
             repository's own 401 tells. */
          ret = endpoint_load_creds (h, ep, err);
          if (ret == 0 && ep->user)
            ep->scheme = PULL_AUTH_BASIC;
        }
      pull_challenge_free (c);
      if (ret < 0)
        return ret;
    }
  /* Anything else (200, or a registry without /v2/): go on, the manifest
     request gives the real answer. */
  ep->pinged = true;
  return 0;
}

int
pull_http_login (struct pull_http *h, struct pull_endpoint *ep, mini_error_t *err)
{
  cleanup_xfer struct xfer *x = NULL;
  struct pull_challenge *c = NULL;
  int ret;

  ep->creds_loaded = true;
  ret = ping_run (h, ep, &x, err);
  if (ret < 0)
    return ret;
  if (x->status / 100 == 2)
    return 0; /* nothing to log in to: Docker says "Login Succeeded" too */
  if (x->status != 401 || x->www_authenticate == NULL)
    return mini_error_set (err, EIO, "registry %s: GET /v2/ answered HTTP %ld", ep->name,
                           x->status);
  ret = pull_challenge_parse (x->www_authenticate, &c, err);
  if (ret < 0)
    return mini_error_wrap (err, "registry %s", ep->name);
  if (strcmp (c->scheme, "basic") == 0)
    {
      cleanup_xfer struct xfer *y = NULL;
      cleanup_free char *url = xfmt ("%s/v2/", ep->base);
      cleanup_free char *what = xfmt ("registry %s", ep->name);

      pull_challenge_free (c);
      ep->scheme = PULL_AUTH_BASIC;
      ret = xfer_new (h, ep, ep, XFER_PING, what, url, NULL, SMALL_MAX, &y, err);
      if (ret == 0)
        ret = xfer_run (y, err);
      if (ret < 0)
        return ret;
      if (y->status / 100 == 2)
        return 0;
      if (y->status == 401 || y->status == 403)
        return mini_error_set (err, EACCES, "unauthorized: incorrect username or password");
      return mini_error_set (err, EIO, "registry %s: GET /v2/ with credentials answered HTTP %ld",
                             ep->name, y->status);
    }
  if (strcmp (c->scheme, "bearer") != 0)
    {
      mini_error_set (err, EACCES, "registry %s: unsupported authentication scheme `%s`",
                      ep->name, c->scheme);
      pull_challenge_free (c);
      return -1;
    }
  free (ep->realm);
  free (ep->service);
  ep->realm = xstrdup (c->realm);
  ep->service = c->service ? xstrdup (c->service) : NULL;
  pull_challenge_free (c);
  ret = endpoint_token (h, ep, NULL, err);
  if (ret < 0 && mini_error_errno (*err) == EACCES)
    {
      /* Say it the way docker login does. */
      cleanup_free char *msg = xstrdup ((*err)->msg);
      char *colon = strstr (msg, "`: ");
      mini_error_release (err);
      return mini_error_set (err, EACCES, "%s", colon ? colon + 3 : msg);
    }
  return ret;
}

/* ------------------------------------------------------------ requests */

int
pull_http_init (struct pull_http *h, mini_error_t *err)
{
  CURLcode rc;
  CURL *probe;

  if (pull_curl_load (err) < 0)
    return -1;
  rc = C->global_init (CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    return mini_error_set (err, EIO, "curl_global_init: %s", C->easy_strerror (rc));
  h->share = C->share_init ();
  if (h->share == NULL)
    {
      C->global_cleanup ();
      return mini_error_set (err, ENOMEM, "curl_share_init failed");
    }
  C->share_setopt (h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  C->share_setopt (h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  C->share_setopt (h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  /* libcurl's own CA bundle, to keep trusting it beside extra CAs. */
  probe = C->easy_init ();
  if (probe)
    {
      char *cainfo = NULL;
#if LIBCURL_VERSION_NUM >= 0x075400
      C->easy_getinfo (probe, CURLINFO_CAINFO, &cainfo);
#endif
      if (cainfo == NULL)
        {
          curl_version_info_data *v = C->version_info (CURLVERSION_NOW);
          cainfo = v ? (char *) v->cainfo : NULL;
        }
      h->default_cafile = xstrdup (cainfo ? cainfo : DEFAULT_CAFILE);
      C->easy_cleanup (probe);
    }
  return 0;
}

void
pull_http_fini (struct pull_http *h)
{
  while (h->tls)
    {
      struct pull_tls_entry *t = h->tls;
      h->tls = t->next;
      free (t->key);
      free (t->blob);
      free (t->cert_file);
      free (t->key_file);
      free (t);
    }
  free (h->default_cafile);
  h->default_cafile = NULL;
  if (h->share)
    {
      C->share_cleanup (h->share);
      h->share = NULL;
      C->global_cleanup ();
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
  r = xfer_new (h, ep, ep, XFER_MANIFEST, what, url, accept, MANIFEST_MAX, &x, err);
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

int
pull_http_head_manifest (struct pull_http *h, struct pull_endpoint *ep, const char *reference,
                         const char *accept, const char *what, char **ret_digest,
                         mini_error_t *err)
{
  cleanup_xfer struct xfer *x = NULL;
  cleanup_free char *url = NULL;
  int r;

  r = pull_endpoint_ping (h, ep, err);
  if (r < 0)
    return r;
  url = xfmt ("%s/v2/%s/manifests/%s", ep->base, h->repo_path, reference);
  r = xfer_new (h, ep, ep, XFER_MANIFEST, what, url, accept, MANIFEST_MAX, &x, err);
  if (r < 0)
    return r;
  x->head = true;
  r = xfer_run (x, err);
  if (r < 0)
    return r;
  *ret_digest = steal_pointer (&x->docker_digest);
  return 0;
}

enum blob_state
{
  BLOB_QUEUED,
  BLOB_ACTIVE,
  BLOB_WAITING,
  BLOB_FINISHED,
};

/* Open the partial file of BLOB; a partial file that is already complete
   (a run killed between download and commit) is committed at once: then
   *RET_DONE is set and *RET_INGEST left NULL. */
static int
blob_open (struct pull_http *h, struct pull_blob *blob, struct store_ingest **ret_ingest,
           bool *ret_done, mini_error_t *err)
{
  struct store_ingest *in = NULL;

  *ret_done = false;
  if (store_ingest_resume (h->store, blob->digest, blob->size, &in, err) < 0)
    return -1;
  if (blob->size > 0 && store_ingest_size (in) == blob->size)
    {
      mini_error_t e = NULL;
      if (store_ingest_commit (in, &e) == 0)
        {
          *ret_done = true;
          *ret_ingest = NULL;
          return 0;
        }
      /* Not the blob after all (the file is gone now): download it. */
      mini_error_release (&e);
      if (store_ingest_resume (h->store, blob->digest, blob->size, &in, err) < 0)
        return -1;
    }
  *ret_ingest = in;
  return 0;
}

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

  multi = C->multi_init ();
  if (multi == NULL)
    return mini_error_set (err, ENOMEM, "curl_multi_init failed");
  xs = xmalloc0 (n * sizeof (*xs));
  state = xmalloc0 (n * sizeof (*state));
  for (i = 0; i < n; i++)
    state[i] = blobs[i].done ? BLOB_FINISHED : BLOB_QUEUED;

  for (i = 0; i < n; i++)
    if (state[i] == BLOB_QUEUED && blobs[i].progress)
      emit (h, "queued", blobs[i].digest, 0, blobs[i].size);

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
              struct store_ingest *in = NULL;
              bool done = false;

              ret = blob_open (h, &blobs[i], &in, &done, err);
              if (ret < 0)
                goto out;
              if (done)
                {
                  blobs[i].done = true;
                  state[i] = BLOB_FINISHED;
                  remaining--;
                  if (blobs[i].progress)
                    emit (h, "done", blobs[i].digest, blobs[i].size, blobs[i].size);
                  continue;
                }
              if (blobs[i].url)
                url = xstrdup (blobs[i].url);
              else
                url = xfmt ("%s/v2/%s/blobs/%s", ep->base, h->repo_path, blobs[i].digest);
              what = xfmt ("blob %s", blobs[i].digest);
              /* A foreign layer's own URL gets no credentials. */
              ret = xfer_new (h, blobs[i].url ? NULL : ep, ep, XFER_BLOB, what, url, NULL, 0,
                              &xs[i], err);
              if (ret < 0)
                {
                  store_ingest_suspend (in);
                  goto out;
                }
              x = xs[i];
              x->blob = &blobs[i];
              x->ingest = in;
              if (store_ingest_resumed_from (in) > 0)
                blob_event (x, "resuming", store_ingest_resumed_from (in), blobs[i].size);
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
          mc = C->multi_add_handle (multi, x->curl);
          if (mc != CURLM_OK)
            {
              ret = mini_error_set (err, EIO, "curl_multi_add_handle: %s",
                                    C->multi_strerror (mc));
              goto out;
            }
          state[i] = BLOB_ACTIVE;
          active++;
        }
      if (remaining == 0)
        break;

      mc = C->multi_perform (multi, &running);
      if (mc != CURLM_OK)
        {
          ret = mini_error_set (err, EIO, "curl_multi_perform: %s", C->multi_strerror (mc));
          goto out;
        }

      while ((msg = C->multi_info_read (multi, &left)) != NULL)
        {
          struct xfer *x = NULL;
          CURLcode result;
          size_t k;

          if (msg->msg != CURLMSG_DONE)
            continue;
          /* MSG does not survive curl_multi_remove_handle. */
          result = msg->data.result;
          C->easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &x);
          k = x->blob - blobs;
          C->multi_remove_handle (multi, x->curl);
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
              {
                bool resumed = x->attempt_start > 0 || store_ingest_resumed_from (x->ingest) > 0;
                mini_error_t e = NULL;

                if (store_ingest_commit (steal_pointer (&x->ingest), &e) < 0)
                  {
                    /* The bytes kept from an earlier try may be what is
                       wrong: once, download the whole blob again. */
                    if (resumed && !x->mismatch_retried && mini_error_errno (e) == EINVAL)
                      {
                        mini_error_release (&e);
                        x->mismatch_retried = true;
                        ret = store_ingest_resume (h->store, blobs[k].digest, blobs[k].size,
                                                   &x->ingest, err);
                        if (ret < 0)
                          goto out;
                        blob_event (x, "restarting", 0, blobs[k].size);
                        x->wake_ms = 0;
                        break;
                      }
                    *err = e;
                    ret = -1;
                    goto out;
                  }
                blobs[k].done = true;
                if (blobs[k].progress)
                  emit (h, "done", blobs[k].digest, blobs[k].size, blobs[k].size);
                state[k] = BLOB_FINISHED;
                xfer_free (x);
                xs[k] = NULL;
                remaining--;
              }
              break;
            }
        }

      if (remaining == 0)
        break;
      if (active > 0)
        {
          mc = C->multi_poll (multi, NULL, 0, (int) wait_ms, NULL);
          if (mc != CURLM_OK)
            {
              ret = mini_error_set (err, EIO, "curl_multi_poll: %s", C->multi_strerror (mc));
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
          C->multi_remove_handle (multi, xs[i]->curl);
        xfer_free (xs[i]); /* keeps a partial download for the next run */
      }
  free (xs);
  free (state);
  C->multi_cleanup (multi);
  return ret;
}
