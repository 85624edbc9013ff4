import Testing
@testable import TracerCore

/// One path and the verdict expected for it.
struct PathCase: Sendable, CustomTestStringConvertible {
    var path: String
    var expected: CgroupClassification
    var testDescription: String { path }
}

let id64 = "605439acbd4fb18c145069289094b17f17e0cfa938f78012d4960bc797305f22"
let crioID = "17d8c9eacc629f9945f304d89e9708c0c619649a484a215b240628319548a09f"
let dockerV1ID = "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d"
let podID = "0b5c7e2e3f4d41a6b8f3a1c9d7e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8"
let payloadID = "9cc35a90d1e0f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b"

func container(
    _ runtime: ContainerRuntime, _ id: String, pod: String? = nil, qos: String? = nil,
    namespace: String? = nil, kubernetes: Bool = false
) -> CgroupClassification {
    .container(CgroupMatch(runtime: runtime, containerID: id, podUID: pod, qosClass: qos,
                           containerdNamespace: namespace, kubernetes: kubernetes))
}

/// Every example in docs/attribution.md section 1, plus what this machine showed.
let documentedPaths: [PathCase] = [
    PathCase(path: "/docker/\(id64)", expected: container(.docker, id64)),
    PathCase(path: "/system.slice/docker-\(dockerV1ID).scope", expected: container(.docker, dockerV1ID)),
    PathCase(path: "/user.slice/user-1000.slice/user@1000.service/user.slice/docker-\(id64).scope",
             expected: container(.docker, id64)),
    PathCase(path: "/default/redis", expected: container(.containerd, "redis", namespace: "default")),
    PathCase(path: "/default/\(id64)", expected: container(.containerd, id64, namespace: "default")),
    PathCase(path: "/system.slice/nerdctl-\(id64).scope", expected: container(.containerd, id64)),
    PathCase(path: "/user.slice/user-1000.slice/user@1000.service/user.slice/nerdctl-\(id64).scope",
             expected: container(.containerd, id64)),
    PathCase(path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8f2a6b1c_4d3e_4f5a_9b8c_7d6e5f4a3b2c.slice/cri-containerd-\(id64).scope",
             expected: container(.containerd, id64, pod: "8f2a6b1c-4d3e-4f5a-9b8c-7d6e5f4a3b2c", qos: "burstable", kubernetes: true)),
    PathCase(path: "/kubepods/besteffort/podac04f3f2-1f2c-11e9-b015-1ebee232acfa/\(id64)",
             expected: container(.containerd, id64, pod: "ac04f3f2-1f2c-11e9-b015-1ebee232acfa", qos: "besteffort", kubernetes: true)),
    PathCase(path: "/kubepods-burstable-podbd12dd3393227d950605a2444b13c27a.slice:cri-containerd:\(id64)",
             expected: container(.containerd, id64, pod: "bd12dd3393227d950605a2444b13c27a", qos: "burstable", kubernetes: true)),
    PathCase(path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod63b3ebfc_2890_11e9_8154_16bf8ef8d9dc.slice/crio-\(crioID).scope",
             expected: container(.crio, crioID, pod: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc", qos: "besteffort", kubernetes: true)),
    PathCase(path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod63b3ebfc_2890_11e9_8154_16bf8ef8d9dc.slice/crio-conmon-\(crioID).scope",
             expected: .runtimeHelper(runtime: .crio, what: "crio-conmon")),
    PathCase(path: "/kubepods/besteffort/pod63b3ebfc-2890-11e9-8154-16bf8ef8d9dc/crio-\(crioID)",
             expected: container(.crio, crioID, pod: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc", qos: "besteffort", kubernetes: true)),
    PathCase(path: "/kubepods/besteffort/pod63b3ebfc-2890-11e9-8154-16bf8ef8d9dc/crio-conmon-\(crioID)",
             expected: .runtimeHelper(runtime: .crio, what: "crio-conmon")),
    PathCase(path: "/kubepods.slice/kubepods-pod63b3ebfc_2890_11e9_8154_16bf8ef8d9dc.slice/cri-containerd-\(id64).scope",
             expected: container(.containerd, id64, pod: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc", qos: "guaranteed", kubernetes: true)),
    PathCase(path: "/kubepods/pod63b3ebfc-2890-11e9-8154-16bf8ef8d9dc/\(id64)",
             expected: container(.containerd, id64, pod: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc", qos: "guaranteed", kubernetes: true)),
    PathCase(path: "/machine.slice/libpod-\(id64).scope", expected: container(.podman, id64)),
    PathCase(path: "/machine.slice/libpod-\(id64).scope/container", expected: container(.podman, id64)),
    PathCase(path: "/machine.slice/libpod-conmon-\(id64).scope", expected: .runtimeHelper(runtime: .podman, what: "conmon")),
    PathCase(path: "/machine.slice/machine-libpod_pod_\(podID).slice/libpod-\(id64).scope",
             expected: container(.podman, id64, pod: podID)),
    PathCase(path: "/libpod_parent/libpod-\(id64)", expected: container(.podman, id64)),
    PathCase(path: "/libpod_parent/conmon", expected: .runtimeHelper(runtime: .podman, what: "conmon")),
    PathCase(path: "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-\(id64).scope/container",
             expected: container(.podman, id64)),
    PathCase(path: "/user.slice/user-1000.slice/user@1000.service/user.slice/user-libpod_pod_\(podID).slice/libpod-\(id64).scope",
             expected: container(.podman, id64, pod: podID)),
    PathCase(path: "/system.slice/system-ceph\\x2dfsid.slice/ceph-fsid@mon.x.service/libpod-payload-\(payloadID)",
             expected: container(.podman, payloadID)),
    PathCase(path: "/lxc.payload.web1", expected: container(.lxc, "web1")),
    PathCase(path: "/lxc.payload.myproject_web1/init.scope", expected: container(.lxc, "myproject_web1")),
    PathCase(path: "/lxc.monitor.web1", expected: .runtimeHelper(runtime: .lxc, what: "lxc.monitor")),
    PathCase(path: "/lxc/web1", expected: container(.lxc, "web1")),
    PathCase(path: "/machine.slice/systemd-nspawn@debian.service/payload", expected: container(.nspawn, "debian")),
    PathCase(path: "/machine.slice/systemd-nspawn@debian.service/supervisor",
             expected: .runtimeHelper(runtime: .nspawn, what: "supervisor")),
    PathCase(path: "/machine.slice/machine-my\\x2dbox.scope", expected: container(.nspawn, "my-box")),
    PathCase(path: "/machine.slice/machine-lxc\\x2d2293906\\x2dlibvirt\\x2dcontainer.scope",
             expected: container(.nspawn, "lxc-2293906-libvirt-container")),
    // Nesting and --cgroup-root: matched anywhere, innermost wins.
    PathCase(path: "/kind/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod63b3ebfc_2890_11e9_8154_16bf8ef8d9dc.slice/cri-containerd-\(id64).scope",
             expected: container(.containerd, id64, pod: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc", qos: "besteffort", kubernetes: true)),
    PathCase(path: "/system.slice/docker-\(dockerV1ID).scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod63b3ebfc_2890_11e9_8154_16bf8ef8d9dc.slice/cri-containerd-\(id64).scope",
             expected: container(.containerd, id64, pod: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc", qos: "guaranteed", kubernetes: true)),
    PathCase(path: "/docker/\(dockerV1ID)/docker/\(id64)", expected: container(.docker, id64)),
    PathCase(path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podbd12dd3393227d950605a2444b13c27a.slice/docker-\(id64).scope",
             expected: container(.docker, id64, pod: "bd12dd3393227d950605a2444b13c27a", qos: "besteffort", kubernetes: true)),
    PathCase(path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod63b3ebfc_2890_11e9_8154_16bf8ef8d9dc.slice/cri-containerd-\(id64).scope/container",
             expected: container(.containerd, id64, pod: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc", qos: "burstable", kubernetes: true)),
    // runc's systemd driver: system.slice:runc:<id>.
    PathCase(path: "/system.slice/runc-sd.scope", expected: container(.runc, "sd")),
    // Seen on this machine.
    PathCase(path: "/libpod_parent/libpod-\(podID)", expected: container(.podman, podID)),
    PathCase(path: "/tracer-test/web", expected: container(.containerd, "web", namespace: "tracer-test")),
    PathCase(path: "/machine.slice/systemd-nspawn@my\\x2dbox.service/payload", expected: container(.nspawn, "my-box")),
    PathCase(path: "/system.slice/docker-\(id64).scope/", expected: container(.docker, id64)),
]

let hostPaths: [PathCase] = [
    PathCase(path: "/", expected: .host),
    PathCase(path: "", expected: .host),
    PathCase(path: "/init.scope", expected: .host),
    PathCase(path: "/user.slice", expected: .host),
    PathCase(path: "/user.slice/user-0.slice/session-3.scope", expected: .host),
    PathCase(path: "/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome\\x2dterminal.scope", expected: .host),
    PathCase(path: "/system.slice/cron.service", expected: .host),
    PathCase(path: "/system.slice/docker.service", expected: .host),
    PathCase(path: "/system.slice/containerd.service", expected: .host),
    PathCase(path: "/system.slice/docker.socket", expected: .host),
    PathCase(path: "/machine.slice", expected: .host),
    PathCase(path: "/kubepods.slice/kubepods-burstable.slice", expected: .host),
    // libvirt's qemu VMs register with machined but are not containers.
    PathCase(path: "/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope", expected: .host),
    // Too short or non-hex ids under a known prefix are not taken.
    PathCase(path: "/system.slice/docker-abc.scope", expected: .host),
]

let unrecognisedPaths: [PathCase] = [
    PathCase(path: "/a/b/c", expected: .unrecognised("/a/b/c")),
    PathCase(path: "/kubepods/besteffort", expected: .unrecognised("/kubepods/besteffort")),
    PathCase(path: "/docker", expected: .unrecognised("/docker")),
    PathCase(path: "/system.slice/containerd.service/extra", expected: .unrecognised("/system.slice/containerd.service/extra")),
    // Too short or non-hex ids under a known prefix are not taken.
    PathCase(path: "/docker/notanid", expected: .unrecognised("/docker/notanid")),
    // ctr's shape needs containerd identifiers.
    PathCase(path: "/my ns/redis", expected: .unrecognised("/my ns/redis")),
    PathCase(path: "/user/x@y", expected: .unrecognised("/user/x@y")),
]

@Suite struct CgroupPathClassifierTests {
    @Test("documented runtime layouts", arguments: documentedPaths)
    func documented(_ testCase: PathCase) {
        #expect(CgroupPathClassifier.classify(path: testCase.path) == testCase.expected)
    }

    @Test("host paths", arguments: hostPaths)
    func host(_ testCase: PathCase) {
        #expect(CgroupPathClassifier.classify(path: testCase.path) == testCase.expected)
    }

    @Test("paths no rule claims", arguments: unrecognisedPaths)
    func unrecognised(_ testCase: PathCase) {
        #expect(CgroupPathClassifier.classify(path: testCase.path) == testCase.expected)
    }

    @Test func ctrShapeNeedsExactlyTwoComponents() {
        #expect(CgroupPathClassifier.classify(path: "/default/redis/extra") == .unrecognised("/default/redis/extra"))
        #expect(CgroupPathClassifier.classify(path: "/system.slice/cron.service") == .host)
        #expect(CgroupPathClassifier.classify(path: "/docker/\(id64)") == container(.docker, id64))
        #expect(CgroupPathClassifier.classify(path: "/lxc/web1") == container(.lxc, "web1"))
        #expect(CgroupPathClassifier.classify(path: "/kubepods/burstable") == .unrecognised("/kubepods/burstable"))
    }

    @Test func podUIDUnderscoresBecomeDashes() throws {
        let path = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod63b3ebfc_2890_11e9_8154_16bf8ef8d9dc.slice/cri-containerd-\(id64).scope"
        guard case .container(let match) = CgroupPathClassifier.classify(path: path) else {
            Issue.record("not a container")
            return
        }
        #expect(match.podUID == "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc")
        #expect(match.podUID?.contains("_") == false)
    }

    @Test func truncatedLeafStillClassifies() {
        // The kernel keeps 127 bytes; the misconfigured literal form overflows that.
        let literal = "kubepods-burstable-podbd12dd3393227d950605a2444b13c27a.slice:cri-containerd:\(id64)"
        let truncated = String(literal.utf8.prefix(127))!
        guard case .container(let match) = CgroupPathClassifier.classify(leaf: truncated, parent: "") else {
            Issue.record("truncated literal leaf not classified")
            return
        }
        #expect(match.runtime == .containerd)
        #expect(id64.hasPrefix(match.containerID))
        #expect(match.containerID.count < 64)
        #expect(match.qosClass == "burstable")
    }

    @Test func unescapeKeepsBrokenEscapes() {
        #expect(CgroupName.unescapeSystemd("a\\x2db") == "a-b")
        #expect(CgroupName.unescapeSystemd("a\\x2") == "a\\x2")
        #expect(CgroupName.unescapeSystemd("a\\xzz") == "a\\xzz")
    }

    @Test func containerdIdentifierRule() {
        #expect(CgroupName.isContainerdIdentifier("k8s.io"))
        #expect(CgroupName.isContainerdIdentifier("tracer-test"))
        #expect(!CgroupName.isContainerdIdentifier("-lead"))
        #expect(!CgroupName.isContainerdIdentifier("trail-"))
        #expect(!CgroupName.isContainerdIdentifier("a..b"))
        #expect(!CgroupName.isContainerdIdentifier(String(repeating: "a", count: 77)))
    }
}
