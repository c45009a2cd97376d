/* mini - container lifecycle verbs: ps, exec, logs, stop, rm. */
#include "cmd/cmd.h"
#include "run/run.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

static char *
command_string (char **argv, bool trunc)
{
  size_t i, len = 0;
  char *s, *p;
  for (i = 0; argv && argv[i]; i++)
    len += strlen (argv[i]) + 1;
  s = xmalloc0 (len + 3);
  p = s;
  *p++ = '"';
  for (i = 0; argv && argv[i]; i++)
    p += sprintf (p, "%s%s", i ? " " : "", argv[i]);
  *p++ = '"';
  *p = '\0';
  if (trunc && strlen (s) > 20)
    {
      /* Docker: 19 characters then an ellipsis, inside the quotes.  */
      char *t = xfmt ("%.19s…\"", s);
      free (s);
      s = t;
    }
  return s;
}

static char *
status_string (const struct store_container *c)
{
  int64_t now = now_ns () / 1000000000LL;
  cleanup_free char *d = NULL;
  switch (c->status)
    {
    case STORE_CONTAINER_RUNNING:
      d = human_duration (now - c->started_ns / 1000000000LL);
      return xfmt ("Up %s", d);
    case STORE_CONTAINER_EXITED:
      d = human_duration (now - c->finished_ns / 1000000000LL);
      return xfmt ("Exited (%d) %s ago", c->exit_code, d);
    default:
      return xstrdup ("Created");
    }
}

/* Load a container or print "mini: no such container" and return NULL. */
static struct store_container *
load (struct cmd_globals *g, const char *name)
{
  struct store_container *c = NULL;
  mini_error_t err = NULL;
  if (store_container_load (cmd_store (g), name, &c, &err) < 0)
    {
      cmd_print_error (&err);
      return NULL;
    }
  return c;
}

int
cmd_ps (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "quiet", no_argument, NULL, 'q' },
    { "no-trunc", no_argument, NULL, 'T' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct store_container **v = NULL;
  mini_error_t err = NULL;
  bool all = false, quiet = false, notrunc = false;
  size_t n = 0, i;
  int ch;

  while ((ch = getopt_long (argc, argv, "+aqh", opts, NULL)) != -1)
    switch (ch)
      {
      case 'a':
        all = true;
        break;
      case 'q':
        quiet = true;
        break;
      case 'T':
        notrunc = true;
        break;
      case 'h':
        printf ("Usage: mini ps [-a] [-q] [--no-trunc]\n");
        return 0;
      default:
        fprintf (stderr, "See 'mini ps --help'.\n");
        return 1;
      }
  if (optind < argc)
    {
      fprintf (stderr, "mini: \"ps\" accepts no arguments.\nUsage: mini ps [-a] [-q] [--no-trunc]\n");
      return 1;
    }
  if (store_container_list (cmd_store (g), &v, &n, &err) < 0)
    {
      cmd_print_error (&err);
      return 1;
    }
  {
    /* Docker's tabwriter layout: every column as wide as its widest cell,
       three spaces between columns.  */
    enum { NCOL = 6 };
    char ***rows = xmalloc0 ((n + 1) * sizeof (char **));
    size_t nrows = 0, w[NCOL] = { 0 }, r, k;
    rows[nrows] = xmalloc0 (NCOL * sizeof (char *));
    rows[nrows][0] = xstrdup ("CONTAINER ID");
    rows[nrows][1] = xstrdup ("IMAGE");
    rows[nrows][2] = xstrdup ("COMMAND");
    rows[nrows][3] = xstrdup ("CREATED");
    rows[nrows][4] = xstrdup ("STATUS");
    rows[nrows][5] = xstrdup ("NAMES");
    nrows++;
    for (i = 0; i < n; i++)
      {
        struct store_container *c = v[i];
        cleanup_free char *ago = NULL;
        bool running = run_container_is_running (g->store, c);

        if (!all && !running)
          continue;
        if (quiet)
          {
            printf ("%.*s\n", notrunc ? 64 : 12, c->id);
            continue;
          }
        ago = human_duration (now_ns () / 1000000000LL - c->created_ns / 1000000000LL);
        rows[nrows] = xmalloc0 (NCOL * sizeof (char *));
        rows[nrows][0] = xstrndup (c->id, notrunc ? 64 : 12);
        rows[nrows][1] = xstrdup (c->image ? c->image : "");
        rows[nrows][2] = command_string (c->argv, !notrunc);
        rows[nrows][3] = xfmt ("%s ago", ago);
        rows[nrows][4] = status_string (c);
        rows[nrows][5] = xstrdup (c->name);
        nrows++;
      }
    for (r = 0; r < nrows; r++)
      for (k = 0; k < NCOL; k++)
        {
          /* count UTF-8 code points, not bytes (the ellipsis) */
          size_t cp = 0;
          for (const char *q = rows[r][k]; *q; q++)
            cp += ((unsigned char) *q & 0xc0) != 0x80;
          if (cp > w[k])
            w[k] = cp;
        }
    for (r = 0; r < nrows && !quiet; r++)
      {
        for (k = 0; k < NCOL; k++)
          {
            size_t cp = 0;
            for (const char *q = rows[r][k]; *q; q++)
              cp += ((unsigned char) *q & 0xc0) != 0x80;
            fputs (rows[r][k], stdout);
            if (k + 1 < NCOL)
              printf ("%*s", (int) (w[k] - cp + 3), "");
          }
        putchar ('\n');
      }
    for (r = 0; r < nrows; r++)
      {
        for (k = 0; k < NCOL; k++)
          free (rows[r][k]);
        free (rows[r]);
      }
    free (rows);
  }
  store_containers_free (v, n);
  return 0;
}

