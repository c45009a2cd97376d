#!/usr/bin/env bats
# libcurl is loaded only by the verbs that talk to a registry (pull/curl-loader.c):
# mini does not link it, local verbs never map it, and without it they still work
# while pull says how to install it.

load helpers

SRV_PID=
teardown() {
  if [[ -n $SRV_PID ]]; then
    kill "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
  fi
  common_teardown
}

# LD_DEBUG=files of one mini invocation (stderr), the command's own output after it.
ld_files() {
  LD_DEBUG=files timeout --kill-after=10 "$MINI_TEST_TIMEOUT" \
    "$MINI" --root "$MINI_ROOT_DIR" "$@" 2>&1 3>&-
}

@test "curl_lazy: not linked; pull and login load it, run/exec/ps/images/stop/rm do not" {
  run ldd "$MINI"
  expect_status 0
  expect_output_contains "libc.so"
  expect_output_not_contains "libcurl"

  run ld_files pull "$IMG"
  expect_status 0
  expect_output_matches 'file=libcurl\.so\.4 .*dynamically loaded by'

  # login fails (the registry takes no credentials), but only after loading it.
  run ld_files login -u nobody -p secret "$REG"
  expect_output_matches 'file=libcurl\.so\.4 .*dynamically loaded by'

  run ld_files run --rm "$IMG" true
  expect_status 0
  expect_output_contains "file=libjansson.so.4"   # LD_DEBUG did report this process
  expect_output_not_contains "libcurl"

  run --separate-stderr mini run -d --name lazy "$IMG" sleep 30000
  expect_status 0
  for verb in "exec lazy true" "ps" "images" "inspect lazy" "stop -t 1 lazy" "rm lazy"; do
    # shellcheck disable=SC2086  # split the verb and its arguments
    run ld_files $verb
    expect_status 0
    expect_output_contains "file=libjansson.so.4"
    expect_output_not_contains "libcurl"
  done
}

@test "curl_lazy: without libcurl.so.4, local verbs work and pull says what to install" {
  local lib dir up wk
  pull_quiet "$IMG"
  lib=$(ldconfig -p | awk '$1 == "libcurl.so.4" && /x86-64/ { print $NF; exit }')
  [[ -n $lib ]] || fail_test "libcurl.so.4 is not in the ld.so cache"
  dir=$(dirname "$(readlink -f "$lib")")
  up=$BATS_TEST_TMPDIR/upper
  wk=$BATS_TEST_TMPDIR/work
  mkdir -p "$up" "$wk"
  # Overlay whiteouts hide every libcurl.so.4* of the library directory, in a
  # private mount namespace that ends with the script.
  for f in "$dir"/libcurl.so.4*; do
    mknod "$up/${f##*/}" c 0 0
  done
  # shellcheck disable=SC2016  # expanded by the inner shell
  run timeout 120 unshare --mount --propagation private bash -c '
    set -u
    dir=$1 mini=$4 root=$5 img=$6 reg=$7
    mount -t overlay overlay -o "lowerdir=$dir,upperdir=$2,workdir=$3" "$dir" || exit 99
    m() { "$mini" --root "$root" "$@" 3>&-; echo "$1 status=$?"; }
    [ -e "$dir/libcurl.so.4" ] && echo "libcurl still visible"
    m ps -a
    m images
    m run --rm "$img" echo ran-without-curl
    m pull "$img"
    m login -u u -p p "$reg"
  ' lazy "$dir" "$up" "$wk" "$MINI" "$MINI_ROOT_DIR" "$IMG" "$REG"
  expect_status 0
  expect_output_not_contains "libcurl still visible"
  expect_output_contains "ran-without-curl"
  expect_output_contains "ps status=0"
  expect_output_contains "images status=0"
  expect_output_contains "run status=0"
  # pull and login: a clean error exit with the message, no loader failure.
  expect_output_matches '^pull status=(1|125)$'
  expect_output_matches '^login status=(1|125)$'
  expect_equal "$(grep -c '^mini: libcurl.so.4 not found: install libcurl4 (apt-get install libcurl4)$' <<<"$output")" 2
  expect_output_not_contains "error while loading shared libraries"
}

