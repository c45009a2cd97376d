/* mini - run: one ABI's syscall table of the default seccomp profile.
 *
 * Compiled three times (run/meson.build), with SECCOMP_TABLE_NATIVE,
 * SECCOMP_TABLE_I386 or SECCOMP_TABLE_X32: each ABI's numbers come from its
 * own <asm/unistd*.h>, and those headers define the same __NR_* names with
 * other values, so each needs a translation unit of its own.  Nothing here
 * may include <sys/syscall.h> (it would bring the native numbers back).
 */
#include "run/run-private.h"

#define SECCOMP_ENTRY(nr, rule) { (uint32_t) (nr), SECCOMP_RULE_##rule },

#if defined SECCOMP_TABLE_NATIVE
# include <asm/unistd.h>
# define SECCOMP_TABLE seccomp_table_native
# define SECCOMP_TABLE_LEN seccomp_table_native_len
# define SECCOMP_HAVE_TABLE 1
# if defined __x86_64__ && defined __ILP32__
#  define SECCOMP_NEW_BASE __X32_SYSCALL_BIT
#  define SECCOMP_ABI_X86_64_OR_X32 1
# elif defined __x86_64__
#  define SECCOMP_NEW_BASE 0
#  define SECCOMP_ABI_X86_64_OR_X32 1
# elif defined __i386__ || defined __aarch64__ || defined __arm__ || defined __riscv             \
    || defined __s390x__ || defined __powerpc64__ || defined __loongarch__
#  define SECCOMP_NEW_BASE 0
# endif

#elif defined SECCOMP_TABLE_I386
# define SECCOMP_TABLE seccomp_table_i386
# define SECCOMP_TABLE_LEN seccomp_table_i386_len
# if defined __x86_64__ && ! defined __ILP32__
#  include <asm/unistd_32.h>
#  define SECCOMP_HAVE_TABLE 1
#  define SECCOMP_ABI_I386 1
#  define SECCOMP_NEW_BASE 0
# endif

#elif defined SECCOMP_TABLE_X32
# define SECCOMP_TABLE seccomp_table_x32
# define SECCOMP_TABLE_LEN seccomp_table_x32_len
# if defined __x86_64__ && ! defined __ILP32__
#  ifndef __X32_SYSCALL_BIT
#   define __X32_SYSCALL_BIT 0x40000000
#  endif
#  include <asm/unistd_x32.h>
#  define SECCOMP_HAVE_TABLE 1
#  define SECCOMP_ABI_X86_64_OR_X32 1
#  define SECCOMP_NEW_BASE __X32_SYSCALL_BIT
# endif

#else
# error "define SECCOMP_TABLE_NATIVE, SECCOMP_TABLE_I386 or SECCOMP_TABLE_X32"
#endif

const struct seccomp_syscall SECCOMP_TABLE[] = {
#ifdef SECCOMP_HAVE_TABLE
# include "run/seccomp-syscalls.h"
#endif
  { 0, 0 },
};

const size_t SECCOMP_TABLE_LEN = sizeof (SECCOMP_TABLE) / sizeof (SECCOMP_TABLE[0]) - 1;
