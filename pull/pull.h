/* mini - pull: the registry client (OCI distribution-spec).
 *
 * Parses and normalizes image references the way Docker does, talks to a
 * registry over HTTP(S) with libcurl (ping, anonymous bearer tokens,
 * manifests, blobs), chooses the platform from an image index and stores
 * everything in a struct store.  Never prints, never exits, never reads the
 * environment (libcurl's own proxy variables aside): the caller passes a
 * struct pull_options.
 *
 * Depends on store/ and common/ only.
 */
#ifndef MINI_PULL_H
#define MINI_PULL_H

#include "common/common.h"
#include "store/store.h"

/* ------------------------------------------------------------ references */

/* A normalized image reference (distribution/reference, Docker's rules). */
struct pull_reference
{
  char *domain; /* "docker.io", "127.0.0.1:5000", "localhost" */
  char *path;   /* "library/busybox" */
  char *tag;    /* "latest" unless digest-only; NULL then */
  char *digest; /* NULL or "sha256:<64 hex>" */
};

/* Parse and normalize the image reference S (Docker's
   distribution/reference ParseNormalizedNamed + TagNameOnly):
     busybox               -> docker.io/library/busybox:latest
     user/app              -> docker.io/user/app:latest
     index.docker.io/x/y   -> docker.io/x/y:latest
     host:5000/a/b@sha256:<hex>  (no default tag when a digest is given)
     name:tag@sha256:<hex>       (both kept)
   The first '/'-separated component is a domain only if it contains '.' or
   ':' or is "localhost".  Path components follow
   [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*; tags [\w][\w.-]{0,127}; digests
   must be sha256 with 64 lowercase hex; domain + '/' + path is at most 255
   characters; a bare 64-hex name is refused.
   On success *RET is a new reference (free with pull_reference_free).
   Errors: EINVAL "invalid reference format: <why>: `S`". */
int pull_reference_parse (const char *s, struct pull_reference **ret, mini_error_t *err);

/* The canonical string of R: "domain/path[:tag][@digest]", e.g.
   "docker.io/library/busybox:latest", "host:5000/x/y@sha256:...".
   Returns a new string (caller frees). */
char *pull_reference_string (const struct pull_reference *r);

/* Free R and its strings.  Safe on NULL. */
void pull_reference_free (struct pull_reference *r);

/* ------------------------------------------------------------ auth challenges */

/* One parsed WWW-Authenticate challenge. */
struct pull_challenge
{
  char *scheme;  /* lower-cased: "bearer", "basic", ... */
  char *realm;   /* NULL when absent (only allowed for non-bearer schemes) */
  char *service; /* NULL when absent */
  char *scope;   /* NULL when absent; may hold several space-separated scopes */
};

/* Parse the value of a WWW-Authenticate header (RFC 7235 section 4.1 and
   2.1: auth-scheme followed by comma-separated auth-params, each
   token BWS "=" BWS (token / quoted-string), quoted-strings with
   backslash escapes and embedded commas; scheme and parameter names are
   case-insensitive).  When the header carries several challenges, the
   first one is returned.  Unknown parameters are ignored.
   *RET gets a new challenge (free with pull_challenge_free).
   Errors: EINVAL "invalid WWW-Authenticate header: <why>" for a syntax
   error, and for a bearer challenge without realm (distribution token
   spec: the realm is where the token is requested). */
int pull_challenge_parse (const char *www_authenticate_value, struct pull_challenge **ret,
                          mini_error_t *err);

/* Free C.  Safe on NULL. */
void pull_challenge_free (struct pull_challenge *c);

/* ------------------------------------------------------------ platforms */

struct pull_platform
{
  char *os;           /* "linux" */
  char *architecture; /* GOARCH: "amd64", "arm64", "arm", "386", ... */
  char *variant;      /* "v7", "v8", ... or NULL */
};

/* Parse "os/arch[/variant]" into RET (which the caller owns; release its
   strings with pull_platform_clear).  Values are lower-cased and arch
   aliases normalized as containerd does (x86_64 -> amd64, aarch64 -> arm64,
   i386/i686 -> 386, armhf -> arm/v7, armel -> arm/v6).  A single component
   is an OS (host architecture) or a known architecture (os linux).
   S == NULL describes the host: linux + uname(2) machine mapped to GOARCH
   (x86_64 -> amd64, aarch64 -> arm64 variant v8, armv7l -> arm/v7,
   armv6l -> arm/v6, armv5* -> arm/v5, i686 -> 386, ppc64le, s390x,
   riscv64, loongarch64 -> loong64; other machines are used unchanged).
   Errors: EINVAL "invalid platform `S`: <why>". */
int pull_platform_parse (const char *s, struct pull_platform *ret, mini_error_t *err);

/* Free the strings of P and zero it.  Safe on a zeroed platform. */
void pull_platform_clear (struct pull_platform *p);

/* Choose from the image index / Docker manifest list INDEX_JSON (LEN bytes;
   image-spec image-index.md, Docker manifest list v2.2) the descriptor for
   platform P, with Docker's (containerd's) rules: os and architecture must
   match; for arm64 "v8" and no variant are the same; arm v5/v6/v7 are
   distinct; when P has no variant the entry without variant (or the
   highest variant) wins; entries with annotation
   vnd.docker.reference.type=attestation-manifest or platform unknown/unknown
   and nested indexes are skipped; an entry without platform is taken only
   when nothing else matches.
   On success *RET_DIGEST gets the chosen digest and *RET_MEDIA_TYPE its
   media type (NULL when the entry has none); both owned by the caller.
   Errors: EINVAL for malformed JSON or descriptors; ENOENT "no matching
   manifest for linux/amd64 in the manifest list entries (available:
   linux/arm64/v8, ...)". */
