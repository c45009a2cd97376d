#!/usr/bin/env bats
# Seccomp: Docker's default profile in every container process (init and exec),
# and --security-opt seccomp=unconfined.
#
# Probes are busybox applets that need no capability mini lacks, so only the
# profile can make them fail:
#   unshare -U true             unshare(CLONE_NEWUSER): needs no capability; Docker's
#                               profile denies unshare without CAP_SYS_ADMIN -> EPERM
#   setarch linux32 -R true     personality(PER_LINUX32|ADDR_NO_RANDOMIZE = 0x40008): not one
#                               of the profile's five personalities -> EPERM
#   linux32 true                personality(PER_LINUX32 = 0x8): allowed
#   chroot / true               chroot: allowed because mini grants CAP_SYS_CHROOT
#   ping -c1 127.0.0.1          socket(AF_INET, SOCK_RAW): allowed (CAP_NET_RAW)

# shellcheck disable=SC2016  # $VARS in single quotes are for the container shell
load helpers

# Each probe prints "name=<exit status>"; stderr goes to stdout so EPERM messages show.
PROBES='
  grep "^Seccomp" /proc/self/status
  unshare -U true 2>&1; echo "unshare=$?"
  setarch linux32 -R true 2>&1; echo "setarch=$?"
  linux32 true 2>&1; echo "linux32=$?"
  chroot / true 2>&1; echo "chroot=$?"
  ping -c1 -W2 127.0.0.1 >/dev/null 2>&1; echo "ping=$?"
'

@test "seccomp: the container's process runs under the default profile" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --rm "$IMG" sh -c "$PROBES"
  expect_status 0
  # Mode 2 = filter; one filter (the profile), inherited through sh's forks.
  expect_output_matches $'^Seccomp:\t2$'
  expect_output_matches $'^Seccomp_filters:\t1$'
  # Denied by the profile with EPERM.
  expect_output_contains "unshare=1"
  expect_output_matches "unshare.*Operation not permitted"
  expect_output_contains "setarch=1"
  expect_output_matches "personality\(0x40008\).*Operation not permitted"
  # Allowed: the listed personalities, chroot (CAP_SYS_CHROOT), raw sockets, fork/exec.
  expect_output_contains "linux32=0"
  expect_output_contains "chroot=0"
  expect_output_contains "ping=0"
}

@test "seccomp: --security-opt seccomp=unconfined runs without a filter" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --rm --security-opt seccomp=unconfined "$IMG" sh -c "$PROBES"
  expect_status 0
  expect_output_matches $'^Seccomp:\t0$'
  # The same probes now succeed.
  expect_output_not_contains "Operation not permitted"
  expect_output_contains "unshare=0"
  expect_output_contains "setarch=0"
  expect_output_contains "linux32=0"
  expect_output_contains "chroot=0"

  # seccomp=builtin is the default profile again.
  run --separate-stderr mini run --rm --security-opt seccomp=builtin "$IMG" grep "^Seccomp:" /proc/self/status
  expect_status 0
  expect_output_matches $'^Seccomp:\t2$'
}

@test "seccomp: exec'd processes get the container's profile (or none when unconfined)" {
  pull_quiet "$IMG"
  run --separate-stderr mini run -d --name confined "$IMG" sleep 30000
  expect_status 0
  run --separate-stderr mini run -d --name unconfined --security-opt seccomp=unconfined "$IMG" sleep 30000
  expect_status 0

  run --separate-stderr mini exec confined grep "^Seccomp:" /proc/self/status
  expect_status 0
  expect_output_matches $'^Seccomp:\t2$'
  run mini exec confined unshare -U true
  expect_status 1
  expect_output_contains "Operation not permitted"

  run --separate-stderr mini exec unconfined grep "^Seccomp:" /proc/self/status
  expect_status 0
  expect_output_matches $'^Seccomp:\t0$'
  run mini exec unconfined unshare -U true
  expect_status 0
}

@test "seccomp: unsupported --security-opt values are refused" {
  pull_quiet "$IMG"
  run mini run --rm --security-opt seccomp=/etc/profile.json "$IMG" true
  expect_status 125
  expect_output_contains "custom seccomp profiles are not supported"
  run mini run --rm --security-opt label=disable "$IMG" true
  expect_status 125
  expect_output_contains "invalid --security-opt"
  # Nothing was created.
  run --separate-stderr mini ps -aq
  expect_status 0
  expect_equal "$output" ""
}
