/// LRU's hit count at every budget in one pass (Mattson, Gecsei, Slutz and Traiger,
/// "Evaluation techniques for storage hierarchies", IBM Systems Journal 1970): a request hits
/// an LRU cache of B bytes exactly when the bytes of the distinct keys requested since its
/// key's previous request, its own included, are at most B (LRU keeps the most recent keys
/// that fit, so its contents are a prefix of the recency stack; this holds for keys of
/// different sizes too).
///
/// A layer batch protects its experts from each other's evictions, so one of them hits
/// exactly when it is resident at the batch's start: its distance is taken before any of the
/// batch's requests moves a key (the batch's keys then move to the top in lookup order, and the
/// contents stay a prefix of the stack as long as the budget holds the batch).
///
/// The distance is the live bytes less a prefix sum over a ``FenwickTree`` indexed by each
/// key's last request time; times are renumbered when the axis fills, so memory is O(keys),
/// not O(requests). A request costs O(log keys + log budgets).
public struct LRUStackDistances: CacheRequestVisitor {
    /// The budgets, ascending, bytes.
    public let budgets: [Int]
    /// Per budget, requests that hit and decode requests that hit (after ``finish()``).
    public private(set) var hits: [Int]
    public private(set) var decodeHits: [Int]
    /// Requests, all and decode.
    public private(set) var requests = 0
    public private(set) var decodeRequests = 0
    /// The largest layer batch seen, bytes: under unit `layer-batch` the curve is LRU's only
    /// for budgets at least this large (below it, batch protection changes the victims).
    public private(set) var largestBatchBytes = 0
    private let layerBytes: [Int]
    private let experts: Int
    private let tree: FenwickTree
    // Raw storage owned by `storage` (a struct cannot free it); plain pointers keep the hot
    // path free of copy-on-write and exclusivity checks.
    private let storage: Storage
    private let lastTime: UnsafeMutablePointer<Int32>
    private let keyAt: UnsafeMutablePointer<Int32>
    private let distanceHits: UnsafeMutablePointer<Int>
    private let distanceDecodeHits: UnsafeMutablePointer<Int>
    private var now = 0
    private var liveBytes = 0

    /// A pass for `budgets` (bytes, any order) over keys of `layerBytes.count × experts`.
    public init(budgets: [Int], expertBytes layerBytes: [Int], experts: Int) {
        self.budgets = budgets.sorted()
        hits = Array(repeating: 0, count: budgets.count)
        decodeHits = hits
        self.layerBytes = layerBytes
        self.experts = experts
        let keys = layerBytes.count * experts
        // Room for several requests per key between renumberings.
        tree = FenwickTree(count: max(256, 4 * keys))
        storage = Storage(keys: keys, times: tree.count, budgets: budgets.count + 1)
        (lastTime, keyAt, distanceHits, distanceDecodeHits) = (storage.lastTime, storage.keyAt, storage.distanceHits, storage.distanceDecodeHits)
    }

    @inline(__always)
    public mutating func request(_ key: Int, decode: Bool) {
        count(key, decode: decode)
        move(key)
    }

    public mutating func batch(_ keys: ArraySlice<Int>, decode: Bool) {
        var bytes = 0
        for key in keys {
            bytes += keyBytes(key)
            count(key, decode: decode)
        }
        for key in keys { move(key) }
        largestBatchBytes = max(largestBatchBytes, bytes)
    }

    /// Counts a request of `key` against the stack as it stands.
    @inline(__always)
    private mutating func count(_ key: Int, decode: Bool) {
        requests += 1
        if decode { decodeRequests += 1 }
        let last = Int(lastTime[key])
        guard last >= 0 else { return }
        // Bytes of the distinct keys requested after `last`, this key's own included.
        let distance = liveBytes - tree.prefix(last + 1) + keyBytes(key)
        let index = firstBudget(atLeast: distance)
        distanceHits[index] += 1
        if decode { distanceDecodeHits[index] += 1 }
    }

    /// Moves `key` to the top of the stack.
    @inline(__always)
    private mutating func move(_ key: Int) {
        let size = keyBytes(key)
        let last = Int(lastTime[key])
        if last >= 0 {
            tree.add(last, -size)
            liveBytes -= size
            keyAt[last] = -1
        }
        if now == tree.count { renumber() }
        lastTime[key] = Int32(now)
        keyAt[now] = Int32(key)
        tree.add(now, size)
        liveBytes += size
        now += 1
    }

    /// Finishes the counts: per budget, the requests whose distance fits it.
    public mutating func finish() {
        var running = 0, runningDecode = 0
        for index in budgets.indices {
            running += distanceHits[index]
            runningDecode += distanceDecodeHits[index]
            hits[index] = running
            decodeHits[index] = runningDecode
        }
    }

    @inline(__always)
    private func keyBytes(_ key: Int) -> Int { layerBytes[key / experts] }

    /// Index of the smallest budget ≥ `distance` (budgets.count when none).
    @inline(__always)
    private func firstBudget(atLeast distance: Int) -> Int {
        var low = 0, high = budgets.count
        while low < high {
            let middle = (low + high) >> 1
            if budgets[middle] >= distance { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Renumbers the live keys' last times 0, 1, … in order, when the time axis is full.
    private mutating func renumber() {
        var live = 0
        for time in 0..<tree.count where keyAt[time] >= 0 {
            let key = keyAt[time]
            keyAt[time] = -1
            keyAt[live] = key
            lastTime[Int(key)] = Int32(live)
            live += 1
        }
        let (keyAt, layerBytes, experts) = (self.keyAt, self.layerBytes, self.experts)
        tree.rebuild { keyAt[$0] >= 0 ? layerBytes[Int(keyAt[$0]) / experts] : 0 }
        now = live
    }

    /// Owns the pass's raw buffers.
    private final class Storage {
        let lastTime: UnsafeMutablePointer<Int32>
        let keyAt: UnsafeMutablePointer<Int32>
        let distanceHits: UnsafeMutablePointer<Int>
        let distanceDecodeHits: UnsafeMutablePointer<Int>

        init(keys: Int, times: Int, budgets: Int) {
            lastTime = .allocate(capacity: keys)
            lastTime.initialize(repeating: -1, count: keys)
            keyAt = .allocate(capacity: times)
            keyAt.initialize(repeating: -1, count: times)
            distanceHits = .allocate(capacity: budgets)
            distanceHits.initialize(repeating: 0, count: budgets)
            distanceDecodeHits = .allocate(capacity: budgets)
            distanceDecodeHits.initialize(repeating: 0, count: budgets)
        }

        deinit {
            lastTime.deallocate()
            keyAt.deallocate()
            distanceHits.deallocate()
            distanceDecodeHits.deallocate()
        }
    }
}
