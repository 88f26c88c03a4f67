#!/bin/sh
# Runs `mailsim validate --quick` and checks exit status 0, one PASS row per
# compared quantity with the expected analytic values, and the same output
# on a second run.  Then checks exit status 2 on bad input: a bad seed, a
# directory without cases, and a queue scenario that breaks its model's
# assumptions.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$build/mailsim" validate --quick >"$out/first.txt" 2>"$out/first.err"
expect_equal "validate --quick exit status" 0 $?
"$build/mailsim" validate --quick >"$out/second.txt" 2>/dev/null
cmp -s "$out/first.txt" "$out/second.txt"
expect_equal "same seed, same table" 0 $?

# row CASE QUANTITY: prints the analytic value and the result of one row.
row() {
    awk -v case_name="$1" -v quantity="$2" '
        $1 == case_name && index($0, quantity) > 0 {
            print $(NF - 5), $NF
        }' "$out/first.txt"
}

expect_equal "mm1 wait" "3.2 PASS" "$(row mm1 'mean wait Wq (s)')"
expect_equal "mm1 sojourn" "4 PASS" "$(row mm1 'mean sojourn W (s)')"
expect_equal "mm1 queue length" "3.2 PASS" "$(row mm1 'mean queue length Lq')"
expect_equal "mm1 utilisation" "0.8 PASS" "$(row mm1 'utilisation')"
expect_equal "mm1 wait tail" "0.485225 PASS" "$(row mm1 'P(wait > 2s)')"
expect_equal "mmc wait" "1.07865 PASS" "$(row mmc 'mean wait Wq (s)')"
expect_equal "mmc8 wait" "0.789225 PASS" "$(row mmc8 'mean wait Wq (s)')"
expect_equal "mmc8 wait tail" "0.288409 PASS" "$(row mmc8 'P(wait > 1s)')"
expect_equal "md1 wait" "1.6 PASS" "$(row md1 'mean wait Wq (s)')"
expect_equal "mg1 low SCV wait" "2 PASS" "$(row mg1_lognormal_low 'mean wait Wq (s)')"
expect_equal "mg1 high SCV wait" "8 PASS" "$(row mg1_lognormal_high 'mean wait Wq (s)')"
expect_equal "erlang_b blocking" "0.199067 PASS" "$(row erlang_b 'blocking probability')"
expect_equal "erlang_b lognormal blocking" "0.199067 PASS" \
    "$(row erlang_b_lognormal 'blocking probability')"
expect_equal "mm1k blocking" "0.0888195 PASS" "$(row mm1k 'blocking probability')"

little_rows=$(grep -c '^little_email .* L = lambda W .* PASS$' "$out/first.txt")
expect_equal "Little's law rows, 4 stations per provider" 8 "$little_rows"
expect_equal "rows that failed" 0 "$(grep -c 'FAIL$' "$out/first.txt")"
expect_equal "summary line" "61 of 61 rows passed (quick run)" "$(tail -n 1 "$out/first.txt")"
expect_true "wall time on stderr" -n "$(grep '^validate: ' "$out/first.err")"

"$build/mailsim" validate --seed abc >/dev/null 2>"$out/error.txt"
expect_equal "bad seed exit status" 2 $?
expect_equal "bad seed message" "mailsim validate: invalid seed 'abc': expected an unsigned 64-bit decimal integer" \
    "$(head -n 1 "$out/error.txt")"

mkdir "$out/empty"
"$build/mailsim" validate --dir "$out/empty" >/dev/null 2>"$out/error.txt"
expect_equal "empty directory exit status" 2 $?
expect_equal "empty directory message" \
    "mailsim validate: no case files (*.yaml) found in '$out/empty'; run from the repository root or give --dir DIR" \
    "$(cat "$out/error.txt")"

mkdir "$out/bad"
sed 's/^servers: 1$/servers: 2/' scenarios/validation/mm1.yaml >"$out/bad/mm1.yaml"
"$build/mailsim" validate --quick --dir "$out/bad" >/dev/null 2>"$out/error.txt"
expect_equal "bad case exit status" 2 $?
expect_equal "bad case message" "$out/bad/mm1.yaml:10:10: servers: model 'mm1' has one server, found servers: 2" \
    "$(cat "$out/error.txt")"
finish
