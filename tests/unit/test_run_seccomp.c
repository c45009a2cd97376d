/* Unit tests: run/seccomp.c, Docker's default seccomp profile as classic BPF.
 *
 * Two ways in: a small classic-BPF interpreter runs the generated program on
 * made-up seccomp_data (every ABI, every syscall number, without the kernel);
 * and a forked child sets no_new_privs (what lets an unprivileged process
 * load a filter), loads the profile with seccomp_profile_apply and makes real
 * syscalls.  No root needed.
 */
#include "run/run-private.h"

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#ifndef AF_VSOCK
# define AF_VSOCK 40
#endif
#ifndef SECCOMP_RET_KILL_PROCESS
# define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif

#define X32_BIT 0x40000000U
#define R_ALLOW SECCOMP_RET_ALLOW
#define R_EPERM (SECCOMP_RET_ERRNO | EPERM)
#define R_ENOSYS (SECCOMP_RET_ERRNO | ENOSYS)
#define R_KILL SECCOMP_RET_KILL_PROCESS

/* Linux 5.1+ numbers, the same on the ABIs tested below. */
#define NR_CLONE3 435
#define NR_LSM_GET_SELF_ATTR 459 /* CAP_SYS_ADMIN in moby: denied */
#define NR_MSEAL 462             /* allowed (moby 28) */
#define NR_REMOVEXATTRAT 466     /* the highest syscall the profile names */

static struct sock_filter *prog;
static size_t prog_len;

static void
build (void)
{
  mini_error_t err = NULL;

  if (seccomp_profile_build (&prog, &prog_len, &err) < 0)
    ck_abort_msg ("seccomp_profile_build: %s", err->msg);
}

static void
unbuild (void)
{
  free (prog);
  prog = NULL;
}

/* ---------------------------------------------------------------- the interpreter */

/* Run the program on (ARCH, NR, ARGS); returns the action and stores the
   number of instructions executed in *STEPS.  Fails the test on anything a
   seccomp filter may not do (the kernel's checker would refuse it too). */
static uint32_t
run_bpf (uint32_t arch, uint32_t nr, const uint64_t args[6], size_t *steps)
{
  struct seccomp_data d;
  uint32_t a = 0;
  size_t pc = 0, n = 0;

  memset (&d, 0, sizeof (d));
  d.arch = arch;
  d.nr = (int) nr;
  if (args)
    memcpy (d.args, args, sizeof (d.args));
  for (;;)
    {
      const struct sock_filter *f;

      ck_assert_msg (pc < prog_len, "fell off the program at %zu", pc);
      f = &prog[pc];
      n++;
      switch (f->code)
        {
        case BPF_LD | BPF_W | BPF_ABS:
          ck_assert_msg (f->k % 4 == 0 && f->k + 4 <= sizeof (d), "bad load offset %u", f->k);
          memcpy (&a, (const char *) &d + f->k, 4);
          pc++;
          break;
        case BPF_JMP | BPF_JA:
          pc += 1 + f->k;
          break;
        case BPF_JMP | BPF_JEQ | BPF_K:
          pc += 1 + (a == f->k ? f->jt : f->jf);
          break;
        case BPF_JMP | BPF_JGE | BPF_K:
          pc += 1 + (a >= f->k ? f->jt : f->jf);
          break;
        case BPF_JMP | BPF_JSET | BPF_K:
          pc += 1 + ((a & f->k) ? f->jt : f->jf);
          break;
        case BPF_RET | BPF_K:
          if (steps)
            *steps = n;
          return f->k;
        default:
          ck_abort_msg ("unexpected instruction %#x at %zu", f->code, pc);
        }
    }
}

static uint32_t
verdict (uint32_t arch, uint32_t nr)
{
  return run_bpf (arch, nr, NULL, NULL);
}

static uint32_t
verdict1 (uint32_t arch, uint32_t nr, uint64_t arg0)
{
  uint64_t args[6] = { arg0 };

  return run_bpf (arch, nr, args, NULL);
}

