#!/usr/bin/env bash
# tools/lab/kubeproxy.sh - kube-proxy-shaped data planes inside one network namespace, without
# Kubernetes: the rulesets kube-proxy would program for N ClusterIP Services of K endpoints each, so
# that the rules a new connection evaluates can be counted (rulecost.md). The root network namespace
# is never touched.
#
#   tkp-NAME    lo up, a dummy eth0 10.0.0.1/24 and a default route via 10.0.0.254 on it: a
#               connection to a Service address is routed (and DNAT'd to an endpoint that also
#               leaves by eth0, where the dummy device drops it). On a kernel without CONFIG_DUMMY,
#               eth0 is a veth whose peer eth0peer is up in the same namespace (`info`: eth0_kind).
#
# With --serve, real connections go through the Services (the benchmark tools/bench/rule-cost.sh):
#   tkp-NAME-cl  the client: eth0 10.0.0.2/24, default via 10.0.0.1
#   tkp-NAME     the node: eth0 10.0.0.1/24 (veth to the client's eth0), eth1 10.1.0.1/24 (veth to
#                the endpoints' eth0), route 10.244.0.0/16 via 10.1.0.2, no default route,
#                net.ipv4.ip_forward=1 in this namespace only (the root namespace's stays as it is)
#   tkp-NAME-ep  the endpoints: eth0 10.1.0.2/24, default via 10.1.0.1, `local 10.244.0.0/16 dev lo`
#                (every endpoint address is its own) and one python3 listener on 0.0.0.0:8080
#                (backlog 4096, net.core.somaxconn's default) that accepts and closes with RST
# The rules are the mode's own: the node DNATs a SYN to a Service to its endpoint and forwards it;
# KUBE-POSTROUTING (masquerading in nftables mode) only touches marked hairpin traffic, so the
# endpoint sees the client's address 10.0.0.2 and replies via the node, whose conntrack un-DNATs.
#
# Addresses: Service s (1..N) is "ns/svc<s>", port "http" 80/tcp, ClusterIP 10.96.A.B with
# A = (s-1)/254, B = (s-1)%254+1 (no .0 or .255: 10.96.0.1 .. 10.96.0.254, 10.96.1.1, ...; 10,000
# Services end at 10.96.39.94); its endpoint k (1..K) is global endpoint e = (s-1)*K+k, 10.244.C.D:8080
# with C = (e-1)/254, D = (e-1)%254+1 (in 10.244.0.0/16). Hence N*K <= 65024.
#
# Modes (each loaded in one go, as kube-proxy does):
#   iptables    one iptables-nft-restore of what kube-proxy's iptables mode writes without a cluster
#               CIDR (--detect-local-mode None, so no masquerade rule opens KUBE-SVC-*): nat
#               PREROUTING/OUTPUT -> KUBE-SERVICES, one rule per Service port there
#               (`-d 10.96.A.B/32 -p tcp -m comment --comment "ns/svc<s>:http cluster IP" -m tcp
#               --dport 80 -j KUBE-SVC-<hash>`) and last `-m addrtype --dst-type LOCAL -j
#               KUBE-NODEPORTS`; KUBE-SVC-* with K jumps chosen by `-m statistic --mode random
#               --probability 1/(K-k+1)` (the last one without); KUBE-SEP-* with the hairpin
#               KUBE-MARK-MASQ and the DNAT; KUBE-MARK-MASQ, KUBE-POSTROUTING (MASQUERADE of the
#               0x4000 mark), and filter's KUBE-FORWARD, KUBE-FIREWALL, KUBE-PROXY-FIREWALL,
#               KUBE-EXTERNAL-SERVICES, KUBE-NODEPORTS and the canaries. Chains are named as kube-proxy
#               names them: KUBE-SVC- + the first 16 base32 characters of sha256("ns/svc<s>:http" +
#               "tcp"), KUBE-SEP- + those of sha256("ns/svc<s>:http" + "tcp" + "10.244.C.D:8080").
#   nftables    one nft -f of KEP-3866's shape as kube-proxy's nftables mode writes it, in table ip
#               kube-proxy: nat-prerouting and nat-output jump to `services`, whose one rule `ip daddr .
#               meta l4proto . th dport vmap @service-ips` looks the Service up in the verdict map
#               service-ips (ipv4_addr . inet_proto . inet_service : verdict, one element per Service,
#               `goto service-<hash>-ns/svc<s>/tcp/http`); that chain picks an endpoint with `numgen
#               random mod K vmap { 0 : goto endpoint-<hash>-ns/svc<s>/tcp/http__10.244.C.D/8080, ... }`;
#               the endpoint chain jumps to mark-for-masquerade for its own address and does `dnat to`;
#               plus the filter base chains, cluster-ips, the no-endpoint, firewall and NodePort maps
#               (empty) and masquerading. <hash>: the first 8 base32 characters of sha256 of the rest
#               of the name. The kernel names each anonymous vmap by scanning the table's sets
#               (nf_tables_set_alloc_name), so loading N of them is quadratic: 10,000 Services take
#               about 75 s here (with named maps instead, 7.5 s), 1,000 under half a second.
#   ipvs        kube-proxy's IPVS mode: a virtual service per Service (`ipvsadm -A -t 10.96.A.B:80 -s
#               rr`, `-a ... -r 10.244.C.D:8080 -m` per endpoint, one `ipvsadm -R`), every ClusterIP on
#               the dummy kube-ipvs0 (one `ip -batch`), its ipsets (one `ipset restore`: KUBE-CLUSTER-IP
#               hash:ip,port with every Service, KUBE-IPVS-IPS, KUBE-LOOP-BACK with each endpoint's
#               hairpin, the empty NodePort, external and load balancer sets) and the iptables part it
#               keeps (one iptables-nft-restore: nat KUBE-SERVICES `-m addrtype --dst-type LOCAL -j
#               KUBE-NODE-PORT` then `-m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT`,
#               KUBE-POSTROUTING, filter KUBE-IPVS-FILTER, KUBE-FORWARD, ...). Needs IPVS in the kernel:
#               where /proc/net/ip_vs is missing `up` loads the ip_vs module with modprobe (a change to
#               the running kernel, the only one outside the namespace) and, if that fails, refuses
#               before creating anything.
#   none        no rules at all (no conntrack either: nothing asks for it), --services and
#               --endpoints are ignored and recorded as 0; with --serve, the baseline of
#               tools/bench/rule-cost.sh (connections straight to an endpoint address, routed only).
#
# Usage:
#   kubeproxy.sh up NAME [--services N] [--endpoints K] [--mode iptables|nftables|ipvs|none] [--serve]
#                               build it (N 1..65024, default 100; K 1..100, default 2; N*K <= 65024;
#                               --serve: the client and endpoints namespaces above; idempotent: an old
#                               lab of that name is removed first) and print its facts
#   kubeproxy.sh info NAME      key=value lines describing the lab: netns, netns_path, mode, services,
#                               endpoints, first_service, middle_service (Service N/2+1), last_service
#                               (each A.B.C.D:80/tcp; none of the three in mode none), their *_chain
#                               (the Service's chain), rules (the rules loaded: iptables, the lines of
#                               iptables-nft-save starting with -A; nftables, the rules and the
#                               elements of the named maps; ipvs, the virtual services, there *_chain
#                               is the virtual service, "TCP A:80 rr"; none, 0) and load_ms (how long
#                               the one load took). With --serve also: serve=yes, client_netns
#                               (tkp-NAME-cl), endpoints_netns (tkp-NAME-ep), client_address
#                               (10.0.0.2), first_endpoint (10.244.0.1:8080/tcp, Service 1's first
#                               endpoint and the address a connection without rules goes to) and
#                               server_pid (the listener in tkp-NAME-ep)
#   kubeproxy.sh down NAME      stop the listener (the PID up recorded, and only if it still is that
#                               listener), delete the namespaces (their rules, sets and maps go with
#                               them) and the state (idempotent)
# NAME: [a-z0-9]{1,12}
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

