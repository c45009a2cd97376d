/* mini - image archives: `mini save` / `mini load`.
 *
 * One tar that is both an OCI image layout (image-spec image-layout.md:
 * oci-layout, index.json, blobs/sha256/...) and a docker-archive
 * (manifest.json: [{Config, RepoTags, Layers}], paths into blobs/), as
 * `docker save` writes since Docker 25.  Layers are the blobs as pulled
 * (usually gzip); Docker and containers/image decompress them on load.
 *
 * Loading reads OCI archives (skopeo's oci-archive:, ours) and
 * docker-archives (skopeo's docker-archive:, `docker save` of any version:
 * <id>/layer.tar, <id>.json, symlinked duplicate layers) from a stream:
 * every file is staged under tmp/load-<rnd>/ while hashed, then the blobs
 * an image needs are verified and moved into blobs/sha256/.
 */
#include "store/store.h"

#include "common/archive-loader.h"
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"

#define LOAD_MAX_ENTRIES 100000
#define LOAD_MAX_JSON (16 << 20)
#define COPY_BUF (1 << 17)

static void
cleanup_archive_readp (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}

static void
cleanup_archive_writep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

/* ------------------------------------------------------------ save */

static int
write_entry_header (struct archive *a, const char *path, int64_t size, bool dir, mini_error_t *err)
{
  struct archive_entry *e = archive_entry_new ();
  int r;

  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, dir ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm (e, dir ? 0755 : 0644);
  archive_entry_set_size (e, dir ? 0 : size);
  archive_entry_set_mtime (e, 0, 0);
  r = archive_write_header (a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return mini_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EIO, "write `%s`: %s",
                           path, archive_error_string (a));
  return 0;
}

static int
write_buf (struct archive *a, const char *path, const char *buf, size_t len, mini_error_t *err)
{
  if (write_entry_header (a, path, len, false, err) < 0)
    return -1;
  if (len && archive_write_data (a, buf, len) != (la_ssize_t) len)
    return mini_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EIO, "write `%s`: %s",
                           path, archive_error_string (a));
  return 0;
}

static int
write_blob (struct store *s, struct archive *a, const char *digest, mini_error_t *err)
{
  cleanup_free char *path = xfmt ("blobs/sha256/%s", digest_hex (digest));
  cleanup_free char *buf = NULL;
  cleanup_close int fd = -1;
  struct stat st;
  int64_t left;

  if (store_blob_open (s, digest, &fd, err) < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return mini_error_set (err, errno, "stat blob %s", digest);
  if (write_entry_header (a, path, st.st_size, false, err) < 0)
    return -1;
  buf = xmalloc (COPY_BUF);
  for (left = st.st_size; left > 0;)
    {
      ssize_t n = read_all (fd, buf, left < COPY_BUF ? (size_t) left : COPY_BUF);
      if (n <= 0)
        return mini_error_set (err, n < 0 ? errno : EIO, "read blob %s", digest);
      if (archive_write_data (a, buf, n) != n)
        return mini_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EIO, "write `%s`: %s",
                               path, archive_error_string (a));
      left -= n;
    }
  return 0;
}

static bool
strv_has (char **v, const char *x)
{
  size_t i;
  for (i = 0; v && v[i]; i++)
    if (strcmp (v[i], x) == 0)
      return true;
  return false;
}

