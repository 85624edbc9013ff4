/// Numbers to `DropReason` values and back, on the running kernel.
extension DropReasons {
    /// The reason with this kernel's number and name ("REASON_<n>" when this kernel does not name it).
    public func reason(_ code: UInt32) -> DropReason {
        DropReason(code: code, name: DropReason.Name(name(code)))
    }

    /// The number of a named reason on this kernel.
    public func number(_ name: DropReason.Name) -> UInt32? { number(name.rawValue) }
}
