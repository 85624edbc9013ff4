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
#   egress.sh uplink NAME HOSTNS [--ipv6]
#                                       only a world behind an existing namespace HOSTNS (a runtime lab
#                                       from containers.sh): uplink0 in HOSTNS, its default route; with
#                                       --ipv6 also the world's IPv6 half as `up --ipv6` makes it
#                                       (2001:db8::/64 between uplink0 and wan0, 2001:db8:ffff::10 on
#                                       the world's lo, HOSTNS's IPv6 default route via wan0), IPv6
#                                       forwarding in HOSTNS, and NAT66 of the ULAs (fd00::/8) out of
#                                       uplink0 only when the runtime masquerades no IPv6 itself
#                                       (podman's netavark and dockerd with ip6tables do; `info`
#                                       says whose: nat66=runtime|lab); what it changed in HOSTNS,
#                                       `down` puts back
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
#                                       is a bridge port), ipv6-disabled-on-bridge (disable_ipv6=1 on
#                                       br-lab, the gateway's device: c1's neighbour solicitations die
#                                       there), ipv6-no-default-route (in c1),
#                                       ipv6-host-no-default-route (in the host side),
#                                       ipv6-dad-failed (c1's address also on br-lab, nodad, then
#                                       c1's re-added: its DAD fails), ipv6-mtu-too-small (veth-c1
#                                       at MTU 1200), ipv6-forward-policy-drop (ip6tables-nft -P
#                                       FORWARD DROP), ipv6-forward-rule-drop (an nft inet rule
#                                       dropping fd00:17::/64 out of uplink0), ipv6-legacy-drop
#                                       (ip6tables-legacy -P FORWARD DROP), ipv6-masquerade-missing
#                                       (the NAT66 MASQUERADE deleted), icmpv6-dropped (ip6tables-nft
#                                       INPUT dropping neighbour solicitations, the caches
#                                       flushed: c1 cannot resolve its gateway),
#                                       ipv6-gateway-unanswered (the IPv6 default route via
#                                       2001:db8::99, which nobody holds), ipv6-ndp-proxy-missing
#                                       (c1 also gets 2001:db8::100:2/120, br-lab 2001:db8::100:1/120,
#                                       inside uplink0's on-link 2001:db8::/64: the world asks for
#                                       it by neighbour solicitation and nobody answers; c1 sends
#                                       from it, RFC 6724 prefers it to the ULA for the world),
#                                       ipv6-dnat-forward-drop (published lab: ip6tables-nft FORWARD
#                                       dropping new connections from uplink0 to br-lab),
#                                       ipv6-policy-blackhole (an `ip -6 rule` blackholing fd00:17::/64)
#   egress.sh probe NAME [ENDPOINT] [--tcp] [--size BYTES] [--ipv6]
#                                       one ping (or TCP connect) from an endpoint (default c1) to
#                                       the world, over IPv6 with --ipv6; exit 0 if answered, 1 if not
#   egress.sh publish NAME [--backend nft|iptables-nft|iptables-legacy]
#                                       publish c1's ports on uplink0's 198.51.100.2: tcp 1222 -> c1:22,
#                                       tcp 5201 -> c1:5201 (iperf3, started by whoever needs it), udp
#                                       1253 -> c1:53; a TCP listener on c1:22 that accepts any number
#                                       of connections and a UDP echo on c1:53. Backend iptables-nft
#                                       (default) and iptables-legacy as docker does it: nat DOCKER
#                                       from PREROUTING (dst-type LOCAL), FORWARD -> DOCKER-USER (empty),
#                                       the replies accepted, DOCKER accepting each port; nft as the
#                                       field example: `table inet nat` chain prerouting with a dnat
#                                       rule per port, forward accepts in `table inet lab_publish`.
#                                       Every backend: a MASQUERADE of DNAT'd flows from the subnet
#                                       out of br-lab and the bridge ports in hairpin mode (docker
#                                       without its userland proxy). On a lab up with --ipv6 the TCP
#                                       ports also on [2001:db8::2] DNAT'd to [fd00:17::2] (ip6tables'
#                                       nat DOCKER, or an `ip6` dnat rule in nft). Idempotent; `info`
#                                       then also prints the publish_* facts.
#   egress.sh probe NAME --inbound [ENDPOINT] [--port P] [--udp] [--remote] [--ipv6]
#                                       one TCP connect from the world (198.51.100.1) to
#                                       198.51.100.2:P (default 1222); --udp: one datagram from
#                                       198.51.100.1:40053 (a client that keeps its port) to
#                                       198.51.100.2:1253, answered by the echo; --remote: from the
#                                       world's 203.0.113.10 (a client behind the gateway, not on
#                                       uplink0's subnet); ENDPOINT: from that endpoint instead (c1:
#                                       its own published port, the hairpin); --ipv6: TCP to
#                                       [2001:db8::2]:P (from 2001:db8:ffff::10 with --remote).
#                                       Exit 0 if connected (echoed), 1 if not.
#   egress.sh modes [--inbound]         the break modes of egress.md (--inbound: ingress.md's)
#   egress.sh down NAME                 remove everything up/uplink/publish and the modes made
#                                       (rules, ipsets and conntrack entries die with the namespaces;
#                                       the listeners are stopped by their pids) (idempotent)
#
# Inbound break modes (`egress.sh publish NAME` first), each one of ingress.md's failures:
#   dnat-allowlist-miss     the field example in nft: table inet filter, set allow_in
#                           (ipv4_addr . inet_service) holding 172.17.0.3 . 22 only, chain forward
#                           `ct state established,related accept` then `ct status dnat jump
#                           allowed_dnats`, chain allowed_dnats `meta nfproto ipv4 ip daddr . tcp dport
#                           @allow_in accept` then `drop`. The SYN to c1:22 dies in FORWARD;
#                           `nft add element inet filter allow_in { 172.17.0.2 . 22 }` fixes it.
#   dnat-allowlist-miss-iptables-nft, dnat-allowlist-miss-legacy
#                           the same shape in iptables-nft / iptables-legacy with an ipset allow_in
#                           (hash:ip,port, 172.17.0.3,tcp:22): FORWARD `-m conntrack --ctstate
#                           RELATED,ESTABLISHED -j ACCEPT`, `-m conntrack --ctstate DNAT -j
#                           allowed_dnats`; allowed_dnats `-m set --match-set allow_in dst,dst -j
#                           ACCEPT`, `-j DROP`. Fix: `ipset add allow_in 172.17.0.2,tcp:22`.
#   dnat-forward-drop       DOCKER-USER (nft: table inet lab_user) drops new connections from
#                           uplink0 to br-lab: the DNAT'd SYN dies in FORWARD, the entry stays UNREPLIED.
#   dnat-replies-dropped    DOCKER-USER accepts (RETURN) tcp to c1:22 and drops everything else, with
#                           no ESTABLISHED accept: the SYN passes, c1's SYN-ACK dies in FORWARD.
#   dnat-missing            a firewall reload that lost the DNAT rules (nat DOCKER flushed; nft: the
#                           prerouting chain): the SYN is the host's own, which answers a reset.
#   rp-filter-strict        a second link uplink1 192.0.2.2/24 <-> the world's wan1 192.0.2.1/24, the
#                           world's 203.0.113.0/24 routed over it, rp_filter=1 (all, uplink0): a client
#                           there (`probe --inbound --remote`) comes in on uplink0 and is dropped by the
#                           reverse path check.
#   hairpin                 the MASQUERADE of hairpinned flows removed: c1 reaching its own published
#                           port (`probe NAME c1 --inbound`) gets its SYN from its own address and
#                           drops it as a martian. (c2 -> c1 still works while br_netfilter
#                           un-DNATs the bridged reply: net.bridge.bridge-nf-call-iptables=1.)
#   stale-conntrack         the UDP DNAT rule removed, a datagram from 198.51.100.1:40053 (an entry
#                           without NAT, answered by the host's port unreachable), the rule back:
#                           `probe --inbound --udp` keeps following the entry (until `conntrack -D`).
#   nothing-listening       c1's listener on 22 stopped: c1 answers the SYN with a reset.
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
# The published ports of `publish` (all to c1) and the fixed source port of the inbound UDP probe.
C1_IP=172.17.0.2
C1_IP6=fd00:17::2
PUBLISH_PORT=1222
PUBLISH_TARGET_PORT=22
IPERF_PORT=5201
PUBLISH_UDP_PORT=1253
PUBLISH_UDP_TARGET_PORT=53
UDP_CLIENT_PORT=40053

