#!/bin/sh
# Runs tests/scenarios/protocol.yaml and checks the SMTP options end to
# end: connection reuse, STARTTLS (optional and required), pipelining and
# a recipient limit that splits one message over several transactions.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$build/mailsim" run tests/scenarios/protocol.yaml -o "$out" >/dev/null
expect_equal "exit status" 0 $?
db="$out/results.sqlite"

# alpha waits for its single connection to beta, so it reuses it.
transactions=$(query "$db" "select count(*) from attempts where from_provider='alpha'")
connections=$(query "$db" "select count(distinct connection) from attempts where from_provider='alpha'")
expect_true "alpha reuses connections" "$connections" -lt "$transactions"
expect_true "several transactions per connection" "$((transactions / connections))" -ge 2

# TLS: alpha (may) and delta (encrypt) get it from beta, which offers it.
expect_equal "alpha over TLS" 1 "$(query "$db" "select min(tls) from attempts where from_provider='alpha' and to_provider='beta'")"
expect_equal "delta over TLS" 1 "$(query "$db" "select min(tls) from attempts where from_provider='delta' and to_provider='beta'")"

# gamma offers no STARTTLS: delta, which requires TLS, fails every attempt
# with 4.7.4 before MAIL, and the mail bounces when its 30-minute lifetime ends.
expect_equal "required TLS missing" "EHLO|failed|4.7.4" \
    "$(query "$db" "select distinct step||'|'||result||'|'||enhanced from attempts where to_provider='gamma'")"
expect_equal "gamma mail bounced" 0 \
    "$(query "$db" "select count(*) from recipients where provider='gamma' and (phase != 'bounced' or reason != 'queue_lifetime')")"

# Pipelining saves round trips: alpha's transactions are quicker than
# epsilon's, which sends one command per round trip.
expect_equal "pipelining is quicker" 1 \
    "$(query "$db" "select (select avg(end - start) from attempts where from_provider='alpha') < (select avg(end - start) from attempts where from_provider='epsilon')")"

# beta takes 2 recipients per transaction; messages with more still reach
# every mailbox.
expect_true "large messages seen" \
    "$(query "$db" "select count(*) from messages where recipients > 2 and sender like '%@alpha.example'")" -gt 10
expect_equal "every beta recipient delivered" 0 \
    "$(query "$db" "select count(*) from recipients where provider='beta' and phase != 'delivered'")"
finish
