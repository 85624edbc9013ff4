#!/usr/bin/env bash
# tools/lab/containers.sh - run REAL containers (podman, docker, containerd/ctr, runc)
# for tracer integration tests. Each container lives behind its own lab network
# namespace; the root network namespace is never touched.
#
# Usage:
#   containers.sh install                      tools/setup.sh --test (the repo's one package list)
#   containers.sh up   RUNTIME NAME            start daemon (if any) + container; prints key=value
#   containers.sh info RUNTIME NAME            print the key=value lines of a running lab again
#   containers.sh exec RUNTIME NAME -- CMD...  run CMD inside the container via the runtime's exec
#   containers.sh down RUNTIME NAME            remove everything 'up' created (idempotent)
#   containers.sh list                         list lab state dirs
# RUNTIME: podman | docker | containerd | runc.  NAME: [a-z0-9][a-z0-9_.-]{0,30}
# TRACERLAB_COMMAND='shell command' (podman only): the container runs `sh -c` on it instead of `sleep 3600`.
# TRACERLAB_PUBLISH='SPEC[ SPEC...]' (podman, docker): published ports, each as `-p` takes it
#   ([hostip:][hostport:]containerport[/proto], e.g. '8080:80 127.0.0.1::53/udp'); printed back as publish=.
# TRACERLAB_IPV6=1 (podman, docker): the container runs on a dual-stack network of its own, printed
#   back as network=, and container_ip6= holds the container's global IPv6 address. podman:
#   `podman network create --ipv6` with 10.89.6.0/24 and fd00:d6::/64 (gateways .1 and ::1), made
#   in the lab's network namespace and config dir as every podman network of the lab; netavark
#   turns IPv6 forwarding on and masquerades the ULA (NAT66). docker: `docker network create
#   --ipv6` with 10.89.7.0/24 and fd00:d7::/64, on a dockerd started with `--experimental
#   --ip6tables` (20.10 NATs IPv6 only so; 27 and later do by default): dockerd masquerades the ULA
#   out of any other device, and turns IPv6 forwarding on.
#
# State for one lab: $TRACERLAB_ROOT/<runtime>-<name>/ (default /tmp/tracerlab).
# Lab network namespace: /run/netns/tracerlab-<runtime>-<name>.
# See tools/lab/FINDINGS.md for what each runtime leaves where.
set -euo pipefail

LAB_ROOT=${TRACERLAB_ROOT:-/tmp/tracerlab}
DOCKER_BIN=${TRACERLAB_DOCKER:-/usr/bin/docker}   # Debian's 20.10 client (a newer /usr/local/bin/docker may exist)
CTR_NS=${TRACERLAB_CTR_NAMESPACE:-default}        # containerd namespace -> cgroup /<ns>/<id>
IMAGE_REF=localhost/tracerlab-busybox:latest
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

