/* mini - `mini run`: resolve (pull when missing), unpack, create, start. */
#include "cmd/cmd.h"
#include "unpack/unpack.h"
#include "run/run.h"

#include <getopt.h>
#include <string.h>

static void
run_usage (FILE *f)
{
  fprintf (f,
           "Usage: mini run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
           "\n"
           "Create and run a new container from an image.\n"
           "\n"
           "Options:\n"
           "  -d, --detach             run in the background and print the container ID\n"
           "      --rm                 remove the container when it exits\n"
           "      --name NAME          assign a name to the container\n"
           "      --pid host|private   PID namespace (default private)\n"
           "      --net none|host      network namespace (default none: loopback only)\n"
           "  -e, --env K=V            set an environment variable (repeatable)\n"
           "  -w, --workdir DIR        working directory inside the container\n"
           "      --entrypoint CMD     override the image's entrypoint\n"
           "      --platform P         platform to pull when the image is missing\n"
           "      --pull POLICY        missing (default): pull when not in the store;\n"
           "                           always: pull first; never: only the store\n"
           "      --security-opt seccomp=unconfined\n"
           "                           run without Docker's default seccomp profile\n");
}

/* Find IMAGE in the store, pulling it as POLICY says ("missing": when
   absent, "always": first, "never": not at all; --offline is "never").
   Returns the manifest digest (caller frees) or NULL after printing the
   error. */
/* true when the stored image MANIFEST_DIGEST is for PLATFORM
   ("os/arch[/variant]"); arm64 without a variant equals arm64/v8. */
static bool
stored_platform_matches (struct cmd_globals *g, const char *manifest_digest, const char *platform)
{
  struct pull_platform want = { 0 };
  struct store_image *img = NULL;
  mini_error_t err = NULL;
  bool ok = false;

  if (pull_platform_parse (platform, &want, &err) < 0
      || store_image_load (g->store, manifest_digest, &img, &err) < 0)
    {
      mini_error_release (&err);
      pull_platform_clear (&want);
      return false;
    }
  if (img->os && img->architecture && strcmp (img->os, want.os) == 0
      && strcmp (img->architecture, want.architecture) == 0)
    {
      const char *have_v = img->variant ? img->variant : "";
      const char *want_v = want.variant ? want.variant : "";
      if (strcmp (want.architecture, "arm64") == 0)
        {
          if (strcmp (have_v, "v8") == 0)
            have_v = "";
          if (strcmp (want_v, "v8") == 0)
            want_v = "";
        }
      ok = *want_v == '\0' || strcmp (have_v, want_v) == 0;
    }
  store_image_free (img);
  pull_platform_clear (&want);
  return ok;
}

static char *
resolve_image (struct cmd_globals *g, const char *image, const char *platform, const char *policy,
               char **ret_refstr)
{
  struct pull_reference *ref = NULL;
  mini_error_t err = NULL;
  char *digest = NULL;
  cleanup_free char *refstr = NULL;

  if (pull_reference_parse (image, &ref, &err) < 0)
    {
      cmd_print_error (&err);
      return NULL;
    }
  refstr = pull_reference_string (ref);
  if (strcmp (policy, "always") == 0)
    {
      if (cmd_pull_ref (g, ref, platform, stderr, &err) < 0
          || store_ref_get (g->store, refstr, &digest, &err) < 0)
        {
          cmd_print_error (&err);
          pull_reference_free (ref);
          return NULL;
        }
    }
  else if (store_ref_get (cmd_store (g), refstr, &digest, &err) < 0
           || (platform && !stored_platform_matches (g, digest, platform)))
    {
      if (err == NULL)
        {
          /* Stored, but for another platform: treat as missing.  */
          free (digest);
          digest = NULL;
          mini_error_set (&err, ENOENT, "image %s is not in the local store for platform %s", image,
                          platform);
        }
      if (mini_error_errno (err) != ENOENT)
        {
          cmd_print_error (&err);
          pull_reference_free (ref);
          return NULL;
        }
      mini_error_release (&err);
      if (strcmp (policy, "never") == 0 || g->offline)
        {
          fprintf (stderr, "mini: image %s is not in the local store and %s forbids pulling it\n",
                   image, g->offline ? "--offline" : "--pull never");
          pull_reference_free (ref);
          return NULL;
        }
      if (platform)
        fprintf (stderr, "Unable to find image '%s' for platform %s locally\n", image, platform);
      else
        fprintf (stderr, "Unable to find image '%s' locally\n", image);
      if (cmd_pull_ref (g, ref, platform, stderr, &err) < 0
          || store_ref_get (g->store, refstr, &digest, &err) < 0)
        {
          cmd_print_error (&err);
          pull_reference_free (ref);
          return NULL;
        }
    }
  pull_reference_free (ref);
  *ret_refstr = steal_pointer (&refstr);
  return digest;
}

