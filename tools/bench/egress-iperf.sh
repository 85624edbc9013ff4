#!/bin/bash
# Benchmark for `tracer egress`, `tracer drops` (issue #5: speed targets) and `tracer ingress` (#13).
# iperf3 TCP from a container netns through bridge and NAT (tools/lab/egress.sh) to a "world"
# netns, in one run and alternating so drift on the machine cancels out (each round starts
# with the next configuration):
#   baseline (no tracer), with `tracer drops`, with `tracer egress` on the container's path.
# The same three over IPv6 (issue #14), on the same dual-stack lab: c1's ULA through the bridge and
# NAT66 (ip6tables MASQUERADE) to the world's 2001:db8:ffff::10, with the same targets.
# Then the published-port run: the lab publishes c1's ports (egress.sh publish: 198.51.100.2:5201
# DNAT'd to c1's iperf3 server) and iperf3 runs from the world to that port, alternating
#   inbound baseline (no tracer), with `tracer ingress` on c1 (target >= 95%)
# (a tracer without the ingress command gets the row "tracer ingress: not built yet").
# Prints each throughput and its ratio against the baseline of this run (targets: drops >= 97%,
# egress >= 95%), each round's ratio and their median (a run another process disturbed moves
# the median less than the mean), and the tracer's CPU per million packets: its own process (user+system) in
# those runs, and its BPF programs' run time from one more run of each with BPF_ENABLE_STATS
# (switched on only while that tracer runs; never during the throughput runs, which it slows).
# usage: tools/bench/egress-iperf.sh [SECONDS_PER_RUN (default 5)] [ROUNDS (default 3)]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-5}
rounds=${2:-3}
lab=benchip$$
lab=${lab:0:12}
work=$(mktemp -d /tmp/tracer-bench.XXXXXX)
cleanup() {
    [ -f "$work/iperf.pid" ] && kill "$(cat "$work/iperf.pid")" 2>/dev/null || true
    [ -f "$work/iperf6.pid" ] && kill "$(cat "$work/iperf6.pid")" 2>/dev/null || true
    [ -f "$work/iperf-c1.pid" ] && kill "$(cat "$work/iperf-c1.pid")" 2>/dev/null || true
    tools/lab/egress.sh down "$lab" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "egress-iperf.sh: needs root" >&2; exit 77; }
tools/setup.sh --test >/dev/null
. tools/lib/need.sh
need iperf3 iperf3 || exit 1
need cc gcc || exit 1
swift build -c release --static-swift-stdlib --product tracer >/dev/null
tracer=$(swift build -c release --static-swift-stdlib --show-bin-path)/tracer
cc -O2 -o "$work/bpf_stats" tools/testprogs/bpf_stats.c

tools/lab/egress.sh up "$lab" --ipv6 >/dev/null
world=/run/netns/tel-$lab-world
container=/run/netns/tel-$lab-c1
host=tel-$lab-host
nsenter --net="$world" iperf3 -s -B 203.0.113.10 -D -I "$work/iperf.pid"
nsenter --net="$world" iperf3 -s -B 2001:db8:ffff::10 -p 5202 -D -I "$work/iperf6.pid"
sleep 0.5

