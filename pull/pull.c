/* mini - pull: pulling an image into the store (distribution-spec "Pull";
 * image-spec manifest.md, image-index.md; Docker's endpoint and mirror
 * rules from moby's registry package).
 */
#include "pull/pull-private.h"

#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <jansson.h>

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

#define ACCEPT_MANIFESTS MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_V2

#define DOCKER_IO "docker.io"
#define DOCKER_IO_ORIGIN "https://registry-1.docker.io"
#define PARALLEL_DOWNLOADS 3

enum manifest_kind
{
  KIND_INDEX,
  KIND_IMAGE,
};

struct pull_ctx
{
  struct store *s;
  const struct pull_reference *ref;
  const struct pull_options *opts;
  char *ref_str;
  struct pull_platform platform;
  struct pull_http http;
  struct pull_endpoint *eps;
  size_t n_eps;
  int chosen; /* endpoint that served the manifest, -1 before / when local */
  int parallel; /* blobs at once */
};

/* A manifest (or index) and its digest. */
struct manifest
{
  char *digest;
  char *body;
  size_t len;
  enum manifest_kind kind;
};

static void
manifest_clear (struct manifest *m)
{
  free (m->digest);
  free (m->body);
  memset (m, 0, sizeof (*m));
}

/* ------------------------------------------------------------ endpoints */

/* The host part of DOMAIN ("host", "host:port", "[v6]:port"). */
static char *
domain_host (const char *domain)
{
  if (domain[0] == '[')
    {
      const char *close = strchr (domain, ']');
      return xstrndup (domain + 1, close ? (size_t) (close - domain - 1) : strlen (domain));
    }
  return xstrndup (domain, strcspn (domain, ":"));
}

/* Docker's rule (moby registry/config.go isSecureIndex): loopback
   registries may speak plain HTTP. */
static bool
host_is_loopback (const char *domain)
{
  cleanup_free char *host = domain_host (domain);
  unsigned char addr[16];
  static const unsigned char loop6[16] = { [15] = 1 };

  if (strcasecmp (host, "localhost") == 0)
    return true;
  if (inet_pton (AF_INET, host, addr) == 1)
    return addr[0] == 127;
  if (inet_pton (AF_INET6, host, addr) == 1)
    return memcmp (addr, loop6, 16) == 0;
  return false;
}

/* DOMAIN is listed in insecure-registries, by host[:port] or CIDR. */
static bool
host_is_listed_insecure (const char *domain, char *const *insecure)
{
  cleanup_free char *host = domain_host (domain);
  unsigned char addr[16];
  int family = 0;

  if (inet_pton (AF_INET, host, addr) == 1)
    family = AF_INET;
  else if (inet_pton (AF_INET6, host, addr) == 1)
    family = AF_INET6;

  for (; insecure && *insecure; insecure++)
    {
      const char *e = *insecure;
      const char *slash = strchr (e, '/');

      if (slash == NULL)
        {
          if (strcasecmp (e, domain) == 0 || strcasecmp (e, host) == 0)
            return true;
          continue;
        }
      if (family)
        {
          cleanup_free char *net = xstrndup (e, slash - e);
          unsigned char naddr[16];
          char *end = NULL;
          long bits = strtol (slash + 1, &end, 10);
          int max = family == AF_INET ? 32 : 128;

          if (*end != '\0' || bits < 0 || bits > max || inet_pton (family, net, naddr) != 1)
            continue;
          {
            long full = bits / 8, rest = bits % 8;
            if (memcmp (addr, naddr, full) != 0)
              continue;
            if (rest && ((addr[full] ^ naddr[full]) & (0xff << (8 - rest)) & 0xff))
              continue;
            return true;
          }
        }
    }
  return false;
}

/* Mirror URLs for registry DOMAIN from OPTS: "registry-mirrors" for
   docker.io, then the "HOST=URL" entries naming DOMAIN. */
static char **
mirrors_for (const char *domain, const struct pull_options *opts)
{
  char **v = NULL;

  if (opts == NULL)
    return NULL;
  if (strcmp (domain, DOCKER_IO) == 0)
    for (char *const *m = opts->mirrors; m && *m; m++)
      strv_append (&v, *m);
  for (char *const *m = opts->registry_mirrors; m && *m; m++)
    {
      const char *eq = strchr (*m, '=');
      cleanup_free char *host = NULL;
      cleanup_free char *norm = NULL;

      if (eq == NULL)
        continue;
      host = xstrndup (*m, eq - *m);
      norm = pull_registry_normalize (host, NULL);
      if (norm && strcmp (norm, domain) == 0)
        strv_append (&v, eq + 1);
    }
  return v;
}

