#!/bin/sh
# make bench: measures the event queue (hold model), the M/M/c queue model
# against SimPy, and end-to-end email runs, with both sides of every
# comparison in this one run so that machine noise cancels in the ratios.
# Prints one table per benchmark and ends with one line:
#   bench: hold1e3=R hold1e5=R hold1e6=R mmc_vs_simpy=R e2e_msgs_per_s=N e2e_peak_rss_mb=N
# Timing never fails it: it exits non-zero only when a program fails.
# docs/performance.md explains the numbers and the targets.
set -eu

build=${1:-build}
bench=$build/bench
mailsim=$build/mailsim
python=/usr/bin/python3     # Debian's, which has python3-simpy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# M/M/c parameters: the same as scenarios/validation/mmc8.yaml (arrivals
# every 125 ms on average, service 900 ms, 8 servers).  The C side runs
# MMC_C_REPLICATIONS replications of the SimPy side's length, to time
# more than a fraction of a second.
MMC_SCENARIO=scenarios/validation/mmc8.yaml
MMC_RATE=8
MMC_SERVICE=0.9
MMC_SERVERS=8
MMC_WARMUP=1000
MMC_DURATION=100000
MMC_C_REPLICATIONS=4
MMC_SEED=920

# field NAME LINE: prints the value of NAME=value in LINE.
field() {
    echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# ratio A B: A / B with three decimals.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
}

machine() {
    echo "== machine"
    echo "cpus: $(nproc); $(lscpu | sed -n 's/^Model name: *//p')"
    echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}

hold_bench() {
    echo
    echo "== hold model (tests/bench/hold.c)"
    "$bench/hold" | tee "$tmp/hold.txt"
    hold1e3=$(awk '$1 == 1000 { print $4 }' "$tmp/hold.txt")
    hold1e5=$(awk '$1 == 100000 { print $4 }' "$tmp/hold.txt")
    hold1e6=$(awk '$1 == 1000000 { print $4 }' "$tmp/hold.txt")
}

mmc_bench() {
    echo
    echo "== M/M/8 at utilisation 0.9: mailsim queue model vs SimPy $("$python" -c 'import SimPy; print(SimPy.__version__)')"
    c_line=$("$bench/mmc" "$MMC_SCENARIO" "$MMC_WARMUP" "$MMC_DURATION" "$MMC_C_REPLICATIONS")
    py_line=$("$python" tests/bench/mmc_simpy.py "$MMC_RATE" "$MMC_SERVICE" "$MMC_SERVERS" \
              "$MMC_WARMUP" "$MMC_DURATION" "$MMC_SEED")
    printf '%-8s %12s %10s %14s %10s %s\n' side events cpu_s events_per_s wait_mean generator
    for line in "$c_line" "$py_line"; do
        side=$(echo "$line" | cut -d' ' -f1)
        generator="GSL mt19937 (sim/rng.c)"
        if [ "$side" = simpy ]; then
            generator="Python random.Random (MT19937)"
        fi
        printf '%-8s %12s %10s %14s %10s %s\n' "$side" "$(field events "$line")" \
            "$(field cpu_seconds "$line")" "$(field events_per_second "$line")" \
            "$(field wait_mean "$line")" "$generator"
    done
    echo "theory: mean wait 0.7892 s (Erlang C); events are arrivals and departures"
    mmc_ratio=$(ratio "$(field events_per_second "$c_line")" "$(field events_per_second "$py_line")")
    echo "ratio: $mmc_ratio"
}

# run_scenario NAME FILE: runs mailsim on FILE, results in $tmp/NAME, and
# sets the variables wall, cpu, rss_mb, events and messages.
run_scenario() {
    measured=$("$bench/measure" "$tmp/$1.out" "$mailsim" run "$2" -o "$tmp/$1") || {
        cat "$tmp/$1.out" >&2
        echo "bench: mailsim failed on $2" >&2
        exit 1
    }
    wall=$(field wall_seconds "$measured")
    cpu=$(field cpu_seconds "$measured")
    rss_mb=$(awk -v kb="$(field max_rss_kb "$measured")" 'BEGIN { printf "%.0f", kb / 1024 }')
    events=$(sed -n 's/^simulated .* of wall time: \([0-9]*\) events.*/\1/p' "$tmp/$1.out")
    messages=$(sed -n 's/^  submitted \([0-9]*\),.*/\1/p' "$tmp/$1.out")
}

