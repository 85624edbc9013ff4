# podman with everything of its own under one directory: storage, run root, events, temporary
# files, networks and volumes, so that a lab or a test never touches the host's podman.
# Used by tools/lab/containers.sh and by DeployTests (through tools/lib/podman.sh itself).

# podman_private_config CONF_DIR DATA_DIR: writes CONF_DIR/{containers,storage,registries}.conf
# keeping podman's state under DATA_DIR/{storage,runroot,tmp,netconf,volumes}; point podman at
# them with CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF.
podman_private_config() {
  local conf=$1 data=$2
  mkdir -p "$conf" "$data"/{storage,runroot,tmp,netconf,volumes}
  cat >"$conf/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$data/tmp/events.log"
tmp_dir = "$data/tmp"
volume_path = "$data/volumes"
[network]
network_backend = "netavark"
network_config_dir = "$data/netconf"
CONF
  cat >"$conf/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$data/storage"
runroot = "$data/runroot"
CONF
  : >"$conf/registries.conf"
}