STATE_ROOT=${TRACER_KUBEPROXY_LAB_ROOT:-/tmp/tracer-kubeproxy-lab}
MAX_ADDRESSES=65024 # 256 third octets of 254 hosts each
SERVICE_PORT=80
TARGET_PORT=8080

LAB=kubeproxy.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"

need_all() {
    local ok=0
    need_namespace_tools || ok=1
    need python3 python3 "kube-proxy's chain name hashes" || ok=1
    need iptables-nft-restore iptables || ok=1
    need iptables-nft-save iptables || ok=1
    ((ok == 0)) || die "missing programs for the kube-proxy lab (see above)"
}

# address PREFIX INDEX: the INDEX-th (1-based) address of PREFIX.0.0/16, skipping .0 and .255;
# set_address sets REPLY instead (no subshell: the generators call it per endpoint).
set_address() { REPLY="$1.$(( ($2 - 1) / 254 )).$(( ($2 - 1) % 254 + 1 ))"; }
address() { set_address "$@"; echo "$REPLY"; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# The generator of every mode's input, in python3 for speed (bash takes 12 s to print 10,000
# Services' 70,000 rules; this, under half a second) and for kube-proxy's chain name hashes:
# base32(sha256(name)), cut. Argument: MODE N K; the ruleset on stdout.
GENERATOR='
import base64, hashlib, sys

mode, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
PORT, TARGET = 80, 8080
out = []
emit = out.append

def address(prefix, i):  # the i-th (1-based) address of prefix.0.0/16, no .0 or .255
    return "%s.%d.%d" % (prefix, (i - 1) // 254, (i - 1) % 254 + 1)

def b32sha(name, length):
    return base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()[:length]

services = [("svc%d" % s, address("10.96", s), [address("10.244", (s - 1) * k + j) for j in range(1, k + 1)])
            for s in range(1, n + 1)]

def iptables():
    # pkg/proxy/iptables: servicePortChainName, servicePortEndpointChainName, computeProbability
    svc = {name: "KUBE-SVC-" + b32sha("ns/%s:http" % name + "tcp", 16) for name, _, _ in services}
    sep = {(name, ep): "KUBE-SEP-" + b32sha("ns/%s:http" % name + "tcp" + "%s:%d" % (ep, TARGET), 16)
           for name, _, eps in services for ep in eps}
    emit(MANGLE_FILTER)
    emit(NAT_HEAD)
    for name, _, eps in services:
        emit(":%s - [0:0]" % svc[name])
        for ep in eps:
            emit(":%s - [0:0]" % sep[name, ep])
    emit(NAT_RULES)
    # kube-proxy writes the endpoint chains, then KUBE-SERVICES, then each Service chain.
    for name, _, eps in services:
        for ep in eps:
            emit("-A %s -s %s/32 -m comment --comment \"ns/%s:http\" -j KUBE-MARK-MASQ" % (sep[name, ep], ep, name))
            emit("-A %s -p tcp -m comment --comment \"ns/%s:http\" -m tcp -j DNAT --to-destination %s:%d"
                 % (sep[name, ep], name, ep, TARGET))
    for name, ip, _ in services:
        emit("-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"ns/%s:http cluster IP\" -m tcp --dport %d -j %s"
             % (ip, name, PORT, svc[name]))
    emit("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\""
         " -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
    for name, _, eps in services:
        for j, ep in enumerate(eps):
            left = len(eps) - j
            chance = "" if left == 1 else " -m statistic --mode random --probability %0.10f" % (1.0 / left)
            emit("-A %s -m comment --comment \"ns/%s:http -> %s:%d\"%s -j %s" % (svc[name], name, ep, TARGET, chance, sep[name, ep]))
    emit("COMMIT")

def nftables():
    # pkg/proxy/nftables: servicePortChainNameBase and servicePortEndpointChainNameBase, each
    # hashAndTruncate(name): the first 8 base32 characters of sha256(name), "-", name.
    def chain(prefix, name):
        return prefix + b32sha(name, 8) + "-" + name
    emit(NFT_BASE)
    for name, ip, eps in services:
        service = chain("service-", "ns/%s/tcp/http" % name)
        endpoint = [chain("endpoint-", "ns/%s/tcp/http__%s/%d" % (name, ep, TARGET)) for ep in eps]
        emit("add chain ip kube-proxy %s" % service)
        for ep, ep_chain in zip(eps, endpoint):
            emit("add chain ip kube-proxy %s" % ep_chain)
            emit("add rule ip kube-proxy %s ip saddr %s jump mark-for-masquerade" % (ep_chain, ep))
            emit("add rule ip kube-proxy %s meta l4proto tcp dnat to %s:%d" % (ep_chain, ep, TARGET))
        emit("add rule ip kube-proxy %s numgen random mod %d vmap { %s }"
             % (service, len(eps), ", ".join("%d : goto %s" % (j, c) for j, c in enumerate(endpoint))))
        emit("add element ip kube-proxy cluster-ips { %s }" % ip)
        emit("add element ip kube-proxy service-ips { %s . tcp . %d : goto %s }" % (ip, PORT, service))

# What kube-proxy'"'"'s iptables and IPVS modes both write.
NAT_BUILTINS = """:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
"""
FILTER_BUILTINS = """:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
"""
PORTALS = """-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
"""
LOCALNET_DROP = """-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
"""
FORWARD_ACCEPTS = """-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
"""
MASQUERADE_MARKED = """-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully"""

def ipvs_services():  # ipvsadm -R: a virtual service per Service, masquerading to each endpoint
    for _, ip, eps in services:
        emit("-A -t %s:%d -s rr" % (ip, PORT))
        for ep in eps:
            emit("-a -t %s:%d -r %s:%d -m -w 1" % (ip, PORT, ep, TARGET))

def ipvs_addresses():  # ip -batch: every ClusterIP on kube-ipvs0, so that the host accepts it
    for _, ip, _ in services:
        emit("address add %s/32 dev kube-ipvs0" % ip)

def ipvs_sets():  # ipset restore: the sets kube-proxy'"'"'s IPVS mode keeps, filled for the ClusterIPs
    emit(IPVS_SETS)
    for _, ip, eps in services:
        emit("add KUBE-CLUSTER-IP %s,tcp:%d" % (ip, PORT))
        emit("add KUBE-IPVS-IPS %s" % ip)
        for ep in eps:
            emit("add KUBE-LOOP-BACK %s,tcp:%d,%s" % (ep, TARGET, ep))

def ipvs_iptables():  # iptables-restore: the small iptables part of the IPVS mode
    emit(IPVS_IPTABLES)

IPVS_SETS = """create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 comment
create KUBE-IPVS-IPS hash:ip family inet hashsize 1024 maxelem 65536
create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 131072
create KUBE-EXTERNAL-IP hash:ip,port family inet hashsize 1024 maxelem 65536
create KUBE-LOAD-BALANCER hash:ip,port family inet hashsize 1024 maxelem 65536
create KUBE-NODE-PORT-TCP bitmap:port range 0-65535
create KUBE-HEALTH-CHECK-NODE-PORT bitmap:port range 0-65535"""

IPVS_IPTABLES = """*filter
""" + FILTER_BUILTINS + """:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-IPVS-FILTER - [0:0]
:KUBE-IPVS-OUT-FILTER - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-SOURCE-RANGES-FIREWALL - [0:0]
-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER
-A INPUT -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL
-A INPUT -m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT
-A INPUT -j KUBE-FIREWALL
-A FORWARD -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A OUTPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER
-A OUTPUT -j KUBE-FIREWALL
""" + LOCALNET_DROP + FORWARD_ACCEPTS + """-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN
-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable
-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT
COMMIT
*nat
""" + NAT_BUILTINS + """:KUBE-LOAD-BALANCER - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
""" + PORTALS + """-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ
-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE
""" + MASQUERADE_MARKED + """
-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
COMMIT"""

# kube-proxy nftables mode'"'"'s fixed part (its proxier_test.go baseRules), service CIDR 10.96.0.0/12.
NFT_BASE = """add table ip kube-proxy { comment "rules for kube-proxy" ; }
add chain ip kube-proxy mark-for-masquerade
add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000
add chain ip kube-proxy masquerading
add rule ip kube-proxy masquerading mark and 0x4000 == 0 return
add rule ip kube-proxy masquerading mark set mark xor 0x4000
add rule ip kube-proxy masquerading masquerade fully-random
add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }
add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }
add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }
add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }
add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }
add chain ip kube-proxy services
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
add rule ip kube-proxy services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports
add chain ip kube-proxy service-endpoints-check
add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services
add chain ip kube-proxy nodeport-endpoints-check
add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
add chain ip kube-proxy firewall-check
add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips
add chain ip kube-proxy cluster-ips-check
add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
add rule ip kube-proxy cluster-ips-check ip daddr { 10.96.0.0/12 } drop comment "Drop traffic to unallocated ClusterIPs"
add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }
add rule ip kube-proxy reject-chain reject
add chain ip kube-proxy filter-prerouting { type filter hook prerouting priority -110 ; }
add rule ip kube-proxy filter-prerouting ct state new jump firewall-check
add chain ip kube-proxy filter-forward { type filter hook forward priority -110 ; }
add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check
add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check
add chain ip kube-proxy filter-input { type filter hook input priority -110 ; }
add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check
add rule ip kube-proxy filter-input ct state new jump service-endpoints-check
add chain ip kube-proxy filter-output { type filter hook output priority -110 ; }
add rule ip kube-proxy filter-output ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output ct state new jump firewall-check
add chain ip kube-proxy filter-output-post-dnat { type filter hook output priority -90 ; }
add rule ip kube-proxy filter-output-post-dnat ct state new jump cluster-ips-check
add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
add rule ip kube-proxy nat-prerouting jump services
add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
add rule ip kube-proxy nat-output jump services
add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
add rule ip kube-proxy nat-postrouting jump masquerading"""

MANGLE_FILTER = """*mangle
:KUBE-KUBELET-CANARY - [0:0]
:KUBE-PROXY-CANARY - [0:0]
COMMIT
*filter
""" + FILTER_BUILTINS + """:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-KUBELET-CANARY - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-PROXY-CANARY - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-SERVICES - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A INPUT -j KUBE-FIREWALL
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -j KUBE-FIREWALL
""" + LOCALNET_DROP + """-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
""" + FORWARD_ACCEPTS + """COMMIT"""

NAT_HEAD = """*nat
""" + NAT_BUILTINS + """:KUBE-KUBELET-CANARY - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-PROXY-CANARY - [0:0]
:KUBE-SERVICES - [0:0]"""

NAT_RULES = PORTALS + """-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
""" + MASQUERADE_MARKED

{"iptables": iptables, "nftables": nftables, "ipvs-services": ipvs_services, "ipvs-addresses": ipvs_addresses,
 "ipvs-sets": ipvs_sets, "ipvs-iptables": ipvs_iptables}[mode]()
sys.stdout.write("\n".join(out) + "\n")
'

load_iptables() { # load_iptables NAME N K
    local ns=tkp-$1 file=$STATE_ROOT/$1/ruleset
    python3 -c "$GENERATOR" iptables "$2" "$3" >"$file"
    in_ns "$ns" iptables-nft-restore <"$file"
}

load_nftables() { # load_nftables NAME N K
    local ns=tkp-$1 file=$STATE_ROOT/$1/ruleset
    python3 -c "$GENERATOR" nftables "$2" "$3" >"$file"
    in_ns "$ns" nft -f "$file"
}

load_none() { :; }

# IPVS lives in the ip_vs module (the one change outside the namespace this lab may make: loading
# it, where modprobe can; its virtual services are per namespace all the same).
ipvs_available() {
    [[ -e /proc/net/ip_vs ]] && return 0
    if command -v modprobe >/dev/null; then modprobe -q ip_vs 2>/dev/null || true; fi
    [[ -e /proc/net/ip_vs ]]
}

load_ipvs() { # load_ipvs NAME N K
    local ns=tkp-$1 part
    for part in services addresses sets iptables; do
        python3 -c "$GENERATOR" "ipvs-$part" "$2" "$3" >"$STATE_ROOT/$1/$part"
    done
    # kube-proxy keeps every ClusterIP on the down dummy kube-ipvs0: local, so IPVS sees it in INPUT.
    ip -n "$ns" link add kube-ipvs0 type dummy 2>/dev/null || ip -n "$ns" link add kube-ipvs0 type bridge
    ip -n "$ns" -batch "$STATE_ROOT/$1/addresses"
    in_ns "$ns" ipset restore <"$STATE_ROOT/$1/sets"
    in_ns "$ns" iptables-nft-restore <"$STATE_ROOT/$1/iptables"
    in_ns "$ns" ipvsadm -R <"$STATE_ROOT/$1/services"
}

# Reads `nft -j list ruleset`: the rules and the elements of the named maps (count), or the chain
# the element of service-ips for an address goes to (chain ADDRESS).
NFT_JSON='
import json, sys
objects = json.load(sys.stdin)["nftables"]
if sys.argv[1] == "count":
    print(sum(1 for o in objects if "rule" in o) + sum(len(o["map"].get("elem", [])) for o in objects if "map" in o))
else:
    for o in objects:
        if "map" in o and o["map"]["name"] == "service-ips":
            for key, verdict in o["map"].get("elem", []):
                if key["concat"][0] == sys.argv[2]:
                    print(list(verdict.values())[0]["target"])
'

# The ruleset as loaded now, once per `info` (a save of 10,000 Services takes seconds).
dump_ruleset() { # dump_ruleset NAME MODE
    local ns=tkp-$1
    case $2 in
        iptables) in_ns "$ns" iptables-nft-save ;;
        nftables) in_ns "$ns" nft -j list ruleset ;;
        ipvs) in_ns "$ns" ipvsadm -Ln ;;
        none) ;;
    esac
}