int
store_archive_save (struct store *s, const struct store_save_image *imgs, size_t n, int out_fd,
                    mini_error_t *err)
{
  __attribute__ ((cleanup (cleanup_archive_writep))) struct archive *a = NULL;
  cleanup_strv char **blobs = NULL;
  json_t *index = store_index_new ();
  json_t *manifests = json_array ();
  char *dump = NULL;
  size_t i, k;
  int ret = -1;

  /* Everything must be there before the first byte is written. */
  for (i = 0; i < n; i++)
    {
      struct store_image *img = NULL;
      cleanup_free char *mbuf = NULL;
      size_t mlen = 0;
      json_t *mj, *mt, *desc, *ann, *layers, *tags, *entry;

      if (store_image_load (s, imgs[i].manifest_digest, &img, err) < 0)
        {
          mini_error_wrap (err, "save %s", imgs[i].names && imgs[i].names[0] ? imgs[i].names[0] : imgs[i].manifest_digest);
          goto out;
        }
      for (k = 0; k < img->n_layers; k++)
        if (!store_blob_exists (s, img->layers[k].digest))
          {
            mini_error_set (err, ENOENT, "save %s: layer blob %s is missing; pull the image again",
                            imgs[i].names && imgs[i].names[0] ? imgs[i].names[0] : imgs[i].manifest_digest,
                            img->layers[k].digest);
            store_image_free (img);
            goto out;
          }
      if (imgs[i].index_digest && store_blob_exists (s, imgs[i].index_digest)
          && !strv_has (blobs, imgs[i].index_digest))
        strv_append (&blobs, imgs[i].index_digest);
      if (!strv_has (blobs, img->manifest_digest))
        strv_append (&blobs, img->manifest_digest);
      if (!strv_has (blobs, img->config_digest))
        strv_append (&blobs, img->config_digest);
      layers = json_array ();
      for (k = 0; k < img->n_layers; k++)
        {
          cleanup_free char *p = xfmt ("blobs/sha256/%s", digest_hex (img->layers[k].digest));
          if (!strv_has (blobs, img->layers[k].digest))
            strv_append (&blobs, img->layers[k].digest);
          json_array_append_new (layers, json_string (p));
        }

      /* index.json: one descriptor per name (or one without a name). */
      if (store_blob_read (s, img->manifest_digest, &mbuf, &mlen, err) < 0)
        {
          json_decref (layers);
          store_image_free (img);
          goto out;
        }
      mj = json_loadb (mbuf, mlen, 0, NULL);
      mt = json_object_get (mj, "mediaType");
      for (k = 0; k == 0 || (imgs[i].names && imgs[i].names[k]); k++)
        {
          const char *name = imgs[i].names ? imgs[i].names[k] : NULL;
          desc = json_pack ("{s:s, s:s, s:I}", "mediaType",
                            json_is_string (mt) ? json_string_value (mt) : MT_OCI_MANIFEST, "digest",
                            img->manifest_digest, "size", (json_int_t) mlen);
          if (img->os && img->architecture)
            {
              json_t *p = json_pack ("{s:s, s:s}", "architecture", img->architecture, "os", img->os);
              if (img->variant)
                json_object_set_new (p, "variant", json_string (img->variant));
              json_object_set_new (desc, "platform", p);
            }
          ann = json_object ();
          if (name)
            {
              json_object_set_new (ann, ANN_CONTAINERD_NAME, json_string (name));
              json_object_set_new (ann, STORE_ANNOTATION_REF_NAME, json_string (name));
            }
          if (imgs[i].index_digest && strv_has (blobs, imgs[i].index_digest))
            json_object_set_new (ann, STORE_ANNOTATION_INDEX, json_string (imgs[i].index_digest));
          if (json_object_size (ann))
            json_object_set_new (desc, "annotations", ann);
          else
            json_decref (ann);
          json_array_append_new (json_object_get (index, "manifests"), desc);
          if (name == NULL)
            break;
        }
      json_decref (mj);

      /* manifest.json (docker-archive) */
      tags = json_array ();
      for (k = 0; imgs[i].repo_tags && imgs[i].repo_tags[k]; k++)
        json_array_append_new (tags, json_string (imgs[i].repo_tags[k]));
      {
        cleanup_free char *cp = xfmt ("blobs/sha256/%s", digest_hex (img->config_digest));
        entry = json_pack ("{s:s, s:o, s:o}", "Config", cp, "RepoTags", tags, "Layers", layers);
      }
      json_array_append_new (manifests, entry);
      store_image_free (img);
    }

  if (mini_archive_load (err) < 0)
    {
      goto out;
    }
  a = archive_write_new ();
  if (a == NULL)
    {
      mini_error_set (err, ENOMEM, "archive_write_new");
      goto out;
    }
  if (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK
      || archive_write_open_fd (a, out_fd) != ARCHIVE_OK)
    {
      mini_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EIO, "start the archive: %s",
                      archive_error_string (a));
      goto out;
    }
  if (write_entry_header (a, "blobs/", 0, true, err) < 0
      || write_entry_header (a, "blobs/sha256/", 0, true, err) < 0)
    goto out;
  for (i = 0; blobs && blobs[i]; i++)
    if (write_blob (s, a, blobs[i], err) < 0)
      goto out;
  dump = json_dumps (index, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  if (write_buf (a, "index.json", dump, strlen (dump), err) < 0)
    goto out;
  free (dump);
  dump = json_dumps (manifests, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (write_buf (a, "manifest.json", dump, strlen (dump), err) < 0)
    goto out;
  {
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    if (write_buf (a, "oci-layout", layout, strlen (layout), err) < 0)
      goto out;
  }
  if (archive_write_close (a) != ARCHIVE_OK)
    {
      mini_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EIO, "finish the archive: %s",
                      archive_error_string (a));
      goto out;
    }
  ret = 0;

out:
  free (dump);
  json_decref (index);
  json_decref (manifests);
  return ret;
}

