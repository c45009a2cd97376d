/* mini - run: Docker's default seccomp profile as a list of syscall names
 * (moby profiles/seccomp/default.json, as of moby 28: io_uring_* removed,
 * syscalls up to Linux 6.13 added), with the rules that apply to mini's
 * capability set.
 *
 * Included by seccomp-table.c once per ABI, right after that ABI's
 * <asm/unistd*.h>; the includer defines SECCOMP_ENTRY (NR, RULE).  Every
 * entry is guarded by #ifdef so that only the syscalls the ABI has get in,
 * and the file compiles on every architecture.
 *
 * Rules (enum seccomp_rule in run-private.h):
 *   ALLOW        allowed whatever the arguments
 *   SOCKET       allowed unless arg 0 (family) is AF_VSOCK
 *   PERSONALITY  allowed for arg 0 in {0x0, 0x8, 0x20000, 0x20008, 0xffffffff}
 *   CLONE        allowed unless the flags ask for a new namespace
 *                (CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP)
 *   ENOSYS       fails with ENOSYS (clone3: its flags are behind a pointer the
 *                filter cannot read, so libc falls back to clone)
 * Everything else fails with EPERM (syscalls numbered above the last one
 * named here fail with ENOSYS, see seccomp.c).
 *
 * Rules moby makes conditional and how they resolve for mini's 14
 * capabilities: CAP_SYS_CHROOT (granted): chroot allowed.  minKernel 4.8:
 * ptrace, process_vm_readv, process_vm_writev allowed.  CAP_SYS_ADMIN,
 * CAP_SYS_BOOT, CAP_SYS_MODULE, CAP_SYS_PACCT, CAP_SYS_PTRACE, CAP_SYS_RAWIO,
 * CAP_SYS_TIME, CAP_SYS_TTY_CONFIG, CAP_SYS_NICE, CAP_SYSLOG, CAP_BPF,
 * CAP_PERFMON, CAP_DAC_READ_SEARCH (not granted): their syscalls (mount,
 * umount2, unshare, setns, sethostname, bpf, perf_event_open, reboot,
 * init_module, acct, kcmp, iopl, settimeofday, vhangup, mbind, syslog,
 * open_by_handle_at, lsm_*, ...) stay denied.  Never allowed: keyctl,
 * add_key, request_key, kexec_load, swapon, swapoff, userfaultfd,
 * io_uring_*, ...
 */

/* Syscalls newer than the oldest kernel headers mini builds against (Debian
   12 ships Linux 6.1's).  Since Linux 5.1 a new syscall gets the same
   number on every architecture (alpha, ia64 and the MIPS ABIs excepted), so
   the includer defines SECCOMP_NEW_BASE (0, or __X32_SYSCALL_BIT for x32) only
   for the ABIs where that holds. */
#ifdef SECCOMP_NEW_BASE
# ifndef __NR_cachestat
#  define __NR_cachestat (SECCOMP_NEW_BASE + 451)
# endif
# ifndef __NR_fchmodat2
#  define __NR_fchmodat2 (SECCOMP_NEW_BASE + 452)
# endif
# ifndef __NR_map_shadow_stack
#  define __NR_map_shadow_stack (SECCOMP_NEW_BASE + 453)
# endif
# ifndef __NR_futex_wake
#  define __NR_futex_wake (SECCOMP_NEW_BASE + 454)
# endif
# ifndef __NR_futex_wait
#  define __NR_futex_wait (SECCOMP_NEW_BASE + 455)
# endif
# ifndef __NR_futex_requeue
#  define __NR_futex_requeue (SECCOMP_NEW_BASE + 456)
# endif
# ifndef __NR_statmount
#  define __NR_statmount (SECCOMP_NEW_BASE + 457)
# endif
# ifndef __NR_listmount
#  define __NR_listmount (SECCOMP_NEW_BASE + 458)
# endif
# ifndef __NR_mseal
#  define __NR_mseal (SECCOMP_NEW_BASE + 462)
# endif
# ifndef __NR_setxattrat
#  define __NR_setxattrat (SECCOMP_NEW_BASE + 463)
# endif
# ifndef __NR_getxattrat
#  define __NR_getxattrat (SECCOMP_NEW_BASE + 464)
# endif
# ifndef __NR_listxattrat
#  define __NR_listxattrat (SECCOMP_NEW_BASE + 465)
# endif
# ifndef __NR_removexattrat
#  define __NR_removexattrat (SECCOMP_NEW_BASE + 466)
# endif
#endif
/* uretprobe (Linux 6.11) exists on x86_64 (and x32) only. */
#if !defined __NR_uretprobe && defined SECCOMP_NEW_BASE && defined SECCOMP_ABI_X86_64_OR_X32
# define __NR_uretprobe (SECCOMP_NEW_BASE + 335)
#endif

