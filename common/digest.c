/* mini - sha256 digests (OpenSSL EVP), image-spec descriptor.md "Digests". */
#include "common/common.h"

#include <string.h>
#include <openssl/conf.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

struct sha256_stream
{
  EVP_MD_CTX *ctx;
};

static bool config_skipped;

void
crypto_skip_config (void)
{
  config_skipped = OPENSSL_init_crypto (OPENSSL_INIT_NO_LOAD_CONFIG, NULL) == 1;
}

void
crypto_load_skipped_config (void)
{
  if (!config_skipped)
    return;
  config_skipped = false;
  /* What OPENSSL_init_crypto (OPENSSL_INIT_LOAD_CONFIG) does (crypto/conf/
     conf_sap.c ossl_config_int): builtin modules (ssl_conf for the
     system_default TLS settings), then the default file, its default
     section, missing file and errors ignored. */
  OPENSSL_load_builtin_modules ();
  CONF_modules_load_file (NULL, NULL,
                          CONF_MFLAGS_DEFAULT_SECTION | CONF_MFLAGS_IGNORE_MISSING_FILE
                              | CONF_MFLAGS_IGNORE_RETURN_CODES);
  ERR_clear_error ();
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
  s->ctx = EVP_MD_CTX_new ();
  if (s->ctx == NULL || EVP_DigestInit_ex (s->ctx, EVP_sha256 (), NULL) != 1)
    abort ();
  return s;
}

void
sha256_stream_update (struct sha256_stream *s, const void *buf, size_t len)
{
  if (len && EVP_DigestUpdate (s->ctx, buf, len) != 1)
    abort ();
}

void
sha256_stream_final (struct sha256_stream *s, char out[72])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0, i;
  if (EVP_DigestFinal_ex (s->ctx, md, &len) != 1 || len != 32)
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
  EVP_MD_CTX_free (s->ctx);
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