#if defined __x86_64__ && ! defined __ILP32__
# define NATIVE AUDIT_ARCH_X86_64
#elif defined __aarch64__
# define NATIVE AUDIT_ARCH_AARCH64
#endif

START_TEST (test_program_shape)
{
  size_t i, steps, worst = 0;

  ck_assert_uint_gt (prog_len, 10);
  ck_assert_uint_le (prog_len, BPF_MAXINSNS);
  /* Every jump lands inside the program and the last instruction returns. */
  for (i = 0; i < prog_len; i++)
    {
      const struct sock_filter *f = &prog[i];

      if (f->code == (BPF_JMP | BPF_JA))
        ck_assert_uint_lt (i + 1 + f->k, prog_len);
      else if (BPF_CLASS (f->code) == BPF_JMP)
        {
          ck_assert_uint_lt (i + 1 + f->jt, prog_len);
          ck_assert_uint_lt (i + 1 + f->jf, prog_len);
        }
    }
  ck_assert_uint_eq (BPF_CLASS (prog[prog_len - 1].code), BPF_RET);

#ifdef NATIVE
  /* A binary search, not a chain: every syscall is decided in a handful of
     instructions. */
  for (i = 0; i < 1024; i++)
    {
      (void) run_bpf (NATIVE, (uint32_t) i, NULL, &steps);
      if (steps > worst)
        worst = steps;
    }
  ck_assert_uint_le (worst, 20);
#endif
  (void) steps;
  (void) worst;
}
END_TEST

START_TEST (test_tables)
{
  size_t i;

  ck_assert_uint_gt (seccomp_table_native_len, 250);
#if defined __x86_64__ && ! defined __ILP32__
  ck_assert_uint_gt (seccomp_table_i386_len, 250);
  ck_assert_uint_gt (seccomp_table_x32_len, 250);
  for (i = 0; i < seccomp_table_x32_len; i++)
    ck_assert_msg (seccomp_table_x32[i].nr & X32_BIT, "x32 entry %zu lacks the x32 bit", i);
#else
  ck_assert_uint_eq (seccomp_table_i386_len, 0);
  ck_assert_uint_eq (seccomp_table_x32_len, 0);
#endif
  for (i = 0; i < seccomp_table_native_len; i++)
    ck_assert_uint_le (seccomp_table_native[i].rule, SECCOMP_RULE_ENOSYS);
}
END_TEST

