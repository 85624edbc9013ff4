#!/bin/bash
# Overhead of `tracer top` against `tracer exec` under the same exec storm, in one run:
#   1. the storm alone (baseline, measured before and after, averaged),
#   2. the storm under `tracer exec --output json`,
#   3. the storm under `tracer top --interval 1s --output json`,
# each with the storm's slowdown against the baseline, the tracer's CPU per exec and peak RSS,
# the ratio of top's CPU to exec's, and whether top counted every exec of the storm exactly.
# Then the run time of top's BPF programs per exec (BPF_ENABLE_STATS; charged to the exec'ing
# processes, not to the tracer, so the tracer's CPU above does not show it): under the storm,
# and under 30,000 distinct command names, which fill the group map (the "(other)" path).
# Needs root.  usage: tools/bench/top-storm.sh [EXECS_PER_WORKER (default 5000)] [WORKERS (default 2)]
set -euo pipefail
cd "$(dirname "$0")/../.."
per_worker=${1:-5000}
workers=${2:-2}
total=$((per_worker * workers))
work=$(mktemp -d /tmp/tracer-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

. tools/bench/storm-lib.sh
prepare_storm_bench top-storm.sh
cc -O2 -o "$work/bpf_stats" tools/testprogs/bpf_stats.c
names=30000
mkdir "$work/names"
python3 -c 'import os, sys; [os.symlink("/bin/true", f"{sys.argv[1]}/n{i}") for i in range(int(sys.argv[2]))]' "$work/names" $names

pct() { awk -v t="$1" -v b="$2" 'BEGIN { printf "%.1f%%", 100 * (t - b) / b }'; }
per_exec() { awk -v c="$1" -v n="$total" 'BEGIN { printf "%.1f", 1000 * c / n }'; }
settle=1.2 # top: the interval holding the storm's last execs closes before the tracer stops

echo "exec storm: $workers workers x $per_worker fork+exec of /bin/true"
storm >/dev/null # warm up
base_a=$(storm)
run_traced "$tracer" exec --output json
exec_seconds=$seconds; exec_cpu=$tracer_cpu_ms; exec_rss=$peak_rss_kb
exec_seen=$(grep -c '"storm-arg-one","storm-arg-two"\]' "$work/out" || true)
run_traced "$tracer" top --interval 1s --output json
top_seconds=$seconds; top_cpu=$tracer_cpu_ms; top_rss=$peak_rss_kb
top_counted=$(python3 -c '
import json, sys
n = 0
lost = 0
for line in open(sys.argv[1]):
    s = json.loads(line)
    lost += s["totals"]["lost"]
    n += sum(r["execs"] for r in s["rows"] if r["command"] == "true" and r["parent"] == "storm")
print(n, lost)' "$work/out")
base_b=$(storm)
base=$(awk -v a="$base_a" -v b="$base_b" 'BEGIN { print (a + b) / 2 }')

bpf_run_ns() { # total run time of the BPF programs a process holds
    local total=0 f ns
    for f in /proc/$1/fdinfo/*; do
        ns=$(awk '/^run_time_ns:/ {print $2}' "$f" 2>/dev/null || true)
        [ -n "$ns" ] && total=$((total + ns))
    done
    echo $total
}
bpf_per_exec() { # bpf_per_exec EXECS COMMAND...: ns of top's BPF programs per exec while COMMAND runs
    local execs=$1; shift
    "$work/bpf_stats" "$tracer" top --interval 1s --output json >"$work/stats.out" 2>&1 &
    local pid=$!
    sleep 1.5
    local before; before=$(bpf_run_ns $pid)
    "$@" >/dev/null
    local after; after=$(bpf_run_ns $pid)
    kill -INT $pid; wait $pid || true
    awk -v n="$execs" -v ns="$((after - before))" 'BEGIN { printf "%.0f", ns / n }'
}
bpf_storm=$(bpf_per_exec $total storm)
bpf_names=$(bpf_per_exec $names "$work/exec_names" "$work/names" n $names $workers)

echo "baseline (no tracer):          $(rate "$base") exec/s  (${base_a}s before, ${base_b}s after)"
echo "tracer exec --output json:     $(rate "$exec_seconds") exec/s  slowdown $(pct "$exec_seconds" "$base")"
echo "  CPU                          ${exec_cpu} ms = $(per_exec "$exec_cpu") us/exec, peak RSS $((exec_rss / 1024)) MB, reported $exec_seen / $total"
echo "tracer top --interval 1s:      $(rate "$top_seconds") exec/s  slowdown $(pct "$top_seconds" "$base")"
echo "  CPU                          ${top_cpu} ms = $(per_exec "$top_cpu") us/exec, peak RSS $((top_rss / 1024)) MB"
echo "  counted (storm > true)       ${top_counted% *} / $total execs, lost ${top_counted#* }  ($([ "${top_counted% *}" = "$total" ] && echo exact || echo MISMATCH))"
echo "  BPF per exec                 ${bpf_storm} ns (the storm: one group); ${bpf_names} ns ($names distinct names: the group map full)"
echo "ratio top/exec tracer CPU      $(awk -v t="$top_cpu" -v e="$exec_cpu" 'BEGIN { if (e == 0) print "n/a"; else printf "%.2f", t / e }')  (target <= 1.00)"
echo "ratio top/exec storm slowdown  $(awk -v t="$top_seconds" -v e="$exec_seconds" -v b="$base" 'BEGIN { d = e - b; if (d <= 0) print "n/a (exec slowdown not measurable)"; else printf "%.2f", (t - b) / d }')  (target <= 1.00)"
