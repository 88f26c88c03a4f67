#!/bin/sh
# Runs tests/scenarios/faults.yaml and checks that each fault and each DNS
# answer has its effect, and only inside its window.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$build/mailsim" run tests/scenarios/faults.yaml -o "$out" >/dev/null
expect_equal "exit status" 0 $?
db="$out/results.sqlite"

expect_equal "nothing in flight" 0 \
    "$(query "$db" "select count(*) from messages where state not in ('delivered','bounced')")"

# DNS answers: null MX bounces with 556 5.1.10 and NXDOMAIN with 550 5.1.2,
# both at the MX lookup with no connection; the implicit MX is the domain.
expect_equal "null MX" "MX lookup|bounced|556|5.1.10" \
    "$(query "$db" "select distinct a.step||'|'||a.result||'|'||a.reply_code||'|'||a.enhanced from attempts a join recipients r on r.message_id = a.message_id where r.address like '%@null.example'")"
expect_equal "NXDOMAIN" "nxdomain|550|5.1.2" \
    "$(query "$db" "select distinct reason||'|'||reply_code||'|'||enhanced from recipients where address like '%@gone.example'")"
expect_equal "no connection to null MX or NXDOMAIN" 0 \
    "$(query "$db" "select count(*) from attempts where to_provider='other' and step != 'MX lookup'")"
expect_equal "implicit MX host" "implicit.example" \
    "$(query "$db" "select distinct mx_host from attempts where to_provider='implicit' and step='end of data'")"

# SERVFAIL for beta.example from 300 s to 600 s defers, as 4.4.3.
expect_true "SERVFAIL deferrals" \
    "$(query "$db" "select count(*) from attempts where to_provider='beta' and step='MX lookup'")" -gt 0
expect_equal "SERVFAIL only in its window" 0 \
    "$(query "$db" "select count(*) from attempts where to_provider='beta' and step='MX lookup' and (start < 300 or start >= 600 or result != 'deferred' or enhanced != '4.4.3')")"

# A silent resolver for implicit.example from 2160 s to 2400 s: each lookup
# costs timeout x attempts = 10 s before it is deferred.
expect_equal "DNS timeouts only in their window" 0 \
    "$(query "$db" "select count(*) from attempts where to_provider='implicit' and step='MX lookup' and (start < 2170 or start >= 2410)")"
expect_true "DNS timeouts seen" \
    "$(query "$db" "select count(*) from attempts where to_provider='implicit' and step='MX lookup'")" -gt 0

# implicit is down (timeout) from 1800 s to 2100 s: each connection costs
# the 30 s connect timeout.
expect_equal "connect timeouts in window" 0 \
    "$(query "$db" "select count(*) from attempts where step='connect' and (start < 1800 or start >= 2100 or to_provider != 'implicit')")"
expect_equal "connect timeout length" "30.0" \
    "$(query "$db" "select round(min(end - start), 3) from attempts where step='connect'")"

# 500 ms added each way between the regions from 900 s to 1200 s makes a
# session several seconds long instead of under one.
expect_true "slow sessions in the latency window" \
    "$(query "$db" "select cast(min(end - start) as int) from attempts where to_provider='beta' and step='end of data' and start >= 900 and start < 1190")" -ge 5
expect_equal "fast sessions outside it" 0 \
    "$(query "$db" "select count(*) from attempts where to_provider='beta' and step='end of data' and (start < 880 or start > 1300) and end - start > 2")"

# beta's processing is down from 1200 s to 1500 s: its incoming queue builds,
# then drains once the workers are back.
expect_equal "incoming queue empty before" "0.0" \
    "$(query "$db" "select max(value) from samples where provider='beta' and metric='incoming_queue' and time <= 1200")"
expect_true "incoming queue builds" \
    "$(query "$db" "select cast(max(value) as int) from samples where provider='beta' and metric='incoming_queue' and time > 1200 and time <= 1500")" -gt 50
expect_equal "incoming queue drains" "0.0" \
    "$(query "$db" "select value from samples where provider='beta' and metric='incoming_queue' and time = 1560")"

# alpha keeps 1 of its 4 SMTP workers from 1500 s to 1800 s.
expect_true "at most one SMTP worker busy" \
    "$(query "$db" "select cast(max(value) as int) from samples where provider='alpha' and metric='smtp_out_busy' and time > 1500 and time < 1800")" -le 1
finish
