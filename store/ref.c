/* mini - the reference index: normalized reference -> manifest digest.
   Kept in refs.json, replaced atomically under an flock on `lock`. */
#include "store/store.h"

#include <string.h>
#include <sys/file.h>

static int
lock_root (struct store *s, int op, mini_error_t *err)
{
  int fd = openat (s->root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return mini_error_set (err, errno, "open store lock");
  if (TEMP_FAILURE_RETRY (flock (fd, op)) < 0)
    {
      int e = errno;
      close (fd);
      return mini_error_set (err, e, "lock store");
    }
  return fd;
}

static int
load_refs (struct store *s, json_t **ret, mini_error_t *err)
{
  cleanup_free char *buf = NULL;
  json_error_t jerr;
  json_t *j;
  size_t len;
  mini_error_t tmp = NULL;

  if (read_file_at (s->root_fd, "refs.json", &buf, &len, 0, &tmp) < 0)
    {
      if (mini_error_errno (tmp) == ENOENT)
        {
          mini_error_release (&tmp);
          *ret = json_object ();
          return 0;
        }
      *err = tmp;
      return -1;
    }
  j = json_loadb (buf, len, 0, &jerr);
  if (j == NULL || !json_is_object (j))
    {
      json_decref (j);
      return mini_error_set (err, EINVAL, "%s/refs.json is corrupt (line %d: %s); remove it and pull again",
                             s->root, jerr.line, jerr.text);
    }
  *ret = j;
  return 0;
}

int
store_ref_set (struct store *s, const char *ref, const char *manifest_digest,
               const char *index_digest, mini_error_t *err)
{
  cleanup_close int lock = -1;
  json_t *refs = NULL, *e;
  char *dump;
  int ret;

  if (!digest_is_valid (manifest_digest) || (index_digest && !digest_is_valid (index_digest)))
    return mini_error_set (err, EINVAL, "reference %s: invalid digest", ref);
  lock = lock_root (s, LOCK_EX, err);
  if (lock < 0)
    return lock;
  ret = load_refs (s, &refs, err);
  if (ret < 0)
    return ret;
  e = json_pack ("{s:s}", "manifest", manifest_digest);
  if (index_digest)
    json_object_set_new (e, "index", json_string (index_digest));
  json_object_set_new (refs, ref, e);
  dump = json_dumps (refs, JSON_INDENT (1) | JSON_SORT_KEYS);
  json_decref (refs);
  ret = write_file_atomic_at (s->root_fd, "refs.json", dump, strlen (dump), 0600, err);
  free (dump);
  return ret;
}

int
store_ref_get (struct store *s, const char *ref, char **ret_manifest_digest, mini_error_t *err)
{
  json_t *refs = NULL, *e, *m;
  int ret;

  ret = load_refs (s, &refs, err);
  if (ret < 0)
    return ret;
  e = json_object_get (refs, ref);
  m = json_object_get (e, "manifest");
  if (!json_is_string (m))
    {
      json_decref (refs);
      return mini_error_set (err, ENOENT, "image %s is not in the local store", ref);
    }
  *ret_manifest_digest = xstrdup (json_string_value (m));
  json_decref (refs);
  return 0;
}

int
store_ref_list (struct store *s, struct store_ref **ret, size_t *ret_n, mini_error_t *err)
{
  json_t *refs = NULL, *e;
  const char *k;
  struct store_ref *v;
  size_t n = 0;
  int ret_;

  ret_ = load_refs (s, &refs, err);
  if (ret_ < 0)
    return ret_;
  v = xmalloc0 ((json_object_size (refs) + 1) * sizeof (*v));
  json_object_foreach (refs, k, e)
  {
    json_t *m = json_object_get (e, "manifest"), *i = json_object_get (e, "index");
    if (!json_is_string (m))
      continue;
    v[n].ref = xstrdup (k);
    v[n].manifest_digest = xstrdup (json_string_value (m));
    v[n].index_digest = json_is_string (i) ? xstrdup (json_string_value (i)) : NULL;
    n++;
  }
  json_decref (refs);
  *ret = v;
  *ret_n = n;
  return 0;
}

void
store_refs_free (struct store_ref *refs, size_t n)
{
  size_t i;
  if (refs == NULL)
    return;
  for (i = 0; i < n; i++)
    {
      free (refs[i].ref);
      free (refs[i].manifest_digest);
      free (refs[i].index_digest);
    }
  free (refs);
}
