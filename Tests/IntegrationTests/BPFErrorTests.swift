import BPF
import Glibc
import Testing

/// How a refused load is told apart: missing privileges, or the verifier's verdict.
struct BPFErrorTests {
    @Test func verifierRejectionIsNotAPermissionProblem() {
        let verifier = BPFError.load(object: "net", program: "on_receive", errno: EACCES, log: """
            libbpf: prog 'on_receive': BPF program load failed: Permission denied
            libbpf: prog 'on_receive': -- BEGIN PROG LOAD LOG --
            R1 invalid mem access 'scalar'
            -- END PROG LOAD LOG --
            """)
        #expect(verifier.isVerifierRejection)
        #expect(!verifier.isPermissionDenied)

        let unprivileged = BPFError.load(object: "net", program: nil, errno: EPERM, log: "libbpf: Error in bpf_object__probe_loading(): Operation not permitted")
        #expect(unprivileged.isPermissionDenied)
        #expect(!unprivileged.isVerifierRejection)
        #expect(BPFError.attach(program: "p", target: "t", errno: EACCES).isPermissionDenied)
    }
}
