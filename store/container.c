/* mini - container state: containers/<id>/state.json and names/<name>. */
#include "store/store.h"

#include <ctype.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

static const char *const status_names[] = { "created", "running", "exited" };

bool
store_container_name_valid (const char *name)
{
  size_t i, n;
  if (name == NULL)
    return false;
  n = strlen (name);
  if (n == 0 || n > 128 || !isalnum ((unsigned char) name[0]))
    return false;
  for (i = 1; i < n; i++)
    if (!isalnum ((unsigned char) name[i]) && name[i] != '_' && name[i] != '.' && name[i] != '-')
      return false;
  return true;
}

static bool
id_valid (const char *id)
{
  size_t i;
  for (i = 0; i < 64; i++)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
      return false;
  return id[64] == '\0';
}

static json_t *
strv_json (char **v)
{
  json_t *a = json_array ();
  size_t i;
  for (i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

static char **
json_strv_ (json_t *a)
{
  char **v = xmalloc0 ((json_array_size (a) + 1) * sizeof (char *));
  size_t i, n = 0;
  json_t *e;
  json_array_foreach (a, i, e)
  {
    if (json_is_string (e))
      v[n++] = xstrdup (json_string_value (e));
  }
  return v;
}

static json_t *
opt_str (const char *s)
{
  return s ? json_string (s) : json_null ();
}

static char *
get_str (json_t *o, const char *k)
{
  json_t *v = json_object_get (o, k);
  return json_is_string (v) ? xstrdup (json_string_value (v)) : NULL;
}

static json_int_t
get_int (json_t *o, const char *k)
{
  json_t *v = json_object_get (o, k);
  return json_is_integer (v) ? json_integer_value (v) : 0;
}

int
store_container_save (struct store *s, const struct store_container *c, mini_error_t *err)
{
  cleanup_close int dfd = -1;
  json_t *j;
  char *dump;
  int ret;

  ret = store_container_dir (s, c->id, &dfd, err);
  if (ret < 0)
    return ret;
  j = json_object ();
  json_object_set_new (j, "id", json_string (c->id));
  json_object_set_new (j, "name", json_string (c->name));
  json_object_set_new (j, "image", opt_str (c->image));
  json_object_set_new (j, "image_digest", opt_str (c->image_digest));
  json_object_set_new (j, "config_digest", opt_str (c->config_digest));
  json_object_set_new (j, "argv", strv_json (c->argv));
  json_object_set_new (j, "env", strv_json (c->env));
  json_object_set_new (j, "working_dir", opt_str (c->working_dir));
  json_object_set_new (j, "user", opt_str (c->user));
  json_object_set_new (j, "hostname", opt_str (c->hostname));
  json_object_set_new (j, "created", json_integer (c->created_ns));
  json_object_set_new (j, "started", json_integer (c->started_ns));
  json_object_set_new (j, "finished", json_integer (c->finished_ns));
  json_object_set_new (j, "status", json_string (status_names[c->status]));
  json_object_set_new (j, "pid", json_integer (c->pid));
  json_object_set_new (j, "pid_start_time", json_integer ((json_int_t) c->pid_start_time));
  json_object_set_new (j, "monitor_pid", json_integer (c->monitor_pid));
  json_object_set_new (j, "exit_code", json_integer (c->exit_code));
  json_object_set_new (j, "stop_signal", opt_str (c->stop_signal));
  json_object_set_new (j, "pid_host", json_boolean (c->pid_host));
  json_object_set_new (j, "net_host", json_boolean (c->net_host));
  json_object_set_new (j, "auto_remove", json_boolean (c->auto_remove));
  json_object_set_new (j, "detached", json_boolean (c->detached));
  json_object_set_new (j, "seccomp_unconfined", json_boolean (c->seccomp_unconfined));
  json_object_set_new (j, "layers", strv_json (c->layers));
  dump = json_dumps (j, JSON_INDENT (1));
  json_decref (j);
  /* Renamed into place, not fsynced: readers never see a partial file, and
     a container's state does not need to survive a host crash (its
     processes do not).  This keeps fsyncs off `mini run`'s path. */
  ret = write_file_atomic_at_flags (dfd, "state.json", dump, strlen (dump), 0600, false, err);
  free (dump);
  return ret;
}

/* A detached container's monitor (run/monitor.c) does not rewrite
   state.json: it leaves containers/<id>/exit, "CODE FINISHED_NS\n".  Fold it
   into C, which state.json says is running, when it is newer than the
   start.  A missing or malformed record changes nothing. */
static void
merge_exit_record (struct store *s, struct store_container *c)
{
  cleanup_free char *rel = xfmt ("containers/%s/exit", c->id);
  cleanup_free char *buf = NULL;
  mini_error_t tmp = NULL;
  long long finished;
  int code;

  if (read_file_at (s->root_fd, rel, &buf, NULL, 64, &tmp) < 0)
    {
      mini_error_release (&tmp);
      return;
    }
  if (sscanf (buf, "%d %lld", &code, &finished) != 2 || code < 0 || code > 255
      || finished < c->started_ns)
    return;
  c->status = STORE_CONTAINER_EXITED;
  c->exit_code = code;
  c->finished_ns = finished;
  c->pid = 0;
  c->pid_start_time = 0;
  c->monitor_pid = 0;
}

static int
load_by_id (struct store *s, const char *id, struct store_container **ret, mini_error_t *err)
{
  cleanup_free char *rel = xfmt ("containers/%s/state.json", id);
  cleanup_free char *buf = NULL;
  struct store_container *c;
  json_error_t jerr;
  json_t *j;
  size_t len;
  const char *st;
  int r, i;

  r = read_file_at (s->root_fd, rel, &buf, &len, 0, err);
  if (r < 0)
    return r;
  j = json_loadb (buf, len, 0, &jerr);
  if (!json_is_object (j))
    {
      json_decref (j);
      return mini_error_set (err, EINVAL, "container %s: state.json is corrupt (%s); remove it with `mini rm -f %s`",
                             id, jerr.text, id);
    }
  c = xmalloc0 (sizeof (*c));
  c->id = xstrdup (id);
  c->name = get_str (j, "name");
  c->image = get_str (j, "image");
  c->image_digest = get_str (j, "image_digest");
  c->config_digest = get_str (j, "config_digest");
  c->argv = json_strv_ (json_object_get (j, "argv"));
  c->env = json_strv_ (json_object_get (j, "env"));
  c->working_dir = get_str (j, "working_dir");
  c->user = get_str (j, "user");
  c->hostname = get_str (j, "hostname");
  c->created_ns = get_int (j, "created");
  c->started_ns = get_int (j, "started");
  c->finished_ns = get_int (j, "finished");
  st = json_string_value (json_object_get (j, "status"));
  for (i = 0; i < 3; i++)
    if (st && strcmp (st, status_names[i]) == 0)
      c->status = i;
  c->pid = get_int (j, "pid");
  c->pid_start_time = get_int (j, "pid_start_time");
  c->monitor_pid = get_int (j, "monitor_pid");
  c->exit_code = get_int (j, "exit_code");
  c->stop_signal = get_str (j, "stop_signal");
  c->pid_host = json_is_true (json_object_get (j, "pid_host"));
  c->net_host = json_is_true (json_object_get (j, "net_host"));
  c->auto_remove = json_is_true (json_object_get (j, "auto_remove"));
  c->detached = json_is_true (json_object_get (j, "detached"));
  c->seccomp_unconfined = json_is_true (json_object_get (j, "seccomp_unconfined"));
  c->layers = json_strv_ (json_object_get (j, "layers"));
  json_decref (j);
  if (c->name == NULL)
    c->name = xstrndup (c->id, 12);
  if (c->status == STORE_CONTAINER_RUNNING)
    merge_exit_record (s, c);
  *ret = c;
  return 0;
}

static const char *const adjectives[] = { "admiring", "brave", "clever", "dazzling", "eager", "festive",
                                          "gallant", "happy", "jolly", "keen", "loving", "modest",
                                          "nifty", "optimistic", "quirky", "serene", "tender", "vibrant",
                                          "wizardly", "zealous" };
static const char *const nouns[] = { "babbage", "curie", "darwin", "einstein", "feynman", "galileo",
                                     "hopper", "kepler", "lovelace", "meitner", "newton", "noether",
                                     "pasteur", "ritchie", "shannon", "thompson", "turing", "wozniak",
                                     "yonath", "zhukovsky" };

int
store_container_create (struct store *s, struct store_container *c, mini_error_t *err)
{
  char id[65];
  cleanup_free char *dir = NULL;
  cleanup_free char *namerel = NULL;
  bool generated = c->name == NULL;
  int r, attempt;

  if (!generated && !store_container_name_valid (c->name))
    return mini_error_set (err, EINVAL,
                           "invalid container name `%s`: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                           c->name);
  r = random_hex (id, 32, err);
  if (r < 0)
    return r;
  for (attempt = 0; attempt < 100; attempt++)
    {
      if (generated)
        {
          unsigned char rb[2];
          char h[5];
          random_hex (h, 2, NULL);
          rb[0] = strtoul ((char[]){ h[0], h[1], 0 }, NULL, 16);
          rb[1] = strtoul ((char[]){ h[2], h[3], 0 }, NULL, 16);
          free (c->name);
          c->name = xfmt ("%s_%s", adjectives[rb[0] % 20], nouns[rb[1] % 20]);
          if (attempt > 10)
            {
              char *n = xfmt ("%s%d", c->name, attempt);
              free (c->name);
              c->name = n;
            }
        }
      free (namerel);
      namerel = xfmt ("names/%s", c->name);
      if (symlinkat (id, s->root_fd, namerel) == 0)
        break;
      if (errno != EEXIST)
        return mini_error_set (err, errno, "reserve container name `%s`", c->name);
      if (!generated)
        {
          char other[80] = "";
          ssize_t n = readlinkat (s->root_fd, namerel, other, sizeof (other) - 1);
          if (n > 0)
            other[n] = '\0';
          return mini_error_set (err, EEXIST,
                                 "the container name \"%s\" is already in use by container \"%s\"; "
                                 "remove that container (mini rm) or choose another --name",
                                 c->name, other);
        }
    }
  dir = xfmt ("containers/%s", id);
  if (mkdirat (s->root_fd, dir, 0700) < 0)
    {
      int e = errno;
      unlinkat (s->root_fd, namerel, 0);
      return mini_error_set (err, e, "create container dir");
    }
  free (c->id);
  c->id = xstrdup (id);
  if (c->hostname == NULL)
    c->hostname = xstrndup (id, 12);
  if (c->created_ns == 0)
    c->created_ns = now_ns ();
  r = store_container_save (s, c, err);
  if (r < 0)
    {
      mini_error_t tmp = NULL;
      remove_tree_at (s->root_fd, dir, &tmp);
      mini_error_release (&tmp);
      unlinkat (s->root_fd, namerel, 0);
      return r;
    }
  return 0;
}

int
store_container_load (struct store *s, const char *id_or_name, struct store_container **ret,
                      mini_error_t *err)
{
  char target[80];
  cleanup_free char *namerel = NULL;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  char found[65] = "";
  size_t plen;
  int matches = 0;
  ssize_t n;
  mini_error_t tmp = NULL;

  if (id_or_name == NULL || *id_or_name == '\0')
    return mini_error_set (err, EINVAL, "empty container name");
  if (strlen (id_or_name) == 64 && id_valid (id_or_name))
    {
      if (load_by_id (s, id_or_name, ret, &tmp) == 0)
        return 0;
      mini_error_release (&tmp);
    }
  if (store_container_name_valid (id_or_name))
    {
      namerel = xfmt ("names/%s", id_or_name);
      n = readlinkat (s->root_fd, namerel, target, sizeof (target) - 1);
      if (n == 64)
        {
          target[n] = '\0';
          if (id_valid (target) && load_by_id (s, target, ret, &tmp) == 0)
            return 0;
          mini_error_release (&tmp);
        }
    }
  /* unique ID prefix */
  plen = strlen (id_or_name);
  if (plen <= 64 && strspn (id_or_name, "0123456789abcdef") == plen)
    {
      int fd = openat (s->root_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0 && (d = fdopendir (fd)) != NULL)
        while ((de = readdir (d)))
          if (strncmp (de->d_name, id_or_name, plen) == 0 && strlen (de->d_name) == 64)
            {
              matches++;
              memcpy (found, de->d_name, 65);
            }
    }
  if (matches == 1)
    return load_by_id (s, found, ret, err);
  if (matches > 1)
    return mini_error_set (err, EINVAL, "container ID prefix `%s` is ambiguous; give more characters",
                           id_or_name);
  return mini_error_set (err, ENOENT, "no such container: %s", id_or_name);
}

static int
cmp_created (const void *a, const void *b)
{
  const struct store_container *x = *(struct store_container *const *) a;
  const struct store_container *y = *(struct store_container *const *) b;
  return (x->created_ns < y->created_ns) - (x->created_ns > y->created_ns);
}

int
store_container_list (struct store *s, struct store_container ***ret, size_t *ret_n,
                      mini_error_t *err)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  struct store_container **v = NULL;
  size_t n = 0;
  int fd;

  fd = openat (s->root_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return mini_error_set (err, errno, "open containers dir");
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return mini_error_set (err, errno, "open containers dir");
    }
  while ((de = readdir (d)))
    {
      struct store_container *c = NULL;
      mini_error_t tmp = NULL;
      if (strlen (de->d_name) != 64 || !id_valid (de->d_name))
        continue;
      if (load_by_id (s, de->d_name, &c, &tmp) < 0)
        {
          /* half-created or half-removed container: skip it */
          mini_error_release (&tmp);
          continue;
        }
      v = xrealloc (v, (n + 1) * sizeof (*v));
      v[n++] = c;
    }
  if (n)
    qsort (v, n, sizeof (*v), cmp_created);
  *ret = v;
  *ret_n = n;
  return 0;
}

int
store_container_dir (struct store *s, const char *id, int *ret_dirfd, mini_error_t *err)
{
  cleanup_free char *rel = NULL;
  int fd;
  if (id == NULL || !id_valid (id))
    return mini_error_set (err, EINVAL, "invalid container ID `%s`", id ? id : "");
  rel = xfmt ("containers/%s", id);
  fd = openat (s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return mini_error_set (err, errno, "open container dir %s", id);
  *ret_dirfd = fd;
  return 0;
}

char *
store_container_path (struct store *s, const char *id)
{
  return xfmt ("%s/containers/%s", s->root, id);
}

int
store_container_remove (struct store *s, const struct store_container *c, mini_error_t *err)
{
  cleanup_free char *rel = NULL;
  cleanup_free char *namerel = NULL;
  char target[80];
  ssize_t n;
  int r;

  if (!id_valid (c->id))
    return mini_error_set (err, EINVAL, "invalid container ID `%s`", c->id);
  rel = xfmt ("containers/%s", c->id);
  /* Drop state.json first so a crash mid-removal never leaves a container
     that looks complete.  */
  {
    cleanup_free char *st = xfmt ("%s/state.json", rel);
    unlinkat (s->root_fd, st, 0);
  }
  r = remove_tree_at (s->root_fd, rel, err);
  if (r < 0)
    return mini_error_wrap (err, "remove container %s", c->id);
  if (c->name && store_container_name_valid (c->name))
    {
      namerel = xfmt ("names/%s", c->name);
      n = readlinkat (s->root_fd, namerel, target, sizeof (target) - 1);
      if (n == 64 && strncmp (target, c->id, 64) == 0)
        unlinkat (s->root_fd, namerel, 0);
    }
  return 0;
}

void
store_container_free (struct store_container *c)
{
  if (c == NULL)
    return;
  free (c->id);
  free (c->name);
  free (c->image);
  free (c->image_digest);
  free (c->config_digest);
  strv_free (c->argv);
  strv_free (c->env);
  free (c->working_dir);
  free (c->user);
  free (c->hostname);
  free (c->stop_signal);
  strv_free (c->layers);
  free (c);
}

void
store_containers_free (struct store_container **v, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    store_container_free (v[i]);
  free (v);
}

int
store_container_lock (struct store *s, const char *id, mini_error_t *err)
{
  cleanup_free char *rel = NULL;
  int fd;
  if (!id_valid (id))
    return mini_error_set (err, EINVAL, "invalid container ID `%s`", id);
  rel = xfmt ("containers/%s/lock", id);
  fd = openat (s->root_fd, rel, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return mini_error_set (err, errno, "open lock of container %s", id);
  if (TEMP_FAILURE_RETRY (flock (fd, LOCK_EX)) < 0)
    {
      int e = errno;
      close (fd);
      return mini_error_set (err, e, "lock container %s", id);
    }
  return fd;
}
