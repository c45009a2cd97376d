/* mini - run: the process description from an image config and the user's
 * flags (Docker's merge rules), environment helpers, signal names.
 */
#include "run/run-private.h"

#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <strings.h>

ssize_t
env_find (char *const *env, const char *key, size_t keylen)
{
  size_t i;

  for (i = 0; env && env[i]; i++)
    if (strncmp (env[i], key, keylen) == 0 && env[i][keylen] == '=')
      return (ssize_t) i;
  return -1;
}

const char *
env_get (char *const *env, const char *key)
{
  size_t len = strlen (key);
  ssize_t i = env_find (env, key, len);

  return i < 0 ? NULL : env[i] + len + 1;
}

void
env_set (char ***env, const char *kv)
{
  const char *eq = strchr (kv, '=');
  ssize_t i;

  if (eq == NULL)
    return;
  i = env_find (*env, kv, (size_t) (eq - kv));
  if (i >= 0)
    {
      free ((*env)[i]);
      (*env)[i] = xstrdup (kv);
      return;
    }
  strv_append (env, kv);
}

/* Copy of V, or an empty vector when V is NULL. */
static char **
strv_dup_or_empty (char *const *v)
{
  if (v)
    return strv_dup (v);
  return xmalloc0 (sizeof (char *));
}

int
run_spec_from_image (const struct store_image *img, const struct run_overrides *o,
                     struct store_container *c, mini_error_t *err)
{
  cleanup_strv char **argv = NULL;
  cleanup_strv char **env = NULL;
  const char *wd = NULL;
  char **entrypoint = NULL;
  char **cmd = NULL;
  size_t i;

  /* Entrypoint and Cmd (moby daemon/create.go mergeAndVerifyConfig): a
     user entrypoint, even "", drops the image's Cmd; {""} means none. */
  if (o && o->entrypoint)
    {
      if (! (o->entrypoint[0] && o->entrypoint[0][0] == '\0' && o->entrypoint[1] == NULL))
        entrypoint = o->entrypoint;
    }
  else
    entrypoint = img ? img->entrypoint : NULL;

  if (o && o->args && o->args[0])
    cmd = o->args;
  else if (! (o && o->entrypoint))
    cmd = img ? img->cmd : NULL;

  argv = strv_dup_or_empty (entrypoint);
  for (i = 0; cmd && cmd[i]; i++)
    strv_append (&argv, cmd[i]);
  if (argv[0] == NULL)
    return mini_error_set (err, EINVAL, "no command specified");

  /* Environment. */
  env = xmalloc0 (sizeof (char *));
  for (i = 0; img && img->env && img->env[i]; i++)
    env_set (&env, img->env[i]);
  if (env_get (env, "PATH") == NULL)
    env_set (&env, DEFAULT_PATH_ENV);
  if (c->hostname && c->hostname[0])
    {
      cleanup_free char *h = xfmt ("HOSTNAME=%s", c->hostname);
      env_set (&env, h);
    }
  for (i = 0; o && o->env && o->env[i]; i++)
    {
      const char *kv = o->env[i];
      const char *eq = strchr (kv, '=');

      if (eq == kv)
        return mini_error_set (err, EINVAL, "invalid environment variable `%s`", kv);
      if (eq == NULL)
        continue;
      env_set (&env, kv);
    }

  /* Working directory. */
  if (o && o->working_dir && o->working_dir[0])
    wd = o->working_dir;
  else if (img && img->working_dir && img->working_dir[0])
    wd = img->working_dir;
  else
    wd = "/";
  if (wd[0] != '/')
    return mini_error_set (err, EINVAL,
                           "the working directory `%s` is invalid, it needs to be an absolute path",
                           wd);

  strv_free (c->argv);
  c->argv = steal_pointer (&argv);
  strv_free (c->env);
  c->env = steal_pointer (&env);
  free (c->working_dir);
  c->working_dir = xstrdup (wd);
  free (c->user);
  c->user = (img && img->user && img->user[0]) ? xstrdup (img->user) : NULL;
  free (c->stop_signal);
  c->stop_signal = (img && img->stop_signal && img->stop_signal[0]) ? xstrdup (img->stop_signal)
                                                                     : NULL;
  return 0;
}

/* ---------------------------------------------------------------- signals */

static const struct
{
  const char *name;
  int num;
} signal_names[] = {
  { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
  { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
  { "FPE", SIGFPE },     { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
  { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CLD", SIGCHLD },    { "CONT", SIGCONT },
  { "STOP", SIGSTOP },   { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },
  { "URG", SIGURG },     { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM },
  { "PROF", SIGPROF },   { "WINCH", SIGWINCH },   { "IO", SIGIO },       { "POLL", SIGPOLL },
  { "PWR", SIGPWR },     { "SYS", SIGSYS },
};

/* Parse a decimal number of at most INT_MAX in S (whole string); -1 if not. */
static int
parse_uint (const char *s)
{
  long v = 0;

  if (s == NULL || *s == '\0')
    return -1;
  for (; *s; s++)
    {
      if (! isdigit ((unsigned char) *s))
        return -1;
      v = v * 10 + (*s - '0');
      if (v > INT_MAX)
        return -1;
    }
  return (int) v;
}

int
run_signal_parse (const char *s)
{
  const char *name;
  size_t i;
  int n;

  if (s == NULL || *s == '\0')
    return -1;

  n = parse_uint (s);
  if (n >= 0)
    return (n >= 1 && n <= SIGRTMAX) ? n : -1;

  name = s;
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;

  for (i = 0; i < sizeof (signal_names) / sizeof (signal_names[0]); i++)
    if (strcasecmp (name, signal_names[i].name) == 0)
      return signal_names[i].num;

  if (strncasecmp (name, "RTMIN", 5) == 0 || strncasecmp (name, "RTMAX", 5) == 0)
    {
      bool min = strncasecmp (name, "RTMIN", 5) == 0;
      const char *rest = name + 5;
      int off = 0;

      if (*rest == '+' || *rest == '-')
        {
          off = parse_uint (rest + 1);
          if (off < 0)
            return -1;
          if (*rest == '-')
            off = -off;
        }
      else if (*rest != '\0')
        return -1;
      n = (min ? SIGRTMIN : SIGRTMAX) + off;
      return (n >= SIGRTMIN && n <= SIGRTMAX) ? n : -1;
    }
  return -1;
}
