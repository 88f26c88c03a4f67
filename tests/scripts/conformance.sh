#!/bin/sh
# SMTP conformance against real peers, on 127.0.0.1 only, in two parts.
#  (a) build/tests/smtp_wire drives the client state machine against two
#      aiosmtpd servers (tests/conformance/aiosmtpd_peer.py), one with
#      STARTTLS, and checks every result itself.
#  (b) smtp_wire serves the server state machine and swaks sends mail to
#      it.  This script checks swaks's exit status and transcript.
# Every server is stopped on exit, failed or not, and every command runs
# under `timeout`, so the script ends within a few minutes at worst.
# KEEP_CONFORMANCE_DIR=1 keeps the temporary directory with the
# transcripts and logs.
set -u
. tests/script_lib.sh

build=${1:-build}
wire="$build/tests/smtp_wire"
python=/usr/bin/python3

if [ ! -x "$wire" ]; then
    # `make test` builds it; other builds of the suite (sanitizers) do not.
    echo "conformance: SKIP: $wire is not built (make test builds it)"
    exit 0
fi
for tool in swaks openssl timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "conformance: $tool not found; run 'make test-deps' as root"
        exit 1
    fi
done
if ! "$python" -c 'import aiosmtpd' 2>/dev/null; then
    echo "conformance: python3-aiosmtpd not installed; run 'make test-deps' as root"
    exit 1
fi

