/* mini - the reference index: the store root's index.json (image-spec
   image-layout.md "index.json"), one descriptor per reference, each naming
   the platform's image manifest, with the reference in the annotation
   org.opencontainers.image.ref.name (so `skopeo inspect oci:ROOT:REF` and
   umoci read it) and mini's own io.mini.index.digest (the index / manifest
   list the manifest was chosen from).  Replaced atomically (write, fsync,
   rename) under an exclusive flock on `lock`; readers need no lock. */
#include "store/store.h"

#include <string.h>
#include <sys/file.h>

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"

static int
lock_root (struct store *s, int *ret_fd, mini_error_t *err)
{
  return store_lock_path (s, "lock", LOCK_EX, ret_fd, err);
}

json_t *
store_index_new (void)
{
  return json_pack ("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX, "manifests");
}

/* Load index.json (an empty index when missing). */
static int
load_index (struct store *s, json_t **ret, mini_error_t *err)
{
  cleanup_free char *buf = NULL;
  json_error_t jerr;
  json_t *j;
  size_t len;
  mini_error_t tmp = NULL;

  if (read_file_at (s->root_fd, "index.json", &buf, &len, 0, &tmp) < 0)
    {
      if (mini_error_errno (tmp) == ENOENT)
        {
          mini_error_release (&tmp);
          *ret = store_index_new ();
          return 0;
        }
      *err = tmp;
      return -1;
    }
  j = json_loadb (buf, len, 0, &jerr);
  if (j == NULL || !json_is_object (j) || !json_is_array (json_object_get (j, "manifests")))
    {
      json_decref (j);
      return mini_error_set (err, EINVAL,
                             "%s/index.json is corrupt (line %d: %s); run `mini system check`",
                             s->root, jerr.line, jerr.text);
    }
  *ret = j;
  return 0;
}

static bool
streq0 (const char *a, const char *b)
{
  return a && b && strcmp (a, b) == 0;
}

static const char *
entry_ref (json_t *e)
{
  return json_string_value (json_object_get (json_object_get (e, "annotations"), STORE_ANNOTATION_REF_NAME));
}

static const char *
entry_digest (json_t *e)
{
  return json_string_value (json_object_get (e, "digest"));
}

static int
cmp_entries (const void *a, const void *b)
{
  json_t *x = *(json_t *const *) a, *y = *(json_t *const *) b;
  const char *rx = entry_ref (x), *ry = entry_ref (y);
  if (rx && ry)
    return strcmp (rx, ry);
  if (rx || ry)
    return rx ? -1 : 1; /* untagged images last */
  return strcmp (entry_digest (x) ? entry_digest (x) : "", entry_digest (y) ? entry_digest (y) : "");
}

static int
save_index (struct store *s, json_t *idx, mini_error_t *err)
{
  json_t *ms = json_object_get (idx, "manifests");
  size_t n = json_array_size (ms), i;
  json_t **v = xmalloc0 ((n + 1) * sizeof (*v));
  char *dump;
  int ret;

  for (i = 0; i < n; i++)
    v[i] = json_incref (json_array_get (ms, i));
  qsort (v, n, sizeof (*v), cmp_entries);
  json_array_clear (ms);
  for (i = 0; i < n; i++)
    json_array_append_new (ms, v[i]);
  free (v);
  dump = json_dumps (idx, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  ret = write_file_atomic_at (s->root_fd, "index.json", dump, strlen (dump), 0644, err);
  free (dump);
  return ret;
}

/* The descriptor for manifest MANIFEST_DIGEST (read from the blobs). */
static int
make_descriptor (struct store *s, const char *ref, const char *manifest_digest,
                 const char *index_digest, json_t **ret, mini_error_t *err)
{
  cleanup_free char *m = NULL;
  size_t len = 0;
  json_t *mj, *mt, *e, *ann, *plat;
  struct store_image *img = NULL;
  mini_error_t tmp = NULL;

  if (store_blob_read (s, manifest_digest, &m, &len, err) < 0)
    return mini_error_wrap (err, "reference %s", ref ? ref : manifest_digest);
  mj = json_loadb (m, len, 0, NULL);
  mt = json_object_get (mj, "mediaType");
  e = json_pack ("{s:s, s:s, s:I}", "mediaType", json_is_string (mt) ? json_string_value (mt) : MT_OCI_MANIFEST,
                 "digest", manifest_digest, "size", (json_int_t) len);
  json_decref (mj);
  /* The platform, when the config can be read (it always can after a pull). */
  if (store_image_load (s, manifest_digest, &img, &tmp) == 0 && img->os && img->architecture)
    {
      plat = json_pack ("{s:s, s:s}", "architecture", img->architecture, "os", img->os);
      if (img->variant)
        json_object_set_new (plat, "variant", json_string (img->variant));
      json_object_set_new (e, "platform", plat);
    }
  mini_error_release (&tmp);
  store_image_free (img);
  ann = json_object ();
  if (ref)
    json_object_set_new (ann, STORE_ANNOTATION_REF_NAME, json_string (ref));
  if (index_digest)
    json_object_set_new (ann, STORE_ANNOTATION_INDEX, json_string (index_digest));
  if (json_object_size (ann))
    json_object_set_new (e, "annotations", ann);
  else
    json_decref (ann);
  *ret = e;
  return 0;
}

int
store_ref_set (struct store *s, const char *ref, const char *manifest_digest,
               const char *index_digest, mini_error_t *err)
{
  cleanup_close int lock = -1;
  json_t *idx = NULL, *ms, *e, *desc = NULL;
  size_t i;
  int ret;

  if (!digest_is_valid (manifest_digest) || (index_digest && !digest_is_valid (index_digest)))
    return mini_error_set (err, EINVAL, "reference %s: invalid digest", ref ? ref : "(untagged)");
  if (ref && (*ref == '\0' || strpbrk (ref, " \t\n\r") != NULL))
    return mini_error_set (err, EINVAL, "invalid reference name `%s`", ref);
  ret = make_descriptor (s, ref, manifest_digest, index_digest, &desc, err);
  if (ret < 0)
    return ret;
  ret = lock_root (s, &lock, err);
  if (ret < 0)
    goto out;
  ret = load_index (s, &idx, err);
  if (ret < 0)
    goto out;
  ms = json_object_get (idx, "manifests");
  for (i = json_array_size (ms); i-- > 0;)
    {
      const char *r;
      e = json_array_get (ms, i);
      r = entry_ref (e);
      if (ref == NULL && r == NULL && streq0 (entry_digest (e), manifest_digest))
        {
          /* already there, untagged */
          ret = 0;
          goto out;
        }
      if (ref && r && strcmp (r, ref) == 0)
        json_array_remove (ms, i);
      /* A tagged image is no longer "untagged". */
      else if (ref && r == NULL && streq0 (entry_digest (e), manifest_digest))
        json_array_remove (ms, i);
    }
  json_array_append (ms, desc);
  ret = save_index (s, idx, err);

out:
  json_decref (desc);
  json_decref (idx);
  return ret;
}

static void
fill_ref (struct store_ref *r, json_t *e)
{
  const char *ref = entry_ref (e);
  const char *ix = json_string_value (json_object_get (json_object_get (e, "annotations"), STORE_ANNOTATION_INDEX));
  r->ref = ref ? xstrdup (ref) : NULL;
  r->manifest_digest = xstrdup (entry_digest (e));
  r->index_digest = ix && digest_is_valid (ix) ? xstrdup (ix) : NULL;
}

static bool
entry_valid (json_t *e)
{
  return json_is_object (e) && digest_is_valid (entry_digest (e));
}

int
store_ref_lookup (struct store *s, const char *ref, struct store_ref *ret, mini_error_t *err)
{
  json_t *idx = NULL, *e;
  size_t i;
  int r;

  r = load_index (s, &idx, err);
  if (r < 0)
    return r;
  json_array_foreach (json_object_get (idx, "manifests"), i, e)
  {
    const char *n = entry_ref (e);
    if (n && strcmp (n, ref) == 0 && entry_valid (e))
      {
        fill_ref (ret, e);
        json_decref (idx);
        return 0;
      }
  }
  json_decref (idx);
  return mini_error_set (err, ENOENT, "image %s is not in the local store", ref);
}

int
store_ref_get (struct store *s, const char *ref, char **ret_manifest_digest, mini_error_t *err)
{
  struct store_ref r = { NULL, NULL, NULL };
  if (store_ref_lookup (s, ref, &r, err) < 0)
    return -1;
  *ret_manifest_digest = steal_pointer (&r.manifest_digest);
  free (r.ref);
  free (r.index_digest);
  return 0;
}

int
store_ref_list (struct store *s, struct store_ref **ret, size_t *ret_n, mini_error_t *err)
{
  json_t *idx = NULL, *ms, *e;
  struct store_ref *v;
  size_t n = 0, i;
  int r;

  r = load_index (s, &idx, err);
  if (r < 0)
    return r;
  ms = json_object_get (idx, "manifests");
  v = xmalloc0 ((json_array_size (ms) + 1) * sizeof (*v));
  json_array_foreach (ms, i, e)
  {
    if (!entry_valid (e))
      continue;
    fill_ref (&v[n++], e);
  }
  json_decref (idx);
  *ret = v;
  *ret_n = n;
  return 0;
}

/* Remove the entries for which MATCH (E, DATA) is true; ENOENT when none. */
static int
remove_entries (struct store *s, bool (*match) (json_t *, const void *), const void *data,
                const char *what, mini_error_t *err)
{
  cleanup_close int lock = -1;
  json_t *idx = NULL, *ms;
  size_t i;
  int ret, removed = 0;

  ret = lock_root (s, &lock, err);
  if (ret < 0)
    return ret;
  ret = load_index (s, &idx, err);
  if (ret < 0)
    return ret;
  ms = json_object_get (idx, "manifests");
  for (i = json_array_size (ms); i-- > 0;)
    if (match (json_array_get (ms, i), data))
      {
        json_array_remove (ms, i);
        removed++;
      }
  if (removed == 0)
    ret = mini_error_set (err, ENOENT, "image %s is not in the local store", what);
  else
    ret = save_index (s, idx, err);
  json_decref (idx);
  return ret;
}

static bool
match_ref (json_t *e, const void *data)
{
  const char *r = entry_ref (e);
  return r && strcmp (r, (const char *) data) == 0;
}

static bool
match_manifest (json_t *e, const void *data)
{
  return streq0 (entry_digest (e), (const char *) data);
}

int
store_ref_remove (struct store *s, const char *ref, mini_error_t *err)
{
  return remove_entries (s, match_ref, ref, ref, err);
}

int
store_ref_remove_manifest (struct store *s, const char *manifest_digest, mini_error_t *err)
{
  return remove_entries (s, match_manifest, manifest_digest, manifest_digest, err);
}

void
store_refs_free (struct store_ref *refs, size_t n)
{
  size_t i;
  if (refs == NULL)
    return;
  for (i = 0; i < n; i++)
    {
      free (refs[i].ref);
      free (refs[i].manifest_digest);
      free (refs[i].index_digest);
    }
  free (refs);
}

/* refs.json (mini before the OCI layout) -> index.json, once. */
int
store_ref_migrate_legacy (struct store *s, mini_error_t *err)
{
  cleanup_free char *buf = NULL;
  json_t *j, *e;
  const char *k;
  size_t len;
  mini_error_t tmp = NULL;

  if (read_file_at (s->root_fd, "refs.json", &buf, &len, 0, &tmp) < 0)
    {
      if (mini_error_errno (tmp) == ENOENT)
        {
          mini_error_release (&tmp);
          return 0;
        }
      *err = tmp;
      return -1;
    }
  j = json_loadb (buf, len, 0, NULL);
  json_object_foreach (j, k, e)
  {
    const char *m = json_string_value (json_object_get (e, "manifest"));
    const char *i = json_string_value (json_object_get (e, "index"));
    if (m && store_ref_set (s, k, m, i, &tmp) < 0)
      mini_error_release (&tmp); /* an image whose blobs are gone: dropped */
  }
  json_decref (j);
  if (unlinkat (s->root_fd, "refs.json", 0) < 0 && errno != ENOENT)
    return mini_error_set (err, errno, "remove %s/refs.json", s->root);
  return 0;
}