# peak_in_flight NAME: the largest sum over providers of the sampled
# queue lengths and busy workers, once a simulated minute.
peak_in_flight() {
    sqlite3 -batch -noheader "$tmp/$1/results.sqlite" \
        "SELECT CAST(MAX(total) AS INTEGER) FROM (SELECT SUM(value) AS total FROM samples
         WHERE metric IN ('web_queue', 'outgoing_queue', 'deferred', 'incoming_queue',
                          'smtp_out_busy', 'processing_busy') GROUP BY time)"
}

e2e_bench() {
    echo
    echo "== end to end (scenarios/bench, 2 x 1,000,000 mailboxes, per-message rows off)"
    printf '%-12s %10s %11s %8s %8s %11s %11s %8s\n' scenario messages events wall_s cpu_s \
        msgs_per_s events_per_s rss_mb
    for name in e2e_1e5 e2e_1e6 e2e_1e7; do
        run_scenario "$name" "scenarios/bench/$name.yaml"
        msgs_per_s=$(awk -v m="$messages" -v w="$wall" 'BEGIN { printf "%.0f", m / w }')
        events_per_s=$(awk -v e="$events" -v w="$wall" 'BEGIN { printf "%.0f", e / w }')
        printf '%-12s %10s %11s %8s %8s %11s %11s %8s\n' "$name" "$messages" "$events" \
            "$wall" "$cpu" "$msgs_per_s" "$events_per_s" "$rss_mb"
        if [ "$name" = e2e_1e6 ]; then
            base_wall=$wall
            base_rss=$rss_mb
        fi
    done
    e2e_msgs_per_s=$msgs_per_s
    e2e_peak_rss_mb=$rss_mb
}

rows_bench() {
    echo
    echo "== cost of per-message rows (e2e_1e6 with output.message_rows: true)"
    sed 's/message_rows: false/message_rows: true/' scenarios/bench/e2e_1e6.yaml \
        > "$tmp/e2e_1e6_rows.yaml"
    run_scenario e2e_1e6_rows "$tmp/e2e_1e6_rows.yaml"
    share=$(awk -v r="$wall" -v b="$base_wall" 'BEGIN { printf "%.1f", 100 * (r - b) / r }')
    size_mb=$(du -m "$tmp/e2e_1e6_rows/results.sqlite" | cut -f1)
    echo "rows off: ${base_wall} s; rows on: ${wall} s, database ${size_mb} MB;" \
        "writing rows takes ${share}% of the run with rows on"
}

memory_bench() {
    echo
    echo "== memory per message in flight (outage_1e6 vs e2e_1e6)"
    base_flight=$(peak_in_flight e2e_1e6)
    run_scenario outage_1e6 scenarios/bench/outage_1e6.yaml
    outage_flight=$(peak_in_flight outage_1e6)
    per_message=$(awk -v r1="$rss_mb" -v r0="$base_rss" -v f1="$outage_flight" -v f0="$base_flight" \
        'BEGIN { printf "%.0f", (r1 - r0) * 1048576 / (f1 - f0) }')
    echo "e2e_1e6: peak in flight ${base_flight}, peak RSS ${base_rss} MB"
    echo "outage_1e6: peak in flight ${outage_flight}, peak RSS ${rss_mb} MB"
    echo "memory per message in flight: ${per_message} bytes"
}

machine
hold_bench
mmc_bench
e2e_bench
rows_bench
memory_bench
echo
echo "bench: hold1e3=$hold1e3 hold1e5=$hold1e5 hold1e6=$hold1e6 mmc_vs_simpy=$mmc_ratio" \
    "e2e_msgs_per_s=$e2e_msgs_per_s e2e_peak_rss_mb=$e2e_peak_rss_mb"
