#!/usr/bin/env bats
# Detached containers: run -d, exec, ps, logs, stop, rm.

# shellcheck disable=SC2016  # $VARS in single quotes are for the container shell
load helpers

# start_sleeper NAME: run a detached busybox sleeping forever; sets ID.
start_sleeper() {
  pull_quiet "$IMG"
  run --separate-stderr mini run -d --name "$1" "$IMG" sh -c "sleep 30000"
  expect_status 0
  [[ $output =~ ^[0-9a-f]{64}$ ]] || { show_run; fail_test "run -d did not print a 64-hex ID"; }
  ID=$output
}

@test "lifecycle: run -d prints the ID; exec runs beside PID 1" {
  start_sleeper namespaceA

  run --separate-stderr mini exec namespaceA ps
  expect_status 0
  expect_output_matches "^ *1 +[^ ]+ +[0-9:]+ +(sh -c )?sleep 30000$"
  # ps itself runs in the container's PID namespace with a PID other than 1.
  awk '$NF == "ps" && $1 > 1 { found = 1 } END { exit !found }' <<<"$output" ||
    { show_run; fail_test "no ps line with PID > 1"; }
  # Only the sleeper and ps.
  ((${#lines[@]} == 3)) || { show_run; fail_test "expected header + 2 processes"; }

  # exec by ID and by short ID work too.
  run --separate-stderr mini exec "$ID" hostname
  expect_status 0
  expect_equal "$output" "${ID:0:12}"
  run --separate-stderr mini exec "${ID:0:12}" true
  expect_status 0
}

@test "lifecycle: run -d returns at once and keeps no hold on the caller's output" {
  pull_quiet "$IMG"
  # If the detached monitor kept stdout or stderr open, `| cat` would never finish.
  run timeout 30 bash -c '"$0" --root "$1" run -d --name detached "$2" sh -c "sleep 30000" 2>&1 3>&- | cat' \
    "$MINI" "$MINI_ROOT_DIR" "$IMG"
  expect_status 0
  expect_output_matches "^[0-9a-f]{64}$"
  [[ $(container_status detached) == Up* ]] || fail_test "not Up: $(container_status detached)"
}

@test "lifecycle: ps lists the running container" {
  local header line
  start_sleeper namespaceA

  run --separate-stderr mini ps
  expect_status 0
  header=${lines[0]}
  for col in "CONTAINER ID" IMAGE COMMAND CREATED STATUS NAMES; do
    [[ $header == *"$col"* ]] || { show_run; fail_test "ps header lacks $col"; }
  done
  ((${#lines[@]} == 2)) || { show_run; fail_test "expected header + 1 container"; }
  line=${lines[1]}
  [[ $line == "${ID:0:12} "* ]] || { show_run; fail_test "first column is not the short ID"; }
  [[ $(awk '{ print $NF }' <<<"$line") == namespaceA ]] || { show_run; fail_test "NAMES is not last"; }
  [[ $line == *"$IMG"* ]] || { show_run; fail_test "IMAGE not shown"; }
  [[ $(status_of_line "$line") == "Up "* ]] || { show_run; fail_test "STATUS does not start with Up"; }

  run --separate-stderr mini ps -q
  expect_status 0
  expect_equal "$output" "${ID:0:12}"

  run --separate-stderr mini ps -q --no-trunc
  expect_status 0
  expect_equal "$output" "$ID"
}

@test "lifecycle: a name cannot be used twice" {
  start_sleeper namespaceA
  run mini run -d --name namespaceA "$IMG" true
  expect_status 125
  expect_output_contains "already in use"
  run --separate-stderr mini ps -aq
  expect_equal "$output" "${ID:0:12}"
}

@test "lifecycle: stop -t, ps -a shows Exited, rm cleans up" {
  local start
  start_sleeper namespaceA

  start=$SECONDS
  run mini stop -t 2 namespaceA
  expect_status 0
  # PID 1 ignores SIGTERM here (no handler), so this is the -t 2 timeout, then SIGKILL.
  ((SECONDS - start < 8)) || fail_test "stop -t 2 took $((SECONDS - start))s"

  run mini ps
  expect_status 0
  expect_output_not_contains namespaceA
  run mini ps -a
  expect_status 0
  [[ $(awk '$NF == "namespaceA"' <<<"$output") == *"Exited ("* ]] ||
    { show_run; fail_test "ps -a does not show namespaceA as Exited"; }

  run mini exec namespaceA true
  expect_failure

  run mini rm namespaceA
  expect_status 0
  run mini ps -a
  expect_output_not_contains namespaceA
  expect_no_mount_mentioning "$ID"
  expect_no_mount_mentioning "${ID:0:12}"
  [[ -z $(find "$MINI_ROOT_DIR" -name "*$ID*") ]] ||
    fail_test "container files left:" "$(find "$MINI_ROOT_DIR" -name "*$ID*")"
  no_mounts_left || fail_test "mounts left:" "$(mounts_under "$MINI_ROOT_DIR")"
}

@test "lifecycle: stop of a process that handles SIGTERM is quick and keeps its status" {
  pull_quiet "$IMG"
  run mini run -d --name trapper "$IMG" sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
  expect_status 0
  local start=$SECONDS
  run mini stop trapper
  expect_status 0
  ((SECONDS - start < 8)) || fail_test "stop waited $((SECONDS - start))s for a process that exits on SIGTERM"
  expect_equal "$(container_exit_code trapper)" 7
}

@test "lifecycle: logs show stdout and stderr" {
  pull_quiet "$IMG"
  run mini run -d --name talker "$IMG" sh -c 'echo out; echo err >&2'
  expect_status 0
  wait_until 10 container_exited talker
  run mini logs talker
  expect_status 0
  expect_output_contains out
  expect_output_contains err
  expect_equal "$(container_exit_code talker)" 0
}

@test "lifecycle: rm of a running container needs -f" {
  start_sleeper busy
  run mini rm busy
  expect_failure
  run --separate-stderr mini ps -q
  expect_equal "$output" "${ID:0:12}"

  run mini rm -f busy
  expect_status 0
  run --separate-stderr mini ps -aq
  expect_status 0
  expect_equal "$output" ""
  expect_no_mount_mentioning "$ID"
}

@test "lifecycle: unknown containers are reported by name" {
  local verb
  for verb in "exec nosuchcontainer true" "logs nosuchcontainer" "stop nosuchcontainer" "rm nosuchcontainer"; do
    # shellcheck disable=SC2086
    run mini $verb
    expect_failure
    expect_output_contains nosuchcontainer
  done
}

@test "lifecycle: exec returns the command's exit status" {
  start_sleeper x
  run mini exec x sh -c 'exit 5'
  expect_status 5
  run mini exec x nosuchcmd
  expect_status 127
}

@test "lifecycle: exec -e and -w" {
  start_sleeper x
  run --separate-stderr mini exec -e FOO=bar -w /tmp x sh -c 'echo "$FOO"; pwd'
  expect_status 0
  expect_equal "${lines[0]}" bar
  expect_equal "${lines[1]}" /tmp
  # Without -w, the container's working directory (/).
  run --separate-stderr mini exec x pwd
  expect_status 0
  expect_equal "$output" /
}

# monitor_pid_of ID: the monitor_pid recorded in the container's state.json.
monitor_pid_of() {
  sed -nE 's/^ *"monitor_pid": *([0-9]+),?$/\1/p' "$MINI_ROOT_DIR/containers/$1/state.json"
}

@test "lifecycle: the detached monitor is the static mini-monitor, under 1 MiB, and records the exit" {
  local mon rss
  start_sleeper small
  mon=$(monitor_pid_of "$ID")
  [[ $mon =~ ^[0-9]+$ ]] || fail_test "no monitor_pid in state.json"
  # The monitor has exec'd mini-monitor by the time it reported (run -d returned).
  wait_until 5 test "$(readlink "/proc/$mon/exe")" = "$(dirname "$MINI")/mini-monitor"
  if grep -q 'ld-linux' "/proc/$mon/maps"; then
    # A sanitizer build links it dynamically (ASan cannot be static): then
    # at least none of mini's libraries may be mapped.
    ! grep -qE 'libcurl|libarchive|libjansson|libcrypto' "/proc/$mon/maps" ||
      fail_test "the monitor maps mini's libraries:" "$(grep -E 'libcurl|libarchive|libjansson|libcrypto' "/proc/$mon/maps")"
  else
    rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$mon/status")
    ((rss < 1024)) || fail_test "monitor VmRSS ${rss} kB, not under 1 MiB"
  fi
  # It holds the container's log open for the container (fds 1 and 2), nothing else of mini's.
  expect_equal "$(readlink "/proc/$mon/fd/1")" "$MINI_ROOT_DIR/containers/$ID/ctr.log"

  run mini stop -t 0 small
  expect_status 0
  expect_equal "$(container_exit_code small)" 137
  # Its record is the exit file; state.json was not rewritten by the monitor.
  [[ $(cut -d' ' -f1 "$MINI_ROOT_DIR/containers/$ID/exit") == 137 ]] ||
    fail_test "exit file: $(cat "$MINI_ROOT_DIR/containers/$ID/exit" 2>&1)"
  # It exits right after writing the record (a zombie until its reaper runs).
  wait_until 5 bash -c "! kill -0 $mon 2>/dev/null || grep -q '^State:.*Z' /proc/$mon/status"
}

@test "lifecycle: a detached container exits on its own with its status, and run -d --rm removes it" {
  pull_quiet "$IMG"
  run --separate-stderr mini run -d --name quitter "$IMG" sh -c 'exit 9'
  expect_status 0
  wait_until 10 container_exited quitter
  expect_equal "$(container_exit_code quitter)" 9

  run --separate-stderr mini run -d --rm --name vanisher "$IMG" sh -c 'echo bye'
  expect_status 0
  local id=$output
  wait_until 10 test ! -e "$MINI_ROOT_DIR/containers/$id"
  [[ ! -L $MINI_ROOT_DIR/names/vanisher ]] || fail_test "name vanisher left behind"
  run mini ps -a
  expect_output_not_contains vanisher
  no_mounts_left || fail_test "mounts left:" "$(mounts_under "$MINI_ROOT_DIR")"
}

@test "lifecycle: stop and rm still work after the monitor was killed with SIGKILL" {
  local mon
  start_sleeper orphan
  mon=$(monitor_pid_of "$ID")
  kill -9 "$mon"
  wait_until 5 bash -c "! kill -0 $mon 2>/dev/null || grep -q '^State:.*Z' /proc/$mon/status"
  # The init outlived its monitor: still running.
  run --separate-stderr mini ps -q
  expect_equal "$output" "${ID:0:12}"
  run mini stop -t 0 orphan
  expect_status 0
  # Nobody reaped it for mini, so the status is what stop did: SIGKILL.
  expect_equal "$(container_exit_code orphan)" 137
  run mini rm orphan
  expect_status 0
  [[ ! -e $MINI_ROOT_DIR/containers/$ID ]] || fail_test "container dir left"
}
