/* mini - pull: registry credentials in Docker's config.json format
 * (docker/cli cli/config/configfile: "auths", "credsStore", "credHelpers")
 * and the docker-credential-helpers protocol (`docker-credential-<name>
 * get|store|erase`, JSON on stdin/stdout).
 */
#include "pull/pull-private.h"

#include <ctype.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <jansson.h>

#define DOCKER_IO_AUTH_KEY "https://index.docker.io/v1/"
#define HELPER_OUTPUT_MAX ((size_t) 1 << 20)
#define HELPER_TIMEOUT_MS 30000

/* ------------------------------------------------------------ base64 */

static const char b64_alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
pull_base64_encode (const void *data, size_t len)
{
  const unsigned char *p = data;
  char *out = xmalloc ((len + 2) / 3 * 4 + 1), *o = out;
  size_t i;

  for (i = 0; i + 2 < len; i += 3)
    {
      *o++ = b64_alphabet[p[i] >> 2];
      *o++ = b64_alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
      *o++ = b64_alphabet[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
      *o++ = b64_alphabet[p[i + 2] & 63];
    }
  if (i < len)
    {
      *o++ = b64_alphabet[p[i] >> 2];
      if (i + 1 < len)
        {
          *o++ = b64_alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
          *o++ = b64_alphabet[(p[i + 1] & 15) << 2];
        }
      else
        {
          *o++ = b64_alphabet[(p[i] & 3) << 4];
          *o++ = '=';
        }
      *o++ = '=';
    }
  *o = '\0';
  return out;
}

int
pull_base64_decode (const char *s, char **ret, size_t *ret_len)
{
  size_t len = strlen (s), n = 0;
  unsigned int acc = 0;
  int bits = 0;
  char *out = xmalloc (len / 4 * 3 + 4);

  for (; *s; s++)
    {
      const char *q;
      if (*s == '=')
        break;
      if (*s == '\n' || *s == '\r')
        continue;
      q = strchr (b64_alphabet, *s);
      if (q == NULL)
        {
          free (out);
          return -1;
        }
      acc = (acc << 6) | (unsigned int) (q - b64_alphabet);
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[n++] = (char) ((acc >> bits) & 0xff);
        }
    }
  for (; *s; s++)
    if (*s != '=' && *s != '\n' && *s != '\r')
      {
        free (out);
        return -1;
      }
  out[n] = '\0';
  *ret = out;
  if (ret_len)
    *ret_len = n;
  return 0;
}

/* ------------------------------------------------------------ names */

char *
pull_registry_normalize (const char *s, mini_error_t *err)
{
  const char *p = s;
  size_t len;
  char *r;

  if (strncasecmp (p, "https://", 8) == 0)
    p += 8;
  else if (strncasecmp (p, "http://", 7) == 0)
    p += 7;
  len = strcspn (p, "/");
  if (len == 0)
    {
      mini_error_set (err, EINVAL, "invalid registry `%s`", s);
      return NULL;
    }
  r = xstrndup (p, len);
  for (char *c = r; *c; c++)
    {
      if (!(isalnum ((unsigned char) *c) || strchr (".-:[]_", *c)))
        {
          free (r);
          mini_error_set (err, EINVAL, "invalid registry `%s`", s);
          return NULL;
        }
      *c = tolower ((unsigned char) *c);
    }
  if (strcmp (r, "index.docker.io") == 0 || strcmp (r, "registry-1.docker.io") == 0
      || strcmp (r, "registry.hub.docker.com") == 0)
    {
      free (r);
      r = xstrdup ("docker.io");
    }
  return r;
}

/* The key Docker writes for REGISTRY in "auths" and credential helpers. */
static const char *
auth_key (const char *registry)
{
  return strcmp (registry, "docker.io") == 0 ? DOCKER_IO_AUTH_KEY : registry;
}

/* true if the "auths" key K names REGISTRY (docker/cli's
   ConvertToHostname: scheme and path dropped). */
static bool
key_matches (const char *k, const char *registry)
{
  cleanup_free char *n = pull_registry_normalize (k, NULL);
  return n != NULL && strcmp (n, registry) == 0;
}

/* ------------------------------------------------------------ the file */

