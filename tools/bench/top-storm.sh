#!/bin/bash
# Overhead of `tracer top` against `tracer exec` under the same exec storm, in one run:
#   1. the storm alone (baseline, measured before and after, averaged),
#   2. the storm under `tracer exec --output json`,
#   3. the storm under `tracer top --interval 1s --output json`,
# each with the storm's slowdown against the baseline, the tracer's CPU per exec and peak RSS,
# the ratio of top's CPU to exec's, and whether top counted every exec of the storm exactly.
# Needs root.  usage: tools/bench/top-storm.sh [EXECS_PER_WORKER (default 5000)] [WORKERS (default 2)]
set -euo pipefail
cd "$(dirname "$0")/../.."
per_worker=${1:-5000}
workers=${2:-2}
total=$((per_worker * workers))
work=$(mktemp -d /tmp/tracer-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

[ "$(id -u)" = 0 ] || { echo "top-storm.sh: needs root" >&2; exit 77; }
tools/setup.sh --test >/dev/null
. tools/lib/need.sh
need python3 python3 || exit 1
need cc gcc || exit 1
swift build -c release --static-swift-stdlib --product tracer >/dev/null
tracer=$(swift build -c release --static-swift-stdlib --show-bin-path)/tracer
cc -O2 -o "$work/storm" tools/testprogs/exec_storm.c

. tools/bench/storm-lib.sh
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

echo "baseline (no tracer):          $(rate "$base") exec/s  (${base_a}s before, ${base_b}s after)"
echo "tracer exec --output json:     $(rate "$exec_seconds") exec/s  slowdown $(pct "$exec_seconds" "$base")"
echo "  CPU                          ${exec_cpu} ms = $(per_exec "$exec_cpu") us/exec, peak RSS $((exec_rss / 1024)) MB, reported $exec_seen / $total"
echo "tracer top --interval 1s:      $(rate "$top_seconds") exec/s  slowdown $(pct "$top_seconds" "$base")"
echo "  CPU                          ${top_cpu} ms = $(per_exec "$top_cpu") us/exec, peak RSS $((top_rss / 1024)) MB"
echo "  counted (storm > true)       ${top_counted% *} / $total execs, lost ${top_counted#* }  ($([ "${top_counted% *}" = "$total" ] && echo exact || echo MISMATCH))"
echo "ratio top/exec tracer CPU      $(awk -v t="$top_cpu" -v e="$exec_cpu" 'BEGIN { if (e == 0) print "n/a"; else printf "%.2f", t / e }')  (target <= 1.00)"
echo "ratio top/exec storm slowdown  $(awk -v t="$top_seconds" -v e="$exec_seconds" -v b="$base" 'BEGIN { d = e - b; if (d <= 0) print "n/a (exec slowdown not measurable)"; else printf "%.2f", (t - b) / d }')  (target <= 1.00)"