/* The unconditional allow list. */
#ifdef __NR_accept
SECCOMP_ENTRY (__NR_accept, ALLOW)
#endif
#ifdef __NR_accept4
SECCOMP_ENTRY (__NR_accept4, ALLOW)
#endif
#ifdef __NR_access
SECCOMP_ENTRY (__NR_access, ALLOW)
#endif
#ifdef __NR_adjtimex
SECCOMP_ENTRY (__NR_adjtimex, ALLOW)
#endif
#ifdef __NR_alarm
SECCOMP_ENTRY (__NR_alarm, ALLOW)
#endif
#ifdef __NR_bind
SECCOMP_ENTRY (__NR_bind, ALLOW)
#endif
#ifdef __NR_brk
SECCOMP_ENTRY (__NR_brk, ALLOW)
#endif
#ifdef __NR_capget
SECCOMP_ENTRY (__NR_capget, ALLOW)
#endif
#ifdef __NR_capset
SECCOMP_ENTRY (__NR_capset, ALLOW)
#endif
#ifdef __NR_chdir
SECCOMP_ENTRY (__NR_chdir, ALLOW)
#endif
#ifdef __NR_chmod
SECCOMP_ENTRY (__NR_chmod, ALLOW)
#endif
#ifdef __NR_chown
SECCOMP_ENTRY (__NR_chown, ALLOW)
#endif
#ifdef __NR_chown32
SECCOMP_ENTRY (__NR_chown32, ALLOW)
#endif
#ifdef __NR_clock_adjtime
SECCOMP_ENTRY (__NR_clock_adjtime, ALLOW)
#endif
#ifdef __NR_clock_adjtime64
SECCOMP_ENTRY (__NR_clock_adjtime64, ALLOW)
#endif
#ifdef __NR_clock_getres
SECCOMP_ENTRY (__NR_clock_getres, ALLOW)
#endif
#ifdef __NR_clock_getres_time64
SECCOMP_ENTRY (__NR_clock_getres_time64, ALLOW)
#endif
#ifdef __NR_clock_gettime
SECCOMP_ENTRY (__NR_clock_gettime, ALLOW)
#endif
#ifdef __NR_clock_gettime64
SECCOMP_ENTRY (__NR_clock_gettime64, ALLOW)
#endif
#ifdef __NR_clock_nanosleep
SECCOMP_ENTRY (__NR_clock_nanosleep, ALLOW)
#endif
#ifdef __NR_clock_nanosleep_time64
SECCOMP_ENTRY (__NR_clock_nanosleep_time64, ALLOW)
#endif
#ifdef __NR_close
SECCOMP_ENTRY (__NR_close, ALLOW)
#endif
#ifdef __NR_close_range
SECCOMP_ENTRY (__NR_close_range, ALLOW)
#endif
#ifdef __NR_connect
SECCOMP_ENTRY (__NR_connect, ALLOW)
#endif
#ifdef __NR_copy_file_range
SECCOMP_ENTRY (__NR_copy_file_range, ALLOW)
#endif
#ifdef __NR_creat
SECCOMP_ENTRY (__NR_creat, ALLOW)
#endif
#ifdef __NR_dup
SECCOMP_ENTRY (__NR_dup, ALLOW)
#endif
#ifdef __NR_dup2
SECCOMP_ENTRY (__NR_dup2, ALLOW)
#endif
#ifdef __NR_dup3
SECCOMP_ENTRY (__NR_dup3, ALLOW)
#endif
#ifdef __NR_epoll_create
SECCOMP_ENTRY (__NR_epoll_create, ALLOW)
#endif
#ifdef __NR_epoll_create1
SECCOMP_ENTRY (__NR_epoll_create1, ALLOW)
#endif
#ifdef __NR_epoll_ctl
SECCOMP_ENTRY (__NR_epoll_ctl, ALLOW)
#endif
#ifdef __NR_epoll_ctl_old
SECCOMP_ENTRY (__NR_epoll_ctl_old, ALLOW)
#endif
#ifdef __NR_epoll_pwait
SECCOMP_ENTRY (__NR_epoll_pwait, ALLOW)
#endif
#ifdef __NR_epoll_pwait2
SECCOMP_ENTRY (__NR_epoll_pwait2, ALLOW)
#endif
#ifdef __NR_epoll_wait
SECCOMP_ENTRY (__NR_epoll_wait, ALLOW)
#endif
#ifdef __NR_epoll_wait_old
SECCOMP_ENTRY (__NR_epoll_wait_old, ALLOW)
#endif
#ifdef __NR_eventfd
SECCOMP_ENTRY (__NR_eventfd, ALLOW)
#endif
#ifdef __NR_eventfd2
SECCOMP_ENTRY (__NR_eventfd2, ALLOW)
#endif
#ifdef __NR_execve
SECCOMP_ENTRY (__NR_execve, ALLOW)
#endif
#ifdef __NR_execveat
SECCOMP_ENTRY (__NR_execveat, ALLOW)
#endif
#ifdef __NR_exit
SECCOMP_ENTRY (__NR_exit, ALLOW)
#endif
#ifdef __NR_exit_group
SECCOMP_ENTRY (__NR_exit_group, ALLOW)
#endif
#ifdef __NR_faccessat
SECCOMP_ENTRY (__NR_faccessat, ALLOW)
#endif
#ifdef __NR_faccessat2
SECCOMP_ENTRY (__NR_faccessat2, ALLOW)
#endif
#ifdef __NR_fadvise64
SECCOMP_ENTRY (__NR_fadvise64, ALLOW)
#endif
#ifdef __NR_fadvise64_64
SECCOMP_ENTRY (__NR_fadvise64_64, ALLOW)
#endif
#ifdef __NR_fallocate
SECCOMP_ENTRY (__NR_fallocate, ALLOW)
#endif
#ifdef __NR_fanotify_mark
SECCOMP_ENTRY (__NR_fanotify_mark, ALLOW)
#endif
#ifdef __NR_fchdir
SECCOMP_ENTRY (__NR_fchdir, ALLOW)
#endif
#ifdef __NR_fchmod
SECCOMP_ENTRY (__NR_fchmod, ALLOW)
#endif
#ifdef __NR_fchmodat
SECCOMP_ENTRY (__NR_fchmodat, ALLOW)
#endif
#ifdef __NR_fchown
SECCOMP_ENTRY (__NR_fchown, ALLOW)
#endif
#ifdef __NR_fchown32
SECCOMP_ENTRY (__NR_fchown32, ALLOW)
#endif
#ifdef __NR_fchownat
SECCOMP_ENTRY (__NR_fchownat, ALLOW)
#endif
#ifdef __NR_fcntl
SECCOMP_ENTRY (__NR_fcntl, ALLOW)
#endif
#ifdef __NR_fcntl64
SECCOMP_ENTRY (__NR_fcntl64, ALLOW)
#endif
#ifdef __NR_fdatasync
SECCOMP_ENTRY (__NR_fdatasync, ALLOW)
#endif
#ifdef __NR_fgetxattr
SECCOMP_ENTRY (__NR_fgetxattr, ALLOW)
#endif
#ifdef __NR_flistxattr
SECCOMP_ENTRY (__NR_flistxattr, ALLOW)
#endif
#ifdef __NR_flock
SECCOMP_ENTRY (__NR_flock, ALLOW)
#endif
#ifdef __NR_fork
SECCOMP_ENTRY (__NR_fork, ALLOW)
#endif
#ifdef __NR_fremovexattr
SECCOMP_ENTRY (__NR_fremovexattr, ALLOW)
#endif
#ifdef __NR_fsetxattr
SECCOMP_ENTRY (__NR_fsetxattr, ALLOW)
#endif
#ifdef __NR_fstat
SECCOMP_ENTRY (__NR_fstat, ALLOW)
#endif
#ifdef __NR_fstat64
SECCOMP_ENTRY (__NR_fstat64, ALLOW)
#endif
#ifdef __NR_fstatat64
SECCOMP_ENTRY (__NR_fstatat64, ALLOW)
#endif
#ifdef __NR_fstatfs
SECCOMP_ENTRY (__NR_fstatfs, ALLOW)
#endif
#ifdef __NR_fstatfs64
SECCOMP_ENTRY (__NR_fstatfs64, ALLOW)
#endif
#ifdef __NR_fsync
SECCOMP_ENTRY (__NR_fsync, ALLOW)
#endif
#ifdef __NR_ftruncate
SECCOMP_ENTRY (__NR_ftruncate, ALLOW)
#endif
#ifdef __NR_ftruncate64
SECCOMP_ENTRY (__NR_ftruncate64, ALLOW)
#endif
#ifdef __NR_futex
SECCOMP_ENTRY (__NR_futex, ALLOW)
#endif
#ifdef __NR_futex_time64
SECCOMP_ENTRY (__NR_futex_time64, ALLOW)
#endif
#ifdef __NR_futex_waitv
SECCOMP_ENTRY (__NR_futex_waitv, ALLOW)
#endif
#ifdef __NR_futimesat
SECCOMP_ENTRY (__NR_futimesat, ALLOW)
#endif
#ifdef __NR_getcpu
SECCOMP_ENTRY (__NR_getcpu, ALLOW)
#endif
#ifdef __NR_getcwd
SECCOMP_ENTRY (__NR_getcwd, ALLOW)
#endif
#ifdef __NR_getdents
SECCOMP_ENTRY (__NR_getdents, ALLOW)
#endif
#ifdef __NR_getdents64
SECCOMP_ENTRY (__NR_getdents64, ALLOW)
#endif
#ifdef __NR_getegid
SECCOMP_ENTRY (__NR_getegid, ALLOW)
#endif
#ifdef __NR_getegid32
SECCOMP_ENTRY (__NR_getegid32, ALLOW)
#endif
#ifdef __NR_geteuid
SECCOMP_ENTRY (__NR_geteuid, ALLOW)
#endif
#ifdef __NR_geteuid32
SECCOMP_ENTRY (__NR_geteuid32, ALLOW)
#endif
#ifdef __NR_getgid
SECCOMP_ENTRY (__NR_getgid, ALLOW)
#endif
#ifdef __NR_getgid32
SECCOMP_ENTRY (__NR_getgid32, ALLOW)
#endif
#ifdef __NR_getgroups
SECCOMP_ENTRY (__NR_getgroups, ALLOW)
#endif
#ifdef __NR_getgroups32
SECCOMP_ENTRY (__NR_getgroups32, ALLOW)
#endif
#ifdef __NR_getitimer
SECCOMP_ENTRY (__NR_getitimer, ALLOW)
#endif
#ifdef __NR_getpeername
SECCOMP_ENTRY (__NR_getpeername, ALLOW)
#endif
#ifdef __NR_getpgid
SECCOMP_ENTRY (__NR_getpgid, ALLOW)
#endif
#ifdef __NR_getpgrp
SECCOMP_ENTRY (__NR_getpgrp, ALLOW)
#endif
#ifdef __NR_getpid
SECCOMP_ENTRY (__NR_getpid, ALLOW)
#endif
#ifdef __NR_getppid
SECCOMP_ENTRY (__NR_getppid, ALLOW)
#endif
#ifdef __NR_getpriority
SECCOMP_ENTRY (__NR_getpriority, ALLOW)
#endif
#ifdef __NR_getrandom
SECCOMP_ENTRY (__NR_getrandom, ALLOW)
#endif
#ifdef __NR_getresgid
SECCOMP_ENTRY (__NR_getresgid, ALLOW)
#endif
#ifdef __NR_getresgid32
SECCOMP_ENTRY (__NR_getresgid32, ALLOW)
#endif
#ifdef __NR_getresuid
SECCOMP_ENTRY (__NR_getresuid, ALLOW)
#endif
#ifdef __NR_getresuid32
SECCOMP_ENTRY (__NR_getresuid32, ALLOW)
#endif
#ifdef __NR_getrlimit
SECCOMP_ENTRY (__NR_getrlimit, ALLOW)
#endif
#ifdef __NR_get_robust_list
SECCOMP_ENTRY (__NR_get_robust_list, ALLOW)
#endif
#ifdef __NR_getrusage
SECCOMP_ENTRY (__NR_getrusage, ALLOW)
#endif
#ifdef __NR_getsid
SECCOMP_ENTRY (__NR_getsid, ALLOW)
#endif
#ifdef __NR_getsockname
SECCOMP_ENTRY (__NR_getsockname, ALLOW)
#endif
#ifdef __NR_getsockopt
SECCOMP_ENTRY (__NR_getsockopt, ALLOW)
#endif
#ifdef __NR_get_thread_area
SECCOMP_ENTRY (__NR_get_thread_area, ALLOW)
#endif
#ifdef __NR_gettid
SECCOMP_ENTRY (__NR_gettid, ALLOW)
#endif
#ifdef __NR_gettimeofday
SECCOMP_ENTRY (__NR_gettimeofday, ALLOW)
#endif
#ifdef __NR_getuid
SECCOMP_ENTRY (__NR_getuid, ALLOW)
#endif
#ifdef __NR_getuid32
SECCOMP_ENTRY (__NR_getuid32, ALLOW)
#endif
#ifdef __NR_getxattr
SECCOMP_ENTRY (__NR_getxattr, ALLOW)
#endif
#ifdef __NR_inotify_add_watch
SECCOMP_ENTRY (__NR_inotify_add_watch, ALLOW)
#endif
#ifdef __NR_inotify_init
SECCOMP_ENTRY (__NR_inotify_init, ALLOW)
#endif
#ifdef __NR_inotify_init1
SECCOMP_ENTRY (__NR_inotify_init1, ALLOW)
#endif
#ifdef __NR_inotify_rm_watch
SECCOMP_ENTRY (__NR_inotify_rm_watch, ALLOW)
#endif
#ifdef __NR_io_cancel
SECCOMP_ENTRY (__NR_io_cancel, ALLOW)
#endif
#ifdef __NR_ioctl
SECCOMP_ENTRY (__NR_ioctl, ALLOW)
#endif
#ifdef __NR_io_destroy
SECCOMP_ENTRY (__NR_io_destroy, ALLOW)
#endif
#ifdef __NR_io_getevents
SECCOMP_ENTRY (__NR_io_getevents, ALLOW)
#endif
#ifdef __NR_io_pgetevents
SECCOMP_ENTRY (__NR_io_pgetevents, ALLOW)
#endif
#ifdef __NR_io_pgetevents_time64
SECCOMP_ENTRY (__NR_io_pgetevents_time64, ALLOW)
#endif
#ifdef __NR_ioprio_get
SECCOMP_ENTRY (__NR_ioprio_get, ALLOW)
#endif
#ifdef __NR_ioprio_set
SECCOMP_ENTRY (__NR_ioprio_set, ALLOW)
#endif
#ifdef __NR_io_setup
SECCOMP_ENTRY (__NR_io_setup, ALLOW)
#endif
#ifdef __NR_io_submit
SECCOMP_ENTRY (__NR_io_submit, ALLOW)
#endif
#ifdef __NR_ipc
SECCOMP_ENTRY (__NR_ipc, ALLOW)
#endif
#ifdef __NR_kill
SECCOMP_ENTRY (__NR_kill, ALLOW)
#endif
#ifdef __NR_landlock_add_rule
SECCOMP_ENTRY (__NR_landlock_add_rule, ALLOW)
#endif
#ifdef __NR_landlock_create_ruleset
SECCOMP_ENTRY (__NR_landlock_create_ruleset, ALLOW)
#endif
#ifdef __NR_landlock_restrict_self
SECCOMP_ENTRY (__NR_landlock_restrict_self, ALLOW)
#endif
#ifdef __NR_lchown
SECCOMP_ENTRY (__NR_lchown, ALLOW)
#endif
#ifdef __NR_lchown32
SECCOMP_ENTRY (__NR_lchown32, ALLOW)
#endif
#ifdef __NR_lgetxattr
SECCOMP_ENTRY (__NR_lgetxattr, ALLOW)
#endif
#ifdef __NR_link
SECCOMP_ENTRY (__NR_link, ALLOW)
#endif
#ifdef __NR_linkat
SECCOMP_ENTRY (__NR_linkat, ALLOW)
#endif
#ifdef __NR_listen
SECCOMP_ENTRY (__NR_listen, ALLOW)
#endif
#ifdef __NR_listxattr
SECCOMP_ENTRY (__NR_listxattr, ALLOW)
#endif
#ifdef __NR_llistxattr
SECCOMP_ENTRY (__NR_llistxattr, ALLOW)
#endif
#ifdef __NR__llseek
SECCOMP_ENTRY (__NR__llseek, ALLOW)
#endif
#ifdef __NR_lremovexattr
SECCOMP_ENTRY (__NR_lremovexattr, ALLOW)
#endif
#ifdef __NR_lseek
SECCOMP_ENTRY (__NR_lseek, ALLOW)
#endif
#ifdef __NR_lsetxattr
SECCOMP_ENTRY (__NR_lsetxattr, ALLOW)
#endif
#ifdef __NR_lstat
SECCOMP_ENTRY (__NR_lstat, ALLOW)
#endif
#ifdef __NR_lstat64
SECCOMP_ENTRY (__NR_lstat64, ALLOW)
#endif
#ifdef __NR_madvise
SECCOMP_ENTRY (__NR_madvise, ALLOW)
#endif
#ifdef __NR_membarrier
SECCOMP_ENTRY (__NR_membarrier, ALLOW)
#endif
#ifdef __NR_memfd_create
SECCOMP_ENTRY (__NR_memfd_create, ALLOW)
#endif
#ifdef __NR_memfd_secret
SECCOMP_ENTRY (__NR_memfd_secret, ALLOW)
#endif
#ifdef __NR_mincore
SECCOMP_ENTRY (__NR_mincore, ALLOW)
#endif
#ifdef __NR_mkdir
SECCOMP_ENTRY (__NR_mkdir, ALLOW)
#endif
#ifdef __NR_mkdirat
SECCOMP_ENTRY (__NR_mkdirat, ALLOW)
#endif
#ifdef __NR_mknod
SECCOMP_ENTRY (__NR_mknod, ALLOW)
#endif
#ifdef __NR_mknodat
SECCOMP_ENTRY (__NR_mknodat, ALLOW)
#endif
#ifdef __NR_mlock
SECCOMP_ENTRY (__NR_mlock, ALLOW)
#endif
#ifdef __NR_mlock2
SECCOMP_ENTRY (__NR_mlock2, ALLOW)
#endif
#ifdef __NR_mlockall
SECCOMP_ENTRY (__NR_mlockall, ALLOW)
#endif
#ifdef __NR_mmap
SECCOMP_ENTRY (__NR_mmap, ALLOW)
#endif
#ifdef __NR_mmap2
SECCOMP_ENTRY (__NR_mmap2, ALLOW)
#endif
#ifdef __NR_mprotect
SECCOMP_ENTRY (__NR_mprotect, ALLOW)
#endif
#ifdef __NR_mq_getsetattr
SECCOMP_ENTRY (__NR_mq_getsetattr, ALLOW)
#endif
#ifdef __NR_mq_notify
SECCOMP_ENTRY (__NR_mq_notify, ALLOW)
#endif
#ifdef __NR_mq_open
SECCOMP_ENTRY (__NR_mq_open, ALLOW)
#endif
#ifdef __NR_mq_timedreceive
SECCOMP_ENTRY (__NR_mq_timedreceive, ALLOW)
#endif
#ifdef __NR_mq_timedreceive_time64
SECCOMP_ENTRY (__NR_mq_timedreceive_time64, ALLOW)
#endif
#ifdef __NR_mq_timedsend
SECCOMP_ENTRY (__NR_mq_timedsend, ALLOW)
#endif
#ifdef __NR_mq_timedsend_time64
SECCOMP_ENTRY (__NR_mq_timedsend_time64, ALLOW)
#endif
#ifdef __NR_mq_unlink
SECCOMP_ENTRY (__NR_mq_unlink, ALLOW)
#endif
#ifdef __NR_mremap
SECCOMP_ENTRY (__NR_mremap, ALLOW)
#endif
#ifdef __NR_msgctl
SECCOMP_ENTRY (__NR_msgctl, ALLOW)
#endif
#ifdef __NR_msgget
SECCOMP_ENTRY (__NR_msgget, ALLOW)
#endif
#ifdef __NR_msgrcv
SECCOMP_ENTRY (__NR_msgrcv, ALLOW)
#endif
#ifdef __NR_msgsnd
SECCOMP_ENTRY (__NR_msgsnd, ALLOW)
#endif
#ifdef __NR_msync
SECCOMP_ENTRY (__NR_msync, ALLOW)
#endif
#ifdef __NR_munlock
SECCOMP_ENTRY (__NR_munlock, ALLOW)
#endif
#ifdef __NR_munlockall
SECCOMP_ENTRY (__NR_munlockall, ALLOW)
#endif
#ifdef __NR_munmap
SECCOMP_ENTRY (__NR_munmap, ALLOW)
#endif
#ifdef __NR_name_to_handle_at
SECCOMP_ENTRY (__NR_name_to_handle_at, ALLOW)
#endif
#ifdef __NR_nanosleep
SECCOMP_ENTRY (__NR_nanosleep, ALLOW)
#endif
#ifdef __NR_newfstatat
SECCOMP_ENTRY (__NR_newfstatat, ALLOW)
#endif
#ifdef __NR__newselect
SECCOMP_ENTRY (__NR__newselect, ALLOW)
#endif
#ifdef __NR_open
SECCOMP_ENTRY (__NR_open, ALLOW)
#endif
#ifdef __NR_openat
SECCOMP_ENTRY (__NR_openat, ALLOW)
#endif
#ifdef __NR_openat2
SECCOMP_ENTRY (__NR_openat2, ALLOW)
#endif
#ifdef __NR_pause
SECCOMP_ENTRY (__NR_pause, ALLOW)
#endif
#ifdef __NR_pidfd_open
SECCOMP_ENTRY (__NR_pidfd_open, ALLOW)
#endif
#ifdef __NR_pidfd_send_signal
SECCOMP_ENTRY (__NR_pidfd_send_signal, ALLOW)
#endif
#ifdef __NR_pipe
SECCOMP_ENTRY (__NR_pipe, ALLOW)
#endif
#ifdef __NR_pipe2
SECCOMP_ENTRY (__NR_pipe2, ALLOW)
#endif
#ifdef __NR_pkey_alloc
SECCOMP_ENTRY (__NR_pkey_alloc, ALLOW)
#endif
#ifdef __NR_pkey_free
SECCOMP_ENTRY (__NR_pkey_free, ALLOW)
#endif
#ifdef __NR_pkey_mprotect
SECCOMP_ENTRY (__NR_pkey_mprotect, ALLOW)
#endif
#ifdef __NR_poll
SECCOMP_ENTRY (__NR_poll, ALLOW)
#endif
#ifdef __NR_ppoll
SECCOMP_ENTRY (__NR_ppoll, ALLOW)
#endif
#ifdef __NR_ppoll_time64
SECCOMP_ENTRY (__NR_ppoll_time64, ALLOW)
#endif
#ifdef __NR_prctl
SECCOMP_ENTRY (__NR_prctl, ALLOW)
#endif
#ifdef __NR_pread64
SECCOMP_ENTRY (__NR_pread64, ALLOW)
#endif
#ifdef __NR_preadv
SECCOMP_ENTRY (__NR_preadv, ALLOW)
#endif
#ifdef __NR_preadv2
SECCOMP_ENTRY (__NR_preadv2, ALLOW)
#endif
#ifdef __NR_prlimit64
SECCOMP_ENTRY (__NR_prlimit64, ALLOW)
#endif
#ifdef __NR_process_mrelease
SECCOMP_ENTRY (__NR_process_mrelease, ALLOW)
#endif
#ifdef __NR_pselect6
SECCOMP_ENTRY (__NR_pselect6, ALLOW)
#endif
#ifdef __NR_pselect6_time64
SECCOMP_ENTRY (__NR_pselect6_time64, ALLOW)
#endif
#ifdef __NR_pwrite64
SECCOMP_ENTRY (__NR_pwrite64, ALLOW)
#endif
#ifdef __NR_pwritev
SECCOMP_ENTRY (__NR_pwritev, ALLOW)
#endif
#ifdef __NR_pwritev2
SECCOMP_ENTRY (__NR_pwritev2, ALLOW)
#endif
#ifdef __NR_read
SECCOMP_ENTRY (__NR_read, ALLOW)
#endif
#ifdef __NR_readahead
SECCOMP_ENTRY (__NR_readahead, ALLOW)
#endif
#ifdef __NR_readlink
SECCOMP_ENTRY (__NR_readlink, ALLOW)
#endif
#ifdef __NR_readlinkat
SECCOMP_ENTRY (__NR_readlinkat, ALLOW)
#endif
#ifdef __NR_readv
SECCOMP_ENTRY (__NR_readv, ALLOW)
#endif
#ifdef __NR_recv
SECCOMP_ENTRY (__NR_recv, ALLOW)
#endif
#ifdef __NR_recvfrom
SECCOMP_ENTRY (__NR_recvfrom, ALLOW)
#endif
#ifdef __NR_recvmmsg
SECCOMP_ENTRY (__NR_recvmmsg, ALLOW)
#endif
#ifdef __NR_recvmmsg_time64
SECCOMP_ENTRY (__NR_recvmmsg_time64, ALLOW)
#endif
#ifdef __NR_recvmsg
SECCOMP_ENTRY (__NR_recvmsg, ALLOW)
#endif
#ifdef __NR_remap_file_pages
SECCOMP_ENTRY (__NR_remap_file_pages, ALLOW)
#endif
#ifdef __NR_removexattr
SECCOMP_ENTRY (__NR_removexattr, ALLOW)
#endif
#ifdef __NR_rename
SECCOMP_ENTRY (__NR_rename, ALLOW)
#endif
#ifdef __NR_renameat
SECCOMP_ENTRY (__NR_renameat, ALLOW)
#endif
#ifdef __NR_renameat2
SECCOMP_ENTRY (__NR_renameat2, ALLOW)
#endif
#ifdef __NR_restart_syscall
SECCOMP_ENTRY (__NR_restart_syscall, ALLOW)
#endif
#ifdef __NR_rmdir
SECCOMP_ENTRY (__NR_rmdir, ALLOW)
#endif
#ifdef __NR_rseq
SECCOMP_ENTRY (__NR_rseq, ALLOW)
#endif
#ifdef __NR_rt_sigaction
SECCOMP_ENTRY (__NR_rt_sigaction, ALLOW)
#endif
#ifdef __NR_rt_sigpending
SECCOMP_ENTRY (__NR_rt_sigpending, ALLOW)
#endif
#ifdef __NR_rt_sigprocmask
SECCOMP_ENTRY (__NR_rt_sigprocmask, ALLOW)
#endif
#ifdef __NR_rt_sigqueueinfo
SECCOMP_ENTRY (__NR_rt_sigqueueinfo, ALLOW)
#endif
#ifdef __NR_rt_sigreturn
SECCOMP_ENTRY (__NR_rt_sigreturn, ALLOW)
#endif
#ifdef __NR_rt_sigsuspend
SECCOMP_ENTRY (__NR_rt_sigsuspend, ALLOW)
#endif
#ifdef __NR_rt_sigtimedwait
SECCOMP_ENTRY (__NR_rt_sigtimedwait, ALLOW)
#endif
#ifdef __NR_rt_sigtimedwait_time64
SECCOMP_ENTRY (__NR_rt_sigtimedwait_time64, ALLOW)
#endif
#ifdef __NR_rt_tgsigqueueinfo
SECCOMP_ENTRY (__NR_rt_tgsigqueueinfo, ALLOW)
#endif
#ifdef __NR_sched_getaffinity
SECCOMP_ENTRY (__NR_sched_getaffinity, ALLOW)
#endif
#ifdef __NR_sched_getattr
SECCOMP_ENTRY (__NR_sched_getattr, ALLOW)
#endif
#ifdef __NR_sched_getparam
SECCOMP_ENTRY (__NR_sched_getparam, ALLOW)
#endif
#ifdef __NR_sched_get_priority_max
SECCOMP_ENTRY (__NR_sched_get_priority_max, ALLOW)
#endif
#ifdef __NR_sched_get_priority_min
SECCOMP_ENTRY (__NR_sched_get_priority_min, ALLOW)
#endif
#ifdef __NR_sched_getscheduler
SECCOMP_ENTRY (__NR_sched_getscheduler, ALLOW)
#endif
#ifdef __NR_sched_rr_get_interval
SECCOMP_ENTRY (__NR_sched_rr_get_interval, ALLOW)
#endif
#ifdef __NR_sched_rr_get_interval_time64
SECCOMP_ENTRY (__NR_sched_rr_get_interval_time64, ALLOW)
#endif
#ifdef __NR_sched_setaffinity
SECCOMP_ENTRY (__NR_sched_setaffinity, ALLOW)
#endif
#ifdef __NR_sched_setattr
SECCOMP_ENTRY (__NR_sched_setattr, ALLOW)
#endif
#ifdef __NR_sched_setparam
SECCOMP_ENTRY (__NR_sched_setparam, ALLOW)
#endif
#ifdef __NR_sched_setscheduler
SECCOMP_ENTRY (__NR_sched_setscheduler, ALLOW)
#endif
#ifdef __NR_sched_yield
SECCOMP_ENTRY (__NR_sched_yield, ALLOW)
#endif
#ifdef __NR_seccomp
SECCOMP_ENTRY (__NR_seccomp, ALLOW)
#endif
#ifdef __NR_select
SECCOMP_ENTRY (__NR_select, ALLOW)
#endif
#ifdef __NR_semctl
SECCOMP_ENTRY (__NR_semctl, ALLOW)
#endif
#ifdef __NR_semget
SECCOMP_ENTRY (__NR_semget, ALLOW)
#endif
#ifdef __NR_semop
SECCOMP_ENTRY (__NR_semop, ALLOW)
#endif
#ifdef __NR_semtimedop
SECCOMP_ENTRY (__NR_semtimedop, ALLOW)
#endif
#ifdef __NR_semtimedop_time64
SECCOMP_ENTRY (__NR_semtimedop_time64, ALLOW)
#endif
#ifdef __NR_send
SECCOMP_ENTRY (__NR_send, ALLOW)
#endif
#ifdef __NR_sendfile
SECCOMP_ENTRY (__NR_sendfile, ALLOW)
#endif
#ifdef __NR_sendfile64
SECCOMP_ENTRY (__NR_sendfile64, ALLOW)
#endif
#ifdef __NR_sendmmsg
SECCOMP_ENTRY (__NR_sendmmsg, ALLOW)
#endif
#ifdef __NR_sendmsg
SECCOMP_ENTRY (__NR_sendmsg, ALLOW)
#endif
#ifdef __NR_sendto
SECCOMP_ENTRY (__NR_sendto, ALLOW)
#endif
#ifdef __NR_setfsgid
SECCOMP_ENTRY (__NR_setfsgid, ALLOW)
#endif
#ifdef __NR_setfsgid32
SECCOMP_ENTRY (__NR_setfsgid32, ALLOW)
#endif
#ifdef __NR_setfsuid
SECCOMP_ENTRY (__NR_setfsuid, ALLOW)
#endif
#ifdef __NR_setfsuid32
SECCOMP_ENTRY (__NR_setfsuid32, ALLOW)
#endif
#ifdef __NR_setgid
SECCOMP_ENTRY (__NR_setgid, ALLOW)
#endif
#ifdef __NR_setgid32
SECCOMP_ENTRY (__NR_setgid32, ALLOW)
#endif
#ifdef __NR_setgroups
SECCOMP_ENTRY (__NR_setgroups, ALLOW)
#endif
#ifdef __NR_setgroups32
SECCOMP_ENTRY (__NR_setgroups32, ALLOW)
#endif
#ifdef __NR_setitimer
SECCOMP_ENTRY (__NR_setitimer, ALLOW)
#endif
#ifdef __NR_setpgid
SECCOMP_ENTRY (__NR_setpgid, ALLOW)
#endif
#ifdef __NR_setpriority
SECCOMP_ENTRY (__NR_setpriority, ALLOW)
#endif
#ifdef __NR_setregid
SECCOMP_ENTRY (__NR_setregid, ALLOW)
#endif
#ifdef __NR_setregid32
SECCOMP_ENTRY (__NR_setregid32, ALLOW)
#endif
#ifdef __NR_setresgid
SECCOMP_ENTRY (__NR_setresgid, ALLOW)
#endif
#ifdef __NR_setresgid32
SECCOMP_ENTRY (__NR_setresgid32, ALLOW)
#endif
#ifdef __NR_setresuid
SECCOMP_ENTRY (__NR_setresuid, ALLOW)
#endif
#ifdef __NR_setresuid32
SECCOMP_ENTRY (__NR_setresuid32, ALLOW)
#endif
#ifdef __NR_setreuid
SECCOMP_ENTRY (__NR_setreuid, ALLOW)
#endif
#ifdef __NR_setreuid32
SECCOMP_ENTRY (__NR_setreuid32, ALLOW)
#endif
#ifdef __NR_setrlimit
SECCOMP_ENTRY (__NR_setrlimit, ALLOW)
#endif
#ifdef __NR_set_robust_list
SECCOMP_ENTRY (__NR_set_robust_list, ALLOW)
#endif
#ifdef __NR_setsid
SECCOMP_ENTRY (__NR_setsid, ALLOW)
#endif
#ifdef __NR_setsockopt
SECCOMP_ENTRY (__NR_setsockopt, ALLOW)
#endif
#ifdef __NR_set_thread_area
SECCOMP_ENTRY (__NR_set_thread_area, ALLOW)
#endif
#ifdef __NR_set_tid_address
SECCOMP_ENTRY (__NR_set_tid_address, ALLOW)
#endif
#ifdef __NR_setuid
SECCOMP_ENTRY (__NR_setuid, ALLOW)
#endif
#ifdef __NR_setuid32
SECCOMP_ENTRY (__NR_setuid32, ALLOW)
#endif
#ifdef __NR_setxattr
SECCOMP_ENTRY (__NR_setxattr, ALLOW)
#endif
#ifdef __NR_shmat
SECCOMP_ENTRY (__NR_shmat, ALLOW)
#endif
#ifdef __NR_shmctl
SECCOMP_ENTRY (__NR_shmctl, ALLOW)
#endif
#ifdef __NR_shmdt
SECCOMP_ENTRY (__NR_shmdt, ALLOW)
#endif
#ifdef __NR_shmget
SECCOMP_ENTRY (__NR_shmget, ALLOW)
#endif
#ifdef __NR_shutdown
SECCOMP_ENTRY (__NR_shutdown, ALLOW)
#endif
#ifdef __NR_sigaltstack
SECCOMP_ENTRY (__NR_sigaltstack, ALLOW)
#endif
#ifdef __NR_signalfd
SECCOMP_ENTRY (__NR_signalfd, ALLOW)
#endif
#ifdef __NR_signalfd4
SECCOMP_ENTRY (__NR_signalfd4, ALLOW)
#endif
#ifdef __NR_sigprocmask
SECCOMP_ENTRY (__NR_sigprocmask, ALLOW)
#endif
#ifdef __NR_sigreturn
SECCOMP_ENTRY (__NR_sigreturn, ALLOW)
#endif
#ifdef __NR_socketcall
SECCOMP_ENTRY (__NR_socketcall, ALLOW)
#endif
#ifdef __NR_socketpair
SECCOMP_ENTRY (__NR_socketpair, ALLOW)
#endif
#ifdef __NR_splice
SECCOMP_ENTRY (__NR_splice, ALLOW)
#endif
#ifdef __NR_stat
SECCOMP_ENTRY (__NR_stat, ALLOW)
#endif
#ifdef __NR_stat64
SECCOMP_ENTRY (__NR_stat64, ALLOW)
#endif
#ifdef __NR_statfs
SECCOMP_ENTRY (__NR_statfs, ALLOW)
#endif
#ifdef __NR_statfs64
SECCOMP_ENTRY (__NR_statfs64, ALLOW)
#endif
#ifdef __NR_statx
SECCOMP_ENTRY (__NR_statx, ALLOW)
#endif
#ifdef __NR_symlink
SECCOMP_ENTRY (__NR_symlink, ALLOW)
#endif
#ifdef __NR_symlinkat
SECCOMP_ENTRY (__NR_symlinkat, ALLOW)
#endif
#ifdef __NR_sync
SECCOMP_ENTRY (__NR_sync, ALLOW)
#endif
#ifdef __NR_sync_file_range
SECCOMP_ENTRY (__NR_sync_file_range, ALLOW)
#endif
#ifdef __NR_syncfs
SECCOMP_ENTRY (__NR_syncfs, ALLOW)
#endif
#ifdef __NR_sysinfo
SECCOMP_ENTRY (__NR_sysinfo, ALLOW)
#endif
#ifdef __NR_tee
SECCOMP_ENTRY (__NR_tee, ALLOW)
#endif
#ifdef __NR_tgkill
SECCOMP_ENTRY (__NR_tgkill, ALLOW)
#endif
#ifdef __NR_time
SECCOMP_ENTRY (__NR_time, ALLOW)
#endif
#ifdef __NR_timer_create
SECCOMP_ENTRY (__NR_timer_create, ALLOW)
#endif
#ifdef __NR_timer_delete
SECCOMP_ENTRY (__NR_timer_delete, ALLOW)
#endif
#ifdef __NR_timer_getoverrun
SECCOMP_ENTRY (__NR_timer_getoverrun, ALLOW)
#endif
#ifdef __NR_timer_gettime
SECCOMP_ENTRY (__NR_timer_gettime, ALLOW)
#endif
#ifdef __NR_timer_gettime64
SECCOMP_ENTRY (__NR_timer_gettime64, ALLOW)
#endif
#ifdef __NR_timer_settime
SECCOMP_ENTRY (__NR_timer_settime, ALLOW)
#endif
#ifdef __NR_timer_settime64
SECCOMP_ENTRY (__NR_timer_settime64, ALLOW)
#endif
#ifdef __NR_timerfd_create
SECCOMP_ENTRY (__NR_timerfd_create, ALLOW)
#endif
#ifdef __NR_timerfd_gettime
SECCOMP_ENTRY (__NR_timerfd_gettime, ALLOW)
#endif
#ifdef __NR_timerfd_gettime64
SECCOMP_ENTRY (__NR_timerfd_gettime64, ALLOW)
#endif
#ifdef __NR_timerfd_settime
SECCOMP_ENTRY (__NR_timerfd_settime, ALLOW)
#endif
#ifdef __NR_timerfd_settime64
SECCOMP_ENTRY (__NR_timerfd_settime64, ALLOW)
#endif
#ifdef __NR_times
SECCOMP_ENTRY (__NR_times, ALLOW)
#endif
#ifdef __NR_tkill
SECCOMP_ENTRY (__NR_tkill, ALLOW)
#endif
#ifdef __NR_truncate
SECCOMP_ENTRY (__NR_truncate, ALLOW)
#endif
#ifdef __NR_truncate64
SECCOMP_ENTRY (__NR_truncate64, ALLOW)
#endif
#ifdef __NR_ugetrlimit
SECCOMP_ENTRY (__NR_ugetrlimit, ALLOW)
#endif
#ifdef __NR_umask
SECCOMP_ENTRY (__NR_umask, ALLOW)
#endif
#ifdef __NR_uname
SECCOMP_ENTRY (__NR_uname, ALLOW)
#endif
#ifdef __NR_unlink
SECCOMP_ENTRY (__NR_unlink, ALLOW)
#endif
#ifdef __NR_unlinkat
SECCOMP_ENTRY (__NR_unlinkat, ALLOW)
#endif
#ifdef __NR_utime
SECCOMP_ENTRY (__NR_utime, ALLOW)
#endif
#ifdef __NR_utimensat
SECCOMP_ENTRY (__NR_utimensat, ALLOW)
#endif
#ifdef __NR_utimensat_time64
SECCOMP_ENTRY (__NR_utimensat_time64, ALLOW)
#endif
#ifdef __NR_utimes
SECCOMP_ENTRY (__NR_utimes, ALLOW)
#endif
#ifdef __NR_vfork
SECCOMP_ENTRY (__NR_vfork, ALLOW)
#endif
#ifdef __NR_vmsplice
SECCOMP_ENTRY (__NR_vmsplice, ALLOW)
#endif
#ifdef __NR_wait4
SECCOMP_ENTRY (__NR_wait4, ALLOW)
#endif
#ifdef __NR_waitid
SECCOMP_ENTRY (__NR_waitid, ALLOW)
#endif
#ifdef __NR_waitpid
SECCOMP_ENTRY (__NR_waitpid, ALLOW)
#endif
#ifdef __NR_write
SECCOMP_ENTRY (__NR_write, ALLOW)
#endif
#ifdef __NR_writev
SECCOMP_ENTRY (__NR_writev, ALLOW)
#endif
#ifdef __NR_cachestat
SECCOMP_ENTRY (__NR_cachestat, ALLOW)
#endif
#ifdef __NR_fchmodat2
SECCOMP_ENTRY (__NR_fchmodat2, ALLOW)
#endif
#ifdef __NR_map_shadow_stack
SECCOMP_ENTRY (__NR_map_shadow_stack, ALLOW)
#endif
#ifdef __NR_futex_wake
SECCOMP_ENTRY (__NR_futex_wake, ALLOW)
#endif
#ifdef __NR_futex_wait
SECCOMP_ENTRY (__NR_futex_wait, ALLOW)
#endif
#ifdef __NR_futex_requeue
SECCOMP_ENTRY (__NR_futex_requeue, ALLOW)
#endif
#ifdef __NR_statmount
SECCOMP_ENTRY (__NR_statmount, ALLOW)
#endif
#ifdef __NR_listmount
SECCOMP_ENTRY (__NR_listmount, ALLOW)
#endif
#ifdef __NR_mseal
SECCOMP_ENTRY (__NR_mseal, ALLOW)
#endif
#ifdef __NR_setxattrat
SECCOMP_ENTRY (__NR_setxattrat, ALLOW)
#endif
#ifdef __NR_getxattrat
SECCOMP_ENTRY (__NR_getxattrat, ALLOW)
#endif
#ifdef __NR_listxattrat
SECCOMP_ENTRY (__NR_listxattrat, ALLOW)
#endif
#ifdef __NR_removexattrat
SECCOMP_ENTRY (__NR_removexattrat, ALLOW)
#endif
#ifdef __NR_uretprobe
SECCOMP_ENTRY (__NR_uretprobe, ALLOW)
#endif

