/// Cache keys ranked for Belady's rule (Belady 1966): the key whose next use lies furthest
/// ahead ranks first, ties by ascending key; a key can be parked as in ``KeyedMinHeap``. The
/// order is exactly ``KeyedMinHeap``'s with priority `UInt64.max - nextUse`, so a cache
/// evicts the same keys through either.
///
/// Where a run's next uses are lookup positions (from ``TracePrepass``), each position is
/// one key's lookup, so at most one key can have it as its next use: such keys live in a
/// ``PositionSet`` over the positions, where a use is two bit operations and the victim the
/// set's largest member. A next use that is not the position of a lookup of the same key
/// (`UInt32.max` for none, a prefetch's guess, or any run without `lookupKeys`) goes to a
/// ``KeyedMinHeap``, and the victim is the better of the two. On the ESFT replay (400 experts
/// cached, 5.2 M lookups) a use took about 250 instructions in the heap alone.
///
/// Costs: update, remove, park and unpark are O(log₆₄ positions) for a positional key and
/// O(log n) for a key in the heap; ``least(where:)`` is O(log₆₄ positions) per refused
/// positional key it passes over, plus the heap's search. Memory: positions / 8 bytes, 5 bytes
/// per key, and the heap's; 4 bytes per position for the keys, shared by copies.
///
/// Unchecked `Sendable`: the buffers it keeps addresses of are written only after
/// ``makeUnique()``, so a copy shared across threads is never written while shared.
struct NextUseQueue: @unchecked Sendable {
    /// `keyPosition` of a key that is not positional.
    private static let none = UInt32.max
    /// Owns the buffers below, copied on write as a whole; the struct keeps their addresses
    /// so that reading them neither retains the owner nor checks it.
    private var owner: Storage
    /// Positions that are the next use of a ranked (not parked) key.
    private var positions: PositionSet
    /// Per key: its next use when positional (ranked or parked), else ``none``.
    private var keyPosition: UnsafeMutablePointer<UInt32>
    /// Per key: whether it is positional and parked.
    private var keyParked: UnsafeMutablePointer<Bool>
    /// Positional keys parked now.
    private var parkedPositional = 0
    /// Per lookup position: the key looked up there (shared by copies, never written).
    private let lookupKeys: LookupKeys
    /// Keys whose next use is not a position of theirs.
    private var others: KeyedMinHeap

    /// An empty queue over keys `0..<keys`; `lookupKeys` gives the key of each lookup position
    /// (empty: every key goes to the heap).
    init(keys: Int, lookupKeys: [UInt32] = []) {
        self.lookupKeys = LookupKeys(lookupKeys)
        owner = Storage(keys: keys, positions: lookupKeys.count)
        (positions, keyPosition, keyParked) = (owner.positions, owner.keyPosition, owner.keyParked)
        others = KeyedMinHeap(keys: keys)
    }

    /// Keys parked now.
    var parkedCount: Int { parkedPositional + others.parkedCount }

    /// Gives `key` the next use `nextUse`, adding it if it is not held, parked when
    /// `parkingIfNew` (a parked key stays parked).
    mutating func update(_ key: Int, nextUse: UInt64, parkingIfNew: Bool = false) {
        makeUnique()
        let old = keyPosition[key]
        let wasHeld: Bool, wasParked: Bool
        if old != Self.none {
            (wasHeld, wasParked) = (true, keyParked[key])
            if wasParked { parkedPositional -= 1 } else { positions.remove(Int(old)) }
            keyPosition[key] = Self.none
            keyParked[key] = false
        } else {
            (wasHeld, wasParked) = (others.holds(key), others.isParked(key))
        }
        let parking = wasParked || (!wasHeld && parkingIfNew)
        if lookupKeys.isPosition(nextUse, of: key) {
            if old == Self.none && wasHeld { others.remove(key) }
            keyPosition[key] = UInt32(nextUse)
            if parking {
                keyParked[key] = true
                parkedPositional += 1
            } else {
                positions.insert(Int(nextUse))
            }
        } else {
            // Leaving the positions, the key is new to the heap: `parking` carries its state.
            others.update(key, priority: UInt64.max - nextUse, parkingIfNew: parking)
        }
    }

    /// Takes `key` out of the ranking, keeping its next use, if it is ranked.
    mutating func park(_ key: Int) {
        guard keyPosition[key] != Self.none else { return others.park(key) }
        guard !keyParked[key] else { return }
        makeUnique()
        positions.remove(Int(keyPosition[key]))
        keyParked[key] = true
        parkedPositional += 1
    }

    /// Ranks a parked `key` again with its next use.
    mutating func unpark(_ key: Int) {
        guard keyPosition[key] != Self.none else { return others.unpark(key) }
        guard keyParked[key] else { return }
        makeUnique()
        positions.insert(Int(keyPosition[key]))
        keyParked[key] = false
        parkedPositional -= 1
    }