int pull_index_choose (const char *index_json, size_t len, const struct pull_platform *p,
                       char **ret_digest, char **ret_media_type, mini_error_t *err);

/* ------------------------------------------------------------ options */

struct pull_options
{
  char **mirrors;             /* NULL-terminated base URLs ("http://127.0.0.1:5000",
                                 "https://mirror.example") used for docker.io references,
                                 tried in order, then the origin */
  char **insecure_registries; /* NULL-terminated host[:port] (or IPv4 CIDR) allowed over
                                 plain HTTP */
  const char *platform;       /* "os/arch[/variant]" or NULL for the host */
  /* Optional.  EVENT is "resolving" (DIGEST NULL, before the manifest is
     fetched), "exists" (layer already in the store), "downloading" (bytes
     DONE of TOTAL so far, TOTAL -1 when unknown), "done" (layer verified and
     stored).  Called for layers only, from the calling thread. */
  void (*progress) (void *data, const char *event, const char *digest, int64_t done,
                    int64_t total);
  void *progress_data;
};

/* Read the Docker daemon.json keys "registry-mirrors" (http(s) URLs without
   path; a trailing '/' is dropped) and "insecure-registries" (host[:port] or
   CIDR; a leading http:// or https:// is dropped) from PATH and append them
   to OPTS->mirrors / OPTS->insecure_registries (new strings, owned by OPTS;
   free with pull_options_clear).  Other keys are ignored.  A missing file
   is an error (ENOENT) only if MUST_EXIST.
   Errors: EINVAL "PATH:LINE: <json error>" for bad JSON, EINVAL naming the
   file and key for values of the wrong type or bad mirror URLs. */
int pull_options_load_config (const char *path, bool must_exist, struct pull_options *opts,
                              mini_error_t *err);

/* Free OPTS->mirrors and OPTS->insecure_registries (and set them NULL).
   platform, progress and progress_data are not owned and left alone. */
void pull_options_clear (struct pull_options *opts);

/* ------------------------------------------------------------ pulling */

struct pull_result
{
  char *reference;       /* normalized reference string */
  char *digest;          /* what the reference points to: the index digest when the tag
                            names an index, else the manifest digest (what `docker pull`
                            prints as "Digest:") */
  char *manifest_digest; /* the platform's image manifest */
  char *index_digest;    /* the index / manifest list, or NULL */
  int blobs_fetched;     /* config + layer blobs downloaded */
  int blobs_present;     /* config + layer blobs already in the store */
};

/* Pull REF into the store S (distribution-spec "Pull": GET
   /v2/<path>/manifests/<digest|tag>, GET /v2/<path>/blobs/<digest>).
   Endpoints: for domain docker.io each of OPTS->mirrors in order, then
   https://registry-1.docker.io; loopback (127.0.0.0/8, ::1, localhost) and
   OPTS->insecure_registries over http://, everything else https:// with
   certificate verification.  When an endpoint fails (unreachable, unknown
   manifest, HTTP error) the next one is tried; the error reports each.
   Auth: GET /v2/ ping; a 401 Bearer challenge gets an anonymous token from
   realm?service=..&scope=repository:<path>:pull ("token" or
   "access_token"), reused for the repository and renewed once on a later
   401.  A Basic challenge on the repository: EACCES "authentication
   required" (no credentials support yet).  The Authorization header is only ever sent
   to the endpoint's own scheme/host/port: redirects are followed by hand
   and lose it on another origin.
   The manifest is requested with Accept for OCI index + manifest and
   Docker list + v2s2; schema1 is refused (ENOTSUP).  Pinned digests and
   Docker-Content-Digest are verified.  From an index the platform
   OPTS->platform (or the host) is chosen (pull_index_choose).  The config
   and layer blobs missing from S are downloaded (up to 3 at once, 3
   attempts each), streamed through store_ingest_* (digest and size
   verified; only commit publishes); blobs already present are not fetched.
   A reference pinned by digest whose manifests and blobs are all present
   needs no network at all.  Finally the manifest (and index) blobs are
   stored with store_blob_put and store_ref_set records
   pull_reference_string (REF) -> manifest (+ index).
   On success *RET is a new result (free with pull_result_free).  On
   failure every partial download is removed and no reference is written
   (verified blobs already committed stay, as in any content store).
   Errors (one line each, naming the thing):
     ENOENT "manifest unknown: <ref> not found in <registry>",
     ENOENT (from pull_index_choose) no matching platform,
     EHOSTUNREACH/ETIMEDOUT "cannot reach registry <host>: <curl error>;
       check the address or --registry-mirror",
     EINVAL "blob sha256:x: digest mismatch: got sha256:y",
     EACCES for 401/403, EIO "... HTTP <code> ..." for other statuses. */
int pull_image (struct store *s, const struct pull_reference *ref, const struct pull_options *opts,
                struct pull_result **ret, mini_error_t *err);

/* Free R.  Safe on NULL. */
void pull_result_free (struct pull_result *r);

#endif
