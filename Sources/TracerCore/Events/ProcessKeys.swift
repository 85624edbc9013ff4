/// Where a process ran, as the kernel saw it at exec time: enough to find its container
/// after the process (and maybe the container) is gone.
public struct ProcessKeys: Sendable, Equatable, Hashable {
    /// cgroup v2 (unified) id; 1 is the root.
    public var cgroupID: UInt64
    /// id in one v1 hierarchy (memory, pids or cpuset), 0 on v2-only hosts.
    public var cgroupV1ID: UInt64
    public var mountNamespace: UInt32
    public var networkNamespace: UInt32
    public var pidNamespace: UInt32
    public var pidInNamespace: UInt32
    public var cgroupName: String
    public var cgroupParent: String
    public var cgroupV1Name: String
    public var cgroupV1Parent: String

    public init(cgroupID: UInt64 = 0, cgroupV1ID: UInt64 = 0, mountNamespace: UInt32 = 0, networkNamespace: UInt32 = 0,
                pidNamespace: UInt32 = 0, pidInNamespace: UInt32 = 0, cgroupName: String = "", cgroupParent: String = "",
                cgroupV1Name: String = "", cgroupV1Parent: String = "") {
        self.cgroupID = cgroupID
        self.cgroupV1ID = cgroupV1ID
        self.mountNamespace = mountNamespace
        self.networkNamespace = networkNamespace
        self.pidNamespace = pidNamespace
        self.pidInNamespace = pidInNamespace
        self.cgroupName = cgroupName
        self.cgroupParent = cgroupParent
        self.cgroupV1Name = cgroupV1Name
        self.cgroupV1Parent = cgroupV1Parent
    }
}
