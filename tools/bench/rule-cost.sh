#!/bin/bash
# Benchmark for issue #16: what the firewall costs per new connection (docs: rulecost.md). Real TCP
# connections through kube-proxy-shaped Services (tools/lab/kubeproxy.sh up ... --serve: client
# netns -> node netns with the rules, DNAT and forwarding -> endpoints netns), their set-up time
# measured in the client by tools/bench/connect-latency.py (a blocking connect(): SYN sent ->
# SYN-ACK received), for
#   iptables and nftables mode at 100, 1,000 and 10,000 Services of one endpoint each (so the rule
#   counts are exact), to the first, the middle and the last Service's address, and
#   the baseline: the same client straight to an endpoint (10.244.0.1:8080) through a node with no
#   rules at all (--mode none), measured in the same run.
# Every lab is built first and stays up; then ROUNDS rounds each measure every lab once, each round
# starting one lab further on, so that a drift of the machine spreads over all of them. Each lab's
# addresses are measured in one run of connect-latency.py, taken in turn, CONNECTIONS each.
# Prints, per lab and address: the median of the rounds' median set-up times and of their p90s, the
# median of the rounds' ratios to that round's baseline and of their differences to it (extra µs),
# and what the tracer says of that destination (`tracer rules --netns NETNS --to ADDR:PORT/tcp
# --output json`, its "destination" line: rules_evaluated, estimated_walk_ns; "n/a" where the
# tracer has no such command or says nothing). Then, per mode and size, the measured cost per extra
# rule: the median of the rounds' (last - first) over the rules the last Service's connection
# evaluates beyond the first's (from the tracer; without it, iptables mode's services - 1: one
# KUBE-SERVICES rule per Service before the one addressed; nftables mode has no more rules for the
# last Service, so there the difference is given per Service in front of it).
# usage: tools/bench/rule-cost.sh [CONNECTIONS per address and round (default 1000)] [ROUNDS (default 5)]
#   TRACER=PATH  the tracer binary (default .build/release/tracer, else .build/debug/tracer)
#   RULE_COST_SIZES="100 1000 10000"  the numbers of Services (each 1..65024), for a quicker look
# Takes under 2 minutes with the defaults (95 s here), most of it nftables mode's load of 10,000
# Services (40 to 75 s) and removing the labs again.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH # the system's python3, as the lab's
connections=${1:-1000}
rounds=${2:-5}
sizes=${RULE_COST_SIZES:-100 1000 10000}
[[ $connections =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] || {
    echo "usage: tools/bench/rule-cost.sh [CONNECTIONS (default 1000)] [ROUNDS (default 5)]" >&2
    exit 2
}
[ "$(id -u)" = 0 ] || { echo "rule-cost.sh: needs root" >&2; exit 77; }
. tools/lib/need.sh
need python3 python3 || exit 1
need iptables-nft-restore iptables || exit 1
need nft nftables || exit 1

tracer=${TRACER:-}
if [ -z "$tracer" ]; then
    for candidate in .build/release/tracer .build/debug/tracer; do
        if [ -x "$candidate" ]; then tracer=$candidate; break; fi
    done
fi

started=$(date +%s)
prefix=rc$(( $$ % 100000 ))
work=$(mktemp -d /tmp/tracer-rule-cost.XXXXXX)
labs=() # every lab up was asked for, so that an interrupted up is removed too
cleanup() {
    local lab
    for lab in "${labs[@]}"; do tools/lab/kubeproxy.sh down "$lab" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The cells: KEY MODE SERVICES, the baseline first; the lab of KEY is $prefix$KEY.
cells=("b none 0")
for mode in iptables nftables; do
    n=0
    for services in $sizes; do cells+=("${mode:0:1}$(( ++n )) $mode $services"); done
done
fact() { sed -n "s/^$2=//p" "$work/$1.facts"; } # fact KEY NAME

for cell in "${cells[@]}"; do
    read -r key mode services <<<"$cell"
    labs+=("$prefix$key")
    echo "rule-cost.sh: building $mode, $services Services ..." >&2
    tools/lab/kubeproxy.sh up "$prefix$key" --mode "$mode" --services "$services" --endpoints 1 --serve >"$work/$key.facts"
    if [ "$key" = b ]; then
        echo "$(fact b first_endpoint)" >"$work/$key.addresses"
    else
        echo "$(fact "$key" first_service) $(fact "$key" middle_service) $(fact "$key" last_service)" >"$work/$key.addresses"
    fi
done

# What the tracer says of each destination, once, before any measurement (it reads the ruleset).
for cell in "${cells[@]}"; do
    read -r key _ _ <<<"$cell"
    for address in $(cat "$work/$key.addresses"); do
        out="$work/$key.${address//[:\/]/_}.tracer"
        if [ -n "$tracer" ]; then
            timeout 120 "$tracer" rules --netns "$(fact "$key" netns)" --to "$address" --output json >"$out" 2>"$out.err" || true
        fi
    done
done

for (( r = 0; r < rounds; r++ )); do
    echo "rule-cost.sh: round $(( r + 1 )) of $rounds ..." >&2
    for (( i = 0; i < ${#cells[@]}; i++ )); do
        read -r key _ _ <<<"${cells[(r + i) % ${#cells[@]}]}"
        # shellcheck disable=SC2046 # the addresses, one word each
        nsenter --net="/run/netns/$(fact "$key" client_netns)" python3 tools/bench/connect-latency.py --count "$connections" \
            $(cat "$work/$key.addresses") | sed "s/^/key=$key round=$r /" >>"$work/results"
    done
done

REPORT='
import json, os, statistics, sys

work, rounds, connections = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cells = [c.split() for c in sys.argv[4:]]

def facts(key):
    out = {}
    for line in open(os.path.join(work, key + ".facts")):
        k, sep, v = line.rstrip("\n").partition("=")
        if sep:
            out[k] = v
    return out

# results[key][address] = list of (round, median_us, p90_us, failures)
results = {}
for line in open(os.path.join(work, "results")):
    f = dict(item.split("=", 1) for item in line.split())
    results.setdefault(f["key"], {}).setdefault(f["address"], []).append(
        (int(f["round"]), None if f["median_us"] == "n/a" else float(f["median_us"]),
         None if f["p90_us"] == "n/a" else float(f["p90_us"]), int(f["failures"])))

def tracer(key, address):  # (rules_evaluated, estimated_walk_ns) from the destination line, or None each
    path = os.path.join(work, "%s.%s.tracer" % (key, address.replace(":", "_").replace("/", "_")))
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return None, None
    for line in lines:
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if isinstance(o, dict) and o.get("type") == "destination":
            return o.get("rules_evaluated"), o.get("estimated_walk_ns")
    return None, None

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

def fmt(v, spec):
    return "n/a" if v is None else spec % v

def by_round(key, address, index):
    return {r[0]: r[index] for r in results[key][address.removesuffix("/tcp")]}

base_key = cells[0][0]
base_address = facts(base_key)["first_endpoint"]
base = by_round(base_key, base_address, 1)

print("TCP connection set-up (connect(): SYN -> SYN-ACK) from tkp-*-cl through the node to one endpoint per Service,")
print("%d connections per address and round, %d rounds; medians of the rounds (the ratio and extra: of each round against" % (connections, rounds))
print("that round'"'"'s baseline); rules and walk: tracer rules --netns NETNS --to ADDRESS --output json")
print()
print("%-9s %8s %7s %-20s %9s %9s %7s %9s %9s %12s %8s" % ("mode", "services", "service", "address", "median_us", "p90_us",
      "ratio", "extra_us", "rules", "walk_ns", "failures"))
rows = {}
for key, mode, services in cells:
    f = facts(key)
    which = ["endpoint"] if key == base_key else ["first", "middle", "last"]
    for w in which:
        address = f["first_endpoint"] if w == "endpoint" else f[w + "_service"]
        medians, p90s, failures = by_round(key, address, 1), by_round(key, address, 2), by_round(key, address, 3)
        ratio = med([medians[r] / base[r] for r in medians if medians[r] is not None and base.get(r)])
        extra = med([medians[r] - base[r] for r in medians if medians[r] is not None and base.get(r) is not None])
        rules, walk = tracer(key, address)
        rows[key, w] = (medians, rules)
        print("%-9s %8s %7s %-20s %9s %9s %7s %9s %9s %12s %8d" % (mode, services, w, address, fmt(med(medians.values()), "%.1f"),
              fmt(med(p90s.values()), "%.1f"), fmt(ratio, "%.3f"), fmt(extra, "%+.1f"), fmt(rules, "%d"), fmt(walk, "%.0f"),
              sum(failures.values())))
print()
print("Cost per extra rule: the median of the rounds'"'"' (last - first) set-up time over the rules the last Service'"'"'s")
print("connection evaluates beyond the first'"'"'s")
for key, mode, services in cells[1:]:
    services = int(services)
    (first, rules_first), (last, rules_last) = rows[key, "first"], rows[key, "last"]
    diffs = [last[r] - first[r] for r in first if first[r] is not None and last.get(r) is not None]
    d = med(diffs)
    each = " ".join("%+.1f" % x for x in diffs)
    if isinstance(rules_first, int) and isinstance(rules_last, int) and rules_last != rules_first:
        extra, source, unit = rules_last - rules_first, "rules (tracer)", "rule"
    elif mode == "iptables":
        extra, source, unit = services - 1, "rules (services - 1; no rule counts from the tracer)", "rule"
    else:
        extra, source, unit = services - 1, "Services in front (no more rules: one map lookup)", "Service"
    per = None if d is None else d * 1000 / extra
    print("%-9s %6d Services: last - first %s us (rounds: %s) over %d %s: %s ns per %s" % (mode, services, fmt(d, "%+.1f"), each,
          extra, source, fmt(per, "%.2f"), unit))
'
python3 -c "$REPORT" "$work" "$rounds" "$connections" "${cells[@]}"
echo
echo "labs (load_ms: the one ruleset load; rules: as kubeproxy.sh info counts them):"
for cell in "${cells[@]}"; do
    read -r key mode services <<<"$cell"
    printf "  %-9s %6s Services: rules=%s load_ms=%s\n" "$mode" "$services" "$(fact "$key" rules)" "$(fact "$key" load_ms)"
done
echo "tracer: ${tracer:-none found (.build/release/tracer, .build/debug/tracer; set TRACER)}$(
    [ -n "$tracer" ] && ! grep -qs '"type":"destination"' "$work"/*.tracer && echo "; its rules command said nothing usable: $(cat "$work"/*.tracer.err 2>/dev/null | head -1 | cut -c1-160)")"
echo "total time: $(( $(date +%s) - started )) s"
