/// The four lists of ARC, adaptive replacement (Megiddo & Modha, "ARC: A Self-Tuning, Low
/// Overhead Replacement Cache", FAST 2003, Fig. 4) over the cache keys of one partition: T1
/// (resident, used once recently), T2 (resident, used at least twice), their ghosts B1 and
/// B2 (evicted keys remembered), and the target size `p` of T1.
///
/// Sizes are in bytes, generalising the paper's pages: a ghost hit moves `p` by
/// max(|B2|/|B1|, 1) (or the inverse) times the key's size — one page when every expert has
/// the same size, as in the paper. Locked keys (the current layer's, or filling) are passed
/// over: REPLACE takes the oldest unlocked key of the list it picks, else of the other.
/// Every operation is O(1) apart from skipping locked keys and trimming ghosts.
///
/// The lists' links, each key's list and size, and each list's bytes live in raw buffers
/// copied on write as a whole: an operation checks uniqueness twice (the links, the rest),
/// where an `Array` per field checked it at every write (0.30 G of the 3.36 G instructions of
/// the ESFT replay under ARC).
struct ARCLists {
    fileprivate enum List: Int { case none = 0, t1, t2, b1, b2 }

    private var lists: RecencyList
    private var state: State
    private var target = 0.0
    private let capacity: Int
    // The pending miss: whether it was a B2 ghost (REPLACE's tie rule), and whether its first
    // eviction drops T1's oldest without a ghost (case IV A with B1 empty).
    private var missInB2 = false
    private var evictT1WithoutGhost = false

    /// Lists over `layerBytes.count × experts` keys for a partition of `capacityBytes`.
    init(layerBytes: [Int], experts: Int, capacityBytes: Int) {
        lists = RecencyList(keys: layerBytes.count * experts, partitions: 5)
        state = State(keySizes: (0..<layerBytes.count * experts).map { layerBytes[$0 / experts] })
        capacity = capacityBytes
    }

    /// Case I: a hit moves the key to T2's most recent end.
    mutating func hit(_ key: Int) { raw().move(key, to: .t2) }

    /// Before a miss on `key` evicts anything: adapts `p` on a ghost hit (cases II and III) or
    /// trims the ghosts (case IV), as the paper does before REPLACE.
    mutating func prepareMiss(_ key: Int) {
        let raw = raw()
        let incoming = raw.keySize[key]
        let list = raw.list(of: key)
        missInB2 = list == .b2
        evictT1WithoutGhost = false
        let capacity = self.capacity
        switch list {
        case .b1:
            target = min(Double(capacity), target + max(Double(raw.bytes(.b2)) / Double(raw.bytes(.b1)), 1) * Double(incoming))
        case .b2:
            target = max(0, target - max(Double(raw.bytes(.b1)) / Double(raw.bytes(.b2)), 1) * Double(incoming))
        case .none:
            if raw.bytes(.t1) + raw.bytes(.b1) + incoming > capacity {
                if raw.bytes(.b1) > 0 {
                    raw.trim(.b1) { $0.bytes(.t1) + $0.bytes(.b1) + incoming > capacity }
                } else {
                    evictT1WithoutGhost = true
                }
            } else {
                raw.trim(.b2) { $0.bytes(.t1) + $0.bytes(.b1) + $0.bytes(.t2) + $0.bytes(.b2) + incoming > 2 * capacity }
            }
        case .t1, .t2:
            preconditionFailure("ARC: a miss on a resident key")
        }
    }

    /// REPLACE: the key to evict (moved to its ghost list, or dropped in case IV A), or nil
    /// when every resident key is locked.
    mutating func evict(locked: (Int) -> Bool) -> Int? {
        let raw = raw()
        let t1 = Double(raw.bytes(.t1))
        let fromT1 = evictT1WithoutGhost || raw.bytes(.t2) == 0 || (t1 > 0 && (t1 > target || (missInB2 && t1 == target)))
        for list in fromT1 ? [List.t1, .t2] : [.t2, .t1] {
            guard let victim = raw.oldest(of: list, where: { !locked($0) }) else { continue }
            if evictT1WithoutGhost && list == .t1 { raw.forget(victim) } else { raw.move(victim, to: list == .t1 ? .b1 : .b2) }
            evictT1WithoutGhost = false
            return victim
        }
        return nil
    }

