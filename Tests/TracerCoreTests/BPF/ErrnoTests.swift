import BPF
import Glibc
import Testing

struct ErrnoTests {
    @Test func textNamesTheErrorAndItsNumber() {
        #expect(Errno(EACCES).description == "Permission denied (EACCES, errno 13)")
        #expect(Errno(524).description == "not supported by this kernel (ENOTSUPP, errno 524)")
        #expect(Errno(200).name == nil)
        #expect(Errno(200).description.hasSuffix("(errno 200)"))
    }

    @Test func interruptedCallsAreRetriedAndOtherFailuresReturned() throws {
        var calls = 0
        let result = Errno.retryingOnInterrupt { () -> Int32 in
            calls += 1
            if calls < 3 { errno = EINTR; return -1 }
            return 7
        }
        #expect(calls == 3)
        #expect(try result.get() == 7)

        let failed = Errno.retryingOnInterrupt { () -> Int in errno = EPIPE; return -1 }
        #expect(failed == .failure(Errno(EPIPE)))
    }
}
