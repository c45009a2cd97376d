/* mini - pull: image reference parsing and normalization.
 *
 * Grammar (distribution/reference, reference.go):
 *   reference   := name [ ":" tag ] [ "@" digest ]
 *   name        := [domain '/'] path-component ['/' path-component]*
 *   domain      := host [':' port-number]
 *   host        := domain-name | IPv4address | '[' IPv6address ']'
 *   domain-name := domain-component ['.' domain-component]*
 *   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *   path-component   := [a-z0-9]+ ( ([._] | __ | [-]+) [a-z0-9]+ )*
 *   tag         := /[\w][\w.-]{0,127}/
 * and normalization (normalize.go: ParseNormalizedNamed, TagNameOnly).
 */
#include "pull/pull.h"

#include <ctype.h>
#include <string.h>

#define NAME_TOTAL_LENGTH_MAX 255
#define TAG_LENGTH_MAX 128
#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_REPO_PREFIX "library/"

static int
ref_error (mini_error_t *err, const char *input, const char *why)
{
  return mini_error_set (err, EINVAL, "invalid reference format: %s: `%s`", why, input);
}

static bool
is_alnum_lower (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_word (char c)
{
  return isascii ((unsigned char) c) && (isalnum ((unsigned char) c) || c == '_');
}

/* One path component of length LEN: [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)* */
static bool
path_component_valid (const char *p, size_t len)
{
  size_t i = 0;

  if (len == 0 || !is_alnum_lower (p[0]))
    return false;
  while (i < len)
    {
      while (i < len && is_alnum_lower (p[i]))
        i++;
      if (i == len)
        return true;
      /* a separator, then at least one alphanumeric */
      if (p[i] == '.')
        i++;
      else if (p[i] == '_')
        {
          i++;
          if (i < len && p[i] == '_')
            i++;
        }
      else if (p[i] == '-')
        {
          while (i < len && p[i] == '-')
            i++;
        }
      else
        return false;
      if (i == len || !is_alnum_lower (p[i]))
        return false;
    }
  return true;
}

static bool
domain_component_valid (const char *p, size_t len)
{
  size_t i;

  if (len == 0)
    return false;
  if (!isascii ((unsigned char) p[0]) || !isalnum ((unsigned char) p[0]))
    return false;
  if (!isascii ((unsigned char) p[len - 1]) || !isalnum ((unsigned char) p[len - 1]))
    return false;
  for (i = 0; i < len; i++)
    if (!isascii ((unsigned char) p[i]) || !(isalnum ((unsigned char) p[i]) || p[i] == '-'))
      return false;
  return true;
}

/* host[:port] as in the grammar above; returns a reason or NULL. */
static const char *
domain_check (const char *d)
{
  const char *host_end;

  if (d[0] == '[')
    {
      const char *close = strchr (d, ']');
      const char *p;

      if (close == NULL || close == d + 1)
        return "invalid IPv6 address in domain";
      for (p = d + 1; p < close; p++)
        if (!(isxdigit ((unsigned char) *p) || *p == ':'))
          return "invalid IPv6 address in domain";
      host_end = close + 1;
    }
  else
    {
      const char *p = d;

      host_end = d + strcspn (d, ":");
      while (p < host_end)
        {
          const char *dot = memchr (p, '.', host_end - p);
          const char *end = dot ? dot : host_end;

          if (!domain_component_valid (p, end - p))
            return "invalid domain";
          if (dot == NULL)
            break;
          p = dot + 1;
          if (p == host_end)
            return "invalid domain";
        }
    }
  if (*host_end == '\0')
    return NULL;
  if (*host_end != ':' || host_end[1] == '\0')
    return "invalid port in domain";
  for (host_end++; *host_end; host_end++)
    if (!isdigit ((unsigned char) *host_end))
      return "invalid port in domain";
  return NULL;
}

static const char *
tag_check (const char *t)
{
  size_t i, len = strlen (t);

  if (len == 0)
    return "empty tag";
  if (len > TAG_LENGTH_MAX)
    return "tag longer than 128 characters";
  if (!is_word (t[0]))
    return "tag must start with a letter, digit or '_'";
  for (i = 1; i < len; i++)
    if (!is_word (t[i]) && t[i] != '.' && t[i] != '-')
      return "invalid character in tag";
  return NULL;
}

static const char *
path_check (const char *path)
{
  const char *p = path;

  for (p = path; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      return "repository name must be lowercase";
  p = path;
  for (;;)
    {
      const char *slash = strchr (p, '/');
      size_t len = slash ? (size_t) (slash - p) : strlen (p);

      if (len == 0)
        return "empty path component";
      if (!path_component_valid (p, len))
        return "invalid path component";
      if (slash == NULL)
        return NULL;
      p = slash + 1;
    }
}

static bool
is_hex64 (const char *s)
{
  size_t i;

  for (i = 0; i < 64; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return s[64] == '\0';
}

int
pull_reference_parse (const char *s, struct pull_reference **ret, mini_error_t *err)
{
  cleanup_free char *name = NULL;
  cleanup_free char *domain = NULL;
  cleanup_free char *path = NULL;
  cleanup_free char *tag = NULL;
  cleanup_free char *digest = NULL;
  const char *at, *last_slash, *colon, *first_slash, *why;
  struct pull_reference *r;

  if (s == NULL || *s == '\0')
    return ref_error (err, s ? s : "", "repository name must have at least one component");
  if (strlen (s) == 64 && is_hex64 (s))
    return ref_error (err, s, "repository name cannot be a 64-byte hexadecimal string");

  at = strchr (s, '@');
  if (at)
    {
      if (!digest_is_valid (at + 1))
        return ref_error (err, s, "invalid digest (expected sha256:<64 lowercase hex>)");
      digest = xstrdup (at + 1);
      name = xstrndup (s, at - s);
    }
  else
    name = xstrdup (s);

  last_slash = strrchr (name, '/');
  colon = strrchr (last_slash ? last_slash : name, ':');
  if (colon)
    {
      tag = xstrdup (colon + 1);
      why = tag_check (tag);
      if (why)
        return ref_error (err, s, why);
      name[colon - name] = '\0';
    }
  if (*name == '\0')
    return ref_error (err, s, "repository name must have at least one component");

  first_slash = strchr (name, '/');
  if (first_slash)
    {
      cleanup_free char *first = xstrndup (name, first_slash - name);

      if (strpbrk (first, ".:") || strcmp (first, "localhost") == 0)
        {
          domain = steal_pointer (&first);
          path = xstrdup (first_slash + 1);
        }
    }
  if (domain == NULL)
    {
      domain = xstrdup (DEFAULT_DOMAIN);
      path = xstrdup (name);
    }
  else if (strcmp (domain, LEGACY_DEFAULT_DOMAIN) == 0)
    {
      free (domain);
      domain = xstrdup (DEFAULT_DOMAIN);
    }
  else
    {
      why = domain_check (domain);
      if (why)
        return ref_error (err, s, why);
    }

  why = path_check (path);
  if (why)
    return ref_error (err, s, why);

  if (strcmp (domain, DEFAULT_DOMAIN) == 0 && strchr (path, '/') == NULL)
    {
      char *p = xfmt (OFFICIAL_REPO_PREFIX "%s", path);
      free (path);
      path = p;
    }

  if (strlen (domain) + 1 + strlen (path) > NAME_TOTAL_LENGTH_MAX)
    return ref_error (err, s, "repository name must not be more than 255 characters");

  if (tag == NULL && digest == NULL)
    tag = xstrdup ("latest");

  r = xmalloc0 (sizeof (*r));
  r->domain = steal_pointer (&domain);
  r->path = steal_pointer (&path);
  r->tag = steal_pointer (&tag);
  r->digest = steal_pointer (&digest);
  *ret = r;
  return 0;
}

char *
pull_reference_string (const struct pull_reference *r)
{
  return xfmt ("%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "", r->tag ? r->tag : "",
               r->digest ? "@" : "", r->digest ? r->digest : "");
}

void
pull_reference_free (struct pull_reference *r)
{
  if (r == NULL)
    return;
  free (r->domain);
  free (r->path);
  free (r->tag);
  free (r->digest);
  free (r);
}
