/// Interfaces in tables and JSON, with the veth peer and its bridge. Names are chosen by whoever
/// made the interface (a container's user may rename its own), so the table escapes them.
/// The table shows IPv4 and the global IPv6 addresses; link-local ones (fe80::/64, one on every
/// IPv6 interface) are left to the JSON to keep the line short.
public enum LinkRender {
    public static func summary(_ link: LinkReport) -> String {
        let i = link.interface
        var text = "index \(i.index)" + (i.kind.map { " " + ByteText.escaped($0) } ?? "") + (i.isUp ? " up" : " DOWN")
        if i.isUp && !i.hasCarrier { text += " NO-CARRIER" }
        text += " mtu \(i.mtu)"
        let addresses = i.ipv4 + i.globalIPv6
        if !addresses.isEmpty { text += " " + addresses.map(\.description).joined(separator: " ") }
        if let peer = link.peer {
            text += "  peer \(ByteText.escaped(peer.name)) (index \(peer.index), netns \(peer.netnsInode)"
                + (peer.bridge.map { ", bridge " + ByteText.escaped($0) } ?? "") + ")"
        }
        return text
    }

    public static func json(_ link: LinkReport) -> JSONLine {
        let i = link.interface
        var json = JSONLine()
        json.add("name", i.name)
        json.add("index", i.index)
        json.add("kind", optional: i.kind)
        json.add("up", i.isUp)
        json.add("carrier", i.hasCarrier)
        json.add("mtu", i.mtu)
        json.add("ipv4", strings: i.ipv4.map(\.description))
        json.add("ipv6", strings: i.ipv6.map(\.description))
        if let peer = link.peer {
            var p = JSONLine()
            p.add("name", peer.name)
            p.add("index", peer.index)
            p.add("netns", peer.netnsInode)
            p.add("bridge", optional: peer.bridge)
            json.add("peer", object: p)
        } else {
            json.addNull("peer")
        }
        return json
    }
}
