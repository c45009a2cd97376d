/* mini - pull: WWW-Authenticate parsing (RFC 7235 section 2.1 and 4.1).
 *
 *   WWW-Authenticate = 1#challenge
 *   challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param  = token BWS "=" BWS ( token / quoted-string )
 *   quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
 *   quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
 */
#include "pull/pull.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool
is_tchar (char c)
{
  if (c > 0 && isascii ((unsigned char) c) && isalnum ((unsigned char) c))
    return true;
  return c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
is_token68_char (char c)
{
  return c > 0 && isascii ((unsigned char) c)
         && (isalnum ((unsigned char) c) || strchr ("-._~+/", c) != NULL);
}

static const char *
skip_ows (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

static int
challenge_error (mini_error_t *err, const char *value, const char *why)
{
  return mini_error_set (err, EINVAL, "invalid WWW-Authenticate header: %s: `%s`", why, value);
}

/* If P starts a token68 that fills the rest of the challenge, return the
   position after it, else NULL. */
static const char *
skip_token68 (const char *p)
{
  const char *q = p;

  while (is_token68_char (*q))
    q++;
  if (q == p)
    return NULL;
  while (*q == '=')
    q++;
  q = skip_ows (q);
  return (*q == '\0' || *q == ',') ? q : NULL;
}

/* Parse a quoted-string at P (which points at the opening quote) into a new
   string *RET; returns the position after the closing quote or NULL. */
static const char *
parse_quoted (const char *p, char **ret)
{
  size_t len = strlen (p);
  char *out = xmalloc (len + 1);
  size_t n = 0;

  for (p++; *p; p++)
    {
      if (*p == '"')
        {
          out[n] = '\0';
          *ret = out;
          return p + 1;
        }
      if (*p == '\\')
        {
          p++;
          if (*p == '\0')
            break;
        }
      out[n++] = *p;
    }
  free (out);
  return NULL;
}

int
pull_challenge_parse (const char *value, struct pull_challenge **ret, mini_error_t *err)
{
  struct pull_challenge *c = NULL;
  const char *p, *start;
  bool first_param = true;

  if (value == NULL)
    return mini_error_set (err, EINVAL, "invalid WWW-Authenticate header: missing");

  p = value;
  /* Leading empty list elements are allowed (RFC 7230 section 7). */
  while (*p == ' ' || *p == '\t' || *p == ',')
    p++;
  start = p;
  while (is_tchar (*p))
    p++;
  if (p == start)
    return challenge_error (err, value, "missing auth-scheme");
  if (*p != '\0' && *p != ' ' && *p != ',')
    return challenge_error (err, value, "invalid character after auth-scheme");

  c = xmalloc0 (sizeof (*c));
  c->scheme = xstrndup (start, p - start);
  for (char *q = c->scheme; *q; q++)
    *q = tolower ((unsigned char) *q);

  for (;;)
    {
      cleanup_free char *name = NULL;
      cleanup_free char *val = NULL;
      char **slot = NULL;
      const char *after;

      p = skip_ows (p);
      if (*p == '\0')
        break;
      if (*p == ',')
        {
          p++;
          first_param = false;
          continue;
        }
      if (first_param && (after = skip_token68 (p)) != NULL)
        {
          /* token68 (e.g. "Negotiate abc=="): nothing mini uses. */
          p = after;
          first_param = false;
          continue;
        }
      first_param = false;

      start = p;
      while (is_tchar (*p))
        p++;
      if (p == start)
        {
          pull_challenge_free (c);
          return challenge_error (err, value, "expected an auth-param name");
        }
      name = xstrndup (start, p - start);
      p = skip_ows (p);
      if (*p != '=')
        {
          /* "token" not followed by '=': the next challenge starts here. */
          if (*p == '\0' || *p == ',' || is_tchar (*p))
            break;
          pull_challenge_free (c);
          return challenge_error (err, value, "expected '=' after auth-param name");
        }
      p = skip_ows (p + 1);
      if (*p == '"')
        {
          p = parse_quoted (p, &val);
          if (p == NULL)
            {
              pull_challenge_free (c);
              return challenge_error (err, value, "unterminated quoted-string");
            }
        }
      else
        {
          /* RFC 7235 wants a token here; be lenient like Docker's parser
             and accept any visible characters up to ',' (unquoted realm
             URLs are seen in the wild). */
          start = p;
          while (*p > ' ' && *p < 0x7f && *p != ',' && *p != '"')
            p++;
          if (p == start)
            {
              pull_challenge_free (c);
              return challenge_error (err, value, "missing auth-param value");
            }
          val = xstrndup (start, p - start);
        }
      p = skip_ows (p);
      if (*p != '\0' && *p != ',')
        {
          pull_challenge_free (c);
          return challenge_error (err, value, "expected ',' between auth-params");
        }

      if (strcasecmp (name, "realm") == 0)
        slot = &c->realm;
      else if (strcasecmp (name, "service") == 0)
        slot = &c->service;
      else if (strcasecmp (name, "scope") == 0)
        slot = &c->scope;
      /* A repeated parameter is invalid (RFC 7235 2.1); keep the first. */
      if (slot && *slot == NULL)
        *slot = steal_pointer (&val);
    }

  if (strcmp (c->scheme, "bearer") == 0 && (c->realm == NULL || c->realm[0] == '\0'))
    {
      pull_challenge_free (c);
      return challenge_error (err, value, "bearer challenge without realm");
    }
  *ret = c;
  return 0;
}

void
pull_challenge_free (struct pull_challenge *c)
{
  if (c == NULL)
    return;
  free (c->scheme);
  free (c->realm);
  free (c->service);
  free (c->scope);
  free (c);
}
