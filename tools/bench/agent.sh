#!/bin/bash
# What `tracer agent` costs, in one run on the same machine (issue #15's targets):
#   1. an exec storm under `tracer top --interval 1s --output json` and `tracer agent --interval 1s`
#      side by side: each one's CPU per exec and the ratio agent/top (target <= 1);
#      the agent's tracer_execs_total of the storm's command (a copy of /bin/true under a name of
#      this run's own) against the storm's count (target: equal) and tracer_lost_events_total
#      (target 0);
#   2. distinct command names exec'd once each (symlinks to /bin/true): enough for about 1,000
#      series, then 1,000 names (about 6,000 series); GET /metrics timed SCRAPES times on one
#      keep-alive connection at each size (median, target < 10 ms at 1,000), and the agent's peak
#      RSS after the storm and the scrapes (VmHWM, target <= 40 MB);
#   3. tools/bench/idle-cpu.sh: the agent's and `tracer exec`'s idle CPU beside execsnoop's.
# Needs root.  usage: tools/bench/agent.sh [EXECS_PER_WORKER (default 5000)] [WORKERS (default 2)] [IDLE_SECONDS (default 60)]
set -euo pipefail
cd "$(dirname "$0")/../.."
per_worker=${1:-5000}
workers=${2:-2}
idle_seconds=${3:-60}
total=$((per_worker * workers))
names=1000
scrapes=51
work=$(mktemp -d /tmp/tracer-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

. tools/bench/storm-lib.sh
prepare_storm_bench agent.sh
command="agstorm$$"
cp /bin/true "$work/$command"
mkdir "$work/names"
python3 -c 'import os, sys; [os.symlink("/bin/true", f"{sys.argv[1]}/n{i}") for i in range(int(sys.argv[2]))]' "$work/names" $names

storm() { "$work/storm" "$workers" "$per_worker" "$work/$command" | sed 's/.*seconds=//'; }
per_exec() { awk -v c="$1" -v n="$total" 'BEGIN { printf "%.2f", c / n }'; } # us of CPU per exec
threads() { for t in /proc/"$1"/task/*; do echo "${t##*/} $(cat "$t/comm") $(awk '{print $1}' "$t/schedstat")"; done; }
settle=1.5 # the interval holding the storm's last execs closes before the tracers are read
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# metrics: the sum of the samples of a family whose labels contain FILTER (a substring), or, with
# --series, the number of tracer_ series.
metrics() {
    python3 - "$port" "$@" <<'EOF'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10).read().decode()
# "\n" only: a command name may hold \r or \x1c, which the exposition does not escape
samples = [line for line in text.split("\n") if line.startswith("tracer_") and " " in line]
if sys.argv[2] == "--series":
    print(len(samples))
else:
    family, needle = sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
    print(int(sum(float(s.rsplit(" ", 1)[1]) for s in samples if s.split("{")[0].split(" ")[0] == family and needle in s)))
EOF
}
# The median time of GET /metrics over N requests on one keep-alive connection, in ms.
scrape_ms() {
    python3 - "$port" "$1" <<'EOF'
import http.client, statistics, sys, time
connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    connection.request("GET", "/metrics")
    body = connection.getresponse().read()
    times.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(times):.2f} {min(times):.2f} {max(times):.2f} {len(body)}")
EOF
}

echo "exec storm: $workers workers x $per_worker fork+exec of $command (a copy of /bin/true)"
storm >/dev/null # warm up
# top and the agent run side by side through the same storm, so whatever else the machine does
# (both trace the whole host) weighs on both.
"$tracer" top --interval 1s --output json > "$work/top.out" 2>"$work/top.err" &
top=$!
"$tracer" agent --metrics-address "127.0.0.1:$port" --interval 1s > "$work/agent.out" 2>"$work/agent.err" &
agent=$!
for _ in $(seq 100); do metrics --series >/dev/null 2>&1 && break; sleep 0.1; done
sleep 1.5
host_series=$(metrics --series)
overflow_before=$(metrics tracer_map_overflow_total 'map="top_groups"')
threads $agent > "$work/threads0"
top_before=$(cpu_ns $top); agent_before=$(cpu_ns $agent)
storm_seconds=$(storm)
sleep $settle
top_after=$(cpu_ns $top); agent_after=$(cpu_ns $agent)
threads $agent > "$work/threads1"
top_cpu=$(( (top_after - top_before) / 1000 )); agent_cpu=$(( (agent_after - agent_before) / 1000 ))
counted=$(metrics tracer_execs_total "command=\"$command\"")
lost=$(metrics tracer_lost_events_total)
overflow=$(( $(metrics tracer_map_overflow_total 'map="top_groups"') - overflow_before ))
kill -INT $top; wait $top || true
top_counted=$(python3 -c '
import json, sys
print(sum(r["execs"] for line in open(sys.argv[1]) for r in json.loads(line)["rows"] if r["command"] == sys.argv[2]))' "$work/top.out" "$command")

# A scrape of about 1,000 series (six per command name), then of about 6,000.
first=$(( (1000 - host_series + 5) / 6 )); [ $first -gt 0 ] || first=1
"$work/exec_names" "$work/names" n $first 1 >/dev/null
sleep $settle
series_a=$(metrics --series)
read -r median_a min_a max_a bytes_a <<< "$(scrape_ms $scrapes)"
rss_a=$(awk '/VmHWM/ {print $2}' /proc/$agent/status)
for i in $(seq $first $((names - 1))); do mv "$work/names/n$i" "$work/names/m$((i - first))"; done
"$work/exec_names" "$work/names" m $((names - first)) $workers >/dev/null
sleep $settle
series_b=$(metrics --series)
read -r median_b min_b max_b bytes_b <<< "$(scrape_ms $scrapes)"
agent_rss=$(awk '/VmHWM/ {print $2}' /proc/$agent/status)
kill -INT $agent
wait $agent && stopped=0 || stopped=$?

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
echo "storm under both:             $(rate "$storm_seconds") exec/s (${storm_seconds}s); tracer_ series before it: $host_series"
echo "tracer top --interval 1s:     CPU ${top_cpu} us = $(per_exec "$top_cpu") us/exec; counted $top_counted / $total"
echo "tracer agent --interval 1s:   CPU ${agent_cpu} us = $(per_exec "$agent_cpu") us/exec"
join "$work/threads0" "$work/threads1" | awk -v n="$total" '{ printf "  thread %-14s       CPU %d us = %.2f us/exec\n", $2, ($5 - $3) / 1000, ($5 - $3) / 1000 / n }'
echo "  ratio agent/top CPU         $(ratio "$agent_cpu" "$top_cpu")  (target <= 1.00)"
echo "  counted ($command)   $counted / $total execs  ($([ "$counted" = "$total" ] && echo exact || echo MISMATCH))"
echo "  lost events                 $lost  (target 0); top_groups overflow meanwhile: $overflow (others' execs filling the map)"
echo "  scrape of $series_a series    median $median_a ms (min $min_a, max $max_a, $scrapes GETs, $bytes_a bytes)  (target < 10 ms; ratio $(ratio "$median_a" 10))"
echo "  scrape of $series_b series    median $median_b ms (min $min_b, max $max_b, $scrapes GETs, $bytes_b bytes)"
echo "  peak RSS (VmHWM)            $((rss_a / 1024)) MB after the storm and the $series_a-series scrapes (target <= 40 MB; ratio $(ratio "$rss_a" $((40 * 1024)))), $((agent_rss / 1024)) MB after the $series_b-series ones"
echo "  stopped by SIGINT           exit $stopped"
echo
tools/bench/idle-cpu.sh "$idle_seconds"
