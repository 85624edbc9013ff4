#!/bin/sh
# Pre-flight of tools/test.sh: every program and helper the test suites use is present, else one line
# per missing piece naming its Debian package, and exit 1 before any test runs. A path that a test
# spawns belongs here (SetupPackagesTests checks that too).
cd "$(dirname "$0")/.."
. tools/lib/need.sh
status=0

need /usr/bin/cc gcc "compiles tools/testprogs" || status=1
need /usr/include/stdio.h libc6-dev "headers for tools/testprogs" || status=1
need /usr/bin/ip iproute2 || status=1
need /usr/sbin/ip iproute2 || status=1
need /usr/bin/nsenter util-linux || status=1
need /usr/bin/unshare util-linux "hides a backend tool from tracer rules in a mount namespace of its own" || status=1
need /usr/bin/setpriv util-linux || status=1
need /usr/bin/prlimit util-linux "memory limits in HostileInputTests" || status=1
need /bin/sh dash || status=1
need /bin/bash bash || status=1
need /bin/echo coreutils || status=1
need /bin/true coreutils || status=1
need /bin/false coreutils || status=1
need /bin/sleep coreutils || status=1
need /usr/bin/env coreutils "sets HOST_ROOT for one run in CLITests" || status=1
need /usr/bin/sha256sum coreutils || status=1
need /bin/cp coreutils "Executables.copy: the tests copy the programs they run" || status=1
need /usr/bin/jq jq "edits the runc bundles of tools/lab/containers.sh" || status=1
need /usr/bin/python3 python3 || status=1
need /usr/bin/systemd-analyze systemd "verifies deploy/systemd's unit" || status=1
need /opt/tracer-test-venv/bin/python python3-venv "the kubernetes client's models (tools/setup.sh --test installs them from PyPI)" || status=1
need /usr/bin/podman podman || status=1
need /usr/lib/podman/netavark netavark "podman's network backend" || status=1
need /usr/bin/conmon conmon "podman's container monitor" || status=1
need /usr/bin/runc runc || status=1
need /bin/busybox busybox-static "the labs' container images" || status=1
need /usr/sbin/dockerd docker.io || status=1
need /usr/bin/docker docker.io || status=1
need /usr/bin/containerd containerd || status=1
need /usr/bin/ctr containerd || status=1
need /usr/sbin/nft nftables || status=1
need /usr/sbin/iptables-nft iptables || status=1
need /usr/sbin/iptables-legacy iptables || status=1
need /usr/sbin/conntrack conntrack "fills the egress lab's conntrack table" || status=1
need /usr/bin/ping iputils-ping || status=1
need /usr/bin/iperf3 iperf3 || status=1
need /usr/sbin/ipset ipset "the egress lab's iptables allow-list modes" || status=1
need /usr/sbin/conntrack conntrack "the egress lab's stale-conntrack mode" || status=1
need /usr/sbin/ipvsadm ipvsadm "the kube-proxy lab's ipvs mode" || status=1
need /usr/bin/perf linux-perf "counts task renames in TopFullMapTests" || status=1
need /usr/bin/tmux tmux "the terminal test of tracer top" || status=1
need /usr/bin/zsh zsh "runs the zsh completion script" || status=1
need /usr/bin/fish fish "runs the fish completion script" || status=1
need /usr/bin/promtool prometheus "checks tracer agent's metrics (promtool check metrics)" || status=1
need /usr/bin/prometheus prometheus "scrapes tracer agent in AgentPrometheusTests" || status=1

if [ $status -ne 0 ]; then
    echo "tools/preflight.sh: the test suites cannot run here (see the lines above)" >&2
fi
exit $status
