#!/bin/sh
# Regenerates bpf/lib/vmlinux.h, the kernel types the BPF programs are compiled against.
# CO-RE relocates every field access at load time, so the header need not match the running
# kernel exactly; regenerate it only to use types or fields that are new.
set -eu
cd "$(dirname "$0")/.."
bpftool btf dump file "${1:-/sys/kernel/btf/vmlinux}" format c > bpf/lib/vmlinux.h
echo "wrote bpf/lib/vmlinux.h from ${1:-/sys/kernel/btf/vmlinux}"
