/* mini - `mini unpack IMAGE DIR` (an image's flattened root filesystem into
 * a directory) and `mini export CONTAINER` (a container's filesystem as a
 * tar stream). */
#include "cmd/cmd.h"
#include "run/run.h"
#include "unpack/unpack.h"

#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

static void
unpack_usage (FILE *f)
{
  fprintf (f, "Usage: mini unpack [OPTIONS] IMAGE DIR\n"
              "\n"
              "Write the root filesystem of IMAGE into DIR: every layer applied in order,\n"
              "whiteouts honoured (what a container sees before it runs).  DIR must be\n"
              "missing or empty.  The image is pulled when it is not in the store.\n"
              "\n"
              "Options:\n"
              "      --platform P   platform to pull when the image is missing\n"
              "  -h, --help         show this help\n");
}

static void
export_usage (FILE *f)
{
  fprintf (f, "Usage: mini export [OPTIONS] CONTAINER\n"
              "\n"
              "Write the filesystem of a container (running or not) as a tar archive\n"
              "to stdout.\n"
              "\n"
              "Options:\n"
              "  -o, --output FILE  write to FILE instead of stdout\n"
              "  -h, --help         show this help\n");
}

/* The manifest digest of IMAGE (a reference or an image ID), pulled when
   missing (unless --offline).  NULL after printing the error. */
static char *
find_image (struct cmd_globals *g, const char *image, const char *platform)
{
  struct cmd_image_match m;
  struct pull_reference *ref = NULL;
  mini_error_t err = NULL;
  char *digest;

  if (cmd_image_lookup (g, image, &m, &err) == 0)
    {
      digest = steal_pointer (&m.manifest_digest);
      cmd_image_match_clear (&m);
      return digest;
    }
  if (mini_error_errno (err) != ENOENT || g->offline)
    {
      cmd_print_error (&err);
      return NULL;
    }
  mini_error_release (&err);
  if (pull_reference_parse (image, &ref, &err) < 0)
    {
      cmd_print_error (&err);
      return NULL;
    }
  fprintf (stderr, "Unable to find image '%s' locally\n", image);
  if (cmd_pull_ref (g, ref, platform, stderr, &err) < 0
      || cmd_image_lookup (g, image, &m, &err) < 0)
    {
      cmd_print_error (&err);
      pull_reference_free (ref);
      return NULL;
    }
  pull_reference_free (ref);
  digest = steal_pointer (&m.manifest_digest);
  cmd_image_match_clear (&m);
  return digest;
}

/* Open DIR for unpacking: created when missing (*RET_CREATED), else it
   must be an empty directory (not a symlink). */
static int
open_target (const char *dir, bool *ret_created, mini_error_t *err)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd;

  *ret_created = false;
  if (mkdir (dir, 0755) == 0)
    *ret_created = true;
  else if (errno != EEXIST)
    return mini_error_set (err, errno, "create `%s`", dir);
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return mini_error_set (err, errno, "open `%s`", dir);
  if (*ret_created)
    return fd;
  d = fdopendir (fcntl (fd, F_DUPFD_CLOEXEC, 3));
  if (d == NULL)
    {
      close (fd);
      return mini_error_set (err, errno, "read `%s`", dir);
    }
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      {
        close (fd);
        return mini_error_set (err, ENOTEMPTY, "`%s` is not empty", dir);
      }
  return fd;
}

/* Remove what a failed unpack left in FD (and DIR itself when we made it). */
static void
discard_target (const char *dir, int fd, bool created)
{
  cleanup_dir DIR *d = NULL;
  mini_error_t tmp = NULL;
  struct dirent *de;

  if (created)
    {
      remove_tree_at (AT_FDCWD, dir, &tmp);
      mini_error_release (&tmp);
      return;
    }
  d = fdopendir (fcntl (fd, F_DUPFD_CLOEXEC, 3));
  if (d == NULL)
    return;
  rewinddir (d); /* the dup shares the offset open_target's listing moved */
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      {
        remove_tree_at (dirfd (d), de->d_name, &tmp);
        mini_error_release (&tmp);
      }
}

