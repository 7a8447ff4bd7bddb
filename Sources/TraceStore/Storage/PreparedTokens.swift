/// Tokens checked against a trace's shape and put in the order a trace stores them, once, so
/// that ``TraceWriter/appendToken(phase:prepared:at:)`` appends each of them any number of
/// times by a copy: a synthesiser resampling a reference trace appends every reference token
/// many times, and checking and sorting it each time was 29% of `trace synth --like`
/// (Benchmarks/RESULTS.md, "Synthesis, third session").
///
/// A token is accepted or refused exactly as ``TraceWriter/appendToken(phase:ids:weightBits:predictions:absentLayers:)``
/// accepts or refuses it, and appending it prepared writes the same bytes. Memory: 2 bytes
/// per id and per weight, one per layer for the absent flags once a token lacks a layer.
public struct PreparedTokens: Sendable {
    /// The shape the tokens were checked against; a writer of other layers, top-k or experts refuses them.
    public let shape: ModelShape
    /// Whether the tokens carry gate weights.
    public let hasWeights: Bool
    /// Ids in stored order, token-major: token × layers × k.
    private(set) var ids: [UInt16] = []
    /// fp16 gate weights beside `ids`; empty without weights.
    private(set) var weightBits: [UInt16] = []
    /// Per token × layer, whether the token lacks it; empty while no token lacks a layer.
    private(set) var absent: [Bool] = []
    /// Per token, how many layers it lacks.
    private(set) var absentLayerCounts: [UInt16] = []

    /// An empty set of tokens for traces of `shape`, with weights or without.
    public init(shape: ModelShape, hasWeights: Bool) {
        self.shape = shape
        self.hasWeights = hasWeights
    }

    /// How many tokens are held.
    public var count: Int { absentLayerCounts.count }

    /// Checks a token and adds it; its index is the previous ``count``. Throws
    /// ``TraceWriter/InvalidToken`` for what a writer would refuse.
    ///
    /// - Parameters:
    ///   - ids: layers × top-k expert ids, layer by layer.
    ///   - weightBits: the matching fp16 gate weights, or nil when the tokens have none.
    ///   - absentLayers: layers the token lacks.
    public mutating func append(ids: [UInt16], weightBits: [UInt16]?, absentLayers: [Int] = []) throws {
        let absentSet = try TokenCheck.check(ids: ids, weights: weightBits, absentLayers: absentLayers, shape: shape, hasWeights: hasWeights,
                                             isValid: WeightPayload.isValidWeight, value: { Float(Float16(bitPattern: $0)) })
        let first = self.ids.count
        self.ids.append(contentsOf: repeatElement(0, count: ids.count))
        if hasWeights { self.weightBits.append(contentsOf: repeatElement(0, count: ids.count)) }
        self.ids.withUnsafeMutableBufferPointer { outIDs in
            self.weightBits.withUnsafeMutableBufferPointer { outWeights in
                TokenCheck.writeStored(ids: ids, weightBits: weightBits, absent: absentSet, topK: shape.topK, experts: shape.experts, into: outIDs, outWeights,
                                       at: first, layerStride: shape.topK)
            }
        }
        if !absentSet.isEmpty || !absent.isEmpty {
            // The flags start with the first token that lacks a layer; the tokens before it lack none.
            absent.append(contentsOf: repeatElement(false, count: count * shape.layers - absent.count))
            absent.append(contentsOf: (0..<shape.layers).map { absentSet.contains($0) })
        }
        absentLayerCounts.append(UInt16(absentSet.count))
    }

    /// Removes every token, keeping the storage for the next ones.
    public mutating func removeAll() {
        ids.removeAll(keepingCapacity: true)
        weightBits.removeAll(keepingCapacity: true)
        absent.removeAll(keepingCapacity: true)
        absentLayerCounts.removeAll(keepingCapacity: true)
    }

    /// Whether some token lacks some layer.
    public var anyAbsent: Bool { !absent.isEmpty }

    /// The layers token `index` lacks, ascending.
    public func absentLayers(of index: Int) -> [Int] {
        guard absentLayerCounts[index] > 0 else { return [] }
        return (0..<shape.layers).filter { absent[index * shape.layers + $0] }
    }

    /// Copies token `index`'s ids (stored order) and weights into `ids` and `weightBits`,
    /// which must hold layers × k each (`weightBits` nothing without weights).
    public func copy(_ index: Int, ids: inout [UInt16], weightBits: inout [UInt16]) {
        let perToken = shape.decisionsPerToken, from = index * perToken
        ids.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: self.ids[from..<from + perToken]) }
        if hasWeights { weightBits.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: self.weightBits[from..<from + perToken]) } }
    }
}
