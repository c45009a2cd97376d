#!/usr/bin/env bash
# Loopback OCI registry for mini's demo and system tests.
#
#   tools/registry.sh start DIR        start docker-registry on 127.0.0.1:<free port>,
#                                      storage in DIR/data, pid in DIR/pid, log in DIR/log;
#                                      prints 127.0.0.1:PORT
#   tools/registry.sh seed ADDR [IMG]  copy IMG (default: busybox nginx) from the shared
#                                      OCI layouts to ADDR/library/IMG:latest
#   tools/registry.sh stop DIR         stop the registry started in DIR
#
# Shared images: $MINI_SHARED_IMAGES, else <repo>/../shared/images.
set -euo pipefail

REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
  echo "registry.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start DIR | seed ADDR [IMAGE...] | stop DIR" >&2
  exit 2
}

repo_top() {
  git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$SCRIPT_DIR/.." && pwd)
}

shared_images() {
  if [[ -n ${MINI_SHARED_IMAGES:-} ]]; then
    echo "$MINI_SHARED_IMAGES"
  else
    echo "$(repo_top)/../shared/images"
  fi
}

port_in_use() {
  [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

# True while PID is alive (a zombie counts as dead).
alive() {
  local state
  [[ -r /proc/$1/stat ]] || return 1
  state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# True if PID is the registry serving CONFIG (guards against recycled pids).
is_our_registry() {
  local pid=$1 config=$2
  alive "$pid" || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$config"
}

kill_registry() {
  local pid=$1 config=$2 i
  is_our_registry "$pid" "$config" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  die "pid $pid did not exit"
}

write_config() {
  local dir=$1 port=$2
  cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  headers:
    X-Content-Type-Options: [nosniff]
YAML
}

cmd_start() {
  local dir=$1 port pid attempt i code fd
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/pid ]] && is_our_registry "$(cat "$dir/pid")" "$dir/config.yml"; then
    die "a registry is already running for $dir (pid $(cat "$dir/pid"))"
  fi
  [[ -x $REGISTRY_BIN ]] || die "$REGISTRY_BIN not found (run tools/deps.sh)"

  for ((attempt = 0; attempt < 10; attempt++)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 30000))
    port_in_use "$port" && continue
    write_config "$dir" "$port"
    # No inherited stdout/stderr or other fds: callers run us as $(...), bats
    # waits for holders of its fd 3; none of them may be kept open.
    (
      for fd in /proc/self/fd/*; do
        fd=${fd##*/}
        if ((fd > 2)); then
          eval "exec $fd>&-" 2>/dev/null || true
        fi
      done
      exec "$REGISTRY_BIN" serve "$dir/config.yml" </dev/null >>"$dir/log" 2>&1
    ) &
    pid=$!
    echo "$pid" >"$dir/pid"
    for ((i = 0; i < 150; i++)); do
      if ! alive "$pid"; then
        break
      fi
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/v2/" || true)
      if [[ $code == 200 ]]; then
        echo "127.0.0.1:$port" >"$dir/addr"
        echo "127.0.0.1:$port"
        return 0
      fi
      sleep 0.1
    done
    # Died (port taken meanwhile?) or never answered: clean up, try another port.
    kill_registry "$pid" "$dir/config.yml"
    rm -f "$dir/pid"
  done
  echo "registry.sh: could not start a registry; log follows:" >&2
  tail -n 20 "$dir/log" >&2 || true
  exit 1
}

cmd_seed() {
  local addr=$1
  shift
  local images=("$@") src img
  ((${#images[@]})) || images=(busybox nginx)
  case $addr in
    127.*:* | localhost:* | \[::1\]:*) ;;
    *) die "refusing to seed non-loopback registry '$addr'" ;;
  esac
  src=$(shared_images)
  for img in "${images[@]}"; do
    [[ -f $src/$img/index.json ]] || die "no OCI layout at $src/$img (set MINI_SHARED_IMAGES)"
    skopeo --insecure-policy copy --quiet --all --preserve-digests --dest-tls-verify=false \
      "oci:$src/$img:latest" "docker://$addr/library/$img:latest" >&2 ||
      die "skopeo copy of $img to $addr failed"
  done
}

cmd_stop() {
  local dir=$1 pid
  [[ -d $dir ]] || return 0
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/pid ]]; then
    pid=$(cat "$dir/pid")
    kill_registry "$pid" "$dir/config.yml"
    rm -f "$dir/pid" "$dir/addr"
  fi
}

(($# >= 2)) || usage
case $1 in
  start) cmd_start "$2" ;;
  seed) shift; cmd_seed "$@" ;;
  stop) cmd_stop "$2" ;;
  *) usage ;;
esac
