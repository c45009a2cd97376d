#!/usr/bin/env bats
# Command-line handling.

# shellcheck disable=SC2016  # $VARS in single quotes are for the container shell
load helpers

@test "cli: --help lists the verbs" {
  run mini --help
  expect_status 0
  for verb in pull run ps exec logs stop rm images; do
    expect_output_matches "(^|[[:space:]])$verb([[:space:]]|$)"
  done
}

@test "cli: an unknown flag fails with a usage hint" {
  run mini run --bogus "$IMG" true
  expect_failure
  expect_output_contains "--bogus"
  expect_output_imatches "usage|--help"
  # Nothing was started.
  run --separate-stderr mini ps -aq
  expect_equal "$output" ""
}

@test "cli: an unknown verb fails with a usage hint" {
  run mini nosuchverb
  expect_failure
  expect_output_contains nosuchverb
  expect_output_imatches "usage|--help"
}

@test "cli: missing arguments fail with a usage hint" {
  local args
  for args in "run" "pull" "exec" "logs" "stop" "rm"; do
    # shellcheck disable=SC2086
    run mini $args
    expect_failure
    expect_output_imatches "usage|--help|requires|argument"
  done
}

@test "cli: run exits 125 for its own errors" {
  run mini run --rm --net bogus "$IMG" true
  expect_status 125
  run mini run --rm --pid bogus "$IMG" true
  expect_status 125
}