/* Fill EP for registry DOMAIN itself (not a mirror): HTTPS with
   verification, except as insecure-registries and loopback allow. */
static int
origin_endpoint_init (struct pull_endpoint *ep, const char *domain, char *const *insecure,
                      mini_error_t *err)
{
  bool listed, loopback;
  cleanup_free char *base = NULL;
  int ret;

  if (strcmp (domain, DOCKER_IO) == 0)
    return pull_endpoint_init (ep, DOCKER_IO_ORIGIN, false, err);
  listed = host_is_listed_insecure (domain, insecure);
  loopback = host_is_loopback (domain);
  base = xfmt ("https://%s", domain);
  ret = pull_endpoint_init (ep, base, false, err);
  if (ret < 0)
    return ret;
  ep->tls_verify = !listed;
  ep->http_fallback = listed || loopback;
  return 0;
}

static int
endpoints_init (struct pull_ctx *ctx, mini_error_t *err)
{
  const char *domain = ctx->ref->domain;
  char *const *insecure = ctx->opts ? ctx->opts->insecure_registries : NULL;
  cleanup_strv char **mirrors = mirrors_for (domain, ctx->opts);
  size_t n = strv_len (mirrors), i;
  int ret;

  ctx->eps = xmalloc0 ((n + 1) * sizeof (*ctx->eps));
  for (i = 0; i < n; i++)
    {
      struct pull_endpoint *ep = &ctx->eps[i];
      ret = pull_endpoint_init (ep, mirrors[i], true, err);
      if (ret < 0)
        return mini_error_wrap (err, "registry mirror");
      ep->tls_verify = !host_is_listed_insecure (ep->name, insecure);
      ctx->n_eps++;
    }
  ret = origin_endpoint_init (&ctx->eps[n], domain, insecure, err);
  if (ret < 0)
    return ret;
  ctx->n_eps++;
  return 0;
}

/* Failures of all but the last endpoint are kept as notes; the last one's
   error is reported with them. */
static void
note_failure (char **notes, const struct pull_endpoint *ep, mini_error_t *e)
{
  char *n = xfmt ("%s%s%s %s: %s", *notes ? *notes : "", *notes ? "; " : "",
                  ep->mirror ? "mirror" : "registry", ep->base, (*e)->msg);
  free (*notes);
  *notes = n;
  mini_error_release (e);
}

static int
final_failure (mini_error_t *err, mini_error_t *e, const char *notes)
{
  if (notes == NULL)
    {
      *err = steal_pointer (e);
      return -1;
    }
  mini_error_set (err, mini_error_errno (*e), "%s (tried first: %s)", (*e)->msg, notes);
  mini_error_release (e);
  return -1;
}

/* ------------------------------------------------------------ manifests */

static int
manifest_classify (const char *what, const char *body, size_t len, const char *content_type,
                   enum manifest_kind *ret, mini_error_t *err)
{
  json_auto_t *root = NULL;
  json_error_t jerr;
  json_t *v;
  const char *mt = NULL;

  root = json_loadb (body, len, 0, &jerr);
  if (root == NULL || !json_is_object (root))
    return mini_error_set (err, EINVAL, "manifest %s: invalid JSON (line %d: %s)", what,
                           jerr.line, root ? "not an object" : jerr.text);
  v = json_object_get (root, "mediaType");
  if (json_is_string (v))
    mt = json_string_value (v);
  else if (content_type
           && (strcmp (content_type, MT_OCI_INDEX) == 0
               || strcmp (content_type, MT_OCI_MANIFEST) == 0
               || strcmp (content_type, MT_DOCKER_LIST) == 0
               || strcmp (content_type, MT_DOCKER_V2) == 0
               || strcmp (content_type, MT_SCHEMA1) == 0
               || strcmp (content_type, MT_SCHEMA1_SIGNED) == 0))
    mt = content_type;

