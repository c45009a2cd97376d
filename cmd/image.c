/* mini - image verbs: images, rmi, tag, inspect, save, load, image ...,
   system prune|df|check; and the store locking every verb that adds content
   goes through. */
#include "cmd/cmd.h"
#include "unpack/unpack.h"
#include "run/run.h"

#include <getopt.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>

/* ------------------------------------------------------------ locking */

int
cmd_lock_shared (struct cmd_globals *g, bool sweep, mini_error_t *err)
{
  struct store *s = cmd_store (g);
  int fd = -1;

  if (!sweep)
    return store_lock_gc (s, LOCK_SH, &fd, err) < 0 ? -1 : fd;
  /* Alone with the store: first remove what interrupted commands left. */
  if (store_lock_gc (s, LOCK_EX | LOCK_NB, &fd, err) == 0)
    {
      struct store_report r = { 0 };
      mini_error_t e = NULL;
      /* Partial downloads stay for resuming: only prune and check remove them. */
      if (store_cleanup_leftovers (s, false, &r, &e) < 0)
        mini_error_release (&e);
      store_report_clear (&r);
      if (TEMP_FAILURE_RETRY (flock (fd, LOCK_SH)) < 0)
        {
          int en = errno;
          close (fd);
          return mini_error_set (err, en, "lock the store");
        }
      return fd;
    }
  if (mini_error_errno (*err) != EWOULDBLOCK)
    return -1;
  mini_error_release (err);
  if (store_lock_gc (s, LOCK_SH, &fd, err) < 0)
    return -1;
  return fd;
}

int
cmd_lock_exclusive (struct cmd_globals *g, mini_error_t *err)
{
  struct store *s = cmd_store (g);
  int fd = -1;

  if (store_lock_gc (s, LOCK_EX | LOCK_NB, &fd, err) == 0)
    return fd;
  if (mini_error_errno (*err) != EWOULDBLOCK)
    return -1;
  mini_error_release (err);
  fprintf (stderr, "Waiting for other mini commands using %s to finish...\n", s->root);
  if (store_lock_gc (s, LOCK_EX, &fd, err) < 0)
    return -1;
  return fd;
}

int
cmd_unpack_image (struct cmd_globals *g, const struct store_image *img, mini_error_t *err)
{
  struct store *s = cmd_store (g);
  int *locks = xmalloc0 ((img->n_layers + 1) * sizeof (int));
  size_t i, n = 0;
  int ret = 0;

  /* Bottom-up, like every other unpack: images sharing a layer share all
     the layers below it, so the order is the same for everyone. */
  for (i = 0; i < img->n_layers && ret == 0; i++)
    {
      if (store_layer_exists (s, img->layers[i].chain_id))
        continue;
      ret = store_lock_layer (s, img->layers[i].chain_id, &locks[n], err);
      if (ret == 0)
        n++;
    }
  /* Waiting for a lock may have let another process extract the layers. */
  if (ret == 0)
    ret = unpack_image (s, img, NULL, err);
  for (i = 0; i < n; i++)
    close (locks[i]);
  free (locks);
  return ret;
}

/* ------------------------------------------------------------ lookup */

/* Normalize NAME as an image reference; NULL when it is not one. */
static char *
normalize (const char *name)
{
  struct pull_reference *ref = NULL;
  mini_error_t e = NULL;
  char *s;
  if (pull_reference_parse (name, &ref, &e) < 0)
    {
      mini_error_release (&e);
      return NULL;
    }
  s = pull_reference_string (ref);
  pull_reference_free (ref);
  return s;
}

static char *
config_of (struct store *s, const char *manifest)
{
  struct store_image *img = NULL;
  mini_error_t e = NULL;
  char *c;
  if (store_image_load (s, manifest, &img, &e) < 0)
    {
      mini_error_release (&e);
      return NULL;
    }
  c = xstrdup (img->config_digest);
  store_image_free (img);
  return c;
}

void
cmd_image_match_clear (struct cmd_image_match *m)
{
  store_refs_free (m->refs, m->n);
  free (m->manifest_digest);
  free (m->index_digest);
  free (m->config_digest);
  free (m->ref);
  memset (m, 0, sizeof (*m));
}

int
cmd_image_lookup (struct cmd_globals *g, const char *name, struct cmd_image_match *ret,
                  mini_error_t *err)
{
  struct store *s = cmd_store (g);
  cleanup_free char *norm = normalize (name);
  struct store_ref *all = NULL;
  size_t n = 0, i;
  const char *hex = strncmp (name, "sha256:", 7) == 0 ? name + 7 : name;
  size_t hl = strlen (hex);
  bool idlike = hl >= 1 && hl <= 64 && strspn (hex, "0123456789abcdef") == hl;

  memset (ret, 0, sizeof (*ret));
  if (store_ref_list (s, &all, &n, err) < 0)
    return -1;
  /* A reference first (docker's order), then an image ID prefix. */
  for (i = 0; norm && i < n; i++)
    if (all[i].ref && strcmp (all[i].ref, norm) == 0)
      {
        ret->ref = xstrdup (norm);
        ret->manifest_digest = xstrdup (all[i].manifest_digest);
        ret->index_digest = all[i].index_digest ? xstrdup (all[i].index_digest) : NULL;
        break;
      }
  if (ret->manifest_digest == NULL && idlike)
    for (i = 0; i < n; i++)
      {
        cleanup_free char *cfg = config_of (s, all[i].manifest_digest);
        bool match = (cfg && strncmp (cfg + 7, hex, hl) == 0)
                     || (hl == 64 && strcmp (all[i].manifest_digest + 7, hex) == 0);
        if (!match)
          continue;
        if (ret->manifest_digest && strcmp (ret->manifest_digest, all[i].manifest_digest) != 0)
          {
            store_refs_free (all, n);
            cmd_image_match_clear (ret);
            return mini_error_set (err, EINVAL, "image ID prefix `%s` is ambiguous; give more characters", name);
          }
        if (ret->manifest_digest == NULL)
          {
            ret->manifest_digest = xstrdup (all[i].manifest_digest);
            ret->by_id = true;
          }
        if (ret->index_digest == NULL && all[i].index_digest)
          ret->index_digest = xstrdup (all[i].index_digest);
      }
  if (ret->manifest_digest == NULL)
    {
      store_refs_free (all, n);
      return mini_error_set (err, ENOENT, "No such image: %s", name);
    }
  ret->config_digest = config_of (s, ret->manifest_digest);
  /* Every reference to the same image. */
  ret->refs = xmalloc0 ((n + 1) * sizeof (*ret->refs));
  for (i = 0; i < n; i++)
    if (strcmp (all[i].manifest_digest, ret->manifest_digest) == 0)
      {
        struct store_ref *r = &ret->refs[ret->n++];
        r->ref = all[i].ref ? xstrdup (all[i].ref) : NULL;
        r->manifest_digest = xstrdup (all[i].manifest_digest);
        r->index_digest = all[i].index_digest ? xstrdup (all[i].index_digest) : NULL;
      }
  store_refs_free (all, n);
  return 0;
}

