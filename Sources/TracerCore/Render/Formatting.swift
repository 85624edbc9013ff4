import BPF
import Glibc

/// Short human forms shared by the table renderers.
public enum Formatting {
    /// "850us", "12.3ms", "4.50s", "3m12s".
    public static func duration(_ ns: UInt64) -> String {
        switch ns {
        case ..<1_000_000: return "\(ns / 1000)us"
        case ..<1_000_000_000: return oneDecimal(Double(ns) / 1e6) + "ms"
        case ..<60_000_000_000: return String(format2: Double(ns) / 1e9) + "s"
        default: return "\(ns / 60_000_000_000)m\((ns / 1_000_000_000) % 60)s"
        }
    }

    /// HH:MM:SS.mmm in local time, from Unix-epoch nanoseconds.
    public static func clock(_ epochNanoseconds: Int64) -> String {
        var seconds = time_t(epochNanoseconds / 1_000_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let millis = (epochNanoseconds / 1_000_000) % 1000
        return pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2) + "." + pad(Int32(millis), 3)
    }

    /// RFC 3339 UTC with nanoseconds, for JSON.
    public static func rfc3339(_ epochNanoseconds: Int64) -> String {
        String(decoding: rfc3339Bytes(epochNanoseconds, cache: nil), as: UTF8.self)
    }

    /// The date and time up to the seconds, remembered between calls: consecutive events share it.
    public final class SecondsCache {
        var second: Int64 = .min
        var prefix: [UInt8] = []
        public init() {}
    }

    /// RFC 3339 bytes; with a cache, only the fraction is formatted for events in the same second.
    public static func rfc3339Bytes(_ epochNanoseconds: Int64, cache: SecondsCache?) -> [UInt8] {
        let second = epochNanoseconds / 1_000_000_000
        var nanos = epochNanoseconds % 1_000_000_000
        var out: [UInt8]
        if let cache, cache.second == second {
            out = cache.prefix
        } else {
            out = Array(rfc3339Seconds(second).utf8)
            cache?.second = second
            cache?.prefix = out
        }
        var fraction = [UInt8](repeating: 48, count: 9)
        for i in stride(from: 8, through: 0, by: -1) {
            fraction[i] = 48 + UInt8(nanos % 10)
            nanos /= 10
        }
        out.append(46)
        out.append(contentsOf: fraction)
        out.append(90)
        return out
    }

    private static func rfc3339Seconds(_ second: Int64) -> String {
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return "\(parts.tm_year + 1900)-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2)
    }

    static func pad(_ value: Int32, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// Left-aligned in `width` columns; never cuts (the table stays readable when a value is wide).
    public static func left(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Signal names for exit statuses.
    public static func signalName(_ signal: Int32) -> String {
        let names = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
                     8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
                     14: "SIGALRM", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS"]
        return names[Int(signal)] ?? "SIG\(signal)"
    }

    /// "ENOENT" for 2; "E<n>" for a number without a name.
    public static func errnoName(_ value: Int32) -> String {
        Errno(value).name ?? "E\(value)"
    }
}

extension String {
    /// Two decimals without Foundation's formatter.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }
}
