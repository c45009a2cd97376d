/* mini - sha256 digests (OpenSSL EVP), image-spec descriptor.md "Digests". */
#include "common/common.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <openssl/conf.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

struct sha256_stream
{
  EVP_MD_CTX *ctx;
};

/* libcrypto is dlopen()ed on the first digest: `mini run`, `exec`, `ps`,
   `stop` and `rm` never hash, and loading and initialising OpenSSL costs
   about a millisecond of every command otherwise (bench/results, run 3).
   The table holds the few entry points mini calls; the prototypes come
   from OpenSSL's own headers. */
static struct
{
  __typeof__ (OPENSSL_init_crypto) *init_crypto;
  __typeof__ (OPENSSL_load_builtin_modules) *load_builtin_modules;
  __typeof__ (CONF_modules_load_file) *conf_modules_load_file;
  __typeof__ (ERR_clear_error) *err_clear_error;
  __typeof__ (EVP_MD_CTX_new) *md_ctx_new;
  __typeof__ (EVP_MD_CTX_free) *md_ctx_free;
  __typeof__ (EVP_sha256) *sha256;
  __typeof__ (EVP_DigestInit_ex) *digest_init_ex;
  __typeof__ (EVP_DigestUpdate) *digest_update;
  __typeof__ (EVP_DigestFinal_ex) *digest_final_ex;
} crypto;

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static bool skip_config_wanted; /* crypto_skip_config was called */
static bool config_skipped;     /* ... and libcrypto was started that way */

static void __attribute__ ((noreturn))
crypto_missing (const char *what)
{
  /* Digests cannot fail softly (their API returns void): say why, then
     abort, as for running out of memory. */
  static const char a[] = "mini: cannot load libcrypto.so.3 (";
  static const char b[] = "): install libssl3 (apt-get install libssl3)\n";
  (void) !write (2, a, sizeof (a) - 1);
  (void) !write (2, what, strlen (what));
  (void) !write (2, b, sizeof (b) - 1);
  abort ();
}

#define CRYPTO_SYM(field, name)                                                                    \
  do                                                                                               \
    {                                                                                              \
      crypto.field = (__typeof__ (crypto.field)) dlsym (h, name);                                  \
      if (crypto.field == NULL)                                                                    \
        crypto_missing (name);                                                                     \
    }                                                                                              \
  while (0)

static void
crypto_load_once (void)
{
  void *h = dlopen ("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    {
      const char *e = dlerror ();
      crypto_missing (e ? e : "not found");
    }
  CRYPTO_SYM (init_crypto, "OPENSSL_init_crypto");
  CRYPTO_SYM (load_builtin_modules, "OPENSSL_load_builtin_modules");
  CRYPTO_SYM (conf_modules_load_file, "CONF_modules_load_file");
  CRYPTO_SYM (err_clear_error, "ERR_clear_error");
  CRYPTO_SYM (md_ctx_new, "EVP_MD_CTX_new");
  CRYPTO_SYM (md_ctx_free, "EVP_MD_CTX_free");
  CRYPTO_SYM (sha256, "EVP_sha256");
  CRYPTO_SYM (digest_init_ex, "EVP_DigestInit_ex");
  CRYPTO_SYM (digest_update, "EVP_DigestUpdate");
  CRYPTO_SYM (digest_final_ex, "EVP_DigestFinal_ex");
  if (skip_config_wanted)
    config_skipped = crypto.init_crypto (OPENSSL_INIT_NO_LOAD_CONFIG, NULL) == 1;
}

static void
crypto_load (void)
{
  pthread_once (&crypto_once, crypto_load_once);
}

void
crypto_skip_config (void)
{
  skip_config_wanted = true;
}

void
crypto_load_skipped_config (void)
{
  /* Not loaded yet: OpenSSL will read its config itself when libcurl
     starts it. */
  skip_config_wanted = false;
  if (!config_skipped)
    return;
  config_skipped = false;
  /* What OPENSSL_init_crypto (OPENSSL_INIT_LOAD_CONFIG) does (crypto/conf/
     conf_sap.c ossl_config_int): builtin modules (ssl_conf for the
     system_default TLS settings), then the default file, its default
     section, missing file and errors ignored. */
  crypto.load_builtin_modules ();
  crypto.conf_modules_load_file (NULL, NULL,
                                 CONF_MFLAGS_DEFAULT_SECTION | CONF_MFLAGS_IGNORE_MISSING_FILE
                                     | CONF_MFLAGS_IGNORE_RETURN_CODES);
  crypto.err_clear_error ();
}

bool
digest_is_valid (const char *s)
{
  size_t i;
  if (s == NULL || strncmp (s, "sha256:", 7) != 0)
    return false;
  s += 7;
  for (i = 0; i < 64; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return s[64] == '\0';
}

const char *
digest_hex (const char *digest)
{
  const char *c = strchr (digest, ':');
  return c ? c + 1 : digest;
}

struct sha256_stream *
sha256_stream_new (void)
{
  struct sha256_stream *s = xmalloc0 (sizeof (*s));
  crypto_load ();
  s->ctx = crypto.md_ctx_new ();
  if (s->ctx == NULL || crypto.digest_init_ex (s->ctx, crypto.sha256 (), NULL) != 1)
    abort ();
  return s;
}

void
sha256_stream_update (struct sha256_stream *s, const void *buf, size_t len)
{
  if (len && crypto.digest_update (s->ctx, buf, len) != 1)
    abort ();
}

void
sha256_stream_final (struct sha256_stream *s, char out[72])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0, i;
  if (crypto.digest_final_ex (s->ctx, md, &len) != 1 || len != 32)
    abort ();
  memcpy (out, "sha256:", 7);
  for (i = 0; i < 32; i++)
    {
      out[7 + 2 * i] = hex[md[i] >> 4];
      out[7 + 2 * i + 1] = hex[md[i] & 0xf];
    }
  out[71] = '\0';
}

void
sha256_stream_free (struct sha256_stream *s)
{
  if (s == NULL)
    return;
  crypto.md_ctx_free (s->ctx);
  free (s);
}

void
cleanup_sha256p (struct sha256_stream **s)
{
  sha256_stream_free (*s);
  *s = NULL;
}

void
sha256_digest (const void *buf, size_t len, char out[72])
{
  cleanup_sha256 struct sha256_stream *s = sha256_stream_new ();
  sha256_stream_update (s, buf, len);
  sha256_stream_final (s, out);
}
