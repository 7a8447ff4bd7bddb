@testable import OffloadSim
import Testing
import TraceStore

@Suite("Expert cache under Belady")
struct ExpertCacheBeladyTests {
    /// Belady over a stream of layers' lookups with next uses and keys as ``TracePrepass`` gives
    /// them (a few layers lock 16 experts or more, so that the single calls park them): a cache
    /// ranking by lookup position, looked up a layer at a time (its fast path) and through the
    /// single calls, against one ranking in its heap through the single calls. All three find
    /// the same, evict as many and hold the same after every layer.
    @Test("Belady ranked over lookup positions evicts what its heap evicts", arguments: 0..<4)
    func beladyOverPositionsMatchesTheHeap(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed), stream: "belady-positions")
        let (layers, experts) = (3, 24)
        var stream: [(layer: Int, experts: [UInt16])] = []
        for _ in 0..<400 {
            for layer in 0..<layers {
                let count = random.uniform() < 0.05 ? 16 + random.int(below: 6) : 1 + random.int(below: 6)
                // Skewed: low expert ids come back often.
                let chosen = Set((0..<count).map { _ in UInt16(min(experts - 1, random.int(below: 6) * random.int(below: 5))) })
                stream.append((layer, chosen.sorted()))
            }
        }
        let keys = stream.flatMap { entry in entry.experts.map { UInt32(entry.layer * experts + Int($0)) } }
        var next = [UInt32](repeating: .max, count: keys.count)
        var seen = [UInt32](repeating: .max, count: layers * experts)
        for index in keys.indices.reversed() {
            next[index] = seen[Int(keys[index])]
            seen[Int(keys[index])] = UInt32(index)
        }
        let make = { (lookupKeys: [UInt32]) in
            ExpertCache(capacityBytes: 14, expertBytes: [1, 1, 1], experts: experts, eviction: .belady, lookupKeys: lookupKeys)
        }
        var (heap, fused, single) = (make([]), make(keys), make(keys))
        var evicted = ([Int](), [Int]())
        var fusedEvictions = 0
        var position = 0
        for (layer, chosen) in stream {
            let uses = Array(next[position..<position + chosen.count])
            position += chosen.count
            var found = [ExpertCache.DemandLookup](repeating: .staged, count: chosen.count)
            fusedEvictions += chosen.withUnsafeBufferPointer { chosen in
                uses.withUnsafeBufferPointer { uses in
                    found.withUnsafeMutableBufferPointer {
                        fused.lookUpOnDemand(layer: layer, experts: chosen, nextUses: uses, reserving: true, unlocking: true, into: $0)
                    }
                }
            }.evictions
            var expected: [ExpertCache.DemandLookup] = []
            heap.lock(layer: layer, experts: chosen[...])
            single.lock(layer: layer, experts: chosen[...])
            for (expert, use) in zip(chosen, uses) {
                let key = layer * experts + Int(expert)
                #expect(heap.residency(of: key) == single.residency(of: key))
                if heap.residency(of: key) == .resident {
                    heap.touch(key, nextUse: UInt64(use))
                    single.touch(key, nextUse: UInt64(use))
                    expected.append(.hit)
                } else if heap.reserve(key, nextUse: UInt64(use), evicted: &evicted.0) {
                    #expect(single.reserve(key, nextUse: UInt64(use), evicted: &evicted.1))
                    expected.append(.fill)
                } else {
                    expected.append(.staged)
                }
            }
            for (expert, lookup) in zip(chosen, expected) where lookup == .fill {
                heap.fill(layer * experts + Int(expert))
                single.fill(layer * experts + Int(expert))
            }
            heap.unlock(layer: layer, experts: chosen[...])
            single.unlock(layer: layer, experts: chosen[...])
            #expect(found == expected)
            #expect(evicted.0 == evicted.1 && fusedEvictions == evicted.0.count)
            let residents = (0..<layers * experts).map { heap.residency(of: $0) }
            #expect(residents == (0..<layers * experts).map { fused.residency(of: $0) })
            #expect(residents == (0..<layers * experts).map { single.residency(of: $0) })
        }
        #expect(evicted.0.count > 200)
    }

    /// Belady over 3 layers of 32 experts, each step locking 16-24 experts of a layer (so
    /// that the cache parks them out of its heap), against the same calls with the experts
    /// locked one by one (which never parks): the same hits, victims and residents.
    @Test("Belady picks the same victims whether a large layer's locked experts are parked or not", arguments: 0..<4)
    func beladyParkingChangesNoVictim(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed), stream: "belady-parking")
        let make = { ExpertCache(capacityBytes: 40, expertBytes: [1, 1, 1], experts: 32, eviction: .belady) }
        var (byLayer, byKey) = (make(), make())
        var (layerEvicted, keyEvicted) = ([Int](), [Int]())
        var hits = 0
        for round in 0..<200 {
            let layer = random.int(below: 3)
            var pool = Array(0..<32)
            let count = 16 + random.int(below: 9)
            let experts = (0..<count).map { _ in UInt16(pool.remove(at: random.int(below: pool.count))) }.sorted()
            let keys = experts.map { layer * 32 + Int($0) }
            let nextUses = keys.map { _ in UInt64(round * 64 + random.int(below: 3000)) }
            byLayer.lock(layer: layer, experts: experts[...])
            for key in keys { byKey.lock(key) }
            for (key, next) in zip(keys, nextUses) {
                #expect(byLayer.residency(of: key) == byKey.residency(of: key))
                if byLayer.residency(of: key) == .resident {
                    hits += 1
                    byLayer.touch(key, nextUse: next)
                    byKey.touch(key, nextUse: next)
                } else if byLayer.reserve(key, nextUse: next, evicted: &layerEvicted) {
                    #expect(byKey.reserve(key, nextUse: next, evicted: &keyEvicted))
                    byLayer.fill(key)
                    byKey.fill(key)
                }
            }
            byLayer.unlock(layer: layer, experts: experts[...])
            for key in keys { byKey.unlock(key) }
            #expect(layerEvicted == keyEvicted)
        }
        #expect(hits > 100 && layerEvicted.count > 100)
    }
}
