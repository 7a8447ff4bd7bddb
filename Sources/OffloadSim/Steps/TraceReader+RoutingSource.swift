import TraceStore

extension ChunkCursor: RoutingCursor {}

extension TraceReader: RoutingSource {
    /// The trace's path.
    public var sourceName: String { path }
    /// The trace's model shape.
    public var shape: ModelShape { metadata.shape }
    /// Whether the trace stores gate weights.
    public var hasWeights: Bool { metadata.hasWeights }
    /// Lookaheads with recorded predictions.
    public var recordedLookaheads: [Int] { metadata.predictionLookaheads }
    /// A streaming cursor from chunk `index`; without `weights` it checks no content
    /// checksum (``ChunkCursor/readsWeights``).
    public func cursor(fromChunk index: Int, predictions lookaheads: [Int], weights: Bool) throws -> ChunkCursor {
        let cursor = try chunks(from: index, predictions: lookaheads)
        cursor.readsWeights = weights
        return cursor
    }
}