    /// Inserts a missed key: into T2 after a ghost hit, else into T1.
    mutating func insert(_ key: Int) {
        let raw = raw()
        raw.move(key, to: raw.list(of: key) == .b1 || raw.list(of: key) == .b2 ? .t2 : .t1)
    }

    /// Forgets a resident key without the rules (a cancelled fill).
    mutating func remove(_ key: Int) { raw().forget(key) }

    /// The buffers, made unique, for one operation.
    private mutating func raw() -> Raw {
        if !isKnownUniquelyReferenced(&state) { state = state.copy() }
        return Raw(links: lists.uniqueLinks(), listOf: state.listOf, listBytes: state.listBytes, keySize: state.keySize)
    }

    /// The lists' buffers for one operation, with the operations the rules are made of.
    private struct Raw {
        let links: RecencyList.Links
        /// Per key: the raw value of its ``List``.
        let listOf: UnsafeMutablePointer<UInt8>
        /// Per list (by raw value): its bytes.
        let listBytes: UnsafeMutablePointer<Int>
        /// Per key: its expert's bytes.
        let keySize: UnsafeMutablePointer<Int>

        func list(of key: Int) -> List { List(rawValue: Int(listOf[key]))! }

        func bytes(_ list: List) -> Int { listBytes[list.rawValue] }

        /// The oldest key of `list` that `eligible` accepts, or nil.
        func oldest(of list: List, where eligible: (Int) -> Bool) -> Int? {
            var key = Int(links.head[list.rawValue])
            while key >= 0 {
                if eligible(key) { return key }
                key = Int(links.next[key])
            }
            return nil
        }

        func move(_ key: Int, to list: List) {
            forget(key)
            listOf[key] = UInt8(list.rawValue)
            links.append(key, partition: list.rawValue)
            listBytes[list.rawValue] += keySize[key]
        }

        func forget(_ key: Int) {
            let from = Int(listOf[key])
            guard from != List.none.rawValue else { return }
            links.remove(key, partition: from)
            listBytes[from] -= keySize[key]
            listOf[key] = UInt8(List.none.rawValue)
        }

        /// Drops `list`'s oldest ghosts while `over` holds.
        func trim(_ list: List, while over: (Raw) -> Bool) {
            while over(self), let oldest = oldest(of: list, where: { _ in true }) { forget(oldest) }
        }
    }

    /// Each key's list and size, each list's bytes. Unchecked `Sendable`: written only after
    /// `raw()`'s uniqueness check, so a copy shared across threads is never written while shared.
    private final class State: @unchecked Sendable {
        let keys: Int
        let listOf: UnsafeMutablePointer<UInt8>
        let listBytes: UnsafeMutablePointer<Int>
        let keySize: UnsafeMutablePointer<Int>

        init(keySizes: [Int]) {
            keys = keySizes.count
            listOf = .filled(with: UInt8(List.none.rawValue), count: keys)
            listBytes = .filled(with: 0, count: 5)
            keySize = .allocate(capacity: keys)
            _ = UnsafeMutableBufferPointer(start: keySize, count: keys).initialize(from: keySizes)
        }

        private init(copying other: State) {
            keys = other.keys
            listOf = other.listOf.copied(count: keys)
            listBytes = other.listBytes.copied(count: 5)
            keySize = other.keySize.copied(count: keys)
        }

        func copy() -> State { State(copying: self) }

        deinit {
            listOf.deallocate()
            listBytes.deallocate()
            keySize.deallocate()
        }
    }
}