INBOUND_MODES="dnat-allowlist-miss dnat-allowlist-miss-iptables-nft dnat-allowlist-miss-legacy
dnat-forward-drop dnat-replies-dropped dnat-missing rp-filter-strict hairpin stale-conntrack
nothing-listening"
MODES="ip-forward-disabled device-forwarding-disabled forward-policy-drop forward-rule-drop
legacy-iptables-drop masquerade-missing veth-down bridge-no-address bridge-down uplink-down
no-default-route uplink-no-carrier mtu-mismatch"

LAB=egress.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"

need_all() {
    local ok=0
    need_namespace_tools || ok=1
    need busybox busybox-static "nc in the world and the endpoints" || ok=1
    need ping iputils-ping || ok=1
    need nft nftables || ok=1
    need iptables-nft iptables || ok=1
    need iptables-legacy iptables || ok=1
    need ip6tables-nft iptables || ok=1
    need ipset ipset "the iptables allow-list modes" || ok=1
    need conntrack conntrack "the stale-conntrack and conntrack-full modes" || ok=1
    need python3 python3 "the inbound probes and c1's UDP responder" || ok=1
    ((ok == 0)) || die "missing programs for the egress lab (see above)"
}

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
    local name=$1 endpoints=$2 host=tel-$1-host i
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
    make_world_ipv6 "$name" "$host"
    wait_dad "$name"
}

make_world_ipv6() { # make_world_ipv6 NAME HOSTNS: the world's IPv6 half, behind HOSTNS's uplink0
    local name=$1 host=$2 world=tel-$1-world
    touch "$STATE_ROOT/$name/ipv6"
    ip -n "$host" addr add "$UPLINK_IP6/64" dev uplink0
    ip -n "$world" addr add "$GATEWAY_IP6/64" dev wan0
    ip -n "$world" addr add "$WORLD_IP6/128" dev lo
    # A router: its neighbour advertisements carry the R flag, as an upstream router's do.
    in_ns "$world" sysctl -qw net.ipv6.conf.all.forwarding=1
    ip -n "$host" -6 route replace default via "$GATEWAY_IP6" dev uplink0
}

