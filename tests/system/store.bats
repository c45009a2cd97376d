#!/usr/bin/env bats
# The offline cache and layer store: OCI layout, image verbs, offline runs, save/load,
# concurrency, crash safety (kill -9) and `mini system check`.

load helpers

teardown() {
  if [[ -n ${OWN_REG_DIR:-} ]]; then
    "$REPO/tools/registry.sh" stop "$OWN_REG_DIR" || true
  fi
  common_teardown
}

# json_get FILE|- PYTHON_EXPR: evaluate EXPR with `j` bound to the parsed JSON.
json_get() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1]) if sys.argv[1] != "-" else sys.stdin); print(eval(sys.argv[2]))' "$@"
}

# The manifest digest index.json records for REF in ROOT.
index_manifest() {
  json_get "$1/index.json" "[m['digest'] for m in j['manifests'] if m.get('annotations',{}).get('org.opencontainers.image.ref.name') == '$2'][0]"
}

# Fail unless `mini --root ROOT system check` exits 0 and found nothing to repair, no
# problem and no leftover to remove (partial downloads are pull's own business).
expect_check_clean() {
  local out rc=0
  out=$(timeout 120 "$MINI" --root "$1" system check 2>&1) || rc=$?
  if ((rc != 0)) || grep -E '^(problem|repaired|removed):' <<<"$out" | grep -qv 'partial download'; then
    fail_test "mini system check of $1 is not clean (status $rc):" "$out"
  fi
}

