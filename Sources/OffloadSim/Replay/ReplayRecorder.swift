/// Builds a ``ReplaySchedule`` from the engine's events during the first `stepLimit`
/// steps; does nothing when `stepLimit` is 0. Memory grows with the recorded steps only.
struct ReplayRecorder: Sendable {
    let stepLimit: Int
    private(set) var schedule = ReplaySchedule()
    private var active = false
    private var lastFinishedOp = -1
    // Submitted copies by bus id: the op after which each was decided.
    private var pending: [Int32: (after: Int, prefetch: Bool)] = [:]
    // Submitted copies by bus id: the schedule index of the last piece that landed; for a
    // replica copy, whose destination is known only when it ends, the pieces themselves.
    private var lastPiece: [Int32: Int] = [:]
    private var replicaPieces: [Int32: [CopyPiece]] = [:]
    // Per copy tag (cache key, or -position-1 for staging), the last finished copy.
    private var lastCopyOfTag: [Int32: Int] = [:]
    // Per replica (cache key, replica number), the copy that made it ready.
    private var lastCopyOfReplica: [ReplicaID: Int] = [:]
    private struct ReplicaID: Hashable, Sendable { var key: Int, replica: Int }
    private var openOps = 0..<0

    init(stepLimit: Int) { self.stepLimit = stepLimit }

    mutating func stepStarted(index: Int, decode: Bool, tokens: Int, at now: Nanoseconds) {
        active = index < stepLimit
        guard active else { return }
        schedule.steps.append(.init(index: index, decode: decode, tokens: tokens, produced: 0, firstOp: schedule.ops.count,
                                    endOp: schedule.ops.count, start: now, end: now))
    }

    mutating func stepFinished(produced: Int, at now: Nanoseconds) {
        guard active else { return }
        schedule.steps[schedule.steps.count - 1].produced = produced
        schedule.steps[schedule.steps.count - 1].end = now
        schedule.steps[schedule.steps.count - 1].endOp = schedule.ops.count
        active = false
    }

    /// The host CPU started computing an expert.
    mutating func cpuExpertStarted() {
        if active { schedule.cpuExperts += 1 }
    }

    mutating func copySubmitted(id: Int32, prefetch: Bool) {
        guard active else { return }
        pending[id] = (lastFinishedOp, prefetch)
        // A bus id is reused once its copy ends or is cancelled: the old copy's pieces are not this one's.
        lastPiece[id] = nil
        replicaPieces[id] = nil
    }

    /// A piece of a copy landed: recorded as a copy of its own where it lands in its
    /// destination, in the order the bus moved pieces, so that the replay makes the copy calls
    /// the simulation made and moves a chunked prefetch's chunks where a demand copy did not
    /// take the engine between them. A replica copy's pieces wait for its end. `stagingSlot`
    /// is the staging buffer a staging copy lands in (nil for a cache key's or a replica's copy).
    mutating func pieceLanded(_ piece: CopyPiece, stagingSlot: Int?) {
        guard stepLimit > 0, let submitted = pending[piece.id] else { return }
        if Simulation.replicaKey(ofTag: piece.tag) != nil { return replicaPieces[piece.id, default: []].append(piece) }
        let (key, staging) = stagingSlot.map { (-1, $0) } ?? (Int(piece.tag), -1)
        schedule.copies.append(.init(bytes: piece.bytes, key: key, staging: staging, after: submitted.after, prefetch: submitted.prefetch,
                                     start: piece.startedAt, end: piece.finishedAt, offset: piece.offset))
        lastPiece[piece.id] = schedule.copies.count - 1
    }

    /// A copy ended: what waits for its tag now waits for its last piece (every piece lands,
    /// and is recorded, before the copy's end is handled).
    mutating func copyFinished(_ done: CopyCompletion) {
        guard stepLimit > 0, pending.removeValue(forKey: done.id) != nil, let last = lastPiece.removeValue(forKey: done.id) else { return }
        lastCopyOfTag[done.tag] = last
    }

    /// A copy of replica `replica` of expert `key` finished; `madeReady` says whether the
    /// policy counted it ready (a copy of a replica given up meanwhile is moved but not waited for).
    mutating func replicaCopyFinished(_ done: CopyCompletion, key: Int, replica: Int, madeReady: Bool) {
        guard stepLimit > 0, let submitted = pending.removeValue(forKey: done.id) else { return }
        for piece in replicaPieces.removeValue(forKey: done.id) ?? [] {
            schedule.copies.append(.init(bytes: piece.bytes, key: key, staging: -1, replica: replica, after: submitted.after,
                                         prefetch: submitted.prefetch, start: piece.startedAt, end: piece.finishedAt, offset: piece.offset))
        }
        if madeReady { lastCopyOfReplica[ReplicaID(key: key, replica: replica)] = schedule.copies.count - 1 }
    }

    mutating func computeStarted(_ kernel: ReplaySchedule.Kernel, tokens: Int, work: Nanoseconds, tag: Int32?, at now: Nanoseconds) {
        guard active else { return }
        let waits = tag.flatMap { lastCopyOfTag[$0] }.map { [$0] } ?? []
        schedule.ops.append(.init(kernel: kernel, tokens: tokens, waitsForCopies: waits, start: now, end: now, work: work))
        openOps = schedule.ops.count - 1..<schedule.ops.count
    }

    /// A grouped kernel started over `experts` (each with the tag of the copy that brought
    /// it and the copy of its weights it reads: 0 its own, r its r-th replica) for `tokens`
    /// each: recorded as their operations back to back, sharing `work`, the first waiting for
    /// all the group's copies (a replica's: the copy that made it ready) and holding the
    /// group's size.
    mutating func groupStarted(_ experts: [(kernel: ReplaySchedule.Kernel, tag: Int32, replica: Int)], tokens: [Int], work: Nanoseconds,
                               at now: Nanoseconds) {
        guard active, !experts.isEmpty else { return }
        let waits = Set(experts.compactMap { expert -> Int? in
            guard expert.replica > 0, case .expert(_, _, let key, _, _) = expert.kernel else { return lastCopyOfTag[expert.tag] }
            return lastCopyOfReplica[ReplicaID(key: key, replica: expert.replica)]
        }).sorted()
        let first = schedule.ops.count
        for (index, expert) in experts.enumerated() {
            let share = work / Nanoseconds(experts.count) + (index == 0 ? work % Nanoseconds(experts.count) : 0)
            schedule.ops.append(.init(kernel: expert.kernel, tokens: tokens[index], waitsForCopies: index == 0 ? waits : [],
                                      start: now, end: now, work: share, groupSize: index == 0 ? experts.count : 0,
                                      replica: expert.replica))
        }
        openOps = first..<schedule.ops.count
    }

    mutating func computeFinished(at now: Nanoseconds) {
        guard active, !openOps.isEmpty else { return }
        for op in openOps { schedule.ops[op].end = now }
        lastFinishedOp = openOps.upperBound - 1
        openOps = 0..<0
    }

    /// The schedule with copies in the order they started (ties: the order they finished),
    /// and waits renumbered to match.
    func finished() -> ReplaySchedule {
        var result = schedule
        let order = result.copies.indices.sorted { (result.copies[$0].start, $0) < (result.copies[$1].start, $1) }
        var newIndex = [Int](repeating: -1, count: order.count)
        for (position, old) in order.enumerated() { newIndex[old] = position }
        result.copies = order.map { schedule.copies[$0] }
        for index in result.ops.indices {
            result.ops[index].waitsForCopies = result.ops[index].waitsForCopies.map { newIndex[$0] }.sorted()
        }
        return result
    }
}
