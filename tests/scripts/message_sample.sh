#!/bin/sh
# output.message_sample writes the rows of a fixed fraction of messages:
# the same messages in every run, each with all its recipients and
# attempts, while the summary still counts every message.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sed 's/^output: .*/output: {sample_interval: 1m, message_rows: true, message_sample: 0.1, plots: false}/' \
    tests/scenarios/e2e.yaml >"$out/sampled.yaml"
for run in first second; do
    "$build/mailsim" run "$out/sampled.yaml" -o "$out/$run" >/dev/null
    expect_equal "$run run exit status" 0 $?
done
db="$out/first/results.sqlite"

total=$(query "$db" "select cast(value as int) from summary where metric='messages_submitted'")
rows=$(query "$db" "select count(*) from messages where is_dsn = 0")
expect_true "about a tenth written (at least 5%)" "$((rows * 20))" -ge "$total"
expect_true "about a tenth written (at most 20%)" "$((rows * 5))" -le "$total"
expect_equal "every recipient row has its message" 0 \
    "$(query "$db" "select count(*) from recipients where message_id not in (select id from messages)")"
expect_equal "every attempt row has its message" 0 \
    "$(query "$db" "select count(*) from attempts where message_id not in (select id from messages)")"
expect_equal "recipients complete" 0 \
    "$(query "$db" "select count(*) from messages m where recipients != (select count(*) from recipients r where r.message_id = m.id)")"
expect_equal "same messages in both runs" \
    "$(query "$db" "select group_concat(id) from messages")" \
    "$(query "$out/second/results.sqlite" "select group_concat(id) from messages")"
finish
