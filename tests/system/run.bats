#!/usr/bin/env bats
# mini run: namespaces, exit codes, process options, isolation.

# shellcheck disable=SC2016  # $VARS in single quotes are for the container shell
load helpers

@test "run: ps sees only itself, as PID 1" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --rm "$IMG" ps
  expect_status 0
  expect_output_matches "^ *PID +USER +TIME +COMMAND"
  ((${#lines[@]} == 2)) || { show_run; fail_test "expected header + 1 process line"; }
  [[ ${lines[1]} =~ ^\ *1\ +[^\ ]+\ +[0-9:]+\ +ps$ ]] || { show_run; fail_test "PID 1 is not ps"; }
}

@test "run: --pid host sees the host's processes" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --rm --pid host "$IMG" ps
  expect_status 0
  ((${#lines[@]} > 5)) || { show_run; fail_test "expected many processes"; }
  awk 'NR > 1 { print $1 }' <<<"$output" | grep -qx "$$" ||
    { show_run; fail_test "PID $$ of the test shell is not listed"; }
  # PID 1 is the host's init, not ps.
  [[ ! ${lines[1]} =~ ^\ *1\ +[^\ ]+\ +[0-9:]+\ +ps$ ]] || { show_run; fail_test "ps is PID 1"; }
}

@test "run: exit status of the command is returned" {
  pull_quiet "$IMG"
  run mini run --rm "$IMG" sh -c 'exit 3'
  expect_status 3
}

@test "run: missing command exits 127" {
  pull_quiet "$IMG"
  run mini run --rm "$IMG" nosuchcmd
  expect_status 127
  expect_output_contains nosuchcmd
}

@test "run: non-executable command exits 126" {
  pull_quiet "$IMG"
  run mini run --rm "$IMG" /etc/passwd
  expect_status 126
}

@test "run: command killed by a signal exits 128+n" {
  pull_quiet "$IMG"
  # With --pid host the shell is not a namespace init, so SIGKILL to itself takes effect.
  run mini run --rm --pid host "$IMG" sh -c 'kill -9 $$'
  expect_status 137
  run mini run --rm --pid host "$IMG" sh -c 'kill -TERM $$'
  expect_status 143
}

@test "run: -e sets environment variables" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --rm -e FOO=bar -e EMPTY= "$IMG" sh -c 'echo "$FOO"; echo "[$EMPTY]"; echo "$PATH"'
  expect_status 0
  expect_equal "${lines[0]}" bar
  expect_equal "${lines[1]}" "[]"
  expect_equal "${lines[2]}" /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
}

@test "run: -w sets the working directory, creating it if missing" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --rm -w /tmp "$IMG" pwd
  expect_status 0
  expect_equal "$output" /tmp
  run --separate-stderr mini run --rm -w /does/not/exist "$IMG" pwd
  expect_status 0
  expect_equal "$output" /does/not/exist
  run --separate-stderr mini run --rm "$IMG" pwd
  expect_status 0
  expect_equal "$output" /
}

@test "run: --entrypoint replaces the image entrypoint" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --rm --entrypoint /bin/echo "$IMG" hi
  expect_status 0
  expect_equal "$output" hi
}

@test "run: the default command is the image's Cmd" {
  pull_quiet "$IMG"
  # busybox's Cmd is ["sh"]; with stdin at EOF it exits 0 at once.
  run mini run --rm "$IMG" </dev/null
  expect_status 0
  run mini run -d --name dc "$IMG"
  expect_status 0
  wait_until 10 container_exited dc
  expect_equal "$(container_exit_code dc)" 0
  run mini ps -a --no-trunc
  [[ $(awk '$NF == "dc"' <<<"$output") == *sh* ]] || { show_run; fail_test "COMMAND of dc is not sh"; }
}

@test "run: hostname is the first 12 hex digits of the container ID" {
  local id
  pull_quiet "$IMG"
  run --separate-stderr mini run -d --name hn "$IMG" hostname
  expect_status 0
  id=$output
  [[ $id =~ ^[0-9a-f]{64}$ ]] || { show_run; fail_test "run -d did not print a 64-hex ID"; }

  wait_until 10 container_exited hn
  run --separate-stderr mini logs "$id"
  expect_status 0
  expect_equal "$output" "${id:0:12}"

  run mini ps -a --no-trunc
  expect_output_matches "^$id "
}

@test "run: --net none has only a loopback interface, and it is up" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --rm --net none "$IMG" cat /proc/net/dev
  expect_status 0
  expect_equal "$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' <<<"$output")" lo

  run --separate-stderr mini run --rm --net none "$IMG" ip link show lo
  expect_status 0
  expect_output_matches "<[^>]*UP[^>]*>"
}

