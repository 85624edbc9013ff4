# Shared by the exec-storm benchmarks (sourced after cd to the repository root): the storm and a
# tracer measured while it runs. Needs $work (with the compiled storm), $workers, $per_worker, $total.

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
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
