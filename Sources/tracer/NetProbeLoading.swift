import TracerCore

/// What `tracer drops` and `tracer egress` need before their session runs, with the exit code
/// each failure deserves.
enum NetProbeLoading {
    /// The running kernel's drop-reason names; without them, exit 69 saying where they were looked for.
    static func dropReasons(command: String) throws -> DropReasons {
        guard let reasons = DropReasons.load() else {
            printError("tracer \(command): cannot read the kernel's drop reasons from skb/kfree_skb/format in tracefs; run `tracer check`")
            throw TracerExit.unavailable
        }
        return reasons
    }

    /// The network probe, loaded and attached, with `scope`'s devices and addresses in it.
    static func probe(_ options: NetProbeOptions, scope: EgressScope, command: String) throws -> NetProbe {
        do {
            let probe = try NetProbe(options: options)
            try scope.apply(to: probe)
            return probe
        } catch {
            throw fail(error, command: command)
        }
    }
}