/* ------------------------------------------------------------ helpers */

static bool
strv_has_ (char **v, const char *x)
{
  size_t i;
  for (i = 0; v && v[i]; i++)
    if (strcmp (v[i], x) == 0)
      return true;
  return false;
}

/* Split a normalized reference into Docker's REPOSITORY and TAG columns
   (familiar form); *RET_DIGEST gets the pinned digest, if any. */
static void
split_ref (const char *ref, char **ret_repo, char **ret_tag, char **ret_digest)
{
  cleanup_free char *fam = NULL;
  char *at, *slash, *colon;

  if (ref == NULL)
    {
      *ret_repo = xstrdup ("<none>");
      *ret_tag = xstrdup ("<none>");
      if (ret_digest)
        *ret_digest = NULL;
      return;
    }
  fam = cmd_familiar_ref (ref);
  at = strchr (fam, '@');
  if (ret_digest)
    *ret_digest = at ? xstrdup (at + 1) : NULL;
  if (at)
    *at = '\0';
  slash = strrchr (fam, '/');
  colon = strrchr (fam, ':');
  if (colon && (slash == NULL || colon > slash))
    {
      *colon = '\0';
      *ret_tag = xstrdup (colon + 1);
    }
  else
    *ret_tag = xstrdup ("<none>");
  *ret_repo = xstrdup (fam);
}

