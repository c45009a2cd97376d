#!/usr/bin/env bash
# mini's main job, end to end, on a fresh Debian 12 as root:
# install deps, build, start a loopback registry seeded from ../shared/images, then pull,
# run, exec, ps, stop, rm, and two nginx pairs (private network, then host network).
# Everything it starts is removed on exit.  Build directory: $MINI_BUILD_DIR (default: build).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD
BUILD_DIR=${MINI_BUILD_DIR:-build}
[[ $BUILD_DIR == /* ]] || BUILD_DIR=$REPO/$BUILD_DIR

if [[ -t 1 ]]; then
  BOLD=$'\e[1m' RED=$'\e[31m' OFF=$'\e[0m'
else
  BOLD='' RED='' OFF=''
fi

say() { printf '\n%s$ %s%s\n' "$BOLD" "$1" "$OFF"; }
die() {
  printf '%sdemo: %s%s\n' "$RED" "$*" "$OFF" >&2
  exit 1
}

# step 'COMMAND': show it, run it; the demo stops if it fails.
step() {
  say "$1"
  eval "$1" || die "failed: $1"
}

# step_head 'COMMAND | head': like step, but a pipe closed early by head is fine.
step_head() {
  say "$1"
  (
    set +o pipefail
    eval "$1"
  ) || die "failed: $1"
}

# retry SECONDS 'COMMAND': show it once, run it until it succeeds (for servers starting up).
retry() {
  local secs=$1 cmd=$2 deadline out
  say "$cmd"
  deadline=$((SECONDS + secs))
  until out=$(eval "$cmd" 2>&1); do
    ((SECONDS < deadline)) || {
      printf '%s\n' "$out"
      die "still failing after ${secs}s: $cmd"
    }
    sleep 0.5
  done
  printf '%s\n' "$out"
}

# wait_exited NAME: until `mini ps -a` shows NAME as Exited.
wait_exited() {
  local deadline=$((SECONDS + 30))
  until mini ps -a | awk -v n="$1" '$NF == n' | grep -q 'Exited ('; do
    ((SECONDS < deadline)) || die "$1 did not exit within 30s"
    sleep 0.2
  done
}

echo "${BOLD}== dependencies${OFF}"
bash tools/deps.sh

echo "${BOLD}== build${OFF}"
if [[ ! -d $BUILD_DIR ]]; then
  meson setup "$BUILD_DIR" --buildtype=debugoptimized
fi
ninja -C "$BUILD_DIR"
MINI_BIN=$BUILD_DIR/mini
[[ -x $MINI_BIN ]] || die "no mini binary at $MINI_BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mini-demo.XXXXXX")
ROOT=$WORK/root
REGDIR=$WORK/registry

mini() { "$MINI_BIN" --root "$ROOT" "$@"; }

cleanup() {
  local status=$? id m
  set +e
  trap - EXIT INT TERM
  echo
  echo "${BOLD}== cleanup${OFF}"
  if [[ -d $ROOT ]]; then
    for id in $(mini ps -aq 2>/dev/null); do
      mini rm -f "$id" >/dev/null
    done
  fi
  bash "$REPO/tools/registry.sh" stop "$REGDIR"
  # Anything still mounted below the work dir would make rm -rf dangerous.
  awk -v w="$WORK" 'index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "${BOLD}== registry${OFF}"
ADDR=$(bash tools/registry.sh start "$REGDIR")
bash tools/registry.sh seed "$ADDR"
echo "registry on $ADDR seeded with library/busybox and library/nginx"
BUSYBOX=$ADDR/library/busybox
NGINX=$ADDR/library/nginx

echo
echo "${BOLD}== the story${OFF}  (mini = $MINI_BIN --root $ROOT)"
step "mini pull $BUSYBOX"
step "mini run --rm $BUSYBOX ps"
step "mini run -d --name a $BUSYBOX sh -c \"sleep 30000\""
step "mini exec a ps"
step_head "mini run --rm --pid host $BUSYBOX ps | head"
step "mini ps"
step "mini stop a"
step "mini rm a"

step "mini run -d --name web1 $NGINX"
step "mini run -d --name web2 $NGINX"
retry 20 "mini exec web1 curl -s http://127.0.0.1/ | grep -i welcome"
retry 20 "mini exec web2 curl -s http://127.0.0.1/ | grep -i welcome"
step "mini ps"

if [[ -n $(ss -Hltn 'sport = :80') ]]; then
  die "host port 80 is in use, so the --net host part cannot run: $(ss -Hltnp 'sport = :80')"
fi
step "mini run -d --net host --name host1 $NGINX"
retry 20 "curl -s http://127.0.0.1/ | grep -i welcome"
step "mini run -d --net host --name host2 $NGINX"
wait_exited host2
step "mini ps -a"
say "mini logs host2"
logs=$(mini logs host2 2>&1) || die "failed: mini logs host2"
printf '%s\n' "$logs"
grep -q "Address already in use" <<<"$logs" || die "host2's log does not say 'Address already in use'"

echo
echo "${BOLD}== done: every step worked${OFF}"