  v = json_object_get (root, "schemaVersion");
  if ((json_is_integer (v) && json_integer_value (v) == 1)
      || (mt && (strcmp (mt, MT_SCHEMA1) == 0 || strcmp (mt, MT_SCHEMA1_SIGNED) == 0)))
    return mini_error_set (err, ENOTSUP,
                           "%s: image manifest schema 1 (Docker image format v1) is not "
                           "supported; the image must be pushed again with a current client",
                           what);
  if (mt)
    {
      if (strcmp (mt, MT_OCI_INDEX) == 0 || strcmp (mt, MT_DOCKER_LIST) == 0)
        *ret = KIND_INDEX;
      else if (strcmp (mt, MT_OCI_MANIFEST) == 0 || strcmp (mt, MT_DOCKER_V2) == 0)
        *ret = KIND_IMAGE;
      else
        return mini_error_set (err, ENOTSUP, "%s: unsupported manifest media type `%s`", what,
                               mt);
      return 0;
    }
  /* OCI allows mediaType to be absent: tell them apart by their fields. */
  if (json_is_array (json_object_get (root, "manifests")))
    *ret = KIND_INDEX;
  else if (json_is_object (json_object_get (root, "config")))
    *ret = KIND_IMAGE;
  else
    return mini_error_set (err, EINVAL, "%s: neither an image manifest nor an index", what);
  return 0;
}

/* Get the manifest REFERENCE (a tag or digest) of the repository, from the
   store when EXPECT_DIGEST is given and present there, else from EP (NULL:
   store only; *RET_NEED_NETWORK is then set when it is missing).  Verifies
   EXPECT_DIGEST and Docker-Content-Digest. */
static int
get_manifest (struct pull_ctx *ctx, struct pull_endpoint *ep, const char *reference,
              const char *what, const char *expect_digest, struct manifest *ret,
              bool *ret_need_network, mini_error_t *err)
{
  struct pull_response resp = { NULL, 0, NULL, NULL };
  char got[72];
  int r;

  memset (ret, 0, sizeof (*ret));
  if (expect_digest && store_blob_exists (ctx->s, expect_digest))
    {
      r = store_blob_read (ctx->s, expect_digest, &ret->body, &ret->len, err);
      if (r < 0)
        return r;
      ret->digest = xstrdup (expect_digest);
      r = manifest_classify (what, ret->body, ret->len, NULL, &ret->kind, err);
      if (r < 0)
        manifest_clear (ret);
      return r;
    }
  if (ep == NULL)
    {
      *ret_need_network = true;
      return 0;
    }

  r = pull_http_get_manifest (&ctx->http, ep, reference, ACCEPT_MANIFESTS, what, &resp, err);
  if (r < 0)
    return r;
  sha256_digest (resp.body, resp.len, got);
  if (expect_digest && strcmp (got, expect_digest) != 0)
    {
      mini_error_set (err, EINVAL, "manifest %s: digest mismatch: got %s from %s", what, got,
                      ep->name);
      pull_response_clear (&resp);
      return -1;
    }
  /* Only sha256 is comparable; other algorithms are not mini's. */
  if (resp.docker_digest && strncmp (resp.docker_digest, "sha256:", 7) == 0
      && strcmp (resp.docker_digest, got) != 0)
    {
      mini_error_set (err, EINVAL,
                      "manifest %s: digest mismatch: Docker-Content-Digest is %s, content is %s",
                      what, resp.docker_digest, got);
      pull_response_clear (&resp);
      return -1;
    }
  r = manifest_classify (what, resp.body, resp.len, resp.content_type, &ret->kind, err);
  if (r < 0)
    {
      pull_response_clear (&resp);
      return r;
    }
  ret->digest = xstrdup (got);
  ret->body = steal_pointer (&resp.body);
  ret->len = resp.len;
  pull_response_clear (&resp);
  return 0;
}

/* Resolve REFERENCE (a tag or digest; PIN, when not NULL, the digest it
   must have) to TOP (what it names) and IMAGE (the platform's image
   manifest; equal to TOP's content when TOP is not an index) using EP
   (NULL: the store only; *NEED_NETWORK is set when something is missing). */
static int
resolve (struct pull_ctx *ctx, struct pull_endpoint *ep, const char *reference, const char *pin,
         struct manifest *top, struct manifest *image, bool *need_network, mini_error_t *err)
{
  const struct pull_reference *ref = ctx->ref;
  cleanup_free char *child = NULL;
  cleanup_free char *child_mt = NULL;
  cleanup_free char *child_what = NULL;
  int r;

