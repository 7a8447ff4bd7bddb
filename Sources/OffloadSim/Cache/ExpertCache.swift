import TraceStore

/// Where an expert's weights are, as the cache sees them.
public enum ExpertResidency: UInt8, Sendable {
    /// In host memory only.
    case absent = 0
    /// A slot is reserved and a copy is filling it.
    case filling = 1
    /// On the GPU, usable.
    case resident = 2
}

/// GPU memory for routed experts (DESIGN.md §3), in bytes: experts of different layers
/// may differ in size. Global (one budget) or partitioned per layer (budget / layers
/// each). A slot being filled is reserved and an expert the caller locks (those needed
/// by the layer being computed) is never evicted; when no room can be made, ``reserve``
/// says so and the caller streams the expert through a staging buffer instead.
///
/// Experts are keyed `layer × experts + expert`. LRU and FIFO keep a linked list
/// (``RecencyList``): O(1) per access and eviction. LFU (both kinds) keeps the resident
/// experts in lists per use count, each in the order its experts reached that count
/// (``FrequencyLists``): O(1) per access and eviction; Belady ranks by next use
/// (``NextUseQueue``: a bitmap over lookup positions where it has them).
/// S3-FIFO keeps its queues (``S3FIFOQueues``), ARC its four lists (``ARCLists``); random
/// keeps the resident keys in an array (a victim is the key at a seeded random index; a
/// locked one passes to the next index); `pinned` admits only its hot set and never evicts.
/// The per-key state lives in ``CacheSlots``, copied on write as a whole: each operation
/// checks uniqueness once.
public struct ExpertCache: Sendable {
    /// The eviction rule.
    public let eviction: EvictionPolicy
    /// Budget in bytes (all partitions together).
    public let capacityBytes: Int
    /// Whether each layer has its own budget of `capacityBytes / layers`.
    public let partitioned: Bool
    let experts: Int
    let layerBytes: [Int]
    /// Per key: its expert's bytes and its partition (looked up, not divided out, on every operation).
    let keyBytes: [Int]
    private let keyPartition: [Int32]
    var slots: CacheSlots
    var frequencies: FrequencyLists
    var nextUseQueues: [NextUseQueue]
    var s3: [S3FIFOQueues]
    var arc: [ARCLists]
    var residentKeys: [[Int32]]
    var residentIndex: [Int32]
    var random: SplitMix64
    var recency: RecencyList
    private var hotSet: [Bool]
    var residentCount = 0

    /// Bytes each partition may hold.
    let partitionBudget: Int
    /// Whether the keys of a layer that locks many experts leave the rule's ranking until unlocked
    /// (``NextUseQueue/park(_:)``), so that finding a victim does not pass over them: under
    /// Belady a prefill step locks most of a layer, whose experts rank near the top (their next uses
    /// lie in a later step, beyond the lookups of the step's remaining layers), and the search for a victim passed
    /// over all of them at every eviction (29% of a sweep point's instructions).
    private let parksLockedKeys: Bool
    /// Layers locked with ``parkingThreshold`` experts or more, whose locked keys are parked.
    private var parkingLayers = 0
    /// Experts locked at once by a layer from which on their keys are parked.
    private static let parkingThreshold = 16

