# shellcheck shell=bash
# Common helpers for mini's system tests.  Load with `load helpers` in every .bats file.
#
# Environment:
#   MINI                    path of the mini binary (meson passes it; default <repo>/build/mini)
#   MINI_TEST_REGISTRY      127.0.0.1:PORT of the suite's registry (set by setup_suite.bash)
#   MINI_TEST_REGISTRY_DIR  its directory (log in $MINI_TEST_REGISTRY_DIR/log)
#   MINI_TEST_TIMEOUT       seconds any single mini invocation may take (default 180)

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
MINI=${MINI:-$REPO/build/mini}
MINI_SHARED_IMAGES=${MINI_SHARED_IMAGES:-$REPO/../shared/images}
export MINI_SHARED_IMAGES
REG=${MINI_TEST_REGISTRY:-}
# shellcheck disable=SC2034  # used by the .bats files
IMG=$REG/library/busybox
# shellcheck disable=SC2034
NGINX=$REG/library/nginx
MINI_TEST_TIMEOUT=${MINI_TEST_TIMEOUT:-180}

# Where the store keeps blobs (files named by the hex of their sha256).
BLOBS_SUBDIR=blobs/sha256

# ---------------------------------------------------------------------------
# setup / teardown

common_setup() {
  [[ -x $MINI ]] || fail_test "mini binary not found at '$MINI' (build first or set MINI)"
  [[ -n $REG ]] || fail_test "MINI_TEST_REGISTRY is not set (setup_suite.bash did not run?)"
  MINI_ROOT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mini-test.XXXXXX")
  export MINI_ROOT_DIR
}