int
cmd_exec (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "env", required_argument, NULL, 'e' },
    { "workdir", required_argument, NULL, 'w' },
    { "interactive", no_argument, NULL, 'i' },
    { "tty", no_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **env = NULL;
  const char *cwd = NULL;
  struct store_container *c;
  mini_error_t err = NULL;
  int ch, status = 126;

  while ((ch = getopt_long (argc, argv, "+e:w:ith", opts, NULL)) != -1)
    switch (ch)
      {
      case 'e':
        if (strchr (optarg, '=') == NULL || optarg[0] == '=')
          {
            fprintf (stderr, "mini: invalid environment variable `%s`: use -e KEY=VALUE\n", optarg);
            return 125;
          }
        strv_append (&env, optarg);
        break;
      case 'w':
        if (optarg[0] != '/')
          {
            fprintf (stderr, "mini: the working directory `%s` is invalid: it must be an absolute path\n", optarg);
            return 125;
          }
        cwd = optarg;
        break;
      case 'i':
        break;
      case 't':
        fprintf (stderr, "mini: exec -t (a terminal) is not supported yet; run without -t\n");
        return 125;
      case 'h':
        printf ("Usage: mini exec [-e K=V] [-w DIR] CONTAINER COMMAND [ARG...]\n");
        return 0;
      default:
        fprintf (stderr, "See 'mini exec --help'.\n");
        return 125;
      }
  if (argc - optind < 2)
    {
      fprintf (stderr, "mini: \"exec\" requires at least 2 arguments.\n"
                       "Usage: mini exec [-e K=V] [-w DIR] CONTAINER COMMAND [ARG...]\n");
      return 125;
    }
  c = load (g, argv[optind]);
  if (c == NULL)
    return 125;
  if (run_container_exec (g->store, c, argv + optind + 1, env, cwd, &status, &err) < 0)
    {
      cmd_print_error (&err);
      store_container_free (c);
      return status ? status : 125;
    }
  store_container_free (c);
  return status;
}