/* ------------------------------------------------------------ load */

enum staged_kind
{
  STAGED_FILE,
  STAGED_LINK,     /* symlink: target relative to the link's directory */
  STAGED_HARDLINK, /* target relative to the archive root */
};

struct staged
{
  char *path; /* normalized archive path */
  enum staged_kind kind;
  char *stage;  /* STAGED_FILE: name in the staging dir */
  char *target; /* links */
  char digest[72];
  int64_t size;
  bool imported;
};

struct load_ctx
{
  struct store *s;
  const struct store_load_options *o;
  char *stage_rel;
  int stage_fd;
  struct staged *v;
  size_t n;
  struct store_loaded *out;
  size_t n_out;
};

/* "./a//b/" -> "a/b"; NULL for absolute, empty or ".." paths (what an
   entry may be called). */
static char *
normalize_path (const char *p)
{
  char *r = xmalloc (strlen (p) + 1), *w = r;
  const char *c = p;

  if (*p == '/')
    {
      free (r);
      return NULL;
    }
  while (*c)
    {
      size_t len = strcspn (c, "/");
      if (len == 0 || (len == 1 && c[0] == '.'))
        ;
      else if (len == 2 && c[0] == '.' && c[1] == '.')
        {
          free (r);
          return NULL;
        }
      else
        {
          if (w != r)
            *w++ = '/';
          memcpy (w, c, len);
          w += len;
        }
      c += len;
      while (*c == '/')
        c++;
    }
  *w = '\0';
  if (*r == '\0')
    {
      free (r);
      return NULL;
    }
  return r;
}

/* Where symlink target TARGET points from the directory DIR ("" for the
   top): ".." is resolved lexically and never goes above the archive's top
   (an absolute target starts from the top).  NULL when empty. */
static char *
resolve_link (const char *dir, const char *target)
{
  cleanup_free char *joined = target[0] == '/' ? xstrdup (target) : xfmt ("%s/%s", dir, target);
  char *r = xmalloc (strlen (joined) + 1), *w = r;
  const char *c = joined;

  *r = '\0';
  while (*c)
    {
      size_t len;
      while (*c == '/')
        c++;
      len = strcspn (c, "/");
      if (len == 0 || (len == 1 && c[0] == '.'))
        ;
      else if (len == 2 && c[0] == '.' && c[1] == '.')
        {
          char *slash = strrchr (r, '/');
          w = slash ? slash : r;
          *w = '\0';
        }
      else
        {
          if (w != r)
            *w++ = '/';
          memcpy (w, c, len);
          w += len;
          *w = '\0';
        }
      c += len;
    }
  if (*r == '\0')
    {
      free (r);
      return NULL;
    }
  return r;
}

