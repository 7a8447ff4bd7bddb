/// The four lists of ARC, adaptive replacement (Megiddo & Modha, "ARC: A Self-Tuning, Low
/// Overhead Replacement Cache", FAST 2003, Fig. 4) over the cache keys of one partition: T1
/// (resident, used once recently), T2 (resident, used at least twice), their ghosts B1 and
/// B2 (evicted keys remembered), and the target size `p` of T1.
///
/// Sizes are in bytes, generalising the paper's pages: a ghost hit moves `p` by
/// max(|B2|/|B1|, 1) (or the inverse) times the key's size — one page when every expert has
/// the same size, as in the paper. Locked keys (the current layer's, or filling) are passed
/// over: REPLACE takes the oldest unlocked key of the list it picks, else of the other.
/// Every operation is O(1) apart from skipping locked keys and trimming ghosts.
struct ARCLists {
    private enum List: Int { case none = 0, t1, t2, b1, b2 }

    private var lists: RecencyList
    private var listOf: [List]
    private var bytes = [0, 0, 0, 0, 0]
    private var target = 0.0
    private let capacity: Int
    private let layerBytes: [Int]
    private let experts: Int
    // The pending miss: whether it was a B2 ghost (REPLACE's tie rule), and whether its first
    // eviction drops T1's oldest without a ghost (case IV A with B1 empty).
    private var missInB2 = false
    private var evictT1WithoutGhost = false

    /// Lists over `layerBytes.count × experts` keys for a partition of `capacityBytes`.
    init(layerBytes: [Int], experts: Int, capacityBytes: Int) {
        lists = RecencyList(keys: layerBytes.count * experts, partitions: 5)
        listOf = Array(repeating: .none, count: layerBytes.count * experts)
        capacity = capacityBytes
        self.layerBytes = layerBytes
        self.experts = experts
    }

    /// Case I: a hit moves the key to T2's most recent end.
    mutating func hit(_ key: Int) { move(key, to: .t2) }

    /// Before a miss on `key` evicts anything: adapts `p` on a ghost hit (cases II and III) or
    /// trims the ghosts (case IV), as the paper does before REPLACE.
    mutating func prepareMiss(_ key: Int) {
        let incoming = size(key)
        missInB2 = listOf[key] == .b2
        evictT1WithoutGhost = false
        switch listOf[key] {
        case .b1:
            target = min(Double(capacity), target + max(Double(bytes(.b2)) / Double(bytes(.b1)), 1) * Double(incoming))
        case .b2:
            target = max(0, target - max(Double(bytes(.b1)) / Double(bytes(.b2)), 1) * Double(incoming))
        case .none:
            if bytes(.t1) + bytes(.b1) + incoming > capacity {
                if bytes(.b1) > 0 {
                    trim(.b1) { $0.bytes(.t1) + $0.bytes(.b1) + incoming > $0.capacity }
                } else {
                    evictT1WithoutGhost = true
                }
            } else {
                trim(.b2) { $0.bytes(.t1) + $0.bytes(.b1) + $0.bytes(.t2) + $0.bytes(.b2) + incoming > 2 * $0.capacity }
            }
        case .t1, .t2:
            preconditionFailure("ARC: a miss on a resident key")
        }
    }

    /// REPLACE: the key to evict (moved to its ghost list, or dropped in case IV A), or nil
    /// when every resident key is locked.
    mutating func evict(locked: (Int) -> Bool) -> Int? {
        let t1 = Double(bytes(.t1))
        let fromT1 = evictT1WithoutGhost || bytes(.t2) == 0 || (t1 > 0 && (t1 > target || (missInB2 && t1 == target)))
        for list in fromT1 ? [List.t1, .t2] : [.t2, .t1] {
            guard let victim = lists.oldest(partition: list.rawValue, where: { !locked($0) }) else { continue }
            if evictT1WithoutGhost && list == .t1 { forget(victim) } else { move(victim, to: list == .t1 ? .b1 : .b2) }
            evictT1WithoutGhost = false
            return victim
        }
        return nil
    }

    /// Inserts a missed key: into T2 after a ghost hit, else into T1.
    mutating func insert(_ key: Int) { move(key, to: listOf[key] == .b1 || listOf[key] == .b2 ? .t2 : .t1) }

    /// Forgets a resident key without the rules (a cancelled fill).
    mutating func remove(_ key: Int) { forget(key) }

    private func size(_ key: Int) -> Int { layerBytes[key / experts] }

    private func bytes(_ list: List) -> Int { bytes[list.rawValue] }

    private mutating func move(_ key: Int, to list: List) {
        forget(key)
        listOf[key] = list
        lists.append(key, partition: list.rawValue)
        bytes[list.rawValue] += size(key)
    }

    private mutating func forget(_ key: Int) {
        let from = listOf[key]
        guard from != .none else { return }
        lists.remove(key, partition: from.rawValue)
        bytes[from.rawValue] -= size(key)
        listOf[key] = .none
    }

    /// Drops `list`'s oldest ghosts while `over` holds.
    private mutating func trim(_ list: List, while over: (Self) -> Bool) {
        while over(self), let oldest = lists.oldest(partition: list.rawValue, where: { _ in true }) { forget(oldest) }
    }
}
