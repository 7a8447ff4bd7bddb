import DequeModule

/// The queues of S3-FIFO (Yang et al., SOSP 2023) over cache keys: new keys enter the
/// small queue S (10% of the bytes), or the main queue M when the ghost list G remembers
/// them; at eviction S's oldest key moves to M if it was hit since insertion and is
/// evicted (remembered in G) otherwise; M's oldest key is reinserted with its counter
/// decremented while the counter is positive (counters saturate at 3). Keys the caller
/// marks as locked are passed over. Each eviction is amortised O(1).
struct S3FIFOQueues {
    private var small = Deque<Int32>()
    private var main = Deque<Int32>()
    private var ghost = Deque<(key: Int32, stamp: UInt32)>()
    private var ghostStamp: [UInt32]
    private var nextStamp: UInt32 = 1
    private var queueOf: [UInt8]
    private(set) var frequency: [UInt8]
    private var smallBytes = 0
    private let smallTarget: Int

    init(keys: Int, capacityBytes: Int) {
        queueOf = Array(repeating: 0, count: keys)
        ghostStamp = Array(repeating: 0, count: keys)
        frequency = Array(repeating: 0, count: keys)
        smallTarget = max(capacityBytes / 10, 1)
    }

    mutating func insert(_ key: Int, bytes: Int) {
        frequency[key] = 0
        if ghostStamp[key] != 0 {
            ghostStamp[key] = 0
            queueOf[key] = 2
            main.append(Int32(key))
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
        queueOf[key] = 0
    }

    /// Chooses and removes a victim; nil when every key is locked.
    mutating func evict(bytes: (Int) -> Int, locked: (Int) -> Bool) -> Int? {
        if smallBytes >= smallTarget || main.isEmpty, let victim = evictSmall(bytes: bytes, locked: locked) { return victim }
        return evictMain(locked: locked) ?? evictSmall(bytes: bytes, locked: locked)
    }

    private mutating func evictSmall(bytes: (Int) -> Int, locked: (Int) -> Bool) -> Int? {
        var budget = small.count
        while budget > 0, let head = small.popFirst() {
            budget -= 1
            let key = Int(head)
            guard queueOf[key] == 1 else { continue }
            if locked(key) { small.append(head); continue }
            smallBytes -= bytes(key)
            if frequency[key] > 0 {
                frequency[key] = 0
                queueOf[key] = 2
                main.append(head)
                continue
            }
            queueOf[key] = 0
            remember(key)
            return key
        }
        return nil
    }

    private mutating func evictMain(locked: (Int) -> Bool) -> Int? {
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
            return key
        }
        return nil
    }

    private mutating func remember(_ key: Int) {
        ghostStamp[key] = nextStamp
        ghost.append((Int32(key), nextStamp))
        nextStamp &+= 1
        while ghost.count > max(main.count, 1), let old = ghost.popFirst() {
            if ghostStamp[Int(old.key)] == old.stamp { ghostStamp[Int(old.key)] = 0 }
        }
    }
}