@test "run: the default network is private too" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --rm "$IMG" cat /proc/net/dev
  expect_status 0
  expect_equal "$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' <<<"$output")" lo
}

@test "run: --net host shares the host's interfaces" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --rm --net host "$IMG" cat /proc/net/dev
  expect_status 0
  expect_equal "$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' <<<"$output" | sort)" \
    "$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev | sort)"
}

@test "run: /sys is read-only" {
  pull_quiet "$IMG"
  run mini run --rm "$IMG" touch /sys/x
  expect_status 1
  expect_output_imatches "read-only"
  run --separate-stderr mini run --rm "$IMG" sh -c 'awk "\$2 == \"/sys\" { print \$4 }" /proc/mounts'
  expect_status 0
  [[ $output =~ (^|,)ro(,|$) ]] || { show_run; fail_test "/sys not mounted ro"; }
}

@test "run: the rootfs is writable and private to the container" {
  pull_quiet "$IMG"
  run mini run --rm "$IMG" sh -c 'echo hello >/created-by-test && cat /created-by-test'
  expect_status 0
  expect_output_contains hello
  run mini run --rm "$IMG" test -e /created-by-test
  expect_status 1
}

@test "run: pulls a missing image automatically" {
  [[ -z $(blob_snapshot) ]] || fail_test "fresh root already has blobs"
  run mini run --rm "$IMG" echo pulled-and-ran
  expect_status 0
  expect_output_contains pulled-and-ran
  run mini images
  expect_status 0
  expect_output_contains "$IMG"
}

@test "run: a failed run leaves no mount behind" {
  pull_quiet "$IMG"
  run mini run --rm "$IMG" nosuchcmd
  expect_status 127
  no_mounts_left || fail_test "mounts left:" "$(mounts_under "$MINI_ROOT_DIR")"
  run --separate-stderr mini ps -aq
  expect_status 0
  expect_equal "$output" ""

  run mini run --name failed "$IMG" nosuchcmd
  expect_status 127
  no_mounts_left || fail_test "mounts left:" "$(mounts_under "$MINI_ROOT_DIR")"
}

@test "run: --rm removes the container after it exits" {
  pull_quiet "$IMG"
  run mini run --rm --name gone "$IMG" true
  expect_status 0
  run mini ps -a
  expect_status 0
  expect_output_not_contains gone
  no_mounts_left || fail_test "mounts left:" "$(mounts_under "$MINI_ROOT_DIR")"
}

# True if container NAME is listed as "Up ...".
container_status_is_up() {
  local st
  st=$(container_status "$1") || return 1
  [[ $st == Up* ]]
}

@test "run: Ctrl-C (SIGINT) to a foreground run ends it with 130, even as PID 1" {
  pull_quiet "$IMG"
  local out="$BATS_TEST_TMPDIR/fg.out" pid
  "$MINI" --root "$MINI_ROOT_DIR" run --name fg "$IMG" sleep 100 >"$out" 2>&1 &
  pid=$!
  wait_until 20 container_status_is_up fg
  kill -INT "$pid"
  local rc=0
  wait "$pid" || rc=$?
  expect_equal 130 "$rc"
  run mini ps -a
  expect_output_contains "Exited (130)"
}

@test "run: SIGTERM to mini reaches a handler in the container" {
  pull_quiet "$IMG"
  local pid rc=0
  "$MINI" --root "$MINI_ROOT_DIR" run --name trap "$IMG" sh -c 'trap "exit 7" TERM; sleep 100 & wait' \
    >"$BATS_TEST_TMPDIR/t.out" 2>&1 &
  pid=$!
  wait_until 20 container_status_is_up trap
  sleep 0.3 # let sh install its trap
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  expect_equal 7 "$rc"
}