/* The staged file at PATH, following links (at most 8). */
static struct staged *
find_file (struct load_ctx *c, const char *path)
{
  cleanup_free char *cur = normalize_path (path);
  int hops;
  size_t i;

  for (hops = 0; cur && hops < 8; hops++)
    {
      struct staged *f = NULL;
      for (i = 0; i < c->n; i++)
        if (strcmp (c->v[i].path, cur) == 0)
          f = &c->v[i];
      if (f == NULL)
        return NULL;
      if (f->kind == STAGED_FILE)
        return f;
      if (f->kind == STAGED_HARDLINK)
        {
          free (cur);
          cur = resolve_link ("", f->target);
          continue;
        }
      /* symlink: relative to the link's directory */
      {
        const char *slash = strrchr (f->path, '/');
        cleanup_free char *dir = slash ? xstrndup (f->path, slash - f->path) : xstrdup ("");
        free (cur);
        cur = resolve_link (dir, f->target);
      }
    }
  return NULL;
}

static int
stage_entry (struct load_ctx *c, struct archive *a, struct archive_entry *e, mini_error_t *err)
{
  const char *name = archive_entry_pathname (e);
  cleanup_free char *path = NULL;
  struct staged *f;
  mode_t type = archive_entry_filetype (e);

  if (name == NULL)
    return mini_error_set (err, EINVAL, "archive entry without a name");
  path = normalize_path (name);
  if (path == NULL)
    {
      if (type == AE_IFDIR)
        return 0; /* "./" */
      return mini_error_set (err, EINVAL, "archive entry `%s`: invalid path", name);
    }
  if (archive_entry_hardlink (e) == NULL && type != AE_IFREG && type != AE_IFLNK)
    return 0; /* directories and anything else: not needed */
  if (c->n >= LOAD_MAX_ENTRIES)
    return mini_error_set (err, E2BIG, "archive has more than %d entries", LOAD_MAX_ENTRIES);
  c->v = xrealloc (c->v, (c->n + 1) * sizeof (*c->v));
  f = &c->v[c->n];
  memset (f, 0, sizeof (*f));
  f->path = steal_pointer (&path);
  c->n++;
  if (archive_entry_hardlink (e))
    {
      f->kind = STAGED_HARDLINK;
      f->target = xstrdup (archive_entry_hardlink (e));
      return 0;
    }
  if (type == AE_IFLNK)
    {
      f->kind = STAGED_LINK;
      f->target = xstrdup (archive_entry_symlink (e) ? archive_entry_symlink (e) : "");
      return 0;
    }
  {
    cleanup_close int fd = -1;
    cleanup_free char *buf = xmalloc (COPY_BUF);
    cleanup_sha256 struct sha256_stream *h = sha256_stream_new ();
    la_ssize_t got;

    f->kind = STAGED_FILE;
    f->stage = xfmt ("f%zu", c->n);
    fd = openat (c->stage_fd, f->stage, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
      return mini_error_set (err, errno, "stage `%s`", f->path);
    while ((got = archive_read_data (a, buf, COPY_BUF)) > 0)
      {
        if (write_all (fd, buf, got) < 0)
          return mini_error_set (err, errno, "stage `%s`", f->path);
        sha256_stream_update (h, buf, got);
        f->size += got;
      }
    if (got < 0)
      return mini_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EIO,
                             "read archive entry `%s`: %s", f->path, archive_error_string (a));
    sha256_stream_final (h, f->digest);
    if (fsync (fd) < 0)
      return mini_error_set (err, errno, "stage `%s`", f->path);
  }
  return 0;
}

static int
read_staged (struct load_ctx *c, struct staged *f, char **ret, size_t *ret_len, mini_error_t *err)
{
  return read_file_at (c->stage_fd, f->stage, ret, ret_len, LOAD_MAX_JSON, err);
}

/* Move the staged file F into blobs/ as DIGEST (its content must hash to
   DIGEST). */
static int
import_file (struct load_ctx *c, struct staged *f, const char *digest, mini_error_t *err)
{
  cleanup_free char *to = NULL;
  cleanup_free char *from = NULL;

  if (strcmp (f->digest, digest) != 0)
    return mini_error_set (err, EINVAL, "archive entry `%s`: its content hashes to %s, not %s",
                           f->path, f->digest, digest);
  if (store_blob_exists (c->s, digest) || f->imported)
    return 0;
  from = xfmt ("%s/%s", c->stage_rel, f->stage);
  to = xfmt ("blobs/sha256/%s", digest_hex (digest));
  if (renameat (c->s->root_fd, from, c->s->root_fd, to) < 0)
    return mini_error_set (err, errno, "store blob %s", digest);
  f->imported = true;
  return 0;
}

