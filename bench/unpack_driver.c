/* mini - bench/unpack_driver: time mini's layer extraction alone.
 *
 *   unpack_driver ROOT REF
 *
 * Opens the store at ROOT, whose blobs and refs.json are already in place
 * (bench/run hard-links them from a pulled root and leaves layers/ empty),
 * resolves REF (the normalized reference as refs.json spells it, e.g.
 * "127.0.0.1:5000/library/nginx:latest") and calls unpack_image: every layer
 * is decompressed, its diff_id verified and extracted into layers/<chain>/diff,
 * exactly what `mini pull` does after the download.  bench/run times this
 * process against `umoci unpack` and `tar -xzf`.
 *
 * Bench-only: not installed, not part of mini.  Exits 0 on success, 1 with
 * "unpack_driver: <error>" on stderr otherwise, 2 on bad usage.
 */
#include "common/common.h"
#include "store/store.h"
#include "unpack/unpack.h"

#include <stdio.h>
#include <stdlib.h>

static int
driver_unpack (const char *root, const char *ref, mini_error_t *err)
{
  struct store *s = NULL;
  struct store_image *img = NULL;
  cleanup_free char *digest = NULL;
  int ret;

  ret = store_open (root, &s, err);
  if (ret < 0)
    return ret;
  ret = store_ref_get (s, ref, &digest, err);
  if (ret == 0)
    ret = store_image_load (s, digest, &img, err);
  if (ret == 0)
    ret = unpack_image (s, img, NULL, err);
  store_image_free (img);
  store_close (s);
  return ret;
}

int
main (int argc, char **argv)
{
  cleanup_error mini_error_t err = NULL;

  if (argc != 3)
    {
      fprintf (stderr, "usage: %s ROOT REF\n", argv[0]);
      return 2;
    }
  if (driver_unpack (argv[1], argv[2], &err) < 0)
    {
      cleanup_free char *msg = mini_error_string (err);
      fprintf (stderr, "unpack_driver: %s\n", msg);
      return 1;
    }
  return 0;
}
