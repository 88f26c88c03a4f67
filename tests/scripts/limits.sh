#!/bin/sh
# Checks each run limit on tests/scenarios/e2e.yaml: max_events and
# max_in_flight given as options and in the scenario's limits section, and
# max_memory as an option.  A run stopped by a limit exits with status 1,
# prints one line naming the limit, and keeps a complete database with
# status "limit_reached: NAME" whose ledger matches its message rows.
# --max-events 0 removes the scenario's limit, and a limit the run never
# reaches leaves it complete.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
db="$out/results/results.sqlite"

# run NAME EXPECTED_STATUS SCENARIO [OPTION...]: runs into $out/results
# after removing earlier results, and checks the exit status.
run() {
    name=$1
    expected=$2
    scenario=$3
    shift 3
    rm -rf "$out/results"
    "$build/mailsim" run "$scenario" -o "$out/results" "$@" >"$out/stdout" 2>"$out/stderr"
    expect_equal "$name: exit status" "$expected" $?
}

# check_stopped NAME LIMIT: the database of a run stopped by LIMIT.
check_stopped() {
    expect_equal "$1: integrity check" ok "$(query "$db" "pragma integrity_check")"
    expect_equal "$1: run status" "limit_reached: $2" \
        "$(query "$db" "select value from run where key='status'")"
    messages=$(query "$db" "select count(*) from messages")
    expect_true "$1: some messages recorded" "$messages" -gt 0
    expect_equal "$1: ledger sums to message rows" "$messages" \
        "$(query "$db" "select sum(count) from ledger")"
    expect_equal "$1: summary line" 1 \
        "$(grep -c "^run stopped at [0-9.]* s of simulated time (limit_reached: $2)" "$out/stdout")"
}

# The simulated time of the stop depends on the model's events; the rest
# of the message is fixed.
events_message="mailsim: run stopped at T s of simulated time by limit max_events (5000 events run, limit 5000); results so far kept"
without_time() {
    sed 's/stopped at [0-9.]* s/stopped at T s/' "$1"
}
run "--max-events" 1 tests/scenarios/e2e.yaml --max-events 5000
expect_equal "--max-events: message" "$events_message" "$(without_time "$out/stderr")"
expect_equal "--max-events: events" 5000 "$(query "$db" "select value from run where key='events'")"
check_stopped "--max-events" max_events

cp tests/scenarios/e2e.yaml "$out/limited.yaml"
printf 'limits: {max_events: 5000, max_memory: 64GiB}\n' >>"$out/limited.yaml"
run "limits.max_events" 1 "$out/limited.yaml"
expect_equal "limits.max_events: message" "$events_message" "$(without_time "$out/stderr")"
check_stopped "limits.max_events" max_events

run "--max-events 0" 0 "$out/limited.yaml" --max-events 0
expect_equal "--max-events 0: no message" "" "$(cat "$out/stderr")"
expect_equal "--max-events 0: run status" complete \
    "$(query "$db" "select value from run where key='status'")"

in_flight_message="mailsim: run stopped at T s of simulated time by limit max_in_flight (N messages in flight, limit 20); results so far kept"
# The count can pass the limit a little: it is checked between chunks.
without_time_and_count() {
    sed 's/stopped at [0-9.]* s/stopped at T s/; s/([0-9]* messages in flight/(N messages in flight/' "$1"
}
run "--max-in-flight" 1 tests/scenarios/e2e.yaml --max-in-flight 20
expect_equal "--max-in-flight: message" "$in_flight_message" "$(without_time_and_count "$out/stderr")"
check_stopped "--max-in-flight" max_in_flight
in_flight=$(sed -n 's/.*(\([0-9]*\) messages in flight.*/\1/p' "$out/stderr")
expect_true "--max-in-flight: stopped past the limit" "$in_flight" -gt 20
expect_equal "--max-in-flight: messages in flight kept" "$in_flight" \
    "$(query "$db" "select count(*) from messages where state not in ('delivered','bounced','rejected','dropped')")"

cp tests/scenarios/e2e.yaml "$out/limited.yaml"
printf 'limits:\n  max_in_flight: 20\n' >>"$out/limited.yaml"
run "limits.max_in_flight" 1 "$out/limited.yaml"
expect_equal "limits.max_in_flight: message" "$in_flight_message" "$(without_time_and_count "$out/stderr")"
check_stopped "limits.max_in_flight" max_in_flight

# Any process has more than 1 MB resident, so the check at time 0 stops it;
# the number of bytes depends on the build.
run "--max-memory" 1 tests/scenarios/e2e.yaml --max-memory 1MB
expect_equal "--max-memory: message" 1 "$(grep -c '^mailsim: run stopped at 0.000 s of simulated time by limit max_memory ([0-9]* bytes resident, limit 1000000); results so far kept$' "$out/stderr")"
expect_equal "--max-memory: run status" "limit_reached: max_memory" \
    "$(query "$db" "select value from run where key='status'")"
expect_equal "--max-memory: ledger" 0 "$(query "$db" "select sum(count) from ledger")"

run "--max-memory 64GiB" 0 tests/scenarios/e2e.yaml --max-memory 64GiB
expect_equal "--max-memory 64GiB: run status" complete \
    "$(query "$db" "select value from run where key='status'")"

run "--max-memory 10" 2 tests/scenarios/e2e.yaml --max-memory 10
expect_equal "--max-memory 10: message" \
    "mailsim run: invalid --max-memory '10': expected a size such as 512MB or 2GiB (0 for no limit)" \
    "$(head -n 1 "$out/stderr")"
run "--max-events -1" 2 tests/scenarios/e2e.yaml --max-events -1
expect_equal "--max-events -1: message" \
    "mailsim run: invalid --max-events '-1': expected a non-negative integer (0 for no limit)" \
    "$(head -n 1 "$out/stderr")"
finish
