#!/bin/bash
# What `tracer exec` costs when nothing happens, beside execsnoop (libbpf-tools), in one run: both
# watch for execs of a uid nobody uses (4294967294; both filter it in the kernel), so neither has
# anything to deliver whatever else the machine does. Prints each one's CPU over SECONDS as a share
# of one core (scheduler time from /proc/PID/schedstat, in ns) and its wake-ups per second
# (voluntary context switches), and tracer's ratio to execsnoop. Target: at most 0.05% of a core.
# Needs root.  usage: tools/bench/idle-cpu.sh [SECONDS (default 60)]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
[ "$(id -u)" = 0 ] || { echo "idle-cpu.sh: needs root" >&2; exit 77; }
tools/setup.sh --test >/dev/null
. tools/lib/need.sh
need execsnoop libbpf-tools || exit 1
swift build -c release --static-swift-stdlib --product tracer >/dev/null
tracer=$(swift build -c release --static-swift-stdlib --show-bin-path)/tracer
nobody=4294967294
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }
wakeups() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$1/status"; }

"$tracer" exec --uid "$nobody" --output json >/dev/null 2>&1 & tracer_pid=$!; pids+=($tracer_pid)
execsnoop -u "$nobody" >/dev/null 2>&1 & snoop_pid=$!; pids+=($snoop_pid)
sleep 3 # start-up: loading and attaching is not idle cost
t0=(0 "$(cpu_ns $tracer_pid)" "$(wakeups $tracer_pid)" "$(cpu_ns $snoop_pid)" "$(wakeups $snoop_pid)")
sleep "$seconds"
t1=(0 "$(cpu_ns $tracer_pid)" "$(wakeups $tracer_pid)" "$(cpu_ns $snoop_pid)" "$(wakeups $snoop_pid)")

share() { awk -v a="$1" -v b="$2" -v s="$seconds" 'BEGIN { printf "%.4f%%", 100 * (b - a) / (s * 1e9) }'; }
rate() { awk -v a="$1" -v b="$2" -v s="$seconds" 'BEGIN { printf "%.1f", (b - a) / s }'; }
echo "idle for ${seconds}s (execs of uid $nobody only: none)"
echo "tracer exec: CPU $(share "${t0[1]}" "${t1[1]}") of a core, $(rate "${t0[2]}" "${t1[2]}") wake-ups/s"
echo "execsnoop:   CPU $(share "${t0[3]}" "${t1[3]}") of a core, $(rate "${t0[4]}" "${t1[4]}") wake-ups/s"
awk -v a=$((t1[1] - t0[1])) -v b=$((t1[3] - t0[3])) 'BEGIN { if (b > 0) printf "ratio tracer/execsnoop: %.2f\n", a / b; else print "ratio tracer/execsnoop: execsnoop used no measurable CPU" }'
