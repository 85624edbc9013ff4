import BPF
import Glibc

/// Kernel text addresses to function names, from /proc/kallsyms, for drop locations.
/// Read once, on first use or on `loadIfNeeded`: the file has ~200k lines (about 90 ms of CPU).
public final class KernelSymbols: @unchecked Sendable {
    private var starts: [UInt64] = []
    private var names: [String] = []
    private var loaded = false
    private let path: String

    public init(path: String = "/proc/kallsyms") {
        self.path = path
    }

    /// "ip_error" for an address inside it; "0x..." when it cannot be named (addresses
    /// hidden by kptr_restrict read as zero).
    public func name(of address: UInt64) -> String {
        if !loaded { load() }
        var low = 0, high = starts.count
        while low < high {
            let mid = (low + high) / 2
            if starts[mid] <= address { low = mid + 1 } else { high = mid }
        }
        guard low > 0, address != 0 else { return "0x" + String(address, radix: 16) }
        return names[low - 1]
    }

    /// Reads the symbols now unless done already, for a caller that would rather pay for them
    /// before its work than in the middle of it.
    public func loadIfNeeded() {
        if !loaded { load() }
    }

    /// Kernel text symbols (t/T, module ones too) sorted by address.
    static func parse(_ text: [UInt8]) -> (starts: [UInt64], names: [String]) {
        var entries: [(UInt64, String)] = []
        entries.reserveCapacity(text.count / 40)
        var lineStart = 0
        let count = text.count
        while lineStart < count {
            var lineEnd = lineStart
            while lineEnd < count && text[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            // "ffffffff81000000 T _stext [module]"
            var i = lineStart
            var address: UInt64 = 0
            while i < lineEnd, let digit = hexValue(text[i]) {
                address = address << 4 | UInt64(digit)
                i += 1
            }
            if i + 3 < lineEnd, text[i] == UInt8(ascii: " "), text[i + 1] | 0x20 == UInt8(ascii: "t"), text[i + 2] == UInt8(ascii: " "), address != 0 {
                var nameEnd = i + 3
                while nameEnd < lineEnd && text[nameEnd] != UInt8(ascii: " ") && text[nameEnd] != UInt8(ascii: "\t") { nameEnd += 1 }
                entries.append((address, String(decoding: text[(i + 3)..<nameEnd], as: UTF8.self)))
            }
            lineStart = lineEnd + 1
        }
        entries.sort { $0.0 < $1.0 }
        return (entries.map(\.0), entries.map(\.1))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Whether /proc/kallsyms shows this process real addresses: the kernel prints zeros instead
    /// unless it holds CAP_SYSLOG (or perf_event_paranoid is 1 or less and kptr_restrict 0), and
    /// drop locations are then shown as addresses. Reads only the first line.
    public static func addressesVisible(path: String = "/proc/kallsyms") -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 64)
        guard case .success(let n) = Errno.retryingOnInterrupt({ read(fd, &bytes, bytes.count) }), n > 0 else { return false }
        return bytes.prefix(n).prefix { $0 != UInt8(ascii: " ") }.contains { $0 != UInt8(ascii: "0") }
    }

    private func load() {
        loaded = true
        guard let bytes = try? FileSystem.readBytes(path, kind: .kernelTable) else { return }
        (starts, names) = KernelSymbols.parse(bytes)
    }
}