# Mount points at or below $1, deepest first.
mounts_under() {
  local root=$1
  awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

common_teardown() {
  local id leaks problems=()
  [[ -n ${MINI_ROOT_DIR:-} && -d $MINI_ROOT_DIR ]] || return 0

  if [[ -x $MINI ]]; then
    for id in $(timeout 60 "$MINI" --root "$MINI_ROOT_DIR" ps -aq 2>/dev/null); do
      timeout 60 "$MINI" --root "$MINI_ROOT_DIR" rm -f "$id" >/dev/null 2>&1 ||
        problems+=("mini rm -f $id failed")
    done
  fi

  leaks=$(mounts_under "$MINI_ROOT_DIR")
  if [[ -n $leaks ]]; then
    problems+=("leftover mounts under $MINI_ROOT_DIR:" "$leaks")
    while read -r m; do
      umount -l "$m" 2>/dev/null || true
    done <<<"$leaks"
  fi

  if [[ -z $(mounts_under "$MINI_ROOT_DIR") ]]; then
    rm -rf --one-file-system "$MINI_ROOT_DIR"
  else
    problems+=("could not unmount everything; left $MINI_ROOT_DIR in place")
  fi

  if ((${#problems[@]})); then
    printf 'teardown: %s\n' "${problems[@]}" >&2
    return 1
  fi
}

setup() {
  common_setup
}

teardown() {
  common_teardown
}

# ---------------------------------------------------------------------------
# running mini

# mini ARGS...: the binary under test with this test's private --root, bounded in time.
# Output goes through files, not pipes, so that a detached process that wrongly keeps the
# caller's stdout/stderr cannot hang the suite (lifecycle.bats tests that case explicitly);
# fd 3 (bats' own) is closed for the same reason.  stdout comes first, then stderr.
mini() {
  local out err rc=0
  out=$(mktemp "${BATS_TEST_TMPDIR:-/tmp}/mini-out.XXXXXX")
  err=$(mktemp "${BATS_TEST_TMPDIR:-/tmp}/mini-err.XXXXXX")
  timeout --kill-after=10 "$MINI_TEST_TIMEOUT" \
    "$MINI" --root "$MINI_ROOT_DIR" "$@" >"$out" 2>"$err" 3>&- || rc=$?
  cat "$out"
  cat "$err" >&2
  rm -f "$out" "$err"
  if ((rc == 124)); then
    echo "helpers: 'mini $*' timed out after ${MINI_TEST_TIMEOUT}s" >&2
  fi
  return "$rc"
}

# Pull quietly (for tests that look at the output of a later command).
pull_quiet() {
  local out
  out=$(mini pull "$1" 2>&1) || fail_test "mini pull $1 failed: $out"
}

# ---------------------------------------------------------------------------
# assertions (print what was seen when they fail)

fail_test() {
  printf '%s\n' "$@" >&2
  return 1
}

show_run() {
  printf '# status: %s\n' "${status-}" >&2
  printf '# output:\n%s\n' "${output-}" >&2
  if [[ -n ${stderr-} ]]; then
    printf '# stderr:\n%s\n' "$stderr" >&2
  fi
}

expect_status() {
  if [[ ${status-} != "$1" ]]; then
    show_run
    fail_test "expected exit status $1, got ${status-}"
  fi
}

# expect_failure: mini reported an error itself: status 1..125, not a crash
# (134 SIGABRT, 139 SIGSEGV, ...) and not killed by the helpers' timeout (124).
expect_failure() {
  if [[ ${status-} == 0 ]]; then
    show_run
    fail_test "expected a non-zero exit status"
  elif [[ ${status-} == 124 ]]; then
    show_run
    fail_test "timed out"
  elif ((${status:-0} > 125)); then
    show_run
    fail_test "expected a clean error exit (1-125), got ${status} (crashed?)"
  fi
}

# expect_output_contains STRING (fixed string, case-sensitive)
expect_output_contains() {
  if [[ ${output-} != *"$1"* ]]; then
    show_run
    fail_test "expected output to contain: $1"
  fi
}

expect_output_not_contains() {
  if [[ ${output-} == *"$1"* ]]; then
    show_run
    fail_test "expected output not to contain: $1"
  fi
}

# expect_output_matches ERE (grep -E on the whole output, per line)
expect_output_matches() {
  if ! grep -qE -- "$1" <<<"${output-}"; then
    show_run
    fail_test "expected a line of output to match /$1/"
  fi
}

# expect_output_imatches ERE (case-insensitive)
expect_output_imatches() {
  if ! grep -qiE -- "$1" <<<"${output-}"; then
    show_run
    fail_test "expected a line of output to match /$1/i"
  fi
}

expect_equal() {
  if [[ $1 != "$2" ]]; then
    fail_test "expected '$2', got '$1'"
  fi
}

# ---------------------------------------------------------------------------
# polling

# wait_until SECONDS CMD...: run CMD every 0.2 s until it succeeds; fail after SECONDS.
wait_until() {
  local secs=$1 deadline
  shift
  deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    if "$@"; then
      return 0
    fi
    sleep 0.2
  done
  "$@" || fail_test "timed out after ${secs}s waiting for: $*"
}

# ---------------------------------------------------------------------------
# mini-specific queries

# status_of_line LINE: the STATUS field of a `mini ps` line ("Up 3 seconds",
# "Exited (0) 2 seconds ago", "Created"): the last status keyword before the NAMES field.
# Does not rely on the columns being aligned.
status_of_line() {
  sed -E 's/[[:space:]]+[^[:space:]]+[[:space:]]*$//' <<<"$1" |
    sed -nE 's/^.*[[:space:]]((Up|Exited \(-?[0-9]+\)|Created|Restarting|Paused|Removing|Dead)([[:space:]].*)?)$/\1/p' |
    sed -E 's/[[:space:]]+$//'
}

# container_status NAME: the STATUS of container NAME in `mini ps -a`, e.g. "Up 3 seconds".
container_status() {
  local line
  line=$(mini ps -a | awk -v n="$1" 'NR > 1 && $NF == n')
  [[ -n $line ]] || return 1
  status_of_line "$line"
}

# True if the container NAME exited (STATUS starts with "Exited (").
container_exited() {
  local st
  st=$(container_status "$1") || return 1
  [[ $st == "Exited ("* ]]
}

# The exit code shown in "Exited (N) ..." for NAME.
container_exit_code() {
  local st
  st=$(container_status "$1") || return 1
  sed -nE 's/^Exited \((-?[0-9]+)\).*/\1/p' <<<"$st"
}

# Registry helpers -----------------------------------------------------------

# registry_digest ADDR REPO TAG: the digest the registry serves for REPO:TAG.
registry_digest() {
  curl -sf -I \
    -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$1/v2/$2/manifests/$3" |
    tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }'
}

# Number of blob GETs in a registry log.
registry_blob_gets() {
  grep -cE '"GET /v2/[^ ]+/blobs/sha256:' "$1" || true
}

# Store helpers ---------------------------------------------------------------

# Lines "inode size name" for every blob of the store (a re-download changes the inode).
blob_snapshot() {
  local dir=$MINI_ROOT_DIR/$BLOBS_SUBDIR
  [[ -d $dir ]] || return 0
  find "$dir" -type f -printf '%i %s %P\n' | sort
}

# Fail unless every file in blobs/sha256 is named by the sha256 of its content.
verify_blobs() {
  local dir=$MINI_ROOT_DIR/$BLOBS_SUBDIR f sum bad=()
  [[ -d $dir ]] || return 0
  while IFS= read -r -d '' f; do
    sum=$(sha256sum "$f" | cut -d' ' -f1)
    [[ $sum == "$(basename "$f")" ]] || bad+=("$f")
  done < <(find "$dir" -type f -print0)
  ((${#bad[@]} == 0)) || fail_test "blobs whose content does not match their name:" "${bad[@]}"
}

# True if nothing under the test root is mounted.
no_mounts_left() {
  [[ -z $(mounts_under "$MINI_ROOT_DIR") ]]
}

# Fail if any mountinfo line mentions STRING (e.g. a container id).
expect_no_mount_mentioning() {
  local hits
  hits=$(grep -F -- "$1" /proc/self/mountinfo || true)
  [[ -z $hits ]] || fail_test "mounts still mention $1:" "$hits"
}
