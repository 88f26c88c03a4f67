#!/bin/sh
# Follows message 1 of scenarios/trace.yaml (u17@alpha.example to
# u4021@beta.example, across regions) with --journey and checks that the
# transcript shows each step, the SMTP dialogue included, in time order.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$build/mailsim" run scenarios/trace.yaml -o "$out" --journey 1 >/dev/null
expect_equal "exit status" 0 $?
journey="$out/journey-1.txt"
expect_true "journey written" -s "$journey"

for step in "u17@alpha.example submits a message" "web server accepts it" \
            "MX lookup for beta.example" "DNS answer: NOERROR, MX 10 mx1.beta.example" \
            "connects to mx1.beta.example" "S: 220 mx1.beta.example ESMTP ready" \
            "C: EHLO alpha.example" "C: MAIL FROM:<u17@alpha.example>" \
            "C: RCPT TO:<u4021@beta.example>" "C: DATA" "S: 354 " "S: 250 2.0.0 Ok" \
            "recipient u4021@beta.example: accepted" "stored in mailbox u4021 at beta"; do
    expect_equal "step '$step'" 1 "$(grep -c -F "$step" "$journey")"
done

# Times never go backwards.
expect_equal "time order" 0 \
    "$(awk 'NR > 2 { if ($1 + 0 < last) bad++; last = $1 + 0 } END { print bad + 0 }' "$journey")"
# Following a message changes nothing else: the database is the same.
"$build/mailsim" run scenarios/trace.yaml -o "$out/plain" >/dev/null
expect_equal "same fingerprint" \
    "$(query "$out/plain/results.sqlite" "select value from run where key='fingerprint'")" \
    "$(query "$out/results.sqlite" "select value from run where key='fingerprint'")"

"$build/mailsim" run scenarios/trace.yaml -o "$out/bad" --journey 0 >/dev/null 2>"$out/bad.err"
expect_equal "journey 0 exit status" 2 $?
finish
