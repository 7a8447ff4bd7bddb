/// Cache keys a policy prefetched for layers that have not run yet, kept from eviction
/// until their layer runs (or the step ends). Protect, query and release are O(1) per key;
/// releasing a layer is O(protected keys).
struct PrefetchProtection {
    private let experts: Int
    private var flags: [Bool]
    private var keys: [Int] = []

    /// Protection for `layers` × `experts` keys.
    init(layers: Int, experts: Int) {
        self.experts = experts
        flags = Array(repeating: false, count: layers * experts)
    }

    /// Keeps `newKeys` from eviction.
    mutating func protect(_ newKeys: [Int]) {
        for key in newKeys where !flags[key] {
            flags[key] = true
            keys.append(key)
        }
    }

    /// Whether `key` is protected.
    func contains(_ key: Int) -> Bool { flags[key] }

    /// Releases `layer`'s keys (its experts are now locked by the engine).
    mutating func release(layer: Int) {
        keys.removeAll { key in
            guard key / experts == layer else { return false }
            flags[key] = false
            return true
        }
    }

    /// Releases everything (a new step starts).
    mutating func releaseAll() {
        for key in keys { flags[key] = false }
        keys.removeAll(keepingCapacity: true)
    }
}
