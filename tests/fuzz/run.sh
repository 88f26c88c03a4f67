#!/bin/sh
# Runs each libFuzzer target in BUILD (fuzz_NAME) for SECONDS, starting
# from the seed corpus tests/fuzz/corpus/NAME and adding what it finds to
# BUILD/corpus/NAME, so the committed corpus stays small.  A crash, a hang
# of more than 10 s, a leak or a sanitizer report fails the run and leaves
# the input in BUILD/crashes/.  Usage: run.sh BUILD SECONDS NAME...
set -u
build=$1
seconds=$2
shift 2
failed=0

mkdir -p "$build/crashes"
for name in "$@"; do
    corpus="$build/corpus/$name"
    log="$build/fuzz_$name.log"
    mkdir -p "$corpus"
    echo "== fuzz_$name for $seconds s (log: $log)"
    if "$build/fuzz_$name" -max_total_time="$seconds" -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$build/crashes/$name-" \
        "$corpus" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
        grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log"
    else
        failed=$((failed + 1))
        tail -n 40 "$log"
        echo "fuzz_$name FAILED; the input is in $build/crashes/"
    fi
done
[ "$failed" -eq 0 ]
