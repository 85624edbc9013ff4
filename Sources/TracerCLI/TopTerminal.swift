import BPF
import Glibc
import Synchronization
import TracerCore

/// The interactive screen of `tracer top`, the sink of its session's records: alternate screen,
/// hidden cursor, keys read without echo or line buffering, each record's frame (`TopRender`)
/// drawn in place, the last one again on a resize. `restore()` undoes all of it and is called on
/// every way out (q, Ctrl-C, SIGTERM, an error), since the command's `defer` runs for each.
/// Ctrl-Z gives the shell its screen back before stopping, and `fg` takes it over again.
final class TopTerminal: RecordSink {
    private static let resized = Atomic<Bool>(false)
    private static let suspendRequested = Atomic<Bool>(false)
    private let render: TopRender
    private var last: TopRecord?
    private var quit = false
    private var saved = termios()
    private var keysEnabled = false
    private var active = false

    /// Takes over the terminal. Keys are read only when standard input is a terminal too.
    init(render: TopRender) {
        self.render = render
        signal(SIGWINCH) { _ in TopTerminal.resized.store(true, ordering: .relaxed) }
        takeOver()
    }

    func emit(_ record: TopRecord) {
        last = record
        redraw()
    }

    func flush() {}

    /// True once q (or Ctrl-C as a key, or the end of input) asked to quit.
    var isClosed: Bool { quit }

    /// Between snapshots: waits up to `milliseconds` for a key; q quits, Ctrl-Z suspends, and
    /// after a resize or a resume the last frame is drawn again.
    func idle(milliseconds: Int32) {
        if key(waitingUpTo: milliseconds) == .quit {
            quit = true
            return
        }
        let resumed = suspendIfAsked()
        if takeResize() || resumed { redraw() }
    }

    private func redraw() {
        guard let last else { return }
        let size = size
        draw(render.screen(last, width: size.columns, height: size.rows))
    }

    private func takeOver() {
        // Stopping is deferred to the main loop, which restores the terminal first (`suspendIfAsked`).
        signal(SIGTSTP) { _ in TopTerminal.suspendRequested.store(true, ordering: .relaxed) }
        if isatty(0) == 1 && tcgetattr(0, &saved) == 0 {
            var raw = saved
            // No canonical mode or echo; ISIG stays, so Ctrl-C is SIGINT, handled like SIGTERM.
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
            withUnsafeMutableBytes(of: &raw.c_cc) { cc in
                cc[Int(VMIN)] = 0
                cc[Int(VTIME)] = 0
            }
            keysEnabled = tcsetattr(0, TCSANOW, &raw) == 0
        }
        active = true
        write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J")
    }

    deinit { restore() }

    /// Leaves the alternate screen, shows the cursor and puts the terminal modes back.
    func restore() {
        guard active else { return }
        active = false
        write("\u{1B}[?25h\u{1B}[?1049l")
        if keysEnabled { tcsetattr(0, TCSANOW, &saved) }
        keysEnabled = false
        signal(SIGTSTP, SIG_DFL)
    }

    /// After Ctrl-Z: restores the terminal, stops this process as the default action would, and
    /// once continued takes the terminal over again. True when it did, so the caller redraws.
    private func suspendIfAsked() -> Bool {
        guard TopTerminal.suspendRequested.exchange(false, ordering: .relaxed), active else { return false }
        restore()
        raise(SIGTSTP) // default action now: stop; returns after SIGCONT
        takeOver()
        return true
    }

    /// Columns and rows; 80x24 when the terminal does not say.
    private var size: (columns: Int, rows: Int) {
        var ws = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 else { return (80, 24) }
        return (Int(ws.ws_col), Int(ws.ws_row))
    }

    /// True once after each SIGWINCH.
    private func takeResize() -> Bool { TopTerminal.resized.exchange(false, ordering: .relaxed) }

    /// Draws over the previous frame without clearing first, so nothing flickers: each line
    /// overwrites the old one and clears what is left of it, then everything below is cleared.
    private func draw(_ lines: [String]) {
        var frame = "\u{1B}[H"
        for (i, line) in lines.enumerated() {
            frame += line + "\u{1B}[K"
            if i < lines.count - 1 { frame += "\r\n" }
        }
        frame += "\u{1B}[J"
        write(frame)
    }

    private enum Key { case quit, other }

    /// Waits up to `milliseconds` for a key (or a signal); nil when none came.
    private func key(waitingUpTo milliseconds: Int32) -> Key? {
        guard keysEnabled else {
            usleep(useconds_t(max(0, milliseconds)) * 1000)
            return nil
        }
        var fds = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        guard poll(&fds, 1, milliseconds) > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 64)
        let n = read(0, &bytes, bytes.count)
        // End of input (the terminal went away) ends the session too.
        if n == 0 { return .quit }
        guard n > 0 else { return nil }
        return bytes.prefix(n).contains { $0 == UInt8(ascii: "q") || $0 == UInt8(ascii: "Q") || $0 == 3 } ? .quit : .other
    }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = Errno.retryingOnInterrupt {
                bytes.withUnsafeMutableBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
            }
            guard case .success(let n) = written else { return }
            offset += n
        }
    }
}
