/// `tracer pid --container`: the container's name line, then PID (host), CPID (inside) and the
/// argv of each process; or one `container_process` object per process.
public enum ContainerProcessesRender {
    public static func table(_ listing: ContainerProcesses) -> [String] {
        let c = listing.container
        var lines = ["CONTAINER \(ByteText.escaped(c.name ?? "-")) (\(c.runtime.rawValue) \(ByteText.escaped(c.id)))",
                     "PID     CPID    COMMAND"]
        for process in listing.processes {
            lines.append(Formatting.left(String(process.pid), 7) + " " + Formatting.left(String(process.pidInContainer), 7) + " "
                + ExecTable.arguments(process.commandLine, truncated: false))
        }
        return lines
    }

    public static func json(_ listing: ContainerProcesses) -> [JSONLine] {
        listing.processes.map { process in
            var json = JSONLine()
            json.add("type", "container_process")
            json.add("pid", process.pid)
            json.add("pid_in_container", process.pidInContainer)
            json.add("cmdline", strings: process.commandLine)
            json.add("container", object: ContainerJSON.object(listing.container))
            return json
        }
    }
}