log() { echo "containers.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root"

# ---------------------------------------------------------------- helpers
now_ms() { date +%s%3N; }

# start time (clock ticks since boot) of a pid, empty if gone
pid_start() { [[ -r /proc/$1/stat ]] && awk '{sub(/^.*\) /, ""); print $20}' "/proc/$1/stat" 2>/dev/null || true; }
boot_ticks_now() { awk -v hz="$(getconf CLK_TCK)" '{printf "%d\n", $1*hz}' /proc/uptime; }

# kill_checked SIG PID: signal PID only if it started after this lab was created
# (guards against PID reuse after a crash).
kill_checked() {
  local sig=$1 pid=$2 st created
  [[ $pid =~ ^[0-9]+$ ]] && (( pid > 1 )) || return 0
  st=$(pid_start "$pid"); [[ -n $st ]] || return 0
  created=$(cat "$STATE/created_ticks" 2>/dev/null || echo 0)
  if (( st + 1 < created )); then
    log "not killing pid $pid: older than the lab (pid reused?)"; return 0
  fi
  kill "-$sig" "$pid" 2>/dev/null || true
}

# wait_gone PID SECONDS
wait_gone() {
  local pid=$1 t=$(( $2 * 10 ))
  while [[ -d /proc/$pid ]] && (( t-- > 0 )); do
    # reap zombies that are not ours is impossible; a zombie counts as gone
    [[ $(awk '{sub(/^.*\) /, ""); print $1}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && return 0
    sleep 0.1
  done
  [[ ! -d /proc/$pid ]]
}

# stop_pid PID [SECONDS]: TERM, wait, KILL
stop_pid() {
  local pid=$1 secs=${2:-15}
  [[ -n $pid && -d /proc/$pid ]] || return 0
  kill_checked TERM "$pid"
  wait_gone "$pid" "$secs" && return 0
  log "pid $pid did not exit after TERM; sending KILL"
  kill_checked KILL "$pid"
  wait_gone "$pid" 5 || log "pid $pid still present"
}

wait_for() { # wait_for SECONDS CMD...
  local t=$(( $1 * 10 )); shift
  until "$@" >/dev/null 2>&1; do (( t-- > 0 )) || return 1; sleep 0.1; done
}

# run a (daemon) command inside the lab netns, in the background, in its own
# process group, stdio to a log file. Prints the pid (nsenter execs, so it is the daemon's).
start_daemon() { # start_daemon LOGFILE CMD...  (pid also goes to $STATE/daemon.pid at once)
  local logf=$1; shift
  set -m
  nsenter --net="$NETNS_PATH" -- "$@" </dev/null >>"$logf" 2>&1 &
  local pid=$!
  set +m
  echo "$pid" >"$STATE/daemon.pid"
  echo "$pid"
}

in_lab() { nsenter --net="$NETNS_PATH" -- "$@"; }

# host-side veth: peer ifindex of the container's eth0, looked up in the lab netns
host_veth_of() { # host_veth_of PID
  local idx
  idx=$(nsenter -t "$1" -n ip -o link show eth0 2>/dev/null | sed -n 's/^[0-9]*: eth0@if\([0-9]*\):.*/\1/p')
  [[ -n $idx ]] || return 0
  ip -n "$NETNS" -o link show 2>/dev/null | awk -F': ' -v i="$idx" '$1==i {sub(/@.*/, "", $2); print $2}'
}

# busybox root filesystem + a docker-archive image made from it (deterministic ids)
build_rootfs() { # build_rootfs DIR
  local d=$1 bb
  bb=/bin/busybox   # busybox-static
  [[ -x $bb ]] || die "$bb not found (Debian package busybox-static: tools/setup.sh --test)"
  mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,run,var}
  cp "$bb" "$d/bin/busybox"
  local p
  for p in $("$d/bin/busybox" --list-full); do
    [[ -e $d/$p || $p == bin/busybox ]] || ln -s /bin/busybox "$d/$p"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$d/etc/passwd"
  echo 'root:x:0:' >"$d/etc/group"
  : >"$d/etc/hosts"; : >"$d/etc/resolv.conf"; echo tracerlab >"$d/etc/hostname"
  chmod 1777 "$d/tmp"
}

build_image_archive() { # build_image_archive ROOTFS OUT.tar   -> docker-archive (docker load / podman load / ctr import)
  local rootfs=$1 out=$2 w diff cfg cfgsha
  w=$(mktemp -d "$STATE/img.XXXXXX")
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$w/layer.tar" .
  diff=$(sha256sum "$w/layer.tar" | cut -d' ' -f1)
  mkdir "$w/$diff"; mv "$w/layer.tar" "$w/$diff/layer.tar"
  cfg='{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"Labels":{"org.tracerlab":"busybox"}},"rootfs":{"type":"layers","diff_ids":["sha256:'$diff'"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"tracerlab busybox-static"}]}'
  cfgsha=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
  printf '%s' "$cfg" >"$w/$cfgsha.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfgsha" "$IMAGE_REF" "$diff" >"$w/manifest.json"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$w" -cf "$out" manifest.json "$cfgsha.json" "$diff"
  rm -rf "$w"
  echo "sha256:$cfgsha" >"$STATE/image_id"
}

emit() { echo "$1=$2" >>"$STATE/info.tmp"; }

finish_info() { # common keys
  local pid=$1
  emit init_pid "$pid"
  emit init_start_ticks "$(pid_start "$pid")"
  emit netns "$NETNS_PATH"
  [[ -n ${CONTAINER_NETNS:-} ]] || CONTAINER_NETNS=/proc/$pid/ns/net
  emit container_netns "$CONTAINER_NETNS"
  emit container_netns_inode "$(stat -L -c %i "/proc/$pid/ns/net")"
  emit mnt_ns_inode "$(stat -L -c %i "/proc/$pid/ns/mnt")"
  emit host_veth "$(host_veth_of "$pid")"
  emit container_ip "$(nsenter -t "$pid" -n ip -o -4 addr show eth0 2>/dev/null | awk '{print $4}' | head -1)"
  emit container_ip6 "$(nsenter -t "$pid" -n ip -o -6 addr show eth0 scope global 2>/dev/null | awk '{print $4}' | head -1)"
  emit cgroup "$(awk -F: '$1=="0"{print $3}' "/proc/$pid/cgroup")"
  emit cgroup_v1 "$(awk -F: '$2=="memory"{print $3}' "/proc/$pid/cgroup")"
  emit cgroup_id "$(stat -c %i "/sys/fs/cgroup/unified$(awk -F: '$1=="0"{print $3}' "/proc/$pid/cgroup")" 2>/dev/null || true)"
  emit state_dir "$STATE"
  echo "$pid" >"$STATE/init.pid"
  cp "/proc/$pid/cgroup" "$STATE/init.cgroup"
  # the container's parent: containerd-shim-runc-v2 (docker, containerd) or conmon (podman); runc -d: 1
  local ppid; ppid=$(awk '{sub(/^.*\) /, ""); print $2}' "/proc/$pid/stat")
  if (( ppid > 1 )); then
    echo "$ppid" >"$STATE/shim.pid"
    emit parent_pid "$ppid"
    emit parent_comm "$(cat "/proc/$ppid/comm")"
  fi
  if [[ -n ${SHIM_TASK_DIR:-} && -f $SHIM_TASK_DIR/address ]]; then
    sed 's|^unix://||' "$SHIM_TASK_DIR/address" >"$STATE/shim.address"
    emit shim_socket "$(cat "$STATE/shim.address")"
  fi
  mv "$STATE/info.tmp" "$STATE/info"
  cat "$STATE/info"
}

# wire a veth: host end (in lab netns) HOSTIF=tlveth0 10.88.0.1/24, container end eth0 10.88.0.2/24.
# target: "netns NAME" (named) or "pid PID"
wire_veth() {
  local kind=$1 target=$2
  ip -n "$NETNS" link add tlveth0 type veth peer name tlpeer0
  if [[ $kind == pid ]]; then
    ip -n "$NETNS" link set tlpeer0 netns "$target"
    nsenter -t "$target" -n sh -c 'ip link set tlpeer0 name eth0 && ip addr add 10.88.0.2/24 dev eth0 && ip link set eth0 up && ip link set lo up && ip route add default via 10.88.0.1'
  else
    ip -n "$NETNS" link set tlpeer0 netns "$target"
    ip -n "$target" link set tlpeer0 name eth0
    ip -n "$target" addr add 10.88.0.2/24 dev eth0
    ip -n "$target" link set eth0 up
    ip -n "$target" link set lo up
    ip -n "$target" route add default via 10.88.0.1
  fi
  ip -n "$NETNS" addr add 10.88.0.1/24 dev tlveth0
  ip -n "$NETNS" link set tlveth0 up
}

setup_common() { # creates state dir + lab netns
  if [[ -e $STATE ]]; then
    log "$STATE exists: tearing the old lab down first"
    cmd_down >/dev/null
  fi
  mkdir -p "$STATE"
  boot_ticks_now >"$STATE/created_ticks"
  echo "$RUNTIME" >"$STATE/runtime"
  : >"$STATE/info.tmp"
  emit runtime "$RUNTIME"
  emit name "$NAME"
  [[ ${#PUBLISH_ARGS[@]} -eq 0 ]] || emit publish "${TRACERLAB_PUBLISH}"
  ip netns add "$NETNS"
  ip -n "$NETNS" link set lo up
  build_rootfs "$STATE/rootfs"
}

# ---------------------------------------------------------------- podman
podman_env() {
  export CONTAINERS_CONF=$STATE/containers.conf CONTAINERS_STORAGE_CONF=$STATE/storage.conf
  export CONTAINERS_REGISTRIES_CONF=$STATE/registries.conf
  export TMPDIR=$STATE/podman/tmp   # image copies (podman load) use $TMPDIR, default /var/tmp
}
pm() { podman_env; in_lab podman "$@"; }
PODMAN_GLOBALS=(/dev/shm/libpod_lock /var/lib/containers/cache/blob-info-cache-v1.boltdb
  /var/lib/containers/cache /var/lib/containers /run/containers/networks/ipam.db
  /run/containers/networks /run/containers /run/runc)

up_podman() {
  podman_private_config "$STATE" "$STATE/podman"
  # podman 4.3 writes these outside graphroot/runroot/tmp_dir; remember the ones that did
  # not exist yet so the last podman lab's 'down' can remove them again.
  local g
  for g in "${PODMAN_GLOBALS[@]}"; do
    [[ -e $g ]] || grep -qxF "$g" "$LAB_ROOT/.podman-globals" 2>/dev/null || echo "$g" >>"$LAB_ROOT/.podman-globals"
  done
  build_image_archive "$STATE/rootfs" "$STATE/image.tar"
  pm load -q -i "$STATE/image.tar" >&2
  local command=(sleep 3600) network=bridge
  [[ -z ${TRACERLAB_COMMAND:-} ]] || command=(sh -c "$TRACERLAB_COMMAND")
  if [[ ${TRACERLAB_IPV6:-0} == 1 ]]; then
    network=tl6-$NAME
    pm network create --ipv6 --subnet 10.89.6.0/24 --subnet fd00:d6::/64 "$network" >/dev/null
    emit network "$network"
  fi
  pm run -d --name "$NAME" --network "$network" --conmon-pidfile "$STATE/conmon.pid" "${PUBLISH_ARGS[@]}" \
     "$IMAGE_REF" "${command[@]}" >"$STATE/cid"
  local cid pid
  cid=$(cat "$STATE/cid")
  pid=$(pm inspect -f '{{.State.Pid}}' "$NAME")
  CONTAINER_NETNS=$(pm inspect -f '{{.NetworkSettings.SandboxKey}}' "$NAME")
  echo "$CONTAINER_NETNS" >"$STATE/podman_netns"
  emit id "$cid"
  emit image "$IMAGE_REF"
  emit image_id "$(cat "$STATE/image_id")"
  emit podman_graphroot "$STATE/podman/storage"
  emit podman_runroot "$STATE/podman/runroot"
  emit podman_tmpdir "$STATE/podman/tmp"
  emit podman_containers_json "$STATE/podman/storage/overlay-containers/containers.json"
  emit podman_bundle_config "$STATE/podman/storage/overlay-containers/$cid/userdata/config.json"
  emit podman_db "$STATE/podman/storage/libpod/bolt_state.db"
  emit conmon_pid "$(cat "$STATE/conmon.pid" 2>/dev/null)"
  emit podman_containers_conf "$STATE/containers.conf"   # export as CONTAINERS_CONF
  emit podman_storage_conf "$STATE/storage.conf"         # export as CONTAINERS_STORAGE_CONF
  emit podman_runc_root /run/runc                         # podman does not pass --root to runc
  finish_info "$pid"
}
exec_podman() { pm exec "$NAME" "$@"; }
down_podman() {
  if [[ -f $STATE/containers.conf ]] && command -v podman >/dev/null && [[ -e $NETNS_PATH ]]; then
    podman_env
    timeout 30 nsenter --net="$NETNS_PATH" -- podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
    timeout 30 nsenter --net="$NETNS_PATH" -- podman network rm -f "tl6-$NAME" >/dev/null 2>&1 || true
    # drop the image too and unmount the storage driver's mounts
    timeout 30 nsenter --net="$NETNS_PATH" -- podman rmi -af >/dev/null 2>&1 || true
    timeout 30 nsenter --net="$NETNS_PATH" -- podman system prune -f >/dev/null 2>&1 || true
  fi
  stop_pid "$(cat "$STATE/conmon.pid" 2>/dev/null)" 5
  # podman's container netns is a bind mount in /run/netns/netns-<uuid>
  local ns; ns=$(cat "$STATE/podman_netns" 2>/dev/null || true)
  if [[ $ns == /run/netns/netns-* && -e $ns ]]; then umount "$ns" 2>/dev/null || true; rm -f "$ns"; fi
  # last podman lab gone: remove the global files podman created for us (dirs only when empty)
  local other; other=$(find "$LAB_ROOT" -maxdepth 1 -name 'podman-*' ! -path "$STATE" 2>/dev/null | head -1)
  if [[ -z $other && -f $LAB_ROOT/.podman-globals ]]; then
    local g
    while read -r g; do
      case $g in
        /dev/shm/libpod_lock|*.db|*.boltdb) rm -f "$g" ;;
      esac
    done <"$LAB_ROOT/.podman-globals"
    while read -r g; do [[ -d $g ]] && rmdir "$g" 2>/dev/null || true; done <"$LAB_ROOT/.podman-globals"
    rm -f "$LAB_ROOT/.podman-globals"
  fi
}

# ---------------------------------------------------------------- docker
dk() { "$DOCKER_BIN" -H "unix://$STATE/docker.sock" "$@"; }
up_docker() {
  [[ -x $DOCKER_BIN ]] || die "$DOCKER_BIN missing (Debian package docker.io: tools/setup.sh --test)"
  mkdir -p "$STATE/docker"/{data,exec}
  # keep dockerd 20.10's libtrust key out of /etc/docker/key.json
  echo "{\"deprecated-key-path\": \"$STATE/docker/key.json\"}" >"$STATE/docker/daemon.json"
  local dpid network=() ipv6=()
  # ip6tables (NAT66 of IPv6 networks) is experimental in dockerd 20.10, on by default from 27.
  [[ ${TRACERLAB_IPV6:-0} != 1 ]] || ipv6=(--experimental --ip6tables)
  dpid=$(start_daemon "$STATE/dockerd.log" dockerd \
    --config-file "$STATE/docker/daemon.json" \
    --data-root "$STATE/docker/data" --exec-root "$STATE/docker/exec" \
    -H "unix://$STATE/docker.sock" --pidfile "$STATE/docker/dockerd.pid" \
    --bip 172.17.0.1/16 --storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs \
    --userland-proxy=false --log-level warn "${ipv6[@]}")
  wait_for 60 dk version || { tail -20 "$STATE/dockerd.log" >&2; die "dockerd did not come up"; }
  build_image_archive "$STATE/rootfs" "$STATE/image.tar"
  dk load -q -i "$STATE/image.tar" >&2
  if [[ ${TRACERLAB_IPV6:-0} == 1 ]]; then
    network=(--network "tl6-$NAME")
    dk network create --ipv6 --subnet 10.89.7.0/24 --subnet fd00:d7::/64 "tl6-$NAME" >/dev/null
    emit network "tl6-$NAME"
  fi
  dk run -d --name "$NAME" "${network[@]}" "${PUBLISH_ARGS[@]}" "$IMAGE_REF" sleep 3600 >"$STATE/cid"
  local cid pid
  cid=$(cat "$STATE/cid")
  pid=$(dk inspect -f '{{.State.Pid}}' "$NAME")
  CONTAINER_NETNS=$(dk inspect -f '{{.NetworkSettings.SandboxKey}}' "$NAME")
  emit id "$cid"
  emit image "$IMAGE_REF"
  emit image_id "$(dk inspect -f '{{.Image}}' "$NAME")"
  emit daemon_pid "$dpid"
  emit docker_host "unix://$STATE/docker.sock"
  emit docker_root "$STATE/docker/data"
  emit docker_exec_root "$STATE/docker/exec"
  emit docker_config_v2 "$STATE/docker/data/containers/$cid/config.v2.json"
  emit containerd_state "$STATE/docker/exec/containerd/daemon"
  emit containerd_task_dir "$STATE/docker/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/$cid"
  emit runc_root "$STATE/docker/exec/runtime-runc/moby"
  SHIM_TASK_DIR=$STATE/docker/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/$cid
  finish_info "$pid"
}
exec_docker() { dk exec "$NAME" "$@"; }
down_docker() {
  if [[ -S $STATE/docker.sock ]] && timeout 5 "$DOCKER_BIN" -H "unix://$STATE/docker.sock" version >/dev/null 2>&1; then
    timeout 30 "$DOCKER_BIN" -H "unix://$STATE/docker.sock" rm -f "$NAME" >/dev/null 2>&1 || true
    timeout 30 "$DOCKER_BIN" -H "unix://$STATE/docker.sock" network rm "tl6-$NAME" >/dev/null 2>&1 || true
  fi
  local cpid
  cpid=$(cat "$STATE/docker/exec/containerd/containerd.pid" 2>/dev/null || true)
  stop_pid "$(cat "$STATE/daemon.pid" 2>/dev/null)" 20
  stop_pid "$cpid" 10   # dockerd's managed containerd (only left if dockerd died hard)
  # created by dockerd / its managed containerd outside data-root/exec-root; removed only when empty
  rmdir /opt/containerd/lib /opt/containerd/bin /opt/containerd /run/docker/plugins /run/docker 2>/dev/null || true
}

# ---------------------------------------------------------------- containerd
c_ctr() { ctr -a "$STATE/containerd/containerd.sock" -n "$CTR_NS" "$@"; }
up_containerd() {
  local r=$STATE/containerd
  mkdir -p "$r"/{root,state,opt,runc}
  cat >"$r/config.toml" <<EOF
version = 2
root = "$r/root"
state = "$r/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$r/containerd.sock"
[ttrpc]
  address = "$r/containerd.sock.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$r/opt"
EOF
  local dpid
  dpid=$(start_daemon "$STATE/containerd.log" containerd --config "$r/config.toml" --log-level warn)
  wait_for 30 c_ctr version || { tail -20 "$STATE/containerd.log" >&2; die "containerd did not come up"; }
  build_image_archive "$STATE/rootfs" "$STATE/image.tar"
  c_ctr image import "$STATE/image.tar" >&2
  c_ctr run -d --null-io --runc-root "$r/runc" --label "org.tracerlab.name=$NAME" \
     "$IMAGE_REF" "$NAME" sleep 3600 >&2
  local pid
  pid=$(c_ctr task ls | awk -v n="$NAME" '$1==n {print $2}')
  [[ -n $pid ]] || die "ctr task not found"
  wire_veth pid "$pid"
  emit id "$NAME"
  emit image "$IMAGE_REF"
  emit image_id "$(cat "$STATE/image_id")"
  emit daemon_pid "$dpid"
  emit containerd_address "$r/containerd.sock"
  emit containerd_namespace "$CTR_NS"
  emit containerd_root "$r/root"
  emit containerd_state "$r/state"
  emit containerd_meta_db "$r/root/io.containerd.metadata.v1.bolt/meta.db"
  emit containerd_task_dir "$r/state/io.containerd.runtime.v2.task/$CTR_NS/$NAME"
  emit runc_root "$r/runc/$CTR_NS"
  SHIM_TASK_DIR=$r/state/io.containerd.runtime.v2.task/$CTR_NS/$NAME
  finish_info "$pid"
}
exec_containerd() { c_ctr task exec --exec-id "tl$$-$RANDOM" "$NAME" "$@"; }
down_containerd() {
  local r=$STATE/containerd
  if [[ -S $r/containerd.sock ]] && timeout 5 ctr -a "$r/containerd.sock" version >/dev/null 2>&1; then
    timeout 15 ctr -a "$r/containerd.sock" -n "$CTR_NS" task kill -s KILL "$NAME" >/dev/null 2>&1 || true
    local i; for i in $(seq 50); do
      timeout 5 ctr -a "$r/containerd.sock" -n "$CTR_NS" task ls 2>/dev/null | awk '{print $1,$3}' | grep -q "^$NAME RUNNING" || break
      sleep 0.1
    done
    timeout 15 ctr -a "$r/containerd.sock" -n "$CTR_NS" task rm -f "$NAME" >/dev/null 2>&1 || true
    timeout 15 ctr -a "$r/containerd.sock" -n "$CTR_NS" container rm "$NAME" >/dev/null 2>&1 || true
  fi
  stop_pid "$(cat "$STATE/daemon.pid" 2>/dev/null)" 10
}

# ---------------------------------------------------------------- runc
rc() { runc --root "$STATE/runc-root" "$@"; }
up_runc() {
  local b=$STATE/bundle cns=$NETNS-ctr
  mkdir -p "$b" "$STATE/runc-root"
  mv "$STATE/rootfs" "$b/rootfs"
  (cd "$b" && runc spec)
  ip netns add "$cns"
  echo "$cns" >"$STATE/ctr_netns"
  wire_veth netns "$cns"
  local tmp; tmp=$(mktemp "$b/config.XXXX")
  jq --arg cg "/tracerlab/$NAME" --arg ns "/run/netns/$cns" --arg name "$NAME" '
      .process.terminal = false | .process.args = ["sleep", "3600"]
    | .hostname = $name | .root.readonly = false
    | .linux.cgroupsPath = $cg
    | .linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = $ns else . end]
    | .annotations = {"org.tracerlab.name": $name, "org.opencontainers.image.ref.name": "busybox-static-rootfs"}' \
    "$b/config.json" >"$tmp" && mv "$tmp" "$b/config.json"
  rc run -d --pid-file "$STATE/runc-init.pid" -b "$b" "$NAME" </dev/null >>"$STATE/runc.log" 2>&1 \
    || { cat "$STATE/runc.log" >&2; die "runc run failed"; }
  local pid; pid=$(cat "$STATE/runc-init.pid")
  CONTAINER_NETNS=/run/netns/$cns
  emit id "$NAME"
  emit image "busybox-static-rootfs"
  emit runc_root "$STATE/runc-root"
  emit runc_state "$STATE/runc-root/$NAME/state.json"
  emit bundle "$b"
  finish_info "$pid"
}
exec_runc() { rc exec "$NAME" "$@"; }
down_runc() {
  if [[ -d $STATE/runc-root/$NAME ]]; then
    rc kill "$NAME" KILL >/dev/null 2>&1 || true
    local i; for i in $(seq 50); do
      rc state "$NAME" 2>/dev/null | grep -q '"status": "running"' || break; sleep 0.1
    done
    rc delete -f "$NAME" >/dev/null 2>&1 || true
  fi
  local cns; cns=$(cat "$STATE/ctr_netns" 2>/dev/null || true)
  [[ -n $cns ]] && ip netns del "$cns" 2>/dev/null || true
}

# ---------------------------------------------------------------- generic teardown
unmount_under() { # lazily unmount every mount point under DIR, deepest first
  local dir=$1 m
  awk -v d="$dir/" '{ m=$5; gsub(/\\040/, " ", m); if (index(m, d) == 1) print m }' /proc/self/mountinfo \
    | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# Last resort after a crash: kill whatever is still ours although its runtime is gone.
#  - processes whose command line names this lab's state dir (dockerd, containerd, shims, conmon,
#    podman cleanup): only this lab passes that path to anything;
#  - processes in the cgroups listed by runc state.json files that belong to this lab.
fallback_kill() {
  local pids=() p cmd f cg
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ $p == "$$" || $p == "$PPID" ]] && continue
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
    [[ $cmd == *"$STATE/"* ]] && pids+=("$p")
  done
  for f in $(runc_state_files); do
    pids+=("$(jq -r '.init_process_pid // empty' "$f" 2>/dev/null)")
    cg=$(jq -r '.cgroup_paths[""] // .cgroup_paths.memory // empty' "$f" 2>/dev/null)
    [[ -n $cg && -f $cg/cgroup.procs ]] && pids+=($(cat "$cg/cgroup.procs"))
  done
  for p in "${pids[@]}"; do [[ -n $p ]] && kill_checked KILL "$p"; done
  for p in "${pids[@]}"; do [[ -n $p ]] && wait_gone "$p" 2 || true; done
  for f in $(runc_state_files); do
    for cg in $(jq -r '.cgroup_paths[]?' "$f" 2>/dev/null); do [[ -d $cg ]] && rmdir "$cg" 2>/dev/null || true; done
  done
}
shim_sockets() {
  local id
  case $RUNTIME in
    containerd) printf '%s' "$STATE/containerd/containerd.sock/$CTR_NS/$NAME" | sha256sum | sed 's|^\([0-9a-f]*\).*|/run/containerd/s/\1|' ;;
    docker)
      for id in $(ls "$STATE/docker/data/containers" 2>/dev/null); do
        printf '%s' "$STATE/docker/exec/containerd/containerd.sock/moby/$id" | sha256sum | sed 's|^\([0-9a-f]*\).*|/run/containerd/s/\1|'
      done ;;
  esac
}
runc_state_files() {
  find "$STATE" -xdev -name state.json -path '*runc*' 2>/dev/null || true
  [[ $RUNTIME == podman && -s $STATE/cid && -f /run/runc/$(cat "$STATE/cid")/state.json ]] && echo "/run/runc/$(cat "$STATE/cid")/state.json"
  return 0
}

rmdir_cgroup() { # remove a cgroup leaf (and given empty parents) in all hierarchies
  local rel=$1 h
  [[ -n $rel && $rel != / ]] || return 0
  for h in /sys/fs/cgroup/*/; do
    [[ -d $h${rel#/} ]] && rmdir "$h${rel#/}" 2>/dev/null || true
  done
}

cmd_down() {
  [[ -d $STATE ]] || { ip netns del "$NETNS" 2>/dev/null || true; log "$RUNTIME/$NAME: nothing to do"; return 0; }
  local t0; t0=$(now_ms)
  "down_$RUNTIME" || true
  # last resort: the container's pid 1 (if the runtime could not remove it)
  stop_pid "$(cat "$STATE/init.pid" 2>/dev/null)" 1
  # ... and its shim/conmon (left behind when the daemon died before deleting the task)
  stop_pid "$(cat "$STATE/shim.pid" 2>/dev/null)" 1   # the shim ignores SIGTERM
  fallback_kill
  # shim sockets: containerd 1.6 puts them at /run/containerd/s/sha256(<grpc address>/<ns>/<id>)
  # whatever root/state say; a shim that was killed leaves its socket behind.
  local sock id
  for sock in $(cat "$STATE/shim.address" 2>/dev/null) $(shim_sockets); do
    [[ $sock == /run/containerd/s/* && -S $sock ]] && rm -f "$sock"
  done
  # podman's runc state lives in /run/runc/<id>; drop it if podman could not
  if [[ $RUNTIME == podman && -s $STATE/cid && -d /run/runc/$(cat "$STATE/cid") ]]; then
    runc --root /run/runc delete -f "$(cat "$STATE/cid")" >/dev/null 2>&1 || rm -rf "/run/runc/$(cat "$STATE/cid")"
  fi
  # cgroups the container used (runc/shim normally remove the leaf themselves)
  if [[ -f $STATE/init.cgroup ]]; then
    local p; for p in $(cut -d: -f3 "$STATE/init.cgroup" | sort -u); do rmdir_cgroup "$p"; done
  fi
  case $RUNTIME in
    runc) rmdir_cgroup /tracerlab ;;
    containerd) rmdir_cgroup "/$CTR_NS" ;;
    docker) rmdir_cgroup /docker ;;
    podman) rmdir_cgroup /libpod_parent/conmon; rmdir_cgroup /libpod_parent ;;
  esac
  ip netns del "$NETNS" 2>/dev/null || true
  unmount_under "$STATE"
  if awk -v d="$STATE/" 'index($5, d)==1 {f=1} END {exit !f}' /proc/self/mountinfo; then
    log "mounts remain under $STATE; not deleting it"
  else
    rm -rf --one-file-system "$STATE"
  fi
  rmdir "$LAB_ROOT" 2>/dev/null || true
  # directories containerd/ctr create outside its configured root/state (only removed when empty)
  rmdir /run/containerd/s /run/containerd/fifo /run/containerd 2>/dev/null || true
  log "$RUNTIME/$NAME down in $(( $(now_ms) - t0 )) ms"
}

# ---------------------------------------------------------------- install
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../lib/need.sh
. "$TOOLS/lib/need.sh"
. "$TOOLS/lib/podman.sh"
cmd_install() { "$TOOLS/setup.sh" --test; }

# What `up RUNTIME` runs, each with the package that brings it; missing ones are named, not installed.
check_runtime() {
  local ok=0
  need ip iproute2 || ok=1
  need nsenter util-linux || ok=1
  need jq jq || ok=1
  need /bin/busybox busybox-static || ok=1
  case $1 in
    podman) need podman podman || ok=1; need runc runc || ok=1; need conmon conmon || ok=1
            need /usr/lib/podman/netavark netavark "podman's network backend" || ok=1 ;;
    docker) need "$DOCKER_BIN" docker.io || ok=1; need dockerd docker.io || ok=1; need containerd containerd || ok=1
            need runc runc || ok=1 ;;
    containerd) need containerd containerd || ok=1; need ctr containerd || ok=1; need runc runc || ok=1 ;;
    runc) need runc runc || ok=1 ;;
  esac
  ((ok == 0)) || die "missing programs for the $1 lab (see above)"
}

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# ---------------------------------------------------------------- main
cmd=${1:-}; shift || true
case $cmd in
  install) cmd_install; exit 0 ;;
  list) ls -1 "$LAB_ROOT" 2>/dev/null || true; exit 0 ;;
  up|down|exec|info) ;;
  *) usage ;;
esac
RUNTIME=${1:-}; NAME=${2:-}
[[ $RUNTIME =~ ^(podman|docker|containerd|runc)$ ]] || die "unknown runtime '$RUNTIME'"
[[ $NAME =~ ^[a-z0-9][a-z0-9_.-]{0,30}$ ]] || die "bad name '$NAME'"
shift 2
STATE=$LAB_ROOT/$RUNTIME-$NAME
PUBLISH_ARGS=()
[[ $cmd != up || ${TRACERLAB_IPV6:-0} != 1 || $RUNTIME == podman || $RUNTIME == docker ]] || die "TRACERLAB_IPV6 is for podman and docker only"
if [[ $cmd == up && -n ${TRACERLAB_PUBLISH:-} ]]; then
  [[ $RUNTIME == podman || $RUNTIME == docker ]] || die "TRACERLAB_PUBLISH is for podman and docker only"
  for spec in $TRACERLAB_PUBLISH; do
    # what -p takes: [hostip:][hostport:]containerport[/proto], hostip may be [v6]
    [[ $spec =~ ^[][0-9a-fA-F.:-]*[0-9]+(/(tcp|udp|sctp))?$ ]] || die "bad TRACERLAB_PUBLISH entry '$spec'"
    PUBLISH_ARGS+=(-p "$spec")
  done
fi
NETNS=tracerlab-$RUNTIME-$NAME
NETNS_PATH=/run/netns/$NETNS

case $cmd in
  up)
    t0=$(now_ms)
    trap 'rc=$?; if ((rc)); then log "up failed (rc=$rc); cleaning up"; [[ ${TRACERLAB_KEEP_ON_FAIL:-0} == 1 ]] || (set +e; cmd_down >/dev/null); fi' EXIT
    check_runtime "$RUNTIME"
    setup_common
    "up_$RUNTIME"
    echo "up_ms=$(( $(now_ms) - t0 ))"
    echo "up_ms=$(( $(now_ms) - t0 ))" >>"$STATE/info"
    trap - EXIT
    ;;
  info) [[ -f $STATE/info ]] || die "$RUNTIME/$NAME is not up"; cat "$STATE/info" ;;
  exec)
    [[ ${1:-} == -- ]] && shift
    (($#)) || die "exec needs a command"
    [[ -f $STATE/info ]] || die "$RUNTIME/$NAME is not up"
    "exec_$RUNTIME" "$@"
    ;;
  down) cmd_down ;;
esac