int
cmd_logs (struct cmd_globals *g, int argc, char **argv)
{
  struct store_container *c;
  cleanup_close int dfd = -1;
  cleanup_close int fd = -1;
  mini_error_t err = NULL;
  char buf[65536];
  ssize_t r;

  if (argc == 2 && (strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0))
    {
      printf ("Usage: mini logs CONTAINER\n");
      return 0;
    }
  if (argc != 2 || argv[1][0] == '-')
    {
      fprintf (stderr, "mini: \"logs\" requires exactly 1 argument.\nUsage: mini logs CONTAINER\n");
      return 1;
    }
  c = load (g, argv[1]);
  if (c == NULL)
    return 1;
  if (store_container_dir (g->store, c->id, &dfd, &err) < 0)
    {
      cmd_print_error (&err);
      store_container_free (c);
      return 1;
    }
  store_container_free (c);
  fd = openat (dfd, "ctr.log", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      if (errno == ENOENT)
        {
          /* Foreground containers write straight to the terminal of `mini run`. */
          fprintf (stderr, "mini: no logs recorded for %s: it ran in the foreground; "
                           "run it with -d to keep its output\n", argv[1]);
          return 0;
        }
      perror ("mini: open log");
      return 1;
    }
  while ((r = TEMP_FAILURE_RETRY (read (fd, buf, sizeof (buf)))) > 0)
    if (write_all (1, buf, r) < 0)
      return 1;
  return r < 0 ? 1 : 0;
}

int
cmd_stop (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "time", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int timeout = 10, ch, i, rc = 0;

  while ((ch = getopt_long (argc, argv, "+t:h", opts, NULL)) != -1)
    switch (ch)
      {
      case 't':
        {
          char *end;
          long v = strtol (optarg, &end, 10);
          if (*end || v < 0 || v > 86400)
            {
              fprintf (stderr, "mini: invalid --time `%s`: give whole seconds\n", optarg);
              return 1;
            }
          timeout = v;
        }
        break;
      case 'h':
        printf ("Usage: mini stop [-t SECONDS] CONTAINER...\n");
        return 0;
      default:
        fprintf (stderr, "See 'mini stop --help'.\n");
        return 1;
      }
  if (optind >= argc)
    {
      fprintf (stderr, "mini: \"stop\" requires at least 1 argument.\nUsage: mini stop [-t SECONDS] CONTAINER...\n");
      return 1;
    }
  for (i = optind; i < argc; i++)
    {
      mini_error_t err = NULL;
      struct store_container *c = load (g, argv[i]);
      if (c == NULL)
        {
          rc = 1;
          continue;
        }
      if (run_container_stop (g->store, c, timeout, &err) < 0)
        {
          cmd_print_error (&err);
          rc = 1;
        }
      else
        printf ("%s\n", argv[i]);
      store_container_free (c);
    }
  return rc;
}

int
cmd_rm (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool force = false;
  int ch, i, rc = 0;

  while ((ch = getopt_long (argc, argv, "+fh", opts, NULL)) != -1)
    switch (ch)
      {
      case 'f':
        force = true;
        break;
      case 'h':
        printf ("Usage: mini rm [-f] CONTAINER...\n");
        return 0;
      default:
        fprintf (stderr, "See 'mini rm --help'.\n");
        return 1;
      }
  if (optind >= argc)
    {
      fprintf (stderr, "mini: \"rm\" requires at least 1 argument.\nUsage: mini rm [-f] CONTAINER...\n");
      return 1;
    }
  for (i = optind; i < argc; i++)
    {
      mini_error_t err = NULL;
      struct store_container *c = load (g, argv[i]);
      if (c == NULL)
        {
          rc = 1;
          continue;
        }
      if (run_container_remove (g->store, c, force, &err) < 0)
        {
          cmd_print_error (&err);
          rc = 1;
        }
      else
        printf ("%s\n", argv[i]);
      store_container_free (c);
    }
  return rc;
}
