/* mini - pull: platforms and choosing a manifest from an image index
 * (image-spec image-index.md "platform"; containerd's platforms package
 * for normalization; Docker's distribution manifest list v2.2).
 */
#include "pull/pull-private.h"

#include <ctype.h>
#include <string.h>
#include <sys/utsname.h>
#include <jansson.h>

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

static const char *const known_os[] = {
  "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux",
  "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos", NULL,
};

static const char *const known_arch[] = {
  "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64", "mips", "mipsle",
  "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le", "riscv",
  "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm", NULL,
};

static bool
in_list (const char *const *list, const char *s)
{
  for (; *list; list++)
    if (strcmp (*list, s) == 0)
      return true;
  return false;
}

static void
set_str (char **slot, const char *v)
{
  free (*slot);
  *slot = v ? xstrdup (v) : NULL;
}

/* Normalize P->architecture / P->variant in place, as containerd's
   normalizeArch does, except that an empty variant stays empty (the index
   choice then prefers the best variant) and arm64 keeps "v8". */
static void
normalize_arch (struct pull_platform *p)
{
  const char *a = p->architecture;
  const char *v = p->variant ? p->variant : "";

  if (strcmp (a, "i386") == 0 || strcmp (a, "i486") == 0 || strcmp (a, "i586") == 0
      || strcmp (a, "i686") == 0 || strcmp (a, "x86") == 0)
    {
      set_str (&p->architecture, "386");
      set_str (&p->variant, NULL);
    }
  else if (strcmp (a, "x86_64") == 0 || strcmp (a, "x86-64") == 0 || strcmp (a, "amd64") == 0)
    {
      set_str (&p->architecture, "amd64");
      if (strcmp (v, "v1") == 0)
        set_str (&p->variant, NULL);
    }
  else if (strcmp (a, "aarch64") == 0 || strcmp (a, "arm64") == 0)
    {
      set_str (&p->architecture, "arm64");
      if (strcmp (v, "8") == 0 || strcmp (v, "v8.0") == 0)
        set_str (&p->variant, "v8");
      else if (strcmp (v, "9") == 0 || strcmp (v, "9.0") == 0 || strcmp (v, "v9.0") == 0)
        set_str (&p->variant, "v9");
    }
  else if (strcmp (a, "armhf") == 0)
    {
      set_str (&p->architecture, "arm");
      set_str (&p->variant, "v7");
    }
  else if (strcmp (a, "armel") == 0)
    {
      set_str (&p->architecture, "arm");
      set_str (&p->variant, "v6");
    }
  else if (strncmp (a, "armv", 4) == 0 && isdigit ((unsigned char) a[4]))
    {
      /* uname style: armv7l, armv6l, armv5tel */
      char var[3] = { 'v', a[4], '\0' };
      set_str (&p->variant, var);
      set_str (&p->architecture, "arm");
    }
  else if (strcmp (a, "arm") == 0)
    {
      if (v[0] >= '5' && v[0] <= '8' && v[1] == '\0')
        {
          char var[3] = { 'v', v[0], '\0' };
          set_str (&p->variant, var);
        }
    }
  else if (strcmp (a, "ppc64el") == 0)
    set_str (&p->architecture, "ppc64le");
  else if (strcmp (a, "loongarch64") == 0)
    set_str (&p->architecture, "loong64");
  if (p->variant && p->variant[0] == '\0')
    set_str (&p->variant, NULL);
}

static void
normalize_os (struct pull_platform *p)
{
  if (strcmp (p->os, "macos") == 0)
    set_str (&p->os, "darwin");
}

static void
host_arch (struct pull_platform *p)
{
  struct utsname u;

  if (uname (&u) < 0)
    strcpy (u.machine, "x86_64");
  set_str (&p->architecture, u.machine);
  set_str (&p->variant, NULL);
  normalize_arch (p);
  if (strcmp (p->architecture, "arm64") == 0 && p->variant == NULL)
    set_str (&p->variant, "v8");
}

