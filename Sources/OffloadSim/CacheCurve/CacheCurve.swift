/// Hit rates of eviction rules at many cache budgets over one request stream, without timing
/// (`moesim cache-curve`): LRU's whole curve from one pass of stack distances
/// (``LRUStackDistances``), every other rule (and LRU below the largest layer batch, where
/// batch protection changes its victims) replayed per budget (``CacheReplay``) — all of them
/// in one more pass over the trace. Belady's optimum needs each request's next use: one pass
/// more, and 4 bytes per request.
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

    /// Runs `rules` at `budgets` (bytes) over `lookups`.
    public static func run<Source: RoutingSource>(_ lookups: CacheLookups<Source>, expertBytes: [Int], rules: [EvictionPolicy],
                                                  budgets: [Int], admission: CacheAdmission = .hardCap, seed: UInt64 = 1) throws -> Result {
        let experts = lookups.source.shape.experts
        let budgets = budgets.sorted()
        var points: [Point] = []
        var requests = 0, decodeRequests = 0, largestBatch = 0
        var replayed: [(EvictionPolicy, Int)] = []
        if rules.contains(.lru) {
            var pass = LRUStackDistances(budgets: budgets, expertBytes: expertBytes, experts: experts)
            try lookups.forEach(&pass)
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
        for rule in rules where rule != .lru {
            for budget in budgets { replayed.append((rule, budget)) }
        }
        if !replayed.isEmpty {
            let (keys, nextUse) = replayed.contains { $0.0 == .belady } ? try nextUses(lookups) : ([], [])
            var group = ReplayGroup(replays: replayed.map { rule, budget in
                CacheReplay(capacityBytes: budget, expertBytes: expertBytes, experts: experts, eviction: rule, admission: admission,
                            nextUse: rule == .belady ? nextUse : [], lookupKeys: rule == .belady ? keys : [], seed: seed)
            }, expertBytes: expertBytes, experts: experts)
            try lookups.forEach(&group)
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
        var keys = KeyCollector()
        try lookups.forEach(&keys)
        return (keys.keys, TracePrepass.nextUses(ofKeys: keys.keys))
    }
}

/// Feeds every request to several replays, noting the largest layer batch's bytes.
private struct ReplayGroup: CacheRequestVisitor {
    var replays: [CacheReplay]
    let expertBytes: [Int]
    let experts: Int
    private(set) var largestBatch = 0

    init(replays: [CacheReplay], expertBytes: [Int], experts: Int) {
        self.replays = replays
        self.expertBytes = expertBytes
        self.experts = experts
    }

    mutating func request(_ key: Int, decode: Bool) {
        for index in replays.indices { replays[index].request(key, decode: decode) }
    }

    mutating func batch(_ keys: ArraySlice<Int>, decode: Bool) {
        largestBatch = max(largestBatch, keys.reduce(0) { $0 + expertBytes[$1 / experts] })
        for index in replays.indices { replays[index].batch(keys, decode: decode) }
    }
}

/// Collects the request keys in order.
private struct KeyCollector: CacheRequestVisitor {
    var keys: [UInt32] = []
    mutating func request(_ key: Int, decode: Bool) { keys.append(UInt32(key)) }
    mutating func batch(_ keys: ArraySlice<Int>, decode: Bool) { for key in keys { self.keys.append(UInt32(key)) } }
}