/* Make sure blob DIGEST is in the store: already there, or in the OCI
   archive at blobs/sha256/<hex>. */
static int
import_oci_blob (struct load_ctx *c, const char *digest, const char *what, mini_error_t *err)
{
  cleanup_free char *path = NULL;
  struct staged *f;

  if (!digest_is_valid (digest))
    return mini_error_set (err, EINVAL, "%s: invalid digest `%s`", what, digest ? digest : "");
  if (store_blob_exists (c->s, digest))
    return 0;
  path = xfmt ("blobs/sha256/%s", digest_hex (digest));
  f = find_file (c, path);
  if (f == NULL)
    return mini_error_set (err, ENOENT, "the archive is incomplete: %s %s is missing", what, digest);
  return import_file (c, f, digest, err);
}

static int
read_blob_any (struct load_ctx *c, const char *digest, char **ret, size_t *ret_len, mini_error_t *err)
{
  return store_blob_read (c->s, digest, ret, ret_len, err);
}

static struct store_loaded *
loaded_for (struct load_ctx *c, const char *manifest, const char *index)
{
  size_t i;
  for (i = 0; i < c->n_out; i++)
    if (strcmp (c->out[i].manifest_digest, manifest) == 0)
      {
        if (c->out[i].index_digest == NULL && index)
          c->out[i].index_digest = xstrdup (index);
        return &c->out[i];
      }
  c->out = xrealloc (c->out, (c->n_out + 1) * sizeof (*c->out));
  memset (&c->out[c->n_out], 0, sizeof (*c->out));
  c->out[c->n_out].manifest_digest = xstrdup (manifest);
  c->out[c->n_out].index_digest = index ? xstrdup (index) : NULL;
  c->out[c->n_out].names = xmalloc0 (sizeof (char *));
  return &c->out[c->n_out++];
}

/* Import the manifest MANIFEST (already in the store) and everything it names. */
static int
import_image_blobs (struct load_ctx *c, const char *manifest, mini_error_t *err)
{
  cleanup_free char *m = NULL;
  size_t len = 0, i;
  json_t *j, *l;
  int ret = 0;

  if (read_blob_any (c, manifest, &m, &len, err) < 0)
    return -1;
  j = json_loadb (m, len, 0, NULL);
  if (j == NULL)
    return mini_error_set (err, EINVAL, "manifest %s: invalid JSON", manifest);
  ret = import_oci_blob (c, json_string_value (json_object_get (json_object_get (j, "config"), "digest")),
                         "config", err);
  json_array_foreach (json_object_get (j, "layers"), i, l)
  {
    if (ret < 0)
      break;
    ret = import_oci_blob (c, json_string_value (json_object_get (l, "digest")), "layer", err);
  }
  json_decref (j);
  return ret;
}

static bool
is_index_type (const char *mt)
{
  return mt && (strcmp (mt, MT_OCI_INDEX) == 0 || strcmp (mt, MT_DOCKER_LIST) == 0);
}