wait_dad() { # wait_dad NAME [NETNS...]: until no address of the lab (and of NETNS) is tentative
    # (DAD takes about a second)
    local name=$1 ns t=50
    shift
    for ns in $(lab_namespaces "$name") "$@"; do
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
    local name=$1 host=${2:-} ipv6=0
    shift 2 || true
    while (( $# )); do
        case $1 in
            --ipv6) ipv6=1; shift ;;
            *) die "unknown option '$1'" ;;
        esac
    done
    [[ -n $host && -e /run/netns/$host ]] || die "no network namespace '$host' in /run/netns"
    cmd_down "$name" 2>/dev/null
    mkdir -p "$STATE_ROOT/$name"
    echo "$host" >"$STATE_ROOT/$name/host_netns"
    make_world "$name" "$host"
    if (( ipv6 )); then
        make_world_ipv6 "$name" "$host"
        uplink_nat66 "$name" "$host"
        wait_dad "$name" "$host"
    fi
    cmd_info "$name"
}

# The runtime's IPv6 forwarding and NAT66 for the world behind uplink0, each added only when the
# runtime did not: what was added is recorded, for `down` to take back.
uplink_nat66() { # uplink_nat66 NAME HOSTNS
    local name=$1 host=$2 state=$STATE_ROOT/$1
    if [[ $(in_ns "$host" sysctl -n net.ipv6.conf.all.forwarding) != 1 ]]; then
        in_ns "$host" sysctl -qw net.ipv6.conf.all.forwarding=1
        touch "$state/forwarding6_set"
    fi
    # Both runtimes write ip6tables-nft here; reading with ip6tables-legacy-save would make the
    # legacy tables in HOSTNS, which every nft tool then warns of.
    local nat
    nat=$(in_ns "$host" ip6tables-nft-save -t nat 2>/dev/null || true)
    if [[ $nat != *"-j MASQUERADE"* ]]; then
        in_ns "$host" ip6tables-nft -t nat -A POSTROUTING -s fd00::/8 -o uplink0 -j MASQUERADE
        touch "$state/nat66_added"
    fi
}

uplink_nat66_undo() { # uplink_nat66_undo NAME: what uplink_nat66 added, while HOSTNS is there
    local name=$1 state=$STATE_ROOT/$1 host
    [[ -f $state/host_netns ]] || return 0
    host=$(cat "$state/host_netns")
    [[ -e /run/netns/$host ]] || return 0
    [[ ! -f $state/nat66_added ]] || in_ns "$host" ip6tables-nft -t nat -D POSTROUTING -s fd00::/8 -o uplink0 -j MASQUERADE 2>/dev/null || true
    [[ ! -f $state/forwarding6_set ]] || in_ns "$host" sysctl -qw net.ipv6.conf.all.forwarding=0 || true
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
    if is_ipv6 "$name"; then
        echo "ipv6=1"
        echo "uplink_ip6=$UPLINK_IP6"
        echo "gateway6=$GATEWAY_IP6"
        echo "world_ip6=$WORLD_IP6"
        # uplink: whose NAT66 the container's ULA leaves by, the runtime's or the lab's own
        if [[ -f $STATE_ROOT/$name/host_netns ]]; then
            [[ -f $STATE_ROOT/$name/nat66_added ]] && echo "nat66=lab" || echo "nat66=runtime"
        fi
    fi
    [[ -f $STATE_ROOT/$name/endpoints ]] || return 0
    endpoints=$(cat "$STATE_ROOT/$name/endpoints")
    if is_ipv6 "$name"; then
        echo "subnet6=$SUBNET6"
        echo "bridge_ip6=$BRIDGE_IP6"
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
    if published "$name"; then publish_info "$name"; fi
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
        ipv6-*|icmpv6-*) is_ipv6 "$name" || die "mode '$mode' needs a lab up with --ipv6"; break_ipv6 "$name" "$host" "$mode" ;;
        dnat-*|rp-filter-strict|hairpin|stale-conntrack|nothing-listening)
            published "$name" || die "mode '$mode' needs a published lab (try: egress.sh publish $name)"
            break_inbound "$name" "$host" "$mode" ;;
        *) die "unknown mode '$mode'; modes: $(echo $MODES $INBOUND_MODES)" ;;
    esac
}

# An allow-list of DNAT'd flows as ingress.md's field example has it (replies accepted first, else
# adding the missing element would not fix the flow): the set holds another container's port, not c1's.
ipset_allowlist() { # ipset_allowlist HOST IPTABLES
    local host=$1 b=$2
    in_ns "$host" ipset create allow_in hash:ip,port -exist
    in_ns "$host" ipset add allow_in 172.17.0.3,tcp:22 -exist
    in_ns "$host" "$b" -N allowed_dnats
    in_ns "$host" "$b" -A allowed_dnats -m set --match-set allow_in dst,dst -j ACCEPT
    in_ns "$host" "$b" -A allowed_dnats -j DROP
    in_ns "$host" "$b" -I FORWARD 1 -m conntrack --ctstate DNAT -j allowed_dnats
    in_ns "$host" "$b" -I FORWARD 1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
}

