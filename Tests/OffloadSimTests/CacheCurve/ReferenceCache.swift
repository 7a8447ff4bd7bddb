import OffloadSim
import TraceStore

/// A deliberately simple cache simulator, written apart from ``ExpertCache`` from each rule's
/// definition, to check ``CacheReplay`` and ``LRUStackDistances`` on random streams: linear
/// scans over plain arrays, no shared code with the engine. Requests come one by one (unit
/// lookup) or as layer batches whose keys are protected from each other's evictions.
struct ReferenceCache {
    let rule: EvictionPolicy
    let capacity: Int
    let size: (Int) -> Int
    let afterBatch: Bool
    private(set) var hits = 0
    private(set) var requests = 0

    // Resident keys with their bookkeeping.
    private var resident: [Int] = []
    private var inserted: [Int: Int] = [:]
    private var lastUse: [Int: Int] = [:]
    private var count: [Int: Int] = [:]        // in-cache LFU count, or perfect LFU count (never reset)
    private var clock = 0
    private var locked: Set<Int> = []
    // Belady: the next request index of each request.
    private let nextUse: [Int]
    // Random: residents in insertion order, swap-removed; the engine's generator.
    private var random = SplitMix64(seed: 1, stream: "eviction")
    // S3-FIFO (libCacheSim's S3FIFO.c): queues oldest first, counters, ghost with bytes.
    private var small: [Int] = [], main: [Int] = [], ghost: [Int] = []
    private var frequency: [Int: Int] = [:]
    // ARC (Megiddo & Modha, Fig. 4), in bytes: lists oldest first.
    private var t1: [Int] = [], t2: [Int] = [], b1: [Int] = [], b2: [Int] = []
    private var p = 0.0
    private var missInB2 = false, dropT1 = false

    init(rule: EvictionPolicy, capacity: Int, size: @escaping (Int) -> Int, afterBatch: Bool = false, nextUse: [Int] = []) {
        self.rule = rule
        self.capacity = capacity
        self.size = size
        self.afterBatch = afterBatch
        self.nextUse = nextUse
    }

    private var used: Int { resident.reduce(0) { $0 + size($1) } }
    private func bytes(_ keys: [Int]) -> Int { keys.reduce(0) { $0 + size($1) } }

    mutating func request(_ key: Int) { batch([key]) }

    mutating func batch(_ keys: [Int]) {
        locked = Set(keys)
        for key in keys { look(key) }
        if afterBatch {
            while used > capacity, let victim = chooseVictim() { evict(victim) }
        }
        locked = []
    }

    private mutating func look(_ key: Int) {
        let index = requests
        requests += 1
        clock += 1
        if resident.contains(key) {
            hits += 1
            lastUse[key] = clock
            count[key, default: 0] += 1
            if rule == .s3fifo { frequency[key] = min(frequency[key, default: 0] + 1, 3) }
            if rule == .arc { t1.removeAll { $0 == key }; t2.removeAll { $0 == key }; t2.append(key) }
            if rule == .belady { lastUse[key] = nextUse[index] }
            return
        }
        // A miss: the room check on the protected batch, each rule's admission, then evictions.
        if !afterBatch {
            let lockedBytes = bytes(resident.filter { locked.contains($0) })
            guard size(key) <= capacity - lockedBytes else { return }
        }
        if rule == .arc { prepareARC(key) }
        if !afterBatch {
            while used + size(key) > capacity {
                guard let victim = chooseVictim() else { return }
                evict(victim)
            }
        }
        resident.append(key)
        randomArray.append(key)
        inserted[key] = clock
        lastUse[key] = rule == .belady ? nextUse[index] : clock
        count[key] = rule == .lfuPerfect ? count[key, default: 0] + 1 : 1
        switch rule {
        case .s3fifo:
            frequency[key] = 0
            if let at = ghost.firstIndex(of: key) { ghost.remove(at: at); main.append(key) } else { small.append(key) }
        case .arc:
            let wasGhost = b1.contains(key) || b2.contains(key)
            b1.removeAll { $0 == key }; b2.removeAll { $0 == key }
            if wasGhost { t2.append(key) } else { t1.append(key) }
        default: break
        }
    }