static int
load_oci (struct load_ctx *c, struct staged *indexf, mini_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0, i;
  json_t *idx, *d;
  int ret = 0;

  if (read_staged (c, indexf, &buf, &len, err) < 0)
    return mini_error_wrap (err, "index.json");
  idx = json_loadb (buf, len, 0, NULL);
  if (!json_is_array (json_object_get (idx, "manifests")))
    {
      json_decref (idx);
      return mini_error_set (err, EINVAL, "index.json of the archive is not an OCI image index");
    }
  json_array_foreach (json_object_get (idx, "manifests"), i, d)
  {
    const char *digest = json_string_value (json_object_get (d, "digest"));
    const char *mt = json_string_value (json_object_get (d, "mediaType"));
    json_t *ann = json_object_get (d, "annotations");
    const char *cname = json_string_value (json_object_get (ann, ANN_CONTAINERD_NAME));
    const char *rname = json_string_value (json_object_get (ann, STORE_ANNOTATION_REF_NAME));
    const char *ix = json_string_value (json_object_get (ann, STORE_ANNOTATION_INDEX));
    cleanup_free char *manifest = NULL;
    cleanup_free char *index = NULL;
    struct store_loaded *l;

    ret = import_oci_blob (c, digest, "manifest", err);
    if (ret < 0)
      break;
    if (is_index_type (mt))
      {
        cleanup_free char *ib = NULL;
        size_t il = 0;
        if (c->o == NULL || c->o->choose == NULL)
          {
            ret = mini_error_set (err, ENOTSUP, "%s is an image index: cannot choose a platform", digest);
            break;
          }
        ret = read_blob_any (c, digest, &ib, &il, err);
        if (ret < 0)
          break;
        ret = c->o->choose (c->o->data, ib, il, &manifest, err);
        if (ret < 0)
          break;
        index = xstrdup (digest);
        ret = import_oci_blob (c, manifest, "manifest", err);
        if (ret < 0)
          break;
      }
    else
      {
        mini_error_t e = NULL;
        manifest = xstrdup (digest);
        if (ix && import_oci_blob (c, ix, "index", &e) == 0)
          index = xstrdup (ix);
        mini_error_release (&e);
      }
    ret = import_image_blobs (c, manifest, err);
    if (ret < 0)
      break;
    l = loaded_for (c, manifest, index);
    if (cname && !strv_has (l->names, cname))
      strv_append (&l->names, cname);
    /* A ref.name without '/' or ':' is a bare tag ("latest", the usual OCI
       use): it names no repository, so the image loads untagged. */
    else if (cname == NULL && rname && strpbrk (rname, "/:") && !strv_has (l->names, rname))
      strv_append (&l->names, rname);
  }
  json_decref (idx);
  return ret;
}

static const char *
layer_media_type (struct load_ctx *c, struct staged *f)
{
  unsigned char m[4] = { 0 };
  cleanup_close int fd = openat (c->stage_fd, f->stage, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && read_all (fd, m, 4) == 4)
    {
      if (m[0] == 0x1f && m[1] == 0x8b)
        return "application/vnd.oci.image.layer.v1.tar+gzip";
      if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
        return "application/vnd.oci.image.layer.v1.tar+zstd";
    }
  return "application/vnd.oci.image.layer.v1.tar";
}