    /// A cache of `capacityBytes` over `expertBytes.count` layers of `experts` experts each.
    /// `hotSet` (keys) is required for ``EvictionPolicy/pinned``; `seed` drives ``EvictionPolicy/random``.
    /// Under Belady, `lookupKeys` may give the key of each lookup position when the next uses
    /// passed in are those positions (``TracePrepass/nextUses(_:experts:)``): the rule then ranks
    /// keys in a bitmap over the positions (``NextUseQueue``), with the same victims. Ignored
    /// when partitioned (a bitmap per layer would cost more than it saves).
    public init(capacityBytes: Int, expertBytes: [Int], experts: Int, eviction: EvictionPolicy,
                partitioned: Bool = false, hotSet: [Int] = [], seed: UInt64 = 1, lookupKeys: [UInt32] = []) {
        self.capacityBytes = capacityBytes
        self.eviction = eviction
        self.partitioned = partitioned
        self.experts = experts
        layerBytes = expertBytes
        let keys = expertBytes.count * experts
        let partitions = partitioned ? expertBytes.count : 1
        keyBytes = (0..<keys).map { expertBytes[$0 / experts] }
        keyPartition = (0..<keys).map { partitioned ? Int32($0 / experts) : 0 }
        slots = CacheSlots(keys: keys, partitions: partitions)
        frequencies = FrequencyLists(keys: [.lfu, .lfuPerfect].contains(eviction) ? keys : 0, partitions: partitions)
        nextUseQueues = eviction != .belady ? []
            : partitioned ? Array(repeating: NextUseQueue(keys: keys), count: partitions) : [NextUseQueue(keys: keys, lookupKeys: lookupKeys)]
        recency = RecencyList(keys: eviction == .lru || eviction == .fifo ? keys : 0, partitions: partitions)
        let share = capacityBytes / partitions
        partitionBudget = share
        parksLockedKeys = eviction == .belady
        s3 = eviction == .s3fifo ? Array(repeating: S3FIFOQueues(keys: keys, capacityBytes: share), count: partitions) : []
        arc = eviction == .arc ? Array(repeating: ARCLists(layerBytes: expertBytes, experts: experts, capacityBytes: share), count: partitions) : []
        residentKeys = Array(repeating: [], count: eviction == .random ? partitions : 0)
        residentIndex = Array(repeating: -1, count: eviction == .random ? keys : 0)
        random = SplitMix64(seed: seed, stream: "eviction")
        var hot = Array(repeating: false, count: keys)
        for key in hotSet { hot[key] = true }
        self.hotSet = hot
    }

    /// Bytes of the experts of `key`'s layer.
    public func bytes(ofKey key: Int) -> Int { keyBytes[key] }
    /// Experts per layer.
    public var expertsPerLayer: Int { experts }
    /// Bytes of one expert of `layer`.
    public func expertBytesOfLayer(_ layer: Int) -> Int { layerBytes[layer] }
    /// Whether `key` is absent, being filled, or resident.
    public func residency(of key: Int) -> ExpertResidency { slots.residency[key] }
    /// Bytes held (resident and filling), all partitions.
    public var bytesInUse: Int { (0..<slots.partitions).reduce(0) { $0 + slots.usedBytes[$1] } }
    /// Experts resident or filling.
    public var entries: Int { residentCount }

    /// Records a use of a cached `key` (a hit); `nextUse` is the logical time of its next
    /// use, read by Belady only.
    public mutating func touch(_ key: Int, nextUse: UInt64 = 0) {
        makeSlotsUnique()
        touchSlot(key, nextUse: nextUse)
    }

    @inline(__always)
    mutating func touchSlot(_ key: Int, nextUse: UInt64) {
        switch eviction {
        case .s3fifo: s3[partition(key)].hit(key)
        case .arc: arc[partition(key)].hit(key)
        case .pinned, .fifo, .random: break
        case .lru: recency.append(key, partition: partition(key))
        case .lfu, .lfuPerfect: frequencyRanking().touch(key, partition: partition(key))
        case .belady: reprioritise(key, nextUse: nextUse)
        }
    }

    /// Locks `key` against eviction (reference-counted); call ``unlock(_:)`` as often.
    public mutating func lock(_ key: Int) {
        makeSlotsUnique()
        if slots.locks[key] == 0 && slots.residency[key] == .resident { slots.lockedBytes[partition(key)] += bytes(ofKey: key) }
        slots.locks[key] += 1
    }

    /// Releases one ``lock(_:)``.
    public mutating func unlock(_ key: Int) {
        makeSlotsUnique()
        slots.locks[key] -= 1
        if slots.locks[key] == 0 && slots.residency[key] == .resident { slots.lockedBytes[partition(key)] -= bytes(ofKey: key) }
        if parksLockedKeys && slots.locks[key] == 0 && nextUseQueues[partition(key)].parkedCount > 0 { nextUseQueues[partition(key)].unpark(key) }
    }