    /// Removes `key` if it is held (parked or not).
    mutating func remove(_ key: Int) {
        guard keyPosition[key] != Self.none else { return others.remove(key) }
        makeUnique()
        if keyParked[key] {
            keyParked[key] = false
            parkedPositional -= 1
        } else {
            positions.remove(Int(keyPosition[key]))
        }
        keyPosition[key] = Self.none
    }

    /// The ranked key whose next use is furthest ahead (ties by ascending key) among those
    /// `eligible` accepts, or nil; the queue is unchanged. (Mutating only so that a call through
    /// a pointer borrows the queue in place: as a plain method it was copied, 180 instructions
    /// a call.)
    @inline(__always)
    mutating func least(where eligible: (Int) -> Bool) -> Int? {
        var best: KeyedMinHeap.Entry?
        var position = positions.last
        while let found = position {
            let key = Int(lookupKeys.key(at: found))
            if eligible(key) {
                best = KeyedMinHeap.Entry(priority: UInt64.max - UInt64(found), key: Int32(key))
                break
            }
            position = positions.last(below: found)
        }
        if let other = others.leastEntry(where: eligible), best.map({ other < $0 }) ?? true { best = other }
        return best.map { Int($0.key) }
    }

    /// The positional part made unique, for a run of operations with no uniqueness check each
    /// (a layer's lookups: ``ExpertCache/lookUpOnDemand(layer:experts:nextUses:reserving:unlocking:into:)``),
    /// valid until the queue is next copied. For a queue with no parked key.
    mutating func uniqueRanks() -> Ranks {
        precondition(parkedCount == 0)
        makeUnique()
        return Ranks(positions: positions, keyPosition: keyPosition, lookupKeys: Unmanaged.passUnretained(lookupKeys))
    }

    /// The positional part's buffers (see ``uniqueRanks()``). A key it does not handle (not
    /// positional, or a next use that is not a position of its) goes through the queue's own calls.
    struct Ranks {
        fileprivate let positions: PositionSet
        fileprivate let keyPosition: UnsafeMutablePointer<UInt32>
        /// Unretained: the queue holds it while the view is valid (a strong reference cost a
        /// retain, a release and an outlined copy of the view per layer, ~130 instructions).
        fileprivate let lookupKeys: Unmanaged<LookupKeys>

        /// Removes `key` if it is positional, as ``NextUseQueue/remove(_:)``; false when it is not.
        @inline(__always)
        func removePositional(_ key: Int) -> Bool {
            let position = keyPosition[key]
            guard position != NextUseQueue.none else { return false }
            positions.remove(Int(position))
            keyPosition[key] = NextUseQueue.none
            return true
        }

        /// Adds `key`, which is not held, with the next use `nextUse` if that is a position of
        /// its, as ``NextUseQueue/update(_:nextUse:parkingIfNew:)``; false when it is not.
        @inline(__always)
        func enterPositional(_ key: Int, nextUse: UInt32) -> Bool {
            guard lookupKeys._withUnsafeGuaranteedRef({ $0.isPosition(UInt64(nextUse), of: key) }) else { return false }
            keyPosition[key] = nextUse
            positions.insert(Int(nextUse))
            return true
        }
    }

    @inline(__always)
    private mutating func makeUnique() {
        guard !isKnownUniquelyReferenced(&owner) else { return }
        owner = owner.copy()
        (positions, keyPosition, keyParked) = (owner.positions, owner.keyPosition, owner.keyParked)
    }

    /// The key of each lookup position, in one buffer shared by every copy of the queue.
    fileprivate final class LookupKeys: Sendable {
        private let keys: [UInt32]

        init(_ keys: [UInt32]) { self.keys = keys }

        /// The key looked up at `position`.
        @inline(__always)
        func key(at position: Int) -> UInt32 { keys[position] }

        /// Whether `nextUse` is a lookup position of `key`.
        @inline(__always)
        func isPosition(_ nextUse: UInt64, of key: Int) -> Bool {
            nextUse < UInt64(keys.count) && keys[Int(nextUse)] == UInt32(key)
        }
    }

    /// The positional buffers' owner.
    private final class Storage: @unchecked Sendable {
        let keys: Int
        let positions: PositionSet
        let keyPosition: UnsafeMutablePointer<UInt32>
        let keyParked: UnsafeMutablePointer<Bool>

        init(keys: Int, positions: Int) {
            self.keys = keys
            self.positions = .allocate(capacity: positions)
            keyPosition = .filled(with: NextUseQueue.none, count: keys)
            keyParked = .filled(with: false, count: keys)
        }

        private init(copying other: Storage) {
            keys = other.keys
            positions = other.positions.copy()
            keyPosition = .allocate(capacity: keys)
            keyPosition.initialize(from: other.keyPosition, count: keys)
            keyParked = .allocate(capacity: keys)
            keyParked.initialize(from: other.keyParked, count: keys)
        }

        func copy() -> Storage { Storage(copying: self) }

        deinit {
            positions.deallocate()
            keyPosition.deallocate()
            keyParked.deallocate()
        }
    }
}
