#!/bin/bash
# Benchmark for `tracer pid`: with N podman containers running (default 100), time
# `tracer pid <init pid>` against `podman inspect` of the same container, in one run.
# Prints the median wall time of 30 runs of each (tools/testprogs/wall_time.c: spawn and wait,
# nothing else in the timed span) and their ratio. Needs root; uses tools/lab.
# usage: tools/bench/pid-lookup.sh [CONTAINERS (default 100)]
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-100}
[ "$(id -u)" = 0 ] || { echo "pid-lookup.sh: needs root" >&2; exit 77; }
tools/setup.sh --test >/dev/null
swift build -c release --static-swift-stdlib --product tracer >/dev/null
tracer=$(swift build -c release --static-swift-stdlib --show-bin-path)/tracer
lab=tools/lab/containers.sh
name=bench$$
work=$(mktemp -d /tmp/tracer-pidbench.XXXXXX)
trap 'bash $lab down podman $name >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cc -O2 -o "$work/wall_time" tools/testprogs/wall_time.c

info=$(bash $lab up podman $name)
get() { echo "$info" | sed -n "s/^$1=//p"; }
state=$(get state_dir); netns=$(get netns); init=$(get init_pid)
export CONTAINERS_CONF=$(get podman_containers_conf) CONTAINERS_STORAGE_CONF=$(get podman_storage_conf)
podman_in_lab() { nsenter --net="$netns" podman "$@"; }
for i in $(seq 2 "$count"); do
    podman_in_lab run -d --name "$name-$i" --network none localhost/tracerlab-busybox:latest sleep 3600 >/dev/null
done
echo "containers running: $(podman_in_lab ps -q | wc -l)"
flags="--podman-root $(get podman_graphroot) --podman-runroot $(get podman_runroot)"

median_ms() { "$work/wall_time" 30 "$@"; }
t_tracer=$(median_ms "$tracer" pid "$init" $flags)
t_json=$(median_ms "$tracer" pid "$init" $flags --output json)
# podman reads its own storage; the lab's network namespace plays no part in inspect.
t_podman=$(median_ms podman inspect "$name")
echo "tracer pid (table):   $t_tracer ms   (target < 20 ms)"
echo "tracer pid (json):    $t_json ms"
echo "podman inspect:       $t_podman ms"
echo "ratio podman/tracer:  $(awk -v p="$t_podman" -v t="$t_tracer" 'BEGIN { printf "%.1fx", p / t }')  (target >= 5x)"
for i in $(seq 2 "$count"); do podman_in_lab rm -f -t 0 "$name-$i" >/dev/null 2>&1 || true; done
