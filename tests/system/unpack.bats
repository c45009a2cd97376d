#!/usr/bin/env bats
# Layer application through the real binary: `mini unpack` against umoci (the
# oracle), a corpus of hostile layers, overlay with many lowers, the vfs storage
# driver (explicit and as the automatic fallback) and `mini export`.
#
# setup_file builds the test images with unpack/mkimage.py (OCI layouts whose
# first layer is busybox's) and pushes them to the suite's registry as
# $REG/hostile/<case>.  The hostile entries aim at $MINI_CANARY, a host
# directory that must never change.

# shellcheck disable=SC2016  # $VARS in single quotes are for the container shell
load helpers

HELPERS=$BATS_TEST_DIRNAME/unpack

setup_file() {
  export MINI_CANARY=$BATS_FILE_TMPDIR/canary
  export IMAGES=$BATS_FILE_TMPDIR/images
  mkdir -p "$MINI_CANARY"
  echo "host file" >"$MINI_CANARY/keep"
  python3 "$BATS_TEST_DIRNAME/unpack/mkimage.py" "$IMAGES" \
    $(python3 "$BATS_TEST_DIRNAME/unpack/mkimage.py" --list)
  local c
  for c in $(python3 "$BATS_TEST_DIRNAME/unpack/mkimage.py" --list); do
    skopeo copy --quiet --dest-tls-verify=false "oci:$IMAGES/$c:latest" \
      "docker://$MINI_TEST_REGISTRY/hostile/$c:latest"
  done
  canary_state >"$BATS_FILE_TMPDIR/canary.before"
}

# Tests that put their store on a mount of their own set TEST_MNT.
teardown() {
  if [[ -n ${TEST_MNT:-} ]] && mountpoint -q "$TEST_MNT"; then
    timeout 60 "$MINI" --root "$TEST_MNT/root" ps -aq 2>/dev/null |
      xargs -r timeout 60 "$MINI" --root "$TEST_MNT/root" rm -f >/dev/null 2>&1 || true
    umount "$TEST_MNT" || umount -l "$TEST_MNT"
  fi
  common_teardown
}

# What must never change on the host: the canary tree and /etc/passwd.
canary_state() {
  find "$MINI_CANARY" -printf '%P %y %m %s %n %U:%G\n' | sort
  sha256sum "$MINI_CANARY/keep"
  stat -c '%n %s %h %i %Y %a %U:%G' /etc/passwd /etc
  sha256sum /etc/passwd
}

expect_host_unchanged() {
  canary_state >"$BATS_TEST_TMPDIR/canary.after"
  diff -u "$BATS_FILE_TMPDIR/canary.before" "$BATS_TEST_TMPDIR/canary.after" >&2 ||
    fail_test "the host changed"
}

# layer_digest CASE INDEX: the digest of layer INDEX (-1: the last) of
# hostile/CASE as the registry serves it.
layer_digest() {
  curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REG/v2/hostile/$1/manifests/latest" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["layers"][int(sys.argv[1])]["digest"])' "$2"
}

# No half-extracted layer is left in the store.
expect_no_tmp_layers() {
  local left
  left=$(find "$MINI_ROOT_DIR/layers" -maxdepth 1 -name 'tmp-*' 2>/dev/null || true)
  [[ -z $left ]] || fail_test "temporary layer directories left: $left"
}

# expect_refused CASE NEEDLE [LAYER_INDEX]: pull, unpack and run of hostile/CASE
# all fail with NEEDLE, the entry, and the digest of the offending layer.
expect_refused() {
  local c=$1 needle=$2 idx=${3:--1} digest
  digest=$(layer_digest "$c" "$idx")
  [[ $digest == sha256:* ]] || fail_test "no digest for hostile/$c layer $idx"

  run mini pull "$REG/hostile/$c"
  expect_failure
  expect_output_contains "layer $digest"
  expect_output_contains "$needle"
  expect_no_tmp_layers
  # A pull whose layers cannot be extracted records no tag.
  run mini images
  expect_output_not_contains "hostile/$c"

  run mini unpack "$REG/hostile/$c" "$BATS_TEST_TMPDIR/out"
  expect_failure
  expect_output_contains "layer $digest"
  expect_output_contains "$needle"
  [[ ! -e $BATS_TEST_TMPDIR/out ]] || fail_test "mini unpack left $BATS_TEST_TMPDIR/out behind"

  run mini run --rm "$REG/hostile/$c" true
  expect_status 125
  expect_output_contains "$needle"
  expect_no_tmp_layers
  expect_host_unchanged
}

