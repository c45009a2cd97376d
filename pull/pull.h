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
                                 plain HTTP, and over TLS without certificate
                                 verification */
  const char *platform;       /* "os/arch[/variant]" or NULL for the host */
  /* Optional, called from the calling thread.  DIGEST names a layer (config
     blobs and manifests send no events) except where said.  Events:
       "resolving"   DIGEST NULL, before the manifest is fetched;
       "exists"      the layer is already in the store (DONE = TOTAL = size);
       "queued"      the layer will be downloaded (TOTAL = size or -1);
       "resuming"    a partial download of it is continued from byte DONE;
       "downloading" DONE of TOTAL bytes so far (TOTAL -1 when unknown);
       "restarting"  the server ignored the Range request: from byte 0;
       "retrying"    attempt DONE of TOTAL failed; the next one follows after
                     a pause (DIGEST NULL for manifests);
       "waiting"     the registry asked to wait (429 Retry-After): DONE ms
                     (DIGEST may be NULL);
       "done"        the layer is verified and stored. */
  void (*progress) (void *data, const char *event, const char *digest, int64_t done,
                    int64_t total);
  void *progress_data;
  char **registry_mirrors;    /* NULL-terminated "HOST=URL" entries: URL (http(s)://host[:port])
                                 is a mirror of registry HOST ("docker.io", "host:port"),
                                 tried in order before it (Podman's registries.conf
                                 [[registry.mirror]]; config key
                                 "registry-mirrors-per-registry") */
  char **certs_dirs;          /* NULL-terminated directories laid out like Docker's
                                 /etc/docker/certs.d: DIR/<host[:port]>/ *.crt are CAs
                                 trusted for that registry (besides the system ones),
                                 *.cert + *.key a client certificate.  NULL: none */
  const char *auth_file;      /* Docker config.json with credentials ("auths",
                                 "credsStore", "credHelpers"), or NULL: anonymous only */
  int max_concurrent_downloads; /* blobs downloaded at once; <= 0: 3 */
};

/* Read the Docker daemon.json keys "registry-mirrors" (http(s) URLs without
   path; a trailing '/' is dropped), "insecure-registries" (host[:port] or
   CIDR; a leading http:// or https:// is dropped) and
   "max-concurrent-downloads" (1..64; used when OPTS has none yet), and
   mini's "registry-mirrors-per-registry" ({"host[:port]": [URL, ...]}, into
   OPTS->registry_mirrors as "host=URL") from PATH, appending to OPTS (new
   strings, owned by OPTS; free with pull_options_clear).  Other keys are
   ignored.  A missing file is an error (ENOENT) only if MUST_EXIST.
   Errors: EINVAL "PATH:LINE: <json error>" for bad JSON, EINVAL naming the
   file and key for values of the wrong type or bad mirror URLs. */
int pull_options_load_config (const char *path, bool must_exist, struct pull_options *opts,
                              mini_error_t *err);

/* Free OPTS->mirrors, insecure_registries, registry_mirrors and certs_dirs
   (and set them NULL).  platform, auth_file, progress and progress_data are
   not owned and left alone. */
void pull_options_clear (struct pull_options *opts);

/* ------------------------------------------------------------ credentials */

/* The registry S names, as credentials are keyed: "host[:port]" lower-cased
   without scheme or path; Docker Hub's names (index.docker.io,
   registry-1.docker.io, https://index.docker.io/v1/) become "docker.io".
   Returns a new string, or NULL with EINVAL in *err (ERR may be NULL). */
char *pull_registry_normalize (const char *s, mini_error_t *err);

/* Credentials for REGISTRY (as pull_registry_normalize returns it) from the
   Docker config file AUTH_FILE (docker/cli configfile): the credential
   helper of "credHelpers"[registry] or else "credsStore" (runs
   `docker-credential-<name> get` found in PATH, the registry on stdin, JSON
   {"Username","Secret"} on stdout; "not found" means none), else
   "auths"[key].auth (base64 "user:password") where the key names the same
   host (Docker Hub's key is "https://index.docker.io/v1/").  *RET_USER and
   *RET_SECRET get new strings, or both NULL when there are none (or
   AUTH_FILE is NULL or missing).  Errors: EINVAL for a malformed file,
   ENOENT for a missing helper, EIO/EPROTO for a failing one. */
int pull_auth_lookup (const char *auth_file, const char *registry, char **ret_user,
                      char **ret_secret, mini_error_t *err);

/* Save USER and SECRET for REGISTRY in AUTH_FILE (created with mode 0600,
   its directory 0700, replaced atomically, other keys kept), through the
   configured credential helper (`store`) when there is one, else as
   "auths"[key].auth.  Errors: those of reading and writing the file or
   running the helper. */
