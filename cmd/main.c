/* mini - entry point: global options and verb dispatch. */
#include "cmd/cmd.h"

#include <getopt.h>
#include <string.h>

static void
usage (FILE *f)
{
  fprintf (f,
           "Usage: mini [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
           "\n"
           "A daemonless container tool.\n"
           "\n"
           "Commands:\n"
           "  pull     Download an image from a registry\n"
           "  images   List images in the local store\n"
           "  rmi      Remove images\n"
           "  tag      Give an image another name\n"
           "  inspect  Show images or containers as JSON\n"
           "  save     Write images to a tar archive (OCI layout + docker-archive)\n"
           "  load     Read images from a tar archive\n"
           "  image    Manage images (ls, rm, tag, inspect, prune, save, load)\n"
           "  system   Manage the store (prune, df, check)\n"
           "  run      Create and run a new container from an image\n"
           "  ps       List containers\n"
           "  exec     Run a command in a running container\n"
           "  logs     Show the output of a container\n"
           "  stop     Stop a running container\n"
           "  rm       Remove a container\n"
           "  login    Log in to a registry\n"
           "  logout   Log out from a registry\n"
           "  export   Write a container's filesystem as a tar archive\n"
           "  unpack   Write an image's root filesystem into a directory\n"
           "\n"
           "Global options:\n"
           "  --root DIR               state directory (env MINI_ROOT; default /var/lib/mini)\n"
           "  --registry-mirror URL    mirror for docker.io images (repeatable); HOST=URL:\n"
           "                           a mirror for registry HOST\n"
           "  --certs-dir DIR          CA certificates per registry, DIR/HOST:PORT/*.crt\n"
           "                           (repeatable; default /etc/mini/certs.d and\n"
           "                           /etc/docker/certs.d)\n"
           "  --auth-file FILE         registry credentials (Docker config.json format;\n"
           "                           default ~/.docker/config.json)\n"
           "  --max-concurrent-downloads N  layers downloaded at once (default 3)\n"
           "  --insecure-registry HOST allow plain HTTP for HOST[:PORT] (repeatable)\n"
           "  --offline                never use the network (no pull, run --pull never)\n"
           "  --storage-driver DRIVER  container rootfs: overlay (default; falls back to vfs\n"
           "                           when the overlay cannot be mounted) or vfs (a copy)\n"
           "  --config FILE            JSON config (default /etc/mini/config.json): keys\n"
           "                           \"registry-mirrors\", \"insecure-registries\"\n"
           "  -h, --help               show this help\n"
           "  -v, --version            show the version\n"
           "\n"
           "Run 'mini COMMAND --help' for more information on a command.\n");
}

void
cmd_print_error (mini_error_t *err)
{
  char *s = mini_error_string (*err);
  fflush (stdout);
  fprintf (stderr, "mini: %s\n", s);
  free (s);
  mini_error_release (err);
}

static struct cmd_globals *the_globals;

struct store *
cmd_store (struct cmd_globals *g)
{
  mini_error_t err = NULL;
  if (g->store)
    return g->store;
  if (store_open (g->root, &g->store, &err) < 0)
    {
      mini_error_wrap (&err, "open state directory (use --root DIR or MINI_ROOT to choose another)");
      cmd_print_error (&err);
      exit (125);
    }
  return g->store;
}