int
cmd_unpack (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "platform", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *digest = NULL;
  cleanup_close int gc_lock = -1;
  cleanup_close int dirfd = -1;
  struct store_image *img = NULL;
  const char *platform = NULL;
  mini_error_t err = NULL;
  bool created = false;
  int ch;

  while ((ch = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    switch (ch)
      {
      case 'p':
        platform = optarg;
        break;
      case 'h':
        unpack_usage (stdout);
        return 0;
      default:
        fprintf (stderr, "See 'mini unpack --help'.\n");
        return 125;
      }
  if (argc - optind != 2)
    {
      fprintf (stderr, "mini: \"unpack\" requires exactly 2 arguments: IMAGE DIR\n");
      unpack_usage (stderr);
      return 125;
    }

  /* The image's blobs may not be pruned meanwhile. */
  gc_lock = cmd_lock_shared (g, true, &err);
  if (gc_lock < 0)
    {
      cmd_print_error (&err);
      return 125;
    }
  digest = find_image (g, argv[optind], platform);
  if (digest == NULL)
    return 125;
  if (store_image_load (g->store, digest, &img, &err) < 0)
    {
      mini_error_wrap (&err, "image %s", argv[optind]);
      cmd_print_error (&err);
      return 125;
    }
  dirfd = open_target (argv[optind + 1], &created, &err);
  if (dirfd < 0)
    {
      cmd_print_error (&err);
      store_image_free (img);
      return 125;
    }
  if (unpack_image_flatten (g->store, img, dirfd, NULL, &err) < 0)
    {
      mini_error_wrap (&err, "unpack %s into %s", argv[optind], argv[optind + 1]);
      cmd_print_error (&err);
      discard_target (argv[optind + 1], dirfd, created);
      store_image_free (img);
      return 125;
    }
  store_image_free (img);
  return 0;
}

int
cmd_export (struct cmd_globals *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct store_container *c = NULL;
  struct run_rootfs root = { .fd = -1, .tmp_parent_fd = -1 };
  cleanup_close int out_fd = -1;
  const char *output = NULL;
  mini_error_t err = NULL;
  int ch, ret;

  while ((ch = getopt_long (argc, argv, "+o:h", opts, NULL)) != -1)
    switch (ch)
      {
      case 'o':
        output = optarg;
        break;
      case 'h':
        export_usage (stdout);
        return 0;
      default:
        fprintf (stderr, "See 'mini export --help'.\n");
        return 125;
      }
  if (argc - optind != 1)
    {
      fprintf (stderr, "mini: \"export\" requires exactly 1 argument: CONTAINER\n");
      export_usage (stderr);
      return 125;
    }
  if (output == NULL && isatty (STDOUT_FILENO))
    {
      fprintf (stderr, "mini: refusing to write a tar archive to a terminal: redirect stdout or "
                       "use -o FILE\n");
      return 125;
    }
  if (store_container_load (cmd_store (g), argv[optind], &c, &err) < 0)
    {
      cmd_print_error (&err);
      return 125;
    }
  if (output)
    {
      out_fd = open (output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (out_fd < 0)
        {
          mini_error_set (&err, errno, "open `%s`", output);
          cmd_print_error (&err);
          store_container_free (c);
          return 125;
        }
    }
  ret = run_container_rootfs_open (g->store, c, &root, &err);
  if (ret == 0)
    ret = unpack_export_tree (root.fd, out_fd >= 0 ? out_fd : STDOUT_FILENO, &err);
  run_rootfs_close (&root);
  if (ret < 0)
    {
      mini_error_wrap (&err, "export %s", argv[optind]);
      cmd_print_error (&err);
      store_container_free (c);
      return 125;
    }
  store_container_free (c);
  if (out_fd >= 0 && close (steal_fd (&out_fd)) < 0)
    {
      mini_error_set (&err, errno, "write `%s`", output);
      cmd_print_error (&err);
      return 125;
    }
  return 0;
}