int pull_auth_store (const char *auth_file, const char *registry, const char *user,
                     const char *secret, mini_error_t *err);

/* Remove the credentials of REGISTRY from AUTH_FILE (and the credential
   helper: `erase`).  *RET_FOUND tells whether there were any. */
int pull_auth_erase (const char *auth_file, const char *registry, bool *ret_found,
                     mini_error_t *err);

/* Check USER/SECRET against REGISTRY the way `docker login` does: GET /v2/;
   on a Basic challenge the request is repeated with the credentials, on a
   Bearer challenge a token is requested from the realm with them (no
   scope).  Endpoint, TLS and certificate rules as for pull_image (OPTS may
   be NULL).  Nothing is stored.  Errors: EACCES "login to REGISTRY failed:
   unauthorized: incorrect username or password" (with the server's words
   when it sent some), EHOSTUNREACH/ECONNREFUSED when unreachable, the TLS
   errors of pull_image. */
int pull_login (const char *registry, const struct pull_options *opts, const char *user,
                const char *secret, mini_error_t *err);

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
   Endpoints: the mirrors of REF's registry (OPTS->mirrors for docker.io,
   OPTS->registry_mirrors entries for any registry) in order, then the
   registry itself (docker.io: https://registry-1.docker.io).  The registry
   is reached over https:// with certificate verification against the
   system CAs plus those of OPTS->certs_dirs/<host[:port]>/ (also used for
   its token realm and redirect targets); loopback registries (127.0.0.0/8,
   ::1, localhost) and OPTS->insecure_registries fall back to http:// when
   the TLS handshake fails, and the latter are not verified.  When an
   endpoint fails (unreachable, unknown manifest, HTTP error) the next one
   is tried; the error reports each.
   Auth: GET /v2/ ping; a 401 Bearer challenge gets a token from the realm
   (?service=..&scope=repository:<path>:pull, with Basic credentials and
   account= when OPTS->auth_file has some for the registry; "token" or
   "access_token"), reused for the whole pull, renewed when expires_in runs
   out or on a 401.  A Basic challenge is answered with the credentials.
   The Authorization header is only ever sent to the endpoint's own
   scheme/host/port: redirects are followed by hand and lose it on another
   origin.
   The manifest is requested with Accept for OCI index + manifest and
   Docker list + v2s2; schema1 is refused (ENOTSUP).  Pinned digests and
   Docker-Content-Digest are verified.  A tag already in the store costs one
   HEAD when the registry's digest is unchanged: then nothing else is
   requested.  From an index the platform OPTS->platform (or the host) is
   chosen (pull_index_choose).  The config and layer blobs missing from S
   are downloaded (OPTS->max_concurrent_downloads at once, default 3; 5
   attempts with backoff on network errors and 5xx; a 429 waits for
   Retry-After up to 60 s, longer is an EAGAIN error), streamed through
   store_ingest_resume (digest and size verified; only commit publishes;
   an interrupted download goes on with a Range request, in this run or
   the next; a 200 answer starts it over).  Foreign (non-distributable)
   layers are tried from their "urls" first, without credentials.  Blobs
   already present are not fetched.  A reference pinned by digest whose
   manifests and blobs are all present needs no network at all.  Finally
   the manifest (and index) blobs are stored with store_blob_put and
   store_ref_set records pull_reference_string (REF) -> manifest (+ index).
   On success *RET is a new result (free with pull_result_free).  On
   failure no reference is written; verified blobs already committed stay,
   as in any content store, and so do partial downloads whose bytes were
   not found wrong (for the next run to continue).
   Errors (one line each, naming the thing):
     ENOENT "manifest unknown: <ref> not found in <registry>",
     ENOENT (from pull_index_choose) no matching platform,
     EHOSTUNREACH/ETIMEDOUT/ECONNREFUSED "cannot reach registry <host>: <curl
       error>; check the address or --registry-mirror",
     status 0 "cannot verify the TLS certificate of <host> (...): to trust
       its CA, put the CA certificate in <certs dir>/<host:port>/ca.crt ...",
     EACCES "pull access denied for <ref>: repository does not exist or may
       require 'mini login <registry>'", "... requires a login", refused
       credentials ("incorrect username or password"),
     EAGAIN too many requests (Retry-After beyond the bound),
     EINVAL "blob sha256:x: digest mismatch: got sha256:y",
     EIO "... HTTP <code> ..." for other statuses. */
int pull_image (struct store *s, const struct pull_reference *ref, const struct pull_options *opts,
                struct pull_result **ret, mini_error_t *err);

/* Free R.  Safe on NULL. */
void pull_result_free (struct pull_result *r);

#endif
