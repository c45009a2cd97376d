#!/usr/bin/env bats
# mini pull: registry client, content store, references, mirrors, failures.

# shellcheck disable=SC2016  # $VARS in single quotes are for the container shell
load helpers

teardown() {
  if [[ -n ${CORRUPT_REG_DIR:-} ]]; then
    "$REPO/tools/registry.sh" stop "$CORRUPT_REG_DIR" || true
  fi
  common_teardown
}

@test "pull: prints the digest and the full reference" {
  local want
  want=$(registry_digest "$REG" library/busybox latest)
  [[ $want == sha256:* ]] || fail_test "registry has no digest for busybox:latest"

  run mini pull "$IMG"
  expect_status 0
  expect_output_contains "$IMG:latest"
  expect_output_matches "Digest: sha256:[0-9a-f]{64}"
  expect_output_contains "Digest: $want"

  [[ -n $(blob_snapshot) ]] || fail_test "no blobs in $MINI_ROOT_DIR/$BLOBS_SUBDIR after pull"
  verify_blobs
}

@test "pull: a second pull fetches no blob" {
  local log=$MINI_TEST_REGISTRY_DIR/log before_blobs before_gets
  run mini pull "$IMG"
  expect_status 0

  before_blobs=$(blob_snapshot)
  before_gets=$(registry_blob_gets "$log")
  [[ -n $before_blobs ]] || fail_test "first pull stored no blob"

  run mini pull "$IMG"
  expect_status 0
  expect_output_matches "Digest: sha256:[0-9a-f]{64}"

  expect_equal "$(blob_snapshot)" "$before_blobs"
  expect_equal "$(registry_blob_gets "$log")" "$before_gets"
}

@test "pull: --registry-mirror serves docker.io references" {
  local log=$MINI_TEST_REGISTRY_DIR/log before
  before=$(grep -c 'GET /v2/library/busybox/manifests/' "$log" || true)

  run mini --registry-mirror "http://$REG" pull busybox
  expect_status 0
  expect_output_contains "docker.io/library/busybox:latest"
  expect_output_matches "Digest: sha256:[0-9a-f]{64}"

  # The manifest really came from the mirror.
  (($(grep -c 'GET /v2/library/busybox/manifests/' "$log") > before)) ||
    fail_test "the mirror saw no manifest GET"

  run mini images
  expect_status 0
  expect_output_matches "^(docker\.io/library/)?busybox[[:space:]]+latest[[:space:]]"
}

@test "pull: --config FILE with registry-mirrors" {
  local cfg=$BATS_TEST_TMPDIR/daemon.json
  printf '{"registry-mirrors":["http://%s"]}\n' "$REG" >"$cfg"

  run mini --config "$cfg" pull busybox
  expect_status 0
  expect_output_contains "docker.io/library/busybox:latest"
  expect_output_matches "Digest: sha256:[0-9a-f]{64}"
  verify_blobs
}

@test "pull: by digest" {
  local digest
  digest=$(registry_digest "$REG" library/busybox latest)
  [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || fail_test "bad registry digest '$digest'"

  run mini pull "$IMG@$digest"
  expect_status 0
  expect_output_contains "$digest"
  verify_blobs

  # The image is usable by digest.
  run mini run --rm "$IMG@$digest" echo pinned
  expect_status 0
  expect_output_contains pinned
}

@test "images: lists a pulled image" {
  pull_quiet "$IMG"
  run mini images
  expect_status 0
  expect_output_matches "^REPOSITORY[[:space:]]+TAG[[:space:]]"
  expect_output_matches "^${IMG}[[:space:]]+latest[[:space:]]"
}

@test "pull: unknown tag fails, names the reference and stores nothing" {
  run mini pull "$IMG:nosuchtag"
  expect_failure
  expect_output_contains "busybox:nosuchtag"
  [[ -z $(find "$MINI_ROOT_DIR" -type f -path "*/$BLOBS_SUBDIR/*") ]] ||
    fail_test "blobs stored by a failed pull:" "$(find "$MINI_ROOT_DIR" -type f)"

  run mini images
  expect_output_not_contains nosuchtag
}

@test "pull: unknown repository fails and names it" {
  run mini pull "$REG/library/nosuchrepo"
  expect_failure
  expect_output_contains "nosuchrepo"
}

@test "pull: unreachable registry fails with a clear message" {
  run mini pull 127.0.0.1:1/x
  expect_failure
  [[ $status != 124 && $status != 137 ]] || fail_test "mini pull hung (killed by timeout)"
  expect_output_contains "127.0.0.1:1"
}

@test "pull: invalid references are rejected" {
  local ref
  for ref in UPPER/Case a//b 'bad:tag:x' "busybox@sha256:1234"; do
    run mini pull "$ref"
    expect_failure
    expect_output_imatches "invalid"
  done
}

@test "pull: a blob whose content does not match its digest is rejected" {
  local addr blob before hex total
  CORRUPT_REG_DIR=$BATS_TEST_TMPDIR/registry
  addr=$("$REPO/tools/registry.sh" start "$CORRUPT_REG_DIR")
  "$REPO/tools/registry.sh" seed "$addr" busybox

  # Rewrite the gzip header's MTIME field (bytes 4-7) of every layer in the registry's
  # storage: the layers still decompress to the same tar, only their sha256 changes, so
  # only digest verification can notice.
  local corrupted=()
  while IFS= read -r -d '' blob; do
    [[ $(head -c2 "$blob" | od -An -tx1 | tr -d ' \n') == 1f8b ]] || continue
    before=$(sha256sum "$blob" | cut -d' ' -f1)
    printf '\x01\x02\x03\x04' | dd of="$blob" bs=1 seek=4 conv=notrunc status=none
    [[ $(sha256sum "$blob" | cut -d' ' -f1) != "$before" ]] || fail_test "corruption changed nothing"
    corrupted+=("$before")
  done < <(find "$CORRUPT_REG_DIR/data/docker/registry/v2/blobs/sha256" -type f -name data -print0)
  ((${#corrupted[@]} > 0)) || fail_test "found no layer blob to corrupt"

  run mini pull "$addr/library/busybox"
  expect_failure
  expect_output_imatches "digest"

  # No blob with a corrupted digest, no partial download or half-unpacked layer anywhere.
  for hex in "${corrupted[@]}"; do
    [[ -z $(find "$MINI_ROOT_DIR" -name "*$hex*") ]] ||
      fail_test "store keeps a file named after corrupted blob $hex:" "$(find "$MINI_ROOT_DIR" -name "*$hex*")"
  done
  verify_blobs
  total=$(find "$MINI_ROOT_DIR" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  ((total < 1048576)) ||
    fail_test "failed pull left $total bytes in the store:" "$(find "$MINI_ROOT_DIR" -type f -size +64k)"
  [[ -z $(find "$MINI_ROOT_DIR" \( -name '*.tmp*' -o -name '*.part*' -o -name '.tmp*' \) -print) ]] ||
    fail_test "temporary files left:" "$(find "$MINI_ROOT_DIR" \( -name '*.tmp*' -o -name '*.part*' \))"

  run mini images
  expect_output_not_contains "$addr/library/busybox"
}
