import Synchronization

/// Identities the resolver has read from metadata, kept so a container that just exited (its
/// metadata directory removed) still resolves for events captured while it ran.
///
/// @unchecked Sendable: all state is behind `lock`.
final class IdentityCache: @unchecked Sendable {
    private let lock = Mutex(())
    private var entries: [String: ContainerIdentity] = [:]
    /// Insertion order for eviction; long-running hosts churn through containers.
    private var order: [String] = []
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    func identity(for key: String) -> ContainerIdentity? {
        lock.withLock { _ in entries[key] }
    }

    func store(_ identity: ContainerIdentity, for keys: [String]) {
        lock.withLock { _ in
            for key in keys {
                if entries.updateValue(identity, forKey: key) == nil { order.append(key) }
            }
            if order.count > capacity {
                let evicted = order.prefix(order.count - capacity)
                for key in evicted { entries[key] = nil }
                order.removeFirst(evicted.count)
            }
        }
    }

    var count: Int { lock.withLock { _ in entries.count } }
}