@test "run: --platform pulls the right image when the tag is stored for another platform" {
  run mini pull --platform linux/arm64 "$IMG"
  expect_status 0
  run mini run --rm --platform linux/amd64 "$IMG" uname -m
  expect_status 0
  expect_output_contains "x86_64"
  expect_output_contains "for platform linux/amd64"
}

@test "run: --rm mounts the overlay volatile (no sync at unmount), a kept container does not" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --rm "$IMG" sh -c 'awk "\$5 == \"/\" { print \$NF }" /proc/self/mountinfo'
  expect_status 0
  expect_output_contains volatile
  run --separate-stderr mini run --name kept "$IMG" sh -c 'awk "\$5 == \"/\" { print \$NF }" /proc/self/mountinfo'
  expect_status 0
  expect_output_contains upperdir
  expect_output_not_contains volatile
}

@test "run: mount points come from a tmpfs init layer: nothing is created in the upper dir" {
  pull_quiet "$IMG"
  run --separate-stderr mini run --name initl "$IMG" sh -c 'cat /etc/hostname; stat -c "%a %u %g %Y" /etc'
  expect_status 0
  local id layer_etc
  id=$(readlink "$MINI_ROOT_DIR/names/initl")
  expect_equal "${lines[0]}" "${id:0:12}"
  layer_etc=$(stat -c "%a %u %g %Y" "$MINI_ROOT_DIR"/layers/*/diff/etc)
  expect_equal "${lines[1]}" "$layer_etc"
  # /proc, /sys, /etc/hostname, /etc/hosts, /etc/resolv.conf were mount
  # points of the init layer: the container's own layer holds none of them.
  run find "$MINI_ROOT_DIR/containers/$id/upper" -mindepth 1
  expect_status 0
  expect_equal "$output" ""
  for f in rootfs hostname hosts resolv.conf; do
    [[ ! -e $MINI_ROOT_DIR/containers/$id/$f ]] || fail_test "containers/$id/$f exists"
  done
  # The bind-mounted /etc files are writable, as in Docker.
  run --separate-stderr mini run --rm "$IMG" sh -c 'echo 10.0.0.9 extra >>/etc/hosts && tail -1 /etc/hosts'
  expect_status 0
  expect_equal "$output" "10.0.0.9 extra"
}

@test "run: images whose /etc is a symlink, has its own owner and mode, or is missing" {
  python3 "$BATS_TEST_DIRNAME/run/mkimage_etc.py" "$BATS_TEST_TMPDIR/img"
  local c
  for c in etc-symlink etc-attrs no-etc; do
    skopeo copy --quiet --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/img/$c:latest" \
      "docker://$MINI_TEST_REGISTRY/initl/$c:latest"
  done

  # /etc -> usr/etc: the symlink stays, the files are mounted through it.
  run --separate-stderr mini run --rm "$MINI_TEST_REGISTRY/initl/etc-symlink" \
    sh -c 'readlink /etc; cat /etc/hostname; head -1 /etc/passwd; ls /usr/etc | tr "\n" " "'
  expect_status 0
  expect_equal "${lines[0]}" "usr/etc"
  expect_output_matches "^[0-9a-f]{12}$"
  expect_equal "${lines[2]}" "root:x:0:0:root:/root:/bin/sh"
  expect_equal "${lines[3]}" "group hostname hosts passwd resolv.conf "

  # The init layer repeats the image's /etc attributes (overlayfs shows the
  # topmost layer's).
  run --separate-stderr mini run --rm "$MINI_TEST_REGISTRY/initl/etc-attrs" stat -c "%a %u %g" /etc
  expect_status 0
  expect_equal "$output" "751 1234 5678"

  # No /etc, /proc or /sys in the image: the init layer makes them.
  run --separate-stderr mini run --rm "$MINI_TEST_REGISTRY/initl/no-etc" \
    sh -c 'ls /etc | tr "\n" " "; echo; stat -c "%a %u" /etc; cat /proc/1/comm; ls -d /sys/kernel'
  expect_status 0
  expect_equal "${lines[0]}" "hostname hosts resolv.conf "
  expect_equal "${lines[1]}" "755 0"
  expect_equal "${lines[2]}" "sh"
  expect_equal "${lines[3]}" "/sys/kernel"
}
