#!/bin/sh
# Every scenario in scenarios/policies/ names one parameter change in a
# "# mutation: s/OLD/NEW/" line.  tests/scripts/check_command.sh requires
# each scenario to pass `mailsim check`; this script applies each mutation
# and requires the check to fail (exit status 1), so every expectation
# list is shown to depend on the parameter it is about.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/scenarios"
cp -r scenarios/policies/traces "$out/scenarios/"

for scenario in scenarios/policies/*.yaml; do
    case_name=$(basename "$scenario" .yaml)
    mutation=$(sed -n 's/^# mutation: //p' "$scenario")
    expect_true "$case_name names a mutation" -n "$mutation"
    [ -n "$mutation" ] || continue

    mutated="$out/scenarios/$case_name.yaml"
    sed -e "$mutation" "$scenario" >"$mutated"
    cmp -s "$scenario" "$mutated"
    expect_equal "$case_name mutation changes the file" 1 $?

    "$build/mailsim" check "$mutated" -o "$out/results/$case_name" >"$out/$case_name.log" 2>&1
    status=$?
    expect_equal "$case_name mutated check exit status" 1 "$status"
    [ "$status" -eq 1 ] || tail -5 "$out/$case_name.log"
done
finish