user_chain() { # user_chain NAME HOST RULE...: rules of the operator's own, first in FORWARD, in the
    # publishing backend (DOCKER-USER for iptables; for nft a table of its own, whose drop holds
    # whatever another table's chain accepted)
    local name=$1 host=$2 backend rule
    shift 2
    backend=$(publish_backend "$name")
    if [[ $backend == nft ]]; then
        { echo "table inet lab_user {"
          echo "chain forward { type filter hook forward priority filter - 1; policy accept;"
          for rule; do echo "$rule"; done
          echo "}"
          echo "}"; } | in_ns "$host" nft -f -
    else
        for rule; do
            # shellcheck disable=SC2086 # the rule's words
            in_ns "$host" "$backend" -A DOCKER-USER $rule
        done
    fi
}

break_inbound() {
    local name=$1 host=$2 mode=$3 backend
    backend=$(publish_backend "$name")
    case $mode in
        dnat-allowlist-miss)
            in_ns "$host" nft -f - <<'EOF'
table inet filter {
    set allow_in {
        type ipv4_addr . inet_service
        elements = { 172.17.0.3 . 22 }
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state established,related accept
        ct status dnat jump allowed_dnats
    }
    chain allowed_dnats {
        meta nfproto ipv4 ip daddr . tcp dport @allow_in accept
        drop
    }
}
EOF
            ;;
        dnat-allowlist-miss-iptables-nft) ipset_allowlist "$host" iptables-nft ;;
        dnat-allowlist-miss-legacy) ipset_allowlist "$host" iptables-legacy ;;
        dnat-forward-drop) # "no new connections from outside into containers"
            if [[ $backend == nft ]]; then
                user_chain "$name" "$host" 'iifname "uplink0" oifname "br-lab" ct state new drop'
            else
                user_chain "$name" "$host" "-i uplink0 -o br-lab -m conntrack --ctstate NEW -j DROP"
            fi ;;
        dnat-replies-dropped) # only ssh into c1 allowed, everything else dropped: its replies too
            if [[ $backend == nft ]]; then
                user_chain "$name" "$host" "ip daddr $C1_IP tcp dport $PUBLISH_TARGET_PORT accept" "drop"
            else
                user_chain "$name" "$host" "-d $C1_IP/32 -p tcp -m tcp --dport $PUBLISH_TARGET_PORT -j RETURN" "-j DROP"
            fi ;;
        dnat-missing) # a firewall reload that lost the DNAT rules
            if [[ $backend == nft ]]; then
                in_ns "$host" nft flush chain inet nat prerouting
            else
                in_ns "$host" "$backend" -t nat -F DOCKER
            fi ;;
        rp-filter-strict) # a second link to the world, and the world's 203.0.113.0/24 routed over it:
            # replies to a client there leave by uplink1 while its packets come in on uplink0
            ip -n "$host" link add uplink1 type veth peer name wan1 netns "tel-$name-world"
            ip -n "$host" addr add 192.0.2.2/24 dev uplink1
            ip -n "$host" link set uplink1 up
            ip -n "tel-$name-world" addr add 192.0.2.1/24 dev wan1
            ip -n "tel-$name-world" link set wan1 up
            ip -n "$host" route add 203.0.113.0/24 via 192.0.2.1 dev uplink1
            # A router asks for neighbours from its own interface's address: ARP from 203.0.113.10
            # would fail the same check and hide the drop behind a neighbour failure in the world.
            in_ns "tel-$name-world" sysctl -qw net.ipv4.conf.wan0.arp_announce=2
            in_ns "$host" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.uplink0.rp_filter=1 ;;
        hairpin) publish_rule "$name" del hairpin ;;
        stale-conntrack) # the UDP port's entry made while its DNAT rule was missing (as in a restart
            # of the firewall), by a client that keeps its source port, then the rule back
            publish_rule "$name" del udp
            in_ns "$host" conntrack -D -p udp --orig-port-dst "$PUBLISH_UDP_PORT" >/dev/null 2>&1 || true
            probe_inbound "$name" world "" 1 0 || true
            publish_rule "$name" add udp ;;
        nothing-listening)
            stop_started "$STATE_ROOT/$name/c1-tcp.pid" "tel-$name-c1"
            local t=50
            while in_ns "tel-$name-c1" ss -Hltn "sport = :$PUBLISH_TARGET_PORT" | grep -q . && (( t-- > 0 )); do sleep 0.1; done ;;
        *) die "unknown mode '$mode'; modes: $(echo $MODES $INBOUND_MODES)" ;;
    esac
}

