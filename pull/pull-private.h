/* mini - pull: private declarations shared by the pull/ sources (not included
 * outside pull/).  The HTTP transport: libcurl easy handles, one multi handle for
 * parallel blob downloads, manual redirects so that the registry's
 * Authorization header never leaves the registry's origin.
 */
#ifndef MINI_PULL_PRIVATE_H
#define MINI_PULL_PRIVATE_H

#include "pull/pull.h"

#include <curl/curl.h>

/* One place a repository can be pulled from: a mirror or the origin. */
struct pull_endpoint
{
  char *base;  /* "https://registry-1.docker.io", "http://127.0.0.1:5000" (no trailing '/') */
  char *name;  /* host[:port], for messages */
  bool mirror; /* a registry mirror (messages say so) */
  bool pinged; /* GET /v2/ done (and a token fetched when asked) */
  char *token; /* bearer token for the repository, or NULL */
};

/* State of one pull shared by all requests. */
struct pull_http
{
  CURLSH *share;         /* DNS, connections and TLS sessions shared by every handle */
  const char *repo_path; /* "library/busybox": scope of the tokens */
  const char *ref_str;   /* normalized reference, for messages */
  struct store *store;
  void (*progress) (void *data, const char *event, const char *digest, int64_t done,
                    int64_t total);
  void *progress_data;
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
  int64_t size;  /* from the descriptor; -1 when unknown */
  bool progress; /* report progress events for it (layers) */
  bool done;     /* set when committed to the store */
};

/* Fill EP from BASE (a URL "scheme://host[:port]").  EINVAL for anything
   else. */
int pull_endpoint_init (struct pull_endpoint *ep, const char *base, bool mirror,
                        mini_error_t *err);
void pull_endpoint_clear (struct pull_endpoint *ep);

/* Set up / tear down H (curl_global_init is done once, thread-unsafe as
   libcurl requires: call from the main thread). */
int pull_http_init (struct pull_http *h, mini_error_t *err);
void pull_http_fini (struct pull_http *h);

/* GET /v2/ on EP once; on a 401 challenge fetch an anonymous bearer token
   for H->repo_path (distribution token spec).  Errors: EHOSTUNREACH
   "cannot reach registry ...", EACCES "authentication required". */
int pull_endpoint_ping (struct pull_http *h, struct pull_endpoint *ep, mini_error_t *err);

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
   into H->store, PARALLEL at a time, each verified by store_ingest_commit.
   Blobs committed are marked done even when another one fails; on failure
   every partial download is removed. */
int pull_http_get_blobs (struct pull_http *h, struct pull_endpoint *ep, struct pull_blob *blobs,
                         size_t n, int parallel, mini_error_t *err);

/* true if an image configured for OS/ARCH/VARIANT (VARIANT may be NULL)
   serves WANT: same OS and architecture (normalized as in
   pull_platform_parse); the variants only count when both are known
   (arm64 "v8" equals none). */
bool pull_platform_matches (const struct pull_platform *want, const char *os, const char *arch,
                            const char *variant);

#endif
