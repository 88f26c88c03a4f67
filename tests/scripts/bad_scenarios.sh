#!/bin/sh
# Runs `mailsim run --dry-run` on every malformed scenario in tests/bad and checks
# exit status 2 and the exact error line in the matching .expected file, then
# checks that scenarios/minimal.yaml validates.  Without a built mailsim the
# script passes with a message: test_scenario checks the same files through
# scenario_load_report.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

if [ ! -x "$build/mailsim" ]; then
    echo "bad_scenarios: $build/mailsim is not built, skipped"
    exit 0
fi

errors=$(mktemp)
trap 'rm -f "$errors"' EXIT

for scenario in tests/bad/*.yaml; do
    "$build/mailsim" run --dry-run "$scenario" >/dev/null 2>"$errors"
    expect_equal "$scenario exit status" 2 $?
    expect_equal "$scenario message" "$(cat "${scenario%.yaml}.expected")" "$(cat "$errors")"
done

"$build/mailsim" run --dry-run scenarios/minimal.yaml >/dev/null 2>"$errors"
expect_equal "scenarios/minimal.yaml exit status" 0 $?
expect_equal "scenarios/minimal.yaml message" "" "$(cat "$errors")"
finish
