#!/bin/sh
# Runs `mailsim check` on tests/scenarios/check_pass.yaml (exit 0) and on
# a copy with one expectation tightened until it fails (exit 1).  Copies
# with a malformed and a missing expect list must exit 2 with an exact
# message.  Every scenarios/policies/*.yaml must pass its own check.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

if [ ! -x "$build/mailsim" ]; then
    echo "check_command: $build/mailsim is not built, skipped"
    exit 0
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
scenario=tests/scenarios/check_pass.yaml
count=$(grep -c '{metric:' "$scenario")

# All expectations pass: one PASS line each and the closing count.
"$build/mailsim" check "$scenario" -o "$out/pass" >"$out/pass.txt" 2>"$out/pass.err"
expect_equal "check_pass exit status" 0 $?
expect_equal "check_pass stderr" "" "$(cat "$out/pass.err")"
expect_equal "check_pass PASS lines" "$count" "$(grep -c '^PASS  ' "$out/pass.txt")"
expect_equal "check_pass FAIL lines" 0 "$(grep -c '^FAIL  ' "$out/pass.txt")"
expect_equal "check_pass closing line" "$count passed, 0 failed" "$(tail -n 1 "$out/pass.txt")"
expect_true "check_pass prints the run summary" "$(grep -c '^messages$' "$out/pass.txt")" -eq 1
expect_true "check_pass writes the database" -f "$out/pass/results.sqlite"

# The run is `mailsim run`'s: same seed, same events.
"$build/mailsim" run "$scenario" -o "$out/run" >/dev/null
fingerprint="select value from run where key = 'fingerprint'"
expect_equal "check runs like run" "$(query "$out/run/results.sqlite" "$fingerprint")" \
    "$(query "$out/pass/results.sqlite" "$fingerprint")"

# One expectation tightened from 15m to 5m fails; the others still pass.
sed 's/path: other_provider, at_most: 15m}/path: other_provider, at_most: 5m}/' \
    "$scenario" >"$out/check_fail.yaml"
"$build/mailsim" check "$out/check_fail.yaml" -o "$out/fail" >"$out/fail.txt" 2>&1
expect_equal "check_fail exit status" 1 $?
failed=$(grep '^FAIL  ' "$out/fail.txt")
measured=${failed#* = }
measured=${measured%% s,*}
expect_equal "check_fail names the expectation" "FAIL  latency_p95{path=other_provider}" \
    "${failed%% = *}"
expect_equal "check_fail states the bound" "expected at most 300 s (5m)" "${failed#*, }"
expect_equal "check_fail measured above 300 s" 1 "$(echo "$measured > 300" | bc)"
expect_equal "check_fail closing line" "$((count - 1)) passed, 1 failed" \
    "$(tail -n 1 "$out/fail.txt")"

# A bound without its unit is bad input: exit 2 before anything runs.
sed 's/path: other_provider, at_most: 15m}/path: other_provider, at_most: 15}/' \
    "$scenario" >"$out/check_bad.yaml"
"$build/mailsim" check "$out/check_bad.yaml" -o "$out/bad" >"$out/bad.txt" 2>"$out/bad.err"
expect_equal "check_bad exit status" 2 $?
expect_equal "check_bad message" "$out/check_bad.yaml:70:58: expect[5].at_most: found '15', \
a number without a unit, expected a duration such as 250ms, 5m or 4h" "$(cat "$out/bad.err")"
expect_equal "check_bad prints nothing" "" "$(cat "$out/bad.txt")"
expect_true "check_bad runs nothing" ! -e "$out/bad"

# A scenario without an expect list cannot be checked.
sed '/^expect:/,$d' "$scenario" >"$out/no_expect.yaml"
"$build/mailsim" check "$out/no_expect.yaml" -o "$out/none" >/dev/null 2>"$out/none.err"
expect_equal "no_expect exit status" 2 $?
expect_equal "no_expect message" "$out/no_expect.yaml:6:1: missing required key 'expect'" \
    "$(cat "$out/none.err")"

# --seed reaches the run, and a bad seed or a missing scenario is a usage error.
"$build/mailsim" check "$scenario" --seed 12 -o "$out/seed" >/dev/null
expect_true "check --seed exit status" $? -le 1
expect_equal "check --seed stored" 12 \
    "$(query "$out/seed/results.sqlite" "select value from run where key = 'seed'")"
"$build/mailsim" check "$scenario" --seed x12 -o "$out/seed" >/dev/null 2>"$out/seed.err"
expect_equal "check bad seed exit status" 2 $?
expect_equal "check bad seed message" "mailsim check: invalid seed 'x12': expected an \
unsigned 64-bit decimal integer" "$(cat "$out/seed.err")"
"$build/mailsim" check >/dev/null 2>&1
expect_equal "check without scenario exit status" 2 $?

# A run that fails passes its status on, and nothing is evaluated.
"$build/mailsim" check "$scenario" -o /dev/null/results >"$out/broken.txt" 2>/dev/null
expect_equal "failed run exit status" 1 $?
expect_equal "failed run evaluates nothing" 0 "$(grep -c '^PASS  \|^FAIL  ' "$out/broken.txt")"

# Every retry-policy and fault scenario must meet its own expectations.
for policy in scenarios/policies/*.yaml; do
    [ -f "$policy" ] || continue
    name=$(basename "$policy" .yaml)
    "$build/mailsim" check "$policy" -o "$out/policies/$name" >"$out/$name.txt" \
        2>"$out/$name.err"
    status=$?
    expect_equal "$policy exit status" 0 "$status"
    if [ "$status" -ne 0 ]; then
        grep '^FAIL  ' "$out/$name.txt"
        cat "$out/$name.err"
    fi
done
finish