static bool
component_valid (const char *s, size_t len)
{
  size_t i;

  if (len == 0)
    return false;
  for (i = 0; i < len; i++)
    if (!isascii ((unsigned char) s[i])
        || !(isalnum ((unsigned char) s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
      return false;
  return true;
}

int
pull_platform_parse (const char *s, struct pull_platform *ret, mini_error_t *err)
{
  struct pull_platform p = { NULL, NULL, NULL };
  char *parts[3] = { NULL, NULL, NULL };
  const char *q;
  int n = 0, i;

  if (s == NULL)
    {
      p.os = xstrdup ("linux");
      host_arch (&p);
      *ret = p;
      return 0;
    }

  q = s;
  for (;;)
    {
      size_t len = strcspn (q, "/");

      if (n == 3 || !component_valid (q, len))
        {
          for (i = 0; i < n; i++)
            free (parts[i]);
          return mini_error_set (err, EINVAL,
                                 "invalid platform `%s`: expected os/arch[/variant]", s);
        }
      parts[n] = xstrndup (q, len);
      for (char *c = parts[n]; *c; c++)
        *c = tolower ((unsigned char) *c);
      n++;
      if (q[len] == '\0')
        break;
      q += len + 1;
    }

  if (n == 1)
    {
      if (in_list (known_os, parts[0]) || strcmp (parts[0], "macos") == 0)
        {
          p.os = parts[0];
          normalize_os (&p);
          host_arch (&p);
        }
      else
        {
          p.os = xstrdup ("linux");
          p.architecture = parts[0];
          normalize_arch (&p);
          if (!in_list (known_arch, p.architecture))
            {
              pull_platform_clear (&p);
              return mini_error_set (err, EINVAL,
                                     "invalid platform `%s`: unknown operating system or "
                                     "architecture", s);
            }
        }
    }
  else
    {
      p.os = parts[0];
      p.architecture = parts[1];
      p.variant = parts[2];
      normalize_os (&p);
      normalize_arch (&p);
    }
  *ret = p;
  return 0;
}

void
pull_platform_clear (struct pull_platform *p)
{
  if (p == NULL)
    return;
  free (p->os);
  free (p->architecture);
  free (p->variant);
  p->os = p->architecture = p->variant = NULL;
}

/* The variant as compared: "" for none, and for the aliases of none
   (arm64 v8, amd64 v1). */
static const char *
variant_key (const struct pull_platform *p)
{
  if (p->variant == NULL)
    return "";
  if (strcmp (p->architecture, "arm64") == 0 && strcmp (p->variant, "v8") == 0)
    return "";
  if (strcmp (p->architecture, "amd64") == 0 && strcmp (p->variant, "v1") == 0)
    return "";
  return p->variant;
}

/* Larger is better when the wanted variant is empty: no variant first,
   then the highest version ("v7" > "v6"). */
static long
variant_rank (const char *key)
{
  const char *d = key;

  if (*key == '\0')
    return 1000000;
  if (*d == 'v')
    d++;
  if (isdigit ((unsigned char) *d))
    return strtol (d, NULL, 10);
  return 0;
}

static char *
platform_string (const struct pull_platform *p)
{
  return xfmt ("%s/%s%s%s", p->os, p->architecture, p->variant ? "/" : "",
               p->variant ? p->variant : "");
}

static const char *
json_str (json_t *obj, const char *key)
{
  json_t *v = json_object_get (obj, key);
  return json_is_string (v) ? json_string_value (v) : NULL;
}

int
pull_index_choose (const char *index_json, size_t len, const struct pull_platform *p,
                   char **ret_digest, char **ret_media_type, mini_error_t *err)
{
  json_auto_t *root = NULL;
  json_error_t jerr;
  json_t *manifests, *entry;
  struct pull_platform want = { NULL, NULL, NULL };
  cleanup_free char *want_str = NULL;
  cleanup_free char *available = NULL;
  json_t *best = NULL, *fallback = NULL;
  long best_rank = -1;
  const char *want_key;
  size_t i;

  root = json_loadb (index_json, len, 0, &jerr);
  if (root == NULL || !json_is_object (root))
    return mini_error_set (err, EINVAL, "invalid image index: line %d: %s", jerr.line,
                           root ? "not a JSON object" : jerr.text);
  manifests = json_object_get (root, "manifests");
  if (!json_is_array (manifests))
    return mini_error_set (err, EINVAL, "invalid image index: no `manifests` array");

  want.os = xstrdup (p->os);
  want.architecture = xstrdup (p->architecture);
  want.variant = p->variant ? xstrdup (p->variant) : NULL;
  normalize_os (&want);
  normalize_arch (&want);
  want_key = variant_key (&want);
  want_str = platform_string (&want);

  json_array_foreach (manifests, i, entry)
    {
      const char *digest, *mt, *os, *arch, *variant, *reftype;
      json_t *plat, *annotations;
      struct pull_platform have = { NULL, NULL, NULL };
      const char *have_key;

      if (!json_is_object (entry))
        {
          pull_platform_clear (&want);
          return mini_error_set (err, EINVAL, "invalid image index: manifests[%zu] is not an "
                                 "object", i);
        }
      digest = json_str (entry, "digest");
      if (digest == NULL || !digest_is_valid (digest))
        {
          pull_platform_clear (&want);
          return mini_error_set (err, EINVAL, "invalid image index: manifests[%zu]: invalid "
                                 "digest `%s`", i, digest ? digest : "(none)");
        }
      mt = json_str (entry, "mediaType");
      if (mt && (strcmp (mt, MT_OCI_INDEX) == 0 || strcmp (mt, MT_DOCKER_LIST) == 0))
        continue; /* nested index */
      annotations = json_object_get (entry, "annotations");
      reftype = json_is_object (annotations)
                    ? json_str (annotations, "vnd.docker.reference.type")
                    : NULL;
      if (reftype && strcmp (reftype, "attestation-manifest") == 0)
        continue;
      plat = json_object_get (entry, "platform");
      if (!json_is_object (plat))
        {
          if (fallback == NULL)
            fallback = entry;
          continue;
        }
      os = json_str (plat, "os");
      arch = json_str (plat, "architecture");
      variant = json_str (plat, "variant");
      if (os == NULL || arch == NULL || *os == '\0' || *arch == '\0')
        continue;
      if (strcmp (os, "unknown") == 0 && strcmp (arch, "unknown") == 0)
        continue;

      have.os = xstrdup (os);
      have.architecture = xstrdup (arch);
      have.variant = variant && *variant ? xstrdup (variant) : NULL;
      for (char *c = have.os; *c; c++)
        *c = tolower ((unsigned char) *c);
      for (char *c = have.architecture; *c; c++)
        *c = tolower ((unsigned char) *c);
      normalize_os (&have);
      normalize_arch (&have);

      {
        cleanup_free char *hs = platform_string (&have);
        char *tmp = available ? xfmt ("%s, %s", available, hs) : xstrdup (hs);
        free (available);
        available = tmp;
      }

      have_key = variant_key (&have);
      if (strcmp (have.os, want.os) == 0 && strcmp (have.architecture, want.architecture) == 0)
        {
          if (*want_key)
            {
              if (strcmp (have_key, want_key) == 0 && best == NULL)
                {
                  best = entry;
                  best_rank = 0;
                }
            }
          else
            {
              long rank = variant_rank (have_key);
              if (rank > best_rank)
                {
                  best = entry;
                  best_rank = rank;
                }
            }
        }
      pull_platform_clear (&have);
    }
  pull_platform_clear (&want);

  if (best == NULL)
    best = fallback;
  if (best == NULL)
    return mini_error_set (err, ENOENT,
                           "no matching manifest for %s in the manifest list entries "
                           "(available: %s)",
                           want_str, available ? available : "none");

  *ret_digest = xstrdup (json_str (best, "digest"));
  *ret_media_type = json_str (best, "mediaType") ? xstrdup (json_str (best, "mediaType")) : NULL;
  return 0;
}

bool
pull_platform_matches (const struct pull_platform *want, const char *os, const char *arch,
                       const char *variant)
{
  struct pull_platform w = { NULL, NULL, NULL }, h = { NULL, NULL, NULL };
  const char *wk, *hk;
  bool match;

  if (os == NULL || arch == NULL)
    return true; /* nothing to compare with */
  w.os = xstrdup (want->os);
  w.architecture = xstrdup (want->architecture);
  w.variant = want->variant ? xstrdup (want->variant) : NULL;
  h.os = xstrdup (os);
  h.architecture = xstrdup (arch);
  h.variant = variant && *variant ? xstrdup (variant) : NULL;
  for (char *c = h.os; *c; c++)
    *c = tolower ((unsigned char) *c);
  for (char *c = h.architecture; *c; c++)
    *c = tolower ((unsigned char) *c);
  normalize_os (&w);
  normalize_arch (&w);
  normalize_os (&h);
  normalize_arch (&h);
  wk = variant_key (&w);
  hk = variant_key (&h);
  match = strcmp (w.os, h.os) == 0 && strcmp (w.architecture, h.architecture) == 0
          && (*wk == '\0' || *hk == '\0' || strcmp (wk, hk) == 0);
  pull_platform_clear (&w);
  pull_platform_clear (&h);
  return match;
}
