#!/usr/bin/env bats
# libarchive is loaded only by the verbs that read or write tar streams
# (common/archive-loader.c: pull, unpack, load, save, export): mini does not
# link it, other verbs never map it, and without it they still work while
# unpack and save say how to install it.

load helpers

# LD_DEBUG=files of one mini invocation (stderr), the command's own output after it.
ld_files() {
  LD_DEBUG=files timeout --kill-after=10 "$MINI_TEST_TIMEOUT" \
    "$MINI" --root "$MINI_ROOT_DIR" "$@" 2>&1 3>&-
}

@test "archive_lazy: not linked; pull, unpack and save load it, --help/run/ps/images do not" {
  run ldd "$MINI"
  expect_status 0
  expect_output_contains "libc.so"
  expect_output_not_contains "libarchive"

  run ld_files pull "$IMG"
  expect_status 0
  expect_output_matches 'file=libarchive\.so\.13 .*dynamically loaded by'

  for verb in "--help" "images" "ps -a" "run --rm $IMG true"; do
    # shellcheck disable=SC2086  # split the verb and its arguments
    run ld_files $verb
    expect_status 0
    expect_output_contains "file=libjansson.so.4" # LD_DEBUG did report this process
    expect_output_not_contains "libarchive"
  done

  run ld_files unpack "$IMG" "$BATS_TEST_TMPDIR/rootfs"
  expect_status 0
  expect_output_matches 'file=libarchive\.so\.13 .*dynamically loaded by'
  [[ -x $BATS_TEST_TMPDIR/rootfs/bin/busybox ]] || fail_test "busybox not unpacked"

  run ld_files save -o "$BATS_TEST_TMPDIR/img.tar" "$IMG"
  expect_status 0
  expect_output_matches 'file=libarchive\.so\.13 .*dynamically loaded by'
  [[ -s $BATS_TEST_TMPDIR/img.tar ]] || fail_test "save wrote nothing"
}

@test "archive_lazy: without libarchive.so.13, run/ps/images work and unpack/save say what to install" {
  local lib dir up wk
  pull_quiet "$IMG"
  lib=$(ldconfig -p | awk '$1 == "libarchive.so.13" && /x86-64/ { print $NF; exit }')
  [[ -n $lib ]] || fail_test "libarchive.so.13 is not in the ld.so cache"
  dir=$(dirname "$(readlink -f "$lib")")
  up=$BATS_TEST_TMPDIR/upper
  wk=$BATS_TEST_TMPDIR/work
  mkdir -p "$up" "$wk"
  # Overlay whiteouts hide every libarchive.so.13* of the library directory,
  # in a private mount namespace that ends with the script.
  for f in "$dir"/libarchive.so.13*; do
    mknod "$up/${f##*/}" c 0 0
  done
  # shellcheck disable=SC2016  # expanded by the inner shell
  run timeout 120 unshare --mount --propagation private bash -c '
    set -u
    dir=$1 mini=$4 root=$5 img=$6 out=$7
    mount -t overlay overlay -o "lowerdir=$dir,upperdir=$2,workdir=$3" "$dir" || exit 99
    m() { "$mini" --root "$root" "$@" 3>&-; echo "$1 status=$?"; }
    [ -e "$dir/libarchive.so.13" ] && echo "libarchive still visible"
    m ps -a
    m images
    m run --rm "$img" echo ran-without-libarchive
    m unpack "$img" "$out/rootfs"
    m save -o "$out/img.tar" "$img"
  ' lazy "$dir" "$up" "$wk" "$MINI" "$MINI_ROOT_DIR" "$IMG" "$BATS_TEST_TMPDIR"
  expect_status 0
  expect_output_not_contains "libarchive still visible"
  expect_output_contains "ran-without-libarchive"
  expect_output_contains "ps status=0"
  expect_output_contains "images status=0"
  expect_output_contains "run status=0"
  expect_output_matches '^unpack status=(1|125)$'
  expect_output_matches '^save status=(1|125)$'
  expect_equal "$(grep -c 'libarchive.so.13 not found: install libarchive13 (apt-get install libarchive13)$' <<<"$output")" 2
  expect_output_not_contains "error while loading shared libraries"
}
