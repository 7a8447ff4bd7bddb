extension ExpertCache {
    /// What a layer's on-demand lookup over a ``DemandRanking`` reads of the cache, taken once
    /// for the layer: the partition, the layer's expert size, the budget, and raw buffers of the
    /// key sizes and the slots. It holds no reference to the cache (nor retains anything), so a
    /// rule's structures can be lent to the ranking by pointer, inside the cache's own access to
    /// them, while the lookup runs; it is valid inside the key sizes' buffer access it was made in.
    struct RankedLookup {
        let part: Int
        let base: Int
        let size: Int
        let budget: Int
        let keyBytes: UnsafeBufferPointer<Int>
        let locks: UnsafeMutablePointer<UInt16>
        let residency: UnsafeMutablePointer<ExpertResidency>
        let usedBytes: UnsafeMutablePointer<Int>
        let lockedBytes: UnsafeMutablePointer<Int>


        /// ``ExpertCache/lookUpOnDemand(layer:experts:nextUses:reserving:unlocking:into:)`` for
        /// the rules that rank through a ``DemandRanking`` (LRU, FIFO, both LFUs, S3-FIFO, ARC, random),
        /// the slots already unique: the same steps as ``ExpertCache/touch(_:nextUse:)``,
        /// ``ExpertCache/reserve(_:nextUse:evicted:mayEvict:)`` (a victim is the least ranked
        /// key neither locked nor filling), ``ExpertCache/fill(_:)`` and, when `unlocking`,
        /// ``ExpertCache/unlock(layer:experts:)``, on the raw buffers, with the partition's byte
        /// counts in locals; the caller adds the change in resident experts (fills − evictions).
        /// Generic, so that each rule's ranking is inlined into its own copy of the loop.
        @inline(__always)
        func run<Ranking: DemandRanking>(experts: UnsafeBufferPointer<UInt16>, reserving: Bool, unlocking: Bool, ranking: Ranking,
                                         into found: UnsafeMutableBufferPointer<DemandLookup>) -> DemandCounts {
            let (part, base, size, budget, keyBytes) = (part, base, size, budget, keyBytes)
            let (locks, residency, usedBytes, lockedBytes) = (locks, residency, usedBytes, lockedBytes)
            // The layer's experts are locked first, as ``lock(layer:experts:)`` does; they all have
            // the layer's size, so the bytes newly locked are a count times it.
            var newlyLocked = 0
            for expert in experts {
                let key = base &+ Int(expert)
                let before = locks[key]
                locks[key] = before &+ 1
                if before == 0 && residency[key] == .resident { newlyLocked &+= 1 }
            }
            var (used, locked) = (usedBytes[part], lockedBytes[part] + newlyLocked * size)
            var counts = DemandCounts()
            do {
                // Wrapping arithmetic on the keys and counts: they are bounded by the cache's key
                // count (an Int32 list), far from overflow, and the checks cost 6% of this function.
                for (position, expert) in experts.enumerated() {
                    let key = base &+ Int(expert)
                    if residency[key] == .resident {
                        ranking.touch(key, partition: part)
                        found[position] = .hit
                        counts.hits &+= 1
                        continue
                    }
                    precondition(!reserving || residency[key] == .absent)
                    var room = reserving && size <= budget - locked
                    if room { ranking.prepareMiss(key, partition: part) }
                    while room && used + size > budget {
                        guard let victim = ranking.takeLeast(partition: part, where: { locks[$0] == 0 && residency[$0] == .resident }) else {
                            room = false
                            break
                        }
                        residency[victim] = .absent
                        used -= keyBytes[victim]
                        counts.evictions &+= 1
                    }
                    guard room else {
                        found[position] = .staged
                        counts.staged &+= 1
                        continue
                    }
                    residency[key] = .filling
                    used += size
                    locked += size
                    ranking.enter(key, partition: part)
                    found[position] = .fill
                    counts.fills &+= 1
                }
            }
            // A filled slot is still locked by this layer, so its bytes stay counted as locked until unlocked.
            for (position, expert) in experts.enumerated() {
                let key = base &+ Int(expert)
                if found[position] == .fill { residency[key] = .resident }
                guard unlocking else { continue }
                locks[key] &-= 1
                if locks[key] == 0 && residency[key] == .resident { locked -= size }
            }
            (usedBytes[part], lockedBytes[part]) = (used, locked)
            return counts
        }
    }

    /// The frame of a lookup of `layer` over `keyBytes` (this cache's, inside its buffer access).
    @inline(__always)
    private func rankedLookup(layer: Int, keyBytes: UnsafeBufferPointer<Int>) -> RankedLookup {
        RankedLookup(part: partitioned ? layer : 0, base: layer * experts, size: layerBytes[layer], budget: partitionBudget,
                     keyBytes: keyBytes, locks: slots.locks, residency: slots.residency, usedBytes: slots.usedBytes,
                     lockedBytes: slots.lockedBytes)
    }

    // One function per rule, each with its own copy of the frame; LRU's and LFU's are inlined
    // into `lookUpOnDemand` (a call per layer cost LRU 2% more instructions, and so did one
    // generic function in place of these two: 1.27 → 1.33 G on the ESFT replay's thread).

    @inline(__always)
    mutating func lookUpInRecencyOrder(layer: Int, experts: UnsafeBufferPointer<UInt16>, reserving: Bool, unlocking: Bool,
                                       into found: UnsafeMutableBufferPointer<DemandLookup>) -> DemandCounts {
        let ranking = RecencyRanking(links: recency.uniqueLinks(), movesOnUse: eviction == .lru)
        let counts = keyBytes.withUnsafeBufferPointer { keyBytes in
            rankedLookup(layer: layer, keyBytes: keyBytes).run(experts: experts, reserving: reserving, unlocking: unlocking,
                                                               ranking: ranking, into: found)
        }
        residentCount += counts.fills - counts.evictions
        return counts
    }

    @inline(__always)
    mutating func lookUpByUseCount(layer: Int, experts: UnsafeBufferPointer<UInt16>, reserving: Bool, unlocking: Bool,
                                   into found: UnsafeMutableBufferPointer<DemandLookup>) -> DemandCounts {
        let ranking = frequencyRanking()
        let counts = keyBytes.withUnsafeBufferPointer { keyBytes in
            rankedLookup(layer: layer, keyBytes: keyBytes).run(experts: experts, reserving: reserving, unlocking: unlocking,
                                                               ranking: ranking, into: found)
        }
        residentCount += counts.fills - counts.evictions
        return counts
    }

    /// The partition's queues are lent to the ranking in place, inside the cache's access to them.
    mutating func lookUpInS3FIFOQueues(layer: Int, experts: UnsafeBufferPointer<UInt16>, reserving: Bool, unlocking: Bool,
                                       into found: UnsafeMutableBufferPointer<DemandLookup>) -> DemandCounts {
        let counts = keyBytes.withUnsafeBufferPointer { keyBytes in
            let lookup = rankedLookup(layer: layer, keyBytes: keyBytes)
            return s3.withUnsafeMutableBufferPointer { queues in
                let ranking = S3FIFORanking(queues: queues.baseAddress! + lookup.part, keyBytes: keyBytes)
                return lookup.run(experts: experts, reserving: reserving, unlocking: unlocking, ranking: ranking, into: found)
            }
        }
        residentCount += counts.fills - counts.evictions
        return counts
    }

    /// As ``lookUpInS3FIFOQueues(layer:experts:reserving:unlocking:into:)``, for ARC's lists.
    mutating func lookUpInARCLists(layer: Int, experts: UnsafeBufferPointer<UInt16>, reserving: Bool, unlocking: Bool,
                                   into found: UnsafeMutableBufferPointer<DemandLookup>) -> DemandCounts {
        let counts = keyBytes.withUnsafeBufferPointer { keyBytes in
            let lookup = rankedLookup(layer: layer, keyBytes: keyBytes)
            return arc.withUnsafeMutableBufferPointer { lists in
                lookup.run(experts: experts, reserving: reserving, unlocking: unlocking, ranking: ARCRanking(lists: lists[lookup.part].frame()),
                           into: found)
            }
        }
        residentCount += counts.fills - counts.evictions
        return counts
    }

    /// As ``lookUpInS3FIFOQueues(layer:experts:reserving:unlocking:into:)``, for the random
    /// rule's resident keys and generator.
    mutating func lookUpInRandomOrder(layer: Int, experts: UnsafeBufferPointer<UInt16>, reserving: Bool, unlocking: Bool,
                                      into found: UnsafeMutableBufferPointer<DemandLookup>) -> DemandCounts {
        let counts = keyBytes.withUnsafeBufferPointer { keyBytes in
            let lookup = rankedLookup(layer: layer, keyBytes: keyBytes)
            return withRandomRanking(partition: lookup.part) {
                lookup.run(experts: experts, reserving: reserving, unlocking: unlocking, ranking: $0, into: found)
            }
        }
        residentCount += counts.fills - counts.evictions
        return counts
    }
}
