/* mini - pull: libcurl, loaded on first use.
 *
 * libcurl and the ~30 libraries it depends on (OpenSSL's libssl, krb5, ldap,
 * rtmp/gnutls, ssh2, nghttp2, idn2, psl, brotli ...) cost ~4 ms of dynamic
 * loading and relocation per process.  Only pull and login talk to a
 * registry, so mini does not link libcurl: the first registry operation
 * dlopens libcurl.so.4 (ABI version 4, the soname every libcurl 7.x/8.x
 * has) and resolves the entry points pull/ uses into one table,
 * `pull_curl`.  curl's headers are still used for the types and constants,
 * and __typeof__ of curl's own prototypes gives each pointer its exact type.
 * run, exec, ps, stop, rm ... never load it.
 */
#include "pull/pull-private.h"

#include <dlfcn.h>
#include <string.h>

#define CURL_SONAME "libcurl.so.4"

const struct curl_api *pull_curl;

static struct curl_api curl_table;

/* One row per entry point: where it goes in the table, its name. */
#define API(member, sym) { offsetof (struct curl_api, member), #sym }
static const struct
{
  size_t offset;
  const char *name;
} curl_symbols[] = {
  API (global_init, curl_global_init),
  API (global_cleanup, curl_global_cleanup),
  API (version_info, curl_version_info),
  API (free, curl_free),
  API (slist_append, curl_slist_append),
  API (slist_free_all, curl_slist_free_all),
  API (easy_init, curl_easy_init),
  API (easy_setopt, curl_easy_setopt),
  API (easy_perform, curl_easy_perform),
  API (easy_getinfo, curl_easy_getinfo),
  API (easy_cleanup, curl_easy_cleanup),
  API (easy_strerror, curl_easy_strerror),
  API (share_init, curl_share_init),
  API (share_setopt, curl_share_setopt),
  API (share_cleanup, curl_share_cleanup),
  API (multi_init, curl_multi_init),
  API (multi_add_handle, curl_multi_add_handle),
  API (multi_remove_handle, curl_multi_remove_handle),
  API (multi_perform, curl_multi_perform),
  API (multi_poll, curl_multi_poll),
  API (multi_info_read, curl_multi_info_read),
  API (multi_strerror, curl_multi_strerror),
  API (multi_cleanup, curl_multi_cleanup),
  API (url, curl_url),
  API (url_set, curl_url_set),
  API (url_get, curl_url_get),
  API (url_cleanup, curl_url_cleanup),
};
#undef API

int
pull_curl_load_from (const char *soname, mini_error_t *err)
{
  struct curl_api api;
  void *lib;
  size_t i;

  if (pull_curl)
    return 0;
  /* libcurl's TLS is OpenSSL's: give it the system settings (cmd/ starts
     OpenSSL without them). */
  crypto_load_skipped_config ();
  lib = dlopen (soname, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL)
    {
      const char *why = dlerror ();
      if (why == NULL || strstr (why, "No such file or directory"))
        return mini_error_set (err, 0, "%s not found: install libcurl4 (apt-get install libcurl4)",
                               soname);
      return mini_error_set (err, 0, "cannot load %s (%s): install libcurl4 (apt-get install "
                             "libcurl4)", soname, why);
    }
  memset (&api, 0, sizeof (api));
  for (i = 0; i < sizeof (curl_symbols) / sizeof (curl_symbols[0]); i++)
    {
      void *fn;

      dlerror ();
      fn = dlsym (lib, curl_symbols[i].name);
      if (fn == NULL)
        {
          mini_error_set (err, 0, "%s has no %s: libcurl 7.66 or newer is needed", soname,
                          curl_symbols[i].name);
          dlclose (lib);
          return -1;
        }
      /* POSIX: a function pointer may be stored as a data pointer (dlsym). */
      memcpy ((char *) &api + curl_symbols[i].offset, &fn, sizeof (fn));
    }
  curl_table = api;
  pull_curl = &curl_table;
  return 0;
}

int
pull_curl_load (mini_error_t *err)
{
  return pull_curl_load_from (CURL_SONAME, err);
}
