#!/bin/sh
# Runs one scenario twice with the same seed and once with another: the
# first two databases must be identical except for the wall-clock time,
# and the third must differ.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

dump() {
    sqlite3 -batch "$1/results.sqlite" .dump | grep -v "'wall_seconds'"
}

for run in first second; do
    "$build/mailsim" run tests/scenarios/e2e.yaml -o "$out/$run" >/dev/null
    expect_equal "$run run exit status" 0 $?
done
"$build/mailsim" run tests/scenarios/e2e.yaml -o "$out/other" --seed 12 >/dev/null
expect_equal "other seed exit status" 0 $?

dump "$out/first" >"$out/first.sql"
dump "$out/second" >"$out/second.sql"
dump "$out/other" >"$out/other.sql"
expect_true "dump is not empty" "$(wc -l <"$out/first.sql")" -gt 1000
cmp -s "$out/first.sql" "$out/second.sql"
expect_equal "same seed, same database" 0 $?
cmp -s "$out/first/latency_cdf.svg" "$out/second/latency_cdf.svg"
expect_equal "same seed, same plot" 0 $?
cmp -s "$out/first.sql" "$out/other.sql"
expect_equal "other seed, other database" 1 $?

fingerprint() {
    query "$1/results.sqlite" "select value from run where key='fingerprint'"
}
expect_equal "same seed, same fingerprint" "$(fingerprint "$out/first")" \
    "$(fingerprint "$out/second")"
expect_true "other seed, other fingerprint" "$(fingerprint "$out/first")" != \
    "$(fingerprint "$out/other")"
expect_equal "seed override stored" 12 \
    "$(query "$out/other/results.sqlite" "select value from run where key='seed'")"
finish
