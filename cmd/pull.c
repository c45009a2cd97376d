/* mini - `mini pull` (`mini images` is in image.c). */
#include "cmd/cmd.h"
#include "unpack/unpack.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>

char *
cmd_familiar_ref (const char *ref)
{
  if (strncmp (ref, "docker.io/library/", 18) == 0)
    return xstrdup (ref + 18);
  if (strncmp (ref, "docker.io/", 10) == 0)
    return xstrdup (ref + 10);
  return xstrdup (ref);
}

/* ------------------------------------------------------------ progress
   On a terminal: one line per layer, redrawn in place, with a bar, bytes
   and rate.  Otherwise (CI logs): one line per layer event, never per
   chunk.  `pull -q`: nothing. */

struct layer_progress
{
  char id[13];         /* first 12 hex of the digest */
  char status[48];
  int64_t done, total;
  int64_t start_ns;    /* first byte of this run */
  int64_t start_done;  /* bytes present then (resumed) */
  int64_t end_ns;
};

struct pull_progress
{
  bool tty;
  struct layer_progress *layers;
  size_t n;
  int drawn;           /* table lines on screen below the cursor's line */
  int64_t last_draw_ns;
};

static bool pull_quiet; /* set by `mini pull -q` */

static struct layer_progress *
layer_get (struct pull_progress *p, const char *digest)
{
  const char *hex = digest_hex (digest);
  size_t i;

  for (i = 0; i < p->n; i++)
    if (strncmp (p->layers[i].id, hex, 12) == 0)
      return &p->layers[i];
  p->layers = xrealloc (p->layers, (p->n + 1) * sizeof (*p->layers));
  memset (&p->layers[p->n], 0, sizeof (*p->layers));
  snprintf (p->layers[p->n].id, sizeof (p->layers[p->n].id), "%.12s", hex);
  p->layers[p->n].total = -1;
  return &p->layers[p->n++];
}

/* Bytes per second over this run's part of the transfer (0: unknown). */
static double
layer_rate (const struct layer_progress *l, int64_t now)
{
  int64_t end = l->end_ns ? l->end_ns : now;
  double secs = l->start_ns ? (double) (end - l->start_ns) / 1e9 : 0;
  return secs > 0.05 ? (double) (l->done - l->start_done) / secs : 0;
}

static void
draw_line (const struct layer_progress *l, int64_t now)
{
  cleanup_free char *done = human_size (l->done);
  cleanup_free char *total = l->total >= 0 ? human_size (l->total) : xstrdup ("?");
  double rate = layer_rate (l, now);
  cleanup_free char *r = rate > 0 ? human_size ((int64_t) rate) : NULL;
  char bar[33];
  int width = 30, fill = 0, i;

  if (strcmp (l->status, "Downloading") != 0)
    {
      fprintf (stderr, "\033[2K%s: %s\n", l->id, l->status);
      return;
    }
  if (l->total > 0)
    fill = (int) ((double) l->done / (double) l->total * width);
  for (i = 0; i < width; i++)
    bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
  bar[width] = '\0';
  fprintf (stderr, "\033[2K%s: Downloading [%s] %s/%s%s%s%s\n", l->id, bar, done, total,
           r ? "  " : "", r ? r : "", r ? "/s" : "");
}

static void
draw (struct pull_progress *p, bool force)
{
  int64_t now = now_ns ();
  size_t i;

  if (!force && now - p->last_draw_ns < 100000000)
    return;
  p->last_draw_ns = now;
  if (p->drawn > 0)
    fprintf (stderr, "\033[%dA", p->drawn);
  for (i = 0; i < p->n; i++)
    draw_line (&p->layers[i], now);
  p->drawn = (int) p->n;
  fflush (stderr);
}

