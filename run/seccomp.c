/* mini - run: Docker's default seccomp profile, as hand-built classic BPF
 * (no libseccomp).
 *
 * The program (seccomp_profile_build):
 *
 *     ld  [arch]
 *     jeq NATIVE ? -> native section          (ja: sections can be far)
 *     jeq I386   ? -> i386 section            (x86_64 hosts only)
 *     ret KILL_PROCESS                        (an ABI the profile does not know)
 *   native section:
 *     ld  [nr]
 *     jset __X32_SYSCALL_BIT ? -> x32 tree    (x86_64 hosts only)
 *     <native tree>
 *   x32 tree, i386 section: the same shape.
 *
 * A tree is a balanced binary search over the syscall-number line cut into
 * intervals of one outcome each (ALLOW runs merge, gaps are EPERM, the last
 * interval, above the highest syscall the profile names, is ENOSYS), so a
 * syscall costs about log2(intervals) comparisons: on x86_64 the whole
 * program is ~620 instructions and any syscall is decided after 12 to 16 of
 * them (a linear chain would test up to ~310 numbers).  The kernel's
 * seccomp cache (Linux 5.11+) also emulates this shape (loads of nr/arch,
 * jumps, returns), so syscalls allowed whatever their arguments skip the
 * filter altogether.  Leaves return; the ones with
 * argument rules load the argument and return.  Arguments are compared on
 * their low 32 bits only: socket's family, personality's persona and clone's
 * flags are 32-bit in the kernel, which ignores the upper half (libseccomp
 * compares all 64 bits, so a caller could set high bits to turn AF_VSOCK into
 * "not equal"; here it cannot).
 *
 * When the profile is loaded (proc_exec): Docker does not set no_new_privs,
 * so loading needs CAP_SYS_ADMIN, which is why, like runc without
 * NoNewPrivileges, it is loaded after the user lookup and the chdir but
 * before the capabilities are dropped and the uid changes; what runs after
 * it until execve (prctl, setgroups, setres[ug]id, capget/capset, umask,
 * stat, close_range, execve; sendto and exit_group on failure) is on the
 * allow list.
 */
#include "run/run-private.h"

#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#ifndef SECCOMP_RET_KILL_PROCESS
# define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif
#ifndef SECCOMP_SET_MODE_FILTER
# define SECCOMP_SET_MODE_FILTER 1
#endif
#ifndef AF_VSOCK
# define AF_VSOCK 40
#endif
#ifndef X32_SYSCALL_BIT
# define X32_SYSCALL_BIT 0x40000000U
#endif

/* clone flags that ask for a namespace: denied without CAP_SYS_ADMIN
   (CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP). */
#define SECCOMP_CLONE_NS_MASK 0x7E020000U

/* The native audit architecture. */
#if defined __x86_64__ && ! defined __ILP32__
# define SECCOMP_NATIVE_ARCH AUDIT_ARCH_X86_64
# define SECCOMP_X86_COMPAT 1 /* i386 and x32 too, as Docker (SubArches) */
#elif defined __x86_64__
# define SECCOMP_NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined __i386__
# define SECCOMP_NATIVE_ARCH AUDIT_ARCH_I386
#elif defined __aarch64__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
# define SECCOMP_NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined __arm__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
# define SECCOMP_NATIVE_ARCH AUDIT_ARCH_ARM
#elif defined __riscv && __riscv_xlen == 64 && defined AUDIT_ARCH_RISCV64
# define SECCOMP_NATIVE_ARCH AUDIT_ARCH_RISCV64
#elif defined __s390x__
# define SECCOMP_NATIVE_ARCH AUDIT_ARCH_S390X
#elif defined __powerpc64__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
# define SECCOMP_NATIVE_ARCH AUDIT_ARCH_PPC64LE
#elif defined __powerpc64__
# define SECCOMP_NATIVE_ARCH AUDIT_ARCH_PPC64
#elif defined __loongarch64 && defined AUDIT_ARCH_LOONGARCH64
# define SECCOMP_NATIVE_ARCH AUDIT_ARCH_LOONGARCH64
#endif

/* s390 passes clone's flags second (moby's s390 rule). */
#if defined __s390__
# define SECCOMP_NATIVE_CLONE_ARG 1
#else
# define SECCOMP_NATIVE_CLONE_ARG 0
#endif

/* Offset of the low 32 bits of argument I in struct seccomp_data. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
# define ARG_LO(i) ((uint32_t) (offsetof (struct seccomp_data, args) + 8 * (i)))
#else
# define ARG_LO(i) ((uint32_t) (offsetof (struct seccomp_data, args) + 8 * (i) + 4))
#endif

#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

/* Leaf outcomes: the table's rules plus the two defaults. */
enum outcome
{
  OUT_ALLOW = SECCOMP_RULE_ALLOW,
  OUT_SOCKET = SECCOMP_RULE_SOCKET,
  OUT_PERSONALITY = SECCOMP_RULE_PERSONALITY,
  OUT_CLONE = SECCOMP_RULE_CLONE,
  OUT_ENOSYS = SECCOMP_RULE_ENOSYS,
  OUT_EPERM,
};

