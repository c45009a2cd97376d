/* mini - pull: private declarations shared by the pull/ sources (not included
 * outside pull/).  The HTTP transport: libcurl easy handles, one multi handle for
 * parallel blob downloads, manual redirects so that the registry's
 * Authorization header never leaves the registry's origin.
 */
#ifndef MINI_PULL_PRIVATE_H
#define MINI_PULL_PRIVATE_H

#include "pull/pull.h"

#include <curl/curl.h>

/* ------------------------------------------------------------ libcurl, loaded on first use
   (curl-loader.c).  mini does not link libcurl: the headers give the types
   and constants, the calls go through PULL_CURL, which is NULL until
   pull_curl_load succeeds.  pull_image and pull_login load it first; every
   other curl user in pull/ runs after them. */
struct curl_api
{
  __typeof__ (curl_global_init) *global_init;
  __typeof__ (curl_global_cleanup) *global_cleanup;
  __typeof__ (curl_version_info) *version_info;
  __typeof__ (curl_free) *free;
  __typeof__ (curl_slist_append) *slist_append;
  __typeof__ (curl_slist_free_all) *slist_free_all;
  __typeof__ (curl_easy_init) *easy_init;
  __typeof__ (curl_easy_setopt) *easy_setopt;
  __typeof__ (curl_easy_perform) *easy_perform;
  __typeof__ (curl_easy_getinfo) *easy_getinfo;
  __typeof__ (curl_easy_cleanup) *easy_cleanup;
  __typeof__ (curl_easy_strerror) *easy_strerror;
  __typeof__ (curl_share_init) *share_init;
  __typeof__ (curl_share_setopt) *share_setopt;
  __typeof__ (curl_share_cleanup) *share_cleanup;
  __typeof__ (curl_multi_init) *multi_init;
  __typeof__ (curl_multi_add_handle) *multi_add_handle;
  __typeof__ (curl_multi_remove_handle) *multi_remove_handle;
  __typeof__ (curl_multi_perform) *multi_perform;
  __typeof__ (curl_multi_poll) *multi_poll;
  __typeof__ (curl_multi_info_read) *multi_info_read;
  __typeof__ (curl_multi_strerror) *multi_strerror;
  __typeof__ (curl_multi_cleanup) *multi_cleanup;
  __typeof__ (curl_url) *url;
  __typeof__ (curl_url_set) *url_set;
  __typeof__ (curl_url_get) *url_get;
  __typeof__ (curl_url_cleanup) *url_cleanup;
};

/* The loaded libcurl; NULL before pull_curl_load.  Never unloaded. */
extern const struct curl_api *pull_curl;

/* dlopen libcurl.so.4 (RTLD_NOW | RTLD_LOCAL) and fill PULL_CURL, once per
   process; later calls return 0 at once.  Not thread-safe: call from the
   main thread (as curl_global_init must be).  Errors (status 0, the message
   says what to do): "libcurl.so.4 not found: install libcurl4 (apt-get
   install libcurl4)"; another dlopen failure with dlerror's text; a library
   lacking one of the entry points (libcurl older than 7.66). */
int pull_curl_load (mini_error_t *err);
/* Same with another SONAME (tests: a missing library). */
int pull_curl_load_from (const char *soname, mini_error_t *err);

enum pull_auth_scheme
{
  PULL_AUTH_NONE,
  PULL_AUTH_BEARER,
  PULL_AUTH_BASIC,
};

/* One place a repository can be pulled from: a mirror or the origin. */
struct pull_endpoint
{
  char *base;          /* "https://registry-1.docker.io", "http://127.0.0.1:5000" (no trailing '/') */
  char *name;          /* host[:port], for messages and certs.d lookups */
  char *registry;      /* whose credentials apply: "docker.io", "host:port" */
  bool mirror;         /* a registry mirror (messages say so) */
  bool pinged;         /* GET /v2/ done (and a token fetched when asked) */
  bool tls_verify;     /* verify the server certificate (off for insecure-registries) */
  bool http_fallback;  /* when the TLS handshake fails, use http:// (loopback, insecure) */
  enum pull_auth_scheme scheme; /* what the registry asked for */
  char *token;         /* bearer token for the repository, or NULL */
  int64_t token_expiry_ms; /* monotonic ms after which the token is renewed, 0: never */
  char *realm;         /* last bearer challenge: where tokens come from */
  char *service;
  bool creds_loaded;   /* user/secret looked up (pull_auth_lookup) */
  char *user;          /* credentials for this registry, or NULL */
  char *secret;
};

struct pull_tls_entry;