    /// Locks each of `experts` of `layer`, as ``lock(_:)`` for each key in turn, with one
    /// uniqueness check and one partition update for the whole layer.
    public mutating func lock(layer: Int, experts: UnsafeBufferPointer<UInt16>) {
        makeSlotsUnique()
        slots.lockedBytes[partitioned ? layer : 0] += changeLocks(layer: layer, experts: experts, locking: true)
        updateParking(layer: layer, experts: experts, locking: true)
    }

    /// ``lock(layer:experts:)`` over a slice of an array.
    public mutating func lock(layer: Int, experts: ArraySlice<UInt16>) {
        experts.withUnsafeBufferPointer { lock(layer: layer, experts: $0) }
    }

    /// Releases one ``lock(layer:experts:)`` of the same experts.
    public mutating func unlock(layer: Int, experts: UnsafeBufferPointer<UInt16>) {
        makeSlotsUnique()
        slots.lockedBytes[partitioned ? layer : 0] -= changeLocks(layer: layer, experts: experts, locking: false)
        updateParking(layer: layer, experts: experts, locking: false)
    }

    /// ``unlock(layer:experts:)`` over a slice of an array.
    public mutating func unlock(layer: Int, experts: ArraySlice<UInt16>) {
        experts.withUnsafeBufferPointer { unlock(layer: layer, experts: $0) }
    }

    /// Raises (`locking`) or lowers each key's lock count by one; returns the bytes of the
    /// resident keys that became locked or unlocked.
    mutating func changeLocks(layer: Int, experts: UnsafeBufferPointer<UInt16>, locking: Bool) -> Int {
        let (base, size) = (layer * self.experts, layerBytes[layer])
        let (locks, residency) = (slots.locks, slots.residency)
        var changed = 0
        for expert in experts {
            let key = base + Int(expert)
            let unlockedBefore = locks[key] == 0
            if locking { locks[key] += 1 } else { locks[key] -= 1 }
            if (locking ? unlockedBefore : locks[key] == 0) && residency[key] == .resident { changed += size }
        }
        return changed
    }

    /// After ``changeLocks(layer:experts:locking:)``: under ``parksLockedKeys``, parks the
    /// keys a layer of ``parkingThreshold`` experts or more has just locked, and unparks the
    /// keys an unlock has freed. Parking costs each key a heap removal, worth it where many
    /// keys stay locked through many evictions (a prefill step's layer), not for a decode
    /// step's few. Unlocking always unparks: a key parked while a large layer held it may be
    /// freed by another holder's unlock.
    mutating func updateParking(layer: Int, experts: UnsafeBufferPointer<UInt16>, locking: Bool) {
        guard parksLockedKeys else { return }
        let (base, part, large) = (layer * self.experts, partitioned ? layer : 0, experts.count >= Self.parkingThreshold)
        if locking {
            guard large else { return }
            parkingLayers += 1
            for expert in experts where slots.locks[base + Int(expert)] == 1 { nextUseQueues[part].park(base + Int(expert)) }
        } else {
            if large { parkingLayers -= 1 }
            guard nextUseQueues[part].parkedCount > 0 else { return }
            for expert in experts where slots.locks[base + Int(expert)] == 0 { nextUseQueues[part].unpark(base + Int(expert)) }
        }
    }

    /// Reserves a slot for `key` (absent), evicting unlocked resident experts the rule picks
    /// and `mayEvict` allows; the evicted keys are appended to `evicted`. Returns false,
    /// when the room cannot be made (or, for `pinned`, when `key` is not
    /// in the hot set).
    public mutating func reserve(_ key: Int, nextUse: UInt64 = 0, evicted: inout [Int],
                                 mayEvict: (Int) -> Bool = { _ in true }) -> Bool {
        makeSlotsUnique()
        return reserveSlot(key, size: bytes(ofKey: key), partition: partition(key), nextUse: nextUse, evicted: &evicted, mayEvict: mayEvict)
    }

