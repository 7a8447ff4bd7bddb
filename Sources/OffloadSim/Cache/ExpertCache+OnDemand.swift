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
    /// O(experts) plus the evictions' cost. LRU, FIFO, both LFUs, S3-FIFO, ARC and random run
    /// on raw pointers to the slots, one generic frame over a ``DemandRanking``
    /// (``RankedLookup``; LRU: about 140 instructions per lookup on the ESFT replay, where the
    /// rule's own calls took about 320; the replay's simulation thread under S3-FIFO 3.33 →
    /// 2.37 G instructions, under ARC 4.05 → 3.36 G). So does Belady when `unlocking`,
    /// unpartitioned and with no key parked (about 230 instructions per lookup against 590
    /// through its heap), in a frame of its own: its layer's resident keys leave the ranking
    /// while locked, which the others' frame does not do (one frame over closures for the
    /// rule's parts cost the Belady replay 0.2 G more instructions, 10%). `pinned` and
    /// partitioned Belady take the rule's own calls.
    public mutating func lookUpOnDemand(layer: Int, experts: UnsafeBufferPointer<UInt16>, nextUses: UnsafeBufferPointer<UInt32>,
                                        reserving: Bool, unlocking: Bool = false,
                                        into found: UnsafeMutableBufferPointer<DemandLookup>) -> DemandCounts {
        makeSlotsUnique()
        switch eviction {
        case .lru, .fifo: return lookUpInRecencyOrder(layer: layer, experts: experts, reserving: reserving, unlocking: unlocking, into: found)
        case .lfu, .lfuPerfect: return lookUpByUseCount(layer: layer, experts: experts, reserving: reserving, unlocking: unlocking, into: found)
        case .s3fifo: return lookUpInS3FIFOQueues(layer: layer, experts: experts, reserving: reserving, unlocking: unlocking, into: found)
        case .arc: return lookUpInARCLists(layer: layer, experts: experts, reserving: reserving, unlocking: unlocking, into: found)
        case .random: return lookUpInRandomOrder(layer: layer, experts: experts, reserving: reserving, unlocking: unlocking, into: found)
        case .belady, .pinned: break
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
}