break_ipv6() {
    local name=$1 host=$2 mode=$3 c1=tel-$1-c1 t=50
    case $mode in
        ipv6-forwarding-disabled) in_ns "$host" sysctl -qw net.ipv6.conf.all.forwarding=0 ;;
        ipv6-disabled-on-veth) in_ns "$c1" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1 ;;
        ipv6-disabled-on-bridge) in_ns "$host" sysctl -qw net.ipv6.conf.br-lab.disable_ipv6=1 ;;
        ipv6-no-default-route) ip -n "$c1" -6 route del default ;;
        ipv6-host-no-default-route) ip -n "$host" -6 route del default ;;
        ipv6-dad-failed)
            ip -n "$host" addr add fd00:17::2/64 dev br-lab nodad
            ip -n "$c1" addr del fd00:17::2/64 dev eth0
            ip -n "$c1" addr add fd00:17::2/64 dev eth0
            until [[ -n $(ip -n "$c1" -6 addr show dadfailed) ]] || (( t-- == 0 )); do sleep 0.1; done
            [[ -n $(ip -n "$c1" -6 addr show dadfailed) ]] || die "DAD did not fail in $c1" ;;
        ipv6-mtu-too-small) ip -n "$host" link set veth-c1 mtu 1200 ;;
        ipv6-forward-policy-drop) in_ns "$host" ip6tables-nft -P FORWARD DROP ;;
        ipv6-forward-rule-drop)
            in_ns "$host" nft -f - <<'EOF_IPV6'
table inet labfilter6 {
    chain forward {
        type filter hook forward priority filter; policy accept;
        ip6 saddr fd00:17::/64 oifname "uplink0" counter drop comment "lab: block container IPv6 egress"
    }
}
EOF_IPV6
            ;;
        ipv6-legacy-drop) in_ns "$host" ip6tables-legacy -P FORWARD DROP ;;
        ipv6-masquerade-missing) in_ns "$host" ip6tables-nft -t nat -D POSTROUTING -s "$SUBNET6" -o uplink0 -j MASQUERADE ;;
        icmpv6-dropped)
            in_ns "$host" ip6tables-nft -A INPUT -p ipv6-icmp --icmpv6-type neighbour-solicitation -j DROP
            ip -n "$c1" -6 neigh flush dev eth0
            ip -n "$host" -6 neigh flush dev br-lab ;;
        ipv6-gateway-unanswered) ip -n "$host" -6 route replace default via 2001:db8::99 dev uplink0 ;;
        ipv6-policy-blackhole) ip -n "$host" -6 rule add from "$SUBNET6" blackhole priority 100 ;;
        ipv6-dnat-forward-drop) # the IPv6 twin of dnat-forward-drop, on a published lab
            published "$name" || die "mode '$mode' needs a published lab (egress.sh publish $name)"
            in_ns "$host" ip6tables-nft -I FORWARD -i uplink0 -o br-lab -m conntrack --ctstate NEW -j DROP ;;
        ipv6-ndp-proxy-missing)
            ip -n "$host" addr add 2001:db8::100:1/120 dev br-lab
            ip -n "$c1" addr add 2001:db8::100:2/120 dev eth0
            wait_dad "$name" ;;
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
    local name=$1 endpoint="" tcp=0 size=56 target=$WORLD_IP family=-4 inbound=0 port="" udp=0 remote=0
    shift
    while (( $# )); do
        case $1 in
            --tcp) tcp=1; shift ;;
            --ipv6) target=$WORLD_IP6; family=-6; shift ;;
            --size) size=${2:-}; shift 2 ;;
            --inbound) inbound=1; shift ;;
            --port) port=${2:-}; shift 2 ;;
            --udp) udp=1; shift ;;
            --remote) remote=1; shift ;;
            c[0-9]) endpoint=$1; shift ;;
            *) die "unknown option '$1'" ;;
        esac
    done
    if (( inbound )); then
        [[ -z $port || $port =~ ^[0-9]{1,5}$ ]] || die "--port must be a port number, got '$port'"
        [[ -z $endpoint ]] || (( ! remote && ! udp )) || die "--remote and --udp probe from the world, not from '$endpoint'"
        probe_inbound "$name" "${endpoint:-world}" "$port" "$udp" "$remote" "$(( family == -6 ))"
        return
    fi
    (( ! udp && ! remote )) && [[ -z $port ]] || die "--port, --udp and --remote go with --inbound"
    endpoint=${endpoint:-c1}
    local ns=tel-$name-$endpoint
    [[ -e /run/netns/$ns ]] || die "no endpoint '$endpoint' in lab '$name'"
    if (( tcp )); then
        in_ns "$ns" busybox nc -w 1 "$target" "$WORLD_PORT" </dev/null >/dev/null 2>&1
    else
        in_ns "$ns" ping "$family" -n -q -c 1 -W 1 -M do -s "$size" "$target" >/dev/null 2>&1
    fi
}

# --- The inbound half: published ports of c1 (`publish`) and the inbound probes ---

published() { [[ -f $STATE_ROOT/$1/publish ]]; }
publish_backend() { cat "$STATE_ROOT/$1/publish"; }

in_ns_of_pid() { # in_ns_of_pid PID NETNS: the process still sits in that lab namespace
    [[ $1 =~ ^[0-9]+$ && -e /proc/$1/ns/net && -e /run/netns/$2 ]] &&
        [[ $(stat -L -c %i "/proc/$1/ns/net") == "$(inode "$2")" ]]
}

