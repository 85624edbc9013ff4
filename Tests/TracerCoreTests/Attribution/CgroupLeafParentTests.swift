import Testing
@testable import TracerCore

/// A leaf and parent name as the kernel captured them, and the verdict expected.
struct LeafCase: Sendable, CustomTestStringConvertible {
    var leaf: String
    var parent: String
    var expected: CgroupClassification
    var testDescription: String { "\(parent)/\(leaf)" }
}

let leafCases: [LeafCase] = [
    LeafCase(leaf: "container", parent: "libpod-\(id64).scope", expected: container(.podman, id64)),
    LeafCase(leaf: "libpod-\(id64)", parent: "libpod_parent", expected: container(.podman, id64)),
    LeafCase(leaf: "conmon", parent: "libpod_parent", expected: .runtimeHelper(runtime: .podman, what: "conmon")),
    LeafCase(leaf: "libpod-\(id64).scope", parent: "machine-libpod_pod_\(podID).slice",
             expected: container(.podman, id64, pod: podID)),
    LeafCase(leaf: id64, parent: "docker", expected: container(.docker, id64)),
    LeafCase(leaf: "docker-\(id64).scope", parent: "system.slice", expected: container(.docker, id64)),
    // cgroupfs kubepods: the QoS level is in the grandparent, which was not captured.
    LeafCase(leaf: id64, parent: "podac04f3f2-1f2c-11e9-b015-1ebee232acfa",
             expected: container(.containerd, id64, pod: "ac04f3f2-1f2c-11e9-b015-1ebee232acfa", kubernetes: true)),
    LeafCase(leaf: "crio-\(crioID)", parent: "pod63b3ebfc-2890-11e9-8154-16bf8ef8d9dc",
             expected: container(.crio, crioID, pod: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc", kubernetes: true)),
    // systemd kubepods: the pod slice's own name carries the QoS level.
    LeafCase(leaf: "cri-containerd-\(id64).scope", parent: "kubepods-besteffort-pod63b3ebfc_2890_11e9_8154_16bf8ef8d9dc.slice",
             expected: container(.containerd, id64, pod: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc", qos: "besteffort", kubernetes: true)),
    LeafCase(leaf: "cri-containerd-\(id64).scope", parent: "kubepods-pod63b3ebfc_2890_11e9_8154_16bf8ef8d9dc.slice",
             expected: container(.containerd, id64, pod: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc", qos: "guaranteed", kubernetes: true)),
    LeafCase(leaf: "crio-conmon-\(crioID).scope", parent: "kubepods-besteffort-pod63b3ebfc_2890_11e9_8154_16bf8ef8d9dc.slice",
             expected: .runtimeHelper(runtime: .crio, what: "crio-conmon")),
    // Ambiguous by shape; the resolver confirms it against containerd's state.
    LeafCase(leaf: "redis", parent: "default", expected: container(.containerd, "redis", namespace: "default")),
    LeafCase(leaf: "payload", parent: "systemd-nspawn@debian.service", expected: container(.nspawn, "debian")),
    LeafCase(leaf: "supervisor", parent: "systemd-nspawn@debian.service",
             expected: .runtimeHelper(runtime: .nspawn, what: "supervisor")),
    LeafCase(leaf: "lxc.payload.web1", parent: "", expected: container(.lxc, "web1")),
    LeafCase(leaf: "init.scope", parent: "lxc.payload.web1", expected: container(.lxc, "web1")),
    LeafCase(leaf: "lxc.monitor.web1", parent: "", expected: .runtimeHelper(runtime: .lxc, what: "lxc.monitor")),
    LeafCase(leaf: "web1", parent: "lxc", expected: container(.lxc, "web1")),
    LeafCase(leaf: "machine-my\\x2dbox.scope", parent: "machine.slice", expected: container(.nspawn, "my-box")),
    LeafCase(leaf: "libpod-payload-\(payloadID)", parent: "ceph-fsid@mon.x.service", expected: container(.podman, payloadID)),
    // Host and negatives.
    LeafCase(leaf: "", parent: "", expected: .host),
    LeafCase(leaf: "/", parent: "", expected: .host),
    LeafCase(leaf: "init.scope", parent: "", expected: .host),
    LeafCase(leaf: "session-3.scope", parent: "user-0.slice", expected: .host),
    LeafCase(leaf: "cron.service", parent: "system.slice", expected: .host),
    LeafCase(leaf: "docker.service", parent: "system.slice", expected: .host),
    LeafCase(leaf: "user.slice", parent: "", expected: .host),
    // Top-level single names are not ctr's /<ns>/<id>.
    LeafCase(leaf: "default", parent: "", expected: .unrecognised("/default")),
    LeafCase(leaf: "container", parent: "something", expected: container(.containerd, "container", namespace: "something")),
    LeafCase(leaf: "init.scope", parent: id64, expected: .unrecognised("\(id64)/init.scope")),
]

@Suite struct CgroupLeafParentTests {
    @Test("leaf and parent names", arguments: leafCases)
    func leafAndParent(_ testCase: LeafCase) {
        #expect(CgroupPathClassifier.classify(leaf: testCase.leaf, parent: testCase.parent) == testCase.expected)
    }

    /// Whatever the full path says, the last two names must not contradict it about the runtime and id.
    @Test("agrees with the full path", arguments: documentedPaths)
    func agreesWithFullPath(_ testCase: PathCase) {
        let components = testCase.path.split(separator: "/").map(String.init)
        guard case .container(let full) = testCase.expected, let leaf = components.last else { return }
        let parent = components.count > 1 ? components[components.count - 2] : ""
        let fromNames = CgroupPathClassifier.classify(leaf: leaf, parent: parent)
        guard case .container(let partial) = fromNames else {
            // Only bare names whose meaning lives further up may fail: none of the documented ones.
            Issue.record("leaf+parent lost the container: \(fromNames)")
            return
        }
        #expect(partial.runtime == full.runtime)
        #expect(partial.containerID == full.containerID)
        // The pod may be out of sight (crun's /container under a pod slice), but never a different one.
        #expect(partial.podUID == nil || partial.podUID == full.podUID)
    }
}
