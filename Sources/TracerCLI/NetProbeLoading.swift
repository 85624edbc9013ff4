import BPF
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

    /// `tracer drops`' session with its probe loaded and attached (`tracer drops`, `tracer agent`).
    static func dropsSession(command: String, runtimes: RuntimeOptions, all: Bool, containers: [String],
                             deadline: UInt64?, countInterval: UInt64?, stop: StopEvent? = nil) throws -> (session: DropsSession, probe: NetProbe) {
        let reasons = try dropReasons(command: command)
        let finder = EgressPathFinder(resolver: runtimes.resolver)
        let containerIDs = containers.isEmpty ? nil
            : Set(try finder.inventory.containers(matching: containers).map(\.identity.id))
        // Endpoint addresses let forwarded drops (on host devices) name their container.
        let scope = EgressScope(paths: (try? finder.paths()) ?? [])
        let probe = try probe(.drops(reasons: reasons, showAll: all), scope: scope, command: command)
        let describer = DropDescriber(reasons: reasons, scope: scope, directory: finder.directory, inventory: finder.inventory)
        let session = DropsSession(source: probe, describer: describer, scope: scope, options: .init(
            showAll: all, containerIDs: containerIDs, deadline: deadline,
            countInterval: countInterval, noContainers: finder.inventory.containers.isEmpty, stop: stop))
        return (session, probe)
    }
}