#ifdef NATIVE
/* The verdicts Docker's profile gives, by native syscall number. */
START_TEST (test_native_verdicts)
{
  static const long allowed[] = {
    SYS_read, SYS_write, SYS_openat, SYS_close, SYS_execve, SYS_execveat, SYS_exit_group,
    SYS_mmap, SYS_futex, SYS_getpid, SYS_capset, SYS_setresuid, SYS_setgroups, SYS_prctl,
    SYS_chroot, SYS_ptrace, SYS_process_vm_readv, SYS_seccomp, SYS_close_range,
    SYS_pidfd_open, SYS_openat2, SYS_faccessat2, SYS_rseq, SYS_landlock_create_ruleset,
    SYS_mlock, SYS_sched_setaffinity, SYS_wait4,
# ifdef SYS_arch_prctl
    SYS_arch_prctl, SYS_modify_ldt, SYS_open, SYS_stat, SYS_fork, SYS_vfork,
# endif
    NR_MSEAL, NR_REMOVEXATTRAT,
  };
  static const long denied[] = {
    SYS_keyctl, SYS_add_key, SYS_request_key, SYS_mount, SYS_umount2, SYS_unshare, SYS_setns,
    SYS_pivot_root, SYS_sethostname, SYS_setdomainname, SYS_reboot, SYS_swapon, SYS_swapoff,
    SYS_kexec_load, SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_bpf,
    SYS_perf_event_open, SYS_userfaultfd, SYS_open_by_handle_at, SYS_acct, SYS_settimeofday,
    SYS_clock_settime, SYS_syslog, SYS_kcmp, SYS_pidfd_getfd, SYS_process_madvise,
    SYS_fsopen, SYS_fsmount, SYS_move_mount, SYS_open_tree, SYS_mount_setattr, SYS_quotactl,
    SYS_vhangup, SYS_mbind, SYS_set_mempolicy, SYS_get_mempolicy, SYS_io_uring_setup,
    SYS_io_uring_enter, SYS_io_uring_register, SYS_fanotify_init, SYS_lookup_dcookie,
# ifdef SYS_iopl
    SYS_iopl, SYS_ioperm, SYS_uselib, SYS_sysfs, SYS__sysctl,
# endif
    NR_LSM_GET_SELF_ATTR,
  };
  size_t i;

  for (i = 0; i < sizeof (allowed) / sizeof (allowed[0]); i++)
    ck_assert_msg (verdict (NATIVE, (uint32_t) allowed[i]) == R_ALLOW, "syscall %ld not allowed",
                   allowed[i]);
  for (i = 0; i < sizeof (denied) / sizeof (denied[0]); i++)
    ck_assert_msg (verdict (NATIVE, (uint32_t) denied[i]) == R_EPERM, "syscall %ld not EPERM",
                   denied[i]);

  /* clone3: ENOSYS, so libc falls back to clone. */
  ck_assert_uint_eq (verdict (NATIVE, NR_CLONE3), R_ENOSYS);
  /* Above the profile's last syscall: ENOSYS (runc's rule); -1 too. */
  ck_assert_uint_eq (verdict (NATIVE, NR_REMOVEXATTRAT + 1), R_ENOSYS);
  ck_assert_uint_eq (verdict (NATIVE, 1000), R_ENOSYS);
  ck_assert_uint_eq (verdict (NATIVE, 0xffffffffU), R_ENOSYS);
  /* Any other architecture is killed. */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_PPC64LE, SYS_read), R_KILL);
  ck_assert_uint_eq (verdict (0, SYS_read), R_KILL);
}
END_TEST

START_TEST (test_argument_rules)
{
  static const uint64_t ns_flags[] = { CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                                       CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP };
  size_t i;

  /* clone: fork- and thread-style flags pass, any namespace flag does not. */
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_clone, SIGCHLD), R_ALLOW);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_clone,
                               CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD
                                   | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID
                                   | CLONE_CHILD_CLEARTID),
                     R_ALLOW);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_clone, CLONE_VFORK | CLONE_VM | SIGCHLD), R_ALLOW);
  for (i = 0; i < sizeof (ns_flags) / sizeof (ns_flags[0]); i++)
    ck_assert_msg (verdict1 (NATIVE, SYS_clone, ns_flags[i] | SIGCHLD) == R_EPERM,
                   "clone with %#llx allowed", (unsigned long long) ns_flags[i]);

  /* personality: Docker's five values only (0xffffffff queries). */
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_personality, 0), R_ALLOW);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_personality, PER_LINUX32), R_ALLOW);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_personality, UNAME26), R_ALLOW);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_personality, UNAME26 | PER_LINUX32), R_ALLOW);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_personality, 0xffffffffU), R_ALLOW);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_personality, 0x1234), R_EPERM);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_personality, ADDR_NO_RANDOMIZE), R_EPERM);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_personality, PER_LINUX32 | ADDR_NO_RANDOMIZE), R_EPERM);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_personality, READ_IMPLIES_EXEC), R_EPERM);

  /* socket: everything but AF_VSOCK, whatever the (ignored) upper half says. */
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_socket, AF_INET), R_ALLOW);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_socket, AF_UNIX), R_ALLOW);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_socket, AF_NETLINK), R_ALLOW);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_socket, AF_VSOCK), R_EPERM);
  ck_assert_uint_eq (verdict1 (NATIVE, SYS_socket, (1ULL << 32) | AF_VSOCK), R_EPERM);
}
END_TEST
#endif

