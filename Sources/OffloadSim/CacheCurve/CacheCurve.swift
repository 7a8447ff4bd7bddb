import Dispatch

/// Hit rates of eviction rules at many cache budgets over one request stream, without timing
/// (`moesim cache-curve`): LRU's whole curve from one pass of stack distances
/// (``LRUStackDistances``), every other rule (and LRU below the largest layer batch, where
/// batch protection changes its victims) replayed per budget (``CacheReplay``) — all of them
/// in one more pass over the trace. Belady's optimum needs each request's next use: the
/// first pass then records the requests (4 bytes each, plus 8 per layer batch) and the
/// replays run from that record instead of reading the trace again.
public enum CacheCurve {
    /// One rule at one budget.
    public struct Point: Sendable, Equatable {
        public var rule: EvictionPolicy
        public var budgetBytes: Int
        public var hits: Int
        public var decodeHits: Int
        /// "stack distances" or "replay".
        public var method: String
    }

    /// Every point, with the request counts they share.
    public struct Result: Sendable {
        public var points: [Point]
        public var requests: Int
        public var decodeRequests: Int
        /// The largest layer batch, bytes (0 for unit `lookup`).
        public var largestBatchBytes: Int

        /// The point of `rule` at `budget`.
        public func point(_ rule: EvictionPolicy, _ budget: Int) -> Point? {
            points.first { $0.rule == rule && $0.budgetBytes == budget }
        }
    }

    /// The rules `cache-curve` replays: every rule but `pinned` (a placement, not a cache rule).
    public static let rules: [EvictionPolicy] = EvictionPolicy.allCases.filter { $0 != .pinned }

    /// Runs `rules` at `budgets` (bytes) over `lookups`, the replays spread over `threads`
    /// threads (each replay stays on one thread and sees every request in order, so the result
    /// is the same for any count).
    public static func run<Source: RoutingSource>(_ lookups: CacheLookups<Source>, expertBytes: [Int], rules: [EvictionPolicy],
                                                  budgets: [Int], admission: CacheAdmission = .hardCap, seed: UInt64 = 1,
                                                  threads: Int = 1) throws -> Result {
        let experts = lookups.source.shape.experts
        let budgets = budgets.sorted()
        var points: [Point] = []
        var requests = 0, decodeRequests = 0, largestBatch = 0
        var replayed: [(EvictionPolicy, Int)] = []
        // LRU's curve from a finished pass; budgets below the largest layer batch go to the replays.
        func takeStackDistances(_ pass: inout LRUStackDistances) {
            pass.finish()
            (requests, decodeRequests, largestBatch) = (pass.requests, pass.decodeRequests, pass.largestBatchBytes)
            for (index, budget) in pass.budgets.enumerated() {
                if budget >= largestBatch {
                    points.append(Point(rule: .lru, budgetBytes: budget, hits: pass.hits[index], decodeHits: pass.decodeHits[index],
                                        method: "stack distances"))
                } else {
                    replayed.append((.lru, budget))
                }
            }
        }
        // Requests one by one protect nothing from each other (no layer batch is ever larger than
        // a budget), so every LRU budget comes from stack distances, and the pass can ride along
        // with the replays: one read of the trace for both.
        let lruAlongside = rules.contains(.lru) && lookups.unit == .lookup && rules.contains { $0 != .lru }
        var alongside: LRUStackDistances?
        if rules.contains(.lru) {
            var pass = LRUStackDistances(budgets: budgets, expertBytes: expertBytes, experts: experts)
            if lruAlongside {
                alongside = pass
            } else {
                try lookups.forEach(&pass)
                takeStackDistances(&pass)
            }
        }
        for rule in rules where rule != .lru {
            for budget in budgets { replayed.append((rule, budget)) }
        }
        if !replayed.isEmpty {
            let record = replayed.contains { $0.0 == .belady } ? try RequestRecord(lookups) : nil
            let keys = record?.keys ?? [], nextUse = record.map { TracePrepass.nextUses(ofKeys: $0.keys) } ?? []
            var group = ReplayGroup(replays: replayed.map { rule, budget in
                CacheReplay(capacityBytes: budget, expertBytes: expertBytes, experts: experts, eviction: rule, admission: admission,
                            nextUse: rule == .belady ? nextUse : [], lookupKeys: rule == .belady ? keys : [], seed: seed)
            }, stackDistances: alongside, expertBytes: expertBytes, experts: experts, threads: threads)
            if let record { record.replay(into: &group) } else { try lookups.forEach(&group) }
            group.flush()
            if var pass = group.stackDistances {
                let replays = replayed.count
                takeStackDistances(&pass)
                precondition(replayed.count == replays, "requests one by one never send an LRU budget to the replays")
            }
            for (index, replay) in group.replays.enumerated() {
                points.append(Point(rule: replayed[index].0, budgetBytes: replayed[index].1, hits: replay.hits, decodeHits: replay.decodeHits,
                                    method: "replay"))
                (requests, decodeRequests) = (replay.requests, replay.decodeRequests)
            }
            largestBatch = max(largestBatch, group.largestBatch)
        }
        points.sort { ($0.budgetBytes, rules.firstIndex(of: $0.rule)!) < ($1.budgetBytes, rules.firstIndex(of: $1.rule)!) }
        return Result(points: points, requests: requests, decodeRequests: decodeRequests, largestBatchBytes: largestBatch)
    }

