/// One eviction rule at one budget, replayed without timing over a stream of cache requests
/// (``CacheLookups``): a request hits when its expert is resident; a miss is admitted at once
/// (there is no copy to wait for). Requests of a layer batch are locked against each other's
/// evictions; with ``CacheAdmission/afterBatch`` a batch's misses all enter and the cache is
/// trimmed back to its budget after the batch. Counts hits over all requests and over decode
/// requests.
///
/// Uses the simulator's own ``ExpertCache``, so its rules are the ones `simulate` runs. Each
/// request is O(1) for LRU and FIFO, O(log n) for the heap rules.
public struct CacheReplay: CacheRequestVisitor {
    /// The cache.
    public private(set) var cache: ExpertCache
    /// When a batch's misses enter.
    public let admission: CacheAdmission
    /// Requests and hits, all and decode only.
    public private(set) var requests = 0
    public private(set) var hits = 0
    public private(set) var decodeRequests = 0
    public private(set) var decodeHits = 0
    private let nextUse: [UInt32]
    private var evicted: [Int] = []

    /// A replay of `eviction` over a cache of `capacityBytes`; `nextUse` (for Belady) gives each
    /// request's next request of the same key, in request order, and `lookupKeys` each request's
    /// key, or is empty (``CacheCurve/nextUses(_:)``; the same hits, sooner: see ``ExpertCache``).
    public init(capacityBytes: Int, expertBytes: [Int], experts: Int, eviction: EvictionPolicy, admission: CacheAdmission = .hardCap,
                nextUse: [UInt32] = [], lookupKeys: [UInt32] = [], seed: UInt64 = 1) {
        cache = ExpertCache(capacityBytes: capacityBytes, expertBytes: expertBytes, experts: experts, eviction: eviction, seed: seed,
                            lookupKeys: lookupKeys)
        self.admission = admission
        self.nextUse = nextUse
    }

    public mutating func request(_ key: Int, decode: Bool) {
        look(key, decode: decode, admitting: false)
    }

    public mutating func batch(_ keys: ArraySlice<Int>, decode: Bool) {
        for key in keys { cache.lock(key) }
        for key in keys { look(key, decode: decode, admitting: admission == .afterBatch) }
        if admission == .afterBatch {
            evicted.removeAll(keepingCapacity: true)
            cache.trimToBudget(evicted: &evicted)
        }
        for key in keys { cache.unlock(key) }
    }

    @inline(__always)
    private mutating func look(_ key: Int, decode: Bool, admitting: Bool) {
        let next: UInt64 = requests < nextUse.count ? UInt64(nextUse[requests]) : 0
        requests += 1
        if decode { decodeRequests += 1 }
        if cache.residency(of: key) == .resident {
            cache.touch(key, nextUse: next)
            hits += 1
            if decode { decodeHits += 1 }
            return
        }
        evicted.removeAll(keepingCapacity: true)
        if admitting ? cache.admit(key, nextUse: next) : cache.reserve(key, nextUse: next, evicted: &evicted) { cache.fill(key) }
    }
}
