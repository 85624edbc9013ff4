/// The way out of one endpoint (a container, or a namespace made with `ip netns`): its own
/// interface, the host side that holds the peer veth (any namespace, not only the root one),
/// the bridge that veth is a port of, and the uplink the host's default route leaves by.
/// Built once by discovery; `tracer diagnose` checks it, `tracer egress` and `tracer drops`
/// scope their tracing to its devices.
public struct EgressPath: Sendable, Equatable {
    /// The container or named namespace whose traffic this is.
    public struct Endpoint: Sendable, Equatable {
        /// The container's runtime name, else the netns name, else "netns:<inode>".
        public var name: String
        /// Nil for a namespace no runtime manages.
        public var container: ContainerIdentity?
        public var netnsInode: UInt64
        /// A path to enter the namespace by (/run/netns/X or /proc/PID/ns/net).
        public var netnsPath: String
        /// The endpoint's interface towards the host (eth0 in a container).
        public var interface: String
        public var interfaceIndex: Int32
        /// Its IPv4 addresses with their prefix length (10.88.0.2/16).
        public var ipv4: [IPPrefix]
        /// Its IPv6 addresses, link-local included: with no usable global one (DAD failed, say)
        /// its packets leave from the link-local address, and the host must not forward them.
        public var ipv6: [IPPrefix]
        public var mtu: UInt32

        public init(name: String, container: ContainerIdentity? = nil, netnsInode: UInt64, netnsPath: String,
                    interface: String, interfaceIndex: Int32, ipv4: [IPPrefix], ipv6: [IPPrefix] = [], mtu: UInt32) {
            self.name = name
            self.container = container
            self.netnsInode = netnsInode
            self.netnsPath = netnsPath
            self.interface = interface
            self.interfaceIndex = interfaceIndex
            self.ipv4 = ipv4
            self.ipv6 = ipv6
            self.mtu = mtu
        }

        /// Its addresses of both families, IPv4 first: its packets' sources.
        public var addresses: [IPPrefix] { ipv4 + ipv6 }

        /// The addresses others reach it by: link-local ones left out (fd00:17::2/64, not fe80::).
        public var routableAddresses: [IPPrefix] { ipv4 + ipv6.filter(\.address.isGlobalIPv6) }

        /// Its interface, as the probe keys devices.
        public var device: DeviceKey { DeviceKey(netns: netnsInode, ifindex: interfaceIndex) }
    }

    /// A device in the host-side namespace.
    public struct Device: Sendable, Equatable {
        public var name: String
        public var index: Int32

        public init(name: String, index: Int32) {
            self.name = name
            self.index = index
        }
    }

    public var endpoint: Endpoint
    /// The namespace holding the host side: peer veth, bridge, uplink.
    public var hostNetnsInode: UInt64
    public var hostNetnsPath: String
    /// True when the host side is the root namespace (pid 1's).
    public var hostIsRoot: Bool
    /// The host end of the endpoint's veth.
    public var hostVeth: Device?
    /// The bridge `hostVeth` is a port of; nil for a routed veth.
    public var bridge: Device?
    /// The device the host side's default route leaves by; nil without a default route.
    public var uplink: Device?
    /// The default route's gateway, if it has one.
    public var gateway: IPAddress?

    public init(endpoint: Endpoint, hostNetnsInode: UInt64, hostNetnsPath: String, hostIsRoot: Bool,
                hostVeth: Device? = nil, bridge: Device? = nil, uplink: Device? = nil, gateway: IPAddress? = nil) {
        self.endpoint = endpoint
        self.hostNetnsInode = hostNetnsInode
        self.hostNetnsPath = hostNetnsPath
        self.hostIsRoot = hostIsRoot
        self.hostVeth = hostVeth
        self.bridge = bridge
        self.uplink = uplink
        self.gateway = gateway
    }

    /// A device of the host side, as the probe keys devices.
    public func hostDevice(_ device: Device) -> DeviceKey { DeviceKey(netns: hostNetnsInode, ifindex: device.index) }
}
