#!/bin/sh
# Installs the Debian packages tracer needs to build and run. Idempotent: installs only
# what is missing. Run as root on Debian 12 with the Swift toolchain on PATH.
#   tools/setup.sh          build and run dependencies
#   tools/setup.sh --test   also what the tests use (C compiler, iproute2, container runtimes)
set -eu
packages="libbpf-dev libelf-dev zlib1g-dev pkg-config libnftables-dev"
if [ "${1:-}" = "--test" ]; then
    packages="$packages gcc libc6-dev iproute2 podman runc busybox-static docker.io containerd nftables iptables iputils-ping iperf3 tmux"
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
