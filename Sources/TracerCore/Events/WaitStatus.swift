/// How a process ended, in the kernel's wait-status layout: the exit code << 8, or the number of
/// the signal that killed it, | 0x80 when it dumped core.
public struct WaitStatus: Sendable, Hashable {
    public var raw: UInt32

    public init(_ raw: UInt32) {
        self.raw = raw
    }

    /// The signal that ended the process, or nil for a normal exit.
    public var signal: Int32? { raw & 0x7f == 0 ? nil : Int32(raw & 0x7f) }
    public var exitCode: Int32? { signal == nil ? Int32((raw >> 8) & 0xff) : nil }
    public var coreDumped: Bool { raw & 0x80 != 0 }
}
