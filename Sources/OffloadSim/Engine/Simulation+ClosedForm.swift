import TraceStore

extension Simulation {
    /// Whether a run under these settings is on-demand loading whose every event time is a
    /// closed form of the layer's lookups, so that ``simulateStepInClosedForm()`` gives the
    /// event loop's results exactly: a plain on-demand policy (``OffloadPolicy/isPlainOnDemand``),
    /// moesim's streaming engine without host costs, hard-cap admission, at least one staging
    /// buffer, an exclusive bus (one port, one copy engine: copies run back to back in
    /// submission order, ``PCIeBus/isExclusive``) whose copies all take time, and neither a
    /// timeline nor a replay recorded (they want every operation's events).
    static func closedFormApplies(policy: any OffloadPolicy, options: SimulationOptions, bus: PCIeBus, copyNanoseconds: [Nanoseconds]) -> Bool {
        policy.isPlainOnDemand && !policy.preloadsAllExperts && !options.eventDriven
            && options.engine.expertExecution == .streaming && !options.engine.hasHostCosts && options.engine.cpuExpertsBelowTokens == 0
            && options.engine.hostExpertLayers == nil
            && options.admission == .hardCap && options.stagingBuffers >= 1
            && options.timelineSteps == 0 && options.replaySteps == 0
            && bus.isExclusive && !copyNanoseconds.isEmpty && copyNanoseconds.allSatisfy { $0 > 0 }
    }

    /// Simulates the step in ``step`` without events, layer by layer (see ``usesClosedForm``).
    ///
    /// On demand, a layer starts with the bus idle (each of its copies finishes before the
    /// expert that waits for it, and the layer ends with its last expert), so its copies are
    /// known at the router's end: the fills in lookup order, back to back, each taking the
    /// layer's one copy time X, then the first staged experts' copies, one per free staging
    /// buffer; a later staged copy is submitted when a staged expert finishes and starts when
    /// the bus is free. Experts run in lookup order, each once its copy is in and the one before
    /// it is done. The bus is copying at an expert's start exactly when the start is before the
    /// end of the last copy submitted so far (every submission so far was at or before it,
    /// and a copy ending at that instant is handled first, as the event order has it), which
    /// is when the compute slowdown under copies applies. The cache sees the same calls in the
    /// same order as under events: locks, then per lookup a touch or a reservation, then the
    /// fills in copy order, then the unlocks. O(routed experts) per layer.
    mutating func simulateStepInClosedForm() {
        stepStart = now
        latencies.begin(step, at: now)
        // Attention and shared experts cost the same at every layer of a step.
        let (attention, attentionLaunches) = compute.attention(tokens: step.tokens, kvTokens: step.kvTokens, scorePairs: step.scorePairs)
        let shared = compute.sharedExpertsNanoseconds(tokens: step.tokens)
        // Launch gaps of a layer's attention and shared experts, and of each routed expert: the same at every layer of a step.
        let launchGaps = (layer: attentionLaunches + (shared > 0 ? compute.sharedExpertsLaunchNanoseconds : 0),
                          expert: compute.expertLaunchNanoseconds)
        // The layers read the step's arrays through pointers (copies of the arrays share their
        // storage): slicing them per layer retained and released each array's buffer.
        let (experts, expertTokens, nextUse, expertTimes) = (step.experts, step.expertTokens, self.nextUse, self.expertTimes)
        experts.withUnsafeBufferPointer { experts in
            expertTokens.withUnsafeBufferPointer { expertTokens in
                nextUse.withUnsafeBufferPointer { nextUse in
                    expertTimes.withUnsafeBufferPointer { expertTimes in
                        let width = Self.tabulatedTokens
                        for index in 0..<(step.layerStart.count - 1) {
                            let range = step.range(layer: index)
                            let uses = nextUse.isEmpty ? nextUse : UnsafeBufferPointer(rebasing: nextUse[lookupIndex..<lookupIndex + range.count])
                            lookupIndex += range.count
                            let layer = LayerArrays(experts: UnsafeBufferPointer(rebasing: experts[range]),
                                                    tokens: UnsafeBufferPointer(rebasing: expertTokens[range]), nextUses: uses,
                                                    expertTimes: UnsafeBufferPointer(rebasing: expertTimes[index * width..<(index + 1) * width]))
                            simulateLayerInClosedForm(index, layer, attention: attention, shared: shared, launchGaps: launchGaps)
                        }
                    }
                }
            }
        }
        stepFinished()
    }

