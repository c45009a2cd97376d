/* mini - image manifest + config parsing (image-spec manifest.md, config.md). */
#include "store/store.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

void
store_chain_id (const char *parent_chain_id, const char *diff_id, char out[72])
{
  /* image-spec config.md "Layer ChainID":
     ChainID(L0) = DiffID(L0); ChainID(L0|..|Ln) = Digest(ChainID(..n-1) + " " + DiffID(Ln)) */
  if (parent_chain_id == NULL)
    {
      snprintf (out, 72, "%s", diff_id);
      return;
    }
  cleanup_free char *s = xfmt ("%s %s", parent_chain_id, diff_id);
  sha256_digest (s, strlen (s), out);
}

static char **
json_strv (json_t *a, bool *ok)
{
  char **v;
  size_t i;
  json_t *e;
  *ok = true;
  if (a == NULL || json_is_null (a))
    return NULL;
  if (!json_is_array (a))
    {
      *ok = false;
      return NULL;
    }
  v = xmalloc0 ((json_array_size (a) + 1) * sizeof (char *));
  json_array_foreach (a, i, e)
  {
    if (!json_is_string (e))
      {
        strv_free (v);
        *ok = false;
        return NULL;
      }
    v[i] = xstrdup (json_string_value (e));
  }
  return v;
}

static char *
json_str_or_null (json_t *o, const char *k)
{
  json_t *v = json_object_get (o, k);
  if (!json_is_string (v) || json_string_length (v) == 0)
    return NULL;
  return xstrdup (json_string_value (v));
}

void
store_image_free (struct store_image *img)
{
  size_t i;
  if (img == NULL)
    return;
  for (i = 0; i < img->n_layers; i++)
    {
      free (img->layers[i].digest);
      free (img->layers[i].media_type);
      free (img->layers[i].diff_id);
      free (img->layers[i].chain_id);
    }
  free (img->layers);
  free (img->manifest_digest);
  free (img->config_digest);
  free (img->os);
  free (img->architecture);
  free (img->variant);
  free (img->created);
  strv_free (img->env);
  strv_free (img->entrypoint);
  strv_free (img->cmd);
  free (img->working_dir);
  free (img->user);
  free (img->stop_signal);
  free (img);
}

/* store_image_parse, with the chain_ids taken from CHAINS (one per layer)
   when CHAINS is not NULL, else computed. */
