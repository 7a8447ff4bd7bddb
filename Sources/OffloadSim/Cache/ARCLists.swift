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
/// The lists' links, each key's list and size, each list's bytes and the rule's state live in
/// raw buffers copied on write as a whole: a ``Frame`` checks uniqueness twice (the links, the
/// rest) for any number of operations, where an `Array` per field checked it at every write
/// (0.30 G of the 3.36 G instructions of the ESFT replay under ARC).
struct ARCLists {
    fileprivate enum List: Int { case none = 0, t1, t2, b1, b2 }

    private var lists: RecencyList
    private var state: State
    private let capacity: Int

    /// Lists over `layerBytes.count × experts` keys for a partition of `capacityBytes`.
    init(layerBytes: [Int], experts: Int, capacityBytes: Int) {
        lists = RecencyList(keys: layerBytes.count * experts, partitions: 5)
        state = State(keySizes: (0..<layerBytes.count * experts).map { layerBytes[$0 / experts] })
        capacity = capacityBytes
    }

    /// Case I: a hit moves the key to T2's most recent end.
    mutating func hit(_ key: Int) { frame().hit(key) }

    /// Before a miss on `key` evicts anything: adapts `p` on a ghost hit (cases II and III) or
    /// trims the ghosts (case IV), as the paper does before REPLACE.
    mutating func prepareMiss(_ key: Int) { frame().prepareMiss(key) }

    /// REPLACE: the key to evict (moved to its ghost list, or dropped in case IV A), or nil
    /// when every resident key is locked.
    mutating func evict(locked: (Int) -> Bool) -> Int? { frame().evict(locked: locked) }

    /// Inserts a missed key: into T2 after a ghost hit, else into T1.
    mutating func insert(_ key: Int) { frame().insert(key) }

    /// Forgets a resident key without the rules (a cancelled fill).
    mutating func remove(_ key: Int) { frame().forget(key) }

    /// The lists' buffers made unique, for a run of operations (one call, or a layer's
    /// lookups in ``ExpertCache``'s raw frame): valid until the lists are next copied or
    /// changed otherwise. Two uniqueness checks per frame instead of two per operation.
    mutating func frame() -> Frame {
        if !isKnownUniquelyReferenced(&state) { state = state.copy() }
        return Frame(links: lists.uniqueLinks(), listOf: state.listOf, listBytes: state.listBytes, keySize: state.keySize,
                     rule: state.rule, capacity: capacity)
    }

    /// The lists' buffers, with ARC's operations on them.
    struct Frame {
        fileprivate let links: RecencyList.Links
        /// Per key: the raw value of its ``List``.
        fileprivate let listOf: UnsafeMutablePointer<UInt8>
        /// Per list (by raw value): its bytes.
        fileprivate let listBytes: UnsafeMutablePointer<Int>
        /// Per key: its expert's bytes.
        fileprivate let keySize: UnsafeMutablePointer<Int>
        fileprivate let rule: UnsafeMutablePointer<RuleState>
        fileprivate let capacity: Int

        /// Case I.
        @inline(__always)
        func hit(_ key: Int) { move(key, to: .t2) }

        /// Cases II-IV before REPLACE (``ARCLists/prepareMiss(_:)``).
        func prepareMiss(_ key: Int) {
            let incoming = keySize[key]
            let list = list(of: key)
            rule.pointee.missInB2 = list == .b2
            rule.pointee.evictT1WithoutGhost = false
            let capacity = self.capacity
            switch list {
            case .b1:
                rule.pointee.target = min(Double(capacity), rule.pointee.target + max(Double(bytes(.b2)) / Double(bytes(.b1)), 1) * Double(incoming))
            case .b2:
                rule.pointee.target = max(0, rule.pointee.target - max(Double(bytes(.b1)) / Double(bytes(.b2)), 1) * Double(incoming))
            case .none:
                if bytes(.t1) + bytes(.b1) + incoming > capacity {
                    if bytes(.b1) > 0 {
                        trim(.b1) { $0.bytes(.t1) + $0.bytes(.b1) + incoming > capacity }
                    } else {
                        rule.pointee.evictT1WithoutGhost = true
                    }
                } else {
                    trim(.b2) { $0.bytes(.t1) + $0.bytes(.b1) + $0.bytes(.t2) + $0.bytes(.b2) + incoming > 2 * capacity }
                }
            case .t1, .t2:
                preconditionFailure("ARC: a miss on a resident key")
            }
        }