int
cmd_run (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "detach", no_argument, NULL, 'd' },
    { "rm", no_argument, NULL, 'R' },
    { "name", required_argument, NULL, 'n' },
    { "pid", required_argument, NULL, 'P' },
    { "net", required_argument, NULL, 'N' },
    { "network", required_argument, NULL, 'N' },
    { "env", required_argument, NULL, 'e' },
    { "workdir", required_argument, NULL, 'w' },
    { "entrypoint", required_argument, NULL, 'E' },
    { "platform", required_argument, NULL, 'p' },
    { "pull", required_argument, NULL, 'U' },
    { "security-opt", required_argument, NULL, 'S' },
    { "interactive", no_argument, NULL, 'i' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct store_container *c = NULL;
  struct store_image *img = NULL;
  struct run_overrides o = { 0 };
  cleanup_strv char **env = NULL;
  cleanup_strv char **entrypoint = NULL;
  cleanup_free char *digest = NULL;
  cleanup_free char *refstr = NULL;
  const char *name = NULL, *platform = NULL, *pull_policy = "missing";
  cleanup_close int gc_lock = -1;
  bool detach = false, rm = false, pid_host = false, net_host = false;
  bool seccomp_unconfined = false;
  mini_error_t err = NULL;
  int ch, status = 125, ret;

  while ((ch = getopt_long (argc, argv, "+de:w:ih", opts, NULL)) != -1)
    switch (ch)
      {
      case 'd':
        detach = true;
        break;
      case 'R':
        rm = true;
        break;
      case 'n':
        name = optarg;
        break;
      case 'P':
        if (strcmp (optarg, "host") == 0)
          pid_host = true;
        else if (strcmp (optarg, "private") == 0 || strcmp (optarg, "") == 0)
          pid_host = false;
        else
          {
            fprintf (stderr, "mini: invalid --pid `%s`: use host or private\n", optarg);
            return 125;
          }
        break;
      case 'N':
        if (strcmp (optarg, "host") == 0)
          net_host = true;
        else if (strcmp (optarg, "none") == 0)
          net_host = false;
        else
          {
            fprintf (stderr, "mini: invalid --net `%s`: use none or host\n", optarg);
            return 125;
          }
        break;
      case 'e':
        if (optarg[0] == '\0')
          {
            fprintf (stderr, "mini: invalid environment variable ``: use -e KEY=VALUE\n");
            return 125;
          }
        if (strchr (optarg, '=') == NULL)
          {
            /* Docker: -e NAME takes the value from mini's environment.  */
            const char *v = getenv (optarg);
            if (v == NULL)
              break;
            cleanup_free char *kv = xfmt ("%s=%s", optarg, v);
            strv_append (&env, kv);
          }
        else if (optarg[0] == '=')
          {
            fprintf (stderr, "mini: invalid environment variable `%s`: use -e KEY=VALUE\n", optarg);
            return 125;
          }
        else
          strv_append (&env, optarg);
        break;
      case 'w':
        if (optarg[0] != '/')
          {
            fprintf (stderr, "mini: the working directory `%s` is invalid: it must be an absolute path\n", optarg);
            return 125;
          }
        o.working_dir = optarg;
        break;
      case 'E':
        entrypoint = xmalloc0 (2 * sizeof (char *));
        entrypoint[0] = xstrdup (optarg);
        break;
      case 'p':
        platform = optarg;
        break;
      case 'U':
        if (strcmp (optarg, "missing") != 0 && strcmp (optarg, "always") != 0
            && strcmp (optarg, "never") != 0)
          {
            fprintf (stderr, "mini: invalid --pull `%s`: use missing, always or never\n", optarg);
            return 125;
          }
        pull_policy = optarg;
        break;
      case 'S':
        /* Docker's forms: seccomp=VALUE (or the older seccomp:VALUE);
           "builtin" is the default profile. */
        if (strcmp (optarg, "seccomp=unconfined") == 0 || strcmp (optarg, "seccomp:unconfined") == 0)
          seccomp_unconfined = true;
        else if (strcmp (optarg, "seccomp=builtin") == 0 || strcmp (optarg, "seccomp:builtin") == 0)
          seccomp_unconfined = false;
        else if (strncmp (optarg, "seccomp=", 8) == 0 || strncmp (optarg, "seccomp:", 8) == 0)
          {
            fprintf (stderr, "mini: --security-opt %s: custom seccomp profiles are not supported "
                             "(use seccomp=unconfined or seccomp=builtin)\n", optarg);
            return 125;
          }
        else
          {
            fprintf (stderr, "mini: invalid --security-opt `%s`: only seccomp=unconfined and "
                             "seccomp=builtin are supported\n", optarg);
            return 125;
          }
        break;
      case 'i':
        break;
      case 'h':
        run_usage (stdout);
        return 0;
      default:
        fprintf (stderr, "See 'mini run --help'.\n");
        return 125;
      }
  if (optind >= argc)
    {
      fprintf (stderr, "mini: \"run\" requires at least 1 argument.\n");
      run_usage (stderr);
      return 125;
    }
  if (name && !store_container_name_valid (name))
    {
      fprintf (stderr, "mini: invalid container name `%s`: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n", name);
      return 125;
    }

  if (g->offline && strcmp (pull_policy, "always") == 0)
    {
      fprintf (stderr, "mini: --pull always conflicts with --offline\n");
      return 125;
    }
  /* Nothing this run needs may be pruned until its container is recorded. */
  gc_lock = cmd_lock_shared (g, false, &err);
  if (gc_lock < 0)
    {
      cmd_print_error (&err);
      return 125;
    }
  digest = resolve_image (g, argv[optind], platform, pull_policy, &refstr);
  if (digest == NULL)
    return 125;
  if (store_image_load (g->store, digest, &img, &err) < 0)
    {
      mini_error_wrap (&err, "image %s", argv[optind]);
      cmd_print_error (&err);
      return 125;
    }
  if (cmd_unpack_image (g, img, &err) < 0)
    {
      mini_error_wrap (&err, "unpack %s", argv[optind]);
      cmd_print_error (&err);
      store_image_free (img);
      return 125;
    }

  c = xmalloc0 (sizeof (*c));
  c->name = xstrdup (name);
  c->image = xstrdup (argv[optind]);
  c->image_digest = xstrdup (img->manifest_digest);
  c->config_digest = xstrdup (img->config_digest);
  c->pid_host = pid_host;
  c->net_host = net_host;
  c->seccomp_unconfined = seccomp_unconfined;
  c->detached = detach;
  c->auto_remove = rm;
  c->layers = xmalloc0 ((img->n_layers + 1) * sizeof (char *));
  for (size_t i = 0; i < img->n_layers; i++)
    c->layers[i] = xstrdup (img->layers[i].chain_id);

  o.entrypoint = entrypoint;
  o.args = argc - optind > 1 ? argv + optind + 1 : NULL;
  o.env = env;
  /* The spec first: the container's state is then written once. */
  if (run_spec_from_image (img, &o, c, &err) < 0)
    goto fail;
  if (store_container_create (g->store, c, &err) < 0)
    {
      /* run skips the sweep of leftovers (cmd_lock_shared), but a name
         held by a container that an interrupted command half-created or
         half-removed must not stay in the way: sweep when alone, retry. */
      if (name == NULL || mini_error_errno (err) != EEXIST)
        goto fail;
      mini_error_release (&err);
      close (steal_fd (&gc_lock));
      gc_lock = cmd_lock_shared (g, true, &err);
      if (gc_lock < 0 || cmd_unpack_image (g, img, &err) < 0
          || store_container_create (g->store, c, &err) < 0)
        goto fail;
    }
  if (run_container_set_storage_driver (g->store, c, g->storage_driver, &err) < 0)
    {
      mini_error_t tmp = NULL;
      store_container_remove (g->store, c, &tmp);
      mini_error_release (&tmp);
      goto fail;
    }
  store_image_free (img);
  img = NULL;
  /* The container now keeps its image and layers; the monitor forked by
     run_container_start must not inherit the lock. */
  close (steal_fd (&gc_lock));

  ret = run_container_start (g->store, c, &status, &err);
  if (ret < 0)
    {
      cmd_print_error (&err);
      store_container_free (c);
      return status ? status : 125;
    }
  if (detach)
    {
      printf ("%s\n", c->id);
      status = 0;
    }
  store_container_free (c);
  return status;

fail:
  cmd_print_error (&err);
  store_image_free (img);
  store_container_free (c);
  return 125;
}