    /// ``reserve(_:nextUse:evicted:mayEvict:)`` for an absent `key` of `size` bytes in
    /// partition `part`, the slots already unique.
    @inline(__always)
    mutating func reserveSlot<Victims: VictimSink>(_ key: Int, size: Int, partition part: Int, nextUse: UInt64, evicted: inout Victims,
                                                   mayEvict: (Int) -> Bool) -> Bool {
        precondition(slots.residency[key] == .absent)
        let budget = partitionBudget
        if eviction == .pinned {
            guard hotSet[key], slots.usedBytes[part] + size <= budget else { return false }
        } else {
            guard size <= budget - slots.lockedBytes[part] else { return false }
            if eviction == .arc { arc[part].prepareMiss(key) }
            while slots.usedBytes[part] + size > budget {
                guard let victim = chooseVictim(partition: part, mayEvict: mayEvict) else { return false }
                drop(victim)
                evicted.record(victim)
            }
        }
        insert(key, size: size, partition: part, nextUse: nextUse)
        return true
    }

    /// Enters `key` as filling and into the rule's structures.
    @inline(__always)
    private mutating func insert(_ key: Int, size: Int, partition part: Int, nextUse: UInt64) {
        slots.residency[key] = .filling
        residentCount += 1
        slots.usedBytes[part] += size
        slots.lockedBytes[part] += size
        switch eviction {
        case .s3fifo: s3[part].insert(key, bytes: size)
        case .arc: arc[part].insert(key)
        case .random: withRandomRanking(partition: part) { $0.enter(key, partition: part) }
        case .pinned: break
        case .fifo, .lru: recency.append(key, partition: part)
        case .lfu, .lfuPerfect: frequencyRanking().enter(key, partition: part)
        case .belady: reprioritise(key, nextUse: nextUse)
        }
    }

    /// Reserves a slot for `key` (absent) without evicting anything, even past the budget
    /// (admission after the batch: ``trimToBudget(evicted:mayEvict:)`` makes room once the batch
    /// is done). Returns false only where the rule admits no such key (`pinned` outside its hot set).
    public mutating func admit(_ key: Int, nextUse: UInt64 = 0) -> Bool {
        makeSlotsUnique()
        precondition(slots.residency[key] == .absent)
        let size = bytes(ofKey: key)
        let part = partition(key)
        switch eviction {
        case .pinned: guard hotSet[key] else { return false }
        case .arc: arc[part].prepareMiss(key)
        default: break
        }
        insert(key, size: size, partition: part, nextUse: nextUse)
        return true
    }

    /// Evicts by the rule, passing over locked keys, until every partition is within its
    /// budget or nothing more can go; the evicted keys are appended to `evicted`.
    public mutating func trimToBudget(evicted: inout [Int], mayEvict: (Int) -> Bool = { _ in true }) {
        makeSlotsUnique()
        let budget = partitionBudget
        for part in 0..<slots.partitions {
            while slots.usedBytes[part] > budget, let victim = chooseVictim(partition: part, mayEvict: mayEvict) {
                drop(victim)
                evicted.append(victim)
            }
        }
    }

    /// Marks a reserved slot's copy as finished: the expert is resident.
    public mutating func fill(_ key: Int) {
        makeSlotsUnique()
        fillSlot(key)
    }

    @inline(__always)
    mutating func fillSlot(_ key: Int) {
        precondition(slots.residency[key] == .filling)
        slots.residency[key] = .resident
        if slots.locks[key] == 0 { slots.lockedBytes[partition(key)] -= bytes(ofKey: key) }
    }

    /// Gives up a reserved or resident slot without the eviction rule (a cancelled prefetch).
    public mutating func remove(_ key: Int) {
        makeSlotsUnique()
        guard slots.residency[key] != .absent else { return }
        if slots.residency[key] == .filling || slots.locks[key] > 0 { slots.lockedBytes[partition(key)] -= bytes(ofKey: key) }
        if eviction == .s3fifo { s3[partition(key)].remove(key, bytes: bytes(ofKey: key)) }
        if eviction == .arc { arc[partition(key)].remove(key) }
        drop(key)
    }

