import DequeModule

/// The queues of S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction",
/// SOSP 2023) over cache keys, with the parameters of libCacheSim's implementation
/// (libCacheSim/cache/eviction/S3FIFO.c, `fifo-size-ratio=0.10,ghost-size-ratio=0.90,
/// move-to-main-threshold=2`):
///
/// - new keys enter the small queue S (10% of the bytes), or the main queue M (the rest) when
///   the ghost queue G remembers them (the ghost entry is consumed). libCacheSim also refuses
///   a key at least as large as S; the paper's Algorithm 1 does not, and neither does moesim,
///   whose per-layer partitions often hold fewer than ten experts;
/// - a hit raises the key's counter (kept at most 3);
/// - eviction takes from M when M holds more than its share or S is empty, else from S;
/// - S's oldest key moves to M when its counter reached the threshold (2), else it is evicted
///   and remembered in G; M's oldest key is reinserted with its counter lowered by one while
///   the counter is positive, else evicted;
/// - G remembers evicted keys up to 90% of the cache's bytes, oldest forgotten first; keys
///   that were readmitted no longer count.
///
/// Keys the caller marks as locked are passed over (moved to the back of their queue). Each
/// eviction is amortised O(1).
struct S3FIFOQueues {
    /// Share of the bytes for the small queue.
    static let smallShare = 0.10
    /// Share of the cache's bytes the ghost queue remembers.
    static let ghostShare = 0.90
    /// Hits while in S that move a key to M when it leaves S.
    static let moveToMainThreshold: UInt8 = 2

    private var small = Deque<Int32>()
    private var main = Deque<Int32>()
    private var ghost = Deque<(key: Int32, stamp: UInt32)>()
    private var ghostStamp: [UInt32]
    private var nextStamp: UInt32 = 1
    private var queueOf: [UInt8]
    private(set) var frequency: [UInt8]
    private var smallBytes = 0
    private var mainBytes = 0
    private var ghostBytes = 0
    private var liveGhosts = 0
    private let smallTarget: Int
    private let mainTarget: Int
    private let ghostTarget: Int

    init(keys: Int, capacityBytes: Int) {
        queueOf = Array(repeating: 0, count: keys)
        ghostStamp = Array(repeating: 0, count: keys)
        frequency = Array(repeating: 0, count: keys)
        smallTarget = Int(Double(capacityBytes) * Self.smallShare)
        mainTarget = capacityBytes - smallTarget
        ghostTarget = Int(Double(capacityBytes) * Self.ghostShare)
    }

    mutating func insert(_ key: Int, bytes: Int) {
        frequency[key] = 0
        if ghostStamp[key] != 0 {
            ghostStamp[key] = 0
            ghostBytes -= bytes
            liveGhosts -= 1
            queueOf[key] = 2
            main.append(Int32(key))
            mainBytes += bytes
        } else {
            queueOf[key] = 1
            small.append(Int32(key))
            smallBytes += bytes
        }
    }

    mutating func hit(_ key: Int) { frequency[key] = min(frequency[key] + 1, 3) }

    /// Removes a key without the eviction rules (a cancelled fill).
    mutating func remove(_ key: Int, bytes: Int) {
        if queueOf[key] == 1 { smallBytes -= bytes }
        if queueOf[key] == 2 { mainBytes -= bytes }
        queueOf[key] = 0
    }

    /// Chooses and removes a victim; nil when every key is locked.
    mutating func evict(bytes: (Int) -> Int, locked: (Int) -> Bool) -> Int? {
        if mainBytes > mainTarget || smallBytes == 0 {
            return evictMain(bytes: bytes, locked: locked) ?? evictSmall(bytes: bytes, locked: locked)
        }
        return evictSmall(bytes: bytes, locked: locked) ?? evictMain(bytes: bytes, locked: locked)
    }

    private mutating func evictSmall(bytes: (Int) -> Int, locked: (Int) -> Bool) -> Int? {
        var budget = small.count
        while budget > 0, let head = small.popFirst() {
            budget -= 1
            let key = Int(head)
            guard queueOf[key] == 1 else { continue }
            if locked(key) { small.append(head); continue }
            smallBytes -= bytes(key)
            if frequency[key] >= Self.moveToMainThreshold {
                frequency[key] = 0
                queueOf[key] = 2
                main.append(head)
                mainBytes += bytes(key)
                continue
            }
            queueOf[key] = 0
            remember(key, bytes: bytes)
            return key
        }
        return nil
    }

    private mutating func evictMain(bytes: (Int) -> Int, locked: (Int) -> Bool) -> Int? {
        var budget = 4 * main.count
        while budget > 0, let head = main.popFirst() {
            budget -= 1
            let key = Int(head)
            guard queueOf[key] == 2 else { continue }
            if locked(key) { main.append(head); continue }
            if frequency[key] > 0 {
                frequency[key] -= 1
                main.append(head)
                continue
            }
            queueOf[key] = 0
            mainBytes -= bytes(key)
            return key
        }
        return nil
    }

    private mutating func remember(_ key: Int, bytes: (Int) -> Int) {
        ghostStamp[key] = nextStamp
        ghost.append((Int32(key), nextStamp))
        nextStamp = nextStamp == .max ? 1 : nextStamp + 1
        ghostBytes += bytes(key)
        liveGhosts += 1
        while ghostBytes > ghostTarget, let old = ghost.popFirst() {
            guard ghostStamp[Int(old.key)] == old.stamp else { continue }
            ghostStamp[Int(old.key)] = 0
            ghostBytes -= bytes(Int(old.key))
            liveGhosts -= 1
        }
        // Readmitted keys leave stale entries behind; drop them once they outnumber the live ones.
        if ghost.count > 2 * liveGhosts + 64 {
            ghost = Deque(ghost.filter { ghostStamp[Int($0.key)] == $0.stamp })
        }
    }
}