    /// Each request's key and its next request of the same key, in request order (`UInt32.max`: none).
    public static func nextUses<Source: RoutingSource>(_ lookups: CacheLookups<Source>) throws -> (keys: [UInt32], next: [UInt32]) {
        let record = try RequestRecord(lookups)
        return (record.keys, TracePrepass.nextUses(ofKeys: record.keys))
    }
}

/// Feeds every request to several replays (and, with them, LRU's stack-distance pass if
/// given), noting the largest layer batch's bytes. Requests are buffered; each buffer is then
/// replayed by one replay after another (one replay's cache state stays hot while it works
/// through the buffer), the replays and the pass dealt round-robin to `threads` threads.
private struct ReplayGroup: CacheRequestVisitor {
    private(set) var replays: [CacheReplay]
    private(set) var stackDistances: LRUStackDistances?
    let expertBytes: [Int]
    let experts: Int
    let threads: Int
    private(set) var largestBatch = 0
    /// Buffered requests: per request `key × 2 + decode` (unit lookup), or the layer batches'
    /// keys one after another (unit layer-batch) ...
    private var keys: [Int] = []
    /// ... each batch ending at `end × 2 + decode` of ``keys``.
    private var batchEnds: [Int] = []
    /// Requests a buffer holds before it is replayed: 512 KiB of keys.
    private static let bufferRequests = 1 << 16

    init(replays: [CacheReplay], stackDistances: LRUStackDistances? = nil, expertBytes: [Int], experts: Int, threads: Int) {
        self.replays = replays
        self.stackDistances = stackDistances
        self.expertBytes = expertBytes
        self.experts = experts
        self.threads = max(1, threads)
        keys.reserveCapacity(Self.bufferRequests)
    }

    mutating func request(_ key: Int, decode: Bool) {
        keys.append(key << 1 | (decode ? 1 : 0))
        if keys.count >= Self.bufferRequests { flush() }
    }

    mutating func batch(_ keys: ArraySlice<Int>, decode: Bool) {
        largestBatch = max(largestBatch, keys.reduce(0) { $0 + expertBytes[$1 / experts] })
        self.keys.append(contentsOf: keys)
        batchEnds.append(self.keys.count << 1 | (decode ? 1 : 0))
        if self.keys.count >= Self.bufferRequests { flush() }
    }