stop_started() { # stop_started PIDFILE NETNS: only a process this lab started, and only while it is in NETNS
    local pid
    pid=$(cat "$1" 2>/dev/null || true)
    if in_ns_of_pid "$pid" "$2"; then kill "$pid" 2>/dev/null || true; fi
    rm -f "$1"
}

start_in_c1() { # start_in_c1 NAME PIDNAME COMMAND...: once (kept when still running)
    local name=$1 pidfile=$STATE_ROOT/$1/$2.pid c1=tel-$1-c1
    shift 2
    in_ns_of_pid "$(cat "$pidfile" 2>/dev/null || true)" "$c1" && return 0
    setsid nsenter --net="/run/netns/$c1" "$@" </dev/null >/dev/null 2>&1 &
    echo $! >"$pidfile"
}

# c1's UDP responder: every datagram echoed to its sender.
UDP_ECHO='import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 53))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)'

# The inbound probes: exit 0 when connected (TCP) or echoed (UDP), 1 otherwise.
TCP_CONNECT='import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_STREAM)
if sys.argv[3]: s.bind((sys.argv[3], 0))
s.settimeout(2)
s.connect((sys.argv[1], int(sys.argv[2])))'
UDP_ASK='import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[3], int(sys.argv[4])))
s.settimeout(2)
s.sendto(b"lab-probe", (sys.argv[1], int(sys.argv[2])))
sys.exit(0 if s.recv(64) == b"lab-probe" else 1)'

# One rule of `publish` in each backend: KIND tcp (1222 -> c1:22), iperf (5201 -> c1:5201),
# udp (1253 -> c1:53), hairpin (the MASQUERADE of DNAT'd flows from the bridge's own subnet).
ipt_rule() {
    case $1 in
        tcp) echo "-t nat DOCKER -d $UPLINK_IP/32 -p tcp -m tcp --dport $PUBLISH_PORT -j DNAT --to-destination $C1_IP:$PUBLISH_TARGET_PORT" ;;
        iperf) echo "-t nat DOCKER -d $UPLINK_IP/32 -p tcp -m tcp --dport $IPERF_PORT -j DNAT --to-destination $C1_IP:$IPERF_PORT" ;;
        udp) echo "-t nat DOCKER -d $UPLINK_IP/32 -p udp -m udp --dport $PUBLISH_UDP_PORT -j DNAT --to-destination $C1_IP:$PUBLISH_UDP_TARGET_PORT" ;;
        hairpin) echo "-t nat POSTROUTING -s $SUBNET -o br-lab -m conntrack --ctstate DNAT -j MASQUERADE" ;;
    esac
}
nft_rule() { # CHAIN RULE, as `nft list` prints the rule back
    case $1 in
        tcp) echo "prerouting ip daddr $UPLINK_IP tcp dport $PUBLISH_PORT dnat ip to $C1_IP:$PUBLISH_TARGET_PORT" ;;
        iperf) echo "prerouting ip daddr $UPLINK_IP tcp dport $IPERF_PORT dnat ip to $C1_IP:$IPERF_PORT" ;;
        udp) echo "prerouting ip daddr $UPLINK_IP udp dport $PUBLISH_UDP_PORT dnat ip to $C1_IP:$PUBLISH_UDP_TARGET_PORT" ;;
        hairpin) echo "postrouting ip saddr $SUBNET oifname \"br-lab\" ct status dnat masquerade" ;;
    esac
}
publish_rule() { # publish_rule NAME add|del KIND
    local name=$1 op=$2 kind=$3 host=tel-$1-host backend table chain rule handle
    backend=$(publish_backend "$name")
    if [[ $backend == nft ]]; then
        read -r chain rule <<<"$(nft_rule "$kind")"
        if [[ $op == add ]]; then
            in_ns "$host" nft add rule inet nat "$chain" "$rule"
        else
            handle=$(in_ns "$host" nft -a list chain inet nat "$chain" | grep -F -- "$rule # handle" | awk '{print $NF}' | head -1)
            [[ -z $handle ]] || in_ns "$host" nft delete rule inet nat "$chain" handle "$handle"
        fi
    else
        read -r _ table chain rule <<<"$(ipt_rule "$kind")"
        # shellcheck disable=SC2086 # the rule's words
        if [[ $op == add ]]; then
            in_ns "$host" "$backend" -t "$table" -A "$chain" $rule
        else
            in_ns "$host" "$backend" -t "$table" -D "$chain" $rule 2>/dev/null || true
        fi
    fi
}

set_hairpin() { # set_hairpin NAME on|off: hairpin mode of every endpoint's bridge port
    local i
    for (( i = 1; i <= $(cat "$STATE_ROOT/$1/endpoints"); i++ )); do
        bridge -n "tel-$1-host" link set dev "veth-c$i" hairpin "$2"
    done
}