#if defined __x86_64__ && ! defined __ILP32__
/* The 32-bit ABIs Docker also allows on x86_64 (its SubArches). */
START_TEST (test_compat_abis)
{
  /* i386 numbers (arch/x86/entry/syscalls/syscall_32.tbl). */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, 3), R_ALLOW);    /* read */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, 20), R_ALLOW);   /* getpid */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, 11), R_ALLOW);   /* execve */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, 102), R_ALLOW);  /* socketcall */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, 243), R_ALLOW);  /* set_thread_area */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, 123), R_ALLOW);  /* modify_ldt */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, 384), R_EPERM);  /* arch_prctl: amd64/x32 only */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, 288), R_EPERM);  /* keyctl */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, 21), R_EPERM);   /* mount */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, 310), R_EPERM);  /* unshare */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, NR_CLONE3), R_ENOSYS);
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, NR_MSEAL), R_ALLOW);
  ck_assert_uint_eq (verdict (AUDIT_ARCH_I386, 1000), R_ENOSYS);
  ck_assert_uint_eq (verdict1 (AUDIT_ARCH_I386, 120, SIGCHLD), R_ALLOW);               /* clone */
  ck_assert_uint_eq (verdict1 (AUDIT_ARCH_I386, 120, CLONE_NEWUSER | SIGCHLD), R_EPERM);
  ck_assert_uint_eq (verdict1 (AUDIT_ARCH_I386, 359, AF_INET), R_ALLOW);  /* socket */
  ck_assert_uint_eq (verdict1 (AUDIT_ARCH_I386, 359, AF_VSOCK), R_EPERM);
  ck_assert_uint_eq (verdict1 (AUDIT_ARCH_I386, 136, 0x1234), R_EPERM);   /* personality */
  ck_assert_uint_eq (verdict1 (AUDIT_ARCH_I386, 136, PER_LINUX32), R_ALLOW);

  /* x32: x86_64 arch, numbers with bit 30 set; some calls have their own
     numbers (512+). */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_X86_64, X32_BIT | 0), R_ALLOW);    /* read */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_X86_64, X32_BIT | 39), R_ALLOW);   /* getpid */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_X86_64, X32_BIT | 158), R_ALLOW);  /* arch_prctl */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_X86_64, X32_BIT | 512), R_ALLOW);  /* rt_sigaction */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_X86_64, X32_BIT | 520), R_ALLOW);  /* execve */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_X86_64, X32_BIT | 250), R_EPERM);  /* keyctl */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_X86_64, X32_BIT | 165), R_EPERM);  /* mount */
  ck_assert_uint_eq (verdict (AUDIT_ARCH_X86_64, X32_BIT | NR_CLONE3), R_ENOSYS);
  ck_assert_uint_eq (verdict1 (AUDIT_ARCH_X86_64, X32_BIT | 41, AF_VSOCK), R_EPERM);
  ck_assert_uint_eq (verdict1 (AUDIT_ARCH_X86_64, X32_BIT | 56, CLONE_NEWNET), R_EPERM);
  ck_assert_uint_eq (verdict1 (AUDIT_ARCH_X86_64, X32_BIT | 56, SIGCHLD), R_ALLOW);
}
END_TEST
#endif

/* ---------------------------------------------------------------- in the kernel */

/* A child reports the first failed expectation on FAILFD and exits 1. */
static int failfd = -1;

__attribute__ ((format (printf, 2, 3))) static void
child_check (bool ok, const char *fmt, ...)
{
  char buf[512];
  va_list ap;
  int n;

  if (ok)
    return;
  va_start (ap, fmt);
  n = vsnprintf (buf, sizeof (buf), fmt, ap);
  va_end (ap);
  if (n > 0)
    (void) ! write (failfd, buf, (size_t) n < sizeof (buf) ? (size_t) n : sizeof (buf) - 1);
  _exit (1);
}