dir=$(mktemp -d)
pids=""
cleanup() {
    for pid in $pids; do
        kill "$pid" 2>/dev/null
    done
    for pid in $pids; do
        wait "$pid" 2>/dev/null
    done
    [ -n "${KEEP_CONFORMANCE_DIR:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_for_file PATH: waits up to 10 s for PATH to appear.
wait_for_file() {
    tries=0
    while [ ! -s "$1" ] && [ "$tries" -lt 100 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
    [ -s "$1" ]
}

# A throw-away self-signed certificate for the STARTTLS peer.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=peer.test \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1

log="$dir/peer.log"
: >"$log"
timeout 300 "$python" tests/conformance/aiosmtpd_peer.py \
    "$dir/plain.port" "$log" 2>"$dir/plain.err" &
pids="$pids $!"
timeout 300 "$python" tests/conformance/aiosmtpd_peer.py \
    "$dir/tls.port" "$log" "$dir/cert.pem" "$dir/key.pem" 2>"$dir/tls.err" &
pids="$pids $!"
if ! wait_for_file "$dir/plain.port" || ! wait_for_file "$dir/tls.port"; then
    echo "conformance: aiosmtpd did not start:"
    cat "$dir/plain.err" "$dir/tls.err"
    exit 1
fi

# (a) The client state machine against aiosmtpd.
timeout 120 "$wire" client "$(cat "$dir/plain.port")" \
    "$(cat "$dir/tls.port")" "$log"
expect_equal "smtp_wire client exit status" 0 "$?"

# (b) swaks against the server state machine: one session per policy, in
# the order of the swaks runs below.
timeout 120 "$wire" server "$dir/server.port" "$dir/transcript" \
    plain plain plain greet554 starttls454 starttls454 limit2 size1000 plain \
    >"$dir/server.out" 2>&1 &
server_pid=$!
pids="$pids $server_pid"
if ! wait_for_file "$dir/server.port"; then
    echo "conformance: smtp_wire server did not start:"
    cat "$dir/server.out"
    exit 1
fi
port=$(cat "$dir/server.port")

# run_swaks NAME EXPECTED_STATUS SWAKS_ARGUMENTS...: runs swaks against the
# server, keeps its transcript in $dir/NAME.out and checks its exit status.
run_swaks() {
    name=$1
    expected=$2
    shift 2
    timeout 30 swaks --server 127.0.0.1 --port "$port" --timeout 10 \
        --helo client.test --from alice@sender.test "$@" \
        >"$dir/$name.out" 2>&1
    status=$?
    expect_equal "swaks $name exit status" "$expected" "$status"
    [ "$status" -eq "$expected" ] || cat "$dir/$name.out"
}

# expect_output NAME TEXT: swaks's transcript for NAME has a line with TEXT.
expect_output() {
    checks=$((checks + 1))
    if ! grep -qF -- "$2" "$dir/$1.out"; then
        failures=$((failures + 1))
        echo "FAIL: swaks $1 transcript lacks '$2'"
    fi
}

run_swaks delivery 0 --to bob@wire.test,unknown1@wire.test
expect_output delivery "<-  250 PIPELINING"
expect_output delivery "<-  250 2.1.0 Ok"
expect_output delivery "<-  250 2.1.5 Ok"
expect_output delivery "<** 550 5.1.1 Requested action not taken: mailbox unavailable"
expect_output delivery "<-  354 End data with <CR><LF>.<CR><LF>"
expect_output delivery "<-  250 2.0.0 Ok"
expect_output delivery "<-  221 2.0.0 wire.test Service closing transmission channel"

# RFC 2920: swaks sends MAIL, the RCPTs and DATA before reading replies.
run_swaks pipelined 0 --pipeline \
    --to bob@wire.test,carol@wire.test,unknown2@wire.test
expect_equal "swaks pipelined: RCPT right after MAIL" 1 \
    "$(grep -A1 -F ' -> MAIL FROM:' "$dir/pipelined.out" | grep -c -F ' -> RCPT TO:<bob@wire.test>')"
expect_equal "swaks pipelined: DATA right after the last RCPT" 1 \
    "$(grep -A1 -F ' -> RCPT TO:<unknown2@wire.test>' "$dir/pipelined.out" | grep -c -F ' -> DATA')"
expect_output pipelined "<** 550 5.1.1"
expect_output pipelined "<-  250 2.0.0 Ok"

run_swaks no_recipient 24 --to unknown3@wire.test
expect_output no_recipient "<** 550 5.1.1"

run_swaks greeting_554 21 --to bob@wire.test
expect_output greeting_554 "<** 554 wire.test No SMTP service here"

# RFC 3207 section 4: 454 to STARTTLS; required TLS fails, optional goes on.
run_swaks tls_required 29 --tls --to bob@wire.test
expect_output tls_required "<-  250 STARTTLS"
expect_output tls_required "<** 454 4.7.0 TLS not available due to temporary reason"
run_swaks tls_optional 0 --tls-optional --to bob@wire.test
expect_output tls_optional "454 4.7.0 TLS not available due to temporary reason"
expect_output tls_optional "<-  250 2.0.0 Ok"

# RFC 5321 4.5.3.1.10: over the limit of 2, 452 4.5.3 for the rest.
run_swaks recipient_limit 0 \
    --to bob@wire.test,carol@wire.test,dave@wire.test
expect_output recipient_limit "<** 452 4.5.3 Too many recipients"
expect_output recipient_limit "<-  250 2.0.0 Ok"

# RFC 1870: swaks declares no size, so the limit applies at end of data.
body=$(awk 'BEGIN { for (i = 0; i < 40; i++) print "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }')
run_swaks too_big 26 --to bob@wire.test --body "$body"
expect_output too_big "<-  250-SIZE 1000"
expect_output too_big "<** 552 5.3.4 Message size exceeds fixed maximum message size"

# RFC 2034: no enhanced status codes after HELO.
run_swaks helo 0 --protocol SMTP --to bob@wire.test
expect_output helo " -> HELO client.test"
expect_output helo "<-  250 Ok"
checks=$((checks + 1))
if grep -q -F "2.1.0" "$dir/helo.out"; then
    failures=$((failures + 1))
    echo "FAIL: swaks helo transcript has an enhanced code after HELO"
fi

wait "$server_pid"
expect_equal "smtp_wire server exit status" 0 "$?"
expect_equal "sessions served" 9 "$(grep -c '^== session' "$dir/transcript")"
# Each session ends with QUIT, except that swaks 20201014 drops the
# connection without QUIT once a required STARTTLS has failed.
expect_equal "server end states" \
    "CLOSED CLOSED CLOSED CLOSED READY CLOSED CLOSED CLOSED CLOSED" \
    "$(sed -n 's/^== end in state //p' "$dir/transcript" | tr '\n' ' ' | sed 's/ $//')"
[ "$failures" -eq 0 ] || grep '^==' "$dir/transcript"

finish
