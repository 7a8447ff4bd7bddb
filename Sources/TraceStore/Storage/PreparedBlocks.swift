/// The blocks ``PreparedTokens`` holds its stored ids and weights in: per block, a buffer of
/// ``PreparedTokens/blockTokens`` × layers × k values for the ids and one for the weights,
/// laid out layer-major (``PreparedTokens/offset(of:layer:)``). Shared by copies of the
/// tokens, and replaced by a copy before one of them writes to shared blocks.
///
/// Raw buffers, not arrays: a block is allocated without zero-filling it, as every slot a
/// token owns is written before it is read and the unused end of the last block is never read
/// (zero-filling a block in one pass, 0.8 MB for Qwen3, cost 4% of a parametric synthesis,
/// where zeroing one token's slots at a time had stayed in the first-level cache).
/// Unchecked `Sendable`: written only by the one ``PreparedTokens`` holding the only
/// reference, or, while a ``PreparedTokens/init(shape:hasWeights:count:fill:)`` runs, by its
/// threads, each in its own tokens' slots.
final class PreparedBlocks: @unchecked Sendable {
    /// Values per block: block tokens × layers × k.
    let valuesPerBlock: Int
    let hasWeights: Bool
    /// Per block, its ids' buffer.
    private(set) var ids: [UnsafeMutablePointer<UInt16>] = []
    /// Per block, its weights' buffer; empty without weights.
    private(set) var weightBits: [UnsafeMutablePointer<UInt16>] = []

    /// No blocks yet, for blocks of `valuesPerBlock` values.
    init(valuesPerBlock: Int, hasWeights: Bool) {
        self.valuesPerBlock = valuesPerBlock
        self.hasWeights = hasWeights
    }

    deinit {
        for block in ids { block.deallocate() }
        for block in weightBits { block.deallocate() }
    }

    /// Allocates blocks (uninitialised) until there are at least `count`.
    func reserve(blocks count: Int) {
        while ids.count < count {
            ids.append(.allocate(capacity: valuesPerBlock))
            if hasWeights { weightBits.append(.allocate(capacity: valuesPerBlock)) }
        }
    }

    /// New blocks holding the values of the first `tokens` tokens: whole blocks, and of the
    /// last, partly filled one, each layer's row up to its last token (`rowValues` values a
    /// token per row, `layers` rows).
    func copy(tokens: Int, blockTokens: Int, layers: Int, rowValues k: Int) -> PreparedBlocks {
        let copy = PreparedBlocks(valuesPerBlock: valuesPerBlock, hasWeights: hasWeights)
        let (full, rest) = tokens.quotientAndRemainder(dividingBy: blockTokens)
        copy.reserve(blocks: full + (rest > 0 ? 1 : 0))
        for (from, to) in [(ids, copy.ids)] + (hasWeights ? [(weightBits, copy.weightBits)] : []) {
            for block in 0..<full { to[block].initialize(from: from[block], count: valuesPerBlock) }
            guard rest > 0 else { continue }
            for layer in 0..<layers {
                let row = layer * blockTokens * k
                (to[full] + row).initialize(from: from[full] + row, count: rest * k)
            }
        }
        return copy
    }
}