  r = get_manifest (ctx, ep, reference, ctx->ref_str, pin, top, need_network, err);
  if (r < 0 || *need_network)
    return r;

  if (top->kind == KIND_IMAGE)
    {
      image->digest = xstrdup (top->digest);
      image->body = xmalloc (top->len + 1);
      memcpy (image->body, top->body, top->len);
      image->body[top->len] = '\0';
      image->len = top->len;
      image->kind = KIND_IMAGE;
      return 0;
    }

  r = pull_index_choose (top->body, top->len, &ctx->platform, &child, &child_mt, err);
  if (r < 0)
    {
      manifest_clear (top);
      return mini_error_wrap (err, "%s", ctx->ref_str);
    }
  child_what = xfmt ("%s/%s@%s", ref->domain, ref->path, child);
  r = get_manifest (ctx, ep, child, child_what, child, image, need_network, err);
  if (r < 0 || *need_network)
    {
      manifest_clear (top);
      return r;
    }
  if (image->kind != KIND_IMAGE)
    {
      manifest_clear (top);
      manifest_clear (image);
      return mini_error_set (err, EINVAL, "%s: the index entry is not an image manifest",
                             child_what);
    }
  return 0;
}

/* ------------------------------------------------------------ blobs */

/* Download the blobs not yet present, from the endpoint that served the
   manifest (or, when it was found locally, the first that works), falling
   back to the next endpoints. */
static int
fetch_blobs (struct pull_ctx *ctx, struct pull_blob *blobs, size_t n, mini_error_t *err)
{
  cleanup_free char *notes = NULL;
  size_t i;
  bool missing = false;

  for (i = 0; i < n; i++)
    if (!blobs[i].done && !store_blob_exists (ctx->s, blobs[i].digest))
      missing = true;
    else
      blobs[i].done = true;
  if (!missing)
    return 0;

  for (i = ctx->chosen >= 0 ? (size_t) ctx->chosen : 0; i < ctx->n_eps; i++)
    {
      mini_error_t e = NULL;

      if (pull_http_get_blobs (&ctx->http, &ctx->eps[i], blobs, n, ctx->parallel, &e) == 0)
        {
          ctx->chosen = (int) i;
          return 0;
        }
      if (i + 1 < ctx->n_eps)
        note_failure (&notes, &ctx->eps[i], &e);
      else
        return final_failure (err, &e, notes);
    }
  return mini_error_set (err, EINVAL, "no registry endpoint"); /* not reached */
}

static int
config_descriptor (const struct manifest *m, char **ret_digest, int64_t *ret_size,
                   mini_error_t *err)
{
  json_auto_t *root = json_loadb (m->body, m->len, 0, NULL);
  json_t *cfg = root ? json_object_get (root, "config") : NULL;
  json_t *d = json_is_object (cfg) ? json_object_get (cfg, "digest") : NULL;
  json_t *size = json_is_object (cfg) ? json_object_get (cfg, "size") : NULL;

  if (!json_is_string (d) || !digest_is_valid (json_string_value (d)))
    return mini_error_set (err, EINVAL, "manifest %s: missing or invalid config digest",
                           m->digest);
  *ret_digest = xstrdup (json_string_value (d));
  *ret_size = json_is_integer (size) && json_integer_value (size) >= 0
                  ? (int64_t) json_integer_value (size)
                  : -1;
  return 0;
}

/* ------------------------------------------------------------ pull_image */

static void
ctx_clear (struct pull_ctx *ctx)
{
  size_t i;

  for (i = 0; i < ctx->n_eps; i++)
    pull_endpoint_clear (&ctx->eps[i]);
  free (ctx->eps);
  pull_http_fini (&ctx->http);
  pull_platform_clear (&ctx->platform);
  free (ctx->ref_str);
}

/* The "urls" of the layer DIGEST of manifest M when it is a foreign
   (non-distributable) layer: Docker fetches those from their URLs first
   (moby distribution/pull_v2.go), then from the registry.  New strv or
   NULL. */
