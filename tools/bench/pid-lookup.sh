#!/bin/bash
# Benchmark for `tracer pid` (issue #4): with N containers running (default 100) under one
# runtime, time `tracer pid <init pid>` against the runtime's own `inspect` of the same
# container, in one run: 7 alternating rounds of 20 runs of each (tools/testprogs/wall_time.c:
# spawn and wait, nothing else in the timed span); prints the medians and their ratio.
# Needs root; uses tools/lab/containers.sh (the runtime runs in a network namespace of its own).
# With TRACER_BASELINE=PATH (another build of tracer, e.g. of an earlier commit), that binary is
# timed in the same rounds too, and the ratio of the two printed: before/after in one run.
# usage: tools/bench/pid-lookup.sh [CONTAINERS (default 100)] [podman|docker (default podman)]
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-100}
runtime=${2:-podman}
[[ $runtime =~ ^(podman|docker)$ ]] || { echo "pid-lookup.sh: runtime must be podman or docker" >&2; exit 64; }
[ "$(id -u)" = 0 ] || { echo "pid-lookup.sh: needs root" >&2; exit 77; }
tools/setup.sh --test >/dev/null
. tools/lib/need.sh
need cc gcc || exit 1
swift build -c release --static-swift-stdlib --product tracer >/dev/null
tracer=$(swift build -c release --static-swift-stdlib --show-bin-path)/tracer
lab=tools/lab/containers.sh
name=bench$$
work=$(mktemp -d /tmp/tracer-pidbench.XXXXXX)
trap 'bash $lab down $runtime $name >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cc -O2 -o "$work/wall_time" tools/testprogs/wall_time.c

info=$(bash $lab up "$runtime" "$name")
get() { echo "$info" | sed -n "s/^$1=//p"; }
netns=$(get netns); init=$(get init_pid)
case $runtime in
podman)
    export CONTAINERS_CONF=$(get podman_containers_conf) CONTAINERS_STORAGE_CONF=$(get podman_storage_conf)
    cli=(nsenter --net="$netns" podman)
    inspect=(podman inspect)
    flags="--podman-root $(get podman_graphroot) --podman-runroot $(get podman_runroot)"
    ;;
docker)
    docker_host=$(get docker_host)
    cli=(/usr/bin/docker -H "$docker_host")
    inspect=("${cli[@]}" inspect)
    flags="--docker-root $(get docker_root) --containerd-state $(get containerd_state) --runc-root $(get runc_root)"
    ;;
esac
image=$(get image)
for i in $(seq 2 "$count"); do
    "${cli[@]}" run -d --name "$name-$i" --network none "$image" sleep 3600 >/dev/null
done
echo "$runtime containers running: $("${cli[@]}" ps -q | wc -l)"
"$tracer" pid "$init" $flags | grep -q "container: *$name " || { echo "pid-lookup.sh: tracer pid did not name $name" >&2; exit 1; }

# Rounds alternate the two tools (20 runs each, median per round) so the machine's drifts
# (a hundred shims waking, the VM's neighbours) weigh on both alike; the medians of the
# rounds are compared.
rounds=7
median_ms() { "$work/wall_time" 20 "$@"; }
median_of() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
sleep 3  # let the hundred starts settle
baseline=${TRACER_BASELINE:-}
[ -z "$baseline" ] || [ -x "$baseline" ] || { echo "pid-lookup.sh: TRACER_BASELINE=$baseline is not an executable" >&2; exit 64; }
t_tracer=(); t_json=(); t_inspect=(); t_baseline=()
for round in $(seq $rounds); do
    t_tracer+=("$(median_ms "$tracer" pid "$init" $flags)")
    [ -z "$baseline" ] || t_baseline+=("$(median_ms "$baseline" pid "$init" $flags)")
    # The runtime's CLI as a user types it (podman reads its storage; docker asks dockerd).
    t_inspect+=("$(median_ms "${inspect[@]}" "$name")")
    t_json+=("$(median_ms "$tracer" pid "$init" $flags --output json)")
done
tracer_ms=$(median_of "${t_tracer[@]}"); json_ms=$(median_of "${t_json[@]}"); inspect_ms=$(median_of "${t_inspect[@]}")
echo "rounds (tracer/inspect ms): $(for i in $(seq 0 $((rounds - 1))); do printf '%s/%s ' "${t_tracer[$i]}" "${t_inspect[$i]}"; done)"
echo "tracer pid (table):   $tracer_ms ms   (target < 20 ms)"
echo "tracer pid (json):    $json_ms ms"
echo "$runtime inspect:$( [ $runtime = docker ] && echo ' ' ) $inspect_ms ms"
echo "ratio inspect/tracer: $(awk -v p="$inspect_ms" -v t="$tracer_ms" 'BEGIN { printf "%.1fx", p / t }')  (target >= 5x)"
echo "per-round ratios:     $(for i in $(seq 0 $((rounds - 1))); do awk -v p="${t_inspect[$i]}" -v t="${t_tracer[$i]}" 'BEGIN { printf "%.1fx ", p / t }'; done)"
if [ -n "$baseline" ]; then
    baseline_ms=$(median_of "${t_baseline[@]}")
    echo "baseline tracer pid:  $baseline_ms ms ($baseline)"
    echo "ratio this/baseline:  $(awk -v t="$tracer_ms" -v b="$baseline_ms" 'BEGIN { printf "%.3f", t / b }')  (per round: $(for i in $(seq 0 $((rounds - 1))); do awk -v t="${t_tracer[$i]}" -v b="${t_baseline[$i]}" 'BEGIN { printf "%.2f ", t / b }'; done))"
fi
# One call for all of them, without the stop timeout (podman waits 10 s per container for
# `sleep`, which ignores SIGTERM as pid 1: 99 containers took 16 minutes).
extra=(); for i in $(seq 2 "$count"); do extra+=("$name-$i"); done
case $runtime in
podman) "${cli[@]}" rm -f -t 0 "${extra[@]}" >/dev/null 2>&1 || true ;;
docker) "${cli[@]}" rm -f "${extra[@]}" >/dev/null 2>&1 || true ;;
esac
