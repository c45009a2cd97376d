/* mini - `mini login` and `mini logout` (docker login / logout): credentials
 * checked against the registry, kept in Docker's config.json format (or
 * its credential helpers), read back by every pull. */
#include "cmd/cmd.h"

#include <getopt.h>
#include <pwd.h>
#include <string.h>
#include <termios.h>

#define DEFAULT_CERTS_DIR "/etc/mini/certs.d"
#define DOCKER_CERTS_DIR "/etc/docker/certs.d"

static char *default_auth_file;

void
cmd_registry_defaults (struct cmd_globals *g)
{
  if (g->pull.certs_dirs == NULL)
    {
      strv_append (&g->pull.certs_dirs, DEFAULT_CERTS_DIR);
      strv_append (&g->pull.certs_dirs, DOCKER_CERTS_DIR);
    }
  if (g->pull.auth_file == NULL)
    {
      if (default_auth_file == NULL)
        {
          const char *dc = getenv ("DOCKER_CONFIG");
          const char *home = getenv ("HOME");

          if (dc && *dc)
            default_auth_file = xfmt ("%s/config.json", dc);
          else
            {
              if (home == NULL || *home == '\0')
                {
                  struct passwd *pw = getpwuid (getuid ());
                  home = pw ? pw->pw_dir : "/";
                }
              default_auth_file = xfmt ("%s/.docker/config.json", home);
            }
        }
      g->pull.auth_file = default_auth_file;
    }
}

/* Read a line from the terminal, without echo when SECRET. */
static char *
prompt (const char *what, bool secret, mini_error_t *err)
{
  cleanup_file FILE *tty = fopen ("/dev/tty", "r+e");
  struct termios old, quiet;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  bool restore = false;

  if (tty == NULL)
    {
      mini_error_set (err, ENOTTY, "cannot perform an interactive login from a non TTY device "
                                   "(use -u USER --password-stdin)");
      return NULL;
    }
  fprintf (tty, "%s: ", what);
  fflush (tty);
  if (secret && tcgetattr (fileno (tty), &old) == 0)
    {
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      restore = tcsetattr (fileno (tty), TCSAFLUSH, &quiet) == 0;
    }
  n = getline (&line, &cap, tty);
  if (restore)
    {
      tcsetattr (fileno (tty), TCSAFLUSH, &old);
      fputc ('\n', tty);
    }
  if (n < 0)
    {
      free (line);
      mini_error_set (err, EIO, "no %s given", what);
      return NULL;
    }
  line[strcspn (line, "\r\n")] = '\0';
  return line;
}

static char *
read_stdin_secret (mini_error_t *err)
{
  size_t len = 0, cap = 4096;
  char *buf = xmalloc (cap);
  ssize_t r;

  for (;;)
    {
      if (len + 1 >= cap)
        {
          if (cap >= (1 << 20))
            {
              free (buf);
              mini_error_set (err, EFBIG, "password on stdin is too long");
              return NULL;
            }
          cap *= 2;
          buf = xrealloc (buf, cap);
        }
      r = TEMP_FAILURE_RETRY (read (STDIN_FILENO, buf + len, cap - len - 1));
      if (r < 0)
        {
          int e = errno;
          free (buf);
          mini_error_set (err, e, "read password from stdin");
          return NULL;
        }
      if (r == 0)
        break;
      len += r;
    }
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
    len--;
  buf[len] = '\0';
  return buf;
}

