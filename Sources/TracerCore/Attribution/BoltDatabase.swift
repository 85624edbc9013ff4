/// A read-only view of a bbolt (BoltDB) file held in memory: podman 4's `bolt_state.db` (before
/// podman 4.8 moved to SQLite) keeps each container's configuration there, and only there:
/// its published ports, its networks, its state. Pure: the owner of the file reads the bytes.
///
/// The layout (go.etcd.io/bbolt, little-endian as written on x86-64 and arm64): fixed-size pages;
/// pages 0 and 1 hold two copies of the meta record, the valid one with the higher transaction
/// id wins; a bucket is a B+tree of branch and leaf pages, or, when small, a page stored inline
/// in its parent's value. The writer never changes a page a committed meta reaches, so a copy of
/// the file taken between two commits is consistent; one torn by a commit during the read fails
/// the checksum of its new meta, or leaves pages this reader bounds-checks and skips.
struct BoltDatabase {
    let bytes: [UInt8]
    let pageSize: Int
    let root: Bucket

    static let magic: UInt32 = 0xED0C_DAED
    static let pageHeaderSize = 16
    static let elementSize = 16
    static let branchFlag: UInt16 = 0x01
    static let leafFlag: UInt16 = 0x02
    static let bucketLeafFlag: UInt32 = 0x01
    /// Deeper than any tree of a file within the reader's cap; stops a cycle in a damaged file.
    static let maxDepth = 32

    /// A bucket's tree: a page of the file, or an inline page inside a value.
    enum Bucket {
        case page(UInt64)
        case inline(Range<Int>)
    }

    /// One key of a bucket: a value, or a nested bucket.
    struct Entry {
        var key: ArraySlice<UInt8>
        var value: Range<Int>
        var isBucket: Bool
    }

    /// Nil when neither meta page is valid (not a bolt file, or both copies torn).
    init?(bytes: [UInt8]) {
        self.bytes = bytes
        var best: (txid: UInt64, pageSize: Int, root: UInt64)?
        // Page 1 sits one page in; the page size is in page 0's meta, or the usual 4096 when it is torn.
        var offsets = [0]
        if let size = Self.meta(bytes, at: 0)?.pageSize { offsets.append(size) } else { offsets.append(4096) }
        for offset in offsets {
            guard let meta = Self.meta(bytes, at: offset) else { continue }
            if best == nil || meta.txid > best!.txid { best = meta }
        }
        guard let best else { return nil }
        pageSize = best.pageSize
        root = .page(best.root)
    }

    /// The meta record of the page at `offset`: magic, version 2, checksum (FNV-1a of the 56 bytes before it).
    private static func meta(_ bytes: [UInt8], at offset: Int) -> (txid: UInt64, pageSize: Int, root: UInt64)? {
        let m = offset + pageHeaderSize
        guard m + 64 <= bytes.count, u32(bytes, m) == magic, u32(bytes, m + 4) == 2 else { return nil }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes[m..<m + 56] {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        guard hash == u64(bytes, m + 56) else { return nil }
        let size = Int(u32(bytes, m + 8))
        guard size >= 512, size <= 1 << 20, size & (size - 1) == 0 else { return nil }
        return (u64(bytes, m + 48), size, u64(bytes, m + 16))
    }

    /// The nested bucket `name` of `bucket`.
    func bucket(_ name: String, in bucket: Bucket) -> Bucket? {
        let key = Array(name.utf8)
        guard let entry = entries(of: bucket).first(where: { $0.isBucket && $0.key.elementsEqual(key) }) else { return nil }
        return nestedBucket(entry)
    }

    /// The bucket an entry holds: its 16-byte header (root page, sequence), and an inline page
    /// after it when the root is 0.
    func nestedBucket(_ entry: Entry) -> Bucket? {
        guard entry.isBucket, entry.value.count >= 16 else { return nil }
        let rootPage = Self.u64(bytes, entry.value.lowerBound)
        return rootPage == 0 ? .inline(entry.value.lowerBound + 16..<entry.value.upperBound) : .page(rootPage)
    }

    /// The value of key `name` in `bucket` (not a nested bucket).
    func value(_ name: String, in bucket: Bucket) -> ArraySlice<UInt8>? {
        let key = Array(name.utf8)
        guard let entry = entries(of: bucket).first(where: { !$0.isBucket && $0.key.elementsEqual(key) }) else { return nil }
        return bytes[entry.value]
    }

    /// Every key of a bucket in key order; what a damaged page holds is left out.
    func entries(of bucket: Bucket) -> [Entry] {
        var out: [Entry] = []
        var visited: Set<UInt64> = []
        switch bucket {
        case .page(let id): collect(page: id, into: &out, visited: &visited, depth: 0)
        case .inline(let range): collect(pageAt: range.lowerBound, end: range.upperBound, into: &out, visited: &visited, depth: 0)
        }
        return out
    }

    /// `visited`: a damaged file could name one page from many branches; each is read once.
    private func collect(page id: UInt64, into out: inout [Entry], visited: inout Set<UInt64>, depth: Int) {
        guard id > 1, id < UInt64(bytes.count / pageSize), visited.insert(id).inserted else { return }
        let start = Int(id) * pageSize
        guard Self.u64(bytes, start) == id else { return }
        let overflow = Int(Self.u32(bytes, start + 12))
        let end = min(bytes.count, start + (overflow + 1) * pageSize)
        collect(pageAt: start, end: end, into: &out, visited: &visited, depth: depth)
    }

    private func collect(pageAt start: Int, end: Int, into out: inout [Entry], visited: inout Set<UInt64>, depth: Int) {
        guard depth < Self.maxDepth, start + Self.pageHeaderSize <= end, end <= bytes.count else { return }
        let flags = Self.u16(bytes, start + 8)
        let count = Int(Self.u16(bytes, start + 10))
        for i in 0..<count {
            let element = start + Self.pageHeaderSize + i * Self.elementSize
            guard element + Self.elementSize <= end else { return }
            if flags & Self.branchFlag != 0 {
                collect(page: Self.u64(bytes, element + 8), into: &out, visited: &visited, depth: depth + 1)
            } else if flags & Self.leafFlag != 0 {
                let entryFlags = Self.u32(bytes, element)
                let keyStart = element + Int(Self.u32(bytes, element + 4))
                let keyEnd = keyStart + Int(Self.u32(bytes, element + 8))
                let valueEnd = keyEnd + Int(Self.u32(bytes, element + 12))
                guard keyStart >= element, valueEnd <= end else { continue }
                out.append(Entry(key: bytes[keyStart..<keyEnd], value: keyEnd..<valueEnd,
                                 isBucket: entryFlags & Self.bucketLeafFlag != 0))
            }
        }
    }

    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 {
        guard i >= 0, i + 2 <= b.count else { return 0 }
        return UInt16(b[i]) | UInt16(b[i + 1]) << 8
    }

    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        guard i >= 0, i + 4 <= b.count else { return 0 }
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[i + $1]) << (8 * UInt32($1)) }
    }

    static func u64(_ b: [UInt8], _ i: Int) -> UInt64 {
        guard i >= 0, i + 8 <= b.count else { return 0 }
        return (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[i + $1]) << (8 * UInt64($1)) }
    }
}
