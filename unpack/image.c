/* mini - unpack: make sure every layer of an image is extracted in the
   store, one temporary directory per missing layer, published only once it
   is complete and verified; and write an image's flattened rootfs. */
#include "unpack/unpack.h"

#include <string.h>

/* Start decompressing the blob of layer L (unpack_stream_open).  */
static int
open_layer_stream (struct store *s, const struct store_layer *l,
                   const struct unpack_limits *limits, struct unpack_stream **ret,
                   mini_error_t *err)
{
  cleanup_close int blobfd = -1;

  if (store_blob_open (s, l->digest, &blobfd, err) < 0)
    return mini_error_wrap (err, "layer %s", l->digest);
  return unpack_stream_open (blobfd, l->digest, limits, ret, err);
}

/* Extract layer L, whose stream ST is open, into a fresh temporary layer
   dir and publish it.  LOWERS are the directories of the layers below,
   topmost first.  */
static int
unpack_one_layer (struct store *s, const struct store_layer *l, struct unpack_stream *st,
                  const int *lowers, size_t n_lowers, const struct unpack_limits *limits,
                  mini_error_t *err)
{
  struct unpack_options opts = { .mode = UNPACK_MODE_OVERLAY,
                                 .lower_fds = lowers,
                                 .n_lower_fds = n_lowers,
                                 .limits = limits };
  cleanup_close int dirfd = -1;
  cleanup_free char *tmp = NULL;

  if (store_layer_begin (s, &dirfd, &tmp, err) < 0)
    return mini_error_wrap (err, "layer %s", l->digest);
  if (unpack_layer_apply_stream (st, dirfd, l->diff_id, &opts, err) < 0)
    goto fail;
  close (steal_fd (&dirfd));
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

static int
check_layer (const struct store_image *img, size_t i, mini_error_t *err)
{
  const struct store_layer *l = &img->layers[i];

  if (l->digest == NULL || l->diff_id == NULL || l->chain_id == NULL
      || !digest_is_valid (l->digest) || !digest_is_valid (l->diff_id)
      || !digest_is_valid (l->chain_id))
    return mini_error_set (err, EINVAL, "image %s: layer %zu: invalid digests",
                           img->manifest_digest ? img->manifest_digest : "(unnamed)", i);
  return 0;
}

static void
close_fds (int *fds, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  free (fds);
}

/* Open the published layer CHAIN_ID's diff directory.  */
static int
open_layer_dir (struct store *s, const char *chain_id, mini_error_t *err)
{
  cleanup_free char *path = store_layer_diff_path (s, chain_id);
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return mini_error_set (err, errno, "open layer %s", chain_id);
  return fd;
}

int
unpack_image (struct store *s, const struct store_image *img, const struct unpack_limits *limits,
              mini_error_t *err)
{
  /* lowers[n - 1 - i] is layer i: the array read from the end is topmost
     first for the layer being extracted.  */
  int *lowers = xmalloc ((img->n_layers + 1) * sizeof (int));
  /* The stream of the next layer to extract, opened while the current one
     is extracted (its decompression overlaps the extraction).  */
  struct unpack_stream *next = NULL;
  size_t i, n = 0, next_idx = 0;
  int ret = 0;

  for (i = 0; i < img->n_layers; i++)
    lowers[i] = -1;
  for (i = 0; i < img->n_layers && ret == 0; i++)
    {
      const struct store_layer *l = &img->layers[i];
      int *top_first;
      size_t j;

      ret = check_layer (img, i, err);
      if (ret < 0)
        break;
      if (!store_layer_exists (s, l->chain_id))
        {
          struct unpack_stream *cur = NULL;

          if (next && next_idx == i)
            cur = steal_pointer (&next);
          else if (open_layer_stream (s, l, limits, &cur, err) < 0)
            {
              ret = -1;
              break;
            }
          unpack_stream_free (steal_pointer (&next));
          if (i + 1 < img->n_layers && check_layer (img, i + 1, NULL) == 0
              && !store_layer_exists (s, img->layers[i + 1].chain_id))
            {
              /* Best effort: on failure the layer's turn reports it.  */
              mini_error_t tmp = NULL;
              if (open_layer_stream (s, &img->layers[i + 1], limits, &next, &tmp) == 0)
                next_idx = i + 1;
              mini_error_release (&tmp);
            }
          top_first = xmalloc ((n + 1) * sizeof (int));
          for (j = 0; j < n; j++)
            top_first[j] = lowers[n - 1 - j];
          ret = unpack_one_layer (s, l, cur, top_first, n, limits, err);
          free (top_first);
          unpack_stream_free (cur);
          if (ret < 0)
            break;
        }
      /* Only needed while a later layer remains to be extracted.  */
      if (i + 1 < img->n_layers)
        {
          lowers[n] = open_layer_dir (s, l->chain_id, err);
          if (lowers[n] < 0)
            {
              ret = -1;
              break;
            }
          n++;
        }
    }
  unpack_stream_free (next);
  close_fds (lowers, n);
  return ret;
}

int
unpack_image_flatten (struct store *s, const struct store_image *img, int dirfd,
                      const struct unpack_limits *limits, mini_error_t *err)
{
  struct unpack_options opts = { .mode = UNPACK_MODE_FLATTEN, .limits = limits };
  cleanup_unpack_stream struct unpack_stream *cur = NULL;
  cleanup_unpack_stream struct unpack_stream *next = NULL;
  size_t i;

  if (img->n_layers == 0)
    return 0;
  if (check_layer (img, 0, err) < 0 || open_layer_stream (s, &img->layers[0], limits, &cur, err) < 0)
    return -1;
  for (i = 0; i < img->n_layers; i++)
    {
      const struct store_layer *l = &img->layers[i];

      /* The next layer decompresses while this one is written (the
         extraction itself stays in order: later layers overwrite).  */
      if (i + 1 < img->n_layers
          && (check_layer (img, i + 1, err) < 0
              || open_layer_stream (s, &img->layers[i + 1], limits, &next, err) < 0))
        return -1;
      if (unpack_layer_apply_stream (cur, dirfd, l->diff_id, &opts, err) < 0)
        return -1;
      unpack_stream_free (steal_pointer (&cur));
      cur = steal_pointer (&next);
    }
  return 0;
}