count_rules() { # count_rules MODE < dump
    case $1 in
        iptables) grep -c '^-A' ;;
        nftables) python3 -c "$NFT_JSON" count ;;
        ipvs) grep -c '^TCP' || true ;;
        none) echo 0 ;;
    esac
}

# The chain the Service lookup sends a connection to Service S to.
service_chain() { # service_chain MODE S < dump
    local ip
    ip=$(address 10.96 "$2")
    case $1 in
        iptables) awk -v d="$ip/32" '$2 == "KUBE-SERVICES" && $3 == "-d" && $4 == d { print $NF }' ;;
        nftables) python3 -c "$NFT_JSON" chain "$ip" ;;
        ipvs) awk -v d="$ip:$SERVICE_PORT" '$1 == "TCP" && $2 == d { print $1 " " $2 " " $3 }' ;;
    esac
}

# The endpoints' listener: every endpoint address is the namespace's own, so one socket on
# 0.0.0.0:8080 serves them all. It accepts and closes with RST (SO_LINGER 0): no TIME_WAIT piles up
# on either side however many connections a benchmark opens. Its arguments mark its command line,
# which `down` checks before it kills the recorded PID.
LISTENER='
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080))
s.listen(4096)
linger = struct.pack("ii", 1, 0)
while True:
    c, _ = s.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    c.close()