static int
image_parse (const char *manifest_digest, const char *manifest, size_t manifest_len,
             const char *config, size_t config_len, char **chains, struct store_image **ret,
             mini_error_t *err)
{
  json_error_t jerr;
  json_t *m = NULL, *c = NULL;
  json_t *layers, *cfgdesc, *mt, *diff_ids, *cc, *rootfs;
  struct store_image *img = NULL;
  size_t i;
  bool ok;
  char parent[72] = "";

  m = json_loadb (manifest, manifest_len, 0, &jerr);
  if (m == NULL || !json_is_object (m))
    {
      mini_error_set (err, EINVAL, "manifest %s: invalid JSON (line %d: %s)", manifest_digest,
                      jerr.line, jerr.text);
      goto fail;
    }
  mt = json_object_get (m, "mediaType");
  if (json_is_string (mt)
      && strcmp (json_string_value (mt), "application/vnd.oci.image.manifest.v1+json") != 0
      && strcmp (json_string_value (mt), "application/vnd.docker.distribution.manifest.v2+json") != 0)
    {
      mini_error_set (err, EINVAL, "manifest %s: unsupported media type %s", manifest_digest,
                      json_string_value (mt));
      goto fail;
    }
  cfgdesc = json_object_get (m, "config");
  layers = json_object_get (m, "layers");
  if (!json_is_object (cfgdesc) || !json_is_array (layers)
      || !digest_is_valid (json_string_value (json_object_get (cfgdesc, "digest"))))
    {
      mini_error_set (err, EINVAL, "manifest %s: missing or invalid `config` or `layers`", manifest_digest);
      goto fail;
    }
  c = json_loadb (config, config_len, 0, &jerr);
  if (c == NULL || !json_is_object (c))
    {
      mini_error_set (err, EINVAL, "image config of %s: invalid JSON (line %d: %s)", manifest_digest,
                      jerr.line, jerr.text);
      goto fail;
    }
  rootfs = json_object_get (c, "rootfs");
  diff_ids = json_object_get (rootfs, "diff_ids");
  if (!json_is_array (diff_ids) || json_array_size (diff_ids) != json_array_size (layers))
    {
      mini_error_set (err, EINVAL, "image config of %s: rootfs.diff_ids has %zu entries for %zu layers",
                      manifest_digest, json_array_size (diff_ids), json_array_size (layers));
      goto fail;
    }

  img = xmalloc0 (sizeof (*img));
  img->manifest_digest = xstrdup (manifest_digest);
  img->config_digest = xstrdup (json_string_value (json_object_get (cfgdesc, "digest")));
  img->n_layers = json_array_size (layers);
  img->layers = xmalloc0 ((img->n_layers + 1) * sizeof (*img->layers));
  for (i = 0; i < img->n_layers; i++)
    {
      json_t *l = json_array_get (layers, i);
      const char *d = json_string_value (json_object_get (l, "digest"));
      const char *t = json_string_value (json_object_get (l, "mediaType"));
      const char *di = json_string_value (json_array_get (diff_ids, i));
      json_t *sz = json_object_get (l, "size");
      char chain[72];
      if (!digest_is_valid (d) || !digest_is_valid (di))
        {
          mini_error_set (err, EINVAL, "manifest %s: layer %zu has an invalid digest or diff_id",
                          manifest_digest, i);
          goto fail;
        }
      img->layers[i].digest = xstrdup (d);
      img->layers[i].media_type = xstrdup (t ? t : "application/vnd.oci.image.layer.v1.tar+gzip");
      img->layers[i].size = json_is_integer (sz) ? json_integer_value (sz) : -1;
      img->layers[i].diff_id = xstrdup (di);
      if (chains)
        snprintf (chain, sizeof (chain), "%s", chains[i]);
      else
        store_chain_id (i == 0 ? NULL : parent, di, chain);
      img->layers[i].chain_id = xstrdup (chain);
      memcpy (parent, chain, sizeof (parent));
      if (img->layers[i].size > 0)
        img->size += img->layers[i].size;
    }
  img->os = json_str_or_null (c, "os");
  img->architecture = json_str_or_null (c, "architecture");
  img->variant = json_str_or_null (c, "variant");
  img->created = json_str_or_null (c, "created");
  cc = json_object_get (c, "config");
  img->env = json_strv (json_object_get (cc, "Env"), &ok);
  if (!ok)
    goto bad_cfg;
  if (img->env == NULL)
    img->env = xmalloc0 (sizeof (char *));
  img->entrypoint = json_strv (json_object_get (cc, "Entrypoint"), &ok);
  if (!ok)
    goto bad_cfg;
  img->cmd = json_strv (json_object_get (cc, "Cmd"), &ok);
  if (!ok)
    goto bad_cfg;
  img->working_dir = json_str_or_null (cc, "WorkingDir");
  img->user = json_str_or_null (cc, "User");
  img->stop_signal = json_str_or_null (cc, "StopSignal");
  json_decref (m);
  json_decref (c);
  *ret = img;
  return 0;

bad_cfg:
  mini_error_set (err, EINVAL, "image config of %s: Env, Entrypoint and Cmd must be arrays of strings",
                  manifest_digest);
fail:
  json_decref (m);
  json_decref (c);
  store_image_free (img);
  return -1;
}

int
store_image_parse (const char *manifest_digest, const char *manifest, size_t manifest_len,
                   const char *config, size_t config_len, struct store_image **ret,
                   mini_error_t *err)
{
  return image_parse (manifest_digest, manifest, manifest_len, config, config_len, NULL, ret, err);
}

/* The chain_ids cached for MANIFEST_DIGEST when they fit CONFIG (as many as
   its diff_ids, valid digests, the first equal to the first diff_id), else
   NULL.  Caller frees (strv_free). */
