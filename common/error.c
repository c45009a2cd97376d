/* mini - error objects (crun's libcrun_error_t shape). */
#include "common/common.h"

#include <stdarg.h>
#include <string.h>

int
mini_error_set (mini_error_t *err, int status, const char *fmt, ...)
{
  va_list ap;
  char *msg = NULL;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);

  if (err == NULL)
    {
      free (msg);
      return -1;
    }
  if (*err != NULL)
    {
      /* Never replace the first error.  */
      free (msg);
      return -1;
    }
  *err = xmalloc0 (sizeof (**err));
  (*err)->status = status;
  (*err)->msg = msg;
  return -1;
}

int
mini_error_wrap (mini_error_t *err, const char *fmt, ...)
{
  va_list ap;
  char *ctx = NULL;
  char *msg = NULL;

  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&ctx, fmt, ap) < 0)
    abort ();
  va_end (ap);

  if (*err == NULL)
    {
      *err = xmalloc0 (sizeof (**err));
      (*err)->msg = ctx;
      return -1;
    }
  xasprintf (&msg, "%s: %s", ctx, (*err)->msg);
  free (ctx);
  free ((*err)->msg);
  (*err)->msg = msg;
  return -1;
}

int
mini_error_errno (mini_error_t err)
{
  return err ? err->status : 0;
}

void
mini_error_release (mini_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}

char *
mini_error_string (mini_error_t err)
{
  if (err == NULL)
    return xstrdup ("unknown error");
  if (err->status > 0)
    return xfmt ("%s: %s", err->msg, strerror (err->status));
  return xstrdup (err->msg);
}

void
cleanup_errorp (mini_error_t *e)
{
  mini_error_release (e);
}
