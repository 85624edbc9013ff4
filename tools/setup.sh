#!/bin/sh
# Installs the Debian packages tracer needs, and only those that are missing. This is the one list of
# packages of the repository: the build, the tests, the labs (tools/lab) and the benchmarks
# (tools/bench) install nothing themselves. Run as root on Debian 12 with the Swift toolchain on PATH.
#   tools/setup.sh          what building and running tracer needs
#   tools/setup.sh --test   also what the tests, labs and benchmarks use
# A test (SetupPackagesTests) fails when a package named anywhere in tools/ is missing here.
set -eu

# libbpf, libelf and zlib are linked statically; libnftables is opened when first needed.
packages="libbpf-dev libelf-dev zlib1g-dev pkg-config libnftables-dev"

if [ "${1:-}" = "--test" ]; then
    # The test programs in tools/testprogs; iproute2, util-linux (nsenter, setpriv, prlimit), coreutils and
    # the shells for the labs' namespaces and the tests' children.
    packages="$packages gcc libc6-dev iproute2 util-linux coreutils dash bash jq python3"
    # Real container runtimes. podman finds no network without netavark (its network backend) and
    # conmon supervises its containers; the labs' images are busybox-static.
    packages="$packages podman runc conmon netavark busybox-static docker.io containerd"
    # The egress lab's firewall and traffic, the terminal test of tracer top, and perf (the
    # kernel's own count of task renames bounds top's exec count under a full map).
    packages="$packages nftables iptables iputils-ping iperf3 tmux linux-perf"
    # The egress lab's inbound modes: ipset allow-lists (iptables) and conntrack (a stale entry, a full table).
    packages="$packages ipset conntrack"
    # The kube-proxy lab's IPVS mode (tools/lab/kubeproxy.sh): virtual services; its ipsets use ipset above.
    packages="$packages ipvsadm"
    # The shells whose completion scripts (tracer completions) the tests run.
    packages="$packages zsh fish"
    # tools/bench/exec-storm.sh measures execsnoop (libbpf-tools) beside tracer.
    packages="$packages libbpf-tools"
    # The deployment's checks: systemd-analyze verify of deploy/systemd, a virtualenv for the
    # Kubernetes API types tools/check-manifests.py checks deploy/kubernetes against.
    packages="$packages systemd python3-venv"
    # promtool (Debian ships it with the server) checks the exposition tracer agent serves.
    packages="$packages prometheus"
fi

missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "tools/setup.sh: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
command -v swift >/dev/null || { echo "tools/setup.sh: the Swift toolchain is not on PATH" >&2; exit 1; }

# The official Kubernetes Python client's models (PyPI, a test tool), in a virtualenv of their own.
if [ "${1:-}" = "--test" ]; then
    venv=/opt/tracer-test-venv
    if ! "$venv/bin/python" -c "import kubernetes, yaml" 2>/dev/null; then
        echo "tools/setup.sh: installing the kubernetes Python client into $venv" >&2
        /usr/bin/python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check kubernetes==37.0.3 pyyaml
    fi
fi
