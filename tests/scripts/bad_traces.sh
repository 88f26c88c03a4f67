#!/bin/sh
# Runs `mailsim run` on scenarios/trace.yaml pointed at each malformed trace
# in tests/traces/ and checks exit status 2 and the exact error line
# "TRACE:LINE:COLUMN: message".  Messages before a bad row are simulated,
# so the error can come in the middle of the run; no results.sqlite may be
# left behind.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
traces=$(pwd)/tests/traces

while IFS='|' read -r name message; do
    sed "s|^trace: .*|trace: $traces/$name.trace|" scenarios/trace.yaml >"$out/scenario.yaml"
    "$build/mailsim" run "$out/scenario.yaml" -o "$out/results" >/dev/null 2>"$out/stderr"
    expect_equal "$name exit status" 2 $?
    expect_equal "$name message" "$traces/$name.trace:$message" "$(cat "$out/stderr")"
    expect_true "$name: no results written" ! -e "$out/results/results.sqlite"
done <<'TABLE'
columns_csv_empty|1:36: expected 3 columns (time, sender, recipient), found 4
columns_few|2:19: expected 3 columns (time, sender, recipient), found 2
columns_many|1:36: expected 3 columns (time, sender, recipient), found 4
long_line|2:4097: line is longer than 4096 bytes
nul_byte|2:11: line contains a NUL byte, expected text
recipient_empty|1:22: recipient is empty, expected an address
recipient_unknown|1:20: invalid recipient 'bob@gamma.example': domain 'gamma.example' is not served by any provider
sender_no_at|1:3: invalid sender 'alice': missing '@' between local part and domain
time_decreasing|7:1: time '12.5' is earlier than the previous row's 13, expected non-decreasing times
time_hex|1:1: time '0x10' is not a number, expected seconds
time_inf|2:1: time 'inf' is not a finite number
time_large|1:1: time '1e10' is too large, expected at most 9223372036 seconds
time_nan|1:3: time 'nan' is not a finite number
time_negative|1:1: time '-1' is negative, expected seconds >= 0
time_text|2:1: time 'noon' is not a number, expected seconds
too_many_recipients|66:20: message at time 5 from u1@alpha.example has more than 64 recipients
TABLE

# The good traces next to them run to the end.
for name in grouping grouping.csv max_recipients; do
    sed "s|^trace: .*|trace: $traces/$name.trace|" scenarios/trace.yaml >"$out/scenario.yaml"
    "$build/mailsim" run "$out/scenario.yaml" -o "$out/results" >/dev/null 2>"$out/stderr"
    expect_equal "$name exit status" 0 $?
    rm -rf "$out/results"
done
finish