int
cmd_login (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "username", required_argument, NULL, 'u' },
    { "password", required_argument, NULL, 'p' },
    { "password-stdin", no_argument, NULL, 'P' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static const char usage[]
      = "Usage: mini login [-u USER] [--password-stdin | -p PASSWORD] [REGISTRY]\n";
  cleanup_free char *user = NULL;
  cleanup_free char *secret = NULL;
  cleanup_free char *registry = NULL;
  mini_error_t err = NULL;
  bool from_stdin = false;
  int c;

  while ((c = getopt_long (argc, argv, "+u:p:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'u':
        free (user);
        user = xstrdup (optarg);
        break;
      case 'p':
        free (secret);
        secret = xstrdup (optarg);
        break;
      case 'P':
        from_stdin = true;
        break;
      case 'h':
        printf ("%s\n"
                "Log in to a registry (default: Docker Hub): the credentials are checked\n"
                "against it, then stored in the Docker config file (--auth-file; default\n"
                "$DOCKER_CONFIG/config.json or ~/.docker/config.json, mode 0600), or given to\n"
                "its credential helper (credsStore, credHelpers).\n",
                usage);
        return 0;
      default:
        fprintf (stderr, "See 'mini login --help'.\n");
        return 1;
      }
  if (argc - optind > 1)
    {
      fprintf (stderr, "mini: \"login\" requires at most 1 argument.\n%s", usage);
      return 1;
    }
  cmd_registry_defaults (g);
  registry = pull_registry_normalize (optind < argc ? argv[optind] : "docker.io", &err);
  if (registry == NULL)
    goto fail;
  if (from_stdin && secret)
    {
      fprintf (stderr, "mini: --password and --password-stdin are mutually exclusive\n");
      return 1;
    }
  if (from_stdin && user == NULL)
    {
      fprintf (stderr, "mini: must provide --username with --password-stdin\n");
      return 1;
    }
  if (secret && !from_stdin)
    fprintf (stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  if (user == NULL && (user = prompt ("Username", false, &err)) == NULL)
    goto fail;
  if (*user == '\0')
    {
      fprintf (stderr, "mini: a username is required\n");
      return 1;
    }
  if (from_stdin)
    secret = read_stdin_secret (&err);
  else if (secret == NULL)
    secret = prompt ("Password", true, &err);
  if (secret == NULL)
    goto fail;
  if (*secret == '\0')
    {
      fprintf (stderr, "mini: a password is required\n");
      return 1;
    }
  if (pull_login (registry, &g->pull, user, secret, &err) < 0)
    goto fail;
  if (pull_auth_store (g->pull.auth_file, registry, user, secret, &err) < 0)
    goto fail;
  printf ("Login Succeeded\n");
  return 0;

fail:
  cmd_print_error (&err);
  return 1;
}

int
cmd_logout (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *registry = NULL;
  mini_error_t err = NULL;
  bool found = false;
  int c;

  while ((c = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    switch (c)
      {
      case 'h':
        printf ("Usage: mini logout [REGISTRY]\n\nForget the credentials of a registry "
                "(default: Docker Hub).\n");
        return 0;
      default:
        fprintf (stderr, "See 'mini logout --help'.\n");
        return 1;
      }
  if (argc - optind > 1)
    {
      fprintf (stderr, "mini: \"logout\" requires at most 1 argument.\n"
                       "Usage: mini logout [REGISTRY]\n");
      return 1;
    }
  cmd_registry_defaults (g);
  registry = pull_registry_normalize (optind < argc ? argv[optind] : "docker.io", &err);
  if (registry == NULL || pull_auth_erase (g->pull.auth_file, registry, &found, &err) < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  if (found)
    printf ("Removing login credentials for %s\n", registry);
  else
    printf ("Not logged in to %s\n", registry);
  return 0;
}

int
cmd_add_registry_mirror (struct pull_options *opts, const char *arg)
{
  const char *eq = strchr (arg, '=');
  cleanup_free char *host = xstrndup (arg, eq - arg);
  cleanup_free char *norm = pull_registry_normalize (host, NULL);
  cleanup_free char *url = xstrdup (eq + 1);
  cleanup_free char *entry = NULL;
  size_t l = strlen (url);

  while (l > 0 && url[l - 1] == '/')
    url[--l] = '\0';
  if (norm == NULL || strchr (host, '/')
      || (strncmp (url, "http://", 7) != 0 && strncmp (url, "https://", 8) != 0)
      || strchr (strstr (url, "://") + 3, '/'))
    {
      fprintf (stderr, "mini: invalid --registry-mirror `%s`: give HOST[:PORT]=URL like "
                       "registry.example:5000=https://mirror.example\n",
               arg);
      return -1;
    }
  entry = xfmt ("%s=%s", norm, url);
  strv_append (&opts->registry_mirrors, entry);
  return 0;
}
