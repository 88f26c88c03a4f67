#!/bin/sh
# Compares the event fingerprints of a few scenarios with the pinned values
# in tests/golden/fingerprints.txt, so that no change of behaviour slips
# through unnoticed.  When a change is intended, `make golden` rewrites the
# file; commit it with the change that explains it.
set -u
build=${1:-build}
. "$(dirname "$0")/../script_lib.sh"

current=$(sh tests/golden/fingerprints.sh "$build")
expect_equal "fingerprints computed" 0 $?
echo "$current" | while read -r scenario events fingerprint; do
    pinned=$(grep "^$scenario " tests/golden/fingerprints.txt)
    if [ "$pinned" != "$scenario $events $fingerprint" ]; then
        echo "FAIL: $scenario: pinned '$pinned', now '$scenario $events $fingerprint'"
        echo "      If the change of behaviour is intended, run 'make golden' and commit tests/golden/fingerprints.txt."
    fi
done >"${TMPDIR:-/tmp}/golden.$$"
failures_found=$(grep -c '^FAIL' "${TMPDIR:-/tmp}/golden.$$")
cat "${TMPDIR:-/tmp}/golden.$$"
rm -f "${TMPDIR:-/tmp}/golden.$$"
expect_equal "scenarios matching their pinned fingerprint" 0 "$failures_found"
expect_equal "scenarios pinned" "$(echo "$current" | wc -l)" "$(grep -c . tests/golden/fingerprints.txt)"
finish
