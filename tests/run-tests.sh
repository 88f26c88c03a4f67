#!/bin/sh
# Runs every unit-test program under BUILD/tests and the scenario checks in
# tests/, then prints one closing line "N passed, N failed" counting the
# test programs and scripts.
set -u
build=${1:-build}
passed=0
failed=0
failed_names=""

run_one() {
    name=$1
    shift
    echo "== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failed_names="$failed_names $name"
    fi
}

for program in "$build"/tests/test_*; do
    [ -x "$program" ] || continue
    run_one "$(basename "$program")" "$program"
done

for script in tests/scripts/*.sh; do
    [ -f "$script" ] || continue
    run_one "$(basename "$script" .sh)" sh "$script" "$build"
done

[ "$failed" -eq 0 ] || echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
