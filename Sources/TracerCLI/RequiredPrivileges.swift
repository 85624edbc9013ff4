import TracerCore

extension Privileges {
    /// Run before a command touches the kernel: exits 77 with one line naming every capability
    /// `command` lacks and what for, and notes on stderr what it will do less well. The rules are
    /// `Privileges`', the same `tracer check` reports.
    static func require(_ command: Privileges.Command) throws {
        let privileges = Privileges.current()
        let missing = privileges.shortfalls(for: command)
        guard missing.isEmpty else {
            printError("tracer \(command.rawValue): " + Privileges.refusal(missing))
            throw TracerExit.noPermission
        }
        for limitation in privileges.limitations(for: command) {
            printError("tracer \(command.rawValue): note: \(limitation.text)")
        }
    }
}
