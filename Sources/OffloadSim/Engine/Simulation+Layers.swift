import TraceStore

extension Simulation {
    mutating func beginLayer(_ index: Int) {
        layer = index
        let (ns, launches) = compute.attention(tokens: step.tokens, kvTokens: step.kvTokens, scorePairs: step.scorePairs)
        startCompute(.attention, ns, launchGaps: launches, kernels: compute.profile.kernelsPerAttention)
    }

    /// Starts `op` on the compute stream: now, or, under an engine with host costs, once
    /// the host has launched it (after its syncs and copy calls so far). `launchGaps` is the
    /// part of `duration` in which its kernels are being launched (not busy for the GPU).
    ///
    /// Under an engine that dispatches each of the op's `kernels` from the host as a framework
    /// operation (``ServingEngine/dispatchesEagerly``, at the profile's framework launch cost,
    /// ``dispatchNs``), the host issues them one after another from where it stands — ahead of
    /// the GPU if it got there first — and the op's last kernel starts no earlier than it is
    /// issued: when the host falls behind, the op lasts until the host's issue of its last
    /// kernel plus that kernel's share of the op's work, the extra time idle (a launch gap)
    /// and spent waiting on the host.
    mutating func startCompute(_ op: ComputeOp, _ duration: Nanoseconds, launchGaps: Nanoseconds, kernels: Int = 0) {
        var ns = duration
        var gaps = launchGaps
        if copyContention > 1 && op != .draft && bus.isCopying() {
            ns = Units.roundUp(Double(ns) * copyContention)
        }
        let begin = max(now, hostFree)
        metrics.hostWaitNs += begin - now
        if dispatchNs > 0 && kernels > 0 {
            let issued = hostFree + Nanoseconds(kernels) * dispatchNs
            let lastKernel = max(0, ns - gaps) / Nanoseconds(kernels)
            let hostBound = issued + lastKernel - begin
            if hostBound > ns {
                gaps += hostBound - ns
                metrics.hostWaitNs += hostBound - ns
                ns = hostBound
            }
            hostFree = issued
        }
        computeOp = op
        computeStart = begin
        metrics.computeNs += ns
        metrics.launchGapNs += gaps
        if op != .draft { metrics.layers[layer].computeNs += ns }
        precondition(computeDue < 0, "the compute stream runs one operation at a time")
        computeDue = begin + ns
        if replay.stepLimit > 0 { recordReplay(op, work: duration, at: begin) }
    }

    private mutating func recordReplay(_ op: ComputeOp, work: Nanoseconds, at begin: Nanoseconds) {
        let model = compute.model
        switch op {
        case .idle: return
        case .draft:
            replay.computeStarted(.draft, tokens: step.tokens, work: work, tag: nil, at: begin)
        case .attention:
            let bytes = model.attentionBytes + step.kvTokens * model.kvBytesPerToken
            replay.computeStarted(.attention(layer: layer, bytes: bytes), tokens: step.tokens, work: work, tag: nil, at: begin)
        case .shared:
            replay.computeStarted(.shared(layer: layer, bytes: model.sharedExpertBytes * model.sharedExperts), tokens: step.tokens, work: work, tag: nil, at: begin)
        case .expert(let position):
            let (kernel, tag) = replayExpert(position)
            replay.computeStarted(kernel, tokens: Int(layerTokens[position]), work: work, tag: tag, at: begin)
        case .grouped:
            var experts: [(kernel: ReplaySchedule.Kernel, tag: Int32, replica: Int)] = []
            var tokens: [Int] = []
            if engine.expertExecution == .concurrentStreams {
                forEachReplicaShard { position, replica, shard in
                    let (kernel, tag) = replayExpert(position)
                    experts.append((kernel, tag, replica))
                    tokens.append(shard)
                }
            } else {
                for position in executionOrder where !planned[position].onCPU {
                    let (kernel, tag) = replayExpert(position)
                    experts.append((kernel, tag, 0))
                    tokens.append(Int(layerTokens[position]))
                }
            }
            replay.groupStarted(experts, tokens: tokens, work: work, at: begin)
        }
    }

