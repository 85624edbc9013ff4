#!/usr/bin/env bash
# tools/image.sh - the agent's container image (deploy/Containerfile), built offline with podman:
# the tracer and tracer-agent binaries (`tracer agent` runs the second) and the shared objects
# `ldd` names for them, in a root of their own, FROM scratch (no shell, no package manager,
# nothing pulled).
#
#   tools/image.sh [NAME:TAG]       build `swift build -c release --static-swift-stdlib` and the
#                                   image (default localhost/tracer-agent:latest, as
#                                   deploy/kubernetes names it); prints the image's name
#   TRACER_BINARY=PATH tools/image.sh [NAME:TAG]
#                                   the image of that tracer binary and the tracer-agent beside
#                                   it instead (the tests use their build)
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-localhost/tracer-agent:latest}
command -v podman >/dev/null || { echo "image.sh: podman is missing: tools/setup.sh --test" >&2; exit 1; }

binary=${TRACER_BINARY:-}
if [ -z "$binary" ]; then
    swift build -c release --static-swift-stdlib --product tracer >/dev/null
    swift build -c release --static-swift-stdlib --product tracer-agent >/dev/null
    binary=$(swift build -c release --static-swift-stdlib --show-bin-path)/tracer
fi
agent=$(dirname "$binary")/tracer-agent
for b in "$binary" "$agent"; do
    [ -x "$b" ] || { echo "image.sh: $b is not an executable" >&2; exit 1; }
done

context=$(mktemp -d /tmp/tracer-image.XXXXXX)
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/rootfs/usr/bin" "$context/rootfs/tmp"
cp "$binary" "$context/rootfs/usr/bin/tracer"
cp "$agent" "$context/rootfs/usr/bin/tracer-agent"
# Every shared object the binaries load, at its own path (the dynamic loader's too).
ldd "$binary" "$agent" | awk '/=> \// { print $3 } /^[[:space:]]+\// { print $1 }' | while read -r lib; do
    cp --parents -L "$lib" "$context/rootfs/"
done
cp deploy/Containerfile "$context/Containerfile"
podman build --quiet --pull=never -t "$image" -f "$context/Containerfile" "$context" >/dev/null
echo "$image"
