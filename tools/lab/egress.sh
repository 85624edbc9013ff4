#!/usr/bin/env bash
# tools/lab/egress.sh - a container host's egress path, built entirely inside network
# namespaces, and the ways it breaks. The root network namespace is never touched.
#
#   tel-NAME-c1..cN   "containers": eth0 172.17.0.(1+i)/16, default via 172.17.0.1
#   tel-NAME-host     the "host": bridge br-lab 172.17.0.1/16 with ports veth-c1..N,
#                     ip_forward=1, MASQUERADE of 172.17.0.0/16 out of uplink0 (iptables-nft),
#                     uplink0 198.51.100.2/24, default via 198.51.100.1
#   tel-NAME-world    the "internet": wan0 198.51.100.1/24, 203.0.113.10/32 on lo, a TCP
#                     listener on 203.0.113.10:8080
# With --ipv6 the lab is dual stack as Docker and netavark make it: a ULA on the bridge
# (br-lab fd00:17::1/64, endpoints fd00:17::(1+i)/64, default via fd00:17::1; br-lab's MTU set
# so a port's cannot drag it down), IPv6 forwarding on and NAT66 (ip6tables-nft MASQUERADE of
# fd00:17::/64 out of uplink0, 2001:db8::2/64, default via wan0's 2001:db8::1/64), and
# 2001:db8:ffff::10/128 on the world's lo, also listening on port 8080. `up` returns once
# duplicate address detection has finished everywhere.
#
# Usage:
#   egress.sh up NAME [--endpoints N] [--ipv6]
#                                       build it (idempotent: an old lab of that name is removed first)
#   egress.sh uplink NAME HOSTNS        only a world behind an existing namespace HOSTNS (a runtime lab
#                                       from containers.sh): uplink0 in HOSTNS, its default route
#   egress.sh info NAME                 key=value lines describing the lab
#   egress.sh break NAME MODE           break it (modes below); `egress.sh modes` lists them
#                                       (egress.md's catalogue); extra modes, not listed there:
#                                       bridge-port-disabled (STP state of veth-c1 set to disabled),
#                                       policy-blackhole (an `ip rule` blackholing the subnet),
#                                       prerouting-drop (an nft rule dropping in prerouting, before
#                                       conntrack), gateway-unanswered (the default route via an
#                                       address on the uplink's subnet that nobody holds),
#                                       conntrack-full (the host side's conntrack table filled
#                                       with established entries up to nf_conntrack_max: the limit
#                                       is global and read-only outside the root namespace, the
#                                       count is the namespace's own), veth-nomaster (veth-c1 taken
#                                       off the bridge), no-route-back (a /32 route sending c1's
#                                       replies out of uplink0), rp-filter-bridge (that route, and
#                                       strict rp_filter on br-lab); and on a
#                                       lab up with --ipv6: ipv6-forwarding-disabled (host side),
#                                       ipv6-disabled-on-veth (disable_ipv6=1 on c1's eth0, the
#                                       veth's end that has an IPv6 stack on the path: the host end
#                                       is a bridge port), ipv6-no-default-route (in c1),
#                                       ipv6-host-no-default-route (in the host side),
#                                       ipv6-dad-failed (c1's address also on br-lab, nodad, then
#                                       c1's re-added: its DAD fails), ipv6-mtu-too-small (veth-c1
#                                       at MTU 1200)
#   egress.sh probe NAME [ENDPOINT] [--tcp] [--size BYTES] [--ipv6]
#                                       one ping (or TCP connect) from an endpoint (default c1) to
#                                       the world, over IPv6 with --ipv6; exit 0 if answered, 1 if not
#   egress.sh down NAME                 remove everything up/uplink made (idempotent)
# NAME: [a-z0-9]{1,12}
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

SUBNET=172.17.0.0/16
BRIDGE_IP=172.17.0.1
UPLINK_IP=198.51.100.2
GATEWAY_IP=198.51.100.1
WORLD_IP=203.0.113.10
WORLD_PORT=8080
STATE_ROOT=${TRACER_EGRESS_LAB_ROOT:-/tmp/tracer-egress-lab}
SUBNET6=fd00:17::/64
BRIDGE_IP6=fd00:17::1
UPLINK_IP6=2001:db8::2
GATEWAY_IP6=2001:db8::1
WORLD_IP6=2001:db8:ffff::10

