import OffloadSim
import Testing
import TraceStore

/// Replays an access stream through a cache of `capacity` equal-sized experts the way the
/// engine does (lock, look up, reserve and fill on a miss, unlock) and returns which
/// accesses (1-based) hit.
func hits(_ stream: [Int], capacity: Int, eviction: EvictionPolicy, nextUse: [UInt64] = [], hotSet: [Int] = []) -> [Int] {
    var cache = ExpertCache(capacityBytes: capacity, expertBytes: [1], experts: 64, eviction: eviction, hotSet: hotSet)
    var evicted: [Int] = []
    var result: [Int] = []
    for (index, key) in stream.enumerated() {
        let next = index < nextUse.count ? nextUse[index] : 0
        cache.lock(key)
        if cache.residency(of: key) == .resident {
            cache.touch(key, nextUse: next)
            result.append(index + 1)
        } else if cache.reserve(key, nextUse: next, evicted: &evicted) {
            cache.fill(key)
        }
        cache.unlock(key)
    }
    return result
}

@Suite("Expert cache")
struct ExpertCacheTests {
    // A A A B C D B E B A with room for three experts (A=0 … E=4); the hits worked out by hand.
    static let stream = [0, 0, 0, 1, 2, 3, 1, 4, 1, 0]

    @Test("LRU hits the accesses worked out by hand")
    func lru() { #expect(hits(Self.stream, capacity: 3, eviction: .lru) == [2, 3, 7, 9]) }

    @Test("a copied LRU cache keeps its own recency order when the original is used", arguments: [EvictionPolicy.lru, .arc])
    func copiesAreIndependent(eviction: EvictionPolicy) {
        var original = ExpertCache(capacityBytes: 2, expertBytes: [1], experts: 8, eviction: eviction)
        var evicted: [Int] = []
        for key in [0, 1] {
            _ = original.reserve(key, evicted: &evicted)
            original.fill(key)
        }
        var copy = original
        original.touch(0)  // in the original, 1 is now the least recent
        _ = original.reserve(2, evicted: &evicted)
        #expect(evicted == [1])
        evicted.removeAll()
        _ = copy.reserve(2, evicted: &evicted)
        #expect(evicted == [0])
    }

    @Test("a copied cache keeps its own residency and locks when the original changes")
    func slotsAreCopiedOnWrite() {
        var original = ExpertCache(capacityBytes: 2, expertBytes: [1], experts: 8, eviction: .lru)
        var evicted: [Int] = []
        _ = original.reserve(0, evicted: &evicted)
        original.fill(0)
        var copy = original
        original.lock(0)
        _ = original.reserve(1, evicted: &evicted)
        #expect(original.residency(of: 1) == .filling && copy.residency(of: 1) == .absent)
        #expect(original.bytesInUse == 2 && copy.bytesInUse == 1)
        // Unlocked in the copy, 0 can make room there; locked in the original it cannot.
        _ = copy.reserve(2, evicted: &evicted)
        _ = copy.reserve(3, evicted: &evicted)
        #expect(evicted == [0])
        #expect(!original.reserve(2, evicted: &evicted))
    }

    @Test("FIFO does not refresh on a hit, so B is evicted before its third use")
    func fifo() { #expect(hits(Self.stream, capacity: 3, eviction: .fifo) == [2, 3, 7]) }

    @Test("LFU keeps A (used three times) through the misses and hits it at the end")
    func lfu() { #expect(hits(Self.stream, capacity: 3, eviction: .lfu) == [2, 3, 9, 10]) }

    @Test("Belady evicts the expert used farthest in the future")
    func belady() {
        // Next use (1-based access index) of each access; never = UInt64.max - 1.
        let never = UInt64.max - 1
        let next: [UInt64] = [2, 3, 10, 7, never, never, 9, never, never, never]
        #expect(hits(Self.stream, capacity: 3, eviction: .belady, nextUse: next) == [2, 3, 7, 9, 10])
    }

    @Test("the pinned rule admits only its hot set and never evicts")
    func pinned() {
        // Hot set {A, B}: C, D, E stream; A and B hit after their first use.
        #expect(hits(Self.stream, capacity: 3, eviction: .pinned, hotSet: [0, 1]) == [2, 3, 7, 9, 10])
        #expect(hits([2, 2, 2], capacity: 3, eviction: .pinned, hotSet: [0, 1]) == [])
    }

    @Test("S3-FIFO keeps a re-used expert through a scan of one-time experts that flushes it from FIFO")
    func s3fifoResistsScans() {
        // H (key 0) is used twice, then every other access is H among a scan of new keys.
        var stream = [0, 0]
        for key in 1...40 { stream += [key, 0] }
        let s3 = hits(stream, capacity: 20, eviction: .s3fifo)
        let fifo = hits(stream, capacity: 20, eviction: .fifo)
        #expect(s3.count == 41)
        #expect(fifo.count < s3.count)
    }

    @Test("an expert locked by the current layer is never evicted; reserve fails instead")
    func lockedNeverEvicted() {
        var cache = ExpertCache(capacityBytes: 2, expertBytes: [1], experts: 8, eviction: .lru)
        var evicted: [Int] = []
        for key in [0, 1] {
            cache.lock(key)
            #expect(cache.reserve(key, evicted: &evicted))
            cache.fill(key)
        }
        cache.lock(2)
        #expect(!cache.reserve(2, evicted: &evicted))
        #expect(evicted.isEmpty)
        cache.unlock(0)
        #expect(cache.reserve(2, evicted: &evicted))
        #expect(evicted == [0])
    }

    @Test("a slot being filled is reserved and cannot be evicted")
    func fillingReserved() {
        var cache = ExpertCache(capacityBytes: 1, expertBytes: [1], experts: 8, eviction: .lru)
        var evicted: [Int] = []
        #expect(cache.reserve(0, evicted: &evicted))
        #expect(cache.residency(of: 0) == .filling)
        #expect(!cache.reserve(1, evicted: &evicted))
        cache.fill(0)
        #expect(cache.reserve(1, evicted: &evicted))
        #expect(evicted == [0])
    }

    @Test("experts of different sizes use their own layer's bytes")
    func variableSizes() {
        var cache = ExpertCache(capacityBytes: 5, expertBytes: [1, 3], experts: 4, eviction: .lru)
        var evicted: [Int] = []
        for key in [0, 1, 4] {
            #expect(cache.reserve(key, evicted: &evicted))
            cache.fill(key)
        }
        #expect(cache.bytesInUse == 5)
        #expect(cache.reserve(5, evicted: &evicted))   // another 3-byte expert of layer 1: evicts 0, 1 and 4 in LRU order until it fits
        #expect(evicted == [0, 1, 4])
        #expect(cache.bytesInUse == 3)
    }

    @Test("a partitioned cache gives each layer its own budget")
    func partitioned() {
        var cache = ExpertCache(capacityBytes: 4, expertBytes: [1, 1], experts: 4, eviction: .lru, partitioned: true)
        var evicted: [Int] = []
        for key in [0, 1, 2] {
            _ = cache.reserve(key, evicted: &evicted)
            cache.fill(key)
        }
        #expect(evicted == [0])   // layer 0's budget is 2 experts
        #expect(cache.reserve(4, evicted: &evicted) && cache.reserve(5, evicted: &evicted))
        #expect(evicted == [0])   // layer 1 has its own 2
    }

    @Test("Belady is never beaten by an online rule on random streams", arguments: 0..<40)
    func beladyBound(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed), stream: "belady-property")
        let keys = 6 + random.int(below: 20)
        let stream = (0..<300).map { _ in
            // Skewed: half the accesses go to the first quarter of the keys.
            random.uniform() < 0.5 ? random.int(below: max(keys / 4, 1)) : random.int(below: keys)
        }
        var nextUse = [UInt64](repeating: UInt64.max - 1, count: stream.count)
        var seen: [Int: Int] = [:]
        for index in stream.indices.reversed() {
            if let later = seen[stream[index]] { nextUse[index] = UInt64(later) }
            seen[stream[index]] = index
        }
        let capacity = 2 + random.int(below: 6)
        let optimum = hits(stream, capacity: capacity, eviction: .belady, nextUse: nextUse).count
        for rule in [EvictionPolicy.lru, .lfu, .lfuPerfect, .fifo, .s3fifo, .arc, .random] {
            #expect(hits(stream, capacity: capacity, eviction: rule).count <= optimum, "\(rule) beat Belady")
        }
    }

    /// B B B A C A C A C A C with room for two. In-cache LFU: B keeps count 3 while A and C
    /// re-enter at 1 and evict each other: hits 2, 3. Perfect LFU keeps A's and C's counts
    /// across evictions: at access 9, C (count 3) evicts B (count 3, less recent) and A and C
    /// then hit: 2, 3, 10, 11.
    @Test("perfect LFU keeps counts across evictions where in-cache LFU forgets them")
    func perfectLFURemembers() {
        let stream = [1, 1, 1, 0, 2, 0, 2, 0, 2, 0, 2]
        #expect(hits(stream, capacity: 2, eviction: .lfu) == [2, 3])
        #expect(hits(stream, capacity: 2, eviction: .lfuPerfect) == [2, 3, 10, 11])
    }

    /// A B A C B A C A B with room for two (Megiddo & Modha, Fig. 4): 3 A hits (to T2); 4 C
    /// evicts B (T1 > p = 0) into B1; 5 B, a B1 ghost, raises p to 1 and evicts A (T1 = p) into
    /// B2, entering T2; 6 A, a B2 ghost, lowers p to 0 and evicts C into B1; 7 C raises p to 1,
    /// T1 is empty so B leaves T2; 8 A hits; 9 B lowers p and evicts C. Hits: 3 and 8.
    @Test("ARC hits the accesses worked out from the paper's cases")
    func arcWorkedExample() {
        #expect(hits([0, 1, 0, 2, 1, 0, 2, 0, 1], capacity: 2, eviction: .arc) == [3, 8])
    }

    /// A and B used twice (into T2), then a scan of 19 one-time experts, then A and B again,
    /// with room for four: LRU loses A and B to the scan; ARC evicts the scan from T1 (T1 > p = 0)
    /// and keeps T2.
    @Test("ARC keeps re-used experts through a scan of one-time experts, as LRU does not")
    func arcResistsScans() {
        let stream = [0, 0, 1, 1] + Array(2...20) + [0, 1]
        #expect(hits(stream, capacity: 4, eviction: .lru) == [2, 4])
        #expect(hits(stream, capacity: 4, eviction: .arc) == [2, 4, 24, 25])
    }

    @Test("the random rule is seeded: the same seed gives the same victims, another seed others")
    func randomIsSeeded() {
        func run(_ seed: UInt64) -> [Int] {
            var cache = ExpertCache(capacityBytes: 4, expertBytes: [1], experts: 64, eviction: .random, seed: seed)
            var evicted: [Int] = []
            for key in 0..<40 { if cache.reserve(key, evicted: &evicted) { cache.fill(key) } }
            return evicted
        }
        #expect(run(7) == run(7))
        #expect(run(7) != run(8))
        #expect(run(7).count == 36)
    }

    /// Room for 20 one-byte experts: S holds 10% (2), G remembers 90% (18). The 21st insertion
    /// evicts key 0, unused, from S into G; when 0 comes back while G remembers it, it enters M,
    /// and S gives up its next oldest key instead.
    @Test("S3-FIFO readmits a remembered key into main")
    func s3fifoGhostReadmission() {
        var cache = ExpertCache(capacityBytes: 20, expertBytes: [1], experts: 64, eviction: .s3fifo)
        var evicted: [Int] = []
        for key in 0..<21 { if cache.reserve(key, evicted: &evicted) { cache.fill(key) } }
        #expect(evicted == [0])
        evicted.removeAll()
        #expect(cache.reserve(0, evicted: &evicted))
        cache.fill(0)
        #expect(evicted == [1])
    }

    /// Room for 4: S's share (0.4 of one expert) holds no expert, yet experts still enter S, as
    /// the paper's Algorithm 1 has it; A (used twice) moves to M when S evicts.
    @Test("S3-FIFO admits experts even where its small queue is smaller than one")
    func s3fifoTinyCache() {
        #expect(hits([0, 0, 0, 1, 2, 3, 4, 0], capacity: 4, eviction: .s3fifo) == [2, 3, 8])
    }

    /// Two caches over 3 layers of 8 experts, one looked up a layer at a time through
    /// `lookUpOnDemand` (unlocking the layer in the same call every third round), the other
    /// through lock, touch or reserve, fill and unlock in turn; both
    /// must find the same, evict as many and hold the same afterwards (the same residents after
    /// every round and as many evictions: the same victims).
    @Test("a layer's on-demand lookup does what locking, touching or reserving, and filling in turn do",
          arguments: EvictionPolicy.allCases, [false, true])
    func onDemandLookupMatchesTheSingleCalls(eviction: EvictionPolicy, partitioned: Bool) {
        var random = SplitMix64(seed: 7, stream: "on-demand-\(eviction)-\(partitioned)")
        let sizes = [3, 5, 4]
        let make = { ExpertCache(capacityBytes: 60, expertBytes: sizes, experts: 8, eviction: eviction, partitioned: partitioned,
                                 hotSet: [0, 3, 9, 17, 20]) }
        var (fused, single) = (make(), make())
        var (fusedEvictions, singleEvicted) = (0, [Int]())
        for round in 0..<300 {
            let layer = random.int(below: 3)
            let experts = Array(Set((0..<1 + random.int(below: 5)).map { _ in UInt16(random.int(below: 8)) })).sorted()
            let nextUses = experts.map { _ in UInt32(round * 8 + random.int(below: 400)) }
            let reserving = round % 50 != 7
            let unlocking = round % 3 == 0
            var found = [ExpertCache.DemandLookup](repeating: .staged, count: experts.count)
            let counts = experts.withUnsafeBufferPointer { experts in
                nextUses.withUnsafeBufferPointer { nextUses in
                    found.withUnsafeMutableBufferPointer {
                        fused.lookUpOnDemand(layer: layer, experts: experts, nextUses: nextUses, reserving: reserving,
                                             unlocking: unlocking, into: $0)
                    }
                }
            }
            fusedEvictions += counts.evictions
            single.lock(layer: layer, experts: experts[...])
            var expected: [ExpertCache.DemandLookup] = []
            for (expert, next) in zip(experts, nextUses) {
                let key = layer * 8 + Int(expert)
                if single.residency(of: key) == .resident {
                    single.touch(key, nextUse: UInt64(next))
                    expected.append(.hit)
                } else if reserving && single.reserve(key, nextUse: UInt64(next), evicted: &singleEvicted) {
                    expected.append(.fill)
                } else {
                    expected.append(.staged)
                }
            }
            for (expert, lookup) in zip(experts, expected) where lookup == .fill { single.fill(layer * 8 + Int(expert)) }
            #expect(found == expected)
            #expect(counts.hits == expected.count(where: { $0 == .hit }) && counts.fills == expected.count(where: { $0 == .fill })
                    && counts.staged == expected.count(where: { $0 == .staged }))
            #expect(fusedEvictions == singleEvicted.count)
            if !unlocking { fused.unlock(layer: layer, experts: experts[...]) }
            single.unlock(layer: layer, experts: experts[...])
            #expect((0..<24).map { fused.residency(of: $0) } == (0..<24).map { single.residency(of: $0) })
            #expect(fused.bytesInUse == single.bytesInUse)
        }
        #expect(fusedEvictions > 20 || eviction == .pinned)
    }
}
