/* mini - unpack: make sure every layer of an image is extracted in the
   store, one temporary directory per missing layer, published only once it
   is complete and verified. */
#include "unpack/unpack.h"

#include <string.h>

/* Extract layer L into a fresh temporary layer dir and publish it.  */
static int
unpack_one_layer (struct store *s, const struct store_layer *l, const struct unpack_limits *limits,
                  mini_error_t *err)
{
  cleanup_close int dirfd = -1;
  cleanup_close int blobfd = -1;
  cleanup_free char *tmp = NULL;

  if (store_layer_begin (s, &dirfd, &tmp, err) < 0)
    return mini_error_wrap (err, "layer %s", l->digest);
  if (store_blob_open (s, l->digest, &blobfd, err) < 0)
    {
      mini_error_wrap (err, "layer %s", l->digest);
      goto fail;
    }
  if (unpack_layer_apply (blobfd, dirfd, l->diff_id, l->digest, limits, err) < 0)
    goto fail;
  close (steal_fd (&dirfd));
  close (steal_fd (&blobfd));
  if (store_layer_commit (s, tmp, l->chain_id, err) < 0)
    goto fail;
  return 0;

fail:
  /* Never leave a half-made layer behind.  */
  if (dirfd >= 0)
    close (steal_fd (&dirfd));
  store_layer_abort (s, tmp);
  return -1;
}

int
unpack_image (struct store *s, const struct store_image *img, const struct unpack_limits *limits,
              mini_error_t *err)
{
  size_t i;

  for (i = 0; i < img->n_layers; i++)
    {
      const struct store_layer *l = &img->layers[i];

      if (l->digest == NULL || l->diff_id == NULL || l->chain_id == NULL
          || !digest_is_valid (l->digest) || !digest_is_valid (l->diff_id)
          || !digest_is_valid (l->chain_id))
        return mini_error_set (err, EINVAL, "image %s: layer %zu: invalid digests",
                               img->manifest_digest ? img->manifest_digest : "(unnamed)", i);
      if (store_layer_exists (s, l->chain_id))
        continue;
      if (unpack_one_layer (s, l, limits, err) < 0)
        return -1;
    }
  return 0;
}