MODES="ip-forward-disabled device-forwarding-disabled forward-policy-drop forward-rule-drop
legacy-iptables-drop masquerade-missing veth-down bridge-no-address bridge-down uplink-down
no-default-route uplink-no-carrier mtu-mismatch"

log() { echo "egress.sh: $*" >&2; }
die() { log "error: $*"; exit 2; }

[[ $(id -u) -eq 0 ]] || die "must run as root"

# What the lab runs, each with the package that brings it: named when missing, never installed here.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/need.sh"
need_all() {
    local ok=0
    need ip iproute2 || ok=1
    need nsenter util-linux || ok=1
    need busybox busybox-static "nc in the world and the endpoints" || ok=1
    need ping iputils-ping || ok=1
    need nft nftables || ok=1
    need iptables-nft iptables || ok=1
    need iptables-legacy iptables || ok=1
    need ip6tables-nft iptables || ok=1
    need conntrack conntrack "the conntrack-full mode" || ok=1
    ((ok == 0)) || die "missing programs for the egress lab (see above)"
}

in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

check_name() { [[ ${1:-} =~ ^[a-z0-9]{1,12}$ ]] || die "lab name must match [a-z0-9]{1,12}, got '${1:-}'"; }

lab_namespaces() { ip netns list | awk '{print $1}' | grep -E "^tel-$1-(host|world|c[0-9]+)$" || true; }

start_listener() { # in the world: a TCP listener that accepts and closes
    local name=$1 state=$STATE_ROOT/$1
    mkdir -p "$state"
    setsid nsenter --net="/run/netns/tel-$name-world" busybox nc -ll -p "$WORLD_PORT" -e /bin/true \
        </dev/null >/dev/null 2>&1 &
    echo $! >"$state/listener.pid"
}

make_world() { # make_world NAME HOSTNS: world netns, uplink pair, default route in HOSTNS
    local name=$1 host=$2 world=tel-$1-world
    ip netns add "$world"
    in_ns "$world" ip link set lo up
    in_ns "$world" ip addr add "$WORLD_IP/32" dev lo
    ip -n "$host" link add uplink0 type veth peer name wan0 netns "$world"
    ip -n "$host" addr add "$UPLINK_IP/24" dev uplink0
    ip -n "$host" link set uplink0 up
    in_ns "$world" ip addr add "$GATEWAY_IP/24" dev wan0
    in_ns "$world" ip link set wan0 up
    ip -n "$host" route replace default via "$GATEWAY_IP" dev uplink0
    start_listener "$name"
}

is_ipv6() { [[ -f $STATE_ROOT/$1/ipv6 ]]; }

make_ipv6() { # make_ipv6 NAME ENDPOINTS: the dual-stack half of `up --ipv6`
    local name=$1 endpoints=$2 host=tel-$1-host world=tel-$1-world i
    touch "$STATE_ROOT/$name/ipv6"
    # Set by hand (a change, not the value it has) so that the bridge keeps it when a port's drops.
    ip -n "$host" link set br-lab mtu 1499
    ip -n "$host" link set br-lab mtu 1500
    ip -n "$host" addr add "$BRIDGE_IP6/64" dev br-lab
    for (( i = 1; i <= endpoints; i++ )); do
        ip -n "tel-$name-c$i" addr add "fd00:17::$(( i + 1 ))/64" dev eth0
        ip -n "tel-$name-c$i" -6 route add default via "$BRIDGE_IP6" dev eth0
    done
    in_ns "$host" sysctl -qw net.ipv6.conf.all.forwarding=1
    in_ns "$host" ip6tables-nft -t nat -A POSTROUTING -s "$SUBNET6" -o uplink0 -j MASQUERADE
    ip -n "$host" addr add "$UPLINK_IP6/64" dev uplink0
    ip -n "$world" addr add "$GATEWAY_IP6/64" dev wan0
    ip -n "$world" addr add "$WORLD_IP6/128" dev lo
    # A router: its neighbour advertisements carry the R flag, as an upstream router's do.
    in_ns "$world" sysctl -qw net.ipv6.conf.all.forwarding=1
    ip -n "$host" -6 route replace default via "$GATEWAY_IP6" dev uplink0
    wait_dad "$name"
}

