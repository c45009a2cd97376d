#!/usr/bin/env bats
# mini pull against a Docker-Hub-like registry made of real parts (tests/system/hub/hub.sh):
# nginx with TLS (a test CA made with openssl) in front of docker-registry with bearer tokens
# from a separate token service, blob GETs redirected (307) to a "CDN" (another nginx) that
# refuses any request with Authorization, rate limits, a basic-auth registry for mini login.

# shellcheck disable=SC2030,SC2031  # HOME/PATH changes are per-invocation on purpose
load helpers

HUB_SH=$BATS_TEST_DIRNAME/hub/hub.sh

setup_file() {
  HUB_STATE=$(mktemp -d "${TMPDIR:-/tmp}/mini-hub.XXXXXX")
  export HUB_STATE
  if ! "$HUB_SH" start "$HUB_STATE/hub" "$MINI_TEST_REGISTRY" >"$HUB_STATE/start.log" 2>&1; then
    cat "$HUB_STATE/start.log" >&2
    "$HUB_SH" stop "$HUB_STATE/hub" || true
    return 1
  fi
  set -a
  # shellcheck source=/dev/null
  . "$HUB_STATE/hub/env"
  set +a
}

teardown_file() {
  if [[ -n ${HUB_STATE:-} && -d $HUB_STATE ]]; then
    "$HUB_SH" stop "$HUB_STATE/hub" || true
    rm -rf "$HUB_STATE"
  fi
}

setup() {
  common_setup
  AUTH=$BATS_TEST_TMPDIR/auth.json
  ETC_CERT_DIR=
  BG_PID=
}

teardown() {
  if [[ -n ${BG_PID:-} ]]; then
    kill -9 "$BG_PID" 2>/dev/null || true
    wait "$BG_PID" 2>/dev/null || true
  fi
  # the default CA directory test: leave nothing in /etc
  if [[ -n ${ETC_CERT_DIR:-} ]]; then
    rm -rf "$ETC_CERT_DIR"
    rmdir /etc/mini/certs.d 2>/dev/null || true
    rmdir /etc/mini 2>/dev/null || true
  fi
  common_teardown
}

# hub_mini ARGS...: mini trusting the test CA, with a per-test credentials file.
hub_mini() {
  mini --certs-dir "$HUB_CERTS" --auth-file "$AUTH" "$@"
}