# umoci_unpack LAYOUT DEST [MANIFEST]: the rootfs umoci writes for LAYOUT's
# "latest" (or for MANIFEST of a multi-platform layout) in DEST/rootfs.  The
# layout is read through a private index.json next to a link to its blobs.
umoci_unpack() {
  local layout=$1 dest=$2 manifest=${3:-} tmp
  tmp=$(mktemp -d "$BATS_TEST_TMPDIR/layout.XXXXXX")
  ln -s "$layout/blobs" "$tmp/blobs"
  cp "$layout/oci-layout" "$tmp/"
  if [[ -n $manifest ]]; then
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}\n' \
      "$manifest" "$(stat -c %s "$layout/blobs/sha256/${manifest#sha256:}")" >"$tmp/index.json"
  else
    cp "$layout/index.json" "$tmp/"
  fi
  umoci unpack --image "$tmp:latest" "$dest" >/dev/null ||
    fail_test "umoci unpack $layout failed"
}

# expect_same_tree A B [treecmp args]
expect_same_tree() {
  run python3 "$HELPERS/treecmp.py" "${@:3}" "$1" "$2"
  if [[ $status != 0 ]]; then
    show_run
    fail_test "the trees differ: $1 $2"
  fi
  expect_output_contains ": same"
}

# ---------------------------------------------------------------------------
# the oracle

@test "unpack: busybox equals umoci unpack (types, owners, modes, sizes, links, xattrs, hashes)" {
  local amd64=sha256:1cfa4e2b09e127b9c4ed43578d3f3c18e7d44ea47b9ea98475c0cbe9086525f8
  umoci_unpack "$MINI_SHARED_IMAGES/busybox" "$BATS_TEST_TMPDIR/umoci" "$amd64"
  run mini unpack --platform linux/amd64 "$IMG" "$BATS_TEST_TMPDIR/mini"
  expect_status 0
  expect_same_tree "$BATS_TEST_TMPDIR/umoci/rootfs" "$BATS_TEST_TMPDIR/mini"
  expect_output_matches "compared [0-9]{3,} entries"
  # busybox's applets are hardlinks of one file: they must stay one inode
  [[ $(stat -c %i "$BATS_TEST_TMPDIR/mini/bin/sh") == $(stat -c %i "$BATS_TEST_TMPDIR/mini/bin/ls") ]] ||
    fail_test "bin/sh and bin/ls are not the same inode"

  # the comparison notices a difference (a mode, a byte, an owner, a link)
  chmod 4644 "$BATS_TEST_TMPDIR/mini/etc/passwd"
  echo >>"$BATS_TEST_TMPDIR/mini/etc/group"
  chown 1:1 "$BATS_TEST_TMPDIR/mini/etc/shadow"
  rm "$BATS_TEST_TMPDIR/mini/bin/ls" && cp "$BATS_TEST_TMPDIR/mini/bin/sh" "$BATS_TEST_TMPDIR/mini/bin/ls"
  run python3 "$HELPERS/treecmp.py" "$BATS_TEST_TMPDIR/umoci/rootfs" "$BATS_TEST_TMPDIR/mini"
  expect_status 1
  expect_output_contains "etc/passwd: mode differs"
  expect_output_contains "etc/group: sha256 differs"
  expect_output_contains "etc/shadow: owner differs"
  expect_output_contains "hardlinks differ: only in $BATS_TEST_TMPDIR/umoci/rootfs"
}

@test "unpack: nginx equals umoci unpack" {
  umoci_unpack "$MINI_SHARED_IMAGES/nginx" "$BATS_TEST_TMPDIR/umoci"
  run mini unpack "$NGINX" "$BATS_TEST_TMPDIR/mini"
  expect_status 0
  expect_same_tree "$BATS_TEST_TMPDIR/umoci/rootfs" "$BATS_TEST_TMPDIR/mini"
  expect_output_matches "compared [0-9]{4,} entries"
}

