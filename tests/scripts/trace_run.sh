#!/bin/sh
# Drives a run from scenarios/traces/sample.trace: 21 rows that form 15
# messages, rows with the same time and sender being one message.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$build/mailsim" run scenarios/trace.yaml -o "$out" >/dev/null
expect_equal "exit status" 0 $?
db="$out/results.sqlite"

expect_equal "messages" 15 "$(query "$db" "select count(*) from messages where is_dsn = 0")"
expect_equal "recipients" 21 "$(query "$db" "select count(*) from recipients")"
expect_equal "three-recipient message" "u17@alpha.example|3" \
    "$(query "$db" "select sender || '|' || recipients from messages where submitted = 4.0")"
expect_equal "four-recipient message" "u600@beta.example|4" \
    "$(query "$db" "select sender || '|' || recipients from messages where submitted = 60.0")"
expect_equal "same time, other sender" 2 \
    "$(query "$db" "select count(*) from messages where submitted = 30.0")"
expect_equal "all delivered" 15 \
    "$(query "$db" "select count(*) from messages where state = 'delivered'")"
expect_equal "row order kept" "u9@beta.example,u10@beta.example,u11@alpha.example" \
    "$(query "$db" "select group_concat(address) from (select address from recipients r join messages m on m.id = r.message_id where m.submitted = 4.0 order by idx)")"

# A bad row stops the run with its position and exit status 2.
mkdir -p "$out/bad/traces"
sed 's|^trace: .*|trace: traces/bad.trace|' scenarios/trace.yaml >"$out/bad/trace.yaml"
printf '0 u1@alpha.example u2@beta.example\n5 u1@alpha.example\n' >"$out/bad/traces/bad.trace"
"$build/mailsim" run "$out/bad/trace.yaml" -o "$out/bad/results" >/dev/null 2>"$out/bad/stderr"
expect_equal "bad trace exit status" 2 $?
expect_equal "bad trace message" 1 "$(grep -c "bad.trace:2:" "$out/bad/stderr")"
expect_true "no database after a bad trace" ! -e "$out/bad/results/results.sqlite"
finish