    /// What the replay runs for planned expert `position`, and the tag of the copy it waits for.
    private func replayExpert(_ position: Int) -> (ReplaySchedule.Kernel, Int32) {
        let expert = Int(layerExperts[position])
        let key = layer * cache.expertsPerLayer + expert
        let tag = planned[position].staged ? -Int32(position) - 1 : Int32(key)
        let slot = planned[position].staged ? replayStagingSlot(ofTag: tag)! : -1
        return (.expert(layer: layer, expert: expert, key: key, staging: slot, onCPU: planned[position].onCPU), tag)
    }

    /// The staging buffer the replay gives the copy tagged `tag` (nil for a cache key's copy):
    /// the planned position's own, or, under an engine that copies runs of expert ids, the
    /// expert's place in a buffer holding the whole layer, so that a run lands contiguous as
    /// llama.cpp's copy of the used rows of an expert tensor does. A staging copy lands while
    /// its layer is current (the engine waits for the whole layer), so its position is this layer's.
    func replayStagingSlot(ofTag tag: Int32) -> Int? {
        guard tag < 0, Self.replicaKey(ofTag: tag) == nil else { return nil }
        let position = -Int(tag) - 1
        return engine.copiesIDRuns ? Int(layerExperts[position]) : position
    }

    mutating func computeFinished() {
        replay.computeFinished(at: now)
        if timeline.isRecording(step: step.index) {
            var expert: (id: UInt16, tokens: Int32)?
            if case .expert(let position) = computeOp { expert = (layerExperts[position], layerTokens[position]) }
            timeline.recordCompute(op: computeOp, layer: layer, step: step, start: computeStart, end: now, expert: expert)
        }
        switch computeOp {
        case .draft: beginLayer(0)
        case .attention: routerFinished()
        case .shared: startNextExpert()
        case .expert(let position): expertFinished(position)
        case .grouped: groupedFinished()
        case .idle: preconditionFailure("compute finished with no operation running")
        }
    }

    mutating func issueStagingCopies() {
        if engine.copiesIDRuns { return issueStagingRuns() }
        while stagingFree > 0, let position = stagingQueue.popFirst() { issueStagingCopy(position) }
    }

    /// Copies planned expert `position` into a staging buffer (its low-precision version when so planned).
    private mutating func issueStagingCopy(_ position: Int) {
        stagingFree -= 1
        _ = submitCopy(bytes: stagingBytes(position), priority: .demand, tag: -Int32(position) - 1)
    }

    /// The bytes planned expert `position` copies into a staging buffer.
    private func stagingBytes(_ position: Int) -> Int {
        let bytes = compute.model.expertBytes[layer]
        if case .lowPrecision(_, let ratio) = policy.missHandling, planned[position].lowPrecision {
            return Int((Double(bytes) * ratio).rounded(.up))
        }
        return bytes
    }

    /// Copies the queued staged experts (all of the layer's: the engine waits for its whole
    /// layer) as one copy per run of consecutive expert ids, as llama.cpp's scheduler copies
    /// the used experts of a host-resident expert tensor (ggml-backend.cpp
    /// `ggml_backend_sched_compute_splits`: consecutive used ids grouped into one
    /// `ggml_backend_tensor_set_async`); the run's copy is tagged with its first position and
    /// ``runNext`` chains the rest. O(s log s) for s staged experts.
    private mutating func issueStagingRuns() {
        var positions = Array(stagingQueue)
        stagingQueue.removeAll()
        positions.sort { layerExperts[$0] < layerExperts[$1] }
        if runNext.count < planned.count { runNext = Array(repeating: -1, count: planned.count) }
        var start = 0
        while start < positions.count {
            var end = start + 1
            var bytes = stagingBytes(positions[start])
            while end < positions.count && Int(layerExperts[positions[end]]) == Int(layerExperts[positions[end - 1]]) + 1 {
                runNext[positions[end - 1]] = Int32(positions[end])
                bytes += stagingBytes(positions[end])
                end += 1
            }
            runNext[positions[end - 1]] = -1
            stagingFree -= end - start
            _ = submitCopy(bytes: bytes, priority: .demand, tag: -Int32(positions[start]) - 1)
            start = end
        }
    }

    /// A routed expert's time at the current layer, from the table made at start-up for
    /// the token counts decode steps use.
    func expertNanoseconds(tokens: Int) -> Nanoseconds {
        let width = Self.tabulatedTokens
        if tokens <= width { return expertTimes[layer * width + tokens - 1] }
        return compute.expertNanoseconds(layer: layer, tokens: tokens)
    }

