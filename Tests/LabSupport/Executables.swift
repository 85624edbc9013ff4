/// Executables a test writes and then runs are written by a child process: a file this process
/// opened for writing could be inherited by a child another test spawns at that moment, and
/// every exec of it would then fail with ETXTBSY ("Text file busy") while that child lives.
public enum Executables {
    /// Copies `source` to `destination`, replacing it.
    public static func copy(_ source: String, to destination: String) throws {
        let status = try ChildProcess.spawn(["/bin/cp", "-f", source, destination]).wait().status
        guard status == 0 else { throw LabShell.Failure("cp \(source) \(destination): status \(status)") }
    }

    /// Writes `text` to `path` with mode 755.
    public static func write(_ text: String, to path: String) throws {
        let status = try ChildProcess.spawn(["/bin/sh", "-c", "printf %s \"$1\" > \"$0\" && chmod 755 \"$0\"", path, text]).wait().status
        guard status == 0 else { throw LabShell.Failure("writing \(path): status \(status)") }
    }
}
