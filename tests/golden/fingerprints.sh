#!/bin/sh
# Prints "SCENARIO EVENTS FINGERPRINT" for each scenario whose run is pinned
# in tests/golden/fingerprints.txt.  The fingerprint hashes the time and
# sequence number of every event the engine processed, so any change of
# behaviour changes it.
#   sh tests/golden/fingerprints.sh BUILD           prints the current values
set -u
build=${1:-build}
scenarios="scenarios/default.yaml scenarios/minimal.yaml scenarios/trace.yaml
tests/scenarios/e2e.yaml tests/scenarios/faults.yaml tests/scenarios/protocol.yaml"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for scenario in $scenarios; do
    name=$(basename "$scenario" .yaml)
    if ! "$build/mailsim" run "$scenario" -o "$out/$name" >/dev/null 2>"$out/$name.err"; then
        echo "$scenario failed:" >&2
        cat "$out/$name.err" >&2
        exit 1
    fi
    values=$(sqlite3 -batch -noheader -separator ' ' "$out/$name/results.sqlite" \
        "select (select value from run where key='events'), (select value from run where key='fingerprint')")
    echo "$scenario $values"
done