static int64_t
parse_rfc3339 (const char *s)
{
  struct tm tm = { 0 };
  if (s == NULL || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return timegm (&tm);
}

/* The unpacked size when every layer is extracted, else the compressed one. */
static int64_t
image_size (struct store *s, const struct store_image *img)
{
  int64_t total = 0;
  size_t i;
  for (i = 0; i < img->n_layers; i++)
    {
      struct store_layer_info info;
      mini_error_t e = NULL;
      if (store_layer_info_get (s, img->layers[i].chain_id, &info, &e) < 0)
        {
          mini_error_release (&e);
          return img->size;
        }
      total += info.bytes;
    }
  return total;
}

/* Docker's tabwriter: columns as wide as their widest cell, 3 spaces apart. */
struct table
{
  size_t ncol, nrows;
  char ***rows;
};

static void
table_add (struct table *t, char **cells)
{
  size_t k;
  t->rows = xrealloc (t->rows, (t->nrows + 1) * sizeof (char **));
  t->rows[t->nrows] = xmalloc0 (t->ncol * sizeof (char *));
  for (k = 0; k < t->ncol; k++)
    t->rows[t->nrows][k] = xstrdup (cells[k] ? cells[k] : "");
  t->nrows++;
}

static void
table_print_free (struct table *t, FILE *f)
{
  size_t *w = xmalloc0 (t->ncol * sizeof (size_t)), r, k;
  for (r = 0; r < t->nrows; r++)
    for (k = 0; k < t->ncol; k++)
      if (strlen (t->rows[r][k]) > w[k])
        w[k] = strlen (t->rows[r][k]);
  for (r = 0; r < t->nrows; r++)
    {
      for (k = 0; k < t->ncol; k++)
        {
          fputs (t->rows[r][k], f);
          if (k + 1 < t->ncol)
            fprintf (f, "%*s", (int) (w[k] - strlen (t->rows[r][k]) + 3), "");
          free (t->rows[r][k]);
        }
      fputc ('\n', f);
      free (t->rows[r]);
    }
  free (t->rows);
  free (w);
}

static char *
time_rfc3339 (int64_t ns)
{
  struct tm tm;
  time_t t = ns / 1000000000LL;
  char buf[64];
  if (ns <= 0)
    return xstrdup ("0001-01-01T00:00:00Z");
  gmtime_r (&t, &tm);
  strftime (buf, sizeof (buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return xfmt ("%s.%09lldZ", buf, (long long) (ns % 1000000000LL));
}

static void
print_json (json_t *j)
{
  char *s = json_dumps (j, JSON_INDENT (4) | JSON_PRESERVE_ORDER);
  puts (s);
  free (s);
}

/* ------------------------------------------------------------ images */

int
cmd_images (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { "digests", no_argument, NULL, 'd' },
    { "no-trunc", no_argument, NULL, 'T' },
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static const char usage[] = "Usage: mini images [-q] [--digests] [--no-trunc] [--format json] [REPOSITORY[:TAG]]\n";
  struct store_ref *refs = NULL;
  mini_error_t err = NULL;
  bool quiet = false, digests = false, notrunc = false, json = false;
  const char *filter = NULL;
  struct table t = { 0 };
  size_t n = 0, i;
  int c;

  while ((c = getopt_long (argc, argv, "+qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'q':
        quiet = true;
        break;
      case 'd':
        digests = true;
        break;
      case 'T':
        notrunc = true;
        break;
      case 'f':
        if (strcmp (optarg, "json") != 0 && strcmp (optarg, "{{json .}}") != 0)
          {
            fprintf (stderr, "mini: unsupported --format `%s`: only `json` is supported\n", optarg);
            return 1;
          }
        json = true;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        fprintf (stderr, "See 'mini images --help'.\n");
        return 1;
      }
  if (argc - optind > 1)
    {
      fprintf (stderr, "mini: \"images\" accepts at most 1 argument.\n%s", usage);
      return 1;
    }
  if (optind < argc)
    filter = argv[optind];
  if (store_ref_list (cmd_store (g), &refs, &n, &err) < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  t.ncol = digests ? 6 : 5;
  if (!quiet && !json)
    {
      char *h6[] = { "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE" };
      char *h5[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE" };
      table_add (&t, digests ? h6 : h5);
    }
  for (i = 0; i < n; i++)
    {
      struct store_image *img = NULL;
      cleanup_free char *repo = NULL;
      cleanup_free char *tag = NULL;
      cleanup_free char *pinned = NULL;
      cleanup_free char *ago = NULL;
      cleanup_free char *created = NULL;
      cleanup_free char *size = NULL;
      cleanup_free char *id = NULL;
      const char *digest;
      int64_t t0;

      if (store_image_load (g->store, refs[i].manifest_digest, &img, &err) < 0)
        {
          mini_error_release (&err);
          continue;
        }
      split_ref (refs[i].ref, &repo, &tag, &pinned);
      if (filter)
        {
          cleanup_free char *frepo = NULL;
          cleanup_free char *ftag = NULL;
          cleanup_free char *fnorm = normalize (filter);
          const char *last = strrchr (filter, '/') ? strrchr (filter, '/') : filter;
          bool has_tag = strchr (last, ':') != NULL;
          split_ref (fnorm, &frepo, &ftag, NULL);
          if (fnorm == NULL || strcmp (frepo, repo) != 0 || (has_tag && strcmp (ftag, tag) != 0))
            {
              store_image_free (img);
              continue;
            }
        }
      digest = refs[i].index_digest ? refs[i].index_digest : refs[i].manifest_digest;
      if (pinned)
        digest = pinned;
      id = notrunc ? xstrdup (img->config_digest) : xstrndup (digest_hex (img->config_digest), 12);
      t0 = parse_rfc3339 (img->created);
      ago = t0 ? human_duration (time (NULL) - t0) : NULL;
      created = t0 ? xfmt ("%s ago", ago) : xstrdup ("N/A");
      size = human_size (image_size (g->store, img));
      if (quiet)
        printf ("%s\n", id);
      else if (json)
        {
          char at[64] = "N/A";
          time_t tt = t0;
          struct tm tm;
          json_t *j;
          char *dump;
          if (t0)
            {
              gmtime_r (&tt, &tm);
              strftime (at, sizeof (at), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
            }
          j = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers", "N/A",
                         "CreatedAt", at, "CreatedSince", created, "Digest", refs[i].ref ? digest : "<none>",
                         "ID", id, "Repository", repo, "SharedSize", "N/A", "Size", size, "Tag", tag,
                         "UniqueSize", "N/A", "VirtualSize", size, "Manifest", refs[i].manifest_digest);
          dump = json_dumps (j, JSON_COMPACT | JSON_PRESERVE_ORDER);
          puts (dump);
          free (dump);
          json_decref (j);
        }
      else if (digests)
        {
          char *row[] = { repo, tag, (char *) (refs[i].ref ? digest : "<none>"), id, created, size };
          table_add (&t, row);
        }
      else
        {
          char *row[] = { repo, tag, id, created, size };
          table_add (&t, row);
        }
      store_image_free (img);
    }
  table_print_free (&t, stdout);
  store_refs_free (refs, n);
  return 0;
}

/* ------------------------------------------------------------ rmi */

/* Containers (any state) using MANIFEST / CONFIG; NULL-terminated names. */
static char **
containers_using (struct store *s, const char *manifest, const char *config, bool *ret_running)
{
  struct store_container **cs = NULL;
  size_t n = 0, i;
  char **v = NULL;
  mini_error_t e = NULL;

  *ret_running = false;
  if (store_container_list (s, &cs, &n, &e) < 0)
    {
      mini_error_release (&e);
      return NULL;
    }
  for (i = 0; i < n; i++)
    if ((cs[i]->image_digest && strcmp (cs[i]->image_digest, manifest) == 0)
        || (config && cs[i]->config_digest && strcmp (cs[i]->config_digest, config) == 0))
      {
        cleanup_free char *d = xfmt ("%s (%.12s)", cs[i]->name, cs[i]->id);
        strv_append (&v, d);
        if (run_container_is_running (s, cs[i]))
          *ret_running = true;
      }
  store_containers_free (cs, n);
  return v;
}

static void
print_untagged (const struct store_ref *r)
{
  cleanup_free char *fam = NULL;
  if (r->ref == NULL)
    return;
  fam = cmd_familiar_ref (r->ref);
  printf ("Untagged: %s\n", fam);
  if (strchr (fam, '@') == NULL && (r->index_digest || r->manifest_digest))
    {
      char *colon = strrchr (fam, ':'), *slash = strrchr (fam, '/');
      if (colon && (slash == NULL || colon > slash))
        *colon = '\0';
      printf ("Untagged: %s@%s\n", fam, r->index_digest ? r->index_digest : r->manifest_digest);
    }
}

static void
print_deleted (const struct store_report *r, const char *config)
{
  size_t i;
  bool cfg = false;
  for (i = 0; r->removed && r->removed[i]; i++)
    if (config && strcmp (r->removed[i] + strlen ("deleted: "), config) == 0
        && strncmp (r->removed[i], "deleted: ", 9) == 0)
      cfg = true;
  if (cfg)
    printf ("Deleted: %s\n", config);
  for (i = 0; r->removed && r->removed[i]; i++)
    if (strncmp (r->removed[i], "deleted layer: ", 15) == 0)
      printf ("Deleted: %s\n", r->removed[i] + 15);
}

int
cmd_rmi (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static const char usage[] = "Usage: mini rmi [-f] IMAGE...\n";
  cleanup_close int lock = -1;
  mini_error_t err = NULL;
  bool force = false;
  int ch, i, rc = 0;

  while ((ch = getopt_long (argc, argv, "+fh", opts, NULL)) != -1)
    switch (ch)
      {
      case 'f':
        force = true;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        fprintf (stderr, "See 'mini rmi --help'.\n");
        return 1;
      }
  if (optind >= argc)
    {
      fprintf (stderr, "mini: \"rmi\" requires at least 1 argument.\n%s", usage);
      return 1;
    }
  lock = cmd_lock_exclusive (g, &err);
  if (lock < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  for (i = optind; i < argc; i++)
    {
      struct cmd_image_match m;
      struct store_report r = { 0 };
      cleanup_strv char **users = NULL;
      struct store_ref *gone = NULL;
      size_t n_gone = 0, k;
      bool running = false, last;

      if (cmd_image_lookup (g, argv[i], &m, &err) < 0)
        {
          cmd_print_error (&err);
          rc = 1;
          continue;
        }
      /* By name: that reference only.  By ID: every reference. */
      last = m.by_id || m.n <= 1;
      if (m.by_id && m.n > 1 && !force)
        {
          fprintf (stderr, "mini: conflict: unable to delete %.12s (must be forced) - image is "
                           "referenced in multiple repositories\n", digest_hex (m.config_digest ? m.config_digest : m.manifest_digest));
          cmd_image_match_clear (&m);
          rc = 1;
          continue;
        }
      users = last ? containers_using (g->store, m.manifest_digest, m.config_digest, &running) : NULL;
      if (users && !force)
        {
          fprintf (stderr, "mini: conflict: unable to remove image %s (must force) - container %s is "
                           "using it (%s); remove the container first or use rmi -f\n",
                   argv[i], users[0], running ? "running" : "stopped");
          cmd_image_match_clear (&m);
          rc = 1;
          continue;
        }
      gone = xmalloc0 ((m.n + 1) * sizeof (*gone));
      for (k = 0; k < m.n; k++)
        {
          int ret;
          if (!m.by_id && (m.refs[k].ref == NULL || strcmp (m.refs[k].ref, m.ref) != 0))
            continue;
          if (m.refs[k].ref)
            ret = store_ref_remove (g->store, m.refs[k].ref, &err);
          else
            ret = store_ref_remove_manifest (g->store, m.manifest_digest, &err);
          if (ret < 0)
            {
              cmd_print_error (&err);
              rc = 1;
              continue;
            }
          print_untagged (&m.refs[k]);
          gone[n_gone].ref = m.refs[k].ref ? xstrdup (m.refs[k].ref) : NULL;
          gone[n_gone].manifest_digest = xstrdup (m.refs[k].manifest_digest);
          gone[n_gone].index_digest = m.refs[k].index_digest ? xstrdup (m.refs[k].index_digest) : NULL;
          n_gone++;
        }
      if (n_gone && last)
        {
          if (store_gc (g->store, gone, n_gone, &r, &err) < 0)
            {
              cmd_print_error (&err);
              rc = 1;
            }
          else if (users)
            printf ("(its content is kept for container %s%s)\n", users[0], strv_len (users) > 1 ? " and others" : "");
          print_deleted (&r, m.config_digest);
        }
      store_report_clear (&r);
      store_refs_free (gone, n_gone);
      cmd_image_match_clear (&m);
    }
  return rc;
}

/* ------------------------------------------------------------ tag */

int
cmd_tag (struct cmd_globals *g, int argc, char **argv)
{
  static const char usage[] = "Usage: mini tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n";
  struct cmd_image_match m;
  struct pull_reference *dst = NULL;
  cleanup_free char *dststr = NULL;
  cleanup_close int lock = -1;
  mini_error_t err = NULL;
  int ch, ret;

  while ((ch = getopt (argc, argv, "+h")) != -1)
    switch (ch)
      {
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        fprintf (stderr, "See 'mini tag --help'.\n");
        return 1;
      }
  if (argc - optind != 2)
    {
      fprintf (stderr, "mini: \"tag\" requires exactly 2 arguments.\n%s", usage);
      return 1;
    }
  if (pull_reference_parse (argv[optind + 1], &dst, &err) < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  if (dst->digest)
    {
      fprintf (stderr, "mini: refusing to create a tag with a digest reference: %s\n", argv[optind + 1]);
      pull_reference_free (dst);
      return 1;
    }
  dststr = pull_reference_string (dst);
  pull_reference_free (dst);
  lock = cmd_lock_shared (g, true, &err);
  if (lock < 0 || cmd_image_lookup (g, argv[optind], &m, &err) < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  ret = store_ref_set (g->store, dststr, m.manifest_digest, m.index_digest, &err);
  cmd_image_match_clear (&m);
  if (ret < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  return 0;
}

/* ------------------------------------------------------------ inspect */

static json_t *
strv_to_json (char **v)
{
  json_t *a = json_array ();
  size_t i;
  for (i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

static json_t *
inspect_image (struct cmd_globals *g, const struct cmd_image_match *m, mini_error_t *err)
{
  struct store_image *img = NULL;
  cleanup_free char *cbuf = NULL;
  cleanup_free char *mbuf = NULL;
  size_t clen = 0, mlen = 0, i;
  json_t *cfg, *j, *tags, *digests, *layers, *mj, *mt, *cc;

  if (store_image_load (g->store, m->manifest_digest, &img, err) < 0
      || store_blob_read (g->store, img->config_digest, &cbuf, &clen, err) < 0
      || store_blob_read (g->store, m->manifest_digest, &mbuf, &mlen, err) < 0)
    {
      store_image_free (img);
      return NULL;
    }
  cfg = json_loadb (cbuf, clen, 0, NULL);
  mj = json_loadb (mbuf, mlen, 0, NULL);
  tags = json_array ();
  digests = json_array ();
  for (i = 0; i < m->n; i++)
    {
      cleanup_free char *repo = NULL;
      cleanup_free char *tag = NULL;
      cleanup_free char *pinned = NULL;
      cleanup_free char *rd = NULL;
      if (m->refs[i].ref == NULL)
        continue;
      split_ref (m->refs[i].ref, &repo, &tag, &pinned);
      if (strcmp (tag, "<none>") != 0)
        {
          cleanup_free char *t = xfmt ("%s:%s", repo, tag);
          json_array_append_new (tags, json_string (t));
        }
      rd = xfmt ("%s@%s", repo, pinned ? pinned : m->refs[i].index_digest ? m->refs[i].index_digest : m->refs[i].manifest_digest);
      {
        bool dup = false;
        size_t k;
        json_t *x;
        json_array_foreach (digests, k, x)
          if (strcmp (json_string_value (x), rd) == 0)
            dup = true;
        if (!dup)
          json_array_append_new (digests, json_string (rd));
      }
    }
  layers = json_array ();
  for (i = 0; i < img->n_layers; i++)
    json_array_append_new (layers, json_string (img->layers[i].diff_id));
  cc = json_object_get (cfg, "config");
  mt = json_object_get (mj, "mediaType");
  j = json_pack ("{s:s, s:o, s:o, s:s, s:s, s:s?, s:s, s:s, s:O?, s:s?, s:s?, s:s?, s:I, s:{s:s, s:o}, s:{s:s?, s:s, s:I}}",
                 "Id", img->config_digest, "RepoTags", tags, "RepoDigests", digests, "Parent", "",
                 "Comment", json_string_value (json_object_get (cfg, "comment")) ? json_string_value (json_object_get (cfg, "comment")) : "",
                 "Created", img->created,
                 "DockerVersion", json_string_value (json_object_get (cfg, "docker_version")) ? json_string_value (json_object_get (cfg, "docker_version")) : "",
                 "Author", json_string_value (json_object_get (cfg, "author")) ? json_string_value (json_object_get (cfg, "author")) : "",
                 "Config", json_is_object (cc) ? cc : NULL, "Architecture", img->architecture,
                 "Variant", img->variant, "Os", img->os, "Size", (json_int_t) image_size (g->store, img),
                 "RootFS", "Type", "layers", "Layers", layers, "Descriptor", "mediaType",
                 json_string_value (mt), "digest", m->manifest_digest, "size", (json_int_t) mlen);
  if (j && img->variant == NULL)
    json_object_del (j, "Variant");
  json_decref (cfg);
  json_decref (mj);
  store_image_free (img);
  if (j == NULL)
    mini_error_set (err, EINVAL, "image %s: cannot describe it", m->manifest_digest);
  return j;
}

static const char *const status_names[] = { "created", "running", "exited" };

static json_t *
inspect_container (struct cmd_globals *g, struct store_container *c)
{
  bool running = run_container_is_running (g->store, c);
  cleanup_free char *created = time_rfc3339 (c->created_ns);
  cleanup_free char *started = time_rfc3339 (c->started_ns);
  cleanup_free char *finished = time_rfc3339 (c->finished_ns);
  cleanup_free char *name = xfmt ("/%s", c->name);
  cleanup_free char *dir = store_container_path (g->store, c->id);
  cleanup_free char *upper = xfmt ("%s/upper", dir);
  cleanup_free char *work = xfmt ("%s/work", dir);
  cleanup_free char *merged = xfmt ("%s/rootfs", dir);
  cleanup_free char *lower = NULL;
  size_t i, n = strv_len (c->layers);
  json_t *args = json_array ();

  for (i = n; i-- > 0;)
    {
      cleanup_free char *p = store_layer_diff_path (g->store, c->layers[i]);
      char *l = lower ? xfmt ("%s:%s", lower, p) : xstrdup (p);
      free (lower);
      lower = l;
    }
  for (i = 1; c->argv && c->argv[0] && c->argv[i]; i++)
    json_array_append_new (args, json_string (c->argv[i]));
  return json_pack ("{s:s, s:s, s:s?, s:o, s:{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s},"
                    " s:s?, s:s, s:i, s:{s:s?, s:s, s:o, s:o, s:s?, s:s, s:n, s:s?},"
                    " s:{s:s, s:s, s:b}, s:{s:s, s:{s:s?, s:s, s:s, s:s}}}",
                    "Id", c->id, "Created", created, "Path", c->argv && c->argv[0] ? c->argv[0] : NULL,
                    "Args", args,
                    "State", "Status", status_names[c->status], "Running", running, "Paused", 0,
                    "Restarting", 0, "OOMKilled", 0, "Dead", 0, "Pid", running ? (int) c->pid : 0,
                    "ExitCode", c->status == STORE_CONTAINER_EXITED ? c->exit_code : 0, "Error", "",
                    "StartedAt", started, "FinishedAt", finished,
                    "Image", c->config_digest, "Name", name, "RestartCount", 0,
                    "Config", "Hostname", c->hostname, "User", c->user ? c->user : "", "Env",
                    strv_to_json (c->env), "Cmd", strv_to_json (c->argv), "Image", c->image,
                    "WorkingDir", c->working_dir ? c->working_dir : "/", "Entrypoint", "StopSignal",
                    c->stop_signal,
                    "HostConfig", "NetworkMode", c->net_host ? "host" : "none", "PidMode",
                    c->pid_host ? "host" : "", "AutoRemove", c->auto_remove,
                    "GraphDriver", "Name", "overlay", "Data", "LowerDir", lower, "UpperDir", upper,
                    "WorkDir", work, "MergedDir", merged);
}

int
cmd_inspect (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "type", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static const char usage[] = "Usage: mini inspect [--type image|container] NAME|ID...\n";
  const char *type = NULL;
  json_t *out;
  int ch, i, rc = 0;

  while ((ch = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    switch (ch)
      {
      case 't':
        if (strcmp (optarg, "image") != 0 && strcmp (optarg, "container") != 0)
          {
            fprintf (stderr, "mini: invalid --type `%s`: use image or container\n", optarg);
            return 1;
          }
        type = optarg;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        fprintf (stderr, "See 'mini inspect --help'.\n");
        return 1;
      }
  if (optind >= argc)
    {
      fprintf (stderr, "mini: \"inspect\" requires at least 1 argument.\n%s", usage);
      return 1;
    }
  cmd_store (g);
  out = json_array ();
  for (i = optind; i < argc; i++)
    {
      mini_error_t err = NULL;
      json_t *j = NULL;

      /* Containers first, then images (docker's order). */
      if (type == NULL || strcmp (type, "container") == 0)
        {
          struct store_container *c = NULL;
          if (store_container_load (g->store, argv[i], &c, &err) == 0)
            {
              j = inspect_container (g, c);
              store_container_free (c);
            }
          else
            mini_error_release (&err);
        }
      if (j == NULL && (type == NULL || strcmp (type, "image") == 0))
        {
          struct cmd_image_match m;
          if (cmd_image_lookup (g, argv[i], &m, &err) == 0)
            {
              j = inspect_image (g, &m, &err);
              cmd_image_match_clear (&m);
              if (j == NULL)
                {
                  cmd_print_error (&err);
                  rc = 1;
                  continue;
                }
            }
          else
            mini_error_release (&err);
        }
      if (j == NULL)
        {
          fflush (stdout);
          fprintf (stderr, "mini: no such %s: %s\n", type ? type : "object", argv[i]);
          rc = 1;
          continue;
        }
      json_array_append_new (out, j);
    }
  print_json (out);
  json_decref (out);
  return rc;
}

/* ------------------------------------------------------------ prune, df, check */

static bool
confirm (const char *what, bool force)
{
  char line[16];
  if (force || !isatty (STDIN_FILENO))
    return true;
  printf ("WARNING! This will remove:\n%sAre you sure you want to continue? [y/N] ", what);
  fflush (stdout);
  if (fgets (line, sizeof (line), stdin) == NULL)
    return false;
  return line[0] == 'y' || line[0] == 'Y';
}

/* Remove the references of images no container uses (prune -a). */
static int
untag_unused (struct cmd_globals *g, char ***untagged, mini_error_t *err)
{
  struct store_ref *refs = NULL;
  size_t n = 0, i;

  if (store_ref_list (g->store, &refs, &n, err) < 0)
    return -1;
  for (i = 0; i < n; i++)
    {
      cleanup_free char *cfg = config_of (g->store, refs[i].manifest_digest);
      cleanup_strv char **users = NULL;
      bool running;
      int r;
      users = containers_using (g->store, refs[i].manifest_digest, cfg, &running);
      if (users)
        continue;
      if (refs[i].ref)
        r = store_ref_remove (g->store, refs[i].ref, err);
      else
        r = store_ref_remove_manifest (g->store, refs[i].manifest_digest, err);
      if (r < 0)
        {
          if (mini_error_errno (*err) != ENOENT)
            {
              store_refs_free (refs, n);
              return -1;
            }
          mini_error_release (err);
          continue;
        }
      if (refs[i].ref)
        {
          cleanup_free char *fam = cmd_familiar_ref (refs[i].ref);
          cleanup_free char *line = xfmt ("untagged: %s", fam);
          strv_append (untagged, line);
        }
    }
  store_refs_free (refs, n);
  return 0;
}

static int
prune_images (struct cmd_globals *g, bool all, int64_t *freed)
{
  cleanup_strv char **untagged = NULL;
  struct store_report r = { 0 };
  mini_error_t err = NULL;
  size_t i;
  int rc = 0;

  if (all && untag_unused (g, &untagged, &err) < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  if (store_gc (g->store, NULL, 0, &r, &err) < 0)
    {
      cmd_print_error (&err);
      rc = 1;
    }
  if (untagged || r.n_blobs || r.n_layers)
    {
      printf ("Deleted Images:\n");
      for (i = 0; untagged && untagged[i]; i++)
        printf ("%s\n", untagged[i]);
      for (i = 0; r.removed && r.removed[i]; i++)
        if (strncmp (r.removed[i], "deleted", 7) == 0)
          printf ("%s\n", r.removed[i]);
      printf ("\n");
    }
  for (i = 0; r.removed && r.removed[i]; i++)
    if (strncmp (r.removed[i], "leftover", 8) == 0)
      printf ("Removed %s\n", r.removed[i]);
  for (i = 0; r.problems && r.problems[i]; i++)
    {
      fprintf (stderr, "mini: %s\n", r.problems[i]);
      rc = 1;
    }
  *freed += r.bytes_freed;
  store_report_clear (&r);
  return rc;
}

static int
image_prune (struct cmd_globals *g, int argc, char **argv, bool system)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_close int lock = -1;
  cleanup_free char *sz = NULL;
  mini_error_t err = NULL;
  bool all = false, force = false;
  int64_t freed = 0;
  int ch, rc = 0;

  while ((ch = getopt_long (argc, argv, "+afh", opts, NULL)) != -1)
    switch (ch)
      {
      case 'a':
        all = true;
        break;
      case 'f':
        force = true;
        break;
      case 'h':
        printf ("Usage: mini %s prune [-a] [-f]\n\n%s", system ? "system" : "image",
                system ? "Remove stopped containers, then unreferenced blobs and layers and what\n"
                         "interrupted commands left (-a: also images no container uses).\n"
                       : "Remove blobs and layers no image or container references, and what\n"
                         "interrupted commands left (-a: also images no container uses).\n");
        return 0;
      default:
        fprintf (stderr, "See 'mini %s prune --help'.\n", system ? "system" : "image");
        return 1;
      }
  if (optind < argc)
    {
      fprintf (stderr, "mini: \"prune\" accepts no arguments.\n");
      return 1;
    }
  if (!confirm (system ? (all ? "  - all stopped containers\n  - all images without at least one container associated to them\n"
                              : "  - all stopped containers\n  - all unreferenced blobs and layers\n")
                       : (all ? "  - all images without at least one container associated to them\n"
                              : "  - all unreferenced blobs and layers\n"),
                force))
    return 0;
  lock = cmd_lock_exclusive (g, &err);
  if (lock < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  if (system)
    {
      struct store_container **cs = NULL;
      size_t n = 0, i;
      bool header = false;
      if (store_container_list (g->store, &cs, &n, &err) < 0)
        {
          cmd_print_error (&err);
          return 1;
        }
      for (i = 0; i < n; i++)
        {
          cleanup_free char *upper = xfmt ("containers/%s", cs[i]->id);
          int64_t files = 0, bytes = 0;
          mini_error_t e = NULL;
          if (run_container_is_running (g->store, cs[i]))
            continue;
          if (store_tree_stats (g->store, upper, &files, &bytes, &e) < 0)
            mini_error_release (&e);
          if (run_container_remove (g->store, cs[i], false, &err) < 0)
            {
              cmd_print_error (&err);
              rc = 1;
              continue;
            }
          if (!header)
            printf ("Deleted Containers:\n");
          header = true;
          printf ("%s\n", cs[i]->id);
          freed += bytes;
        }
      if (header)
        printf ("\n");
      store_containers_free (cs, n);
    }
  rc |= prune_images (g, all, &freed);
  sz = human_size (freed);
  printf ("Total reclaimed space: %s\n", sz);
  return rc;
}

static bool
df_running (void *data, struct store_container *c)
{
  return run_container_is_running ((struct store *) data, c);
}

static char *
reclaim (int64_t part, int64_t total)
{
  cleanup_free char *h = human_size (part);
  return xfmt ("%s (%d%%)", h, total > 0 ? (int) (part * 100 / total) : 0);
}

static int
system_df (struct cmd_globals *g, int argc, char **argv)
{
  struct store_df d;
  struct table t = { 5, 0, NULL };
  mini_error_t err = NULL;
  char *hdr[] = { "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE" };
  cleanup_free char *it = NULL, *ia = NULL, *is = NULL, *ir = NULL;
  cleanup_free char *ct = NULL, *ca = NULL, *csz = NULL, *cr = NULL;

  if (argc > 1 && strcmp (argv[1], "--help") == 0)
    {
      printf ("Usage: mini system df\n");
      return 0;
    }
  if (argc > 1)
    {
      fprintf (stderr, "mini: \"system df\" accepts no arguments.\n");
      return 1;
    }
  if (store_df (cmd_store (g), df_running, g->store, &d, &err) < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  it = xfmt ("%zu", d.images);
  ia = xfmt ("%zu", d.images_active);
  is = human_size (d.images_size);
  ir = reclaim (d.images_reclaimable, d.images_size);
  ct = xfmt ("%zu", d.containers);
  ca = xfmt ("%zu", d.containers_active);
  csz = human_size (d.containers_size);
  cr = reclaim (d.containers_reclaimable, d.containers_size);
  table_add (&t, hdr);
  {
    char *r1[] = { "Images", it, ia, is, ir };
    char *r2[] = { "Containers", ct, ca, csz, cr };
    table_add (&t, r1);
    table_add (&t, r2);
  }
  table_print_free (&t, stdout);
  return 0;
}

static int
system_check (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "dry-run", no_argument, NULL, 'n' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct store_report r = { 0 };
  cleanup_close int lock = -1;
  mini_error_t err = NULL;
  bool repair = true;
  size_t i, np;
  int ch;

  while ((ch = getopt_long (argc, argv, "+nh", opts, NULL)) != -1)
    switch (ch)
      {
      case 'n':
        repair = false;
        break;
      case 'h':
        printf ("Usage: mini system check [--dry-run]\n\n"
                "Verify every blob's digest, every layer's contents, every image and container;\n"
                "remove leftovers of interrupted commands and repair what can be repaired\n"
                "(--dry-run: only report).  Exits 1 when problems remain.\n");
        return 0;
      default:
        fprintf (stderr, "See 'mini system check --help'.\n");
        return 1;
      }
  if (optind < argc)
    {
      fprintf (stderr, "mini: \"system check\" accepts no arguments.\n");
      return 1;
    }
  lock = cmd_lock_exclusive (g, &err);
  if (lock < 0 || store_check (g->store, repair, &r, &err) < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  for (i = 0; r.extract && r.extract[i]; i++)
    {
      struct store_image *img = NULL;
      if (!repair)
        {
          cleanup_free char *line = xfmt ("image %s: layers are not extracted", r.extract[i]);
          strv_append (&r.problems, line);
          continue;
        }
      if (store_image_load (g->store, r.extract[i], &img, &err) < 0 || cmd_unpack_image (g, img, &err) < 0)
        {
          cleanup_free char *line = xfmt ("image %s: its layers cannot be extracted: %s", r.extract[i], err->msg);
          strv_append (&r.problems, line);
          mini_error_release (&err);
        }
      else
        {
          cleanup_free char *line = xfmt ("image %s: extracted its missing layers", r.extract[i]);
          strv_append (&r.repaired, line);
        }
      store_image_free (img);
    }
  for (i = 0; r.removed && r.removed[i]; i++)
    printf ("removed: %s\n", r.removed[i]);
  for (i = 0; r.repaired && r.repaired[i]; i++)
    printf ("repaired: %s\n", r.repaired[i]);
  for (i = 0; r.notes && r.notes[i]; i++)
    printf ("note: %s\n", r.notes[i]);
  for (i = 0; r.problems && r.problems[i]; i++)
    printf ("problem: %s\n", r.problems[i]);
  np = strv_len (r.problems);
  printf ("checked %zu blobs, %zu layers, %zu images, %zu containers: %s", r.n_blobs, r.n_layers,
          r.n_images, r.n_containers, np ? "" : "no problems left\n");
  if (np)
    printf ("%zu problem%s left\n", np, np == 1 ? "" : "s");
  store_report_clear (&r);
  return np ? 1 : 0;
}

/* ------------------------------------------------------------ save, load */

int
cmd_save (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static const char usage[] = "Usage: mini save [-o FILE] IMAGE...\n";
  struct store_save_image *imgs = NULL;
  struct cmd_image_match *ms = NULL;
  cleanup_close int lock = -1;
  cleanup_close int fd = -1;
  cleanup_free char *tmp = NULL;
  const char *output = NULL;
  mini_error_t err = NULL;
  size_t n = 0, i, k;
  int ch, rc = 1, argi;

  while ((ch = getopt_long (argc, argv, "+o:h", opts, NULL)) != -1)
    switch (ch)
      {
      case 'o':
        output = optarg;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        fprintf (stderr, "See 'mini save --help'.\n");
        return 1;
      }
  if (optind >= argc)
    {
      fprintf (stderr, "mini: \"save\" requires at least 1 argument.\n%s", usage);
      return 1;
    }
  if (output == NULL && isatty (STDOUT_FILENO))
    {
      fprintf (stderr, "mini: cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
      return 1;
    }
  lock = cmd_lock_shared (g, true, &err);
  if (lock < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  ms = xmalloc0 ((argc - optind + 1) * sizeof (*ms));
  imgs = xmalloc0 ((argc - optind + 1) * sizeof (*imgs));
  for (argi = optind; argi < argc; argi++)
    {
      struct cmd_image_match *m = &ms[n];
      struct store_save_image *si = NULL;
      if (cmd_image_lookup (g, argv[argi], m, &err) < 0)
        {
          cmd_print_error (&err);
          goto out;
        }
      n++;
      for (i = 0; i + 1 < n; i++)
        if (strcmp (imgs[i].manifest_digest, m->manifest_digest) == 0)
          si = &imgs[i];
      if (si == NULL)
        {
          si = &imgs[n - 1];
          si->manifest_digest = m->manifest_digest;
          si->index_digest = m->index_digest;
        }
      /* By name: that name; by ID: no name (as docker save). */
      for (k = 0; k < m->n && !m->by_id; k++)
        {
          cleanup_free char *fam = NULL;
          if (m->refs[k].ref == NULL || strcmp (m->refs[k].ref, m->ref) != 0)
            continue;
          if (!strv_has_ (si->names, m->refs[k].ref))
            strv_append (&si->names, m->refs[k].ref);
          fam = cmd_familiar_ref (m->refs[k].ref);
          if (strchr (fam, '@') == NULL && !strv_has_ (si->repo_tags, fam))
            strv_append (&si->repo_tags, fam);
        }
    }
  {
    /* Compact: entries merged into an earlier one have no manifest. */
    size_t w = 0;
    for (i = 0; i < n; i++)
      if (imgs[i].manifest_digest)
        imgs[w++] = imgs[i];
    for (i = w; i < n; i++)
      memset (&imgs[i], 0, sizeof (imgs[i]));
    if (output)
      {
        char rnd[17];
        if (random_hex (rnd, 8, &err) < 0)
          {
            cmd_print_error (&err);
            goto out;
          }
        tmp = xfmt ("%s.tmp-%s", output, rnd);
        fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
          {
            fprintf (stderr, "mini: create `%s`: %s\n", tmp, strerror (errno));
            goto out;
          }
      }
    if (store_archive_save (g->store, imgs, w, output ? fd : STDOUT_FILENO, &err) < 0)
      {
        cmd_print_error (&err);
        if (tmp)
          unlink (tmp);
        goto out;
      }
    if (output && (fsync (fd) < 0 || rename (tmp, output) < 0))
      {
        fprintf (stderr, "mini: write `%s`: %s\n", output, strerror (errno));
        unlink (tmp);
        goto out;
      }
  }
  rc = 0;

out:
  for (i = 0; i < n; i++)
    {
      strv_free (imgs[i].names);
      strv_free (imgs[i].repo_tags);
      cmd_image_match_clear (&ms[i]);
    }
  free (imgs);
  free (ms);
  return rc;
}

static int
choose_host (void *data, const char *index_json, size_t len, char **ret_digest, mini_error_t *err)
{
  struct pull_platform p = { 0 };
  char *mt = NULL;
  int r;
  (void) data;
  if (pull_platform_parse (NULL, &p, err) < 0)
    return -1;
  r = pull_index_choose (index_json, len, &p, ret_digest, &mt, err);
  free (mt);
  pull_platform_clear (&p);
  return r;
}

int
cmd_load (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "input", required_argument, NULL, 'i' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static const char usage[] = "Usage: mini load [-i FILE] [-q]\n";
  struct store_load_options o = { choose_host, NULL };
  struct store_loaded *v = NULL;
  cleanup_close int lock = -1;
  cleanup_close int fd = -1;
  const char *input = NULL;
  mini_error_t err = NULL;
  size_t n = 0, i, k;
  int ch, rc = 0;

  while ((ch = getopt_long (argc, argv, "+i:qh", opts, NULL)) != -1)
    switch (ch)
      {
      case 'i':
        input = optarg;
        break;
      case 'q':
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        fprintf (stderr, "See 'mini load --help'.\n");
        return 1;
      }
  if (optind < argc)
    {
      fprintf (stderr, "mini: \"load\" accepts no arguments.\n%s", usage);
      return 1;
    }
  if (input)
    {
      fd = open (input, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          fprintf (stderr, "mini: open `%s`: %s\n", input, strerror (errno));
          return 1;
        }
    }
  else if (isatty (STDIN_FILENO))
    {
      fprintf (stderr, "mini: requested load from stdin, but stdin is a terminal. Use -i FILE or redirect\n");
      return 1;
    }
  lock = cmd_lock_shared (g, true, &err);
  if (lock < 0 || store_archive_load (g->store, input ? fd : STDIN_FILENO, &o, &v, &n, &err) < 0)
    {
      mini_error_wrap (&err, "load");
      cmd_print_error (&err);
      return 1;
    }
  for (i = 0; i < n; i++)
    {
      struct store_image *img = NULL;
      bool named = false;

      /* Extracted (and diff_ids verified) before anything points at it. */
      if (store_image_load (g->store, v[i].manifest_digest, &img, &err) < 0
          || cmd_unpack_image (g, img, &err) < 0)
        {
          mini_error_wrap (&err, "load image %s", v[i].names[0] ? v[i].names[0] : v[i].manifest_digest);
          cmd_print_error (&err);
          store_image_free (img);
          rc = 1;
          continue;
        }
      for (k = 0; v[i].names[k]; k++)
        {
          cleanup_free char *norm = normalize (v[i].names[k]);
          cleanup_free char *fam = NULL;
          if (norm == NULL)
            {
              fprintf (stderr, "mini: ignoring invalid image name `%s` in the archive\n", v[i].names[k]);
              continue;
            }
          if (store_ref_set (g->store, norm, v[i].manifest_digest, v[i].index_digest, &err) < 0)
            {
              cmd_print_error (&err);
              rc = 1;
              continue;
            }
          fam = cmd_familiar_ref (norm);
          printf ("Loaded image: %s\n", fam);
          named = true;
        }
      if (!named)
        {
          if (store_ref_set (g->store, NULL, v[i].manifest_digest, v[i].index_digest, &err) < 0)
            {
              cmd_print_error (&err);
              rc = 1;
            }
          else
            printf ("Loaded image ID: %s\n", img->config_digest);
        }
      store_image_free (img);
    }
  store_loaded_free (v, n);
  return rc;
}

/* ------------------------------------------------------------ image / system groups */

int
cmd_image (struct cmd_globals *g, int argc, char **argv)
{
  static const struct
  {
    const char *name;
    int (*fn) (struct cmd_globals *, int, char **);
  } subs[] = {
    { "ls", cmd_images },   { "list", cmd_images },     { "rm", cmd_rmi },     { "tag", cmd_tag },
    { "save", cmd_save },   { "load", cmd_load },       { "pull", cmd_pull },
  };
  size_t i;

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      printf ("Usage: mini image COMMAND\n\nCommands: ls, rm, tag, inspect, prune, save, load, pull\n");
      return argc < 2 ? 1 : 0;
    }
  optind = 0;
  if (strcmp (argv[1], "prune") == 0)
    return image_prune (g, argc - 1, argv + 1, false);
  if (strcmp (argv[1], "inspect") == 0)
    {
      /* `mini image inspect X` means an image. */
      char **a = xmalloc0 ((argc + 2) * sizeof (char *));
      int r;
      a[0] = argv[1];
      a[1] = "--type=image";
      for (int k = 2; k < argc; k++)
        a[k] = argv[k];
      r = cmd_inspect (g, argc, a);
      free (a);
      return r;
    }
  for (i = 0; i < sizeof (subs) / sizeof (subs[0]); i++)
    if (strcmp (argv[1], subs[i].name) == 0)
      return subs[i].fn (g, argc - 1, argv + 1);
  fprintf (stderr, "mini: unknown command `image %s`\nSee 'mini image --help'.\n", argv[1]);
  return 1;
}

int
cmd_system (struct cmd_globals *g, int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      printf ("Usage: mini system COMMAND\n\nCommands:\n"
              "  prune   Remove stopped containers and unreferenced blobs and layers\n"
              "  df      Show disk usage\n"
              "  check   Verify the store and repair what can be repaired\n");
      return argc < 2 ? 1 : 0;
    }
  optind = 0;
  if (strcmp (argv[1], "prune") == 0)
    return image_prune (g, argc - 1, argv + 1, true);
  if (strcmp (argv[1], "df") == 0)
    return system_df (g, argc - 1, argv + 1);
  if (strcmp (argv[1], "check") == 0)
    return system_check (g, argc - 1, argv + 1);
  fprintf (stderr, "mini: unknown command `system %s`\nSee 'mini system --help'.\n", argv[1]);
  return 1;
}