static char **
foreign_urls (const struct manifest *m, const char *digest)
{
  json_auto_t *root = json_loadb (m->body, m->len, 0, NULL);
  json_t *layers = root ? json_object_get (root, "layers") : NULL;
  json_t *l, *u;
  size_t i, k;
  char **v = NULL;

  json_array_foreach (layers, i, l)
    {
      const char *d = json_string_value (json_object_get (l, "digest"));
      const char *mt = json_string_value (json_object_get (l, "mediaType"));
      json_t *urls = json_object_get (l, "urls");

      if (d == NULL || strcmp (d, digest) != 0 || !json_is_array (urls) || mt == NULL)
        continue;
      if (strstr (mt, "foreign") == NULL && strstr (mt, "nondistributable") == NULL)
        continue;
      json_array_foreach (urls, k, u)
        if (json_is_string (u) && (strncasecmp (json_string_value (u), "https://", 8) == 0
                                   || strncasecmp (json_string_value (u), "http://", 7) == 0))
          strv_append (&v, json_string_value (u));
      break;
    }
  return v;
}

/* Foreign layers among BLOBS: try their URLs in order (without
   credentials); whatever fails is left for the registry. */
static void
fetch_foreign (struct pull_ctx *ctx, const struct manifest *image, struct pull_blob *blobs,
               size_t n)
{
  char ***urls = xmalloc0 ((n + 1) * sizeof (*urls));
  size_t i, round;
  bool any = true;

  for (i = 0; i < n; i++)
    if (!blobs[i].done && !store_blob_exists (ctx->s, blobs[i].digest))
      urls[i] = foreign_urls (image, blobs[i].digest);
  for (round = 0; any; round++)
    {
      mini_error_t e = NULL;
      struct pull_endpoint *ep = &ctx->eps[ctx->chosen >= 0 ? (size_t) ctx->chosen : 0];

      any = false;
      for (i = 0; i < n; i++)
        if (!blobs[i].done && round < strv_len (urls[i]))
          {
            blobs[i].url = urls[i][round];
            any = true;
          }
      if (!any)
        break;
      /* Blobs without a URL this round are skipped as if done. */
      {
        bool *was = xmalloc0 (n * sizeof (*was));
        for (i = 0; i < n; i++)
          {
            was[i] = blobs[i].done;
            if (blobs[i].url == NULL)
              blobs[i].done = true;
          }
        if (pull_http_get_blobs (&ctx->http, ep, blobs, n, ctx->parallel, &e) < 0)
          mini_error_release (&e);
        for (i = 0; i < n; i++)
          {
            if (blobs[i].url == NULL)
              blobs[i].done = was[i];
            blobs[i].url = NULL;
          }
        free (was);
      }
    }
  for (i = 0; i < n; i++)
    strv_free (urls[i]);
  free (urls);
}

/* For a tag already in the store: one HEAD per endpoint until one answers;
   when its Docker-Content-Digest is what the store has, resolve TOP and
   IMAGE from the store and return true.  Any failure: false (the GET path
   then reports errors). */
static bool
fresh_from_store (struct pull_ctx *ctx, struct manifest *top, struct manifest *image)
{
  struct store_ref stored = { NULL, NULL, NULL };
  mini_error_t e = NULL;
  const char *want;
  bool fresh = false;
  size_t i;

  if (ctx->ref->tag == NULL || store_ref_lookup (ctx->s, ctx->ref_str, &stored, &e) < 0)
    {
      mini_error_release (&e);
      return false;
    }
  want = stored.index_digest ? stored.index_digest : stored.manifest_digest;
  if (want && store_blob_exists (ctx->s, want))
    for (i = 0; i < ctx->n_eps; i++)
      {
        cleanup_free char *dcd = NULL;
        bool need_network = false;

        if (pull_http_head_manifest (&ctx->http, &ctx->eps[i], ctx->ref->tag, ACCEPT_MANIFESTS,
                                     ctx->ref_str, &dcd, &e)
            < 0)
          {
            mini_error_release (&e);
            continue;
          }
        if (dcd && strcmp (dcd, want) == 0
            && resolve (ctx, NULL, ctx->ref->tag, want, top, image, &need_network, &e) == 0
            && !need_network)
          {
            fresh = true;
            ctx->chosen = (int) i;
          }
        mini_error_release (&e);
        break;
      }
  free (stored.ref);
  free (stored.manifest_digest);
  free (stored.index_digest);
  return fresh;
}