static const uint32_t allowed_personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };
#define N_PERSONALITIES (sizeof (allowed_personalities) / sizeof (allowed_personalities[0]))

/* [lo, next interval's lo - 1] has one outcome. */
struct interval
{
  uint32_t lo;
  uint8_t out;
};

struct tree
{
  struct interval *iv;
  size_t n;
  uint32_t clone_arg;
};

struct prog
{
  struct sock_filter *v;
  size_t n, cap;
};

static void
emit (struct prog *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
  if (p->n == p->cap)
    {
      p->cap = p->cap ? 2 * p->cap : 512;
      p->v = xrealloc (p->v, p->cap * sizeof (*p->v));
    }
  p->v[p->n++] = (struct sock_filter){ .code = code, .jt = jt, .jf = jf, .k = k };
}

static int
cmp_syscall (const void *a, const void *b)
{
  const struct seccomp_syscall *x = a, *y = b;

  return x->nr < y->nr ? -1 : x->nr > y->nr;
}

static void
push_interval (struct tree *t, uint32_t lo, uint8_t out)
{
  /* Runs of the same plain outcome merge; argument rules stay single. */
  if (t->n > 0 && t->iv[t->n - 1].out == out
      && (out == OUT_ALLOW || out == OUT_EPERM || out == OUT_ENOSYS))
    return;
  t->iv[t->n].lo = lo;
  t->iv[t->n].out = out;
  t->n++;
}

/* Cut [0, 2^32) into intervals from TAB (N entries, any order). */
static void
tree_init (struct tree *t, const struct seccomp_syscall *tab, size_t n, uint32_t clone_arg)
{
  cleanup_free struct seccomp_syscall *s = NULL;
  uint64_t next = 0;
  size_t i;

  t->clone_arg = clone_arg;
  t->n = 0;
  t->iv = xmalloc ((2 * n + 2) * sizeof (*t->iv));
  s = xmalloc ((n ? n : 1) * sizeof (*s));
  if (n)
    memcpy (s, tab, n * sizeof (*s));
  qsort (s, n, sizeof (*s), cmp_syscall);
  for (i = 0; i < n; i++)
    {
      if (i > 0 && s[i].nr == s[i - 1].nr)
        continue; /* an alias (two names, one number): the first wins */
      if (s[i].nr > next)
        push_interval (t, (uint32_t) next, OUT_EPERM);
      push_interval (t, s[i].nr, s[i].rule);
      next = (uint64_t) s[i].nr + 1;
    }
  /* Above the last syscall the profile names: ENOSYS, as runc's patched
     filters do, so libc falls back when the kernel is newer than the
     profile. */
  if (next <= UINT32_MAX)
    push_interval (t, (uint32_t) next, OUT_ENOSYS);
}

static size_t
leaf_size (uint8_t out)
{
  switch (out)
    {
    case OUT_SOCKET:
    case OUT_CLONE:
      return 4;
    case OUT_PERSONALITY:
      return 3 + N_PERSONALITIES;
    default:
      return 1;
    }
}

static size_t
subtree_size (const struct tree *t, size_t a, size_t b)
{
  size_t m, left;

  if (a == b)
    return leaf_size (t->iv[a].out);
  m = (a + b + 1) / 2;
  left = subtree_size (t, a, m - 1);
  return 1 + (left > 255 ? 1 : 0) + left + subtree_size (t, m, b);
}

