/// The narrowest change to a firewall that lets one failed flow through, and why it is no wider:
/// the element an allow-list lookup missed, an accept for exactly that flow before the drop, or
/// (only when the drop rule matches nothing but that flow) the drop rule itself.
public struct RuleFix: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// `nft add element inet filter allow_in { 172.17.0.2 . 22 }`, `ipset add ...`.
        case addSetElement = "add-set-element"
        /// An accept matching only the failed flow, placed before the rule that dropped it.
        case insertAccept = "insert-accept"
        /// An accept for the replies of the flows to one service (its address, protocol and source
        /// port, conntrack established), before the rule that dropped a reply.
        case acceptReplies = "accept-replies"
        /// The drop rule matches this flow and nothing wider.
        case deleteRule = "delete-rule"
    }

    public var kind: Kind
    /// The command in the firewall's own terms, to run in the namespace of the rule (the caller
    /// prefixes the namespace): `nft add element inet filter allow_in { 172.17.0.2 . 22 }`.
    public var command: String
    /// What shows it is the narrowest: "the lookup ip daddr . tcp dport @allow_in in inet filter
    /// allowed_dnats missed 172.17.0.2 . 22".
    public var evidence: String
    /// The accept of the flow's replies, run after `command`, when the same firewall would drop
    /// those next (a policy drop with nothing accepting established packets does).
    public var repliesCommand: String?

    public init(kind: Kind, command: String, evidence: String, repliesCommand: String? = nil) {
        self.kind = kind
        self.command = command
        self.evidence = evidence
        self.repliesCommand = repliesCommand
    }

    /// Every command of the fix, each run in `namespace`, as one line to paste.
    func commands(in namespace: NamespaceCommand) -> String {
        ([command] + (repliesCommand.map { [$0] } ?? [])).map(namespace.run).joined(separator: " && ")
    }
}
