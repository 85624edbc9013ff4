import CLibNftables

/// One call into libnftables, the library nft is built on: the same parser, JSON output and
/// handles as `nft -j -a`, without the nft binary. The context (and the netlink socket
/// libnftables opens for it) is created and freed inside the call, so the call acts in the
/// network namespace of the calling thread: wrap it in `RouteNetlink.inNamespace`.
enum NftablesLibrary {
    struct Output {
        var status: Int32
        var stdout: String
        /// Errors and warnings ("# Warning: table ip filter is managed by iptables-nft, ...").
        var stderr: String
    }

    struct Options: OptionSet {
        let rawValue: UInt32
        static let json = Options(rawValue: UInt32(NFT_CTX_OUTPUT_JSON))
        static let handle = Options(rawValue: UInt32(NFT_CTX_OUTPUT_HANDLE))
        static let stateless = Options(rawValue: UInt32(NFT_CTX_OUTPUT_STATELESS))
        static let numeric = Options(rawValue: UInt32(NFT_CTX_OUTPUT_NUMERIC_PROTO))
    }

    /// Runs nft commands (`list ruleset`, `add table inet x`, a whole script).
    static func run(_ commands: String, options: Options = []) throws(NetfilterError) -> Output {
        let nft = try api.get().table
        guard let context = nft.ctx_new(0) else { throw .library("nft_ctx_new failed") }
        defer { nft.ctx_free(context) }
        nft.ctx_output_set_flags(context, options.rawValue)
        guard nft.ctx_buffer_output(context) == 0, nft.ctx_buffer_error(context) == 0 else {
            throw .library("cannot buffer libnftables output")
        }
        // libxtables, under libnftables, prints some messages itself ("XT target MASQUERADE not
        // found" for an ip6tables-nft rule it cannot translate): they join the buffered errors
        // instead of landing, unasked, on our standard error.
        let (status, direct) = StandardError.captured { nft.run_cmd_from_buffer(context, commands) }
        let out = nft.ctx_get_output_buffer(context).map { String(cString: $0) } ?? ""
        let err = nft.ctx_get_error_buffer(context).map { String(cString: $0) } ?? ""
        return Output(status: status, stdout: out, stderr: err + direct)
    }

    /// The library's functions, loaded on first use (see shim.h for why it is not linked).
    private static let api: Result<Functions, NetfilterError> = {
        var functions = tracer_nft_api()
        if let error = tracer_nft_load(&functions) {
            return .failure(.library("cannot load libnftables (package libnftables1): \(String(cString: error))"))
        }
        return .success(Functions(table: functions))
    }()

    /// Function pointers into a library that stays loaded: safe to share between threads.
    private struct Functions: @unchecked Sendable {
        let table: tracer_nft_api
    }
}
