import OffloadSim
import Testing
import TraceStore

/// Random request streams over 2 layers × 12 experts whose experts differ in size by layer
/// (1 and 2 bytes), with locality: most requests reuse one of the last few keys.
private struct Stream {
    static let experts = 12
    static let layerBytes = [1, 2]
    static func size(_ key: Int) -> Int { layerBytes[key / experts] }

    var batches: [[Int]] = []
    var flat: [Int] { batches.flatMap { $0 } }

    init(seed: UInt64, requests: Int, batchSizes: ClosedRange<Int>) {
        var random = SplitMix64(seed: seed)
        var recent: [Int] = []
        var count = 0
        while count < requests {
            let size = batchSizes.lowerBound + Int(random.next() % UInt64(batchSizes.count))
            var batch: [Int] = []
            while batch.count < size {
                let key = !recent.isEmpty && random.next() % 10 < 6
                    ? recent[Int(random.next() % UInt64(recent.count))] : Int(random.next() % UInt64(2 * Self.experts))
                if !batch.contains(key) { batch.append(key) }
                recent.append(key)
                if recent.count > 5 { recent.removeFirst() }
            }
            batches.append(batch)
            count += batch.count
        }
    }

    /// Each request's next request of the same key (`UInt32.max`: none), as the replay takes it.
    var nextUses: [UInt32] {
        let keys = flat
        var next = [UInt32](repeating: .max, count: keys.count)
        var seen: [Int: UInt32] = [:]
        for index in stride(from: keys.count - 1, through: 0, by: -1) {
            if let later = seen[keys[index]] { next[index] = later }
            seen[keys[index]] = UInt32(index)
        }
        return next
    }
}

@Suite("Cache curve against a reference simulator")
struct CacheCurveReferenceTests {
    static let budgets = [2, 3, 5, 8, 12, 20, 30]

    @Test("every rule's replay counts the hits of an independent simulator, request by request and by layer batch",
          arguments: CacheCurve.rules, [CacheRequestUnit.lookup, .layerBatch])
    func replayMatchesReference(rule: EvictionPolicy, unit: CacheRequestUnit) {
        for seed in UInt64(1)...4 {
            let stream = Stream(seed: seed, requests: 600, batchSizes: unit == .lookup ? 1...1 : 1...4)
            let next = stream.nextUses
            for budget in Self.budgets {
                for admission in unit == .lookup ? [CacheAdmission.hardCap] : [.hardCap, .afterBatch] {
                    var replay = CacheReplay(capacityBytes: budget, expertBytes: Stream.layerBytes, experts: Stream.experts, eviction: rule,
                                             admission: admission, nextUse: rule == .belady ? next : [])
                    var reference = ReferenceCache(rule: rule, capacity: budget, size: Stream.size, afterBatch: admission == .afterBatch,
                                                   nextUse: next.map { Int($0) })
                    for batch in stream.batches {
                        if unit == .lookup {
                            replay.request(batch[0], decode: true)
                            reference.request(batch[0])
                        } else {
                            replay.batch(batch[...], decode: true)
                            reference.batch(batch)
                        }
                    }
                    #expect(replay.hits == reference.hits, "\(rule) \(unit) \(admission) budget \(budget) seed \(seed)")
                    #expect(replay.requests == reference.requests)
                }
            }
        }
    }

    @Test("LRU's one-pass curve equals a replay at every budget, request by request", arguments: UInt64(1)...6)
    func lruOnePassEqualsReplays(seed: UInt64) {
        let stream = Stream(seed: seed, requests: 2_000, batchSizes: 1...1)
        var pass = LRUStackDistances(budgets: Self.budgets, expertBytes: Stream.layerBytes, experts: Stream.experts)
        for key in stream.flat { pass.request(key, decode: key % 2 == 0) }
        pass.finish()
        for (index, budget) in pass.budgets.enumerated() {
            var replay = CacheReplay(capacityBytes: budget, expertBytes: Stream.layerBytes, experts: Stream.experts, eviction: .lru)
            for key in stream.flat { replay.request(key, decode: key % 2 == 0) }
            #expect(pass.hits[index] == replay.hits, "budget \(budget)")
            #expect(pass.decodeHits[index] == replay.decodeHits, "budget \(budget)")
        }
    }

    @Test("LRU's one-pass curve equals the protected replay by layer batch wherever the budget holds a batch", arguments: UInt64(1)...6)
    func lruOnePassEqualsBatchReplays(seed: UInt64) {
        let stream = Stream(seed: seed, requests: 2_000, batchSizes: 1...3)
        var pass = LRUStackDistances(budgets: Self.budgets, expertBytes: Stream.layerBytes, experts: Stream.experts)
        for batch in stream.batches { pass.batch(batch[...], decode: true) }
        pass.finish()
        var compared = 0
        for (index, budget) in pass.budgets.enumerated() where budget >= pass.largestBatchBytes {
            for admission in [CacheAdmission.hardCap, .afterBatch] {
                var replay = CacheReplay(capacityBytes: budget, expertBytes: Stream.layerBytes, experts: Stream.experts, eviction: .lru,
                                         admission: admission)
                for batch in stream.batches { replay.batch(batch[...], decode: true) }
                #expect(pass.hits[index] == replay.hits, "budget \(budget) \(admission)")
                compared += 1
            }
        }
        #expect(compared >= 2)
    }
}