static int
load_docker (struct load_ctx *c, struct staged *mf, mini_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0, i, k;
  json_t *arr, *e, *lp, *t;
  int ret = 0;

  if (read_staged (c, mf, &buf, &len, err) < 0)
    return mini_error_wrap (err, "manifest.json");
  arr = json_loadb (buf, len, 0, NULL);
  if (!json_is_array (arr))
    {
      json_decref (arr);
      return mini_error_set (err, EINVAL, "manifest.json of the archive is not a docker-archive manifest");
    }
  json_array_foreach (arr, i, e)
  {
    const char *cfgp = json_string_value (json_object_get (e, "Config"));
    struct staged *cf = cfgp ? find_file (c, cfgp) : NULL;
    json_t *layers = json_array ();
    json_t *m;
    char *mdump;
    char mdigest[72];
    struct store_loaded *l;

    if (cf == NULL)
      {
        json_decref (layers);
        ret = mini_error_set (err, ENOENT, "the archive is incomplete: config `%s` is missing",
                              cfgp ? cfgp : "(none)");
        break;
      }
    ret = import_file (c, cf, cf->digest, err);
    json_array_foreach (json_object_get (e, "Layers"), k, lp)
    {
      const char *p = json_string_value (lp);
      struct staged *lf = p ? find_file (c, p) : NULL;
      if (ret < 0)
        break;
      if (lf == NULL)
        {
          ret = mini_error_set (err, ENOENT, "the archive is incomplete: layer `%s` is missing",
                                p ? p : "(none)");
          break;
        }
      json_array_append_new (layers, json_pack ("{s:s, s:s, s:I}", "mediaType", layer_media_type (c, lf),
                                                "digest", lf->digest, "size", (json_int_t) lf->size));
      ret = import_file (c, lf, lf->digest, err);
    }
    if (ret < 0)
      {
        json_decref (layers);
        break;
      }
    m = json_pack ("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
                   "config", "mediaType", MT_OCI_CONFIG, "digest", cf->digest, "size", (json_int_t) cf->size,
                   "layers", layers);
    mdump = json_dumps (m, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (m);
    sha256_digest (mdump, strlen (mdump), mdigest);
    ret = store_blob_put (c->s, mdigest, mdump, strlen (mdump), err);
    free (mdump);
    if (ret < 0)
      break;
    l = loaded_for (c, mdigest, NULL);
    json_array_foreach (json_object_get (e, "RepoTags"), k, t)
    {
      if (json_is_string (t) && !strv_has (l->names, json_string_value (t)))
        strv_append (&l->names, json_string_value (t));
    }
  }
  json_decref (arr);
  return ret;
}

static void
add_filter (struct archive *a, int (*support) (struct archive *))
{
  struct archive *probe = archive_read_new ();
  /* ARCHIVE_WARN means "through an external program": not wanted. */
  if (probe && support (probe) == ARCHIVE_OK)
    support (a);
  if (probe)
    archive_read_free (probe);
}

void
store_loaded_free (struct store_loaded *v, size_t n)
{
  size_t i;
  for (i = 0; v && i < n; i++)
    {
      free (v[i].manifest_digest);
      free (v[i].index_digest);
      strv_free (v[i].names);
    }
  free (v);
}

int
store_archive_load (struct store *s, int in_fd, const struct store_load_options *o,
                    struct store_loaded **ret, size_t *ret_n, mini_error_t *err)
{
  __attribute__ ((cleanup (cleanup_archive_readp))) struct archive *a = NULL;
  struct archive_entry *e;
  struct load_ctx c;
  struct staged *indexf, *mf;
  size_t i;
  int r, result = -1;

  memset (&c, 0, sizeof (c));
  c.s = s;
  c.o = o;
  c.stage_fd = -1;
  if (store_tmpdir_begin (s, "tmp", "load", &c.stage_rel, err) < 0)
    return -1;
  c.stage_fd = openat (s->root_fd, c.stage_rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (c.stage_fd < 0)
    {
      mini_error_set (err, errno, "open `%s/%s`", s->root, c.stage_rel);
      goto out;
    }

  if (mini_archive_load (err) < 0)
    {
      goto out;
    }
  a = archive_read_new ();
  if (a == NULL)
    {
      mini_error_set (err, ENOMEM, "archive_read_new");
      goto out;
    }
  add_filter (a, archive_read_support_filter_gzip);
  add_filter (a, archive_read_support_filter_zstd);
  add_filter (a, archive_read_support_filter_xz);
  add_filter (a, archive_read_support_filter_bzip2);
  archive_read_support_format_tar (a);
  if (archive_read_open_fd (a, in_fd, COPY_BUF) != ARCHIVE_OK)
    {
      mini_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EINVAL,
                      "not a tar archive: %s", archive_error_string (a));
      goto out;
    }
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    if (stage_entry (&c, a, e, err) < 0)
      goto out;
  if (r != ARCHIVE_EOF)
    {
      mini_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EINVAL, "read the archive: %s",
                      archive_error_string (a));
      goto out;
    }

  indexf = find_file (&c, "index.json");
  mf = find_file (&c, "manifest.json");
  if (indexf)
    r = load_oci (&c, indexf, err);
  else if (mf)
    r = load_docker (&c, mf, err);
  else
    r = mini_error_set (err, EINVAL,
                        "the archive is neither an OCI image layout (index.json) nor a docker-archive "
                        "(manifest.json)");
  if (r < 0)
    goto out;
  if (c.n_out == 0)
    {
      mini_error_set (err, ENOENT, "the archive holds no image");
      goto out;
    }
  *ret = steal_pointer (&c.out);
  *ret_n = c.n_out;
  result = 0;

out:
  store_loaded_free (c.out, c.n_out);
  for (i = 0; i < c.n; i++)
    {
      free (c.v[i].path);
      free (c.v[i].stage);
      free (c.v[i].target);
    }
  free (c.v);
  if (c.stage_fd >= 0)
    close (c.stage_fd);
  if (c.stage_rel)
    store_tmpdir_end (s, c.stage_rel, true);
  free (c.stage_rel);
  return result;
}