static int
pull_image_ (struct pull_ctx *ctx, struct pull_result **ret, mini_error_t *err)
{
  struct store *s = ctx->s;
  struct manifest top = { NULL, NULL, 0, KIND_IMAGE };
  struct manifest image = { NULL, NULL, 0, KIND_IMAGE };
  struct store_image *img = NULL;
  struct pull_blob cfg_blob = { .digest = NULL, .url = NULL, .size = -1 };
  struct pull_blob *blobs = NULL;
  cleanup_free char *cfg_digest = NULL;
  cleanup_free char *cfg_buf = NULL;
  size_t cfg_len = 0, n_blobs = 0, i, j;
  int fetched = 0, present = 0;
  bool need_network = false, have = false;
  struct pull_result *res;
  int r = -1;

  if (ctx->opts && ctx->opts->progress)
    ctx->opts->progress (ctx->opts->progress_data, "resolving", NULL, 0, -1);

  /* 1. The manifest: from the store when pinned by digest and present;
        for a tag already pulled, from the store when one HEAD says the
        registry still has the same digest (a HEAD does not count against
        rate limits; a GET does); else from the first endpoint that has it. */
  if (ctx->ref->digest)
    {
      r = resolve (ctx, NULL, ctx->ref->digest, ctx->ref->digest, &top, &image, &need_network,
                   err);
      if (r < 0)
        goto out;
      have = !need_network;
    }
  else
    have = fresh_from_store (ctx, &top, &image);
  if (!have)
    {
      cleanup_free char *notes = NULL;

      manifest_clear (&top);
      manifest_clear (&image);
      for (i = 0; i < ctx->n_eps; i++)
        {
          mini_error_t e = NULL;

          need_network = false;
          if (resolve (ctx, &ctx->eps[i], ctx->ref->digest ? ctx->ref->digest : ctx->ref->tag,
                       ctx->ref->digest, &top, &image, &need_network, &e)
              == 0)
            {
              ctx->chosen = (int) i;
              break;
            }
          if (i + 1 < ctx->n_eps)
            note_failure (&notes, &ctx->eps[i], &e);
          else
            {
              r = final_failure (err, &e, notes);
              goto out;
            }
        }
    }

  /* 2. The config, then the image as a whole (layers vs diff_ids). */
  r = config_descriptor (&image, &cfg_digest, &cfg_blob.size, err);
  if (r < 0)
    goto out;
  cfg_blob.digest = cfg_digest;
  if (store_blob_exists (s, cfg_digest))
    present++;
  else
    {
      r = fetch_blobs (ctx, &cfg_blob, 1, err);
      if (r < 0)
        goto out;
      fetched++;
    }
  r = store_blob_read (s, cfg_digest, &cfg_buf, &cfg_len, err);
  if (r < 0)
    goto out;
  r = store_image_parse (image.digest, image.body, image.len, cfg_buf, cfg_len, &img, err);
  if (r < 0)
    goto out;
  /* A single-platform image asked for with an explicit, different
     platform (Docker: "does not match the specified platform").  For the
     host default it is pulled anyway, as Docker does. */
  if (top.kind == KIND_IMAGE && ctx->opts && ctx->opts->platform
      && !pull_platform_matches (&ctx->platform, img->os, img->architecture, img->variant))
    {
      r = mini_error_set (err, ENOENT,
                          "image with reference %s was found but does not match the specified "
                          "platform: wanted %s/%s%s%s, actual: %s/%s%s%s",
                          ctx->ref_str, ctx->platform.os, ctx->platform.architecture,
                          ctx->platform.variant ? "/" : "",
                          ctx->platform.variant ? ctx->platform.variant : "", img->os,
                          img->architecture, img->variant ? "/" : "",
                          img->variant ? img->variant : "");
      goto out;
    }

  /* 3. The layers that are missing, in parallel. */
  blobs = xmalloc0 ((img->n_layers + 1) * sizeof (*blobs));
  for (i = 0; i < img->n_layers; i++)
    {
      const struct store_layer *l = &img->layers[i];
      bool dup = false;

      for (j = 0; j < n_blobs; j++)
        if (strcmp (blobs[j].digest, l->digest) == 0)
          dup = true;
      if (dup || strcmp (l->digest, cfg_digest) == 0)
        continue;
      if (store_blob_exists (s, l->digest))
        {
          present++;
          if (ctx->opts && ctx->opts->progress)
            ctx->opts->progress (ctx->opts->progress_data, "exists", l->digest, l->size,
                                 l->size);
          continue;
        }
      blobs[n_blobs].digest = l->digest;
      blobs[n_blobs].size = l->size;
      blobs[n_blobs].progress = true;
      n_blobs++;
    }
  fetch_foreign (ctx, &image, blobs, n_blobs);
  r = fetch_blobs (ctx, blobs, n_blobs, err);
  if (r < 0)
    goto out;
  fetched += (int) n_blobs;

  /* 4. Manifests last, then the reference: nothing points at an image
        whose blobs are not all there. */
  if (top.kind == KIND_INDEX && !store_blob_exists (s, top.digest))
    {
      r = store_blob_put (s, top.digest, top.body, top.len, err);
      if (r < 0)
        goto out;
    }
  if (!store_blob_exists (s, image.digest))
    {
      r = store_blob_put (s, image.digest, image.body, image.len, err);
      if (r < 0)
        goto out;
    }
  r = store_ref_set (s, ctx->ref_str, image.digest, top.kind == KIND_INDEX ? top.digest : NULL,
                     err);
  if (r < 0)
    goto out;

  res = xmalloc0 (sizeof (*res));
  res->reference = xstrdup (ctx->ref_str);
  res->digest = xstrdup (top.digest);
  res->manifest_digest = xstrdup (image.digest);
  res->index_digest = top.kind == KIND_INDEX ? xstrdup (top.digest) : NULL;
  res->blobs_fetched = fetched;
  res->blobs_present = present;
  *ret = res;
  r = 0;

out:
  free (blobs);
  store_image_free (img);
  manifest_clear (&top);
  manifest_clear (&image);
  return r;
}

