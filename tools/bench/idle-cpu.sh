#!/bin/bash
# What `tracer exec` and `tracer agent` cost when nothing happens, beside execsnoop (libbpf-tools),
# in one run. `tracer exec` and execsnoop watch for execs of a uid nobody uses (4294967294; both
# filter it in the kernel), so neither has anything to deliver whatever else the machine does. The
# agent watches the whole host (every exec, exit and drop), so on a shared machine it does have
# work: the run prints how many execs and drops it counted in the window beside its figures, and
# its threads one by one (a thread that wakes on a timer shows as wake-ups with nothing counted).
# Prints each one's CPU over SECONDS as a share of one core (scheduler time of all its threads,
# /proc/PID/task/*/schedstat, in ns), its wake-ups per second (voluntary context switches of all
# its threads) and the ratios to execsnoop. Target: at most 0.05% of a core.
# Needs root.  usage: tools/bench/idle-cpu.sh [SECONDS (default 60)]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
[ "$(id -u)" = 0 ] || { echo "idle-cpu.sh: needs root" >&2; exit 77; }
tools/setup.sh --test >/dev/null
. tools/lib/need.sh
need execsnoop libbpf-tools || exit 1
need python3 python3 || exit 1
# Both executables: `tracer agent` runs the tracer-agent built beside tracer.
swift build -c release --static-swift-stdlib >/dev/null
tracer=$(swift build -c release --static-swift-stdlib --show-bin-path)/tracer
nobody=4294967294
pids=()
work=$(mktemp -d /tmp/tracer-idle.XXXXXX)
trap 'for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# Sums over the threads: /proc/PID/schedstat and /proc/PID/status are the main thread's alone.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ n += $1 } END { print n }'; }
wakeups() { awk '/^voluntary_ctxt_switches/ { n += $2 } END { print n }' /proc/"$1"/task/*/status; }
threads() { for t in /proc/"$1"/task/*; do echo "${t##*/} $(cat "$t/comm") $(awk '{print $1}' "$t/schedstat") $(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status")"; done; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Execs and drops the agent counted so far: what it had to deliver.
counted() {
    python3 - "$port" <<'EOF'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
totals = {"tracer_execs_total": 0.0, "tracer_drops_total": 0.0}
# "\n" only: a command name may hold \r or \x1c, which the exposition does not escape
for line in text.split("\n"):
    name = line.split("{")[0].split(" ")[0]
    if name in totals and " " in line:
        totals[name] += float(line.rsplit(" ", 1)[1])
print(int(totals["tracer_execs_total"]), int(totals["tracer_drops_total"]))
EOF
}

"$tracer" exec --uid "$nobody" --output json >/dev/null 2>&1 & tracer_pid=$!; pids+=($tracer_pid)
"$tracer" agent --metrics-address "127.0.0.1:$port" >/dev/null 2>&1 & agent_pid=$!; pids+=($agent_pid)
execsnoop -u "$nobody" >/dev/null 2>&1 & snoop_pid=$!; pids+=($snoop_pid)
sleep 3 # start-up: loading and attaching is not idle cost
for _ in $(seq 50); do counted >/dev/null 2>&1 && break; sleep 0.1; done
seen0=$(counted)
threads $agent_pid > "$work"/threads0
t0=(0 "$(cpu_ns $tracer_pid)" "$(wakeups $tracer_pid)" "$(cpu_ns $snoop_pid)" "$(wakeups $snoop_pid)" "$(cpu_ns $agent_pid)" "$(wakeups $agent_pid)")
sleep "$seconds"
t1=(0 "$(cpu_ns $tracer_pid)" "$(wakeups $tracer_pid)" "$(cpu_ns $snoop_pid)" "$(wakeups $snoop_pid)" "$(cpu_ns $agent_pid)" "$(wakeups $agent_pid)")
threads $agent_pid > "$work"/threads1
seen1=$(counted)

share() { awk -v a="$1" -v b="$2" -v s="$seconds" 'BEGIN { printf "%.4f%%", 100 * (b - a) / (s * 1e9) }'; }
rate() { awk -v a="$1" -v b="$2" -v s="$seconds" 'BEGIN { printf "%.1f", (b - a) / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a (execsnoop used no measurable CPU)" }'; }
echo "idle for ${seconds}s (tracer exec and execsnoop: execs of uid $nobody only, none)"
echo "tracer exec:  CPU $(share "${t0[1]}" "${t1[1]}") of a core (target <= 0.05%), $(rate "${t0[2]}" "${t1[2]}") wake-ups/s"
echo "tracer agent: CPU $(share "${t0[5]}" "${t1[5]}") of a core (target <= 0.05%), $(rate "${t0[6]}" "${t1[6]}") wake-ups/s;" \
     "it counted $(( ${seen1% *} - ${seen0% *} )) execs and $(( ${seen1#* } - ${seen0#* } )) drops of the host meanwhile"
join "$work"/threads0 "$work"/threads1 | awk -v s="$seconds" \
    '{ printf "  thread %-14s CPU %.4f%%, %.1f wake-ups/s\n", $2, 100 * ($6 - $3) / (s * 1e9), ($7 - $4) / s }'
echo "execsnoop:    CPU $(share "${t0[3]}" "${t1[3]}") of a core, $(rate "${t0[4]}" "${t1[4]}") wake-ups/s"
echo "ratio tracer exec/execsnoop CPU:  $(ratio $((t1[1] - t0[1])) $((t1[3] - t0[3])))"
echo "ratio tracer agent/execsnoop CPU: $(ratio $((t1[5] - t0[5])) $((t1[3] - t0[3])))"
