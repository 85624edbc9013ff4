/// Default routes in tables and JSON, one per family, for `tracer netns` and `tracer pid`. A family
/// without one still gets its line (`none`) and its key (null): a namespace with a global IPv6
/// address and no IPv6 default route gets ENETUNREACH for every destination off its own subnets.
public enum DefaultRouteRender {
    /// (label, "via 10.88.0.1 dev eth0" or "none"), IPv4 first. IPv4's label is the one it had
    /// before IPv6 was shown.
    public static func rows(_ routes: [DefaultRoute]) -> [(label: String, value: String)] {
        IPAddress.Family.allCases.map { family in
            (family == .v4 ? "default route" : "ipv6 default route", routes.first { $0.family == family }.map(text) ?? "none")
        }
    }

    /// "via 10.88.0.1 dev eth0"; "via -" for a route without a gateway (a point-to-point device).
    static func text(_ r: DefaultRoute) -> String {
        "via " + (r.route.gateway.map { "\($0)" } ?? "-") + (r.device.map { " dev " + ByteText.escaped($0) } ?? "")
    }

    /// `default_route` (IPv4) and `ipv6_default_route`: {`gateway`, `device`}, or null.
    public static func add(_ routes: [DefaultRoute], to json: inout JSONLine) {
        for family in IPAddress.Family.allCases {
            let key: StaticString = family == .v4 ? "default_route" : "ipv6_default_route"
            guard let r = routes.first(where: { $0.family == family }) else {
                json.addNull(key)
                continue
            }
            var object = JSONLine()
            object.add("gateway", optional: r.route.gateway.map { "\($0)" })
            object.add("device", optional: r.device)
            json.add(key, object: object)
        }
    }
}
