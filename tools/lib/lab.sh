# Sourced by the namespace labs (egress.sh, kubeproxy.sh) after they set LAB to their own name: the
# messages, the root check, need (tools/lib/need.sh) and the helpers every such lab uses.
#   log MESSAGE, die MESSAGE      on stderr, prefixed with LAB; die exits 2
#   in_ns NETNS COMMAND...        COMMAND inside /run/netns/NETNS
#   check_name NAME               NAME is a lab name, [a-z0-9]{1,12}, or die
log() { echo "$LAB: $*" >&2; }
die() { log "error: $*"; exit 2; }

[[ $(id -u) -eq 0 ]] || die "must run as root"

# What a lab runs, each with the package that brings it: named when missing, never installed here.
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"

in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

check_name() { [[ ${1:-} =~ ^[a-z0-9]{1,12}$ ]] || die "lab name must match [a-z0-9]{1,12}, got '${1:-}'"; }

# ip and nsenter, which every namespace lab runs: false (each missing one named) if not there.
need_namespace_tools() {
    local ok=0
    need ip iproute2 || ok=1
    need nsenter util-linux || ok=1
    return $ok
}