#define EXPECT_ERRNO(e, ...)                                                                   \
  do                                                                                           \
    {                                                                                          \
      long r_ = syscall (__VA_ARGS__);                                                         \
      int e_ = errno;                                                                          \
      child_check (r_ == -1 && e_ == (e), "line %d: syscall (%s) returned %ld (%s), want %s", \
                   __LINE__, #__VA_ARGS__, r_, r_ == -1 ? strerror (e_) : "success", #e);      \
    }                                                                                          \
  while (0)

/* Run FN in a forked child, filtered when FILTERED; fail with its report. */
static void
in_child (void (*fn) (void), bool filtered)
{
  char msg[512];
  int fds[2], wstatus;
  ssize_t n;
  pid_t pid;

  ck_assert_int_eq (pipe2 (fds, O_CLOEXEC), 0);
  pid = fork ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      mini_error_t err = NULL;

      close (fds[0]);
      failfd = fds[1];
      if (filtered)
        {
          child_check (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "no_new_privs: %s",
                       strerror (errno));
          if (seccomp_profile_apply (&err) < 0)
            child_check (false, "seccomp_profile_apply: %s", err->msg);
        }
      fn ();
      _exit (0);
    }
  close (fds[1]);
  n = read (fds[0], msg, sizeof (msg) - 1);
  close (fds[0]);
  msg[n > 0 ? n : 0] = '\0';
  ck_assert_int_eq (waitpid (pid, &wstatus, 0), pid);
  ck_assert_msg (WIFEXITED (wstatus) && WEXITSTATUS (wstatus) == 0, "child: status %#x: %s",
                 wstatus, msg);
}

/* Value of "Seccomp:" in /proc/self/status, -1 when missing. */
static int
seccomp_mode (void)
{
  cleanup_file FILE *f = fopen ("/proc/self/status", "re");
  char line[256];
  int mode = -1;

  while (f && fgets (line, sizeof (line), f))
    if (sscanf (line, "Seccomp: %d", &mode) == 1)
      break;
  return mode;
}

static void *
thread_fn (void *arg)
{
  return arg;
}

