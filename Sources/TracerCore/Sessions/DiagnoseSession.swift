/// A record of `tracer diagnose`'s stream.
public enum DiagnoseRecord: Sendable, Equatable {
    /// No endpoint was found to check.
    case noEndpoints
    /// One endpoint's path and what its checks found, errors first.
    case endpoint(EgressPath, findings: [Finding])
    /// One published port, the endpoint it leads to and what its checks found, errors first.
    case publishedPort(PublishedPortReport)
    case summary(DiagnoseSummary)
}

/// The figures of a run of `tracer diagnose`, its last record.
public struct DiagnoseSummary: Sendable, Equatable {
    public var endpoints: Int
    public var errors: Int
    public var warnings: Int
    public var infos: Int
    /// Published ports checked (their findings are in the counts above).
    public var publishedPorts: Int = 0
}

/// `tracer diagnose`: every selected path checked without tracing, one record per endpoint,
/// then the summary (`errors` > 0: exit status 2). On a host the checks enter namespaces and
/// read the firewall (CAP_SYS_ADMIN, CAP_NET_ADMIN).
public final class DiagnoseSession {
    private let paths: [EgressPath]
    private let checks: (EgressPath) -> [Finding]
    private let ports: () -> [PublishedPortReport]

    /// `checks`: `EgressDiagnosis.checks(directory:)` on a host, fixed findings in tests;
    /// `ports`: `IngressDiagnosis.reports(runtime:paths:everyPort:)` on a host, run after the
    /// endpoints.
    public init(paths: [EgressPath], checks: @escaping (EgressPath) -> [Finding],
                ports: @escaping () -> [PublishedPortReport] = { [] }) {
        self.paths = paths
        self.checks = checks
        self.ports = ports
    }

    @discardableResult
    public func run(into sink: some RecordSink<DiagnoseRecord>) -> DiagnoseSummary {
        if paths.isEmpty { sink.emit(.noEndpoints) }
        var counts: [Finding.Severity: Int] = [:]
        for path in paths {
            let findings = checks(path)
            for finding in findings { counts[finding.severity, default: 0] += 1 }
            sink.emit(.endpoint(path, findings: findings))
            sink.flush()
        }
        let reports = paths.isEmpty ? [] : ports()
        for report in reports {
            for finding in report.findings { counts[finding.severity, default: 0] += 1 }
            sink.emit(.publishedPort(report))
        }
        sink.flush()
        let summary = DiagnoseSummary(endpoints: paths.count, errors: counts[.error] ?? 0, warnings: counts[.warning] ?? 0,
                                      infos: counts[.info] ?? 0, publishedPorts: reports.count)
        sink.emit(.summary(summary))
        sink.flush()
        return summary
    }
}
