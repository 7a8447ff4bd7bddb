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
    /// A streaming cursor from chunk `index`.
    public func cursor(fromChunk index: Int, predictions lookaheads: [Int]) throws -> ChunkCursor {
        try chunks(from: index, predictions: lookaheads)
    }
}