/* State of one pull shared by all requests. */
struct pull_http
{
  CURLSH *share;         /* DNS, connections and TLS sessions shared by every handle */
  const char *repo_path; /* "library/busybox": scope of the tokens; NULL: no scope (login) */
  const char *ref_str;   /* normalized reference, for messages */
  struct store *store;
  void (*progress) (void *data, const char *event, const char *digest, int64_t done,
                    int64_t total);
  void *progress_data;
  char *const *certs_dirs;    /* certs.d-style directories (not owned) */
  const char *auth_file;      /* Docker config.json (not owned) or NULL */
  char *default_cafile;       /* libcurl's CA bundle */
  struct pull_tls_entry *tls; /* CA blobs per host, built on first use */
};

/* A response kept in memory (manifests). */
struct pull_response
{
  char *body;
  size_t len;
  char *content_type;  /* without parameters, or NULL */
  char *docker_digest; /* Docker-Content-Digest header, or NULL */
};

/* A blob to download into the store. */
struct pull_blob
{
  const char *digest;
  const char *url; /* fetch from this URL (a foreign layer's "urls"), without credentials;
                      NULL: from the registry */
  int64_t size;  /* from the descriptor; -1 when unknown */
  bool progress; /* report progress events for it (layers) */
  bool done;     /* set when committed to the store */
};

/* Fill EP from BASE (a URL "scheme://host[:port]"): name, registry (the
   host for credentials), tls_verify on, no fallback.  EINVAL for anything
   else. */
int pull_endpoint_init (struct pull_endpoint *ep, const char *base, bool mirror,
                        mini_error_t *err);
void pull_endpoint_clear (struct pull_endpoint *ep);

/* Set up / tear down H (curl_global_init is done once, thread-unsafe as
   libcurl requires: call from the main thread). */
int pull_http_init (struct pull_http *h, mini_error_t *err);
void pull_http_fini (struct pull_http *h);

/* GET /v2/ on EP once; on a 401 Bearer challenge fetch a token for
   H->repo_path (distribution token spec), with EP's credentials when there
   are some.  An https:// endpoint with http_fallback whose TLS handshake
   fails is switched to http://.  Errors: EHOSTUNREACH "cannot reach
   registry ...", TLS verification errors naming the host and how to trust
   it, EACCES for refused credentials. */
int pull_endpoint_ping (struct pull_http *h, struct pull_endpoint *ep, mini_error_t *err);

/* `docker login` against EP with EP->user / EP->secret (see pull_login). */
int pull_http_login (struct pull_http *h, struct pull_endpoint *ep, mini_error_t *err);

/* HEAD /v2/<repo>/manifests/<REFERENCE>: *RET_DIGEST gets the
   Docker-Content-Digest header (NULL when the registry sends none). */
int pull_http_head_manifest (struct pull_http *h, struct pull_endpoint *ep, const char *reference,
                             const char *accept, const char *what, char **ret_digest,
                             mini_error_t *err);

/* GET /v2/<repo>/manifests/<REFERENCE> (a tag or digest) with ACCEPT.  The
   body (at most 4 MiB) goes to *RET (caller frees with
   pull_response_clear).  WHAT names the manifest in messages.  404 /
   MANIFEST_UNKNOWN / NAME_UNKNOWN: ENOENT "manifest unknown: WHAT not found
   in <registry>". */
int pull_http_get_manifest (struct pull_http *h, struct pull_endpoint *ep, const char *reference,
                            const char *accept, const char *what, struct pull_response *ret,
                            mini_error_t *err);
void pull_response_clear (struct pull_response *r);

/* Download the blobs of BLOBS (N entries) that are not marked done from EP
   (or from their own URL) into H->store, PARALLEL at a time, each verified
   by store_ingest_commit.  Partial files have stable names
   (store_ingest_resume): an interrupted transfer goes on with a Range
   request, in this run or the next.  Blobs committed are marked done even
   when another one fails; partial downloads are kept for a later run
   unless their content was wrong. */
int pull_http_get_blobs (struct pull_http *h, struct pull_endpoint *ep, struct pull_blob *blobs,
                         size_t n, int parallel, mini_error_t *err);

/* true if an image configured for OS/ARCH/VARIANT (VARIANT may be NULL)
   serves WANT: same OS and architecture (normalized as in
   pull_platform_parse); the variants only count when both are known
   (arm64 "v8" equals none). */
bool pull_platform_matches (const struct pull_platform *want, const char *os, const char *arch,
                            const char *variant);

/* base64 (RFC 4648, with padding) of LEN bytes of DATA; new string. */
char *pull_base64_encode (const void *data, size_t len);
/* Decode S into a new NUL-terminated buffer; -1 when S is not base64. */
int pull_base64_decode (const char *s, char **ret, size_t *ret_len);

#endif
