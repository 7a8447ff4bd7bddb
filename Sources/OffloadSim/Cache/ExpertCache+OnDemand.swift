extension ExpertCache {
    /// What ``lookUpOnDemand(layer:experts:nextUses:reserving:into:)`` found for one expert.
    public enum DemandLookup: UInt8, Sendable {
        /// Resident: touched.
        case hit
        /// A slot was reserved, and filled once the layer's lookups were done.
        case fill
        /// No room could be made (or the lookup reserves nothing): the expert streams
        /// through a staging buffer.
        case staged
    }

    /// How a layer's on-demand lookup went: the lookups of each kind and the evictions made.
    public struct DemandCounts: Sendable, Equatable {
        /// Experts found resident.
        public var hits = 0
        /// Experts given a slot.
        public var fills = 0
        /// Experts streamed through a staging buffer.
        public var staged = 0
        /// Resident experts evicted to make room.
        public var evictions = 0
    }

    /// Looks `experts` of `layer` up as on-demand loading does, with the calls and order of
    /// the event-driven engine: ``lock(layer:experts:)``, then per expert a
    /// ``touch(_:nextUse:)`` when it is resident or, when `reserving`, a
    /// ``reserve(_:nextUse:evicted:mayEvict:)`` that vetoes no eviction, then a ``fill(_:)``
    /// of each reserved slot in lookup order. `nextUses` holds each expert's next use
    /// (Belady) or is empty. Writes what each lookup found into `found` and returns the
    /// counts; the victims are only counted (on-demand loading prefetches nothing, so no
    /// victim is an unused prefetch). With `unlocking`, the experts are unlocked at the end, as
    /// ``unlock(layer:experts:)`` would (for a caller that does nothing with the cache before it
    /// would unlock them: the closed form times the layer without it); otherwise the caller
    /// unlocks the layer once its experts are done.
    ///
    /// One uniqueness check for the layer, the partition, size and budget worked out once:
    /// O(experts) plus the evictions' cost. LRU, FIFO and both LFUs run on raw pointers to
    /// their ranking and the slots, one generic frame over a ``DemandRanking`` (LRU: about 140
    /// instructions per lookup on the ESFT replay, where the rule's own calls took about 320);
    /// so does Belady when `unlocking`, unpartitioned and with no key parked (about 230
    /// instructions per lookup against 590 through its heap), in a frame of its own: its
    /// layer's resident keys leave the ranking while locked, which the others' frame does not
    /// do (one frame over closures for the rule's parts cost the Belady replay 0.2 G more
    /// instructions, 10%).
    public mutating func lookUpOnDemand(layer: Int, experts: UnsafeBufferPointer<UInt16>, nextUses: UnsafeBufferPointer<UInt32>,
                                        reserving: Bool, unlocking: Bool = false,
                                        into found: UnsafeMutableBufferPointer<DemandLookup>) -> DemandCounts {
        makeSlotsUnique()
        switch eviction {
        case .lru, .fifo:
            let ranking = RecencyRanking(links: recency.uniqueLinks(), movesOnUse: eviction == .lru)
            return lookUpRanked(layer: layer, experts: experts, reserving: reserving, unlocking: unlocking, ranking: ranking, into: found)
        case .lfu, .lfuPerfect:
            let ranking = FrequencyRanking(links: frequencies.uniqueLinks(), useCount: slots.useCount, remembers: eviction == .lfuPerfect)
            return lookUpRanked(layer: layer, experts: experts, reserving: reserving, unlocking: unlocking, ranking: ranking, into: found)
        default: break
        }
        if eviction == .belady && unlocking && !partitioned && !nextUses.isEmpty && nextUseQueues[0].parkedCount == 0 {
            return lookUpByNextUse(layer: layer, experts: experts, nextUses: nextUses, reserving: reserving, into: found)
        }
        let counts = lookUpByRule(layer: layer, experts: experts, nextUses: nextUses, reserving: reserving, into: found)
        if unlocking { unlock(layer: layer, experts: experts) }
        return counts
    }

    /// ``lookUpOnDemand(layer:experts:nextUses:reserving:into:)`` through the rule's own calls.
    private mutating func lookUpByRule(layer: Int, experts: UnsafeBufferPointer<UInt16>, nextUses: UnsafeBufferPointer<UInt32>,
                                       reserving: Bool, into found: UnsafeMutableBufferPointer<DemandLookup>) -> DemandCounts {
        let (part, base, size) = (partitioned ? layer : 0, layer * self.experts, layerBytes[layer])
        slots.lockedBytes[part] += changeLocks(layer: layer, experts: experts, locking: true)
        updateParking(layer: layer, experts: experts, locking: true)
        var counts = DemandCounts()
        var victims = VictimCount()
        for (position, expert) in experts.enumerated() {
            let key = base + Int(expert)
            let next = nextUses.isEmpty ? 0 : UInt64(nextUses[position])
            if slots.residency[key] == .resident {
                touchSlot(key, nextUse: next)
                found[position] = .hit
                counts.hits += 1
            } else if reserving && reserveSlot(key, size: size, partition: part, nextUse: next, evicted: &victims, mayEvict: { _ in true }) {
                found[position] = .fill
                counts.fills += 1
            } else {
                found[position] = .staged
                counts.staged += 1
            }
        }
        for (position, expert) in experts.enumerated() where found[position] == .fill { fillSlot(base + Int(expert)) }
        counts.evictions = victims.count
        return counts
    }

    /// ``lookUpOnDemand(layer:experts:nextUses:reserving:into:)`` for Belady with `unlocking`,
    /// unpartitioned, the slots already unique: the same victims as the rule's own calls
    /// (the least eligible key in the same total order), with the layer's experts out of the
    /// ranking while it holds them (its resident ones leave it when locked, and each touched or
    /// filled expert enters with its next use at the unlock) instead of parked or passed over,
    /// and the partition's byte counts in locals. The closed form calls it with no other lock held.
    private mutating func lookUpByNextUse(layer: Int, experts: UnsafeBufferPointer<UInt16>, nextUses: UnsafeBufferPointer<UInt32>,
                                          reserving: Bool, into found: UnsafeMutableBufferPointer<DemandLookup>) -> DemandCounts {
        let (base, size, budget) = (layer * self.experts, layerBytes[layer], partitionBudget)
        let (locks, residency, usedBytes, lockedBytes) = (slots.locks, slots.residency, slots.usedBytes, slots.lockedBytes)
        var (used, locked) = (usedBytes[0], lockedBytes[0])
        var counts = DemandCounts()
        nextUseQueues.withUnsafeMutableBufferPointer { queues in
            // Through the pointer, not the buffer's subscript: a call through that copied the queue.
            let queue = queues.baseAddress!
            let ranks = queue.pointee.uniqueRanks()
            // Locked, the layer's resident experts leave the ranking, so that no search for a
            // victim passes over them.
            for expert in experts {
                let key = base &+ Int(expert)
                let before = locks[key]
                locks[key] = before &+ 1
                if before == 0 && residency[key] == .resident { locked += size }
                if residency[key] == .resident && !ranks.removePositional(key) { queue.pointee.remove(key) }
            }
            keyBytes.withUnsafeBufferPointer { keyBytes in
                for (position, expert) in experts.enumerated() {
                    let key = base &+ Int(expert)
                    if residency[key] == .resident {
                        found[position] = .hit
                        counts.hits &+= 1
                        continue
                    }
                    precondition(!reserving || residency[key] == .absent)
                    var room = reserving && size <= budget - locked
                    while room && used + size > budget {
                        guard let victim = queue.pointee.least(where: { locks[$0] == 0 && residency[$0] == .resident }) else {
                            room = false
                            break
                        }
                        if !ranks.removePositional(victim) { queue.pointee.remove(victim) }
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
                    found[position] = .fill
                    counts.fills &+= 1
                }
            }
            for (position, expert) in experts.enumerated() {
                let key = base &+ Int(expert)
                if found[position] == .fill { residency[key] = .resident }
                if found[position] != .staged && !ranks.enterPositional(key, nextUse: nextUses[position]) {
                    queue.pointee.update(key, nextUse: UInt64(nextUses[position]))
                }
                locks[key] &-= 1
                if locks[key] == 0 && residency[key] == .resident { locked -= size }
            }
        }
        (usedBytes[0], lockedBytes[0]) = (used, locked)
        residentCount += counts.fills - counts.evictions
        return counts
    }

    /// ``lookUpOnDemand(layer:experts:nextUses:reserving:into:)`` for the rules that rank
    /// through a ``DemandRanking`` (LRU, FIFO, both LFUs), the slots already unique: the same
    /// steps as ``touch(_:nextUse:)``, ``reserve(_:nextUse:evicted:mayEvict:)`` (a victim is the
    /// least ranked key neither locked nor filling), ``fill(_:)`` and, when `unlocking`,
    /// ``unlock(layer:experts:)``, on the raw buffers, with the partition's byte counts in
    /// locals. Generic, so that each rule's ranking is inlined into its own copy of the loop.
    @inline(__always)
    private mutating func lookUpRanked<Ranking: DemandRanking>(layer: Int, experts: UnsafeBufferPointer<UInt16>, reserving: Bool,
                                                               unlocking: Bool, ranking: Ranking,
                                                               into found: UnsafeMutableBufferPointer<DemandLookup>) -> DemandCounts {
        let (part, base, size, budget) = (partitioned ? layer : 0, layer * self.experts, layerBytes[layer], partitionBudget)
        let (locks, residency, usedBytes, lockedBytes) = (slots.locks, slots.residency, slots.usedBytes, slots.lockedBytes)
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
        keyBytes.withUnsafeBufferPointer { keyBytes in
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
        residentCount += counts.fills - counts.evictions
        return counts
    }
}