wait_dad() { # until no address of the lab is tentative (DAD takes about a second)
    local ns t=50
    for ns in $(lab_namespaces "$1"); do
        until [[ -z $(ip -n "$ns" -6 addr show tentative) ]] || (( t-- == 0 )); do sleep 0.1; done
    done
}

cmd_up() {
    local name=$1 endpoints=1 ipv6=0
    shift
    while (( $# )); do
        case $1 in
            --endpoints) endpoints=${2:-}; shift 2 ;;
            --ipv6) ipv6=1; shift ;;
            *) die "unknown option '$1'" ;;
        esac
    done
    [[ $endpoints =~ ^[1-9]$ ]] || die "--endpoints must be 1..9"
    cmd_down "$name" 2>/dev/null
    local host=tel-$name-host
    mkdir -p "$STATE_ROOT/$name"
    echo "$endpoints" >"$STATE_ROOT/$name/endpoints"
    ip netns add "$host"
    in_ns "$host" ip link set lo up
    ip -n "$host" link add br-lab type bridge
    ip -n "$host" addr add "$BRIDGE_IP/16" dev br-lab
    ip -n "$host" link set br-lab up
    local i
    for (( i = 1; i <= endpoints; i++ )); do
        local c=tel-$name-c$i
        ip netns add "$c"
        in_ns "$c" ip link set lo up
        ip -n "$host" link add "veth-c$i" type veth peer name eth0 netns "$c"
        ip -n "$host" link set "veth-c$i" master br-lab
        ip -n "$host" link set "veth-c$i" up
        in_ns "$c" ip addr add "172.17.0.$(( i + 1 ))/16" dev eth0
        in_ns "$c" ip link set eth0 up
        in_ns "$c" ip route add default via "$BRIDGE_IP"
    done
    in_ns "$host" sysctl -qw net.ipv4.ip_forward=1
    in_ns "$host" iptables-nft -t nat -A POSTROUTING -s "$SUBNET" -o uplink0 -j MASQUERADE
    make_world "$name" "$host"
    (( ipv6 )) && make_ipv6 "$name" "$endpoints"
    # The bridge may take a moment to put its ports into forwarding.
    local t=50
    until [[ $(ip -n "$host" -o link show veth-c1) == *"state UP"* ]] || (( t-- == 0 )); do sleep 0.1; done
    cmd_info "$name"
}

cmd_uplink() {
    local name=$1 host=${2:-}
    [[ -n $host && -e /run/netns/$host ]] || die "no network namespace '$host' in /run/netns"
    cmd_down "$name" 2>/dev/null
    mkdir -p "$STATE_ROOT/$name"
    echo "$host" >"$STATE_ROOT/$name/host_netns"
    make_world "$name" "$host"
    cmd_info "$name"
}

host_netns() { cat "$STATE_ROOT/$1/host_netns" 2>/dev/null || echo "tel-$1-host"; }

inode() { stat -L -c %i "/run/netns/$1"; }

cmd_info() {
    local name=$1 host endpoints i
    host=$(host_netns "$name")
    [[ -e /run/netns/$host ]] || die "no lab named '$name' (try: egress.sh up $name)"
    echo "host_netns=$host"
    echo "host_netns_path=/run/netns/$host"
    echo "host_netns_inode=$(inode "$host")"
    echo "world_netns=tel-$name-world"
    echo "world_netns_inode=$(inode "tel-$name-world")"
    echo "uplink=uplink0"
    echo "uplink_ip=$UPLINK_IP"
    echo "gateway=$GATEWAY_IP"
    echo "world_ip=$WORLD_IP"
    echo "world_tcp_port=$WORLD_PORT"
    [[ -f $STATE_ROOT/$name/endpoints ]] || return 0
    endpoints=$(cat "$STATE_ROOT/$name/endpoints")
    if is_ipv6 "$name"; then
        echo "ipv6=1"
        echo "subnet6=$SUBNET6"
        echo "bridge_ip6=$BRIDGE_IP6"
        echo "uplink_ip6=$UPLINK_IP6"
        echo "gateway6=$GATEWAY_IP6"
        echo "world_ip6=$WORLD_IP6"
        for (( i = 1; i <= endpoints; i++ )); do echo "c${i}_ip6=fd00:17::$(( i + 1 ))"; done
    fi
    echo "bridge=br-lab"
    echo "bridge_ip=$BRIDGE_IP"
    echo "subnet=$SUBNET"
    echo "endpoints=$endpoints"
    for (( i = 1; i <= endpoints; i++ )); do
        echo "c${i}_netns=tel-$name-c$i"
        echo "c${i}_netns_path=/run/netns/tel-$name-c$i"
        echo "c${i}_netns_inode=$(inode "tel-$name-c$i")"
        echo "c${i}_ip=172.17.0.$(( i + 1 ))"
        echo "c${i}_host_veth=veth-c$i"
    done
}

