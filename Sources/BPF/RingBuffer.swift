import CLibBPF
import Glibc

/// Consumes a BPF ring buffer. Each record is handed over as bytes that are valid
/// only during the call; decode or copy them there.
public final class RingBuffer {
    private var handle: OpaquePointer?
    private let sink: Sink
    private let map: BPFMap

    private final class Sink {
        let onRecord: (UnsafeRawBufferPointer) -> Void
        init(_ onRecord: @escaping (UnsafeRawBufferPointer) -> Void) { self.onRecord = onRecord }
    }

    public init(map: BPFMap, onRecord: @escaping (UnsafeRawBufferPointer) -> Void) throws {
        self.map = map
        sink = Sink(onRecord)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        guard let rb = ring_buffer__new(map.fd, { context, data, size in
            guard let context, let data else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            sink.onRecord(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }, context, nil) else {
            throw BPFError.ringBuffer(errno: errno)
        }
        handle = rb
    }

    deinit { close() }

    public func close() {
        if let handle {
            ring_buffer__free(handle)
            self.handle = nil
        }
    }

    /// Waits up to `timeoutMilliseconds` for records and consumes all that are ready; with a
    /// `stop` event, returns as soon as it fires too. Returns how many were consumed; an
    /// interrupting signal counts as zero, not an error.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32, stop: StopEvent? = nil) throws -> Int {
        guard let handle else { return 0 }
        if let stop {
            // The ring buffer's epoll fd is readable while a ring has records: one poll(2) waits
            // for either, then the records are consumed as ring_buffer__poll would.
            var watched = [pollfd(fd: ring_buffer__epoll_fd(handle), events: Int16(POLLIN), revents: 0),
                           pollfd(fd: stop.descriptor, events: Int16(POLLIN), revents: 0)]
            let ready = Glibc.poll(&watched, 2, timeoutMilliseconds)
            if ready < 0 { let e = errno; if e != EINTR { throw BPFError.ringBuffer(errno: e) } }
            return try drain()
        }
        let n = ring_buffer__poll(handle, timeoutMilliseconds)
        if n == -EINTR { return 0 }
        if n < 0 { throw BPFError.ringBuffer(errno: -n) }
        return Int(n)
    }

    /// Consumes whatever is ready without waiting.
    @discardableResult
    public func drain() throws -> Int {
        guard let handle else { return 0 }
        let n = ring_buffer__consume(handle)
        if n < 0 && n != -EINTR { throw BPFError.ringBuffer(errno: -n) }
        return max(0, Int(n))
    }
}
