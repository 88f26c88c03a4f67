#!/bin/sh
# Two runs into one output directory: one after the other keeps the earlier
# database as results.previous.sqlite; at the same time, the second stops
# at once and leaves the first run's results whole.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$build/mailsim" run tests/scenarios/e2e.yaml -o "$out/d" >/dev/null 2>&1
"$build/mailsim" run tests/scenarios/e2e.yaml -o "$out/d" --seed 12 >/dev/null 2>&1
expect_equal "earlier run kept" 11 \
    "$(query "$out/d/results.previous.sqlite" "select value from run where key='seed'")"
expect_equal "later run in place" 12 \
    "$(query "$out/d/results.sqlite" "select value from run where key='seed'")"

# tests/scenarios/long.yaml runs for several seconds.
"$build/mailsim" run tests/scenarios/long.yaml -o "$out/c" >/dev/null 2>&1 &
first=$!
sleep 1
"$build/mailsim" run tests/scenarios/e2e.yaml -o "$out/c" >/dev/null 2>"$out/second.err"
expect_equal "second run exit status" 1 $?
expect_equal "second run message" \
    "mailsim: another mailsim run is writing to $out/c; wait for it to finish or choose another directory with -o" \
    "$(cat "$out/second.err")"
kill -INT "$first"
wait "$first"
expect_equal "first run interrupted" 130 $?
expect_equal "first run's database" "ok" "$(query "$out/c/results.sqlite" "pragma integrity_check")"
expect_equal "first run's seed" \
    "$(sed -n 's/^seed: *\([0-9]*\).*/\1/p' tests/scenarios/long.yaml)" \
    "$(query "$out/c/results.sqlite" "select value from run where key='seed'")"
finish
