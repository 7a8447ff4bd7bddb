/// Collects one token's routing from rows that arrive in any order.
struct TokenAssembly {
    let layers: Int
    let topK: Int
    var ids: [UInt16]
    var weights: [Float]
    var filled: [Bool]
    var phase: Phase = .prefill

    init(layers: Int, topK: Int) {
        self.layers = layers
        self.topK = topK
        ids = Array(repeating: 0, count: layers * topK)
        weights = Array(repeating: 0, count: layers * topK)
        filled = Array(repeating: false, count: layers * topK)
    }

    /// Records one slot; false when it was already filled.
    mutating func set(layer: Int, slot: Int, expert: UInt16, weight: Float) -> Bool {
        let index = layer * topK + slot
        guard !filled[index] else { return false }
        filled[index] = true
        ids[index] = expert
        weights[index] = weight
        return true
    }

    /// The first layer without all of its slots, or nil.
    func missingLayer() -> Int? {
        (0..<layers).first { layer in (0..<topK).contains { !filled[layer * topK + $0] } }
    }

    /// Every layer without all of its slots.
    func missingLayers() -> [Int] {
        (0..<layers).filter { layer in (0..<topK).contains { !filled[layer * topK + $0] } }
    }

    func slotsFilled(_ layer: Int) -> Int { (0..<topK).filter { filled[layer * topK + $0] }.count }

    /// Empties it for another token: every slot unfilled and zero, phase prefill (as new).
    mutating func reset() {
        for i in filled.indices {
            filled[i] = false
            ids[i] = 0
            weights[i] = 0
        }
        phase = .prefill
    }
}
