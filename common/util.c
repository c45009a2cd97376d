/* mini - memory, string vectors, cleanup helpers, small utilities. */
#include "common/common.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

static void
oom (void)
{
  static const char msg[] = "mini: out of memory\n";
  (void) !write (2, msg, sizeof (msg) - 1);
  abort ();
}

void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xmalloc0 (size_t n)
{
  void *p = calloc (1, n ? n : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xrealloc (void *p, size_t n)
{
  void *r = realloc (p, n ? n : 1);
  if (r == NULL)
    oom ();
  return r;
}

char *
xstrdup (const char *s)
{
  char *r;
  if (s == NULL)
    return NULL;
  r = strdup (s);
  if (r == NULL)
    oom ();
  return r;
}

char *
xstrndup (const char *s, size_t n)
{
  char *r;
  if (s == NULL)
    return NULL;
  r = strndup (s, n);
  if (r == NULL)
    oom ();
  return r;
}

int
xasprintf (char **ret, const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start (ap, fmt);
  r = vasprintf (ret, fmt, ap);
  va_end (ap);
  if (r < 0)
    oom ();
  return r;
}

char *
xfmt (const char *fmt, ...)
{
  va_list ap;
  char *ret = NULL;
  va_start (ap, fmt);
  if (vasprintf (&ret, fmt, ap) < 0)
    oom ();
  va_end (ap);
  return ret;
}

size_t
strv_len (char *const *v)
{
  size_t n = 0;
  if (v == NULL)
    return 0;
  while (v[n])
    n++;
  return n;
}

char **
strv_dup (char *const *v)
{
  size_t i, n;
  char **r;
  if (v == NULL)
    return NULL;
  n = strv_len (v);
  r = xmalloc0 ((n + 1) * sizeof (char *));
  for (i = 0; i < n; i++)
    r[i] = xstrdup (v[i]);
  return r;
}

void
strv_free (char **v)
{
  size_t i;
  if (v == NULL)
    return;
  for (i = 0; v[i]; i++)
    free (v[i]);
  free (v);
}

void
strv_append (char ***v, const char *s)
{
  size_t n = strv_len (*v);
  *v = xrealloc (*v, (n + 2) * sizeof (char *));
  (*v)[n] = xstrdup (s);
  (*v)[n + 1] = NULL;
}

void
cleanup_freep (void *p)
{
  void **pp = (void **) p;
  free (*pp);
  *pp = NULL;
}

void
cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
      *fd = -1;
    }
}

void
cleanup_filep (FILE **f)
{
  if (*f)
    {
      fclose (*f);
      *f = NULL;
    }
}

void
cleanup_dirp (DIR **d)
{
  if (*d)
    {
      closedir (*d);
      *d = NULL;
    }
}

void
cleanup_strvp (char ***v)
{
  strv_free (*v);
  *v = NULL;
}

int
random_hex (char *out, size_t nbytes, mini_error_t *err)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char buf[64];
  size_t i, got = 0;

  if (nbytes > sizeof (buf))
    return mini_error_set (err, EINVAL, "random_hex: %zu bytes is too many", nbytes);
  while (got < nbytes)
    {
      ssize_t r = getrandom (buf + got, nbytes - got, 0);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          return mini_error_set (err, errno, "getrandom");
        }
      got += r;
    }
  for (i = 0; i < nbytes; i++)
    {
      out[2 * i] = hex[buf[i] >> 4];
      out[2 * i + 1] = hex[buf[i] & 0xf];
    }
  out[2 * nbytes] = '\0';
  return 0;
}

uint64_t
proc_start_time (pid_t pid)
{
  char path[64], buf[1024];
  cleanup_close int fd = -1;
  ssize_t n;
  char *p;
  unsigned long long v = 0;

  if (pid <= 0)
    return 0;
  snprintf (path, sizeof (path), "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = read_all (fd, buf, sizeof (buf) - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* comm may contain spaces and parens: skip to the last ')'.  */
  p = strrchr (buf, ')');
  if (p == NULL)
    return 0;
  p++;
  /* After ')' come fields 3 (state), 4, ...; starttime is field 22.  */
  {
    char *save = NULL, *tok;
    int field = 3;
    for (tok = strtok_r (p, " ", &save); tok; tok = strtok_r (NULL, " ", &save), field++)
      if (field == 22)
        {
          v = strtoull (tok, NULL, 10);
          break;
        }
  }
  return v;
}

int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

char *
human_duration (int64_t s)
{
  if (s < 1)
    return xstrdup ("Less than a second");
  if (s == 1)
    return xstrdup ("1 second");
  if (s < 60)
    return xfmt ("%lld seconds", (long long) s);
  int64_t m = s / 60;
  if (m == 1)
    return xstrdup ("About a minute");
  if (m < 60)
    return xfmt ("%lld minutes", (long long) m);
  int64_t h = (s + 1800) / 3600;
  if (h == 1)
    return xstrdup ("About an hour");
  if (h < 48)
    return xfmt ("%lld hours", (long long) h);
  if (h < 24 * 7 * 2)
    return xfmt ("%lld days", (long long) (h / 24));
  if (h < 24 * 30 * 2)
    return xfmt ("%lld weeks", (long long) (h / 24 / 7));
  if (h < 24 * 365 * 2)
    return xfmt ("%lld months", (long long) (h / 24 / 30));
  return xfmt ("%lld years", (long long) (h / 24 / 365));
}

char *
human_size (int64_t bytes)
{
  static const char *units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
  double v = (double) bytes;
  int u = 0;
  while (v >= 1000.0 && u < 5)
    {
      v /= 1000.0;
      u++;
    }
  if (u == 0)
    return xfmt ("%lldB", (long long) bytes);
  /* Docker prints 4 significant digits: 4.26MB, 187MB, 1.2GB.  */
  return xfmt ("%.4g%s", v, units[u]);
}
