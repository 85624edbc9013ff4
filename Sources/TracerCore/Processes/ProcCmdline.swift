/// /proc/PID/cmdline: the one reader of that file. Arguments are NUL-separated bytes.
public enum ProcCmdline {
    public static func read(pid: Int32, procRoot: String = "/proc") -> [[UInt8]] {
        guard let bytes = try? FileSystem.readBytes("\(procRoot)/\(pid)/cmdline", kind: .processFile) else { return [] }
        return parse(bytes)
    }

    public static func parse(_ bytes: [UInt8]) -> [[UInt8]] {
        var args = bytes.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
        if args.last?.isEmpty == true { args.removeLast() }
        return args
    }
}
