/* mini - store maintenance: leftovers of interrupted commands, garbage
 * collection of unreferenced blobs and layers, and the consistency check.
 *
 * What is referenced ("live"): every image of index.json (its index blob,
 * manifest, config and layer blobs, and the layer stack's chain_ids) and
 * every container (its image's blobs and its chain_ids), so a container
 * keeps its image even after `mini rmi -f`.
 *
 * All three run with the exclusive gc lock held by the caller
 * (store_lock_gc (s, LOCK_EX, ...)): every command that adds content (pull,
 * load, run, tag) holds it shared, so nothing in flight is ever mistaken
 * for garbage or a leftover.
 */
#include "store/store.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>

#define INGEST_KEEP_SECONDS (24 * 3600)

/* ------------------------------------------------------------ string sets */

struct strset
{
  char **v;
  size_t n, cap;
  bool sorted;
};

static void
set_add (struct strset *s, const char *x)
{
  if (x == NULL)
    return;
  if (s->n + 1 >= s->cap)
    {
      s->cap = s->cap ? s->cap * 2 : 64;
      s->v = xrealloc (s->v, s->cap * sizeof (char *));
    }
  s->v[s->n++] = xstrdup (x);
  s->v[s->n] = NULL;
  s->sorted = false;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static bool
set_has (struct strset *s, const char *x)
{
  if (s->n == 0 || x == NULL)
    return false;
  if (!s->sorted)
    {
      qsort (s->v, s->n, sizeof (char *), cmp_str);
      s->sorted = true;
    }
  return bsearch (&x, s->v, s->n, sizeof (char *), cmp_str) != NULL;
}

static void
set_clear (struct strset *s)
{
  size_t i;
  for (i = 0; i < s->n; i++)
    free (s->v[i]);
  free (s->v);
  memset (s, 0, sizeof (*s));
}

static void
add_line (char ***v, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
add_line (char ***v, const char *fmt, ...)
{
  va_list ap;
  char *m = NULL;
  va_start (ap, fmt);
  if (vasprintf (&m, fmt, ap) < 0)
    abort ();
  va_end (ap);
  strv_append (v, m);
  free (m);
}

void
store_report_clear (struct store_report *r)
{
  strv_free (r->removed);
  strv_free (r->repaired);
  strv_free (r->problems);
  strv_free (r->notes);
  strv_free (r->extract);
  memset (r, 0, sizeof (*r));
}

/* ------------------------------------------------------------ blobs */

int64_t
store_blob_size (struct store *s, const char *digest)
{
  cleanup_free char *rel = NULL;
  struct stat st;
  if (!digest_is_valid (digest))
    return -1;
  rel = xfmt ("blobs/sha256/%s", digest_hex (digest));
  if (fstatat (s->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
    return -1;
  return st.st_size;
}

int
store_blob_remove (struct store *s, const char *digest, mini_error_t *err)
{
  cleanup_free char *rel = NULL;
  if (!digest_is_valid (digest))
    return mini_error_set (err, EINVAL, "invalid digest `%s`", digest);
  rel = xfmt ("blobs/sha256/%s", digest_hex (digest));
  if (unlinkat (s->root_fd, rel, 0) < 0 && errno != ENOENT)
    return mini_error_set (err, errno, "remove blob %s", digest);
  return 0;
}

static bool
is_hex64 (const char *s)
{
  size_t i;
  for (i = 0; i < 64; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return s[64] == '\0';
}

/* ------------------------------------------------------------ image parts */

/* The blobs (index, manifest, config, layers) and chain_ids of the image
   MANIFEST_DIGEST, as far as they can be known: the manifest alone names
   the blobs, the config is needed for the chain_ids.  *RET_KNOWN is false
   when the chain_ids could not be computed. */
void
store_image_parts (struct store *s, const char *manifest_digest, const char *index_digest,
                   char ***blobs, char ***chains, bool *ret_known)
{
  cleanup_free char *m = NULL;
  size_t len = 0, i;
  json_t *j, *l, *cd;
  struct store_image *img = NULL;
  mini_error_t e = NULL;

  *ret_known = false;
  if (index_digest)
    strv_append (blobs, index_digest);
  strv_append (blobs, manifest_digest);
  if (store_blob_read (s, manifest_digest, &m, &len, &e) < 0)
    {
      mini_error_release (&e);
      return;
    }
  j = json_loadb (m, len, 0, NULL);
  cd = json_object_get (json_object_get (j, "config"), "digest");
  if (json_is_string (cd) && digest_is_valid (json_string_value (cd)))
    strv_append (blobs, json_string_value (cd));
  json_array_foreach (json_object_get (j, "layers"), i, l)
  {
    const char *d = json_string_value (json_object_get (l, "digest"));
    if (digest_is_valid (d))
      strv_append (blobs, d);
  }
  json_decref (j);
  if (store_image_load (s, manifest_digest, &img, &e) < 0)
    {
      mini_error_release (&e);
      return;
    }
  for (i = 0; i < img->n_layers; i++)
    strv_append (chains, img->layers[i].chain_id);
  store_image_free (img);
  *ret_known = true;
}

struct live
{
  struct strset blobs, chains;
  bool complete; /* every chain_id could be computed */
};

static int
live_compute (struct store *s, struct live *lv, mini_error_t *err)
{
  struct store_ref *refs = NULL;
  struct store_container **cs = NULL;
  size_t n = 0, nc = 0, i, k;

  memset (lv, 0, sizeof (*lv));
  lv->complete = true;
  if (store_ref_list (s, &refs, &n, err) < 0)
    return -1;
  if (store_container_list (s, &cs, &nc, err) < 0)
    {
      store_refs_free (refs, n);
      return -1;
    }
  for (i = 0; i < n + nc; i++)
    {
      cleanup_strv char **b = NULL;
      cleanup_strv char **c = NULL;
      bool known = false;
      const char *md = i < n ? refs[i].manifest_digest : cs[i - n]->image_digest;

      if (i >= n)
        for (k = 0; cs[i - n]->layers && cs[i - n]->layers[k]; k++)
          set_add (&lv->chains, cs[i - n]->layers[k]);
      if (!digest_is_valid (md))
        continue;
      store_image_parts (s, md, i < n ? refs[i].index_digest : NULL, &b, &c, &known);
      if (!known && i < n)
        lv->complete = false;
      for (k = 0; b && b[k]; k++)
        set_add (&lv->blobs, b[k]);
      for (k = 0; c && c[k]; k++)
        set_add (&lv->chains, c[k]);
    }
  store_refs_free (refs, n);
  store_containers_free (cs, nc);
  return 0;
}

static void
live_clear (struct live *lv)
{
  set_clear (&lv->blobs);
  set_clear (&lv->chains);
}

/* ------------------------------------------------------------ leftovers */

/* Call FN on every entry name of directory REL (skipping . and ..). */
static int
each_entry (struct store *s, const char *rel, void (*fn) (struct store *, int, const char *, void *),
            void *data, mini_error_t *err)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd = openat (s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    {
      if (errno == ENOENT)
        return 0;
      return mini_error_set (err, errno, "open `%s/%s`", s->root, rel);
    }
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return mini_error_set (err, errno, "open `%s/%s`", s->root, rel);
    }
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      fn (s, dirfd (d), de->d_name, data);
  return 0;
}

struct sweep
{
  struct store_report *r;
  int64_t now;
};

static void
sweep_blob_tmp (struct store *s, int dfd, const char *name, void *data)
{
  struct sweep *sw = data;
  struct stat st;
  (void) s;
  if (strstr (name, ".tmp-") == NULL)
    return;
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    sw->r->bytes_freed += st.st_size;
  if (unlinkat (dfd, name, 0) == 0)
    add_line (&sw->r->removed, "leftover %s/blobs/sha256/%s (interrupted blob write)", s->root, name);
}

static void
sweep_root_tmp (struct store *s, int dfd, const char *name, void *data)
{
  struct sweep *sw = data;
  (void) dfd;
  if (strstr (name, ".tmp-") == NULL)
    return;
  if (unlinkat (s->root_fd, name, 0) == 0)
    add_line (&sw->r->removed, "leftover %s/%s (interrupted write)", s->root, name);
}

static void
sweep_ingest (struct store *s, int dfd, const char *name, void *data)
{
  struct sweep *sw = data;
  struct stat st;
  char hex[65], d[72];
  bool present = false;

  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
    return;
  if (strlen (name) >= 64)
    {
      memcpy (hex, name, 64);
      hex[64] = '\0';
      if (is_hex64 (hex))
        {
          snprintf (d, sizeof (d), "sha256:%s", hex);
          present = store_blob_exists (s, d);
        }
    }
  if (present || st.st_mtime < sw->now - INGEST_KEEP_SECONDS)
    {
      cleanup_close int fd = openat (dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      /* A download in progress holds an flock on its partial file. */
      if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0)
        return;
      if (unlinkat (dfd, name, 0) == 0)
        {
          sw->r->bytes_freed += st.st_size;
          add_line (&sw->r->removed, "leftover %s/ingest/%s (%s partial download)", s->root, name,
                    present ? "finished" : "stale");
        }
    }
  else
    sw->r->n_partials++;
}

static void
sweep_container (struct store *s, int dfd, const char *name, void *data)
{
  struct sweep *sw = data;
  cleanup_free char *st = NULL;
  cleanup_free char *rel = NULL;
  struct stat sb;
  mini_error_t e = NULL;
  int64_t files = 0, bytes = 0;

  (void) dfd;
  if (strlen (name) != 64 || !is_hex64 (name))
    return;
  st = xfmt ("containers/%s/state.json", name);
  if (fstatat (s->root_fd, st, &sb, AT_SYMLINK_NOFOLLOW) == 0)
    return;
  rel = xfmt ("containers/%s", name);
  if (store_tree_stats (s, rel, &files, &bytes, &e) == 0)
    sw->r->bytes_freed += bytes;
  mini_error_release (&e);
  if (remove_tree_at (s->root_fd, rel, &e) < 0)
    {
      add_line (&sw->r->problems, "leftover container dir %s/%s: %s", s->root, rel, e->msg);
      mini_error_release (&e);
      return;
    }
  add_line (&sw->r->removed, "leftover %s/%s (container without state: interrupted create or rm)",
            s->root, rel);
}

static void
sweep_name (struct store *s, int dfd, const char *name, void *data)
{
  struct sweep *sw = data;
  char target[80];
  cleanup_free char *st = NULL;
  struct stat sb;
  ssize_t n;

  n = readlinkat (dfd, name, target, sizeof (target) - 1);
  if (n < 0)
    return;
  target[n] = '\0';
  if (n == 64 && is_hex64 (target))
    {
      st = xfmt ("containers/%s/state.json", target);
      if (fstatat (s->root_fd, st, &sb, AT_SYMLINK_NOFOLLOW) == 0)
        return;
    }
  if (unlinkat (dfd, name, 0) == 0)
    add_line (&sw->r->removed, "leftover container name %s (no such container)", name);
}

int
store_cleanup_leftovers (struct store *s, bool partials, struct store_report *r, mini_error_t *err)
{
  struct sweep sw = { r, time (NULL) };
  cleanup_close int lock = -1;

  if (store_cleanup_tmpdirs (s, &r->removed, &r->bytes_freed, err) < 0)
    return -1;
  if (each_entry (s, "blobs/sha256", sweep_blob_tmp, &sw, err) < 0)
    return -1;
  if (partials && each_entry (s, "ingest", sweep_ingest, &sw, err) < 0)
    return -1;
  if (each_entry (s, "containers", sweep_container, &sw, err) < 0)
    return -1;
  if (each_entry (s, "names", sweep_name, &sw, err) < 0)
    return -1;
  /* index.json is written under the root lock. */
  if (store_lock_path (s, "lock", LOCK_EX, &lock, err) < 0)
    return -1;
  return each_entry (s, ".", sweep_root_tmp, &sw, err);
}

/* ------------------------------------------------------------ gc */

struct gc_ctx
{
  struct live *lv;
  struct store_report *r;
  struct strset *only_blobs, *only_chains;
};

static void
gc_blob (struct store *s, int dfd, const char *name, void *data)
{
  struct gc_ctx *g = data;
  char d[72];
  struct stat st;

  if (strlen (name) != 64 || !is_hex64 (name))
    return;
  snprintf (d, sizeof (d), "sha256:%s", name);
  if (set_has (&g->lv->blobs, d) || (g->only_blobs && !set_has (g->only_blobs, d)))
    return;
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return;
  (void) s;
  if (unlinkat (dfd, name, 0) == 0)
    {
      g->r->bytes_freed += st.st_size;
      g->r->n_blobs++;
      add_line (&g->r->removed, "deleted: %s", d);
    }
}

static void
gc_layer (struct store *s, int dfd, const char *name, void *data)
{
  struct gc_ctx *g = data;
  char c[72];
  int64_t bytes = 0;
  mini_error_t e = NULL;

  (void) dfd;
  if (strlen (name) != 64 || !is_hex64 (name))
    return;
  snprintf (c, sizeof (c), "sha256:%s", name);
  if (set_has (&g->lv->chains, c) || (g->only_chains && !set_has (g->only_chains, c)))
    return;
  /* Without every live chain_id known, only explicitly named layers go. */
  if (!g->lv->complete && g->only_chains == NULL)
    return;
  if (store_layer_remove (s, c, &bytes, &e) < 0)
    {
      add_line (&g->r->problems, "layer %s: %s", c, e->msg);
      mini_error_release (&e);
      return;
    }
  g->r->bytes_freed += bytes;
  g->r->n_layers++;
  add_line (&g->r->removed, "deleted layer: %s", c);
}

static void
gc_lockfile (struct store *s, int dfd, const char *name, void *data)
{
  (void) s;
  (void) data;
  if (strncmp (name, "layer-", 6) == 0 || strncmp (name, "key-", 4) == 0)
    unlinkat (dfd, name, 0);
}

int
store_gc (struct store *s, const struct store_ref *only, size_t n_only, struct store_report *r,
          mini_error_t *err)
{
  struct live lv;
  struct strset ob = { 0 }, oc = { 0 };
  struct gc_ctx g = { &lv, r, NULL, NULL };
  size_t i, k;
  int ret = 0;

  if (only == NULL && store_cleanup_leftovers (s, true, r, err) < 0)
    return -1;
  if (live_compute (s, &lv, err) < 0)
    return -1;
  if (!lv.complete)
    add_line (&r->notes, "some images have no readable config: their layers were kept");
  if (only)
    {
      for (i = 0; i < n_only; i++)
        {
          cleanup_strv char **b = NULL;
          cleanup_strv char **c = NULL;
          bool known;
          store_image_parts (s, only[i].manifest_digest, only[i].index_digest, &b, &c, &known);
          for (k = 0; b && b[k]; k++)
            set_add (&ob, b[k]);
          for (k = 0; c && c[k]; k++)
            set_add (&oc, c[k]);
        }
      g.only_blobs = &ob;
      g.only_chains = &oc;
    }
  if (each_entry (s, "blobs/sha256", gc_blob, &g, err) < 0
      || each_entry (s, "layers", gc_layer, &g, err) < 0)
    ret = -1;
  if (ret == 0)
    (void) store_chains_gc (s);
  /* Nobody holds a layer or key lock without the gc lock. */
  if (ret == 0 && only == NULL)
    ret = each_entry (s, "locks", gc_lockfile, NULL, err);
  set_clear (&ob);
  set_clear (&oc);
  live_clear (&lv);
  return ret;
}

/* ------------------------------------------------------------ check */

struct check_ctx
{
  struct store_report *r;
  bool repair;
  struct strset running_chains;
};

static void
check_blob (struct store *s, int dfd, const char *name, void *data)
{
  struct check_ctx *c = data;
  cleanup_close int fd = -1;
  cleanup_sha256 struct sha256_stream *h = NULL;
  char buf[1 << 16], got[72], d[72];
  struct stat st;
  ssize_t n;

  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return;
  if (strlen (name) != 64 || !is_hex64 (name) || !S_ISREG (st.st_mode))
    {
      if (c->repair && !S_ISDIR (st.st_mode) && unlinkat (dfd, name, 0) == 0)
        add_line (&c->r->repaired, "%s/blobs/sha256/%s is not a blob: removed", s->root, name);
      else
        add_line (&c->r->problems, "%s/blobs/sha256/%s is not a blob", s->root, name);
      return;
    }
  c->r->n_blobs++;
  fd = openat (dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      add_line (&c->r->problems, "blob sha256:%s: cannot be read: %s", name, strerror (errno));
      return;
    }
  h = sha256_stream_new ();
  while ((n = TEMP_FAILURE_RETRY (read (fd, buf, sizeof (buf)))) > 0)
    sha256_stream_update (h, buf, n);
  if (n < 0)
    {
      add_line (&c->r->problems, "blob sha256:%s: cannot be read: %s", name, strerror (errno));
      return;
    }
  sha256_stream_final (h, got);
  snprintf (d, sizeof (d), "sha256:%s", name);
  if (strcmp (got, d) == 0)
    return;
  if (c->repair && unlinkat (dfd, name, 0) == 0)
    add_line (&c->r->repaired, "blob %s is corrupt (its content hashes to %s): removed", d, got);
  else
    add_line (&c->r->problems, "blob %s is corrupt (its content hashes to %s)", d, got);
}

static void
check_layer (struct store *s, int dfd, const char *name, void *data)
{
  struct check_ctx *c = data;
  struct store_layer_info info;
  cleanup_free char *diff = NULL;
  char chain[72];
  struct stat st;
  int64_t files = 0, bytes = 0;
  mini_error_t e = NULL;
  const char *why = NULL;
  cleanup_free char *whybuf = NULL;

  if (strncmp (name, "tmp-", 4) == 0)
    return; /* a live extraction (dead ones were swept) */
  if (strlen (name) != 64 || !is_hex64 (name))
    {
      add_line (&c->r->problems, "%s/layers/%s is not a layer", s->root, name);
      return;
    }
  (void) dfd;
  c->r->n_layers++;
  snprintf (chain, sizeof (chain), "sha256:%s", name);
  diff = xfmt ("layers/%s/diff", name);
  if (fstatat (s->root_fd, diff, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR (st.st_mode))
    why = "it has no diff directory";
  else if (store_tree_stats (s, diff, &files, &bytes, &e) < 0)
    {
      whybuf = xfmt ("it cannot be read: %s", e->msg);
      why = whybuf;
      mini_error_release (&e);
    }
  else if (store_layer_info_get (s, chain, &info, &e) < 0)
    {
      mini_error_release (&e);
      /* A layer published before layer.json existed: record it now. */
      if (c->repair)
        {
          cleanup_free char *rel = xfmt ("layers/%s/layer.json", name);
          json_t *j = json_pack ("{s:s, s:I, s:I}", "chain_id", chain, "files", (json_int_t) files,
                                 "bytes", (json_int_t) bytes);
          char *dump = json_dumps (j, JSON_INDENT (1) | JSON_PRESERVE_ORDER);
          json_decref (j);
          if (write_file_atomic_at (s->root_fd, rel, dump, strlen (dump), 0644, &e) == 0)
            add_line (&c->r->repaired, "layer %s: recorded its contents (%lld entries)", chain,
                      (long long) files);
          else
            {
              add_line (&c->r->problems, "layer %s: %s", chain, e->msg);
              mini_error_release (&e);
            }
          free (dump);
        }
      else
        add_line (&c->r->problems, "layer %s: no layer.json", chain);
      return;
    }
  else if (info.files != files || info.bytes != bytes)
    {
      whybuf = xfmt ("it holds %lld entries, %lld bytes instead of %lld entries, %lld bytes",
                     (long long) files, (long long) bytes, (long long) info.files,
                     (long long) info.bytes);
      why = whybuf;
    }
  if (why == NULL)
    return;
  if (!c->repair)
    {
      add_line (&c->r->problems, "layer %s is damaged: %s", chain, why);
      return;
    }
  if (set_has (&c->running_chains, chain))
    {
      add_line (&c->r->problems, "layer %s is damaged (%s) but a running container uses it: stop "
                                 "the container and run `mini system check` again", chain, why);
      return;
    }
  if (store_layer_remove (s, chain, NULL, &e) < 0)
    {
      add_line (&c->r->problems, "layer %s is damaged (%s): %s", chain, why, e->msg);
      mini_error_release (&e);
      return;
    }
  add_line (&c->r->repaired, "layer %s was damaged (%s): removed", chain, why);
}

static void
add_extract (struct store_report *r, const char *manifest)
{
  size_t i;
  for (i = 0; r->extract && r->extract[i]; i++)
    if (strcmp (r->extract[i], manifest) == 0)
      return;
  strv_append (&r->extract, manifest);
}

static void
check_image (struct store *s, struct check_ctx *c, const char *name, const char *manifest,
             const char *index)
{
  struct store_image *img = NULL;
  mini_error_t e = NULL;
  size_t i;
  bool missing_layer = false;

  if (index && !store_blob_exists (s, index))
    add_line (&c->r->problems, "image %s: its index blob %s is missing; `mini pull %s` restores it",
              name, index, name);
  /* The chain_id cache is rebuilt from the config, never trusted here. */
  if (digest_is_valid (manifest))
    {
      cleanup_free char *rel = xfmt ("chains/%s", digest_hex (manifest));
      (void) unlinkat (s->root_fd, rel, 0);
    }
  if (store_image_load (s, manifest, &img, &e) < 0)
    {
      add_line (&c->r->problems, "image %s: %s; `mini pull %s` restores it", name, e->msg, name);
      mini_error_release (&e);
      return;
    }
  for (i = 0; i < img->n_layers; i++)
    {
      if (!store_blob_exists (s, img->layers[i].digest))
        add_line (&c->r->problems,
                  "image %s: layer blob %s is missing; `mini pull %s` restores it", name,
                  img->layers[i].digest, name);
      if (!store_layer_exists (s, img->layers[i].chain_id))
        missing_layer = true;
    }
  if (missing_layer)
    add_extract (c->r, manifest);
  store_image_free (img);
}

int
store_check (struct store *s, bool repair, struct store_report *r, mini_error_t *err)
{
  struct check_ctx c = { r, repair, { 0 } };
  struct store_ref *refs = NULL;
  struct store_container **cs = NULL;
  size_t n = 0, nc = 0, i, k;
  int ret = -1;

  if (repair && store_cleanup_leftovers (s, true, r, err) < 0)
    return -1;
  if (store_ref_list (s, &refs, &n, err) < 0)
    return -1;
  if (store_container_list (s, &cs, &nc, err) < 0)
    goto out;
  for (i = 0; i < nc; i++)
    if (cs[i]->status == STORE_CONTAINER_RUNNING && cs[i]->pid > 0
        && proc_start_time (cs[i]->pid) == cs[i]->pid_start_time)
      for (k = 0; cs[i]->layers && cs[i]->layers[k]; k++)
        set_add (&c.running_chains, cs[i]->layers[k]);

  if (each_entry (s, "blobs/sha256", check_blob, &c, err) < 0
      || each_entry (s, "layers", check_layer, &c, err) < 0)
    goto out;

  r->n_images = n;
  for (i = 0; i < n; i++)
    {
      cleanup_free char *name = refs[i].ref ? xstrdup (refs[i].ref) : xfmt ("%.19s", refs[i].manifest_digest + 7);
      check_image (s, &c, name, refs[i].manifest_digest, refs[i].index_digest);
    }
  r->n_containers = nc;
  for (i = 0; i < nc; i++)
    {
      bool missing = false;
      for (k = 0; cs[i]->layers && cs[i]->layers[k]; k++)
        if (!store_layer_exists (s, cs[i]->layers[k]))
          missing = true;
      if (!missing)
        continue;
      if (digest_is_valid (cs[i]->image_digest) && store_blob_exists (s, cs[i]->image_digest))
        add_extract (r, cs[i]->image_digest);
      else
        add_line (&r->problems, "container %s (%s): layers are missing and its image is gone",
                  cs[i]->name, cs[i]->id);
    }
  if (r->n_partials)
    add_line (&r->notes, "%zu partial download%s kept for resuming", r->n_partials,
              r->n_partials == 1 ? "" : "s");
  ret = 0;

out:
  set_clear (&c.running_chains);
  store_refs_free (refs, n);
  store_containers_free (cs, nc);
  return ret;
}

/* ------------------------------------------------------------ disk usage */

struct df_ctx
{
  struct strset *keep_blobs, *keep_chains;
  int64_t total, kept;
};

static void
df_blob (struct store *s, int dfd, const char *name, void *data)
{
  struct df_ctx *d = data;
  struct stat st;
  char dg[72];
  (void) s;
  if (strlen (name) != 64 || !is_hex64 (name) || fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return;
  snprintf (dg, sizeof (dg), "sha256:%s", name);
  d->total += st.st_size;
  if (set_has (d->keep_blobs, dg))
    d->kept += st.st_size;
}

static void
df_layer (struct store *s, int dfd, const char *name, void *data)
{
  struct df_ctx *d = data;
  struct store_layer_info info;
  char c[72];
  mini_error_t e = NULL;
  int64_t files = 0, bytes = 0;
  (void) dfd;
  if (strlen (name) != 64 || !is_hex64 (name))
    return;
  snprintf (c, sizeof (c), "sha256:%s", name);
  if (store_layer_info_get (s, c, &info, &e) == 0)
    bytes = info.bytes;
  else
    {
      cleanup_free char *rel = xfmt ("layers/%s", name);
      mini_error_release (&e);
      if (store_tree_stats (s, rel, &files, &bytes, &e) < 0)
        mini_error_release (&e);
    }
  d->total += bytes;
  if (set_has (d->keep_chains, c))
    d->kept += bytes;
}

int
store_df (struct store *s, bool (*is_running) (void *, struct store_container *), void *data,
          struct store_df *ret, mini_error_t *err)
{
  struct store_ref *refs = NULL;
  struct store_container **cs = NULL;
  struct strset manifests = { 0 }, used = { 0 }, kb = { 0 }, kc = { 0 };
  struct df_ctx d = { &kb, &kc, 0, 0 };
  size_t n = 0, nc = 0, i, k;
  int r = -1;

  memset (ret, 0, sizeof (*ret));
  if (store_ref_list (s, &refs, &n, err) < 0)
    return -1;
  if (store_container_list (s, &cs, &nc, err) < 0)
    goto out;
  for (i = 0; i < nc; i++)
    {
      cleanup_strv char **b = NULL;
      cleanup_strv char **c = NULL;
      cleanup_free char *upper = xfmt ("containers/%s/upper", cs[i]->id);
      int64_t files = 0, bytes = 0;
      mini_error_t e = NULL;
      bool known, running = is_running ? is_running (data, cs[i]) : cs[i]->status == STORE_CONTAINER_RUNNING;

      ret->containers++;
      if (store_tree_stats (s, upper, &files, &bytes, &e) < 0)
        mini_error_release (&e);
      ret->containers_size += bytes;
      if (running)
        ret->containers_active++;
      else
        ret->containers_reclaimable += bytes;
      if (digest_is_valid (cs[i]->image_digest))
        {
          set_add (&used, cs[i]->image_digest);
          store_image_parts (s, cs[i]->image_digest, NULL, &b, &c, &known);
        }
      for (k = 0; b && b[k]; k++)
        set_add (&kb, b[k]);
      for (k = 0; c && c[k]; k++)
        set_add (&kc, c[k]);
      for (k = 0; cs[i]->layers && cs[i]->layers[k]; k++)
        set_add (&kc, cs[i]->layers[k]);
    }
  for (i = 0; i < n; i++)
    if (!set_has (&manifests, refs[i].manifest_digest))
      {
        set_add (&manifests, refs[i].manifest_digest);
        ret->images++;
        if (set_has (&used, refs[i].manifest_digest))
          ret->images_active++;
      }
  if (each_entry (s, "blobs/sha256", df_blob, &d, err) < 0
      || each_entry (s, "layers", df_layer, &d, err) < 0)
    goto out;
  ret->images_size = d.total;
  ret->images_reclaimable = d.total - d.kept;
  r = 0;

out:
  set_clear (&manifests);
  set_clear (&used);
  set_clear (&kb);
  set_clear (&kc);
  store_refs_free (refs, n);
  store_containers_free (cs, nc);
  return r;
}
