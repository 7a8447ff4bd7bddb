import TraceStore

extension Simulation {
    /// The router has picked the layer's experts: let the policy plan the layer, look each
    /// planned expert up once, lock it, and handle the misses.
    mutating func routerFinished() {
        if routerSyncNs > 0 { hostFree = max(hostFree, now) + routerSyncNs }
        syncedCursor = -1
        cpuLayerPaid = false
        let range = step.range(layer: layer)
        layerExperts.removeAll(keepingCapacity: true)
        layerTokens.removeAll(keepingCapacity: true)
        layerExperts.append(contentsOf: step.experts[range])
        layerTokens.append(contentsOf: step.expertTokens[range])
        substituted = false
        let policy = self.policy
        policy.planLayer(layer, in: &self)
        if !substituted {
            let mass = step.layerRoutedMass[layer]
            metrics.exactGateMass += mass
            metrics.totalGateMass += mass
        }
        lookUpLayer()
        if options.admission == .afterBatch && options.cacheBytes > 0 { trimCacheAfterBatch() }
        cursor = 0
        issueStagingCopies()
        if policy.expertOrder == .residentFirst {
            executionOrder = executionOrder.filter { planned[$0].ready } + executionOrder.filter { !planned[$0].ready && !planned[$0].staged }
                + executionOrder.filter { !planned[$0].ready && planned[$0].staged }
        }
        policy.routed(layer: layer, in: &self)
        let shared = compute.sharedExpertsNanoseconds(tokens: step.tokens)
        if shared > 0 && !engine.sharedExpertsAfterRouted {
            startCompute(.shared, shared, launchGaps: compute.sharedExpertsLaunchNanoseconds, kernels: compute.profile.kernelsPerExpert)
        } else {
            startNextExpert()
        }
    }

    /// Replaces the experts the current layer runs (speculative execution); `exactMass` of
    /// the step's `totalMass` of gate weight is computed with the true experts (count each
    /// routed decision as 1 when the trace has no weights). Call from ``OffloadPolicy/planLayer(_:in:)``.
    public mutating func substituteLayer(experts: [UInt16], tokens: [Int32], exactMass: Double, totalMass: Double) {
        precondition(experts.count == tokens.count && !experts.isEmpty)
        layerExperts = experts
        layerTokens = tokens
        substituted = true
        metrics.exactGateMass += exactMass
        metrics.totalGateMass += totalMass
    }

    /// Gate weight routed at `range` of the step's experts (decisions where there are no weights).
    @inline(__always)  // called from mutating code, an outlined call copies the whole engine state first
    func routedMass(_ range: Range<Int>) -> Double {
        var mass = 0.0
        for index in range {
            let weight = step.expertGateMass[index]
            mass += weight.isNaN ? Double(step.expertTokens[index]) : Double(weight)
        }
        return mass
    }