@test "unpack: the target must be missing or empty; IMAGE by name or ID" {
  mkdir "$BATS_TEST_TMPDIR/full"
  touch "$BATS_TEST_TMPDIR/full/x"
  run mini unpack "$IMG" "$BATS_TEST_TMPDIR/full"
  expect_failure
  expect_output_contains "is not empty"
  [[ -e $BATS_TEST_TMPDIR/full/x ]] || fail_test "the existing content was touched"

  mkdir "$BATS_TEST_TMPDIR/empty"
  run mini unpack "$IMG" "$BATS_TEST_TMPDIR/empty"
  expect_status 0
  [[ -x $BATS_TEST_TMPDIR/empty/bin/busybox ]] || fail_test "busybox not unpacked"

  run mini unpack "$IMG"
  expect_status 125
  run mini unpack "$REG/library/nosuchimage" "$BATS_TEST_TMPDIR/none"
  expect_failure
  [[ ! -e $BATS_TEST_TMPDIR/none ]] || fail_test "a failed unpack left its target"

  # a failure half-way (no space left) leaves the target as it was: empty
  TEST_MNT=$BATS_TEST_TMPDIR/small
  mkdir "$TEST_MNT"
  mount -t tmpfs -o size=1m tmpfs "$TEST_MNT"
  run mini unpack "$IMG" "$TEST_MNT"
  expect_failure
  expect_output_contains "No space left on device"
  [[ -z $(ls -A "$TEST_MNT") ]] || fail_test "a failed unpack left: $(ls -A "$TEST_MNT")"
}

# ---------------------------------------------------------------------------
# hostile layers: refused, naming the entry and the layer, the host unchanged

@test "hostile: absolute entry names are refused" {
  expect_refused absolute "refusing entry \`$MINI_CANARY/pwned\`: absolute path"
}

@test "hostile: ../ escapes are refused" {
  expect_refused dotdot "refusing entry \`etc/../../../../../../../..$MINI_CANARY/pwned\`: \`..\` component"
}

@test "hostile: a symlink to / and a file written through it are refused" {
  expect_refused symlink-write "refusing entry \`evil$MINI_CANARY/pwned\`: \`evil\` is a symlink"
}

@test "hostile: writing through a symlink of a lower layer is refused" {
  expect_refused symlink-write-lower "refusing entry \`evil/pwned\`: \`evil\` is a symlink" -1
}

@test "hostile: a hardlink to /etc/passwd is refused" {
  expect_refused hardlink-passwd "refusing hardlink \`passwd\` to \`/etc/passwd\`: absolute path"
  expect_refused hardlink-dotdot "refusing hardlink \`passwd\` to \`../../../../../../../../etc/passwd\`"
}

@test "hostile: whiteouts of ../x, of .. and bare .wh. are refused" {
  expect_refused whiteout-dotdot "refusing entry \`../.wh.x\`: \`..\` component"
  expect_refused whiteout-dotdot-name "refusing whiteout \`etc/.wh..\`: invalid name"
  expect_refused whiteout-bare "refusing whiteout \`etc/.wh.\`: invalid name"
}

@test "hostile: a gzip bomb of 1 GiB of zeros stops early with a clear error" {
  local digest start
  digest=$(layer_digest gzip-bomb -1)
  start=$SECONDS
  run mini pull "$REG/hostile/gzip-bomb"
  expect_failure
  expect_output_contains "layer $digest: decompression bomb"
  expect_output_matches "ratio over [0-9]+:1"
  ((SECONDS - start < 60)) || fail_test "took $((SECONDS - start)) s to refuse"
  expect_no_tmp_layers
  # nothing of it stays in the store: only busybox's layer
  [[ $(find "$MINI_ROOT_DIR/layers" -mindepth 1 -maxdepth 1 -type d | wc -l) == 1 ]] ||
    fail_test "layers left: $(ls "$MINI_ROOT_DIR/layers")"
  run mini unpack "$REG/hostile/gzip-bomb" "$BATS_TEST_TMPDIR/out"
  expect_failure
  expect_output_contains "decompression bomb"
  [[ ! -e $BATS_TEST_TMPDIR/out ]] || fail_test "mini unpack left its target"
  expect_host_unchanged
}