    mutating func startNextExpert() {
        if engine.waitsForWholeLayer { return startGroupedExperts() }
        guard cursor < executionOrder.count else { return layerFinished() }
        let position = executionOrder[cursor]
        if engine.expertExecution == .perExpertSync && syncedCursor != cursor {
            // The host loop reaches this expert: it syncs, then copies the expert if it is missing.
            syncedCursor = cursor
            hostFree = max(hostFree, now) + expertSyncNs
            if planned[position].deferred {
                planned[position].deferred = false
                if planned[position].staged {
                    issueStagingCopy(position)
                } else {
                    let key = layer * cache.expertsPerLayer + Int(layerExperts[position])
                    copyOfKey[key] = submitCopy(bytes: cache.bytes(ofKey: key), priority: .demand, tag: Int32(key))
                }
            }
        }
        if planned[position].ready {
            let tokens = Int(layerTokens[position])
            let onCPU = planned[position].onCPU
            startCompute(.expert(position), onCPU ? 0 : expertNanoseconds(tokens: tokens),
                         launchGaps: onCPU ? 0 : compute.expertLaunchNanoseconds, kernels: onCPU ? 0 : compute.profile.kernelsPerExpert)
        } else {
            computeOp = .idle
            waitingOn = position
            stallStart = now
        }
    }

    /// Layer-barrier engines: once every planned expert is ready, one grouped kernel runs
    /// the layer's GPU experts (concurrent-streams engines: the experts on their streams,
    /// timed as one operation); until then the compute stream stalls. A layer copied from
    /// host memory first waits out the engine's syncs between its weight tensors
    /// (``ServingEngine/splitSync``), on the host's clock.
    private mutating func startGroupedExperts() {
        guard cursor < executionOrder.count else { return layerFinished() }
        if let missing = executionOrder.first(where: { !planned[$0].ready }) {
            computeOp = .idle
            waitingOn = missing
            stallStart = now
            return
        }
        cursor = executionOrder.count
        guard executionOrder.contains(where: { !planned[$0].onCPU }) else { return groupedFinished() }
        if engine.expertExecution == .concurrentStreams {
            var shards: [Int] = []
            forEachReplicaShard { _, _, tokens in shards.append(tokens) }
            let experts = compute.concurrentExperts(layer: layer, shards: shards, streams: engine.expertStreams, hostLaunchNs: hostLaunchNs)
            startCompute(.grouped, experts.ns, launchGaps: experts.launches)
        } else {
            if splitSyncNs > 0 && !engine.keepsExpertsOnGPU(layer: layer) && !engine.computesOnCPU(tokens: step.tokens) {
                hostFree = max(hostFree, now) + splitSyncNs
            }
            let launches = engine.groupedKernelLaunches
            startCompute(.grouped, compute.groupedExpertsNanoseconds(layer: layer, shards: engine.runsEveryExpert ? capacityShards() : routedShards(),
                                                                     launches: launches),
                         launchGaps: compute.groupedLaunchNanoseconds(launches: launches), kernels: launches)
        }
    }

    /// Each GPU expert's token count, in execution order.
    private func routedShards() -> [Int] {
        executionOrder.filter { !planned[$0].onCPU }.map { Int(layerTokens[$0]) }
    }

    /// A capacity dispatch (Tutel's `extract_critical`): every expert of the layer runs its
    /// padded capacity, top-k × ⌊factor × ⌈tokens / experts⌉⌋, routed or not.
    private func capacityShards() -> [Int] {
        let experts = cache.expertsPerLayer
        let topK = step.decisions / max(1, step.tokens * compute.model.layers)
        let capacity = topK * Int((engine.capacityFactor ?? 1) * Double((step.tokens + experts - 1) / experts))
        return Array(repeating: capacity, count: experts)
    }

