/* mini - pull: options from a Docker daemon.json-style file
 * ("registry-mirrors", "insecure-registries", "max-concurrent-downloads";
 * moby registry/config.go) and mini's "registry-mirrors-per-registry"
 * (Podman's registries.conf [[registry.mirror]] idea, for any registry).
 */
#include "pull/pull.h"

#include <string.h>
#include <strings.h>
#include <jansson.h>

/* Docker's ValidateMirror: an http(s) URL with a host and no path, query or
   fragment; returns the normalized URL (no trailing '/') or NULL. */
static char *
mirror_normalize (const char *url)
{
  const char *host;
  size_t len;

  if (strncasecmp (url, "http://", 7) == 0)
    host = url + 7;
  else if (strncasecmp (url, "https://", 8) == 0)
    host = url + 8;
  else
    return NULL;
  len = strlen (host);
  if (len > 0 && host[len - 1] == '/')
    len--;
  if (len == 0 || memchr (host, '/', len) || memchr (host, '?', len) || memchr (host, '#', len)
      || memchr (host, '@', len) || memchr (host, ' ', len))
    return NULL;
  return xstrndup (url, (host - url) + len);
}

static char *
insecure_normalize (const char *entry)
{
  size_t len;

  if (strncasecmp (entry, "http://", 7) == 0)
    entry += 7;
  else if (strncasecmp (entry, "https://", 8) == 0)
    entry += 8;
  else if (strstr (entry, "://"))
    return NULL;
  len = strlen (entry);
  while (len > 0 && entry[len - 1] == '/')
    len--;
  if (len == 0 || memchr (entry, ' ', len))
    return NULL;
  return xstrndup (entry, len);
}

static int
load_string_array (const char *path, json_t *root, const char *key, char ***out,
                   char *(*normalize) (const char *), mini_error_t *err)
{
  json_t *arr = json_object_get (root, key);
  json_t *v;
  size_t i;

  if (arr == NULL || json_is_null (arr))
    return 0;
  if (!json_is_array (arr))
    return mini_error_set (err, EINVAL, "%s: `%s` must be an array of strings", path, key);
  /* Validate everything first so that OPTS is unchanged on error. */
  json_array_foreach (arr, i, v)
    {
      cleanup_free char *n = NULL;

      if (!json_is_string (v))
        return mini_error_set (err, EINVAL, "%s: `%s`[%zu] must be a string", path, key, i);
      n = normalize (json_string_value (v));
      if (n == NULL)
        return mini_error_set (err, EINVAL, "%s: `%s`: invalid entry `%s`", path, key,
                               json_string_value (v));
    }
  json_array_foreach (arr, i, v)
    {
      cleanup_free char *n = normalize (json_string_value (v));
      strv_append (out, n);
    }
  return 0;
}

/* "registry-mirrors-per-registry": {"host[:port]": ["https://mirror", ...]}
   -> OPTS->registry_mirrors "host=url" entries.  All or nothing. */
static int
load_mirror_map (const char *path, json_t *root, struct pull_options *opts, mini_error_t *err)
{
  static const char key[] = "registry-mirrors-per-registry";
  json_t *map = json_object_get (root, key), *arr, *v;
  const char *host;
  char **add = NULL;
  size_t i;

  if (map == NULL || json_is_null (map))
    return 0;
  if (!json_is_object (map))
    return mini_error_set (err, EINVAL, "%s: `%s` must be an object of arrays", path, key);
  json_object_foreach (map, host, arr)
    {
      cleanup_free char *norm = pull_registry_normalize (host, NULL);

      if (norm == NULL || strchr (host, '/'))
        {
          strv_free (add);
          return mini_error_set (err, EINVAL, "%s: `%s`: invalid registry `%s`", path, key, host);
        }
      if (!json_is_array (arr))
        {
          strv_free (add);
          return mini_error_set (err, EINVAL, "%s: `%s`[\"%s\"] must be an array of URLs", path,
                                 key, host);
        }
      json_array_foreach (arr, i, v)
        {
          cleanup_free char *url = json_is_string (v) ? mirror_normalize (json_string_value (v))
                                                      : NULL;
          cleanup_free char *entry = NULL;
          if (url == NULL)
            {
              strv_free (add);
              return mini_error_set (err, EINVAL, "%s: `%s`[\"%s\"]: invalid mirror URL", path,
                                     key, host);
            }
          entry = xfmt ("%s=%s", norm, url);
          strv_append (&add, entry);
        }
    }
  for (i = 0; add && add[i]; i++)
    strv_append (&opts->registry_mirrors, add[i]);
  strv_free (add);
  return 0;
}

int
pull_options_load_config (const char *path, bool must_exist, struct pull_options *opts,
                          mini_error_t *err)
{
  cleanup_free char *buf = NULL;
  json_auto_t *root = NULL;
  json_error_t jerr;
  size_t len = 0;
  char **mirrors_copy = NULL;
  int ret;

  ret = read_file_at (AT_FDCWD, path, &buf, &len, 16 << 20, err);
  if (ret < 0)
    {
      if (!must_exist && mini_error_errno (*err) == ENOENT)
        {
          mini_error_release (err);
          return 0;
        }
      return ret;
    }
  root = json_loadb (buf, len, 0, &jerr);
  if (root == NULL)
    return mini_error_set (err, EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
  if (!json_is_object (root))
    return mini_error_set (err, EINVAL, "%s: not a JSON object", path);

  /* Keep OPTS unchanged when the second key is bad. */
  mirrors_copy = strv_dup (opts->mirrors);
  ret = load_string_array (path, root, "registry-mirrors", &opts->mirrors, mirror_normalize, err);
  if (ret == 0)
    ret = load_string_array (path, root, "insecure-registries", &opts->insecure_registries,
                             insecure_normalize, err);
  if (ret == 0)
    ret = load_mirror_map (path, root, opts, err);
  if (ret == 0)
    {
      json_t *v = json_object_get (root, "max-concurrent-downloads");
      if (v && !json_is_null (v))
        {
          if (!json_is_integer (v) || json_integer_value (v) < 1 || json_integer_value (v) > 64)
            ret = mini_error_set (err, EINVAL,
                                  "%s: `max-concurrent-downloads` must be an integer from 1 to 64",
                                  path);
          else if (opts->max_concurrent_downloads <= 0)
            opts->max_concurrent_downloads = (int) json_integer_value (v);
        }
    }
  if (ret < 0)
    {
      strv_free (opts->mirrors);
      opts->mirrors = mirrors_copy;
      return ret;
    }
  strv_free (mirrors_copy);
  return 0;
}

void
pull_options_clear (struct pull_options *opts)
{
  if (opts == NULL)
    return;
  strv_free (opts->mirrors);
  strv_free (opts->insecure_registries);
  strv_free (opts->registry_mirrors);
  strv_free (opts->certs_dirs);
  opts->mirrors = NULL;
  opts->insecure_registries = NULL;
  opts->registry_mirrors = NULL;
  opts->certs_dirs = NULL;
}
