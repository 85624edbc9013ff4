/// One port of a Linux bridge as the bridge sees it (RTM_GETLINK with family AF_BRIDGE,
/// what `bridge link show` prints): the STP state decides whether frames pass.
public struct BridgePort: Sendable, Equatable {
    /// BR_STATE_* from <linux/if_bridge.h>.
    public enum State: UInt8, Sendable {
        case disabled = 0, listening = 1, learning = 2, forwarding = 3, blocking = 4

        public var name: String {
            switch self {
            case .disabled: return "disabled"
            case .listening: return "listening"
            case .learning: return "learning"
            case .forwarding: return "forwarding"
            case .blocking: return "blocking"
            }
        }
    }

    public var index: Int32
    public var name: String
    /// The bridge's ifindex (IFLA_MASTER).
    public var masterIndex: Int32?
    /// IFLA_PROTINFO -> IFLA_BRPORT_STATE; nil when the kernel did not send it.
    public var state: State?
    /// IFLA_BRPORT_MODE: hairpin mode, a frame may leave by the port it came in by (a container
    /// reaching its own published port); nil when the kernel did not send it.
    public var hairpin: Bool?

    public init(index: Int32, name: String, masterIndex: Int32? = nil, state: State? = nil, hairpin: Bool? = nil) {
        self.index = index
        self.name = name
        self.masterIndex = masterIndex
        self.state = state
        self.hairpin = hairpin
    }
}

extension NL {
    // <linux/socket.h>, <linux/if_link.h>
    static let AF_BRIDGE: UInt8 = 7
    static let IFLA_PROTINFO: UInt16 = 12
    static let IFLA_BRPORT_STATE: UInt16 = 1
    static let IFLA_BRPORT_MODE: UInt16 = 4
}

/// Decodes one RTM_NEWLINK of an AF_BRIDGE dump. Nil if it is not one or is too short.
func parseBridgePort(_ message: NetlinkMessage) -> BridgePort? {
    let p = message.payload
    guard message.type == NL.RTM_NEWLINK, p.count >= NL.IFINFOMSG_LEN, p[0] == NL.AF_BRIDGE,
          let index = p.read(Int32.self, at: 4)
    else { return nil }
    var port = BridgePort(index: index, name: "")
    for attribute in parseAttributes(p, from: NL.IFINFOMSG_LEN) {
        switch attribute.type {
        case NL.IFLA_IFNAME:
            port.name = attributeString(attribute.value)
        case NL.IFLA_MASTER:
            if let master = attribute.value.read(Int32.self, at: 0), master != 0 { port.masterIndex = master }
        case NL.IFLA_PROTINFO:
            // Nested (NLA_F_NESTED is masked off by parseAttributes).
            for info in parseAttributes(attribute.value) {
                switch info.type {
                case NL.IFLA_BRPORT_STATE: port.state = info.value.first.flatMap(BridgePort.State.init(rawValue:))
                case NL.IFLA_BRPORT_MODE: port.hairpin = info.value.first.map { $0 != 0 }
                default: break
                }
            }
        default:
            break
        }
    }
    return port
}