'

# The three namespaces of --serve (see the header): the node's two veths, its route to the endpoints
# and forwarding, the client's and the endpoints' addresses and routes, then the listener.
serve_layout() { # serve_layout NAME
    local name=$1 ns=tkp-$1 cl=tkp-$1-cl ep=tkp-$1-ep state=$STATE_ROOT/$1 n i
    for n in "$cl" "$ep"; do
        ip netns add "$n"
        ip -n "$n" link set lo up
    done
    ip -n "$ns" link add eth0 type veth peer name eth0 netns "$cl"
    ip -n "$ns" link add eth1 type veth peer name eth0 netns "$ep"
    ip -n "$ns" addr add 10.0.0.1/24 dev eth0
    ip -n "$ns" addr add 10.1.0.1/24 dev eth1
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set eth1 up
    ip -n "$ns" route add 10.244.0.0/16 via 10.1.0.2 dev eth1
    # /proc/sys/net is the namespace's own once nsenter has entered it.
    in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$cl" addr add 10.0.0.2/24 dev eth0
    ip -n "$cl" link set eth0 up
    ip -n "$cl" route add default via 10.0.0.1 dev eth0
    ip -n "$ep" addr add 10.1.0.2/24 dev eth0
    ip -n "$ep" link set eth0 up
    ip -n "$ep" route add default via 10.1.0.1 dev eth0
    ip -n "$ep" route add local 10.244.0.0/16 dev lo
    # nsenter execs python3 in place, so $! is the listener itself.
    nsenter --net="/run/netns/$ep" python3 -c "$LISTENER" kubeproxy-listener "$ep" </dev/null >"$state/listener.log" 2>&1 &
    echo $! >"$state/server_pid"
    for (( i = 0; i < 100; i++ )); do
        [[ -n $(in_ns "$ep" ss -Hltn 'sport = :8080') ]] && return 0
        kill -0 "$(cat "$state/server_pid")" 2>/dev/null || break
        sleep 0.05
    done
    local why
    why=$(cat "$state/listener.log")
    cmd_down "$name"
    die "the listener in $ep did not start: $why"
}