@test "store: the store is an OCI image layout that skopeo reads" {
  local manifest inspected
  pull_quiet "$IMG"
  [[ -f $MINI_ROOT_DIR/oci-layout ]] || fail_test "no oci-layout"
  expect_equal "$(json_get "$MINI_ROOT_DIR/oci-layout" "j['imageLayoutVersion']")" "1.0.0"
  manifest=$(index_manifest "$MINI_ROOT_DIR" "$IMG:latest")
  [[ $manifest == sha256:* ]] || fail_test "index.json has no entry named $IMG:latest"
  [[ -f $MINI_ROOT_DIR/blobs/sha256/${manifest#sha256:} ]] || fail_test "manifest blob missing"

  # skopeo's oci: transport finds the image by its org.opencontainers.image.ref.name.
  inspected=$(skopeo inspect "oci:$MINI_ROOT_DIR:$IMG:latest") ||
    fail_test "skopeo cannot read the store"
  expect_equal "$(json_get - "j['Digest']" <<<"$inspected")" "$manifest"
  expect_equal "$(json_get - "j['Os'] + '/' + j['Architecture']" <<<"$inspected")" "linux/amd64"
  skopeo inspect --config "oci:$MINI_ROOT_DIR:$IMG:latest" >/dev/null ||
    fail_test "skopeo cannot read the config blob"
  # umoci too (tools/deps.sh installs it).
  run umoci ls --layout "$MINI_ROOT_DIR"
  expect_status 0
  expect_output_contains "$IMG:latest"
}

@test "images: columns, -q, --digests, --format json, filter" {
  local id digest
  pull_quiet "$IMG"
  digest=$(registry_digest "$REG" library/busybox latest)

  run mini images
  expect_status 0
  expect_output_matches "^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$"
  expect_output_matches "^$IMG +latest +[0-9a-f]{12} +[0-9]+ [a-z]+ ago +[0-9.]+[kM]B$"

  run mini images -q
  expect_status 0
  [[ $output =~ ^[0-9a-f]{12}$ ]] || fail_test "images -q printed: $output"
  id=$output

  run mini images --digests
  expect_status 0
  expect_output_matches "^REPOSITORY +TAG +DIGEST +IMAGE ID"
  expect_output_contains "$digest"

  run mini images --format json
  expect_status 0
  expect_equal "$(json_get - "j['ID'] + ' ' + j['Tag'] + ' ' + j['Digest']" <<<"$output")" "$id latest $digest"

  run mini images "$IMG"
  expect_output_contains "$id"
  run mini images nosuchrepo
  expect_status 0
  expect_output_not_contains "$id"
}

@test "tag, inspect and rmi: rmi refuses while a container uses the image" {
  local id cfg
  pull_quiet "$IMG"
  run mini tag "$IMG" mybox:v1
  expect_status 0
  run mini images
  expect_output_matches "^mybox +v1 "

  run mini inspect mybox:v1
  expect_status 0
  cfg=$(json_get - "j[0]['Id']" <<<"$output")
  [[ $cfg =~ ^sha256:[0-9a-f]{64}$ ]] || fail_test "bad image Id $cfg"
  expect_equal "$(json_get - "sorted(j[0]['RepoTags'])" <<<"$output")" "['$IMG:latest', 'mybox:v1']"
  expect_equal "$(json_get - "j[0]['RootFS']['Type'] + ' ' + j[0]['Os']" <<<"$output")" "layers linux"
  expect_equal "$(json_get - "j[0]['Config']['Cmd']" <<<"$output")" "['sh']"

  run mini run --name user1 "$IMG" true
  expect_status 0
  run mini inspect user1
  expect_status 0
  expect_equal "$(json_get - "j[0]['Name'] + ' ' + j[0]['State']['Status'] + ' ' + str(j[0]['State']['ExitCode'])" <<<"$output")" "/user1 exited 0"
  expect_equal "$(json_get - "j[0]['Image']" <<<"$output")" "$cfg"

  run mini inspect nosuchthing
  expect_failure
  expect_output_contains nosuchthing

  # Untagging one of two names is fine; the last name is refused while user1 exists.
  run mini rmi mybox:v1
  expect_status 0
  expect_output_contains "Untagged: mybox:v1"
  run mini rmi "$IMG"
  expect_failure
  expect_output_contains "user1"
  run mini images -q
  [[ -n $output ]] || fail_test "the refused rmi removed the image"

  # -f untags it; the stopped container keeps its image and still runs.
  run mini rmi -f "$IMG"
  expect_status 0
  expect_output_contains "Untagged: $IMG:latest"
  run mini images -q
  expect_equal "$output" ""
  run mini rm user1
  expect_status 0

  # Once unused, pruning deletes its blobs and layers.
  run mini image prune
  expect_status 0
  expect_output_contains "deleted: $cfg"
  expect_output_matches "^Total reclaimed space: [0-9.]+[kM]B$"
  [[ -z $(ls "$MINI_ROOT_DIR/blobs/sha256") && -z $(ls "$MINI_ROOT_DIR/layers") ]] ||
    fail_test "prune left:" "$(ls "$MINI_ROOT_DIR/blobs/sha256" "$MINI_ROOT_DIR/layers")"
}

@test "rmi by name deletes the image's blobs and layers; by ID too" {
  pull_quiet "$IMG"
  run mini rmi "$IMG"
  expect_status 0
  expect_output_matches "^Deleted: sha256:[0-9a-f]{64}$"
  [[ -z $(ls "$MINI_ROOT_DIR/blobs/sha256") && -z $(ls "$MINI_ROOT_DIR/layers") ]] ||
    fail_test "rmi left:" "$(ls "$MINI_ROOT_DIR/blobs/sha256" "$MINI_ROOT_DIR/layers")"

  pull_quiet "$IMG"
  run mini images -q
  run mini rmi "$output"
  expect_status 0
  expect_output_contains "Untagged: $IMG:latest"
  run mini rmi nosuchimage
  expect_failure
  expect_output_contains "No such image: nosuchimage"
}

@test "system prune and system df: stopped containers, unreferenced content, space freed" {
  local junk
  pull_quiet "$IMG"
  run mini run --name stopped1 "$IMG" true
  expect_status 0
  junk=$(printf 'junk' | sha256sum | cut -d' ' -f1)
  printf 'junk' >"$MINI_ROOT_DIR/blobs/sha256/$junk"

  run mini system df
  expect_status 0
  expect_output_matches "^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$"
  expect_output_matches "^Images +1 +1 +[0-9.]+[kM]B +"
  expect_output_matches "^Containers +1 +0 +"

  run mini system prune -f
  expect_status 0
  expect_output_contains "Deleted Containers:"
  expect_output_contains "deleted: sha256:$junk"
  expect_output_matches "^Total reclaimed space: [0-9.]+[kMG]?B$"
  [[ ! -e $MINI_ROOT_DIR/blobs/sha256/$junk ]] || fail_test "junk blob kept"
  run mini ps -aq
  expect_equal "$output" ""
  # The image itself stays (it is tagged) and still runs offline.
  run mini run --rm --pull never "$IMG" echo still-here
  expect_status 0
  expect_output_contains still-here

  # prune -a also removes images no container uses.
  run mini system prune -a -f
  expect_status 0
  expect_output_contains "untagged: $IMG:latest"
  run mini images -q
  expect_equal "$output" ""
}

@test "offline: --pull never and --offline make no network call" {
  local log=$MINI_TEST_REGISTRY_DIR/log before
  before=$(wc -l <"$log")

  run mini run --rm --pull never "$IMG" true
  expect_status 125
  expect_output_contains "--pull never"
  run mini --offline run --rm "$IMG" true
  expect_status 125
  expect_output_contains "--offline"
  run mini --offline pull "$IMG"
  expect_failure
  expect_output_contains "--offline"
  run mini run --pull sometimes "$IMG" true
  expect_status 125
  expect_equal "$(wc -l <"$log")" "$before"

  pull_quiet "$IMG"
  before=$(wc -l <"$log")
  run mini --offline run --rm "$IMG" echo offline-ok
  expect_status 0
  expect_output_contains offline-ok
  run mini run --rm --pull never "$IMG" echo never-ok
  expect_status 0
  run mini run --rm "$IMG" echo missing-ok
  expect_status 0
  expect_equal "$(wc -l <"$log")" "$before"

  # --pull always does ask the registry.
  run mini run --rm --pull always "$IMG" echo always-ok
  expect_status 0
  expect_output_contains always-ok
  (($(wc -l <"$log") > before)) || fail_test "--pull always made no request"
}

@test "offline: a run with the registry stopped and --pull never" {
  local addr
  OWN_REG_DIR=$BATS_TEST_TMPDIR/registry
  addr=$("$REPO/tools/registry.sh" start "$OWN_REG_DIR")
  "$REPO/tools/registry.sh" seed "$addr" busybox
  pull_quiet "$addr/library/busybox"
  "$REPO/tools/registry.sh" stop "$OWN_REG_DIR"
  OWN_REG_DIR=

  run mini run --rm --pull never "$addr/library/busybox" echo from-the-cache
  expect_status 0
  expect_output_contains from-the-cache
  run mini --offline run --rm "$addr/library/busybox" echo offline
  expect_status 0
  run mini run --rm "$addr/library/busybox" echo default
  expect_status 0
  run mini run --rm --pull always "$addr/library/busybox" true
  expect_status 125
  expect_output_contains "$addr"
}

@test "save | load between two roots over a pipe preserves digests" {
  local other=$MINI_ROOT_DIR/other manifest index
  pull_quiet "$IMG"
  manifest=$(index_manifest "$MINI_ROOT_DIR" "$IMG:latest")
  index=$(registry_digest "$REG" library/busybox latest)

  timeout 120 "$MINI" --root "$MINI_ROOT_DIR" save "$IMG" | timeout 120 "$MINI" --root "$other" load >"$BATS_TEST_TMPDIR/load.out" 2>&1 ||
    fail_test "save | load failed:" "$(cat "$BATS_TEST_TMPDIR/load.out")"
  grep -qx "Loaded image: $IMG:latest" "$BATS_TEST_TMPDIR/load.out" ||
    fail_test "load printed:" "$(cat "$BATS_TEST_TMPDIR/load.out")"
  expect_equal "$(index_manifest "$other" "$IMG:latest")" "$manifest"
  run "$MINI" --root "$other" images --digests
  expect_output_contains "$index"
  run "$MINI" --root "$other" run --rm --pull never "$IMG" echo loaded-runs
  expect_status 0
  expect_output_contains loaded-runs
  expect_check_clean "$other"

  # save refuses a terminal-less mistake: no such image.
  run mini save -o "$BATS_TEST_TMPDIR/x.tar" nosuchimage
  expect_failure
  [[ ! -e $BATS_TEST_TMPDIR/x.tar ]] || fail_test "a failed save left its file"
}

@test "save: the archive is both an OCI archive and a docker-archive (skopeo reads both)" {
  local tar=$BATS_TEST_TMPDIR/img.tar manifest
  pull_quiet "$IMG"
  run mini tag "$IMG" saved:v1
  run mini save -o "$tar" saved:v1
  expect_status 0
  manifest=$(index_manifest "$MINI_ROOT_DIR" "docker.io/library/saved:v1")
  tar -tf "$tar" | grep -qx manifest.json || fail_test "no manifest.json"
  tar -tf "$tar" | grep -qx index.json || fail_test "no index.json"

  expect_equal "$(tar -xOf "$tar" manifest.json | json_get - "j[0]['RepoTags']")" "['saved:v1']"
  run skopeo inspect "docker-archive:$tar"
  expect_status 0
  expect_equal "$(json_get - "j['Os']" <<<"$output")" "linux"
  run skopeo inspect "oci-archive:$tar:docker.io/library/saved:v1"
  expect_status 0
  expect_equal "$(json_get - "j['Digest']" <<<"$output")" "$manifest"
  run skopeo copy --quiet "docker-archive:$tar" "oci:$BATS_TEST_TMPDIR/copied:x"
  expect_status 0
}

@test "load: archives made by skopeo (docker-archive and oci-archive)" {
  local dtar=$BATS_TEST_TMPDIR/d.tar otar=$BATS_TEST_TMPDIR/o.tar
  skopeo copy --quiet --src-tls-verify=false "docker://$IMG:latest" "docker-archive:$dtar:skopeo/docker:v1"
  skopeo copy --quiet --src-tls-verify=false "docker://$IMG:latest" "oci-archive:$otar:skopeo/oci:v1"

  run mini load -i "$dtar"
  expect_status 0
  expect_output_contains "Loaded image: skopeo/docker:v1"
  run mini load <"$otar"
  expect_status 0
  expect_output_contains "Loaded image: skopeo/oci:v1"
  run mini run --rm --pull never skopeo/docker:v1 echo from-docker-archive
  expect_status 0
  expect_output_contains from-docker-archive
  run mini run --rm --pull never skopeo/oci:v1 echo from-oci-archive
  expect_status 0
  expect_output_contains from-oci-archive
  # One image ID, one extracted layer shared by both.
  run mini images -q
  expect_equal "$(sort -u <<<"$output" | wc -l)" "1"
  expect_equal "$(find "$MINI_ROOT_DIR/layers" -mindepth 1 -maxdepth 1 | wc -l)" "1"
  expect_check_clean "$MINI_ROOT_DIR"

  run mini load -i /etc/hostname
  expect_failure
  expect_output_imatches "archive"
}

@test "concurrency: 8 parallel pulls of one image all succeed, each blob fetched once" {
  local log=$MINI_TEST_REGISTRY_DIR/log before after i pids=() fails=0 nblobs manifests downloaded
  before=$(registry_blob_gets "$log")
  for i in 1 2 3 4 5 6 7 8; do
    timeout 300 "$MINI" --root "$MINI_ROOT_DIR" pull "$NGINX" >"$BATS_TEST_TMPDIR/p$i.out" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" || fails=$((fails + 1))
  done
  ((fails == 0)) || fail_test "$fails of 8 pulls failed:" "$(cat "$BATS_TEST_TMPDIR"/p*.out)"
  after=$(registry_blob_gets "$log")

  # Every blob but the manifest(s) came from /blobs/, each exactly once.
  nblobs=$(find "$MINI_ROOT_DIR/blobs/sha256" -type f | wc -l)
  manifests=$(json_get "$MINI_ROOT_DIR/index.json" "len(j['manifests']) + sum(1 for m in j['manifests'] if 'io.mini.index.digest' in m.get('annotations', {}))")
  expect_equal "$((after - before))" "$((nblobs - manifests))"
  downloaded=$(cat "$BATS_TEST_TMPDIR"/p*.out | grep -c "Downloaded newer image" || true)
  expect_equal "$downloaded" "1"
  verify_blobs
  [[ -z $(find "$MINI_ROOT_DIR/layers" -maxdepth 1 -name 'tmp-*') ]] || fail_test "temporary layers left"
  expect_check_clean "$MINI_ROOT_DIR"
}

@test "concurrency: runs and a prune during a pull never see a half-made image" {
  local pull_pid prune_pid rc bad=0 n=0 ok=0
  timeout 300 "$MINI" --root "$MINI_ROOT_DIR" pull "$NGINX" >"$BATS_TEST_TMPDIR/pull.out" 2>&1 &
  pull_pid=$!
  # The prune waits for the pull (and the runs) instead of deleting what they use.
  timeout 300 "$MINI" --root "$MINI_ROOT_DIR" image prune -f >"$BATS_TEST_TMPDIR/prune.out" 2>&1 &
  prune_pid=$!
  while kill -0 "$pull_pid" 2>/dev/null && ((n < 300)); do
    n=$((n + 1))
    rc=0
    timeout 120 "$MINI" --root "$MINI_ROOT_DIR" run --rm --pull never "$NGINX" true >"$BATS_TEST_TMPDIR/run.out" 2>&1 || rc=$?
    # Either not there yet ("not in the local store") or a complete image.
    if ((rc == 0)); then
      ok=$((ok + 1))
    elif ! grep -q "not in the local store" "$BATS_TEST_TMPDIR/run.out"; then
      bad=1
      cat "$BATS_TEST_TMPDIR/run.out" >&2
    fi
  done
  wait "$pull_pid" || fail_test "the pull failed:" "$(cat "$BATS_TEST_TMPDIR/pull.out")"
  wait "$prune_pid" || fail_test "the prune failed:" "$(cat "$BATS_TEST_TMPDIR/prune.out")"
  ((bad == 0)) || fail_test "a run during the pull failed"
  ((n > 1)) || fail_test "no run happened during the pull"
  echo "# $n runs during the pull, $ok of them with the complete image" >&3
  run mini run --rm --pull never "$NGINX" true
  expect_status 0
  expect_check_clean "$MINI_ROOT_DIR"
}

@test "crash safety: kill -9 at 10 random moments of an nginx pull" {
  local i root t0 t1 full_ms delay_ms pid out
  # How long a whole pull takes here (it also proves a clean pull checks clean).
  t0=$(date +%s%N)
  timeout 300 "$MINI" --root "$MINI_ROOT_DIR/k0" pull "$NGINX" >/dev/null 2>&1 || fail_test "pull failed"
  t1=$(date +%s%N)
  full_ms=$(((t1 - t0) / 1000000))
  expect_check_clean "$MINI_ROOT_DIR/k0"

  for i in $(seq 1 10); do
    root=$MINI_ROOT_DIR/k$i
    # Half the kills in the download phase (the first ~500 ms), half anywhere.
    if ((i % 2)); then
      delay_ms=$((20 + RANDOM % 500))
    else
      delay_ms=$((20 + RANDOM % (full_ms + 1)))
    fi
    "$MINI" --root "$root" pull "$NGINX" >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true

    out=$(timeout 300 "$MINI" --root "$root" pull "$NGINX" 2>&1) ||
      fail_test "pull after kill -9 at ${delay_ms} ms failed:" "$out"
    # The pull itself removed what the killed one left.
    [[ -z $(find "$root/layers" -maxdepth 1 -name 'tmp-*') && -z $(ls "$root/tmp") ]] ||
      fail_test "temporaries left after kill at ${delay_ms} ms:" "$(ls "$root/layers" "$root/tmp")"
    [[ -z $(find "$root/locks" -name 'tmp-*' -o -name 'new-*') ]] ||
      fail_test "temporary locks left after kill at ${delay_ms} ms:" "$(ls "$root/locks")"
    expect_check_clean "$root"
    if ((i == 10)); then
      out=$(timeout 120 "$MINI" --root "$root" run --rm --pull never "$NGINX" nginx -v 2>&1) ||
        fail_test "the image does not run after kill at ${delay_ms} ms:" "$out"
    fi
  done
}

@test "system check: repairs a damaged layer, reports and removes a corrupt blob" {
  local layer blob manifest file
  pull_quiet "$IMG"
  expect_check_clean "$MINI_ROOT_DIR"

  # A file deleted from an extracted layer: the layer is extracted again.
  layer=$(find "$MINI_ROOT_DIR/layers" -mindepth 1 -maxdepth 1 -type d | head -1)
  file=$layer/diff/bin/busybox
  [[ -f $file ]] || fail_test "no $file"
  rm -f "$file"
  run mini system check
  expect_status 0
  expect_output_contains "damaged"
  expect_output_contains "extracted its missing layers"
  [[ -f $file ]] || fail_test "check did not restore $file"
  expect_check_clean "$MINI_ROOT_DIR"

  # A corrupt layer blob: removed, reported until pulled again.
  manifest=$(index_manifest "$MINI_ROOT_DIR" "$IMG:latest")
  blob=$(json_get "$MINI_ROOT_DIR/blobs/sha256/${manifest#sha256:}" "j['layers'][0]['digest'][7:]")
  printf 'X' | dd of="$MINI_ROOT_DIR/blobs/sha256/$blob" bs=1 seek=100 conv=notrunc status=none
  run mini system check --dry-run
  expect_status 1
  expect_output_contains "sha256:$blob is corrupt"
  [[ -f $MINI_ROOT_DIR/blobs/sha256/$blob ]] || fail_test "--dry-run removed the blob"
  run mini system check
  expect_status 1
  expect_output_contains "mini pull"
  [[ ! -e $MINI_ROOT_DIR/blobs/sha256/$blob ]] || fail_test "corrupt blob kept"
  pull_quiet "$IMG"
  expect_check_clean "$MINI_ROOT_DIR"
  verify_blobs
}

@test "crash safety: leftovers of an interrupted rm and extraction go with the next command" {
  local id
  pull_quiet "$IMG"
  run mini run -d --name gone "$IMG" sleep 1000
  expect_status 0
  id=$output
  run mini rm -f gone
  expect_status 0
  # What a kill -9 in the middle of rm and of an extraction leave behind.
  mkdir -p "$MINI_ROOT_DIR/containers/$id/upper/etc"
  ln -s "$id" "$MINI_ROOT_DIR/names/gone"
  mkdir -p "$MINI_ROOT_DIR/layers/tmp-00000000deadbeef/diff/usr"

  # run does not sweep (a container start does not scan the store)...
  run mini run --rm "$IMG" true
  expect_status 0
  [[ -e $MINI_ROOT_DIR/containers/$id ]] || fail_test "run swept the store"
  # ... unless the name it wants is held by such a leftover.
  run mini run -d --name gone "$IMG" true
  expect_status 0
  [[ $output != "$id" ]] || fail_test "the old ID was reused"
  [[ ! -e $MINI_ROOT_DIR/containers/$id ]] || fail_test "half-removed container left"
  [[ ! -e $MINI_ROOT_DIR/layers/tmp-00000000deadbeef ]] || fail_test "half-made layer left"
  [[ $(readlink "$MINI_ROOT_DIR/names/gone") == "$output" ]] || fail_test "name gone not reassigned"
  expect_check_clean "$MINI_ROOT_DIR"
}