unpublish() { # what publish added in any backend (publish starts from nothing: it is idempotent)
    local host=tel-$1-host b
    set_hairpin "$1" off
    in_ns "$host" nft delete table inet nat 2>/dev/null || true
    in_ns "$host" nft delete table inet lab_publish 2>/dev/null || true
    for b in iptables-nft iptables-legacy; do
        in_ns "$host" "$b" -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j DOCKER 2>/dev/null || true
        # shellcheck disable=SC2046
        in_ns "$host" "$b" -t nat -D POSTROUTING $(ipt_rule hairpin | cut -d' ' -f4-) 2>/dev/null || true
        in_ns "$host" "$b" -D FORWARD -j DOCKER-USER 2>/dev/null || true
        in_ns "$host" "$b" -D FORWARD -o br-lab -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null || true
        in_ns "$host" "$b" -D FORWARD -o br-lab -j DOCKER 2>/dev/null || true
        in_ns "$host" "$b" -t nat -F DOCKER 2>/dev/null && in_ns "$host" "$b" -t nat -X DOCKER
        in_ns "$host" "$b" -F DOCKER 2>/dev/null && in_ns "$host" "$b" -X DOCKER
        in_ns "$host" "$b" -F DOCKER-USER 2>/dev/null && in_ns "$host" "$b" -X DOCKER-USER
        # publish_ipv6's
        in_ns "$host" "${b/iptables/ip6tables}" -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j DOCKER 2>/dev/null || true
        in_ns "$host" "${b/iptables/ip6tables}" -t nat -F DOCKER 2>/dev/null && in_ns "$host" "${b/iptables/ip6tables}" -t nat -X DOCKER
    done
    return 0
}

cmd_publish() {
    local name=$1 backend=iptables-nft host=tel-$1-host kind
    shift
    while (( $# )); do
        case $1 in
            --backend) backend=${2:-}; shift 2 ;;
            *) die "unknown option '$1'" ;;
        esac
    done
    [[ $backend =~ ^(nft|iptables-nft|iptables-legacy)$ ]] || die "--backend must be nft, iptables-nft or iptables-legacy, got '$backend'"
    [[ -f $STATE_ROOT/$name/endpoints && -e /run/netns/$host ]] || die "no lab named '$name' made by up (try: egress.sh up $name)"
    unpublish "$name"
    echo "$backend" >"$STATE_ROOT/$name/publish"
    if [[ $backend == nft ]]; then
        # The field's shape: a dnat rule per port in a nat prerouting chain.
        in_ns "$host" nft -f - <<EOF
table inet nat {
    chain prerouting { type nat hook prerouting priority dstnat; policy accept; }
    chain postrouting { type nat hook postrouting priority srcnat; policy accept; }
}
table inet lab_publish {
    chain forward {
        type filter hook forward priority filter; policy accept;
        oifname "br-lab" ct state established,related accept
        ip daddr $C1_IP oifname "br-lab" tcp dport { $PUBLISH_TARGET_PORT, $IPERF_PORT } accept
        ip daddr $C1_IP oifname "br-lab" udp dport $PUBLISH_UDP_TARGET_PORT accept
    }
}
EOF
    else
        # Docker's shape: nat DOCKER from PREROUTING for local addresses; filter DOCKER-USER first in
        # FORWARD, then the replies accepted, then DOCKER accepting each published port.
        local b=$backend
        in_ns "$host" "$b" -t nat -N DOCKER
        in_ns "$host" "$b" -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
        in_ns "$host" "$b" -N DOCKER-USER
        in_ns "$host" "$b" -N DOCKER
        in_ns "$host" "$b" -A FORWARD -j DOCKER-USER
        in_ns "$host" "$b" -A FORWARD -o br-lab -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        in_ns "$host" "$b" -A FORWARD -o br-lab -j DOCKER
        in_ns "$host" "$b" -A DOCKER -d "$C1_IP/32" ! -i br-lab -o br-lab -p tcp -m tcp --dport "$PUBLISH_TARGET_PORT" -j ACCEPT
        in_ns "$host" "$b" -A DOCKER -d "$C1_IP/32" ! -i br-lab -o br-lab -p tcp -m tcp --dport "$IPERF_PORT" -j ACCEPT
        in_ns "$host" "$b" -A DOCKER -d "$C1_IP/32" ! -i br-lab -o br-lab -p udp -m udp --dport "$PUBLISH_UDP_TARGET_PORT" -j ACCEPT
    fi
    for kind in tcp iperf udp hairpin; do publish_rule "$name" add "$kind"; done
    is_ipv6 "$name" && publish_ipv6 "$name" "$backend"
    # As docker without its userland proxy: br_netfilter bridges a DNAT'd frame back out of the
    # port it came in on, which only a port in hairpin mode allows (c1 reaching its own port).
    set_hairpin "$name" on
    # A TCP listener on 22 that accepts (and closes) any number of connections, and a UDP echo on 53.
    start_in_c1 "$name" c1-tcp busybox nc -ll -p "$PUBLISH_TARGET_PORT" -e /bin/true
    start_in_c1 "$name" c1-udp python3 -c "$UDP_ECHO"
    local t=50
    until in_ns "tel-$name-c1" ss -Hltn "sport = :$PUBLISH_TARGET_PORT" | grep -q . &&
        in_ns "tel-$name-c1" ss -Hlun "sport = :$PUBLISH_UDP_TARGET_PORT" | grep -q . || (( t-- == 0 )); do sleep 0.1; done
    cmd_info "$name"
}