# OpenSSL starts without openssl.cnf (common/digest.c crypto_skip_config) and reads it
# just before libcurl is loaded: verbs that stay local never open it, TLS still obeys it.
# (LeakSanitizer cannot run under ptrace: an ASan build is traced with leak checks off.)
@test "curl_lazy: openssl.cnf is read only on the way to TLS" {
  local verb n
  pull_quiet "$IMG"
  for verb in "ps -a" "inspect $IMG" "images" "run --rm $IMG true"; do
    # shellcheck disable=SC2086  # split the verb and its arguments
    run env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -e trace=openat -o "$BATS_TEST_TMPDIR/trace" \
      "$MINI" --root "$MINI_ROOT_DIR" $verb
    expect_status 0
    n=$(grep -c 'openssl\.cnf' "$BATS_TEST_TMPDIR/trace" || true)
    expect_equal "$verb: $n" "$verb: 0"
  done
  # A digest was made (run read blobs by digest), so OpenSSL did start.
  grep -q 'blobs/sha256/' "$BATS_TEST_TMPDIR/trace" || fail_test "no blob was read"

  rm -rf "${MINI_ROOT_DIR:?}"/*
  run env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -e trace=openat -o "$BATS_TEST_TMPDIR/trace" \
    "$MINI" --root "$MINI_ROOT_DIR" run --rm "$IMG" true
  expect_status 0
  # Read once, before libcurl is mapped.
  n=$(grep -n -m1 'openssl\.cnf' "$BATS_TEST_TMPDIR/trace" | cut -d: -f1)
  [[ -n $n ]] || fail_test "run that pulls did not read openssl.cnf"
  (( n < $(grep -n -m1 'libcurl\.so\.4' "$BATS_TEST_TMPDIR/trace" | cut -d: -f1) )) ||
    fail_test "openssl.cnf read after libcurl was loaded"
}

@test "curl_lazy: TLS settings of OPENSSL_CONF apply to pull and to a run that pulls" {
  local d=$BATS_TEST_TMPDIR port i
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/k.pem" -out "$d/c.pem" -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
  # A config that asks for TLS 1.3 at least, against a server that speaks 1.2 only.
  printf '%s\n' 'openssl_conf = init' '[init]' 'ssl_conf = ssl_sect' '[ssl_sect]' \
    'system_default = sys' '[sys]' 'MinProtocol = TLSv1.3' >"$d/tls13.cnf"
  for ((i = 0; i < 50; i++)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 30000))
    [[ -z $(ss -Hltn "sport = :$port") ]] && break
  done
  openssl s_server -accept "127.0.0.1:$port" -cert "$d/c.pem" -key "$d/k.pem" -tls1_2 -www \
    -quiet </dev/null >/dev/null 2>&1 3>&- &
  SRV_PID=$!
  wait_until 10 bash -c "exec 5<>/dev/tcp/127.0.0.1/$port"

  # System settings: the handshake works, the certificate is refused.
  run mini pull "127.0.0.1:$port/a/b"
  expect_failure
  expect_output_contains "cannot verify the TLS certificate of 127.0.0.1:$port"
  # TLS 1.3 only: no handshake at all (the same as before OpenSSL started lazily).
  for verb in pull run; do
    if [[ $verb == run ]]; then
      run env OPENSSL_CONF="$d/tls13.cnf" timeout 60 "$MINI" --root "$MINI_ROOT_DIR" \
        run --rm "127.0.0.1:$port/a/b" true
    else
      run env OPENSSL_CONF="$d/tls13.cnf" timeout 60 "$MINI" --root "$MINI_ROOT_DIR" \
        pull "127.0.0.1:$port/a/b"
    fi
    expect_failure
    expect_output_contains "cannot reach registry 127.0.0.1:$port"
    expect_output_not_contains "certificate"
  done
}

@test "crypto_lazy: libcrypto is not linked; run, ps, exec, stop and rm never load it, pull does" {
  run ldd "$MINI"
  expect_status 0
  expect_output_not_contains "libcrypto"

  run ld_files pull "$IMG"
  expect_status 0
  expect_output_matches 'file=libcrypto\.so\.3 .*dynamically loaded by'

  # run of a stored image: blobs are trusted, chain_ids come from chains/.
  run ld_files run --rm "$IMG" true
  expect_status 0
  expect_output_contains "file=libjansson.so.4"
  expect_output_not_contains "libcrypto"

  run --separate-stderr mini run -d --name lazyc "$IMG" sleep 30000
  expect_status 0
  for verb in "exec lazyc true" "ps" "stop -t 1 lazyc" "rm lazyc"; do
    # shellcheck disable=SC2086  # split the verb and its arguments
    run ld_files $verb
    expect_status 0
    expect_output_contains "file=libjansson.so.4"
    expect_output_not_contains "libcrypto"
  done
}
