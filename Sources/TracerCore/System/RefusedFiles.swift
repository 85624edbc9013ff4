import Synchronization

/// Files `FileSystem.readBytes` refused (not a regular file, or over its cap), each told once:
/// `tracer exec` meets the same container's metadata at every exec of that container, and a
/// warning per event would bury the output.
///
/// The command line installs the teller (a line on stderr); without one, refusals are only
/// remembered. The reader's caller still gets the error and goes on with what it could read.
public enum RefusedFiles {
    /// Paths remembered at most; a host with more hostile files than this gets one last line
    /// saying further refusals go untold, so the set cannot grow without bound either.
    static let remembered = 4096

    private struct State {
        var told: Set<String> = []
        var saturated = false
        var teller: (@Sendable (String) -> Void)?
    }

    private static let state = Mutex(State())

    /// Where refusals are told from now on; each message is one line naming the file and why.
    public static func tell(with teller: @escaping @Sendable (String) -> Void) {
        state.withLock { $0.teller = teller }
    }

    /// Remembers the refusal; tells it when its path is new. True when it was new.
    @discardableResult
    static func record(_ error: FileSystem.ReadError) -> Bool {
        let (isNew, message, teller): (Bool, String?, (@Sendable (String) -> Void)?) = state.withLock { s in
            if s.told.contains(error.path) { return (false, nil, nil) }
            if s.told.count >= remembered {
                if s.saturated { return (false, nil, nil) }
                s.saturated = true
                return (true, "more than \(remembered) files refused; further refusals are not told", s.teller)
            }
            s.told.insert(error.path)
            return (true, error.description, s.teller)
        }
        // Told outside the lock: the teller writes to stderr and could be slow.
        if let message { teller?(message) }
        return isNew
    }

    /// Whether `path` was refused since the start (tests; for tests).
    static func wasRefused(_ path: String) -> Bool {
        state.withLock { $0.told.contains(path) }
    }
}