# Stops the listener of lab NAME: the PID up recorded, only while its command line still is that
# lab's listener (a PID reused since is left alone).
stop_listener() { # stop_listener NAME
    local file=$STATE_ROOT/$1/server_pid pid i
    [[ -f $file ]] || return 0
    pid=$(cat "$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    listener_is "$pid" "$1" || return 0
    kill "$pid" 2>/dev/null || true
    # Until it is gone, reaped too (a zombie has lost its command line but still has its PID).
    for (( i = 0; i < 60; i++ )); do
        [[ -e /proc/$pid ]] || return 0
        if ! listener_is "$pid" "$1" && [[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then return 0; fi
        sleep 0.05
    done
    if listener_is "$pid" "$1"; then kill -KILL "$pid" 2>/dev/null || true; fi
}

listener_is() { # listener_is PID NAME: PID runs lab NAME's listener
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- " kubeproxy-listener tkp-$2-ep"
}

cmd_up() {
    local name=$1 services=100 endpoints=2 mode=iptables serve=no
    shift
    while (( $# )); do
        case $1 in
            --services) services=${2:-}; shift 2 ;;
            --endpoints) endpoints=${2:-}; shift 2 ;;
            --mode) mode=${2:-}; shift 2 ;;
            --serve) serve=yes; shift ;;
            *) die "unknown option '$1'" ;;
        esac
    done
    if [[ $mode != none ]]; then
        [[ $services =~ ^[1-9][0-9]{0,4}$ ]] && (( services <= MAX_ADDRESSES )) || die "--services must be 1..$MAX_ADDRESSES"
        [[ $endpoints =~ ^[1-9][0-9]?$|^100$ ]] || die "--endpoints must be 1..100"
        (( services * endpoints <= MAX_ADDRESSES )) || die "--services times --endpoints must be at most $MAX_ADDRESSES (10.244.0.0/16)"
    fi
    case $mode in
        iptables) ;;
        nftables) need nft nftables || die "missing programs for the kube-proxy lab (see above)" ;;
        ipvs)
            { need ipvsadm ipvsadm && need ipset ipset; } || die "missing programs for the kube-proxy lab (see above)"
            ipvs_available || die "this kernel has no IPVS (/proc/net/ip_vs missing; CONFIG_IP_VS, module ip_vs)"
            ;;
        none) services=0 endpoints=0 ;;
        *) die "--mode must be iptables, nftables, ipvs or none" ;;
    esac
    if [[ $serve == yes ]]; then need ss iproute2 || die "missing programs for the kube-proxy lab (see above)"; fi
    cmd_down "$name"
    local ns=tkp-$name state=$STATE_ROOT/$name
    mkdir -p "$state"
    # A failed up leaves nothing behind.
    trap 'cmd_down "$name"' ERR
    ip netns add "$ns"
    in_ns "$ns" ip link set lo up
    if [[ $serve == yes ]]; then
        serve_layout "$name"
    else
        # Kernels built without CONFIG_DUMMY get a veth pair whose both ends stay in the namespace.
        if ! ip -n "$ns" link add eth0 type dummy 2>/dev/null; then
            ip -n "$ns" link add eth0 type veth peer name eth0peer
            ip -n "$ns" link set eth0peer up
        fi
        ip -n "$ns" addr add 10.0.0.1/24 dev eth0
        ip -n "$ns" link set eth0 up
        ip -n "$ns" route add default via 10.0.0.254 dev eth0
    fi
    echo "$serve" >"$state/serve"
    echo "$mode" >"$state/mode"
    echo "$services" >"$state/services"
    echo "$endpoints" >"$state/endpoints"
    local start
    start=$(now_ms)
    "load_$mode" "$name" "$services" "$endpoints"
    echo $(( $(now_ms) - start )) >"$state/load_ms"
    trap - ERR
    cmd_info "$name"
}