/* A message that is not a layer's status: above the table. */
static void
say (struct pull_progress *p, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
say (struct pull_progress *p, const char *fmt, ...)
{
  va_list ap;

  if (p->tty && p->drawn > 0)
    fprintf (stderr, "\033[%dA\033[2K", p->drawn);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  if (p->tty && p->drawn > 0)
    {
      p->drawn = 0;
      draw (p, true);
    }
}

static void
set_status (struct pull_progress *p, struct layer_progress *l, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void
set_status (struct pull_progress *p, struct layer_progress *l, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (l->status, sizeof (l->status), fmt, ap);
  va_end (ap);
  if (p->tty)
    draw (p, true);
  else
    {
      fprintf (stderr, "%s: %s\n", l->id, l->status);
      fflush (stderr);
    }
}

static void
progress (void *data, const char *event, const char *digest, int64_t done, int64_t total)
{
  struct pull_progress *p = data;
  struct layer_progress *l;
  int64_t now = now_ns ();

  if (digest == NULL || !digest_is_valid (digest))
    {
      if (strcmp (event, "waiting") == 0)
        say (p, "Too many requests: waiting %.1fs as the registry asks (Retry-After)",
             (double) done / 1000.0);
      else if (strcmp (event, "retrying") == 0)
        say (p, "Request failed: retrying (attempt %lld of %lld)", (long long) done + 1,
             (long long) total);
      return;
    }
  l = layer_get (p, digest);
  if (strcmp (event, "exists") == 0)
    set_status (p, l, "Already exists");
  else if (strcmp (event, "queued") == 0)
    {
      l->total = total;
      if (strcmp (l->status, "Pulling fs layer") != 0)
        set_status (p, l, "Pulling fs layer");
    }
  else if (strcmp (event, "resuming") == 0)
    {
      cleanup_free char *have = human_size (done);
      cleanup_free char *all = total >= 0 ? human_size (total) : xstrdup ("?");
      l->done = l->start_done = done;
      set_status (p, l, "Resuming at %s of %s", have, all);
    }
  else if (strcmp (event, "restarting") == 0)
    {
      l->done = l->start_done = 0;
      l->start_ns = now;
      set_status (p, l, "Restarting from the first byte");
    }
  else if (strcmp (event, "retrying") == 0)
    set_status (p, l, "Retrying (attempt %lld of %lld)", (long long) done + 1,
                (long long) total);
  else if (strcmp (event, "waiting") == 0)
    set_status (p, l, "Waiting %.1fs (Retry-After)", (double) done / 1000.0);
  else if (strcmp (event, "downloading") == 0)
    {
      if (l->start_ns == 0)
        {
          l->start_ns = now;
          l->start_done = done;
        }
      l->done = done;
      l->total = total;
      if (p->tty)
        {
          if (strcmp (l->status, "Downloading") != 0)
            {
              snprintf (l->status, sizeof (l->status), "Downloading");
              draw (p, true);
            }
          else
            draw (p, false);
        }
    }
  else if (strcmp (event, "done") == 0)
    {
      cleanup_free char *size = human_size (total >= 0 ? total : done);
      double rate;

      l->done = done;
      l->end_ns = now;
      rate = layer_rate (l, now);
      if (rate > 0)
        {
          cleanup_free char *r = human_size ((int64_t) rate);
          set_status (p, l, "Download complete (%s, %s/s)", size, r);
        }
      else
        set_status (p, l, "Download complete (%s)", size);
    }
}

int
cmd_pull_ref (struct cmd_globals *g, const struct pull_reference *ref, const char *platform,
              FILE *out, mini_error_t *err)
{
  struct pull_options o = g->pull;
  struct pull_progress prog = { 0 };
  struct pull_result *res = NULL;
  cleanup_free char *refstr = pull_reference_string (ref);
  cleanup_free char *fam = NULL;
  int ret;

  cleanup_close int gc_lock = -1;
  cleanup_close int repo_lock = -1;
  cleanup_free char *repo = NULL;
  struct store_ref before = { 0 };
  bool had_before = false;

  if (g->offline)
    return mini_error_set (err, ENETUNREACH, "cannot pull %s: --offline forbids network access", refstr);
  cmd_registry_defaults (g);
  o = g->pull;
  o.platform = platform;
  if (!pull_quiet)
    {
      o.progress = progress;
      o.progress_data = &prog;
      prog.tty = isatty (STDERR_FILENO);
      fprintf (stderr, "%s: Pulling from %s\n", ref->tag ? ref->tag : ref->digest, ref->path);
    }
  else
    o.progress = NULL;
  /* Shared with other pulls, runs and loads; prune and check wait.  One
     pull per repository at a time: parallel pulls of one image download
     and extract each blob and layer once, the others find them present. */
  repo = xfmt ("pull %s/%s", ref->domain, ref->path);
  gc_lock = cmd_lock_shared (g, true, err);
  if (gc_lock < 0 || store_lock_key (g->store, repo, &repo_lock, err) < 0)
    return -1;
  /* What REFSTR named before, so that a pull whose layers cannot be
     extracted leaves the tag as it was.  */
  {
    mini_error_t tmp = NULL;
    if (store_ref_lookup (cmd_store (g), refstr, &before, &tmp) == 0)
      had_before = true;
    mini_error_release (&tmp);
  }
  ret = pull_image (cmd_store (g), ref, &o, &res, err);
  if (prog.tty && prog.n > 0)
    draw (&prog, true);
  free (prog.layers);
  if (ret < 0)
    goto out;
  /* Like docker pull: the image is ready to run when pull returns, its
     layers extracted into the layer store.  */
  {
    struct store_image *img = NULL;
    ret = store_image_load (g->store, res->manifest_digest, &img, err);
    if (ret == 0)
      ret = cmd_unpack_image (g, img, err);
    store_image_free (img);
    if (ret < 0)
      {
        mini_error_t tmp = NULL;
        if (had_before)
          store_ref_set (g->store, refstr, before.manifest_digest, before.index_digest, &tmp);
        else
          store_ref_remove (g->store, refstr, &tmp);
        mini_error_release (&tmp);
        pull_result_free (res);
        mini_error_wrap (err, "unpack %s", refstr);
        goto out;
      }
  }
  fam = cmd_familiar_ref (refstr);
  if (pull_quiet)
    {
      /* docker pull -q: the reference alone */
      fprintf (out, "%s\n", res->reference);
      pull_result_free (res);
      ret = 0;
      goto out;
    }
  fprintf (out, "Digest: %s\n", res->digest);
  if (!had_before || strcmp (before.manifest_digest, res->manifest_digest) != 0)
    fprintf (out, "Status: Downloaded newer image for %s\n", fam);
  else
    fprintf (out, "Status: Image is up to date for %s\n", fam);
  fprintf (out, "%s\n", res->reference);
  pull_result_free (res);
  ret = 0;
out:
  free (before.ref);
  free (before.manifest_digest);
  free (before.index_digest);
  return ret;
}

int
cmd_pull (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "platform", required_argument, NULL, 'p' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *platform = NULL;
  struct pull_reference *ref = NULL;
  mini_error_t err = NULL;
  int c, ret;

  while ((c = getopt_long (argc, argv, "+qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'p':
        platform = optarg;
        break;
      case 'q':
        pull_quiet = true;
        break;
      case 'h':
        printf ("Usage: mini pull [-q] [--platform os/arch[/variant]] IMAGE\n"
                "\n"
                "  -q, --quiet     print only the reference (no progress)\n"
                "  --platform P    os/arch[/variant] from a multi-platform image\n"
                "Progress goes to stderr: bars on a terminal, one line per layer event\n"
                "otherwise.  An interrupted download resumes where it stopped on the\n"
                "next pull.\n");
        return 0;
      default:
        fprintf (stderr, "See 'mini pull --help'.\n");
        return 1;
      }
  if (argc - optind != 1)
    {
      fprintf (stderr, "mini: \"pull\" requires exactly 1 argument.\nUsage: mini pull [--platform os/arch[/variant]] IMAGE\n");
      return 1;
    }
  if (pull_reference_parse (argv[optind], &ref, &err) < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  if (!pull_quiet && ref->tag && strchr (argv[optind], '@') == NULL
      && strchr (strrchr (argv[optind], '/') ? strrchr (argv[optind], '/') : argv[optind], ':') == NULL)
    fprintf (stderr, "Using default tag: latest\n");
  ret = cmd_pull_ref (g, ref, platform, stdout, &err);
  pull_reference_free (ref);
  if (ret < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  return 0;
}
