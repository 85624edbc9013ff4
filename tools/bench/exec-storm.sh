#!/bin/bash
# Benchmark for `tracer exec` under an exec storm (issue: speed and memory targets).
# Runs, in one go and on the same machine:
#   1. the storm alone (baseline rate),
#   2. the storm with `tracer exec --output json` running: coverage, argv, losses, tracer CPU,
#      storm slowdown, tracer peak RSS,
#   3. the storm with libbpf-tools `execsnoop` running (Debian package libbpf-tools): its CPU and coverage,
#   4. the time from starting the tracer to its first event,
#   5. a tiny ring buffer: reported + lost must equal the storm's execs exactly.
# Prints each figure and its ratio against the baseline measured in this run. Needs root.
# usage: tools/bench/exec-storm.sh [EXECS_PER_WORKER (default 5000)] [WORKERS (default 2)]
set -euo pipefail
cd "$(dirname "$0")/../.."
per_worker=${1:-5000}
workers=${2:-2}
total=$((per_worker * workers))
work=$(mktemp -d /tmp/tracer-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

[ "$(id -u)" = 0 ] || { echo "exec-storm.sh: needs root" >&2; exit 77; }
tools/setup.sh --test >/dev/null
. tools/lib/need.sh
need execsnoop libbpf-tools || exit 1
swift build -c release --static-swift-stdlib --product tracer >/dev/null
tracer=$(swift build -c release --static-swift-stdlib --show-bin-path)/tracer
cc -O2 -o "$work/storm" tools/testprogs/exec_storm.c

. tools/bench/storm-lib.sh

echo "exec storm: $workers workers x $per_worker fork+exec of /bin/true (argv in read-only data)"
storm >/dev/null # warm up
# The baseline is measured before and after the traced run, so drift on the machine cancels out.
base_a=$(storm)
run_traced "$tracer" exec --output json
traced_seconds=$seconds; tracer_cpu=$tracer_cpu_ms; tracer_rss=$peak_rss_kb
base_b=$(storm)
base=$(awk -v a="$base_a" -v b="$base_b" 'BEGIN { print (a + b) / 2 }')
echo "baseline (no tracer):        $(rate "$base") exec/s  (${base_a}s before, ${base_b}s after)"
seen=$(grep -c '"storm-arg-one","storm-arg-two"\]' "$work/out" || true)
lost=$(tail -1 "$work/out" | sed -n 's/.*"lost":\([0-9]*\).*/\1/p')
with_argv=$(grep -c '"args":\["/bin/true","storm-arg-one","storm-arg-two"\]' "$work/out" || true)
echo "tracer exec --output json:   $(rate "$traced_seconds") exec/s  (${traced_seconds}s)"
echo "  reported                   $seen / $total  ($(awk -v a="$seen" -v b="$total" 'BEGIN { printf "%.1f%%", 100 * a / b }'))"
echo "  with full argv             $with_argv / $total"
echo "  lost                       ${lost:-?}"
echo "  storm slowdown             $(awk -v t="$traced_seconds" -v b="$base" 'BEGIN { printf "%.1f%%", 100 * (t - b) / b }')  (target <= 3%)"
echo "  tracer CPU                 ${tracer_cpu} ms = $(awk -v c="$tracer_cpu" -v n="$total" 'BEGIN { printf "%.1f", 1000 * c / n }') us/exec"
echo "  tracer peak RSS            $((tracer_rss / 1024)) MB  (target <= 30 MB)"

run_traced execsnoop
snoop_seconds=$seconds; snoop_cpu=$tracer_cpu_ms
snoop_seen=$(grep -c '/bin/true' "$work/out" || true)
snoop_argv=$(grep -c 'storm-arg-one storm-arg-two' "$work/out" || true)
echo "libbpf-tools execsnoop:      $(rate "$snoop_seconds") exec/s  (${snoop_seconds}s)"
echo "  reported                   $snoop_seen / $total, with argv $snoop_argv / $total"
echo "  execsnoop CPU              ${snoop_cpu} ms = $(awk -v c="$snoop_cpu" -v n="$total" 'BEGIN { printf "%.1f", 1000 * c / n }') us/exec"
echo "  ratio tracer/execsnoop CPU $(awk -v t="$tracer_cpu" -v s="$snoop_cpu" 'BEGIN { if (s == 0) print "n/a"; else printf "%.2f", t / s }')  (target <= 1.00)"

# First event: start the tracer and exec a marker every 10 ms until the tracer shows it.
start=$(date +%s%N)
"$tracer" exec --output json --args first-event-marker --count 1 > "$work/first" &
first_pid=$!
while kill -0 $first_pid 2>/dev/null; do /bin/echo first-event-marker >/dev/null; sleep 0.01; done
first_ns=$(sed -n 's/.*"timestamp_ns":\([0-9]*\).*/\1/p' "$work/first" | head -1)
first_time=$(sed -n 's/.*"time":"\([^"]*\)".*/\1/p' "$work/first" | head -1)
first_wall=$(date -d "$first_time" +%s%N)
echo "first event after start:     $(( (first_wall - start) / 1000000 )) ms  (target <= 500 ms)"

# Tiny ring buffer: the storm runs as uid 65534 and the tracer traces only that uid, in the kernel.
"$tracer" exec --output json --uid 65534 --ring-buffer-size 4096 > "$work/tiny" &
tiny_pid=$!
sleep 1.5
setpriv --reuid=65534 --regid=65534 --clear-groups "$work/storm" "$workers" "$per_worker" >/dev/null
sleep 0.5
kill -INT $tiny_pid; wait $tiny_pid || true
tiny_summary=$(tail -1 "$work/tiny")
tiny_execs=$(echo "$tiny_summary" | sed -n 's/.*"execs":\([0-9]*\).*/\1/p')
tiny_lost=$(echo "$tiny_summary" | sed -n 's/.*"lost":\([0-9]*\).*/\1/p')
expected=$((total + 1)) # the storm binary's own exec, then every /bin/true
echo "tiny ring buffer (4 KiB):    reported $tiny_execs + lost $tiny_lost = $((tiny_execs + tiny_lost)) of $expected execs  ($([ $((tiny_execs + tiny_lost)) = $expected ] && echo exact || echo MISMATCH))"