# ---------------------------------------------------------------------------
# well-formed but tricky layers: the tree umoci writes, in `mini unpack` and in
# a running container (overlay)

# expect_like_umoci CASE: mini unpack of hostile/CASE equals umoci's unpack of
# the layout it was pushed from.
expect_like_umoci() {
  umoci_unpack "$IMAGES/$1" "$BATS_TEST_TMPDIR/umoci-$1"
  run mini unpack "$REG/hostile/$1" "$BATS_TEST_TMPDIR/mini-$1"
  expect_status 0
  expect_same_tree "$BATS_TEST_TMPDIR/umoci-$1/rootfs" "$BATS_TEST_TMPDIR/mini-$1"
}

@test "tricky: an opaque marker after the content, whiteouts before and after" {
  expect_like_umoci opaque-after
  local t=$BATS_TEST_TMPDIR/mini-opaque-after
  [[ $(cd "$t/op" && find . | sort | tr '\n' ' ') == ". ./new ./sub ./sub/new2 " ]] ||
    fail_test "op/ holds: $(cd "$t/op" && find . | sort | tr '\n' ' ')"
  [[ ! -e $t/bin/vi && -e $t/bin/ls ]] || fail_test "bin/vi not whited out"

  run --separate-stderr mini run --rm "$REG/hostile/opaque-after" sh -c \
    'cd /op && find . | sort | tr "\n" " "; echo; ls /wo; ls /bin/vi 2>&1; true'
  expect_status 0
  expect_equal "${lines[0]}" ". ./new ./sub ./sub/new2 "
  expect_equal "${lines[1]}" "new"
  expect_output_contains "No such file"
  expect_host_unchanged
}

@test "tricky: a hardlink whose target a later layer deletes keeps the content" {
  expect_like_umoci hardlink-deleted
  [[ ! -e $BATS_TEST_TMPDIR/mini-hardlink-deleted/hl/target ]] || fail_test "hl/target not deleted"
  run --separate-stderr mini run --rm "$REG/hostile/hardlink-deleted" sh -c 'cat /hl/link; echo; ls /hl'
  expect_status 0
  expect_equal "${lines[0]}" "the target"
  expect_equal "${lines[1]}" "link"
}

@test "tricky: 0000 and 0555 directories get their mode after their content; setuid, sticky" {
  expect_like_umoci dir0000
  local t=$BATS_TEST_TMPDIR/mini-dir0000
  expect_equal "$(stat -c %a "$t/locked") $(cat "$t/locked/inside")" "0 inside"
  expect_equal "$(stat -c %a "$t/ro") $(stat -c %a "$t/ro/sub") $(stat -c %a "$t/ro/sub/f")" "555 555 444"
  expect_equal "$(stat -c %a "$t/suid") $(stat -c %a "$t/sgid") $(stat -c %a "$t/sticky")" "4755 2755 1777"
  run --separate-stderr mini run --rm "$REG/hostile/dir0000" stat -c %a /locked /ro/sub /suid
  expect_status 0
  expect_equal "${lines[*]}" "0 555 4755"
}

@test "tricky: PAX and GNU long names and link targets over 255 bytes" {
  expect_like_umoci long-names
  local n
  n=$(find "$BATS_TEST_TMPDIR/mini-long-names/long" "$BATS_TEST_TMPDIR/mini-long-names/gnu" -type f | wc -l)
  expect_equal "$n" 4 # a file and its hardlink in each
  # the longest name is over 500 bytes; the links point where they should
  run mini run --rm "$REG/hostile/long-names" sh -c \
    'for f in /long/hardlink /gnu/hardlink; do cat $f; echo; done; readlink /long/symlink | wc -c; find /long -type f | awk "length > m { m = length } END { print m }"'
  expect_status 0
  expect_equal "${lines[0]}" pax
  expect_equal "${lines[1]}" gnu
  expect_equal "${lines[2]}" 259 # 258 bytes and a newline
  ((${lines[3]} > 500)) || fail_test "long name of ${lines[3]} bytes"
}