hz=$(getconf CLK_TCK)
packets() { # packets through the uplink, both directions (/proc/net/dev is per netns of the reader)
    nsenter --net="/run/netns/$host" cat /proc/net/dev | awk '$1 == "uplink0:" {print $3 + $11}'
}
direction=egress
target=203.0.113.10 port=5201 tag="" # the egress runs' destination, and their names' suffix (6 for IPv6)
throughput() { # Mbit/s received: by the world (egress), by c1 through the published port (inbound)
    if [ $direction = egress ]; then
        nsenter --net="$container" iperf3 -c "$target" -p "$port" -t "$seconds" -f m 2>/dev/null | awk '/receiver/ {print $(NF-2)}'
    else
        nsenter --net="$world" iperf3 -c 198.51.100.2 -p 5201 -t "$seconds" -f m 2>/dev/null | awk '/receiver/ {print $(NF-2)}'
    fi
}
bpf_run_ns() { # total run time of the BPF programs a process holds
    local total=0 f
    for f in /proc/$1/fdinfo/*; do
        local ns; ns=$(awk '/^run_time_ns:/ {print $2}' "$f" 2>/dev/null || true)
        [ -n "$ns" ] && total=$((total + ns))
    done
    echo $total
}

wait_ready() { # until the tracer has attached its programs and its start-up is over (its CPU time
    # stops growing): start-up overlapping the measurement would be charged to the tracing
    local pid=$1 last=-1 now i
    for (( i = 0; i < 100; i++ )); do
        sleep 0.3
        grep -qs '^link_type:' /proc/$pid/fdinfo/* || continue
        now=$(awk '{print $14 + $15}' /proc/$pid/stat)
        [ "$now" = "$last" ] && return 0
        last=$now
    done
    echo "egress-iperf.sh: the tracer did not settle: $*" >&2
}

declare -A sum count cpu_ms bpf_ms pkts bpf_pkts runs ratios
start_tracer() { # start_tracer OUT [WRAPPER...] -- TRACER ARGS...: sets pid, once the tracer is ready
    local out=$1; shift
    local wrapper=()
    while [ "$1" != -- ]; do wrapper+=("$1"); shift; done
    shift
    "${wrapper[@]}" "$tracer" "$@" >"$out" 2>"$out.err" &
    pid=$!
    wait_ready $pid "$@"
}
run() { # run NAME [TRACER ARGS...]: one throughput run, with the tracer's process CPU
    local name=$1; shift
    local pid="" before_pk after_pk before_cpu=0 after_cpu=0
    if [ $# -gt 0 ]; then
        start_tracer "$work/$name.out" -- "$@"
        before_cpu=$(awk '{print $14 + $15}' /proc/$pid/stat)
    fi
    before_pk=$(packets)
    local mbit; mbit=$(throughput)
    after_pk=$(packets)
    if [ -n "$pid" ]; then
        after_cpu=$(awk '{print $14 + $15}' /proc/$pid/stat)
        kill -INT $pid; wait $pid || true
        cpu_ms[$name]=$(( ${cpu_ms[$name]:-0} + (after_cpu - before_cpu) * 1000 / hz ))
    fi
    pkts[$name]=$(( ${pkts[$name]:-0} + after_pk - before_pk ))
    sum[$name]=$(awk -v a="${sum[$name]:-0}" -v b="$mbit" 'BEGIN { print a + b }')
    runs[$name]="${runs[$name]:-} $mbit"
    count[$name]=$(( ${count[$name]:-0} + 1 ))
}
bpf_cost() { # bpf_cost NAME TRACER ARGS...: one more run with BPF_ENABLE_STATS, for the programs' run time.
    # Apart from the throughput runs: the statistics read the clock twice around every program
    # run, which slows a program that runs several times per packet by more than it costs itself.
    local name=$1; shift
    local pid before_pk after_pk
    start_tracer "$work/$name-stats.out" "$work/bpf_stats" -- "$@"
    local before_ns; before_ns=$(bpf_run_ns $pid)
    before_pk=$(packets)
    throughput >/dev/null
    after_pk=$(packets)
    local run_ns; run_ns=$(bpf_run_ns $pid)
    kill -INT $pid; wait $pid || true
    bpf_ms[$name]=$(( (run_ns - before_ns) / 1000000 ))
    bpf_pkts[$name]=$(( after_pk - before_pk ))
}

measure() { # measure NAME: one throughput run of baseline, drops or egress (NAME may end in $tag)
    case ${1%"$tag"} in
        baseline) run "$1" ;;
        drops) run "$1" drops --output json ;;
        egress) run "$1" egress --netns "tel-$lab-c1" --output json ;;
    esac
}
egress_rounds() { # the baseline, drops and egress runs to $target, named with $tag
    local b=baseline$tag d=drops$tag e=egress$tag
    local order=("$b" "$d" "$e")
    throughput >/dev/null # warm up
    for (( r = 0; r < rounds; r++ )); do
        # Each round starts with the next one, so no configuration always runs in the same place.
        for (( i = 0; i < 3; i++ )); do measure "${order[(r + i) % 3]}"; done
        round_mbit=("${runs[$b]##* }" "${runs[$d]##* }" "${runs[$e]##* }")
        ratios[$d]="${ratios[$d]:-} $(awk -v a="${round_mbit[1]}" -v b="${round_mbit[0]}" 'BEGIN { printf "%.1f", 100 * a / b }')"
        ratios[$e]="${ratios[$e]:-} $(awk -v a="${round_mbit[2]}" -v b="${round_mbit[0]}" 'BEGIN { printf "%.1f", 100 * a / b }')"
    done
    bpf_cost "$d" drops --output json
    bpf_cost "$e" egress --netns "tel-$lab-c1" --output json
    base=$(awk -v s="${sum[$b]}" -v n="${count[$b]}" 'BEGIN { print s / n }')
    printf "%-16s %10.0f Mbit/s  (runs:%s Mbit/s: the spread is the machine's noise)\n" "$b" "$base" "${runs[$b]}"
    report "$d" 97 "$base"
    report "$e" 95 "$base"
    grep -h '"type":"stage"' "$work/$e.out" | head -1 | sed "s/^/$e saw: /" | cut -c1-300  || true
}
report() { # report NAME TARGET BASE: the tracer's row against the baseline BASE
    local name=$1 target=$2 base=$3 avg ratio median
    avg=$(awk -v s="${sum[$name]}" -v n="${count[$name]}" 'BEGIN { print s / n }')
    ratio=$(awk -v a="$avg" -v b="$base" 'BEGIN { printf "%.1f", 100 * a / b }')
    printf "%-16s %10.0f Mbit/s  %5s%% of baseline (target >= %s%%)  tracer CPU per million uplink packets: %s ms process, %s ms BPF\n" \
        "tracer $name" "$avg" "$ratio" "$target" \
        "$(awk -v c="${cpu_ms[$name]}" -v p="${pkts[$name]}" 'BEGIN { printf "%.1f", (p > 0 ? c * 1e6 / p : 0) }')" \
        "$(awk -v c="${bpf_ms[$name]}" -v p="${bpf_pkts[$name]}" 'BEGIN { printf "%.1f", (p > 0 ? c * 1e6 / p : 0) }')"
    median=$(echo ${ratios[$name]} | tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
    echo "                 runs:${runs[$name]} Mbit/s (${pkts[$name]} packets; BPF time from one more run with BPF statistics on)"
    echo "                 each round's ratio:${ratios[$name]} %, median $median %"
}
echo "iperf3 TCP, container netns -> bridge -> NAT -> uplink -> world, ${seconds}s per run, $rounds rounds"
egress_rounds
echo
echo "iperf3 TCP over IPv6, container netns -> bridge -> NAT66 -> uplink -> world, ${seconds}s per run, $rounds rounds"
target=2001:db8:ffff::10 port=5202 tag=6
egress_rounds

# The published-port run: world -> uplink0 (DNAT 198.51.100.2:5201 -> c1) -> bridge -> c1.
tools/lab/egress.sh publish "$lab" >/dev/null
nsenter --net="$container" iperf3 -s -B 172.17.0.2 -p 5201 -D -I "$work/iperf-c1.pid"
sleep 0.5
direction=inbound
echo
echo "iperf3 TCP, world netns -> uplink -> DNAT to a published port -> bridge -> container netns, ${seconds}s per run, $rounds rounds"
throughput >/dev/null # warm up
if "$tracer" ingress --help >/dev/null 2>&1; then
    ingress=(ingress --netns "tel-$lab-c1" --output json)
    for (( r = 0; r < rounds; r++ )); do
        # Alternating which goes first, as above.
        if (( r % 2 == 0 )); then run inbound; run ingress "${ingress[@]}"; else run ingress "${ingress[@]}"; run inbound; fi
        ratios[ingress]="${ratios[ingress]:-} $(awk -v a="${runs[ingress]##* }" -v b="${runs[inbound]##* }" 'BEGIN { printf "%.1f", 100 * a / b }')"
    done
    bpf_cost ingress "${ingress[@]}"
    base=$(awk -v s="${sum[inbound]}" -v n="${count[inbound]}" 'BEGIN { print s / n }')
    printf "%-16s %10.0f Mbit/s  (runs:%s Mbit/s)\n" "inbound baseline" "$base" "${runs[inbound]}"
    report ingress 95 "$base"
    grep -h '"type":"stage"' "$work/ingress.out" | head -1 | sed 's/^/ingress saw: /' | cut -c1-300 || true
else
    for (( r = 0; r < rounds; r++ )); do run inbound; done
    base=$(awk -v s="${sum[inbound]}" -v n="${count[inbound]}" 'BEGIN { print s / n }')
    printf "%-16s %10.0f Mbit/s  (runs:%s Mbit/s)\n" "inbound baseline" "$base" "${runs[inbound]}"
    printf "%-16s %s (target >= 95%% of the inbound baseline)\n" "tracer ingress:" "not built yet"
fi
