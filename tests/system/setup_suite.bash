# shellcheck shell=bash
# One loopback registry for the whole system-test suite, seeded with busybox and nginx.
# Exports MINI_TEST_REGISTRY (127.0.0.1:PORT) and MINI_TEST_REGISTRY_DIR for the tests.

MINI_SUITE_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

setup_suite() {
  if ((EUID != 0)); then
    echo "FAIL: mini's system tests must run as root (uid 0), not uid $EUID." >&2
    echo "They create namespaces, mounts and cgroups; run 'tools/test.sh' as root." >&2
    return 1
  fi
  export MINI_SHARED_IMAGES=${MINI_SHARED_IMAGES:-$MINI_SUITE_REPO/../shared/images}
  export MINI=${MINI:-$MINI_SUITE_REPO/build/mini}
  if [[ ! -x $MINI ]]; then
    echo "FAIL: mini binary not found at '$MINI' (build it, or set MINI)" >&2
    return 1
  fi

  MINI_TEST_REGISTRY_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mini-test-registry.XXXXXX")
  export MINI_TEST_REGISTRY_DIR
  MINI_TEST_REGISTRY=$("$MINI_SUITE_REPO/tools/registry.sh" start "$MINI_TEST_REGISTRY_DIR")
  export MINI_TEST_REGISTRY
  "$MINI_SUITE_REPO/tools/registry.sh" seed "$MINI_TEST_REGISTRY" busybox nginx
}

teardown_suite() {
  if [[ -n ${MINI_TEST_REGISTRY_DIR:-} && -d $MINI_TEST_REGISTRY_DIR ]]; then
    "$MINI_SUITE_REPO/tools/registry.sh" stop "$MINI_TEST_REGISTRY_DIR"
    rm -rf "$MINI_TEST_REGISTRY_DIR"
  fi
}
