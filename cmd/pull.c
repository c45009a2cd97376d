/* mini - `mini pull` and `mini images`. */
#include "cmd/cmd.h"
#include "unpack/unpack.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

char *
cmd_familiar_ref (const char *ref)
{
  if (strncmp (ref, "docker.io/library/", 18) == 0)
    return xstrdup (ref + 18);
  if (strncmp (ref, "docker.io/", 10) == 0)
    return xstrdup (ref + 10);
  return xstrdup (ref);
}

static void
progress (void *data, const char *event, const char *digest, int64_t done, int64_t total)
{
  (void) data;
  (void) done;
  (void) total;
  if (digest == NULL || !digest_is_valid (digest))
    return;
  if (strcmp (event, "exists") == 0)
    fprintf (stderr, "%.12s: Already exists\n", digest_hex (digest));
  else if (strcmp (event, "done") == 0)
    fprintf (stderr, "%.12s: Pull complete\n", digest_hex (digest));
}

int
cmd_pull_ref (struct cmd_globals *g, const struct pull_reference *ref, const char *platform,
              FILE *out, mini_error_t *err)
{
  struct pull_options o = g->pull;
  struct pull_result *res = NULL;
  cleanup_free char *refstr = pull_reference_string (ref);
  cleanup_free char *fam = NULL;
  int ret;

  o.platform = platform;
  o.progress = progress;
  o.progress_data = NULL;
  fprintf (stderr, "%s: Pulling from %s\n", ref->tag ? ref->tag : ref->digest, ref->path);
  ret = pull_image (cmd_store (g), ref, &o, &res, err);
  if (ret < 0)
    return ret;
  /* Like docker pull: the image is ready to run when pull returns, its
     layers extracted into the layer store.  */
  {
    struct store_image *img = NULL;
    ret = store_image_load (g->store, res->manifest_digest, &img, err);
    if (ret == 0)
      ret = unpack_image (g->store, img, NULL, err);
    store_image_free (img);
    if (ret < 0)
      {
        pull_result_free (res);
        return mini_error_wrap (err, "unpack %s", refstr);
      }
  }
  fam = cmd_familiar_ref (refstr);
  fprintf (out, "Digest: %s\n", res->digest);
  if (res->blobs_fetched > 0)
    fprintf (out, "Status: Downloaded newer image for %s\n", fam);
  else
    fprintf (out, "Status: Image is up to date for %s\n", fam);
  fprintf (out, "%s\n", res->reference);
  pull_result_free (res);
  return 0;
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
        break;
      case 'h':
        printf ("Usage: mini pull [--platform os/arch[/variant]] IMAGE\n");
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
  if (ref->tag && strchr (argv[optind], ':') == NULL && strchr (argv[optind], '@') == NULL)
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

static int64_t
parse_rfc3339 (const char *s)
{
  struct tm tm = { 0 };
  if (s == NULL || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return timegm (&tm);
}

int
cmd_images (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { "digests", no_argument, NULL, 'd' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct store_ref *refs = NULL;
  mini_error_t err = NULL;
  bool quiet = false, digests = false;
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
      case 'h':
        printf ("Usage: mini images [-q] [--digests]\n");
        return 0;
      default:
        fprintf (stderr, "See 'mini images --help'.\n");
        return 1;
      }
  if (store_ref_list (cmd_store (g), &refs, &n, &err) < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  if (!quiet)
    {
      if (digests)
        printf ("%-40s %-12s %-71s %-12s %-16s %s\n", "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE");
      else
        printf ("%-40s %-12s %-12s %-16s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
    }
  for (i = 0; i < n; i++)
    {
      struct store_image *img = NULL;
      cleanup_free char *fam = cmd_familiar_ref (refs[i].ref);
      cleanup_free char *repo = NULL;
      cleanup_free char *ago = NULL;
      cleanup_free char *created = NULL;
      cleanup_free char *size = NULL;
      const char *tag = "<none>";
      char *at, *slash, *colon;

      if (store_image_load (g->store, refs[i].manifest_digest, &img, &err) < 0)
        {
          mini_error_release (&err);
          continue;
        }
      repo = xstrdup (fam);
      at = strchr (repo, '@');
      if (at)
        *at = '\0';
      slash = strrchr (repo, '/');
      colon = strrchr (repo, ':');
      if (colon && (slash == NULL || colon > slash))
        {
          *colon = '\0';
          tag = colon + 1;
        }
      if (quiet)
        printf ("%.12s\n", digest_hex (img->config_digest));
      else
        {
          int64_t t = parse_rfc3339 (img->created);
          ago = t ? human_duration (time (NULL) - t) : xstrdup ("N/A");
          created = t ? xfmt ("%s ago", ago) : xstrdup ("N/A");
          size = human_size (img->size);
          if (digests)
            printf ("%-40s %-12s %-71s %-12.12s %-16s %s\n", repo, tag,
                    refs[i].index_digest ? refs[i].index_digest : refs[i].manifest_digest,
                    digest_hex (img->config_digest), created, size);
          else
            printf ("%-40s %-12s %-12.12s %-16s %s\n", repo, tag, digest_hex (img->config_digest), created, size);
        }
      store_image_free (img);
    }
  store_refs_free (refs, n);
  return 0;
}