@test "tricky: uids and gids up to 4294967294" {
  expect_like_umoci uid-max
  expect_equal "$(stat -c %u:%g "$BATS_TEST_TMPDIR/mini-uid-max/uidmax")" "4294967294:4294967294"
  expect_equal "$(stat -c %u:%g "$BATS_TEST_TMPDIR/mini-uid-max/uiddir")" "4294967294:4294967293"
  run --separate-stderr mini run --rm "$REG/hostile/uid-max" stat -c %u:%g /uidmax
  expect_status 0
  expect_equal "$output" "4294967294:4294967294"
}

@test "tricky: 100k tiny files in one layer" {
  # On a tmpfs store: the test is about the entry count, not about the disk.
  TEST_MNT=$BATS_TEST_TMPDIR/tmpfs
  mkdir "$TEST_MNT"
  mount -t tmpfs -o size=2g tmpfs "$TEST_MNT"
  local start=$SECONDS
  run --separate-stderr timeout 300 "$MINI" --root "$TEST_MNT/root" run --rm "$REG/hostile/many-files" sh -c \
    'find /many -type f | wc -l; cat /many/42/99942; ls /many | wc -l'
  expect_status 0
  expect_equal "${lines[*]}" "100000 99942 100"
  echo "# pull, extract and run 100k files: $((SECONDS - start)) s" >&3
  start=$SECONDS
  run timeout 300 "$MINI" --root "$TEST_MNT/root" unpack "$REG/hostile/many-files" "$TEST_MNT/flat"
  expect_status 0
  expect_equal "$(find "$TEST_MNT/flat/many" -type f | wc -l)" 100000
  echo "# mini unpack of 100k files: $((SECONDS - start)) s" >&3
}

# ---------------------------------------------------------------------------
# rootfs: overlay with many lowers, vfs