static void
probes_filtered (void)
{
  char *const argv[] = { "true", NULL };
  char *const envp[] = { NULL };
  pthread_t th;
  void *ret = NULL;
  pid_t pid, spawned;
  int fd, ws;

  child_check (seccomp_mode () == 2, "Seccomp: %d, want 2", seccomp_mode ());
  child_check (getpid () > 0, "getpid");

  /* Denied: EPERM. */
  EXPECT_ERRNO (EPERM, SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
  EXPECT_ERRNO (EPERM, SYS_add_key, "user", "mini-test", "x", 1, -2 /* process keyring */);
  EXPECT_ERRNO (EPERM, SYS_unshare, CLONE_NEWUSER);
  EXPECT_ERRNO (EPERM, SYS_unshare, CLONE_NEWNS);
  EXPECT_ERRNO (EPERM, SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  EXPECT_ERRNO (EPERM, SYS_mount, NULL, NULL, NULL, 0, NULL);
  EXPECT_ERRNO (EPERM, SYS_personality, 0x1234);
  EXPECT_ERRNO (EPERM, SYS_socket, AF_VSOCK, SOCK_STREAM, 0);
  EXPECT_ERRNO (EPERM, SYS_socket, (1UL << 32) | AF_VSOCK, SOCK_STREAM, 0);
  EXPECT_ERRNO (EPERM, SYS_io_uring_setup, 1, NULL);
  /* clone3: ENOSYS, not EPERM, so libc falls back to clone. */
  EXPECT_ERRNO (ENOSYS, NR_CLONE3, NULL, 0);
#if defined __x86_64__ || defined __aarch64__
  EXPECT_ERRNO (EPERM, NR_LSM_GET_SELF_ATTR, 0, NULL, NULL, 0);
  EXPECT_ERRNO (ENOSYS, NR_REMOVEXATTRAT + 1);
#endif
  EXPECT_ERRNO (ENOSYS, 1000);

  /* Allowed. */
  child_check (syscall (SYS_personality, 0xffffffffUL) >= 0, "personality query: %s",
               strerror (errno));
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  child_check (fd >= 0, "socket AF_UNIX: %s", strerror (errno));
  close (fd);
  pid = fork ();
  child_check (pid >= 0, "fork: %s", strerror (errno));
  if (pid == 0)
    _exit (7);
  child_check (waitpid (pid, &ws, 0) == pid && WIFEXITED (ws) && WEXITSTATUS (ws) == 7,
               "fork child status %#x", ws);
  /* glibc tries clone3 first for threads and posix_spawn; ENOSYS makes it
     use clone, whose flags pass. */
  child_check (pthread_create (&th, NULL, thread_fn, (void *) 0x2a) == 0, "pthread_create");
  child_check (pthread_join (th, &ret) == 0 && ret == (void *) 0x2a, "pthread_join");
  child_check (posix_spawnp (&spawned, "true", NULL, NULL, argv, envp) == 0, "posix_spawnp: %s",
               strerror (errno));
  child_check (waitpid (spawned, &ws, 0) == spawned && WIFEXITED (ws) && WEXITSTATUS (ws) == 0,
               "spawned true: status %#x", ws);

#if defined __x86_64__ && ! defined __ILP32__
  {
    long r;

    /* i386 ABI through int $0x80: getpid allowed, keyctl and unshare not. */
    __asm__ volatile ("int $0x80" : "=a"(r) : "a"(20L) : "memory");
    child_check (r == getpid (), "i386 getpid: %ld", r);
    __asm__ volatile ("int $0x80" : "=a"(r) : "a"(288L), "b"(0L), "c"(-3L) : "memory");
    child_check (r == -EPERM, "i386 keyctl: %ld", r);
    __asm__ volatile ("int $0x80" : "=a"(r) : "a"(310L), "b"((long) CLONE_NEWUSER) : "memory");
    child_check (r == -EPERM, "i386 unshare: %ld", r);

    /* x32: getpid passes the filter (then ENOSYS when the kernel has no
       x32), keyctl does not. */
    r = syscall (X32_BIT | SYS_getpid);
    child_check (r == getpid () || (r == -1 && errno == ENOSYS), "x32 getpid: %ld errno %d", r,
                 errno);
    EXPECT_ERRNO (EPERM, X32_BIT | SYS_keyctl, 0, -3, 0);
  }
#endif
}

START_TEST (test_kernel_filtered)
{
  in_child (probes_filtered, true);
}
END_TEST

/* The same probes without the filter give other answers, so the test above
   shows the filter at work and not the kernel's own checks. */
static void
probes_unfiltered (void)
{
  long r;

  child_check (seccomp_mode () == 0, "Seccomp: %d, want 0", seccomp_mode ());
  r = syscall (NR_CLONE3, NULL, 0);
  child_check (r == -1 && errno != ENOSYS && errno != EPERM, "clone3: %ld errno %d", r, errno);
  r = syscall (SYS_personality, 0x1234);
  child_check (r >= 0, "personality 0x1234: %ld errno %d", r, errno);
  r = syscall (SYS_io_uring_setup, 1, NULL);
  child_check (r == -1 && errno != EPERM, "io_uring_setup: %ld errno %d", r, errno);
#if defined __x86_64__ && ! defined __ILP32__
  __asm__ volatile ("int $0x80" : "=a"(r) : "a"(20L) : "memory");
  child_check (r == getpid (), "i386 getpid: %ld", r);
#endif
}

START_TEST (test_kernel_unfiltered)
{
  in_child (probes_unfiltered, false);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("run_seccomp");
  TCase *tc;

  tc = tcase_create ("program");
  tcase_add_checked_fixture (tc, build, unbuild);
  tcase_set_timeout (tc, 20);
  tcase_add_test (tc, test_program_shape);
  tcase_add_test (tc, test_tables);
#ifdef NATIVE
  tcase_add_test (tc, test_native_verdicts);
  tcase_add_test (tc, test_argument_rules);
#endif
#if defined __x86_64__ && ! defined __ILP32__
  tcase_add_test (tc, test_compat_abis);
#endif
  suite_add_tcase (s, tc);

  tc = tcase_create ("kernel");
  tcase_set_timeout (tc, 20);
  tcase_add_test (tc, test_kernel_filtered);
  tcase_add_test (tc, test_kernel_unfiltered);
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