    /// The kernels a concurrent-streams layer runs, to `body` as (planned position, replica,
    /// tokens): each GPU expert's tokens split evenly among the expert (replica 0) and its ready
    /// replicas 1, 2, … (``OffloadPolicy/readyReplicas(ofKey:)``), in execution order, so that
    /// an expert's copies land on neighbouring streams.
    private func forEachReplicaShard(_ body: (_ position: Int, _ replica: Int, _ tokens: Int) -> Void) {
        for position in executionOrder where !planned[position].onCPU {
            let tokens = Int(layerTokens[position])
            let key = layer * cache.expertsPerLayer + Int(layerExperts[position])
            let copies = 1 + min(policy.readyReplicas(ofKey: key), max(0, tokens - 1))
            for copy in 0..<copies { body(position, copy, tokens / copies + (copy < tokens % copies ? 1 : 0)) }
        }
    }

    private mutating func groupedFinished() {
        stagingFree += planned.reduce(0) { $0 + ($1.staged ? 1 : 0) }
        issueStagingCopies()
        // Shared experts after the routed ones: their end ends the layer (startGroupedExperts finds the cursor at the end).
        let shared = engine.sharedExpertsAfterRouted ? compute.sharedExpertsNanoseconds(tokens: step.tokens) : 0
        if shared > 0 { return startCompute(.shared, shared, launchGaps: compute.sharedExpertsLaunchNanoseconds, kernels: compute.profile.kernelsPerExpert) }
        layerFinished()
    }

    mutating func copyFinished(_ done: CopyCompletion) {
        if let replica = Self.replicaKey(ofTag: done.tag) {
            if timeline.isRecording(step: step.index) { timeline.recordCopy(done, layer: replica / cache.expertsPerLayer) }
            let policy = self.policy
            let readyBefore = policy.readyReplicas(ofKey: replica)
            policy.copyFinished(done, key: nil, in: &self)
            let ready = policy.readyReplicas(ofKey: replica)
            return replay.replicaCopyFinished(done, key: replica, replica: max(1, ready), madeReady: ready > readyBefore)
        }
        let key: Int? = done.tag >= 0 ? Int(done.tag) : nil
        let position: Int
        if let key {
            copyOfKey[key] = -1
            cache.fill(key)
            position = Int(positionOfKey[key])
        } else {
            position = -Int(done.tag) - 1
        }
        if timeline.isRecording(step: step.index) { timeline.recordCopy(done, layer: key.map { $0 / cache.expertsPerLayer } ?? layer) }
        replay.copyFinished(done)
        if position >= 0 && position < planned.count { planned[position].ready = true }
        let policy = self.policy
        policy.copyFinished(done, key: key, in: &self)
        guard position >= 0 else { return }
        guard key == nil && engine.copiesIDRuns else { return resumeIfWaiting(on: position) }
        // A run's copy makes every expert of the run ready.
        var member = Int(runNext[position])
        while member >= 0 {
            planned[member].ready = true
            member = Int(runNext[member])
        }
        member = position
        while member >= 0 {
            resumeIfWaiting(on: member)
            member = Int(runNext[member])
        }
    }

    /// Planned expert `position` became ready: if the compute stream was stalled on it,
    /// count the stall and go on.
    mutating func resumeIfWaiting(on position: Int) {
        guard position == waitingOn else { return }
        waitingOn = -1
        let stalled = now - stallStart
        metrics.stallNs += stalled
        metrics.layers[layer].stallNs += stalled
        if step.phase == .decode { metrics.decodeStallNs += stalled }
        startNextExpert()
    }

    mutating func expertFinished(_ position: Int) {
        if planned[position].staged {
            stagingFree += 1
            issueStagingCopies()
        }
        cursor += 1
        startNextExpert()
    }

    mutating func layerFinished() {
        computeOp = .idle
        let base = layer * cache.expertsPerLayer
        for expert in layerExperts { positionOfKey[base + Int(expert)] = -1 }
        cache.unlock(layer: layer, experts: layerExperts[...])
        if layer + 1 < step.layerStart.count - 1 { return beginLayer(layer + 1) }
        stepFinished()
    }

    mutating func stepFinished() {
        stepDone = true
        let policy = self.policy
        let produced = step.phase == .decode ? policy.producedTokens(in: &self) : 1
        latencies.finish(step, start: stepStart, end: now, produced: produced, into: &metrics)
        replay.stepFinished(produced: produced, at: now)
        if timeline.isRecording(step: step.index) { timeline.recordStep(step, start: stepStart, end: now) }
    }
}