        /// REPLACE (``ARCLists/evict(locked:)``).
        func evict(locked: (Int) -> Bool) -> Int? {
            let t1 = Double(bytes(.t1)), target = rule.pointee.target
            let withoutGhost = rule.pointee.evictT1WithoutGhost
            let fromT1 = withoutGhost || bytes(.t2) == 0 || (t1 > 0 && (t1 > target || (rule.pointee.missInB2 && t1 == target)))
            // The picked list, then the other.
            for pick in 0..<2 {
                let list: List = (pick == 0) == fromT1 ? .t1 : .t2
                guard let victim = oldest(of: list, where: { !locked($0) }) else { continue }
                if withoutGhost && list == .t1 { forget(victim) } else { move(victim, to: list == .t1 ? .b1 : .b2) }
                rule.pointee.evictT1WithoutGhost = false
                return victim
            }
            return nil
        }

        /// Inserts a missed key (``ARCLists/insert(_:)``).
        @inline(__always)
        func insert(_ key: Int) {
            let from = list(of: key)
            move(key, to: from == .b1 || from == .b2 ? .t2 : .t1)
        }

        @inline(__always)
        fileprivate func list(of key: Int) -> List { List(rawValue: Int(listOf[key]))! }

        @inline(__always)
        fileprivate func bytes(_ list: List) -> Int { listBytes[list.rawValue] }

        /// The oldest key of `list` that `eligible` accepts, or nil.
        @inline(__always)
        fileprivate func oldest(of list: List, where eligible: (Int) -> Bool) -> Int? {
            var key = Int(links.head[list.rawValue])
            while key >= 0 {
                if eligible(key) { return key }
                key = Int(links.next[key])
            }
            return nil
        }

        @inline(__always)
        fileprivate func move(_ key: Int, to list: List) {
            forget(key)
            listOf[key] = UInt8(list.rawValue)
            links.append(key, partition: list.rawValue)
            listBytes[list.rawValue] += keySize[key]
        }

        /// Takes `key` out of its list (a cancelled fill, a dropped ghost).
        @inline(__always)
        func forget(_ key: Int) {
            let from = Int(listOf[key])
            guard from != List.none.rawValue else { return }
            links.remove(key, partition: from)
            listBytes[from] -= keySize[key]
            listOf[key] = UInt8(List.none.rawValue)
        }

        /// Drops `list`'s oldest ghosts while `over` holds.
        fileprivate func trim(_ list: List, while over: (Frame) -> Bool) {
            while over(self), let oldest = oldest(of: list, where: { _ in true }) { forget(oldest) }
        }
    }

    /// The target size `p` of T1 and the pending miss: whether it was a B2 ghost (REPLACE's
    /// tie rule), and whether its first eviction drops T1's oldest without a ghost (case IV A
    /// with B1 empty).
    fileprivate struct RuleState {
        var target = 0.0
        var missInB2 = false
        var evictT1WithoutGhost = false
    }

    /// Each key's list and size, each list's bytes, the rule's state. Unchecked `Sendable`:
    /// written only after `frame()`'s uniqueness check, so a copy shared across threads is
    /// never written while shared.
    private final class State: @unchecked Sendable {
        let keys: Int
        let listOf: UnsafeMutablePointer<UInt8>
        let listBytes: UnsafeMutablePointer<Int>
        let keySize: UnsafeMutablePointer<Int>
        let rule: UnsafeMutablePointer<RuleState>

        init(keySizes: [Int]) {
            keys = keySizes.count
            listOf = .filled(with: UInt8(List.none.rawValue), count: keys)
            listBytes = .filled(with: 0, count: 5)
            keySize = .allocate(capacity: keys)
            _ = UnsafeMutableBufferPointer(start: keySize, count: keys).initialize(from: keySizes)
            rule = .filled(with: RuleState(), count: 1)
        }

        private init(copying other: State) {
            keys = other.keys
            listOf = other.listOf.copied(count: keys)
            listBytes = other.listBytes.copied(count: 5)
            keySize = other.keySize.copied(count: keys)
            rule = other.rule.copied(count: 1)
        }

        func copy() -> State { State(copying: self) }

        deinit {
            listOf.deallocate()
            listBytes.deallocate()
            keySize.deallocate()
            rule.deallocate()
        }
    }
}
