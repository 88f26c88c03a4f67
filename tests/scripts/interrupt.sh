#!/bin/sh
# Interrupts a long run (tests/scenarios/long.yaml, about 30 s) after two
# seconds, once with SIGINT and once with SIGTERM, and checks that it stops
# within a few seconds with exit status 130 or 143, keeps a complete
# database with status "interrupted" whose ledger matches its message rows,
# and prints a line saying so after the summary.  The second run writes
# to the same directory, so it also checks that the first database is kept
# as results.previous.sqlite.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$out"' EXIT

# interrupt SIGNAL NAME EXIT_STATUS
interrupt() {
    "$build/mailsim" run tests/scenarios/long.yaml -o "$out" >"$out/stdout" 2>"$out/stderr" &
    pid=$!
    sleep 2
    kill -"$1" "$pid"
    signalled=$(date +%s)
    wait "$pid"
    status=$?
    pid=
    expect_equal "$1: exit status" "$3" "$status"
    expect_true "$1: stopped within 10 s" $(($(date +%s) - signalled)) -le 10

    db="$out/results.sqlite"
    expect_true "$1: database exists" -f "$db"
    expect_true "$1: no partial file left" ! -e "$db.partial"
    expect_equal "$1: integrity check" "ok" "$(query "$db" "pragma integrity_check")"
    expect_equal "$1: run status" "interrupted" \
        "$(query "$db" "select value from run where key='status'")"
    messages=$(query "$db" "select count(*) from messages")
    expect_true "$1: some messages recorded" "$messages" -gt 0
    expect_equal "$1: ledger sums to message rows" "$messages" \
        "$(query "$db" "select sum(count) from ledger")"
    expect_equal "$1: summary line" 1 \
        "$(grep -c "^run interrupted by $2 at [0-9.]* s of simulated time" "$out/stdout")"
}

interrupt INT SIGINT 130
expect_true "no earlier results at first" ! -e "$out/results.previous.sqlite"
interrupt TERM SIGTERM 143
expect_true "earlier results kept" -f "$out/results.previous.sqlite"
expect_equal "earlier results still intact" "ok" \
    "$(query "$out/results.previous.sqlite" "pragma integrity_check")"
expect_equal "keeping announced on stderr" \
    "mailsim: the earlier $out/results.sqlite is kept as $out/results.previous.sqlite" \
    "$(cat "$out/stderr")"
finish