cmd_info() {
    local name=$1 ns=tkp-$1 state=$STATE_ROOT/$1 mode services which s dump
    [[ -e /run/netns/$ns && -f $state/mode ]] || die "no lab named '$name' (try: kubeproxy.sh up $name)"
    mode=$(cat "$state/mode")
    services=$(cat "$state/services")
    dump=$(dump_ruleset "$name" "$mode")
    echo "netns=$ns"
    echo "netns_path=/run/netns/$ns"
    echo "mode=$mode"
    echo "eth0_kind=$(ip -n "$ns" -d -o link show eth0 | grep -q ' dummy ' && echo dummy || echo veth)"
    echo "services=$services"
    echo "endpoints=$(cat "$state/endpoints")"
    for which in first middle last; do
        (( services > 0 )) || break
        case $which in
            first) s=1 ;;
            middle) s=$(( services / 2 + 1 )) ;;
            last) s=$services ;;
        esac
        echo "${which}_service=$(address 10.96 "$s"):$SERVICE_PORT/tcp"
        echo "${which}_service_chain=$(service_chain "$mode" "$s" <<<"$dump")"
    done
    echo "rules=$(count_rules "$mode" <<<"$dump")"
    echo "load_ms=$(cat "$state/load_ms")"
    if [[ $(cat "$state/serve" 2>/dev/null) == yes ]]; then
        echo "serve=yes"
        echo "client_netns=$ns-cl"
        echo "endpoints_netns=$ns-ep"
        echo "client_address=10.0.0.2"
        echo "first_endpoint=$(address 10.244 1):$TARGET_PORT/tcp"
        echo "server_pid=$(cat "$state/server_pid")"
    fi
}

cmd_down() {
    local name=$1 ns
    stop_listener "$name"
    for ns in "tkp-$name" "tkp-$name-cl" "tkp-$name-ep"; do
        if [[ -e /run/netns/$ns ]]; then ip netns del "$ns"; fi
    done
    rm -rf "${STATE_ROOT:?}/$name"
}

cmd=${1:-}
[[ -n $cmd ]] || die "usage: kubeproxy.sh up|info|down NAME ..."
name=${2:-}
check_name "$name"
shift 2
case $cmd in
    up) need_all; cmd_up "$name" "$@" ;;
    info) cmd_info "$name" ;;
    down) cmd_down "$name" ;;
    *) die "unknown command '$cmd'" ;;
esac