@test "rootfs: an image of 71 layers runs (overlay options longer than a page) and sees every layer" {
  expect_like_umoci many-layers
  run --separate-stderr mini run --rm "$REG/hostile/many-layers" sh -c 'cat /layers/*'
  expect_status 0
  ((${#lines[@]} == 70)) || { show_run; fail_test "expected 70 files, one per layer"; }
  expect_equal "${lines[0]}" "layer 00"
  expect_equal "${lines[69]}" "layer 69"
  run --separate-stderr mini --storage-driver vfs run --rm "$REG/hostile/many-layers" sh -c 'cat /layers/* | wc -l'
  expect_status 0
  expect_equal "$output" 70
}

@test "vfs: --storage-driver vfs runs busybox on a copy of the layers" {
  pull_quiet "$IMG"
  # the root mount: a bind of containers/<id>/rootfs, not an overlay's root
  run --separate-stderr mini --storage-driver vfs run --name v1 "$IMG" sh -c \
    'echo data >/added; rm /bin/vi; awk "\$5 == \"/\" { print \$4 }" /proc/self/mountinfo'
  expect_status 0
  expect_output_matches "/containers/[0-9a-f]{64}/rootfs$"
  local id dir
  id=$(mini ps -aq --no-trunc)
  dir=$MINI_ROOT_DIR/containers/$id
  [[ -e $dir/vfs-rootfs ]] || fail_test "no vfs marker"
  expect_equal "$(cat "$dir/rootfs/added")" data
  [[ ! -e $dir/rootfs/bin/vi && -x $dir/rootfs/bin/ls ]] || fail_test "rootfs copy is wrong"
  [[ -z $(ls -A "$dir/upper") ]] || fail_test "the overlay upper dir was used"
  # the copy is the image's tree
  run mini unpack "$IMG" "$BATS_TEST_TMPDIR/ref"
  expect_status 0
  rm "$BATS_TEST_TMPDIR/ref/bin/vi"
  expect_same_tree "$BATS_TEST_TMPDIR/ref" "$dir/rootfs" --ignore added --ignore proc --ignore sys \
    --ignore etc/hostname --ignore etc/hosts --ignore etc/resolv.conf --no-hardlinks
  # the layers in the store were not touched
  run mini run --rm "$IMG" ls /bin/vi
  expect_status 0
  no_mounts_left || fail_test "mounts left"
}

@test "vfs: nginx -t with --storage-driver vfs" {
  pull_quiet "$NGINX"
  run mini --storage-driver vfs run --rm "$NGINX" nginx -t
  expect_status 0
  expect_output_contains "syntax is ok"
  run mini --storage-driver bogus run --rm "$NGINX" true
  expect_status 125
  expect_output_contains "invalid --storage-driver"
}

@test "vfs: used automatically when the overlay cannot be mounted" {
  # An overlay's upper directory cannot live on an overlay: put the store on one.
  local base=$BATS_TEST_TMPDIR/ovl
  mkdir -p "$base/lower" "$base/upper" "$base/work" "$base/mnt"
  mount -t overlay overlay -o "lowerdir=$base/lower,upperdir=$base/upper,workdir=$base/work" "$base/mnt"
  TEST_MNT=$base/mnt
  run timeout 120 "$MINI" --root "$TEST_MNT/root" --storage-driver overlay run --rm "$IMG" true
  expect_status 125
  expect_output_contains "mount overlay rootfs"
  run --separate-stderr timeout 120 "$MINI" --root "$TEST_MNT/root" run --name auto "$IMG" sh -c 'echo ok; ls /bin/busybox'
  expect_status 0
  expect_equal "${lines[0]}" ok
  local id
  id=$(timeout 60 "$MINI" --root "$TEST_MNT/root" ps -aq --no-trunc)
  [[ -e $TEST_MNT/root/containers/$id/vfs-rootfs ]] || fail_test "vfs was not used"
  run timeout 60 "$MINI" --root "$TEST_MNT/root" export -o "$BATS_TEST_TMPDIR/auto.tar" auto
  expect_status 0
  tar -tf "$BATS_TEST_TMPDIR/auto.tar" | grep -qx bin/busybox || fail_test "export of the vfs container"
}

# ---------------------------------------------------------------------------
# export

@test "export: a running and a stopped container, as a tar on stdout" {
  pull_quiet "$IMG"
  run mini run -d --name ex "$IMG" sh -c 'echo data >/added; rm /bin/vi; touch /ready; sleep 1000'
  expect_status 0
  wait_until 20 mini exec ex test -e /ready

  mini export ex >"$BATS_TEST_TMPDIR/running.tar" || fail_test "export of a running container failed"
  tar -tf "$BATS_TEST_TMPDIR/running.tar" >"$BATS_TEST_TMPDIR/running.list"
  grep -qx added "$BATS_TEST_TMPDIR/running.list" || fail_test "added missing"
  grep -qx bin/busybox "$BATS_TEST_TMPDIR/running.list" || fail_test "bin/busybox missing"
  ! grep -qx bin/vi "$BATS_TEST_TMPDIR/running.list" || fail_test "bin/vi was deleted"
  # /proc and /dev are the container's mounts: not descended into
  grep -qx 'proc/' "$BATS_TEST_TMPDIR/running.list" || fail_test "proc/ missing"
  ! grep -q '^proc/.' "$BATS_TEST_TMPDIR/running.list" || fail_test "proc/ was descended into"
  ! grep -q '^dev/.' "$BATS_TEST_TMPDIR/running.list" || fail_test "dev/ was descended into"

  run mini stop -t 1 ex
  expect_status 0
  run mini export -o "$BATS_TEST_TMPDIR/stopped.tar" ex
  expect_status 0
  no_mounts_left || fail_test "export of a stopped container left a mount"

  # the stopped container's tree: the image's, plus what it changed
  run mini unpack "$IMG" "$BATS_TEST_TMPDIR/image"
  expect_status 0
  mkdir "$BATS_TEST_TMPDIR/stopped"
  tar -C "$BATS_TEST_TMPDIR/stopped" --xattrs --xattrs-include='*' -xpf "$BATS_TEST_TMPDIR/stopped.tar"
  expect_equal "$(cat "$BATS_TEST_TMPDIR/stopped/added")" data
  rm "$BATS_TEST_TMPDIR/image/bin/vi"
  expect_same_tree "$BATS_TEST_TMPDIR/image" "$BATS_TEST_TMPDIR/stopped" --ignore added --ignore ready \
    --ignore proc --ignore sys --ignore etc/hostname --ignore etc/hosts --ignore etc/resolv.conf

  run mini export nosuchcontainer
  expect_failure
  expect_output_contains "nosuchcontainer"
}