cmd_break() {
    local name=$1 mode=${2:-} host
    host=$(host_netns "$name")
    [[ -e /run/netns/$host ]] || die "no lab named '$name'"
    case $mode in
        ip-forward-disabled) in_ns "$host" sysctl -qw net.ipv4.ip_forward=0 ;;
        device-forwarding-disabled) in_ns "$host" sysctl -qw net.ipv4.conf.uplink0.forwarding=0 ;;
        forward-policy-drop) in_ns "$host" iptables-nft -P FORWARD DROP ;;
        forward-rule-drop)
            in_ns "$host" nft -f - <<'EOF'
table inet labfilter {
    chain forward {
        type filter hook forward priority filter; policy accept;
        ip saddr 172.17.0.0/16 ip daddr 203.0.113.0/24 counter drop comment "lab: block container egress"
    }
}
EOF
            ;;
        legacy-iptables-drop) in_ns "$host" iptables-legacy -P FORWARD DROP ;;
        masquerade-missing) in_ns "$host" iptables-nft -t nat -D POSTROUTING -s "$SUBNET" -o uplink0 -j MASQUERADE ;;
        veth-down) ip -n "$host" link set veth-c1 down ;;
        bridge-no-address) ip -n "$host" addr flush dev br-lab ;;
        bridge-down) ip -n "$host" link set br-lab down ;;
        uplink-down) ip -n "$host" link set uplink0 down ;;
        no-default-route) ip -n "$host" route del default ;;
        uplink-no-carrier) ip -n "tel-$name-world" link set wan0 down ;;
        bridge-port-disabled) bridge -n "$host" link set dev veth-c1 state 0 ;;
        policy-blackhole) ip -n "$host" rule add from "$SUBNET" blackhole priority 50 ;;
        gateway-unanswered) ip -n "$host" route replace default via 198.51.100.99 dev uplink0 ;;
        conntrack-full) fill_conntrack "$host" ;;
        veth-nomaster) ip -n "$host" link set veth-c1 nomaster ;;
        no-route-back) ip -n "$host" route add 172.17.0.2/32 via "$GATEWAY_IP" dev uplink0 ;;
        rp-filter-bridge) ip -n "$host" route add 172.17.0.2/32 via "$GATEWAY_IP" dev uplink0; in_ns "$host" sysctl -qw net.ipv4.conf.br-lab.rp_filter=1 ;;
        prerouting-drop)
            in_ns "$host" nft -f - <<'EOF'
table inet labpre {
    chain prerouting {
        type filter hook prerouting priority raw; policy accept;
        ip saddr 172.17.0.0/16 ip daddr 203.0.113.0/24 drop comment "lab: raw prerouting drop"
    }
}
EOF
            ;;
        mtu-mismatch)
            ip -n "$host" link set uplink0 mtu 1280
            ip -n "tel-$name-world" link set wan0 mtu 1280 ;;
        ipv6-*) is_ipv6 "$name" || die "mode '$mode' needs a lab up with --ipv6"; break_ipv6 "$name" "$host" "$mode" ;;
        *) die "unknown mode '$mode'; modes: $(echo $MODES)" ;;
    esac
}

