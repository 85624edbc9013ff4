// Testing is there only when tests are built; `swift build -c release` builds this target too.
#if canImport(Testing)
import Glibc
import Testing

/// A privileged test's prerequisite (root, a runtime, a lab tool). Where it is not met the test is
/// skipped with its reason, except under CI (`CI=true`): CI runs as root after `tools/setup.sh
/// --test`, so a skip there means a missing prerequisite and fails the test instead of hiding it.
public struct Prerequisite: TestTrait, SuiteTrait, TestScoping {
    let isMet: @Sendable () -> Bool
    let reason: Comment

    public var isRecursive: Bool { true }

    public static var underCI: Bool {
        guard let value = getenv("CI") else { return false }
        return String(cString: value) == "true"
    }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        if test.isSuite || isMet() { return try await function() }
        if Self.underCI {
            Issue.record("CI runs as root after tools/setup.sh --test, so a skip here is a missing prerequisite: \(reason.rawValue)")
            return
        }
        try Test.cancel(reason)
    }
}

extension Trait where Self == Prerequisite {
    /// Runs the test only where `condition` holds (see `Prerequisite`).
    public static func requires(_ condition: @autoclosure @escaping @Sendable () -> Bool, _ reason: Comment) -> Self {
        Prerequisite(isMet: condition, reason: reason)
    }
}
#endif
