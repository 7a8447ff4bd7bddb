import TraceStore

extension Simulation {
    mutating func beginLayer(_ index: Int) {
        layer = index
        let ns = compute.attentionNanoseconds(tokens: step.tokens, kvTokens: step.kvTokens, scorePairs: step.scorePairs)
        startCompute(.attention, ns)
    }

    mutating func startCompute(_ op: ComputeOp, _ duration: Nanoseconds) {
        var ns = duration
        if compute.copyContention > 1 && op != .draft && bus.isCopying() {
            ns = Units.roundUp(Double(ns) * compute.copyContention)
        }
        computeOp = op
        computeStart = now
        metrics.computeNs += ns
        if op != .draft { metrics.layers[layer].computeNs += ns }
        queue.schedule(at: now + ns, phase: .compute)
        if replay.stepLimit > 0 { recordReplay(op, work: duration) }
    }

    private mutating func recordReplay(_ op: ComputeOp, work: Nanoseconds) {
        let model = compute.model
        switch op {
        case .idle: return
        case .draft:
            replay.computeStarted(.draft, tokens: step.tokens, work: work, tag: nil, at: now)
        case .attention:
            let bytes = model.attentionBytes + step.kvTokens * model.kvBytesPerToken
            replay.computeStarted(.attention(layer: layer, bytes: bytes), tokens: step.tokens, work: work, tag: nil, at: now)
        case .shared:
            replay.computeStarted(.shared(layer: layer, bytes: model.sharedExpertBytes * model.sharedExperts), tokens: step.tokens, work: work, tag: nil, at: now)
        case .expert(let position):
            let expert = Int(layerExperts[position])
            let key = layer * cache.expertsPerLayer + expert
            let tag = staged[position] ? -Int32(position) - 1 : Int32(key)
            replay.computeStarted(.expert(layer: layer, expert: expert, key: key, staging: staged[position] ? position : -1, onCPU: onCPU[position]),
                                  tokens: Int(layerTokens[position]), work: work, tag: tag, at: now)
        }
    }

    mutating func computeFinished() {
        replay.computeFinished(at: now)
        if timeline.isRecording(step: step.index) { timeline.recordCompute(op: computeOp, layer: layer, step: step, start: computeStart, end: now) }
        switch computeOp {
        case .draft: beginLayer(0)
        case .attention: routerFinished()
        case .shared: startNextExpert()
        case .expert(let position): expertFinished(position)
        case .idle: preconditionFailure("compute finished with no operation running")
        }
    }

    mutating func issueStagingCopies() {
        while stagingFree > 0, let position = stagingQueue.popFirst() {
            stagingFree -= 1
            var bytes = compute.model.expertBytes[layer]
            if case .lowPrecision(_, let ratio) = policy.missHandling, lowPrecision[position] {
                bytes = Int((Double(bytes) * ratio).rounded(.up))
            }
            _ = submitCopy(bytes: bytes, priority: .demand, tag: -Int32(position) - 1)
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
        guard cursor < executionOrder.count else { return layerFinished() }
        let position = executionOrder[cursor]
        if ready[position] {
            let tokens = Int(layerTokens[position])
            startCompute(.expert(position), onCPU[position] ? 0 : expertNanoseconds(tokens: tokens))
        } else {
            computeOp = .idle
            waitingOn = position
            stallStart = now
        }
    }

    mutating func copyFinished(_ done: CopyCompletion) {
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
        replay.copyFinished(done, stagingTag: key == nil ? done.tag : nil)
        if position >= 0 && position < ready.count { ready[position] = true }
        let policy = self.policy
        policy.copyFinished(done, key: key, in: &self)
        if position >= 0 { resumeIfWaiting(on: position) }
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
        if staged[position] {
            stagingFree += 1
            issueStagingCopies()
        }
        cursor += 1
        startNextExpert()
    }

    mutating func layerFinished() {
        computeOp = .idle
        let base = layer * cache.expertsPerLayer
        for expert in layerExperts {
            let key = base + Int(expert)
            positionOfKey[key] = -1
            cache.unlock(key)
        }
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
