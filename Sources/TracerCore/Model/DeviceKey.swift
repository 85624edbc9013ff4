/// A device anywhere on the host: interface indexes repeat across network namespaces, so a
/// device is its namespace (the nsfs inode, 32 bits as the kernel keeps it) and its ifindex.
public struct DeviceKey: Hashable, Sendable {
    public var netnsInode: UInt32
    public var ifindex: Int32

    public init(netnsInode: UInt32, ifindex: Int32) {
        self.netnsInode = netnsInode
        self.ifindex = ifindex
    }

    /// From an inode as stat(2) gives it: nsfs inodes are 32-bit numbers (proc_inum).
    public init(netns inode: UInt64, ifindex: Int32) {
        self.init(netnsInode: UInt32(truncatingIfNeeded: inode), ifindex: ifindex)
    }
}