static int
load_config (const char *path, json_t **ret, mini_error_t *err)
{
  cleanup_free char *buf = NULL;
  json_error_t jerr;
  mini_error_t tmp = NULL;
  size_t len = 0;
  json_t *j;

  if (read_file_at (AT_FDCWD, path, &buf, &len, 16 << 20, &tmp) < 0)
    {
      if (mini_error_errno (tmp) == ENOENT)
        {
          mini_error_release (&tmp);
          *ret = NULL;
          return 0;
        }
      *err = tmp;
      return mini_error_wrap (err, "credentials file");
    }
  j = json_loadb (buf, len, 0, &jerr);
  if (j == NULL || !json_is_object (j))
    {
      json_decref (j);
      return mini_error_set (err, EINVAL, "%s:%d: invalid credentials file: %s", path, jerr.line,
                             j ? "not a JSON object" : jerr.text);
    }
  *ret = j;
  return 0;
}

/* The credential helper configured for REGISTRY ("credHelpers", else
   "credsStore"), or NULL. */
static const char *
helper_for (json_t *cfg, const char *registry)
{
  json_t *helpers = json_object_get (cfg, "credHelpers");
  const char *k;
  json_t *v;

  if (json_is_object (helpers))
    json_object_foreach (helpers, k, v)
      if (json_is_string (v) && json_string_length (v) > 0 && key_matches (k, registry))
        return json_string_value (v);
  v = json_object_get (cfg, "credsStore");
  if (json_is_string (v) && json_string_length (v) > 0)
    return json_string_value (v);
  return NULL;
}

/* Run docker-credential-NAME VERB with INPUT on stdin; its stdout goes to
   *RET_OUT.  *RET_STATUS gets its exit status.  Errors: ENOENT when the
   helper is not found (exit 127), EIO on I/O trouble, ETIMEDOUT. */
static int
run_helper (const char *name, const char *verb, const char *input, char **ret_out,
            int *ret_status, mini_error_t *err)
{
  cleanup_free char *prog = NULL;
  cleanup_free char *out = NULL;
  int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 };
  size_t len = 0, cap = 0, in_len = strlen (input), in_off = 0;
  int status = 0, e;
  pid_t pid;
  int64_t deadline = now_ns () / 1000000 + HELPER_TIMEOUT_MS;

  for (const char *c = name; *c; c++)
    if (!(isalnum ((unsigned char) *c) || strchr ("-_.", *c)))
      return mini_error_set (err, EINVAL, "invalid credential helper name `%s`", name);
  prog = xfmt ("docker-credential-%s", name);
  if (pipe2 (in_pipe, O_CLOEXEC) < 0)
    return mini_error_set (err, errno, "pipe");
  if (pipe2 (out_pipe, O_CLOEXEC) < 0)
    {
      e = errno;
      close (in_pipe[0]);
      close (in_pipe[1]);
      return mini_error_set (err, e, "pipe");
    }
  pid = fork ();
  if (pid < 0)
    {
      e = errno;
      close (in_pipe[0]);
      close (in_pipe[1]);
      close (out_pipe[0]);
      close (out_pipe[1]);
      return mini_error_set (err, e, "fork");
    }
  if (pid == 0)
    {
      int devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);
      signal (SIGPIPE, SIG_DFL);
      if (dup2 (in_pipe[0], 0) < 0 || dup2 (out_pipe[1], 1) < 0
          || (devnull >= 0 && dup2 (devnull, 2) < 0))
        _exit (126);
      execlp (prog, prog, verb, (char *) NULL);
      _exit (127);
    }
  close (in_pipe[0]);
  close (out_pipe[1]);
  fcntl (in_pipe[1], F_SETFL, O_NONBLOCK);

  for (;;)
    {
      struct pollfd pfd[2];
      int n = 0, r;
      int64_t left = deadline - now_ns () / 1000000;

      if (left <= 0)
        {
          kill (pid, SIGKILL);
          break;
        }
      pfd[n].fd = out_pipe[0];
      pfd[n].events = POLLIN;
      n++;
      if (in_pipe[1] >= 0)
        {
          pfd[n].fd = in_pipe[1];
          pfd[n].events = POLLOUT;
          n++;
        }
      r = poll (pfd, n, (int) left);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        break;
      if (n > 1 && pfd[1].revents)
        {
          ssize_t w = write (in_pipe[1], input + in_off, in_len - in_off);
          if (w > 0)
            in_off += w;
          if (w < 0 || in_off == in_len)
            {
              close (in_pipe[1]);
              in_pipe[1] = -1;
            }
        }
      if (pfd[0].revents)
        {
          ssize_t rd;
          if (len + 4096 + 1 > cap)
            {
              cap = (len + 4096 + 1) * 2;
              out = xrealloc (out, cap);
            }
          rd = read (out_pipe[0], out + len, cap - len - 1);
          if (rd < 0 && errno == EINTR)
            continue;
          if (rd <= 0)
            break;
          len += rd;
          if (len > HELPER_OUTPUT_MAX)
            {
              kill (pid, SIGKILL);
              break;
            }
        }
    }
  if (in_pipe[1] >= 0)
    close (in_pipe[1]);
  close (out_pipe[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFSIGNALED (status))
    return mini_error_set (err, ETIMEDOUT, "credential helper %s %s did not finish", prog, verb);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
    return mini_error_set (err, ENOENT, "credential helper %s not found in PATH", prog);
  if (out == NULL)
    out = xstrdup ("");
  else
    out[len] = '\0';
  *ret_status = WIFEXITED (status) ? WEXITSTATUS (status) : 1;
  *ret_out = steal_pointer (&out);
  return 0;
}