# The registry's manifest digest for busybox on PLATFORM ("linux/arm64/v8"), from the
# shared OCI layout the registry was seeded from.
shared_busybox_manifest() {
  python3 - "$MINI_SHARED_IMAGES/busybox" "$1" <<'PY'
import json, sys
lay, want = sys.argv[1], sys.argv[2]
top = json.load(open(lay + "/index.json"))
tag = [m for m in top["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "latest"][0]
idx = json.load(open(lay + "/blobs/sha256/" + tag["digest"][7:]))
for m in idx["manifests"]:
    p = m.get("platform", {})
    s = "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)
    if s == want:
        print(m["digest"])
PY
}

shared_busybox_index() {
  python3 - "$MINI_SHARED_IMAGES/busybox" <<'PY'
import json, sys
top = json.load(open(sys.argv[1] + "/index.json"))
print([m for m in top["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "latest"][0]["digest"])
PY
}

# The first layer digest of manifest DIGEST in the shared busybox layout.
shared_busybox_layer() {
  python3 - "$MINI_SHARED_IMAGES/busybox" "$1" <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + "/blobs/sha256/" + sys.argv[2][7:]))
print(m["layers"][0]["digest"], m["layers"][0]["size"])
PY
}

store_has_blob() {
  [[ -f $MINI_ROOT_DIR/$BLOBS_SUBDIR/${1#sha256:} ]]
}

lines_of() { wc -l <"$1"; }

# new_lines FILE FROM: the lines of FILE after line FROM.
new_lines() {
  tail -n "+$(($2 + 1))" "$1"
}

partial_size() {
  local f
  f=$(find "$MINI_ROOT_DIR/ingest" -name '*.partial' -size +0 2>/dev/null | head -1)
  [[ -n $f ]] && stat -c %s "$f"
}

partial_at_least() {
  local n
  n=$(partial_size) || return 1
  ((n >= $1))
}

# Start `mini pull ARGS` in the background (BG_PID), output to $BATS_TEST_TMPDIR/bg.out.
bg_pull() {
  "$MINI" --root "$MINI_ROOT_DIR" --certs-dir "$HUB_CERTS" --auth-file "$AUTH" pull "$@" \
    >"$BATS_TEST_TMPDIR/bg.out" 2>&1 3>&- &
  BG_PID=$!
}

# ---------------------------------------------------------------------------

@test "hub: pull through token service, CDN redirect and TLS; the CDN never sees Authorization" {
  local tok0 front0 cdn0 want
  tok0=$(lines_of "$HUB_DIR/token.log")
  front0=$(lines_of "$HUB_DIR/front.log")
  cdn0=$(lines_of "$HUB_DIR/cdn.log")
  want=$(shared_busybox_index)

  run hub_mini pull "$HUB_FRONT/library/busybox"
  expect_status 0
  expect_output_contains "Digest: $want"
  expect_output_contains "$HUB_FRONT/library/busybox:latest"
  verify_blobs
  store_has_blob "$(shared_busybox_manifest linux/amd64)" || fail_test "amd64 manifest not stored"

  # one anonymous token for the repository's scope, reused for every request
  run new_lines "$HUB_DIR/token.log" "$tok0"
  [[ $(grep -c . <<<"$output") == 1 ]] || { show_run; fail_test "expected exactly one token request"; }
  expect_output_contains "scope=repository%3Alibrary%2Fbusybox%3Apull"
  expect_output_contains "service=$HUB_SERVICE"
  expect_output_contains "user=-"
  # the registry redirected blob GETs (with the token) to the CDN...
  run new_lines "$HUB_DIR/front.log" "$front0"
  expect_output_matches '"GET /v2/library/busybox/blobs/sha256:[0-9a-f]{64} HTTP/1.1" 307 .* auth="Bearer"'
  expect_output_matches '"GET /v2/library/busybox/manifests/latest HTTP/1.1" 200 .* auth="Bearer"'
  # ...which served them and never saw an Authorization header
  run new_lines "$HUB_DIR/cdn.log" "$cdn0"
  expect_output_matches '"GET /docker/registry/v2/blobs/sha256/[0-9a-f]{2}/[0-9a-f]{64}/data HTTP/1.1" 200 '
  expect_output_not_contains 'auth="Bearer'
  expect_output_not_contains 'auth="Basic'
  run grep -vc 'auth="-"' "$HUB_DIR/cdn.log"
  [[ $output == 0 ]] || fail_test "the CDN saw requests with Authorization: $(grep -v 'auth="-"' "$HUB_DIR/cdn.log")"
}

@test "hub: without its CA the registry is refused, naming the host and how to trust it" {
  mkdir -p "$BATS_TEST_TMPDIR/no-certs"
  run mini --certs-dir "$BATS_TEST_TMPDIR/no-certs" --auth-file "$AUTH" pull "$HUB_FRONT/library/busybox"
  expect_failure
  expect_output_contains "$HUB_FRONT"
  expect_output_imatches "certificate"
  expect_output_contains "$BATS_TEST_TMPDIR/no-certs/$HUB_FRONT/ca.crt"
  expect_output_contains "insecure-registries"
  [[ -z $(find "$MINI_ROOT_DIR" -path "*/$BLOBS_SUBDIR/*" -type f) ]] || fail_test "blobs stored without TLS trust"
  # and no plain-HTTP fallback happened: the front saw no request from this pull
}

@test "hub: the CA in /etc/mini/certs.d/HOST:PORT/ca.crt (the default) is trusted" {
  [[ ! -e /etc/mini/certs.d/$HUB_FRONT ]] || fail_test "/etc/mini/certs.d/$HUB_FRONT exists already"
  ETC_CERT_DIR=/etc/mini/certs.d/$HUB_FRONT
  mkdir -p "$ETC_CERT_DIR"
  cp "$HUB_CA" "$ETC_CERT_DIR/ca.crt"

  run mini --auth-file "$AUTH" pull "$HUB_FRONT/library/busybox"
  expect_status 0
  expect_output_contains "Digest: sha256:"
  verify_blobs
}

@test "hub: Docker's certs.d layout (any *.crt) and --insecure-registry" {
  local d=$BATS_TEST_TMPDIR/docker-certs.d
  mkdir -p "$d/$HUB_FRONT"
  cp "$HUB_CA" "$d/$HUB_FRONT/hub-test-ca.crt"
  run mini --certs-dir "$d" --auth-file "$AUTH" pull "$HUB_FRONT/library/busybox"
  expect_status 0

  # insecure-registries: TLS without verification (no CA at all)
  rm -rf "${MINI_ROOT_DIR:?}"/*
  mkdir -p "$BATS_TEST_TMPDIR/none"
  run mini --certs-dir "$BATS_TEST_TMPDIR/none" --insecure-registry "$HUB_FRONT" --auth-file "$AUTH" \
    pull "$HUB_FRONT/library/busybox"
  expect_status 0
  verify_blobs
}

@test "hub: login to a basic-auth (htpasswd) registry, pull, logout" {
  local front0
  run hub_mini pull "$HUB_BASIC/library/busybox"
  expect_failure
  expect_output_contains "mini login $HUB_BASIC"

  run bash -c 'echo wonderland | "$@"' _ "$MINI" --root "$MINI_ROOT_DIR" --certs-dir "$HUB_CERTS" \
    --auth-file "$AUTH" login -u alice --password-stdin "$HUB_BASIC"
  expect_status 0
  expect_output_contains "Login Succeeded"
  [[ $(stat -c %a "$AUTH") == 600 ]] || fail_test "credentials file mode $(stat -c %a "$AUTH"), want 600"
  run python3 -c 'import json,sys,base64; a=json.load(open(sys.argv[1]))["auths"][sys.argv[2]]["auth"]; print(base64.b64decode(a).decode())' "$AUTH" "$HUB_BASIC"
  expect_status 0
  expect_equal "$output" "alice:wonderland"

  front0=$(lines_of "$HUB_DIR/basic.log")
  run hub_mini pull "$HUB_BASIC/library/busybox"
  expect_status 0
  expect_output_contains "Digest: sha256:"
  run new_lines "$HUB_DIR/basic.log" "$front0"
  expect_output_matches '"GET /v2/library/busybox/manifests/latest HTTP/1.1" 200 .* auth="Basic"'

  run hub_mini logout "$HUB_BASIC"
  expect_status 0
  expect_output_contains "Removing login credentials for $HUB_BASIC"
  run hub_mini logout "$HUB_BASIC"
  expect_status 0
  expect_output_contains "Not logged in to $HUB_BASIC"
  rm -rf "${MINI_ROOT_DIR:?}"/*
  run hub_mini pull "$HUB_BASIC/library/busybox"
  expect_failure
  expect_output_contains "mini login"
}

@test "hub: a wrong password is a clear error, and nothing is stored" {
  run bash -c 'echo wrong | "$@"' _ "$MINI" --root "$MINI_ROOT_DIR" --certs-dir "$HUB_CERTS" \
    --auth-file "$AUTH" login -u alice --password-stdin "$HUB_BASIC"
  expect_failure
  expect_output_contains "login to $HUB_BASIC failed"
  expect_output_contains "incorrect username or password"
  [[ ! -e $AUTH ]] || fail_test "a failed login wrote $AUTH"

  # through the token service too
  run bash -c 'echo wrong | "$@"' _ "$MINI" --root "$MINI_ROOT_DIR" --certs-dir "$HUB_CERTS" \
    --auth-file "$AUTH" login -u alice --password-stdin "$HUB_FRONT"
  expect_failure
  expect_output_contains "incorrect username or password"

  # stored credentials that the token service refuses: the pull says so
  printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$HUB_FRONT" "$(printf alice:wrong | base64)" >"$AUTH"
  run hub_mini pull "$HUB_FRONT/private/busybox"
  expect_failure
  expect_output_contains "incorrect username or password"
  expect_output_contains "alice"
}

@test "hub: a private repository: denied anonymously, pulled after mini login (bearer with credentials)" {
  local tok0
  run hub_mini pull "$HUB_FRONT/private/busybox"
  expect_failure
  expect_output_contains "pull access denied"
  expect_output_contains "mini login $HUB_FRONT"

  run bash -c 'echo wonderland | "$@"' _ "$MINI" --root "$MINI_ROOT_DIR" --certs-dir "$HUB_CERTS" \
    --auth-file "$AUTH" login -u alice --password-stdin "$HUB_FRONT"
  expect_status 0
  expect_output_contains "Login Succeeded"

  tok0=$(lines_of "$HUB_DIR/token.log")
  run hub_mini pull "$HUB_FRONT/private/busybox"
  expect_status 0
  verify_blobs
  run new_lines "$HUB_DIR/token.log" "$tok0"
  expect_output_contains "scope=repository%3Aprivate%2Fbusybox%3Apull"
  expect_output_contains "account=alice"
  expect_output_contains "user=alice"
}

@test "hub: credentials from credential helpers (credHelpers over credsStore) and ~/.docker/config.json" {
  local bin=$BATS_TEST_TMPDIR/bin home=$BATS_TEST_TMPDIR/home
  mkdir -p "$bin" "$home/.docker"
  # a docker-credential helper that knows alice for the hub and logs its calls
  cat >"$bin/docker-credential-minitest" <<EOF
#!/bin/sh
read -r server
echo "\$1 \$server" >>"$BATS_TEST_TMPDIR/helper.log"
if [ "\$1" = get ] && [ "\$server" = "$HUB_FRONT" ]; then
  printf '{"ServerURL":"%s","Username":"alice","Secret":"wonderland"}\n' "\$server"
  exit 0
fi
echo "credentials not found in native keychain"
exit 1
EOF
  chmod +x "$bin/docker-credential-minitest"

  # credHelpers names the helper for this registry; credsStore names one that does not exist
  printf '{"credsStore":"nosuchhelper","credHelpers":{"%s":"minitest"}}\n' "$HUB_FRONT" >"$AUTH"
  PATH=$bin:$PATH run hub_mini pull "$HUB_FRONT/private/busybox"
  expect_status 0
  grep -qx "get $HUB_FRONT" "$BATS_TEST_TMPDIR/helper.log" || fail_test "helper not asked: $(cat "$BATS_TEST_TMPDIR/helper.log")"

  # credsStore alone
  rm -rf "${MINI_ROOT_DIR:?}"/*
  printf '{"credsStore":"minitest"}\n' >"$AUTH"
  PATH=$bin:$PATH run hub_mini pull "$HUB_FRONT/private/busybox"
  expect_status 0

  # without --auth-file: ~/.docker/config.json
  rm -rf "${MINI_ROOT_DIR:?}"/*
  printf '{"auths":{"https://%s/v1/":{"auth":"%s"}}}\n' "$HUB_FRONT" "$(printf alice:wonderland | base64)" \
    >"$home/.docker/config.json"
  HOME=$home run mini --certs-dir "$HUB_CERTS" pull "$HUB_FRONT/private/busybox"
  expect_status 0
  verify_blobs
}

@test "hub: token answers with access_token are accepted" {
  run hub_mini pull "$HUB_FRONT/oauth/busybox"
  expect_status 0
  expect_output_contains "$HUB_FRONT/oauth/busybox:latest"
}

@test "hub: an expired token is renewed on 401" {
  local tok0 front0
  tok0=$(lines_of "$HUB_DIR/token.log")
  front0=$(lines_of "$HUB_DIR/front.log")
  run hub_mini pull "$HUB_FRONT/shortlived/busybox"
  expect_status 0
  verify_blobs
  # the first token was already expired: refused once, then renewed
  run new_lines "$HUB_DIR/front.log" "$front0"
  expect_output_matches '"GET /v2/shortlived/busybox/manifests/latest HTTP/1.1" 401 .* auth="Bearer"'
  expect_output_matches '"GET /v2/shortlived/busybox/manifests/latest HTTP/1.1" 200 '
  run new_lines "$HUB_DIR/token.log" "$tok0"
  [[ $(grep -c 'shortlived' <<<"$output") == 2 ]] || { show_run; fail_test "expected two token requests"; }
}

@test "hub: 429 with Retry-After is waited for, then the pull succeeds" {
  local front0 start elapsed
  front0=$(lines_of "$HUB_DIR/front.log")
  # use up the path's allowance (one request every 2 s)
  curl -s -o /dev/null --cacert "$HUB_CA" "https://$HUB_FRONT/v2/ratelimit/busybox/manifests/latest"
  start=$(date +%s%N)
  run hub_mini pull "$HUB_FRONT/ratelimit/busybox"
  elapsed=$((($(date +%s%N) - start) / 1000000))
  expect_status 0
  expect_output_contains "Retry-After"
  run new_lines "$HUB_DIR/front.log" "$front0"
  expect_output_matches '"GET /v2/ratelimit/busybox/manifests/latest HTTP/1.1" 429 '
  expect_output_matches '"GET /v2/ratelimit/busybox/manifests/latest HTTP/1.1" 200 '
  ((elapsed >= 1500)) || fail_test "did not wait for Retry-After (${elapsed} ms)"
  verify_blobs
}

@test "hub: a Retry-After beyond mini's bound fails at once, saying so" {
  local start elapsed
  start=$SECONDS
  run hub_mini pull "$HUB_FRONT/toolong/busybox"
  elapsed=$((SECONDS - start))
  expect_failure
  expect_output_contains "3600"
  expect_output_imatches "too many requests"
  ((elapsed < 30)) || fail_test "took ${elapsed}s"
}

@test "hub: a 503 is retried with backoff" {
  local front0
  front0=$(lines_of "$HUB_DIR/front.log")
  curl -s -o /dev/null --cacert "$HUB_CA" "https://$HUB_FRONT/v2/flaky/busybox/manifests/latest"
  run hub_mini pull "$HUB_FRONT/flaky/busybox"
  expect_status 0
  expect_output_imatches "retrying"
  run new_lines "$HUB_DIR/front.log" "$front0"
  expect_output_matches '"GET /v2/flaky/busybox/manifests/latest HTTP/1.1" 503 '
  expect_output_matches '"GET /v2/flaky/busybox/manifests/latest HTTP/1.1" 200 '
}

@test "hub: a connection cut in the middle of a blob is resumed with a Range request" {
  local layer size cdn0 worker master range
  read -r layer size < <(shared_busybox_layer "$(shared_busybox_manifest linux/amd64)")
  cdn0=$(lines_of "$HUB_DIR/cdn.log")
  bg_pull "$HUB_FRONT/slow/busybox"
  wait_until 30 partial_at_least 300000
  # kill the CDN's worker process: every connection it serves is cut (nginx starts another)
  master=$(cat "$HUB_CDN_PIDFILE")
  worker=$(pgrep -P "$master")
  [[ -n $worker ]] || fail_test "no CDN worker"
  kill -9 $worker
  wait "$BG_PID" || { cat "$BATS_TEST_TMPDIR/bg.out" >&2; fail_test "the pull failed"; }
  BG_PID=
  cat "$BATS_TEST_TMPDIR/bg.out"
  grep -q "Retrying" "$BATS_TEST_TMPDIR/bg.out" || fail_test "no retry reported: $(cat "$BATS_TEST_TMPDIR/bg.out")"
  store_has_blob "$layer" || fail_test "layer $layer not stored"
  verify_blobs
  run new_lines "$HUB_DIR/cdn.log" "$cdn0"
  range=$(grep -F "${layer#sha256:}" <<<"$output" | grep ' 206 ' | sed -nE 's/.*range="bytes=([0-9]+)-".*/\1/p' | head -1)
  [[ -n $range ]] || { show_run; fail_test "no 206 answer to a Range request for the layer"; }
  ((range >= 300000 && range < size)) || fail_test "resumed at byte $range of $size"
}

@test "hub: after kill -9 of mini mid-pull, the next pull resumes and finishes" {
  local layer size cdn0 before range sent
  read -r layer size < <(shared_busybox_layer "$(shared_busybox_manifest linux/amd64)")
  bg_pull "$HUB_FRONT/slow/busybox"
  wait_until 30 partial_at_least 400000
  kill -9 "$BG_PID"
  wait "$BG_PID" || true
  BG_PID=
  before=$(partial_size)
  ((before >= 400000 && before < size)) || fail_test "partial file has $before bytes"
  ! store_has_blob "$layer" || fail_test "the layer is complete already"

  cdn0=$(lines_of "$HUB_DIR/cdn.log")
  run hub_mini pull "$HUB_FRONT/slow/busybox"
  expect_status 0
  expect_output_contains "Resuming at"
  store_has_blob "$layer" || fail_test "layer not stored"
  verify_blobs
  [[ -z $(find "$MINI_ROOT_DIR/ingest" -type f) ]] || fail_test "partial files left: $(ls "$MINI_ROOT_DIR/ingest")"
  run new_lines "$HUB_DIR/cdn.log" "$cdn0"
  range=$(grep -F "${layer#sha256:}" <<<"$output" | sed -nE 's/.*" 206 ([0-9]+) range="bytes=([0-9]+)-".*/\2 \1/p' | head -1)
  [[ -n $range ]] || { show_run; fail_test "no 206 answer to a Range request"; }
  read -r range sent <<<"$range"
  expect_equal "$range" "$before"
  expect_equal "$((range + sent))" "$size"
}

@test "hub: a server that answers 200 to a Range request makes mini start over cleanly" {
  local layer size cdn0 line
  read -r layer size < <(shared_busybox_layer "$(shared_busybox_manifest linux/amd64)")
  bg_pull "$HUB_FRONT/norange/busybox"
  wait_until 30 partial_at_least 300000
  kill -9 "$BG_PID"
  wait "$BG_PID" || true
  BG_PID=

  cdn0=$(lines_of "$HUB_DIR/cdn.log")
  run hub_mini pull "$HUB_FRONT/norange/busybox"
  expect_status 0
  expect_output_contains "Restarting"
  verify_blobs
  store_has_blob "$layer" || fail_test "layer not stored"
  run new_lines "$HUB_DIR/cdn.log" "$cdn0"
  line=$(grep -F "${layer#sha256:}" <<<"$output" | head -1)
  [[ $line =~ \"\ 200\ $size\ range=\"bytes=[1-9][0-9]*-\" ]] || { show_run; fail_test "expected a Range request answered 200 with all $size bytes"; }
}

@test "hub: a blob served with wrong bytes is refused and the store stays unchanged" {
  local layer size hex bad
  read -r layer size < <(shared_busybox_layer "$(shared_busybox_manifest linux/amd64)")
  hex=${layer#sha256:}
  bad=$HUB_DIR/badroot/bad/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data
  mkdir -p "$(dirname "$bad")"
  cp "$HUB_DATA/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data" "$bad"
  printf '\x01\x02\x03\x04' | dd of="$bad" bs=1 seek=4 conv=notrunc status=none
  [[ $(stat -c %s "$bad") == "$size" ]] || fail_test "bad copy has another size"

  run hub_mini pull "$HUB_FRONT/bad/busybox"
  rm -f "$bad"
  expect_failure
  expect_output_contains "digest mismatch"
  expect_output_contains "$layer"
  ! store_has_blob "$layer" || fail_test "the wrong blob was stored"
  [[ -z $(find "$MINI_ROOT_DIR" -name "*$hex*") ]] || fail_test "files named after the blob: $(find "$MINI_ROOT_DIR" -name "*$hex*")"
  verify_blobs
  run mini images
  expect_output_not_contains "bad/busybox"
}

@test "hub: --platform linux/arm64 and linux/arm/v7 pick the manifests of the shared busybox" {
  local arm64 armv7 amd64
  arm64=$(shared_busybox_manifest linux/arm64/v8)
  armv7=$(shared_busybox_manifest linux/arm/v7)
  amd64=$(shared_busybox_manifest linux/amd64)
  [[ $arm64 == sha256:* && $armv7 == sha256:* ]] || fail_test "shared busybox lacks arm64/armv7"

  run hub_mini pull --platform linux/arm64 "$HUB_FRONT/library/busybox"
  expect_status 0
  store_has_blob "$arm64" || fail_test "linux/arm64 did not store $arm64"
  ! store_has_blob "$amd64" || fail_test "linux/arm64 stored the amd64 manifest"

  rm -rf "${MINI_ROOT_DIR:?}"/*
  run hub_mini pull --platform linux/arm64/v8 "$HUB_FRONT/library/busybox"
  expect_status 0
  store_has_blob "$arm64" || fail_test "linux/arm64/v8 did not store $arm64"

  rm -rf "${MINI_ROOT_DIR:?}"/*
  run hub_mini pull --platform linux/arm/v7 "$HUB_FRONT/library/busybox"
  expect_status 0
  store_has_blob "$armv7" || fail_test "linux/arm/v7 did not store $armv7"
  verify_blobs

  # arm v6 is not v7
  run hub_mini pull --platform linux/arm/v6 "$HUB_FRONT/library/busybox"
  expect_failure
  expect_output_contains "linux/arm/v6"
  expect_output_contains "linux/arm/v7"
}

@test "hub: an unknown platform is an error listing the platforms that exist" {
  run hub_mini pull --platform linux/mips64le "$HUB_FRONT/library/busybox"
  expect_failure
  expect_output_contains "no matching manifest for linux/mips64le"
  expect_output_contains "linux/amd64"
  expect_output_contains "linux/arm64/v8"
  expect_output_contains "linux/arm/v7"
  expect_output_contains "linux/s390x"
}

# Milliseconds from the start of the first to the end of the last request of the cdn log
# lines on stdin.
transfer_window_ms() {
  python3 -c '
import re, sys
r = []
for line in sys.stdin:
    m = re.search(r"t=([0-9.]+) rt=([0-9.]+)", line)
    if m:
        end = float(m.group(1))
        r.append((end - float(m.group(2)), end))
print(int(1000 * (max(e for _, e in r) - min(s for s, _ in r))))
'
}

# Number of blob requests in the cdn log lines on stdin that overlapped the largest one in
# time (by more than 5 ms at both ends).
overlapping_with_largest() {
  python3 -c '
import re, sys
reqs = []
for line in sys.stdin:
    m = re.search(r"\" 20[06] (\d+) .* t=([0-9.]+) rt=([0-9.]+)", line)
    if m:
        size, end, rt = int(m.group(1)), float(m.group(2)), float(m.group(3))
        reqs.append((size, end - rt, end))
big = max(reqs)
print(sum(1 for r in reqs if r is not big and r[1] < big[2] - 0.005 and r[2] > big[1] + 0.005))
'
}

@test "hub: nginx pushed as Docker v2s2 runs; layers download in parallel (--max-concurrent-downloads)" {
  local cdn0 t0 t1
  cdn0=$(lines_of "$HUB_DIR/cdn.log")
  t0=$(date +%s%N)
  run hub_mini pull "$HUB_FRONT/library/nginx"
  t1=$(date +%s%N)
  expect_status 0
  verify_blobs
  echo "# mini pull nginx (v2s2) through the hub: $(((t1 - t0) / 1000000)) ms in all (with layer extraction)," \
    "blob transfers $(new_lines "$HUB_DIR/cdn.log" "$cdn0" | transfer_window_ms) ms" >&3
  run python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mediaType"])' \
    "$MINI_ROOT_DIR/$BLOBS_SUBDIR/$(registry_manifest_hex)"
  expect_output_contains "application/vnd.docker.distribution.manifest.v2+json"
  run mini run --rm "$HUB_FRONT/library/nginx" nginx -v
  expect_status 0
  expect_output_contains "nginx version"

  # default: several layers at once (the big one overlaps others)
  run overlapping_with_largest < <(new_lines "$HUB_DIR/cdn.log" "$cdn0")
  ((output >= 1)) || fail_test "no download overlapped the largest layer"

  # --max-concurrent-downloads 1: one after the other
  rm -rf "${MINI_ROOT_DIR:?}"/*
  cdn0=$(lines_of "$HUB_DIR/cdn.log")
  run hub_mini --max-concurrent-downloads 1 pull "$HUB_FRONT/library/nginx"
  expect_status 0
  run overlapping_with_largest < <(new_lines "$HUB_DIR/cdn.log" "$cdn0")
  expect_equal "$output" 0

  # skopeo copy of the same image through the same registry, for comparison
  t0=$(date +%s%N)
  skopeo --insecure-policy copy --quiet --src-cert-dir "$HUB_CERTS/$HUB_FRONT" \
    "docker://$HUB_FRONT/library/nginx:latest" "oci:$BATS_TEST_TMPDIR/skopeo-nginx:latest"
  t1=$(date +%s%N)
  echo "# skopeo copy nginx through the hub: $(((t1 - t0) / 1000000)) ms" >&3
}

# hex of the manifest the store's newest reference points to, from `mini images --digests`
registry_manifest_hex() {
  local d
  d=$(curl -s -I --cacert "$HUB_CA" -H "Authorization: Bearer $(hub_token library/nginx)" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "https://$HUB_FRONT/v2/library/nginx/manifests/latest" |
    tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }')
  echo "${d#sha256:}"
}

hub_token() {
  curl -s --cacert "$HUB_CA" "https://$HUB_TOKEN/token?service=$HUB_SERVICE&scope=repository:$1:pull" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

@test "hub: nginx with zstd layers (skopeo --dest-compress-format zstd) runs" {
  run hub_mini pull "$HUB_FRONT/zstd/nginx"
  expect_status 0
  verify_blobs
  grep -rqs 'tar+zstd' "$MINI_ROOT_DIR/$BLOBS_SUBDIR" || fail_test "no zstd layer in the stored manifest"
  run mini run --rm "$HUB_FRONT/zstd/nginx" nginx -v
  expect_status 0
  expect_output_contains "nginx version"
}

@test "hub: uncompressed layers (skopeo --dest-decompress) run" {
  run hub_mini pull "$HUB_FRONT/plain/busybox"
  expect_status 0
  grep -rqs '"application/vnd.oci.image.layer.v1.tar"' "$MINI_ROOT_DIR/$BLOBS_SUBDIR" ||
    fail_test "no uncompressed layer in the stored manifest"
  run mini run --rm "$HUB_FRONT/plain/busybox" echo plain-layers
  expect_status 0
  expect_output_contains plain-layers
}

@test "hub: foreign (non-distributable) layers come from their urls first, without credentials" {
  local layer size cdn0 front0
  read -r layer size < <(shared_busybox_layer "$(shared_busybox_manifest linux/amd64)")
  cdn0=$(lines_of "$HUB_DIR/cdn.log")
  front0=$(lines_of "$HUB_DIR/front.log")
  run hub_mini pull "$HUB_FRONT/foreign/busybox"
  expect_status 0
  store_has_blob "$layer" || fail_test "foreign layer not stored"
  verify_blobs
  run new_lines "$HUB_DIR/cdn.log" "$cdn0"
  expect_output_contains "\"GET /foreign/${layer#sha256:} HTTP/1.1\" 200 $size range=\"-\" auth=\"-\""
  run new_lines "$HUB_DIR/front.log" "$front0"
  expect_output_not_contains "/blobs/$layer"

  # a URL that fails: the registry serves the layer
  rm -rf "${MINI_ROOT_DIR:?}"/*
  cdn0=$(lines_of "$HUB_DIR/cdn.log")
  front0=$(lines_of "$HUB_DIR/front.log")
  run hub_mini pull "$HUB_FRONT/foreign/busybox:broken"
  expect_status 0
  store_has_blob "$layer" || fail_test "foreign layer not stored"
  run new_lines "$HUB_DIR/cdn.log" "$cdn0"
  expect_output_contains "\"GET /foreign/missing-${layer#sha256:} HTTP/1.1\" 404"
  run new_lines "$HUB_DIR/front.log" "$front0"
  expect_output_contains "\"GET /v2/foreign/busybox/blobs/$layer HTTP/1.1\" 307"
  run mini run --rm "$HUB_FRONT/foreign/busybox:broken" echo foreign-ok
  expect_status 0
  expect_output_contains foreign-ok
}

@test "hub: attestation entries of an index are skipped" {
  run hub_mini pull "$HUB_FRONT/attest/busybox"
  expect_status 0
  store_has_blob "$(shared_busybox_manifest linux/amd64)" || fail_test "amd64 manifest not stored"
  ! store_has_blob "$(cat "$HUB_DIR/attest/att.digest")" || fail_test "the attestation manifest was fetched"
  run hub_mini pull --platform linux/arm64 "$HUB_FRONT/attest/busybox"
  expect_failure
  expect_output_contains "available: linux/amd64)"
  expect_output_not_contains "unknown"
}

@test "hub: a schema 1 manifest is refused with a clear message" {
  run hub_mini pull "$HUB_FRONT/old/busybox"
  expect_failure
  expect_output_contains "schema 1"
  expect_output_contains "not supported"
}

@test "hub: pulling a cached tag costs one HEAD and nothing more when unchanged" {
  local front0 cdn0
  run hub_mini pull "$HUB_FRONT/library/busybox"
  expect_status 0
  front0=$(lines_of "$HUB_DIR/front.log")
  cdn0=$(lines_of "$HUB_DIR/cdn.log")

  run hub_mini pull "$HUB_FRONT/library/busybox"
  expect_status 0
  expect_output_contains "Image is up to date"
  run new_lines "$HUB_DIR/front.log" "$front0"
  [[ $(grep -c '"HEAD /v2/library/busybox/manifests/latest HTTP/1.1" 200' <<<"$output") == 1 ]] ||
    { show_run; fail_test "expected one HEAD of the manifest"; }
  expect_output_not_contains '"GET /v2/library/busybox/manifests/'
  expect_output_not_contains '/blobs/'
  [[ $(lines_of "$HUB_DIR/cdn.log") == "$cdn0" ]] || fail_test "the CDN served something"
}

@test "hub: mirrors for any registry, falling back to the origin; by digest through a mirror" {
  local cfg=$BATS_TEST_TMPDIR/config.json front0 mirror0 digest
  local mlog=$MINI_TEST_REGISTRY_DIR/log
  digest=$(shared_busybox_index)
  # the suite's registry holds the same busybox: a mirror of the hub (plain HTTP on loopback)
  printf '{"registry-mirrors-per-registry":{"%s":["http://%s"]}}\n' "$HUB_FRONT" "$MINI_TEST_REGISTRY" >"$cfg"
  front0=$(lines_of "$HUB_DIR/front.log")
  mirror0=$(lines_of "$mlog")
  run hub_mini --config "$cfg" pull "$HUB_FRONT/library/busybox"
  expect_status 0
  expect_output_contains "Digest: $digest"
  expect_output_contains "$HUB_FRONT/library/busybox:latest"
  run new_lines "$mlog" "$mirror0"
  expect_output_contains "GET /v2/library/busybox/manifests/latest"
  run new_lines "$HUB_DIR/front.log" "$front0"
  expect_output_not_contains "/manifests/"

  # by digest, through the mirror
  rm -rf "${MINI_ROOT_DIR:?}"/*
  mirror0=$(lines_of "$mlog")
  run hub_mini --config "$cfg" pull "$HUB_FRONT/library/busybox@$digest"
  expect_status 0
  run new_lines "$mlog" "$mirror0"
  expect_output_contains "GET /v2/library/busybox/manifests/$digest"

  # a mirror that fails: the origin serves
  rm -rf "${MINI_ROOT_DIR:?}"/*
  printf '{"registry-mirrors-per-registry":{"%s":["http://127.0.0.1:1"]}}\n' "$HUB_FRONT" >"$cfg"
  front0=$(lines_of "$HUB_DIR/front.log")
  run hub_mini --config "$cfg" pull "$HUB_FRONT/library/busybox"
  expect_status 0
  run new_lines "$HUB_DIR/front.log" "$front0"
  expect_output_contains "GET /v2/library/busybox/manifests/latest"

  # the command line form HOST=URL
  rm -rf "${MINI_ROOT_DIR:?}"/*
  mirror0=$(lines_of "$mlog")
  run hub_mini --registry-mirror "$HUB_FRONT=http://$MINI_TEST_REGISTRY" pull "$HUB_FRONT/library/busybox"
  expect_status 0
  run new_lines "$mlog" "$mirror0"
  expect_output_contains "GET /v2/library/busybox/manifests/latest"
}

@test "hub: progress: one line per layer event in logs, bars with rate on a terminal, none with -q" {
  local layer size
  read -r layer size < <(shared_busybox_layer "$(shared_busybox_manifest linux/amd64)")
  run --separate-stderr hub_mini pull "$HUB_FRONT/library/busybox"
  expect_status 0
  [[ $stderr == *"${layer:7:12}: Pulling fs layer"* ]] || fail_test "stderr: $stderr"
  [[ $stderr == *"${layer:7:12}: Download complete"* ]] || fail_test "stderr: $stderr"
  [[ $stderr != *"Downloading ["* && $stderr != *$'\033'* ]] || fail_test "bars in a log: $stderr"
  (($(grep -c "${layer:7:12}" <<<"$stderr") <= 3)) || fail_test "too many lines: $stderr"

  # a terminal (script(1) gives mini a pty): bars redrawn in place, bytes and rate
  rm -rf "${MINI_ROOT_DIR:?}"/*
  script -qec "$MINI --root $MINI_ROOT_DIR --certs-dir $HUB_CERTS --auth-file $AUTH pull $HUB_FRONT/slow/busybox" \
    "$BATS_TEST_TMPDIR/tty.log" >/dev/null
  run cat "$BATS_TEST_TMPDIR/tty.log"
  expect_output_contains "${layer:7:12}: Downloading ["
  expect_output_matches 'Downloading \[=+>? *\] [0-9.]+[kM]B/2\.226MB  [0-9.]+kB/s'
  expect_output_contains $'\033[1A'
  expect_output_contains "Digest: sha256:"

  # -q: the reference alone
  rm -rf "${MINI_ROOT_DIR:?}"/*
  run --separate-stderr hub_mini pull -q "$HUB_FRONT/library/busybox"
  expect_status 0
  expect_equal "$output" "$HUB_FRONT/library/busybox:latest"
  expect_equal "$stderr" ""
}

@test "hub: proxies come from libcurl's environment variables (http_proxy)" {
  local p0
  p0=$(lines_of "$HUB_DIR/proxy.log")
  http_proxy=http://$HUB_PROXY no_proxy= NO_PROXY= run mini pull "$MINI_TEST_REGISTRY/library/busybox"
  expect_status 0
  run new_lines "$HUB_DIR/proxy.log" "$p0"
  expect_output_contains "GET http://$MINI_TEST_REGISTRY/v2/library/busybox/manifests/latest"
}
