#!/bin/sh
# Runs tests/scenarios/e2e.yaml and checks the results database: the ledger
# balances, the outage of beta's MX defers mail that is later delivered,
# every message to gamma bounces with 550 5.1.1 and a DSN, and the plots
# are real PNG and SVG files.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$build/mailsim" run tests/scenarios/e2e.yaml -o "$out" >"$out/summary.txt"
expect_equal "exit status" 0 $?
db="$out/results.sqlite"
expect_true "database exists" -f "$db"
expect_true "no partial file left" ! -e "$db.partial"

# The ledger: every message is in a final state and the counts add up.
submitted=$(query "$db" "select value from summary where metric='messages_submitted'")
dsns=$(query "$db" "select value from summary where metric='dsn_created'")
rows=$(query "$db" "select count(*) from messages")
expect_equal "one row per message" "$(echo "$submitted + $dsns" | bc)" "$rows.0"
expect_equal "ledger total" "$rows" "$(query "$db" "select sum(count) from ledger")"
expect_equal "nothing in flight" 0 \
    "$(query "$db" "select count(*) from messages where state not in ('delivered','bounced','rejected','dropped')")"

# Outage of mx.beta.example from 300 s to 600 s: connection attempts fail
# only inside it, and each message they hit is delivered after a retry.
expect_true "connections refused" "$(query "$db" "select count(*) from attempts where step='connect'")" -gt 0
expect_equal "refusals only in the outage" 0 \
    "$(query "$db" "select count(*) from attempts where step='connect' and (start < 300 or start >= 600)")"
expect_equal "refused connections are deferred" "deferred" \
    "$(query "$db" "select distinct result from attempts where step='connect'")"
expect_equal "deferred beta mail delivered later" 0 \
    "$(query "$db" "select count(*) from recipients where provider='beta' and external=1 and phase != 'delivered'")"
expect_true "some beta mail retried" \
    "$(query "$db" "select count(*) from recipients where provider='beta' and attempts > 1")" -gt 0
expect_equal "retry waits at least a minute" 0 \
    "$(query "$db" "select count(*) from recipients where attempts > 1 and stored - (select submitted from messages where id = message_id) < 60")"

# gamma has no valid recipient: RCPT TO gets 550 5.1.1, and each message gets a DSN.
expect_equal "gamma refuses at RCPT" "RCPT TO|550|5.1.1" \
    "$(query "$db" "select distinct step || '|' || reply_code || '|' || enhanced from attempts where to_provider='gamma'")"
expect_equal "gamma recipients bounced" 0 \
    "$(query "$db" "select count(*) from recipients where provider='gamma' and external=1 and phase != 'bounced'")"
bounced=$(query "$db" "select count(*) from messages where state='bounced'")
expect_equal "one DSN per bounced message" "$bounced" \
    "$(query "$db" "select count(*) from messages where is_dsn = 1")"

# Same-provider mail never goes through SMTP.
expect_equal "no SMTP for local mail" 0 \
    "$(query "$db" "select count(*) from attempts where from_provider = to_provider")"

# Metadata, time series and summary.
expect_equal "seed stored" 11 "$(query "$db" "select value from run where key='seed'")"
expect_equal "scenario text stored" 1 \
    "$(query "$db" "select instr(value, 'name: e2e') > 0 from run where key='scenario_text'")"
expect_true "samples every minute" "$(query "$db" "select count(distinct time) from samples")" -ge 20
expect_true "latency summary" -n "$(query "$db" "select value from summary where metric='stored_latency_p95' and path='other_provider'")"

for plot in latency_cdf queues_alpha workers_beta; do
    expect_equal "$plot.png is PNG" "PNG" "$(head -c 4 "$out/$plot.png" | tail -c 3)"
    expect_true "$plot.svg is SVG" "$(grep -c '<svg' "$out/$plot.svg")" -ge 1
done
grep -q "still in flight 0" "$out/summary.txt"
expect_equal "summary printed" 0 $?
finish