    /// One layer's part of the step's arrays, and its expert times for 1…``tabulatedTokens`` tokens.
    private struct LayerArrays {
        let experts: UnsafeBufferPointer<UInt16>
        let tokens: UnsafeBufferPointer<Int32>
        let nextUses: UnsafeBufferPointer<UInt32>
        let expertTimes: UnsafeBufferPointer<Nanoseconds>
    }

    /// One layer of ``simulateStepInClosedForm()``; `launchGaps`: those of its attention and shared experts, and of each expert.
    private mutating func simulateLayerInClosedForm(_ index: Int, _ arrays: LayerArrays, attention: Nanoseconds, shared: Nanoseconds,
                                                    launchGaps: (layer: Nanoseconds, expert: Nanoseconds)) {
        layer = index
        let count = arrays.experts.count
        let bytes = cache.expertBytesOfLayer(index)
        let copyNs = copyNanoseconds[index]
        let router = now + attention
        let mass = step.layerRoutedMass[index]
        metrics.exactGateMass += mass
        metrics.totalGateMass += mass
        withUnsafeTemporaryAllocation(of: ExpertCache.DemandLookup.self, capacity: count) { lookups in
            // On-demand loading prefetches nothing, so no victim is an unused prefetch: the
            // evictions are only counted. The layer's timing below does not touch the cache, so
            // its experts are unlocked right after their lookups, as after their compute.
            let counts = cache.lookUpOnDemand(layer: index, experts: arrays.experts, nextUses: arrays.nextUses,
                                              reserving: options.cacheBytes > 0, unlocking: true, into: lookups)
            metrics.evictions += counts.evictions
            let (hits, fills, staged) = (counts.hits, counts.fills, counts.staged)
            // Copies submitted at the router's end: every fill, then one staged copy per buffer.
            let initialCopies = fills + min(staged, options.stagingBuffers)
            var busFree = router + Nanoseconds(initialCopies) * copyNs
            var busyNs = Nanoseconds(initialCopies) * copyNs
            var computeNs = attention
            var stallNs: Nanoseconds = 0
            var computeEnd = router
            if shared > 0 {
                let ns = slowedUnderCopies(shared, copying: router < busFree)
                computeNs += ns
                computeEnd = router + ns
            }
            withUnsafeTemporaryAllocation(of: Nanoseconds.self, capacity: max(1, staged)) { stagedReady in
                for copy in 0..<min(staged, options.stagingBuffers) {
                    stagedReady[copy] = router + Nanoseconds(fills + copy + 1) * copyNs
                }
                var (fillsDone, stagedDone, stagedIssued) = (0, 0, min(staged, options.stagingBuffers))
                for position in 0..<count {
                    var ready = computeEnd
                    let lookup = lookups[position]
                    switch lookup {
                    case .hit: break
                    case .fill:
                        fillsDone += 1
                        ready = router + Nanoseconds(fillsDone) * copyNs
                    case .staged:
                        ready = stagedReady[stagedDone]
                        stagedDone += 1
                    }
                    if ready > computeEnd {
                        stallNs += ready - computeEnd
                        computeEnd = ready
                    }
                    let tokens = Int(arrays.tokens[position])
                    let ns = slowedUnderCopies(tokens <= arrays.expertTimes.count ? arrays.expertTimes[tokens - 1]
                                                   : compute.expertNanoseconds(layer: index, tokens: tokens),
                                               copying: computeEnd < busFree)
                    computeNs += ns
                    computeEnd += ns
                    if lookup == .staged && stagedIssued < staged {
                        // Its staging buffer is free: the next staged expert's copy is submitted now.
                        busFree = max(computeEnd, busFree) + copyNs
                        busyNs += copyNs
                        stagedReady[stagedIssued] = busFree
                        stagedIssued += 1
                    }
                }
            }
            now = computeEnd
            closedFormBusyNs += busyNs
            metrics.computeNs += computeNs
            metrics.launchGapNs += launchGaps.layer + Nanoseconds(count) * launchGaps.expert
            metrics.stallNs += stallNs
            if step.phase == .decode { metrics.decodeStallNs += stallNs }
            let demandBytes = (fills + staged) * bytes
            metrics.demandBytes += demandBytes
            metrics.stagedExperts += staged
            metrics.layers[index].record(lookups: count, hits: hits, decode: step.phase == .decode,
                                         demandBytes: demandBytes, computeNs: computeNs, stallNs: stallNs)
        }
    }

    /// `ns` of compute, stretched by the profile's kernel slowdown when the bus is copying.
    private func slowedUnderCopies(_ ns: Nanoseconds, copying: Bool) -> Nanoseconds {
        copyContention > 1 && copying ? Units.roundUp(Double(ns) * copyContention) : ns
    }
}
