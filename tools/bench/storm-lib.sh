# Shared by the exec-storm benchmarks (sourced after cd to the repository root): the storm and a
# tracer measured while it runs. Needs $work (with the compiled storm), $workers, $per_worker, $total.

# The preamble of the storm benchmarks: root, the test packages, the release build ($tracer), and
# the storm and exec_names programs in $work.  usage: prepare_storm_bench SCRIPT-NAME
prepare_storm_bench() {
    [ "$(id -u)" = 0 ] || { echo "$1: needs root" >&2; exit 77; }
    tools/setup.sh --test >/dev/null
    . tools/lib/need.sh
    need python3 python3 || exit 1
    need cc gcc || exit 1
    # Both executables: `tracer agent` runs the tracer-agent built beside tracer.
    swift build -c release --static-swift-stdlib >/dev/null
    tracer=$(swift build -c release --static-swift-stdlib --show-bin-path)/tracer
    cc -O2 -o "$work/storm" tools/testprogs/exec_storm.c
    cc -O2 -o "$work/exec_names" tools/testprogs/exec_names.c
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# CPU of all of a process's threads in ns (scheduler time): ticks are 10 ms, too coarse for a
# tracer that counts in the kernel and wakes once per interval.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ n += $1 } END { print n }'; }
hz=$(getconf CLK_TCK)
storm() { "$work/storm" "$workers" "$per_worker" | sed 's/.*seconds=//'; }
rate() { awk -v n="$total" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }

# Run the storm under a tracer started with "$@", writing its output to $work/out; sets
# seconds, tracer_cpu_ms, peak_rss_kb. $settle: seconds the tracer gets after the storm (default 0.5).
run_traced() {
    "$@" > "$work/out" 2>"$work/err" &
    local pid=$!
    sleep 1.5
    local before; before=$(cpu_ticks $pid)
    seconds=$(storm)
    sleep "${settle:-0.5}"
    local after; after=$(cpu_ticks $pid)
    peak_rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
    kill -INT $pid; wait $pid || true
    tracer_cpu_ms=$(( (after - before) * 1000 / hz ))
}
