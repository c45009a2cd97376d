#!/usr/bin/env bats
# A real multi-layer Debian image: nginx, on private and host networks.

# shellcheck disable=SC2016  # $VARS in single quotes are for the container shell
load helpers

# serves NAME: true when nginx in container NAME answers on its own loopback.
serves() {
  mini exec "$1" curl -s --max-time 2 http://127.0.0.1/ 2>/dev/null | grep -q "Welcome to nginx"
}

host_serves() {
  curl -s --max-time 2 http://127.0.0.1:80/ 2>/dev/null | grep -q "Welcome to nginx"
}

host_port_80_free() {
  [[ -z $(ss -Hltn 'sport = :80') ]]
}

@test "nginx: nginx -t succeeds" {
  pull_quiet "$NGINX"
  run mini run --rm "$NGINX" nginx -t
  expect_status 0
  expect_output_contains "test is successful"
}

@test "nginx: serves on a private network" {
  pull_quiet "$NGINX"
  run --separate-stderr mini run -d --name web "$NGINX"
  expect_status 0
  [[ $output =~ ^[0-9a-f]{64}$ ]] || { show_run; fail_test "run -d did not print an ID"; }
  wait_until 10 serves web
  [[ $(container_status web) == Up* ]] || fail_test "web is not Up: $(container_status web)"
}

@test "nginx: two private-network containers both bind port 80" {
  local host_free=0
  host_port_80_free && host_free=1
  pull_quiet "$NGINX"
  run mini run -d --name web1 "$NGINX"
  expect_status 0
  run mini run -d --name web2 "$NGINX"
  expect_status 0
  wait_until 10 serves web1
  wait_until 10 serves web2
  [[ $(container_status web1) == Up* ]] || fail_test "web1 is not Up"
  [[ $(container_status web2) == Up* ]] || fail_test "web2 is not Up"
  # Nothing leaked onto the host's port 80.
  if ((host_free)); then
    host_port_80_free || fail_test "a private-network nginx bound the host's port 80"
  fi
}

@test "nginx: --net host, the second one fails with Address already in use" {
  host_port_80_free ||
    fail_test "host port 80 is already in use before the test:" "$(ss -Hltnp 'sport = :80')" \
      "free it to run this test"
  pull_quiet "$NGINX"

  run mini run -d --net host --name host1 "$NGINX"
  expect_status 0
  wait_until 10 host_serves

  run mini run -d --net host --name host2 "$NGINX"
  expect_status 0
  wait_until 20 container_exited host2
  local code
  code=$(container_exit_code host2)
  [[ -n $code && $code != 0 ]] || fail_test "host2 exited with '$code', expected non-zero"
  run mini logs host2
  expect_output_contains "Address already in use"

  # host1 is unaffected, and removing it frees the host's port.
  host_serves || fail_test "host1 stopped serving"
  [[ $(container_status host1) == Up* ]] || fail_test "host1 is not Up"
  run mini rm -f host1
  expect_status 0
  wait_until 10 host_port_80_free
}

@test "nginx: stop uses the image's StopSignal and is quick" {
  pull_quiet "$NGINX"
  run mini run -d --name webstop "$NGINX"
  expect_status 0
  wait_until 10 serves webstop
  local start=$SECONDS
  run mini stop webstop
  expect_status 0
  # SIGQUIT makes nginx exit at once; the 10 s SIGKILL timeout must not be needed.
  ((SECONDS - start < 8)) || fail_test "stop took $((SECONDS - start))s"
  container_exited webstop || fail_test "webstop not Exited: $(container_status webstop)"
}