break_ipv6() {
    local name=$1 host=$2 mode=$3 c1=tel-$1-c1 t=50
    case $mode in
        ipv6-forwarding-disabled) in_ns "$host" sysctl -qw net.ipv6.conf.all.forwarding=0 ;;
        ipv6-disabled-on-veth) in_ns "$c1" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1 ;;
        ipv6-no-default-route) ip -n "$c1" -6 route del default ;;
        ipv6-host-no-default-route) ip -n "$host" -6 route del default ;;
        ipv6-dad-failed)
            ip -n "$host" addr add fd00:17::2/64 dev br-lab nodad
            ip -n "$c1" addr del fd00:17::2/64 dev eth0
            ip -n "$c1" addr add fd00:17::2/64 dev eth0
            until [[ -n $(ip -n "$c1" -6 addr show dadfailed) ]] || (( t-- == 0 )); do sleep 0.1; done
            [[ -n $(ip -n "$c1" -6 addr show dadfailed) ]] || die "DAD did not fail in $c1" ;;
        ipv6-mtu-too-small) ip -n "$host" link set veth-c1 mtu 1200 ;;
        *) die "unknown mode '$mode'" ;;
    esac
}

fill_conntrack() { # fill_conntrack HOSTNS: established, assured entries (never evicted early) up to the limit
    local host=$1 max count file
    max=$(in_ns "$host" cat /proc/sys/net/netfilter/nf_conntrack_max)
    (( max <= 1048576 )) || die "nf_conntrack_max is $max: too many entries to fill the table"
    file=$(mktemp /tmp/tracer-egress-lab-ct.XXXXXX)
    count=$(in_ns "$host" cat /proc/sys/net/netfilter/nf_conntrack_count)
    # 10.0.0.0/8 sources, one entry each, none of the lab's own addresses.
    awk -v n=$(( max - count )) 'BEGIN { for (i = 0; i < n; i++)
        printf "-I -p tcp -s 10.%d.%d.%d -d 192.0.2.1 --sport 40000 --dport 80 -t 3600 --state ESTABLISHED -u ASSURED,SEEN_REPLY\n",
            int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' >"$file"
    in_ns "$host" conntrack -R "$file" >/dev/null 2>&1 || true
    rm -f "$file"
    count=$(in_ns "$host" cat /proc/sys/net/netfilter/nf_conntrack_count)
    (( count >= max )) || die "conntrack table of $host holds $count of $max entries"
}

cmd_probe() {
    local name=$1 endpoint=c1 tcp=0 size=56 target=$WORLD_IP family=-4
    shift
    while (( $# )); do
        case $1 in
            --tcp) tcp=1; shift ;;
            --ipv6) target=$WORLD_IP6; family=-6; shift ;;
            --size) size=${2:-}; shift 2 ;;
            c[0-9]) endpoint=$1; shift ;;
            *) die "unknown option '$1'" ;;
        esac
    done
    local ns=tel-$name-$endpoint
    [[ -e /run/netns/$ns ]] || die "no endpoint '$endpoint' in lab '$name'"
    if (( tcp )); then
        in_ns "$ns" busybox nc -w 1 "$target" "$WORLD_PORT" </dev/null >/dev/null 2>&1
    else
        in_ns "$ns" ping "$family" -n -q -c 1 -W 1 -M do -s "$size" "$target" >/dev/null 2>&1
    fi
}

cmd_down() {
    local name=$1 pid ns
    pid=$(cat "$STATE_ROOT/$name/listener.pid" 2>/dev/null || true)
    # Only the listener this lab started, and only while it still sits in the lab's world.
    if [[ $pid =~ ^[0-9]+$ && -e /proc/$pid/ns/net && -e /run/netns/tel-$name-world ]] &&
        [[ $(stat -L -c %i "/proc/$pid/ns/net") == "$(inode "tel-$name-world")" ]]; then
        kill "$pid" 2>/dev/null || true
    fi
    for ns in $(lab_namespaces "$name"); do
        # Legacy iptables state lives with the namespace and goes with it.
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "${STATE_ROOT:?}/$name"
}

cmd=${1:-}
[[ $cmd == modes ]] && { echo $MODES | tr ' ' '\n'; exit 0; }
[[ -n $cmd ]] || die "usage: egress.sh up|uplink|info|break|probe|down NAME ..."
name=${2:-}
check_name "$name"
shift 2
case $cmd in
    up) need_all; cmd_up "$name" "$@" ;;
    uplink) need_all; cmd_uplink "$name" "$@" ;;
    info) cmd_info "$name" ;;
    break) cmd_break "$name" "$@" ;;
    probe) cmd_probe "$name" "$@" ;;
    down) cmd_down "$name" ;;
    *) die "unknown command '$cmd'" ;;
esac