static void
free_globals (void)
{
  if (the_globals)
    {
      store_close (the_globals->store);
      pull_options_clear (&the_globals->pull);
    }
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "root", required_argument, NULL, 'r' },
    { "registry-mirror", required_argument, NULL, 'm' },
    { "insecure-registry", required_argument, NULL, 'i' },
    { "config", required_argument, NULL, 'c' },
    { "offline", no_argument, NULL, 'O' },
    { "storage-driver", required_argument, NULL, 'D' },
    { "certs-dir", required_argument, NULL, 'C' },
    { "auth-file", required_argument, NULL, 'A' },
    { "max-concurrent-downloads", required_argument, NULL, 'M' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  static const struct
  {
    const char *name;
    int (*fn) (struct cmd_globals *, int, char **);
  } verbs[] = {
    { "pull", cmd_pull }, { "images", cmd_images }, { "run", cmd_run }, { "ps", cmd_ps },
    { "exec", cmd_exec }, { "logs", cmd_logs },     { "stop", cmd_stop }, { "rm", cmd_rm },
    { "rmi", cmd_rmi },   { "tag", cmd_tag },       { "inspect", cmd_inspect },
    { "save", cmd_save }, { "load", cmd_load },     { "image", cmd_image }, { "system", cmd_system },
    { "export", cmd_export }, { "unpack", cmd_unpack },
    { "login", cmd_login },   { "logout", cmd_logout },
  };
  static struct cmd_globals g;
  char **mirrors = NULL;
  mini_error_t err = NULL;
  const char *verb;
  size_t i;
  int c;

  the_globals = &g;
  atexit (free_globals);
  g.root = getenv ("MINI_ROOT");
  if (g.root == NULL || *g.root == '\0')
    g.root = "/var/lib/mini";

  while ((c = getopt_long (argc, argv, "+hv", opts, NULL)) != -1)
    {
      switch (c)
        {
        case 'r':
          g.root = optarg;
          break;
        case 'm':
          if (strchr (optarg, '=') && strchr (optarg, '=') < strstr (optarg, "://"))
            {
              /* HOST=URL: a mirror of another registry than docker.io */
              if (cmd_add_registry_mirror (&g.pull, optarg) < 0)
                return 125;
            }
          else
            strv_append (&mirrors, optarg);
          break;
        case 'C':
          strv_append (&g.pull.certs_dirs, optarg);
          break;
        case 'A':
          g.pull.auth_file = optarg;
          break;
        case 'M':
          {
            char *end = NULL;
            long n = strtol (optarg, &end, 10);
            if (end == optarg || *end != '\0' || n < 1 || n > 64)
              {
                fprintf (stderr, "mini: invalid --max-concurrent-downloads `%s`: give 1 to 64\n",
                         optarg);
                return 125;
              }
            g.pull.max_concurrent_downloads = (int) n;
          }
          break;
        case 'i':
          strv_append (&g.pull.insecure_registries, optarg);
          break;
        case 'c':
          g.config = optarg;
          break;
        case 'D':
          if (strcmp (optarg, "overlay") != 0 && strcmp (optarg, "vfs") != 0)
            {
              fprintf (stderr, "mini: invalid --storage-driver `%s`: use overlay or vfs\n", optarg);
              return 125;
            }
          g.storage_driver = optarg;
          break;
        case 'O':
          g.offline = true;
          break;
        case 'h':
          usage (stdout);
          return 0;
        case 'v':
          printf ("mini version %s\n", "0.1.0");
          return 0;
        default:
          fprintf (stderr, "See 'mini --help'.\n");
          return 125;
        }
    }
  if (optind >= argc)
    {
      usage (stderr);
      return 1;
    }

  /* Mirrors from the command line come first, then the config file's.  */
  for (i = 0; mirrors && mirrors[i]; i++)
    {
      size_t l = strlen (mirrors[i]);
      while (l > 0 && mirrors[i][l - 1] == '/')
        mirrors[i][--l] = '\0';
      if (strncmp (mirrors[i], "http://", 7) != 0 && strncmp (mirrors[i], "https://", 8) != 0)
        {
          fprintf (stderr, "mini: invalid --registry-mirror `%s`: give a URL like https://mirror.example or http://127.0.0.1:5000\n",
                   mirrors[i]);
          return 125;
        }
    }
  g.pull.mirrors = mirrors;
  if (pull_options_load_config (g.config ? g.config : "/etc/mini/config.json", g.config != NULL, &g.pull,
                                &err)
      < 0)
    {
      cmd_print_error (&err);
      return 125;
    }

  verb = argv[optind];
  /* openssl.cnf only matters for TLS: pull/ reads it before loading libcurl. */
  crypto_skip_config ();
  for (i = 0; i < sizeof (verbs) / sizeof (verbs[0]); i++)
    if (strcmp (verb, verbs[i].name) == 0)
      {
        /* Each verb sees its own argv: argv[0] is the verb.  optind = 0
           makes glibc's getopt start afresh.  */
        int vi = optind;
        optind = 0;
        return verbs[i].fn (&g, argc - vi, argv + vi);
      }
  if (strcmp (verb, "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  fprintf (stderr, "mini: unknown command `%s`\nSee 'mini --help'.\n", verb);
  return 1;
}
