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
        guard let context = nft_ctx_new(0) else { throw .library("nft_ctx_new failed") }
        defer { nft_ctx_free(context) }
        nft_ctx_output_set_flags(context, options.rawValue)
        guard nft_ctx_buffer_output(context) == 0, nft_ctx_buffer_error(context) == 0 else {
            throw .library("cannot buffer libnftables output")
        }
        let status = nft_run_cmd_from_buffer(context, commands)
        let out = nft_ctx_get_output_buffer(context).map { String(cString: $0) } ?? ""
        let err = nft_ctx_get_error_buffer(context).map { String(cString: $0) } ?? ""
        return Output(status: status, stdout: out, stderr: err)
    }
}