static int
helper_get (const char *helper, const char *registry, char **ret_user, char **ret_secret,
            mini_error_t *err)
{
  cleanup_free char *out = NULL;
  cleanup_free char *input = xfmt ("%s\n", auth_key (registry));
  json_auto_t *j = NULL;
  json_t *u, *p;
  int status = 0;

  if (run_helper (helper, "get", input, &out, &status, err) < 0)
    return -1;
  if (status != 0)
    {
      /* "credentials not found in native keychain": nothing stored. */
      if (strcasestr (out, "not found") != NULL)
        return 0;
      out[strcspn (out, "\n")] = '\0';
      return mini_error_set (err, EIO, "credential helper docker-credential-%s get %s failed: %s",
                             helper, registry, out[0] ? out : "no output");
    }
  j = json_loads (out, 0, NULL);
  u = j ? json_object_get (j, "Username") : NULL;
  p = j ? json_object_get (j, "Secret") : NULL;
  if (!json_is_string (u) || !json_is_string (p))
    return mini_error_set (err, EPROTO,
                           "credential helper docker-credential-%s get %s: unexpected output",
                           helper, registry);
  if (json_string_length (p) == 0)
    return 0;
  *ret_user = xstrdup (json_string_value (u));
  *ret_secret = xstrdup (json_string_value (p));
  return 0;
}

int
pull_auth_lookup (const char *auth_file, const char *registry, char **ret_user, char **ret_secret,
                  mini_error_t *err)
{
  json_auto_t *cfg = NULL;
  const char *helper, *k;
  json_t *auths, *v;

  *ret_user = *ret_secret = NULL;
  if (auth_file == NULL)
    return 0;
  if (load_config (auth_file, &cfg, err) < 0)
    return -1;
  if (cfg == NULL)
    return 0;
  helper = helper_for (cfg, registry);
  if (helper)
    {
      if (helper_get (helper, registry, ret_user, ret_secret, err) < 0)
        return mini_error_wrap (err, "credentials for %s (%s)", registry, auth_file);
      return 0;
    }
  auths = json_object_get (cfg, "auths");
  if (!json_is_object (auths))
    return 0;
  /* The exact key first, then any key naming the same host. */
  v = json_object_get (auths, auth_key (registry));
  if (!json_is_object (v))
    {
      v = NULL;
      json_object_foreach (auths, k, v)
        if (json_is_object (v) && key_matches (k, registry))
          break;
      if (k == NULL)
        v = NULL;
    }
  if (v == NULL)
    return 0;
  {
    json_t *a = json_object_get (v, "auth");
    json_t *u = json_object_get (v, "username");
    json_t *p = json_object_get (v, "password");

    if (json_is_string (a) && json_string_length (a) > 0)
      {
        cleanup_free char *dec = NULL;
        char *colon;

        if (pull_base64_decode (json_string_value (a), &dec, NULL) < 0
            || (colon = strchr (dec, ':')) == NULL)
          return mini_error_set (err, EINVAL, "%s: invalid \"auth\" value for %s", auth_file,
                                 registry);
        *colon = '\0';
        *ret_user = xstrdup (dec);
        *ret_secret = xstrdup (colon + 1);
        return 0;
      }
    if (json_is_string (u) && json_is_string (p))
      {
        *ret_user = xstrdup (json_string_value (u));
        *ret_secret = xstrdup (json_string_value (p));
      }
  }
  return 0;
}