/* Allowed with conditions (see above). */
#ifdef __NR_ptrace
SECCOMP_ENTRY (__NR_ptrace, ALLOW)
#endif
#ifdef __NR_process_vm_readv
SECCOMP_ENTRY (__NR_process_vm_readv, ALLOW)
#endif
#ifdef __NR_process_vm_writev
SECCOMP_ENTRY (__NR_process_vm_writev, ALLOW)
#endif
#ifdef __NR_chroot
SECCOMP_ENTRY (__NR_chroot, ALLOW)
#endif
#ifdef __NR_socket
SECCOMP_ENTRY (__NR_socket, SOCKET)
#endif
#ifdef __NR_personality
SECCOMP_ENTRY (__NR_personality, PERSONALITY)
#endif
#ifdef __NR_clone
SECCOMP_ENTRY (__NR_clone, CLONE)
#endif
#ifdef __NR_clone3
SECCOMP_ENTRY (__NR_clone3, ENOSYS)
#endif

/* Architecture-specific entries (moby's "includes": {"arches": ...}). */
#ifdef __NR_modify_ldt
SECCOMP_ENTRY (__NR_modify_ldt, ALLOW)
#endif
#if defined __NR_arch_prctl && (!defined __i386__ && !defined SECCOMP_ABI_I386)
SECCOMP_ENTRY (__NR_arch_prctl, ALLOW)
#endif
#ifdef __NR_arm_fadvise64_64
SECCOMP_ENTRY (__NR_arm_fadvise64_64, ALLOW)
#endif
#ifdef __NR_arm_sync_file_range
SECCOMP_ENTRY (__NR_arm_sync_file_range, ALLOW)
#endif
#if defined __NR_sync_file_range2 && (defined __arm__ || defined __aarch64__ || (defined __powerpc64__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__))
SECCOMP_ENTRY (__NR_sync_file_range2, ALLOW)
#endif
#if defined __NR_swapcontext && (defined __powerpc64__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
SECCOMP_ENTRY (__NR_swapcontext, ALLOW)
#endif
#ifdef __NR_s390_pci_mmio_read
SECCOMP_ENTRY (__NR_s390_pci_mmio_read, ALLOW)
#endif
#ifdef __NR_s390_pci_mmio_write
SECCOMP_ENTRY (__NR_s390_pci_mmio_write, ALLOW)
#endif
#ifdef __NR_s390_runtime_instr
SECCOMP_ENTRY (__NR_s390_runtime_instr, ALLOW)
#endif
#ifdef __NR_riscv_flush_icache
SECCOMP_ENTRY (__NR_riscv_flush_icache, ALLOW)
#endif
#ifdef __NR_riscv_hwprobe
SECCOMP_ENTRY (__NR_riscv_hwprobe, ALLOW)
#endif
/* ARM private syscalls (arm and arm64's 32-bit ABI). */
#ifdef __ARM_NR_breakpoint
SECCOMP_ENTRY (__ARM_NR_breakpoint, ALLOW)
#endif
#ifdef __ARM_NR_cacheflush
SECCOMP_ENTRY (__ARM_NR_cacheflush, ALLOW)
#endif
#ifdef __ARM_NR_set_tls
SECCOMP_ENTRY (__ARM_NR_set_tls, ALLOW)
#endif
