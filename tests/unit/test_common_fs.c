/* Unit tests: common/ safe path resolution, atomic files, digests. */
#include "common/common.h"

#include <check.h>
#include <string.h>
#include <sys/stat.h>

static char tmpdir[] = "/tmp/mini-test-XXXXXX";
static int rootfd = -1;

static void
setup (void)
{
  strcpy (tmpdir, "/tmp/mini-test-XXXXXX");
  ck_assert_ptr_nonnull (mkdtemp (tmpdir));
  cleanup_free char *root = xfmt ("%s/root", tmpdir);
  cleanup_free char *outside = xfmt ("%s/outside", tmpdir);
  ck_assert_int_eq (mkdirat (AT_FDCWD, root, 0755), 0);
  ck_assert_int_eq (mkdirat (AT_FDCWD, outside, 0755), 0);
  rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge (rootfd, 0);
}

static void
teardown (void)
{
  mini_error_t err = NULL;
  close (rootfd);
  remove_tree_at (AT_FDCWD, tmpdir, &err);
  mini_error_release (&err);
}

/* Every case runs with openat2 and with the fallback walk.  */
static void
check_escapes (bool fallback)
{
  mini_error_t err = NULL;
  struct stat st;
  int fd;
  char *outside = xfmt ("%s/outside", tmpdir);

  safe_openat_force_fallback = fallback;
  ck_assert_int_eq (symlinkat ("/", rootfd, "abs"), 0);
  ck_assert_int_eq (symlinkat ("../../../../..", rootfd, "up"), 0);
  ck_assert_int_eq (symlinkat (outside, rootfd, "out"), 0);

  /* Absolute symlink to / resolves to the root itself.  */
  fd = safe_openat (rootfd, "abs/created", O_WRONLY | O_CREAT | O_EXCL, 0644, &err);
  ck_assert_int_ge (fd, 0);
  close (fd);
  ck_assert_int_eq (fstatat (rootfd, "created", &st, 0), 0);

  fd = safe_openat (rootfd, "up/created2", O_WRONLY | O_CREAT | O_EXCL, 0644, &err);
  ck_assert_int_ge (fd, 0);
  close (fd);
  ck_assert_int_eq (fstatat (rootfd, "created2", &st, 0), 0);

  /* A symlink naming the host path of a dir outside: stays inside (ENOENT). */
  fd = safe_openat (rootfd, "out/x", O_WRONLY | O_CREAT, 0644, &err);
  ck_assert_int_lt (fd, 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  mini_error_release (&err);
  {
    cleanup_free char *x = xfmt ("%s/x", outside);
    ck_assert_int_ne (fstatat (AT_FDCWD, x, &st, 0), 0);
  }

  /* ".." never leaves the root.  */
  fd = safe_openat (rootfd, "../../../../created", O_RDONLY, 0, &err);
  ck_assert_int_ge (fd, 0);
  close (fd);

  /* mkdir -p through a symlink stays in the root too.  */
  fd = safe_mkdir_p (rootfd, "abs/a/b/c", 0755, &err);
  ck_assert_int_ge (fd, 0);
  close (fd);
  ck_assert_int_eq (fstatat (rootfd, "a/b/c", &st, 0), 0);
  ck_assert (S_ISDIR (st.st_mode));
  safe_openat_force_fallback = false;
  free (outside);
}

START_TEST (test_safe_openat2)
{
  check_escapes (false);
}
END_TEST

START_TEST (test_safe_openat_fallback)
{
  check_escapes (true);
}
END_TEST

START_TEST (test_atomic_write)
{
  mini_error_t err = NULL;
  char *buf = NULL;
  size_t len;
  int dfd = open (tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_eq (write_file_atomic_at (dfd, "f", "hello", 5, 0600, &err), 0);
  ck_assert_int_eq (write_file_atomic_at (dfd, "f", "world!", 6, 0600, &err), 0);
  ck_assert_int_eq (read_file_at (dfd, "f", &buf, &len, 0, &err), 0);
  ck_assert_uint_eq (len, 6);
  ck_assert_str_eq (buf, "world!");
  free (buf);
  /* No temporary left.  */
  ck_assert_int_eq (remove_tree_at (dfd, "f", &err), 0);
  ck_assert_int_lt (read_file_at (dfd, "missing", &buf, &len, 0, &err), 0);
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  mini_error_release (&err);
  close (dfd);
}
END_TEST

/* The no-fsync variant: same content, mode and atomic rename, no temporary
   left behind. */
START_TEST (test_atomic_write_not_durable)
{
  mini_error_t err = NULL;
  char *buf = NULL;
  size_t len;
  struct stat sb;
  DIR *d;
  struct dirent *de;
  int n = 0;
  int dfd = open (tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  ck_assert_int_eq (write_file_atomic_at_flags (dfd, "g", "one", 3, 0644, false, &err), 0);
  ck_assert_int_eq (write_file_atomic_at_flags (dfd, "g", "{\"two\":2}", 9, 0600, false, &err), 0);
  ck_assert_int_eq (read_file_at (dfd, "g", &buf, &len, 0, &err), 0);
  ck_assert_uint_eq (len, 9);
  ck_assert_str_eq (buf, "{\"two\":2}");
  free (buf);
  ck_assert_int_eq (fstatat (dfd, "g", &sb, 0), 0);
  ck_assert_int_eq (sb.st_mode & 07777, 0600);
  d = fdopendir (dup (dfd));
  ck_assert_ptr_nonnull (d);
  while ((de = readdir (d)))
    if (strncmp (de->d_name, "g", 1) == 0)
      n++;
  closedir (d);
  ck_assert_int_eq (n, 1);
  close (dfd);
}
END_TEST

START_TEST (test_digest)
{
  char out[72];
  ck_assert (digest_is_valid ("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  ck_assert (!digest_is_valid ("sha256:E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  ck_assert (!digest_is_valid ("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"));
  ck_assert (!digest_is_valid ("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  ck_assert (!digest_is_valid ("sha256:../../../../etc/passwd"));
  sha256_digest ("", 0, out);
  ck_assert_str_eq (out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST (test_errors)
{
  mini_error_t err = NULL;
  char *s;
  ck_assert_int_lt (mini_error_set (&err, ENOENT, "open `%s`", "x"), 0);
  ck_assert_int_lt (mini_error_set (&err, EPERM, "second"), 0); /* first error kept */
  mini_error_wrap (&err, "pull %s", "busybox");
  s = mini_error_string (err);
  ck_assert_str_eq (s, "pull busybox: open `x`: No such file or directory");
  ck_assert_int_eq (mini_error_errno (err), ENOENT);
  free (s);
  mini_error_release (&err);
  ck_assert_ptr_null (err);
}
END_TEST

static void
check_str (char *got, const char *want)
{
  ck_assert_str_eq (got, want);
  free (got);
}

START_TEST (test_human)
{
  check_str (human_duration (0), "Less than a second");
  check_str (human_duration (5), "5 seconds");
  check_str (human_duration (90), "About a minute");
  check_str (human_duration (600), "10 minutes");
  check_str (human_duration (7200), "2 hours");
  check_str (human_size (4261000), "4.261MB");
  check_str (human_size (999), "999B");
}
END_TEST

START_TEST (test_proc_start_time)
{
  char buf[1024];
  unsigned long long expect = 0;
  int fd = open ("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  ssize_t n = read (fd, buf, sizeof (buf) - 1);
  close (fd);
  ck_assert_int_gt (n, 0);
  buf[n] = '\0';
  /* Field 22 (starttime), counted independently with sscanf.  */
  ck_assert_int_eq (sscanf (strrchr (buf, ')') + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                            &expect), 1);
  ck_assert_uint_eq (proc_start_time (getpid ()), expect);
  ck_assert_uint_eq (proc_start_time (0), 0);
  ck_assert_uint_eq (proc_start_time (4194304 + 1), 0);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("common_fs");
  TCase *tc = tcase_create ("safe_openat");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_safe_openat2);
  tcase_add_test (tc, test_safe_openat_fallback);
  tcase_add_test (tc, test_atomic_write);
  tcase_add_test (tc, test_atomic_write_not_durable);
  suite_add_tcase (s, tc);
  tc = tcase_create ("misc");
  tcase_add_test (tc, test_digest);
  tcase_add_test (tc, test_errors);
  tcase_add_test (tc, test_human);
  tcase_add_test (tc, test_proc_start_time);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (suite ());
  int failed;
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
