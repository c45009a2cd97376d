/* mini - common: libarchive, loaded on first use (see archive-loader.h).  */
#define MINI_ARCHIVE_NO_REDIRECT 1
#include "common/archive-loader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

struct mini_archive_syms mini_archive_syms;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char *load_error; /* NULL: loaded */

static void
load_archive (void)
{
  struct mini_archive_syms t;
  void *h;

  h = dlopen (MINI_ARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (h == NULL)
    {
      const char *why = dlerror ();
      if (why == NULL || strstr (why, "No such file or directory"))
        load_error = xfmt ("%s not found: install libarchive13 (apt-get install libarchive13)",
                           MINI_ARCHIVE_SONAME);
      else
        load_error = xfmt ("cannot load %s (%s): install libarchive13 (apt-get install "
                           "libarchive13)", MINI_ARCHIVE_SONAME, why);
      return;
    }
#define MINI_ARCHIVE_RESOLVE(name)                                                       \
  if ((*(void **) &t.name = dlsym (h, #name)) == NULL)                                   \
    {                                                                                    \
      load_error = xfmt ("%s has no %s: a newer libarchive is needed",                 \
                         MINI_ARCHIVE_SONAME, #name);                                    \
      return;                                                                            \
    }
  MINI_ARCHIVE_SYMBOLS (MINI_ARCHIVE_RESOLVE)
#undef MINI_ARCHIVE_RESOLVE
  mini_archive_syms = t;
}

int
mini_archive_load (mini_error_t *err)
{
  pthread_once (&load_once, load_archive);
  if (load_error)
    return mini_error_set (err, 0, "%s", load_error);
  return 0;
}