    // MARK: Rules

    /// Copies the slots first if another cache value shares them (copy on write); every
    /// public mutating operation calls it once before writing.
    mutating func makeSlotsUnique() {
        if !isKnownUniquelyReferenced(&slots) { slots = slots.copy() }
    }

    private func partition(_ key: Int) -> Int { Int(keyPartition[key]) }

    /// Whether the rule ranks by use counts (the LFU rules).
    private var countsUses: Bool { eviction == .lfu || eviction == .lfuPerfect }

    /// LFU's ranking: the lists, made unique, and the slots' use counts (the slots already unique).
    @inline(__always)
    mutating func frequencyRanking() -> FrequencyRanking {
        FrequencyRanking(links: frequencies.uniqueLinks(), useCount: slots.useCount, remembers: eviction == .lfuPerfect)
    }

    /// Calls `body` with the random rule's ranking of `partition`: its resident keys, their
    /// indices and the generator, lent by pointer for the call.
    @inline(__always)
    mutating func withRandomRanking<T>(partition part: Int, _ body: (RandomRanking) -> T) -> T {
        residentKeys.withUnsafeMutableBufferPointer { keys in
            residentIndex.withUnsafeMutableBufferPointer { index in
                withUnsafeMutablePointer(to: &random) { random in
                    body(RandomRanking(keys: keys.baseAddress! + part, index: index.baseAddress!, random: random))
                }
            }
        }
    }

    /// Belady: `key`'s next use changed.
    private mutating func reprioritise(_ key: Int, nextUse: UInt64) {
        nextUseQueues[partition(key)].update(key, nextUse: nextUse, parkingIfNew: parkingLayers > 0 && slots.locks[key] > 0)
    }

    private mutating func chooseVictim(partition part: Int, mayEvict: (Int) -> Bool) -> Int? {
        if eviction == .s3fifo {
            let (sizes, experts, slots) = (layerBytes, self.experts, self.slots)
            return s3[part].evict(bytes: { sizes[$0 / experts] },
                                  locked: { slots.locks[$0] > 0 || slots.residency[$0] != .resident || !mayEvict($0) })
        }
        if eviction == .lru || eviction == .fifo {
            var key = recency.oldest(partition: part)
            while key >= 0 {
                if slots.locks[key] == 0 && slots.residency[key] == .resident && mayEvict(key) { return key }
                key = recency.newer(than: key)
            }
            return nil
        }
        if eviction == .arc {
            let slots = self.slots
            return arc[part].evict { slots.locks[$0] > 0 || slots.residency[$0] != .resident || !mayEvict($0) }
        }
        // The raw buffers, not a closure over `self` (which would copy the whole cache), and no retain.
        let (locks, residency) = (slots.locks, slots.residency)
        if eviction == .random {
            return withRandomRanking(partition: part) { $0.least { locks[$0] == 0 && residency[$0] == .resident && mayEvict($0) } }
        }
        if eviction == .belady { return nextUseQueues[part].least { locks[$0] == 0 && residency[$0] == .resident && mayEvict($0) } }
        return frequencies.least(partition: part) { locks[$0] == 0 && residency[$0] == .resident && mayEvict($0) }
    }

    @inline(__always)
    private mutating func drop(_ key: Int) {
        let part = partition(key)
        if eviction == .lru || eviction == .fifo { recency.remove(key, partition: part) }
        if countsUses { frequencies.remove(key, partition: part) }
        if !nextUseQueues.isEmpty { nextUseQueues[part].remove(key) }
        if eviction == .random { withRandomRanking(partition: part) { $0.remove(key) } }
        slots.residency[key] = .absent
        slots.usedBytes[part] -= bytes(ofKey: key)
        residentCount -= 1
    }
}