    private mutating func evict(_ key: Int) {
        resident.removeAll { $0 == key }
        // The engine's random rule keeps residents in an array, swap-removing.
        let index = randomArray.firstIndex(of: key)!
        let last = randomArray.removeLast()
        if last != key { randomArray[index] = last }
    }

    private mutating func chooseVictim() -> Int? {
        let candidates = resident.filter { !locked.contains($0) }
        switch rule {
        case .lru: return candidates.min { lastUse[$0]! < lastUse[$1]! }
        case .fifo: return candidates.min { inserted[$0]! < inserted[$1]! }
        case .lfu, .lfuPerfect: return candidates.min { (count[$0]!, lastUse[$0]!) < (count[$1]!, lastUse[$1]!) }
        case .belady: return candidates.max { (lastUse[$0]!, -$0) < (lastUse[$1]!, -$1) }
        case .random:
            guard !randomArray.isEmpty else { return nil }
            let start = Int(random.next() % UInt64(randomArray.count))
            for step in 0..<randomArray.count where !locked.contains(randomArray[(start + step) % randomArray.count]) {
                return randomArray[(start + step) % randomArray.count]
            }
            return nil
        case .s3fifo: return evictS3FIFO()
        case .arc: return replaceARC()
        case .pinned: return nil
        }
    }

    private var randomArray: [Int] = []

    // MARK: S3-FIFO

    private var smallBytes: Int { bytes(small) }
    private var mainBytes: Int { bytes(main) }

    private mutating func evictS3FIFO() -> Int? {
        let mainTarget = capacity - Int(Double(capacity) * 0.1)
        if mainBytes > mainTarget || smallBytes == 0 { return evictMain() ?? evictSmall() }
        return evictSmall() ?? evictMain()
    }

    private mutating func evictSmall() -> Int? {
        var budget = small.count
        while budget > 0, !small.isEmpty {
            budget -= 1
            let key = small.removeFirst()
            if locked.contains(key) { small.append(key); continue }
            if frequency[key]! >= 2 { frequency[key] = 0; main.append(key); continue }
            ghost.append(key)
            while bytes(ghost) > Int(Double(capacity) * 0.9) { ghost.removeFirst() }
            return key
        }
        return nil
    }

    private mutating func evictMain() -> Int? {
        var budget = 4 * main.count
        while budget > 0, !main.isEmpty {
            budget -= 1
            let key = main.removeFirst()
            if locked.contains(key) { main.append(key); continue }
            if frequency[key]! > 0 { frequency[key]! -= 1; main.append(key); continue }
            return key
        }
        return nil
    }

    // MARK: ARC

    private mutating func prepareARC(_ key: Int) {
        missInB2 = b2.contains(key)
        dropT1 = false
        let incoming = Double(size(key))
        if b1.contains(key) {
            p = min(Double(capacity), p + max(Double(bytes(b2)) / Double(bytes(b1)), 1) * incoming)
        } else if b2.contains(key) {
            p = max(0, p - max(Double(bytes(b1)) / Double(bytes(b2)), 1) * incoming)
        } else if bytes(t1) + bytes(b1) + size(key) > capacity {
            if !b1.isEmpty {
                while bytes(t1) + bytes(b1) + size(key) > capacity, !b1.isEmpty { b1.removeFirst() }
            } else {
                dropT1 = true
            }
        } else {
            while bytes(t1) + bytes(b1) + bytes(t2) + bytes(b2) + size(key) > 2 * capacity, !b2.isEmpty { b2.removeFirst() }
        }
    }

    private mutating func replaceARC() -> Int? {
        let t1Bytes = Double(bytes(t1))
        let fromT1 = dropT1 || t2.isEmpty || (t1Bytes > 0 && (t1Bytes > p || (missInB2 && t1Bytes == p)))
        for list in fromT1 ? [1, 2] : [2, 1] {
            let keys = list == 1 ? t1 : t2
            guard let victim = keys.first(where: { !locked.contains($0) }) else { continue }
            if list == 1 {
                t1.removeAll { $0 == victim }
                if !dropT1 { b1.append(victim) }
            } else {
                t2.removeAll { $0 == victim }
                b2.append(victim)
            }
            dropT1 = false
            return victim
        }
        return nil
    }
}