int
pull_image (struct store *s, const struct pull_reference *ref, const struct pull_options *opts,
            struct pull_result **ret, mini_error_t *err)
{
  struct pull_ctx ctx;
  int r;

  memset (&ctx, 0, sizeof (ctx));
  ctx.s = s;
  ctx.ref = ref;
  ctx.opts = opts;
  ctx.chosen = -1;
  ctx.ref_str = pull_reference_string (ref);

  r = pull_curl_load (err); /* the first thing a pull needs; said without context */
  if (r < 0)
    goto out;
  r = pull_platform_parse (opts ? opts->platform : NULL, &ctx.platform, err);
  if (r < 0)
    goto out;
  r = endpoints_init (&ctx, err);
  if (r < 0)
    goto out;
  r = pull_http_init (&ctx.http, err);
  if (r < 0)
    goto out;
  ctx.http.repo_path = ref->path;
  ctx.http.ref_str = ctx.ref_str;
  ctx.http.store = s;
  ctx.http.progress = opts ? opts->progress : NULL;
  ctx.http.progress_data = opts ? opts->progress_data : NULL;
  ctx.http.certs_dirs = opts ? opts->certs_dirs : NULL;
  ctx.http.auth_file = opts ? opts->auth_file : NULL;
  ctx.parallel = opts && opts->max_concurrent_downloads > 0 ? opts->max_concurrent_downloads
                                                              : PARALLEL_DOWNLOADS;

  /* Messages already name the reference, registry or blob: no wrap. */
  r = pull_image_ (&ctx, ret, err);

out:
  ctx_clear (&ctx);
  return r;
}

void
pull_result_free (struct pull_result *r)
{
  if (r == NULL)
    return;
  free (r->reference);
  free (r->digest);
  free (r->manifest_digest);
  free (r->index_digest);
  free (r);
}

int
pull_login (const char *registry, const struct pull_options *opts, const char *user,
            const char *secret, mini_error_t *err)
{
  struct pull_http h;
  struct pull_endpoint ep;
  cleanup_free char *name = NULL;
  int r;

  memset (&h, 0, sizeof (h));
  memset (&ep, 0, sizeof (ep));
  name = pull_registry_normalize (registry, err);
  if (name == NULL)
    return -1;
  r = pull_curl_load (err);
  if (r < 0)
    return r;
  r = origin_endpoint_init (&ep, name, opts ? opts->insecure_registries : NULL, err);
  if (r < 0)
    return r;
  r = pull_http_init (&h, err);
  if (r < 0)
    {
      pull_endpoint_clear (&ep);
      return r;
    }
  h.certs_dirs = opts ? opts->certs_dirs : NULL;
  ep.user = xstrdup (user);
  ep.secret = xstrdup (secret);
  r = pull_http_login (&h, &ep, err);
  if (r < 0)
    mini_error_wrap (err, "login to %s failed", name);
  pull_endpoint_clear (&ep);
  pull_http_fini (&h);
  return r;
}