publish_ipv6() { # publish_ipv6 NAME BACKEND: on a dual-stack lab, c1's TCP ports on [2001:db8::2] too (DNAT66)
    local host=tel-$1-host b port target
    if [[ $2 == nft ]]; then
        for port in "$PUBLISH_PORT:$PUBLISH_TARGET_PORT" "$IPERF_PORT:$IPERF_PORT"; do
            in_ns "$host" nft add rule inet nat prerouting ip6 daddr "$UPLINK_IP6" tcp dport "${port%%:*}" dnat ip6 to "[$C1_IP6]:${port##*:}"
        done
        in_ns "$host" nft add rule inet lab_publish forward ip6 daddr "$C1_IP6" oifname br-lab tcp dport "{ $PUBLISH_TARGET_PORT, $IPERF_PORT }" accept
        return
    fi
    # As docker's ip6tables: nat DOCKER from PREROUTING; the filter FORWARD policy is left as it is.
    b=${2/iptables/ip6tables}
    in_ns "$host" "$b" -t nat -N DOCKER
    in_ns "$host" "$b" -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
    for port in "$PUBLISH_PORT:$PUBLISH_TARGET_PORT" "$IPERF_PORT:$IPERF_PORT"; do
        in_ns "$host" "$b" -t nat -A DOCKER ! -i br-lab -p tcp -m tcp --dport "${port%%:*}" -j DNAT --to-destination "[$C1_IP6]:${port##*:}"
    done
}

publish_info() {
    echo "publish_backend=$(publish_backend "$1")"
    echo "publish_ip=$UPLINK_IP"
    echo "publish_port=$PUBLISH_PORT"
    echo "publish_endpoint=c1"
    echo "publish_target_ip=$C1_IP"
    echo "publish_target_port=$PUBLISH_TARGET_PORT"
    echo "publish_iperf_port=$IPERF_PORT"
    echo "publish_udp_port=$PUBLISH_UDP_PORT"
    echo "publish_udp_target_port=$PUBLISH_UDP_TARGET_PORT"
    echo "publish_client_ip=$GATEWAY_IP"
    echo "publish_remote_client_ip=$WORLD_IP"
    echo "publish_udp_client_port=$UDP_CLIENT_PORT"
    if is_ipv6 "$1"; then
        echo "publish_ip6=$UPLINK_IP6"
        echo "publish_target_ip6=$C1_IP6"
        echo "publish_remote_client_ip6=$WORLD_IP6"
    fi
}

probe_inbound() { # probe_inbound NAME CLIENT PORT UDP REMOTE IPV6: CLIENT is world or cN (hairpin)
    local name=$1 client=$2 port=$3 udp=$4 remote=$5 ipv6=${6:-0} source="" published=$UPLINK_IP
    local ns=tel-$name-$client
    [[ -e /run/netns/$ns ]] || die "no endpoint '$client' in lab '$name'"
    (( remote )) && source=$WORLD_IP
    if (( ipv6 )); then
        is_ipv6 "$name" || die "--ipv6 needs a lab up with --ipv6"
        (( ! udp )) || die "the IPv6 published ports are TCP only"
        published=$UPLINK_IP6
        (( remote )) && source=$WORLD_IP6
    fi
    if (( udp )); then
        in_ns "$ns" python3 -c "$UDP_ASK" "$published" "${port:-$PUBLISH_UDP_PORT}" "${source:-0.0.0.0}" "$UDP_CLIENT_PORT" >/dev/null 2>&1
    else
        in_ns "$ns" python3 -c "$TCP_CONNECT" "$published" "${port:-$PUBLISH_PORT}" "$source" >/dev/null 2>&1
    fi
}

cmd_down() {
    local name=$1 pid ns
    pid=$(cat "$STATE_ROOT/$name/listener.pid" 2>/dev/null || true)
    # Only the listener this lab started, and only while it still sits in the lab's world.
    if in_ns_of_pid "$pid" "tel-$name-world"; then kill "$pid" 2>/dev/null || true; fi
    stop_started "$STATE_ROOT/$name/c1-tcp.pid" "tel-$name-c1"
    stop_started "$STATE_ROOT/$name/c1-udp.pid" "tel-$name-c1"
    uplink_nat66_undo "$name"
    for ns in $(lab_namespaces "$name"); do
        # Legacy iptables state lives with the namespace and goes with it.
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "${STATE_ROOT:?}/$name"
}

cmd=${1:-}
if [[ $cmd == modes ]]; then
    [[ ${2:-} == --inbound ]] && MODES=$INBOUND_MODES
    echo $MODES | tr ' ' '\n'
    exit 0
fi
[[ -n $cmd ]] || die "usage: egress.sh up|uplink|publish|info|break|probe|down NAME ..."
name=${2:-}
check_name "$name"
shift 2
case $cmd in
    up) need_all; cmd_up "$name" "$@" ;;
    publish) need_all; cmd_publish "$name" "$@" ;;
    uplink) need_all; cmd_uplink "$name" "$@" ;;
    info) cmd_info "$name" ;;
    break) cmd_break "$name" "$@" ;;
    probe) cmd_probe "$name" "$@" ;;
    down) cmd_down "$name" ;;
    *) die "unknown command '$cmd'" ;;
esac