    private mutating func lookUpLayer() {
        let count = layerExperts.count
        let decode = step.phase == .decode
        let base = layer * cache.expertsPerLayer
        planned.removeAll(keepingCapacity: true)
        executionOrder.removeAll(keepingCapacity: true)
        // A per-expert host loop copies each miss only when it reaches the expert.
        let deferCopies = engine.expertExecution == .perExpertSync
        let afterBatch = options.admission == .afterBatch
        var hits = 0
        var inFlight = 0
        var demandBytes = 0
        var staging = 0
        let handling = engine.computesOnCPU(tokens: step.tokens) ? .computeOnCPU : policy.missHandling
        // A layer whose experts the engine keeps on the GPU finds every one of them there, outside the cache.
        let onGPU = engine.keepsExpertsOnGPU(layer: layer)
        var massPerToken: Float?  // the layer's top-k gate weight per token, for low-precision decisions
        // Lock the whole layer first, so that a miss never evicts an expert the layer needs later in its list.
        cache.lock(layer: layer, experts: layerExperts[...])
        for position in 0..<count {
            let key = base + Int(layerExperts[position])
            positionOfKey[key] = Int32(position)
            executionOrder.append(position)
            let next: UInt64 = lookupIndex < nextUse.count ? UInt64(nextUse[lookupIndex]) : 0
            lookupIndex += 1
            unusedPrefetch[key] = false
            var (isReady, isStaged, isOnCPU, isLow, isDeferred) = (false, false, false, false, false)
            switch onGPU ? .resident : cache.residency(of: key) {
            case .resident:
                hits += 1
                if !onGPU { cache.touch(key, nextUse: next) }
                isReady = true
            case .filling:
                inFlight += 1
                cache.touch(key, nextUse: next)
                bus.promote(copyOfKey[key], now: now, queue: &queue)
            case .absent:
                let bytes = cache.bytes(ofKey: key)
                switch handling {
                case .computeOnCPU:
                    isOnCPU = true
                    startOnCPU(position)
                case .lowPrecision(let threshold, let ratio) where weightShare(position, perToken: &massPerToken) < threshold:
                    isLow = true
                    isStaged = true
                    staging += 1
                    demandBytes += Int((Double(bytes) * ratio).rounded(.up))
                    if deferCopies { isDeferred = true } else { stagingQueue.append(position) }
                    metrics.lowPrecisionExperts += 1
                    metrics.exactGateMass -= routedMass(routedIndex(position).map { $0..<$0 + 1 } ?? 0..<0)
                default:
                    demandBytes += bytes
                    let admitted = options.cacheBytes > 0
                        && (afterBatch ? cache.admit(key, nextUse: next) : reserveSlot(key, nextUse: next))
                    if admitted {
                        if deferCopies { isDeferred = true } else { copyOfKey[key] = submitCopy(bytes: bytes, priority: .demand, tag: Int32(key)) }
                    } else {
                        isStaged = true
                        staging += 1
                        if deferCopies { isDeferred = true } else { stagingQueue.append(position) }
                    }
                }
            }
            planned.append(PlannedExpert(ready: isReady, staged: isStaged, onCPU: isOnCPU, lowPrecision: isLow, deferred: isDeferred))
        }
        metrics.layers[layer].lookups += count
        metrics.layers[layer].hits += hits
        if decode {
            metrics.layers[layer].decodeLookups += count
            metrics.layers[layer].decodeHits += hits
        }
        metrics.demandBytes += demandBytes
        metrics.layers[layer].demandBytes += demandBytes
        metrics.stagedExperts += staging
        metrics.inFlightLookups += inFlight
    }

    /// Where planned expert `position` stands among the router's choices, if it was chosen.
    private func routedIndex(_ position: Int) -> Int? {
        step.range(layer: layer).first { step.experts[$0] == layerExperts[position] }
    }

    /// Planned expert `position`'s share of its tokens' top-k gate weight (weights renormalised
    /// over the top-k, as the expert outputs are mixed): its gate mass over its tokens times
    /// the layer's mean top-k mass per token (computed once per layer into `cached`). 1 without weights.
    private func weightShare(_ position: Int, perToken cached: inout Float?) -> Float {
        guard let index = routedIndex(position) else { return 1 }
        let mass = step.expertGateMass[index]
        guard !mass.isNaN else { return 1 }
        let perToken = cached ?? Float(step.layerRoutedMass[layer]) / Float(step.tokens)
        cached = perToken
        return perToken > 0 ? mass / (Float(step.expertTokens[index]) * perToken) : 1
    }

    /// Queues planned expert `position` on the host CPU, after the CPU's earlier work; under an
    /// engine with a per-layer CPU cost (``ServingEngine/cpuLayer``) the layer's first CPU
    /// expert pays it and each expert its roofline alone.
    private mutating func startOnCPU(_ position: Int) {
        let start = max(now, cpuFree)
        var ns = compute.cpuExpertNanoseconds(layer: layer, tokens: Int(layerTokens[position]), overhead: cpuLayerNs == nil)
        if let cpuLayerNs, !cpuLayerPaid {
            cpuLayerPaid = true
            ns += cpuLayerNs
        }
        cpuFree = start + ns
        metrics.cpuExperts += 1
        metrics.cpuNs += ns
        replay.cpuExpertStarted()
        queue.schedule(at: cpuFree, phase: .cpu, payload: Int32(position))
    }

    /// A CPU expert finished: its result is ready for the GPU to merge.
    mutating func cpuFinished(_ position: Int) {
        planned[position].ready = true
        resumeIfWaiting(on: position)
    }
}