static int
save_config (const char *path, json_t *cfg, mini_error_t *err)
{
  cleanup_free char *parent = NULL;
  cleanup_free char *dump = json_dumps (cfg, JSON_INDENT (1) | JSON_PRESERVE_ORDER);
  const char *base = path_split (path, &parent);
  cleanup_close int dfd = -1;
  size_t len;

  if (dump == NULL)
    return mini_error_set (err, ENOMEM, "serialize %s", path);
  len = strlen (dump);
  dump = xrealloc (dump, len + 2);
  dump[len++] = '\n';
  dump[len] = '\0';
  if (mkdir_p_at (AT_FDCWD, parent, 0700, err) < 0)
    return mini_error_wrap (err, "credentials file %s", path);
  dfd = open (parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return mini_error_set (err, errno, "open %s", parent);
  if (write_file_atomic_at (dfd, base, dump, len, 0600, err) < 0)
    return mini_error_wrap (err, "write credentials file %s", path);
  return 0;
}

int
pull_auth_store (const char *auth_file, const char *registry, const char *user,
                 const char *secret, mini_error_t *err)
{
  json_auto_t *cfg = NULL;
  json_t *auths;
  const char *helper;
  const char *key = auth_key (registry);
  const char *k;
  json_t *v;
  void *tmp;

  if (load_config (auth_file, &cfg, err) < 0)
    return -1;
  if (cfg == NULL)
    cfg = json_object ();
  auths = json_object_get (cfg, "auths");
  if (!json_is_object (auths))
    {
      auths = json_object ();
      json_object_set_new (cfg, "auths", auths);
    }
  /* Drop other spellings of the same registry. */
  json_object_foreach_safe (auths, tmp, k, v)
    if (strcmp (k, key) != 0 && key_matches (k, registry))
      json_object_del (auths, k);

  helper = helper_for (cfg, registry);
  if (helper)
    {
      json_auto_t *in = json_pack ("{s:s, s:s, s:s}", "ServerURL", key, "Username", user,
                                   "Secret", secret);
      cleanup_free char *input = json_dumps (in, JSON_COMPACT);
      cleanup_free char *out = NULL;
      int status = 0;

      if (run_helper (helper, "store", input, &out, &status, err) < 0)
        return -1;
      if (status != 0)
        {
          out[strcspn (out, "\n")] = '\0';
          return mini_error_set (err, EIO, "credential helper docker-credential-%s store failed: %s",
                                 helper, out[0] ? out : "no output");
        }
      /* Docker keeps an empty entry, so that the registry is listed. */
      json_object_set_new (auths, key, json_object ());
    }
  else
    {
      cleanup_free char *pair = xfmt ("%s:%s", user, secret);
      cleanup_free char *enc = pull_base64_encode (pair, strlen (pair));
      json_object_set_new (auths, key, json_pack ("{s:s}", "auth", enc));
    }
  return save_config (auth_file, cfg, err);
}

int
pull_auth_erase (const char *auth_file, const char *registry, bool *ret_found, mini_error_t *err)
{
  json_auto_t *cfg = NULL;
  json_t *auths, *v;
  const char *helper, *k;
  bool found = false;
  void *tmp;

  *ret_found = false;
  if (load_config (auth_file, &cfg, err) < 0)
    return -1;
  if (cfg == NULL)
    return 0;
  helper = helper_for (cfg, registry);
  if (helper)
    {
      cleanup_free char *out = NULL;
      cleanup_free char *input = xfmt ("%s\n", auth_key (registry));
      int status = 0;

      if (run_helper (helper, "erase", input, &out, &status, err) < 0)
        return -1;
      if (status == 0)
        found = true;
      else if (strcasestr (out, "not found") == NULL)
        {
          out[strcspn (out, "\n")] = '\0';
          return mini_error_set (err, EIO, "credential helper docker-credential-%s erase failed: %s",
                                 helper, out[0] ? out : "no output");
        }
    }
  auths = json_object_get (cfg, "auths");
  if (json_is_object (auths))
    json_object_foreach_safe (auths, tmp, k, v)
      if (key_matches (k, registry))
        {
          json_object_del (auths, k);
          found = true;
        }
  *ret_found = found;
  if (!found)
    return 0;
  return save_config (auth_file, cfg, err);
}
