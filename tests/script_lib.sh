# Shared by the scenario test scripts: assertions that print what was
# expected and what was found, and a count of the checks that ran.
# Each script sources this file, runs its checks, and ends with `finish`.

checks=0
failures=0

# expect_equal NAME EXPECTED ACTUAL
expect_equal() {
    checks=$((checks + 1))
    if [ "$2" != "$3" ]; then
        failures=$((failures + 1))
        echo "FAIL: $1: expected '$2', got '$3'"
    fi
}

# expect_true NAME CONDITION...: runs the condition with `test`.
expect_true() {
    name=$1
    shift
    checks=$((checks + 1))
    if ! test "$@"; then
        failures=$((failures + 1))
        echo "FAIL: $name: test $*"
    fi
}

# query DATABASE SQL: prints the result of one query.
query() {
    sqlite3 -batch -noheader "$1" "$2"
}

finish() {
    echo "$(basename "$0" .sh): $checks checks, $failures failed"
    [ "$failures" -eq 0 ]
}
