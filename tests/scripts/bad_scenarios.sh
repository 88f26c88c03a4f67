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

# Generated rather than committed because of their size: nesting 5000
# levels deep, a 17 MiB file, and a 5 MB file whose error is on its last
# line.
generated=$(mktemp -d)
trap 'rm -f "$errors"; rm -rf "$generated"' EXIT
awk 'BEGIN { printf "name: bad\ndeep: "; for (i = 0; i < 5000; i++) printf "[";
             for (i = 0; i < 5000; i++) printf "]"; print "" }' >"$generated/deep.yaml"
awk 'BEGIN { print "name: bad"; for (i = 0; i < 220000; i++)
             printf "# %078d\n", i }' >"$generated/huge.yaml"
sed '/^faults:/,$d' scenarios/minimal.yaml >"$generated/long.yaml"
awk 'BEGIN { print "faults:"; for (i = 1; i <= 60000; i++)
             printf "  - {kind: host_down, host: mx.beta.example, start: %dm, end: %dm}\n", i, i + 1
             print "  - {kind: host_down, host: mx.beta.example, start: 2m, end: 1m}" }' \
    >>"$generated/long.yaml"
for check in \
    "deep.yaml:2:70: nesting is deeper than the limit of 64 levels" \
    "huge.yaml: the file is larger than the limit of 16 MiB" \
    "long.yaml:60046:62: faults[60000].end: found '1m', expected a time after start ('2m')"; do
    scenario="$generated/${check%%:*}"
    "$build/mailsim" run --dry-run "$scenario" >/dev/null 2>"$errors"
    expect_equal "$scenario exit status" 2 $?
    expect_equal "$scenario message" "$generated/$check" "$(cat "$errors")"
done

"$build/mailsim" run --dry-run scenarios/minimal.yaml >/dev/null 2>"$errors"
expect_equal "scenarios/minimal.yaml exit status" 0 $?
expect_equal "scenarios/minimal.yaml message" "" "$(cat "$errors")"
finish