static void
emit_leaf (struct prog *p, const struct tree *t, uint8_t out)
{
  size_t i;

  switch (out)
    {
    case OUT_ALLOW:
      emit (p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
      break;
    case OUT_EPERM:
      emit (p, BPF_RET | BPF_K, RET_ERRNO (EPERM), 0, 0);
      break;
    case OUT_ENOSYS:
      emit (p, BPF_RET | BPF_K, RET_ERRNO (ENOSYS), 0, 0);
      break;
    case OUT_SOCKET:
      emit (p, BPF_LD | BPF_W | BPF_ABS, ARG_LO (0), 0, 0);
      emit (p, BPF_JMP | BPF_JEQ | BPF_K, AF_VSOCK, 1, 0);
      emit (p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
      emit (p, BPF_RET | BPF_K, RET_ERRNO (EPERM), 0, 0);
      break;
    case OUT_CLONE:
      emit (p, BPF_LD | BPF_W | BPF_ABS, ARG_LO (t->clone_arg), 0, 0);
      emit (p, BPF_JMP | BPF_JSET | BPF_K, SECCOMP_CLONE_NS_MASK, 1, 0);
      emit (p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
      emit (p, BPF_RET | BPF_K, RET_ERRNO (EPERM), 0, 0);
      break;
    case OUT_PERSONALITY:
      emit (p, BPF_LD | BPF_W | BPF_ABS, ARG_LO (0), 0, 0);
      for (i = 0; i < N_PERSONALITIES; i++)
        emit (p, BPF_JMP | BPF_JEQ | BPF_K, allowed_personalities[i],
              (uint8_t) (N_PERSONALITIES - i), 0);
      emit (p, BPF_RET | BPF_K, RET_ERRNO (EPERM), 0, 0);
      emit (p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
      break;
    default:
      abort ();
    }
}

/* Intervals A..B, with the syscall number in the accumulator. */
static void
emit_subtree (struct prog *p, const struct tree *t, size_t a, size_t b)
{
  size_t m, left;

  if (a == b)
    {
      emit_leaf (p, t, t->iv[a].out);
      return;
    }
  m = (a + b + 1) / 2;
  left = subtree_size (t, a, m - 1);
  if (left <= 255)
    emit (p, BPF_JMP | BPF_JGE | BPF_K, t->iv[m].lo, (uint8_t) left, 0);
  else
    {
      /* Conditional jumps reach 255 instructions; a ja reaches any. */
      emit (p, BPF_JMP | BPF_JGE | BPF_K, t->iv[m].lo, 0, 1);
      emit (p, BPF_JMP | BPF_JA, (uint32_t) left, 0, 0);
    }
  emit_subtree (p, t, a, m - 1);
  emit_subtree (p, t, m, b);
}

static size_t
tree_size (const struct tree *t)
{
  return subtree_size (t, 0, t->n - 1);
}

static void
emit_tree (struct prog *p, const struct tree *t)
{
  emit_subtree (p, t, 0, t->n - 1);
}

int
seccomp_profile_build (struct sock_filter **ret_prog, size_t *ret_len, mini_error_t *err)
{
#ifndef SECCOMP_NATIVE_ARCH
  (void) ret_prog;
  (void) ret_len;
  return mini_error_set (err, ENOTSUP,
                         "no seccomp profile for this architecture: use --security-opt "
                         "seccomp=unconfined");
#else
  struct prog p = { 0 };
  struct tree native = { 0 };
  size_t native_size;
# ifdef SECCOMP_X86_COMPAT
  struct tree i386 = { 0 }, x32 = { 0 };
  size_t x32_size;
# endif

  tree_init (&native, seccomp_table_native, seccomp_table_native_len, SECCOMP_NATIVE_CLONE_ARG);
  native_size = tree_size (&native);

  emit (&p, BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch), 0, 0);
# ifdef SECCOMP_X86_COMPAT
  tree_init (&i386, seccomp_table_i386, seccomp_table_i386_len, 0);
  tree_init (&x32, seccomp_table_x32, seccomp_table_x32_len, 0);
  x32_size = tree_size (&x32);
  /* 0: ld arch  1: jeq x86_64  2: ja native  3: jeq i386  4: ja i386  5: ret kill */
  emit (&p, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 1);
  emit (&p, BPF_JMP | BPF_JA, 3, 0, 0);
  emit (&p, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1);
  emit (&p, BPF_JMP | BPF_JA, (uint32_t) (1 + 3 + native_size + x32_size), 0, 0);
  emit (&p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
  /* native: ld nr; jset x32 -> x32 tree; native tree; x32 tree */
  emit (&p, BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr), 0, 0);
  emit (&p, BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 1);
  emit (&p, BPF_JMP | BPF_JA, (uint32_t) native_size, 0, 0);
  emit_tree (&p, &native);
  emit_tree (&p, &x32);
  /* i386 */
  emit (&p, BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr), 0, 0);
  emit_tree (&p, &i386);
  free (i386.iv);
  free (x32.iv);
# else
  emit (&p, BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_NATIVE_ARCH, 1, 0);
  emit (&p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
  emit (&p, BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr), 0, 0);
  emit_tree (&p, &native);
# endif
  free (native.iv);

  if (p.n > BPF_MAXINSNS)
    {
      free (p.v);
      return mini_error_set (err, E2BIG, "seccomp profile has %zu instructions (max %d)", p.n,
                             BPF_MAXINSNS);
    }
  *ret_prog = p.v;
  *ret_len = p.n;
  return 0;
#endif
}

int
seccomp_profile_apply (mini_error_t *err)
{
  cleanup_free struct sock_filter *v = NULL;
  struct sock_fprog fprog;
  size_t n;

  if (seccomp_profile_build (&v, &n, err) < 0)
    return -1;
  fprog.len = (unsigned short) n;
  fprog.filter = v;
  if (syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0)
    return 0;
  if (errno == ENOSYS && prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) == 0)
    return 0;
  {
    int e = errno;

    /* A kernel built without seccomp: Docker runs the container without
       the profile then (its daemon logs a warning). */
    if ((e == EINVAL || e == ENOSYS) && prctl (PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL)
      return 0;
    return mini_error_set (err, e, "load the seccomp profile");
  }
}