    /// Replays the buffered requests in every replay (and the stack-distance pass) and empties the buffer.
    mutating func flush() {
        guard !keys.isEmpty else { return }
        let (keys, batchEnds) = (self.keys, self.batchEnds)
        var stack = stackDistances
        stackDistances = nil
        let jobs = replays.count + (stack == nil ? 0 : 1)
        let workers = min(threads, jobs)
        replays.withUnsafeMutableBufferPointer { replaysBuffer in
            withUnsafeMutablePointer(to: &stack) { stackPointer in
                // Each job touches only its own replay (or the pass), and the buffers outlive the loop.
                nonisolated(unsafe) let (replays, stack) = (replaysBuffer, stackPointer)
                // Job j is replay j, or the stack-distance pass after the last replay.
                let run: @Sendable (Int) -> Void = { job in
                    if job < replays.count {
                        Self.feed(&replays[job], keys: keys, batchEnds: batchEnds)
                    } else {
                        Self.feed(&stack.pointee!, keys: keys, batchEnds: batchEnds)
                    }
                }
                if workers <= 1 {
                    for job in 0..<jobs { run(job) }
                    return
                }
                // Each worker owns the jobs at its indices modulo `workers`: no two touch the same one.
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    for job in stride(from: worker, to: jobs, by: workers) { run(job) }
                }
            }
        }
        stackDistances = stack
        self.keys.removeAll(keepingCapacity: true)
        self.batchEnds.removeAll(keepingCapacity: true)
    }

    private static func feed<Visitor: CacheRequestVisitor>(_ visitor: inout Visitor, keys: [Int], batchEnds: [Int]) {
        if batchEnds.isEmpty {
            for entry in keys { visitor.request(entry >> 1, decode: entry & 1 == 1) }
            return
        }
        var start = 0
        for entry in batchEnds {
            let end = entry >> 1
            visitor.batch(keys[start..<end], decode: entry & 1 == 1)
            start = end
        }
    }
}

/// The requests of one pass, kept to be replayed without reading the trace again: every
/// request's key in order, which phase each request (or layer batch) belongs to as a bit per
/// entry, and where each layer batch ends. Memory: 4 bytes a request, 8 a layer batch, a bit
/// a request or batch.
private struct RequestRecord: CacheRequestVisitor {
    private(set) var keys: [UInt32] = []
    /// Bit i: entry i (request, or layer batch) is decode.
    private var decodeBits: [UInt64] = []
    private var entries = 0
    /// For unit layer-batch: each batch's end in ``keys``.
    private var batchEnds: [Int] = []

    private mutating func note(decode: Bool) {
        if entries & 63 == 0 { decodeBits.append(0) }
        if decode { decodeBits[entries >> 6] |= 1 << UInt64(entries & 63) }
        entries += 1
    }

    /// The requests of one pass over `lookups`.
    init<Source: RoutingSource>(_ lookups: CacheLookups<Source>) throws {
        try lookups.forEach(&self)
    }

    private func isDecode(_ entry: Int) -> Bool { decodeBits[entry >> 6] >> UInt64(entry & 63) & 1 == 1 }

    mutating func request(_ key: Int, decode: Bool) {
        keys.append(UInt32(key))
        note(decode: decode)
    }

    mutating func batch(_ keys: ArraySlice<Int>, decode: Bool) {
        for key in keys { self.keys.append(UInt32(key)) }
        batchEnds.append(self.keys.count)
        note(decode: decode)
    }

    /// Sends the recorded requests to `visitor` as the trace's pass sent them.
    func replay<Visitor: CacheRequestVisitor>(into visitor: inout Visitor) {
        guard !batchEnds.isEmpty else {
            for (entry, key) in keys.enumerated() { visitor.request(Int(key), decode: isDecode(entry)) }
            return
        }
        var batch: [Int] = []
        var start = 0
        for (entry, end) in batchEnds.enumerated() {
            batch.removeAll(keepingCapacity: true)
            for index in start..<end { batch.append(Int(keys[index])) }
            visitor.batch(batch[...], decode: isDecode(entry))
            start = end
        }
    }
}