static char **
chains_read (struct store *s, const char *manifest_digest, const char *config, size_t config_len)
{
  cleanup_free char *rel = xfmt ("chains/%s", digest_hex (manifest_digest));
  cleanup_free char *buf = NULL;
  mini_error_t e = NULL;
  char **v = NULL;
  json_t *c, *diff_ids;
  size_t n = 0;
  char *line, *save = NULL;
  bool ok = true;

  if (read_file_at (s->root_fd, rel, &buf, NULL, 1 << 20, &e) < 0)
    {
      mini_error_release (&e);
      return NULL;
    }
  c = json_loadb (config, config_len, 0, NULL);
  diff_ids = json_object_get (json_object_get (c, "rootfs"), "diff_ids");
  v = xmalloc0 (sizeof (char *));
  for (line = strtok_r (buf, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      if (!digest_is_valid (line))
        ok = false;
      strv_append (&v, line);
      n++;
    }
  if (!ok || !json_is_array (diff_ids) || n != json_array_size (diff_ids)
      || (n > 0 && strcmp (v[0], json_string_value (json_array_get (diff_ids, 0)) ?: "") != 0))
    {
      strv_free (v);
      v = NULL;
    }
  json_decref (c);
  return v;
}

/* Cache IMG's chain_ids (best effort: a read-only store or a full disk only
   costs the next load a few hashes). */
static void
chains_write (struct store *s, const struct store_image *img)
{
  cleanup_free char *rel = xfmt ("chains/%s", digest_hex (img->manifest_digest));
  cleanup_free char *buf = xstrdup ("");
  mini_error_t e = NULL;
  size_t i;

  for (i = 0; i < img->n_layers; i++)
    {
      char *t = xfmt ("%s%s\n", buf, img->layers[i].chain_id);
      free (buf);
      buf = t;
    }
  if (write_file_atomic_at_flags (s->root_fd, rel, buf, strlen (buf), 0644, false, &e) < 0)
    mini_error_release (&e);
}

size_t
store_chains_gc (struct store *s)
{
  cleanup_close int dfd = openat (s->root_fd, "chains", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  struct dirent *de;
  size_t n = 0;

  if (dfd < 0)
    return 0;
  d = fdopendir (dfd);
  if (d == NULL)
    return 0;
  dfd = -1;
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *blob = NULL;
      struct stat st;

      if (de->d_name[0] == '.')
        continue;
      blob = xfmt ("blobs/sha256/%s", de->d_name);
      if (fstatat (s->root_fd, blob, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode))
        continue;
      if (unlinkat (dirfd (d), de->d_name, 0) == 0)
        n++;
    }
  closedir (d);
  return n;
}

int
store_image_load (struct store *s, const char *manifest_digest, struct store_image **ret,
                  mini_error_t *err)
{
  cleanup_free char *m = NULL;
  cleanup_free char *c = NULL;
  size_t mlen, clen;
  json_t *j, *d;
  cleanup_free char *cdigest = NULL;
  cleanup_free char *rel = NULL;
  cleanup_strv char **chains = NULL;
  int r;

  if (!digest_is_valid (manifest_digest))
    return mini_error_set (err, EINVAL, "invalid manifest digest `%s`", manifest_digest);
  rel = xfmt ("blobs/sha256/%s", digest_hex (manifest_digest));
  r = read_file_at (s->root_fd, rel, &m, &mlen, 16 << 20, err);
  if (r < 0)
    return mini_error_wrap (err, "load manifest %s", manifest_digest);
  j = json_loadb (m, mlen, 0, NULL);
  d = json_object_get (json_object_get (j, "config"), "digest");
  if (json_is_string (d))
    cdigest = xstrdup (json_string_value (d));
  json_decref (j);
  if (cdigest == NULL || !digest_is_valid (cdigest))
    return mini_error_set (err, EINVAL, "manifest %s: no valid config descriptor", manifest_digest);
  free (rel);
  rel = xfmt ("blobs/sha256/%s", digest_hex (cdigest));
  r = read_file_at (s->root_fd, rel, &c, &clen, 16 << 20, err);
  if (r < 0)
    return mini_error_wrap (err, "load image config %s", cdigest);
  chains = chains_read (s, manifest_digest, c, clen);
  r = image_parse (manifest_digest, m, mlen, c, clen, chains, ret, err);
  if (r == 0 && chains == NULL)
    chains_write (s, *ret);
  return r;
}
