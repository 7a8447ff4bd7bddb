import TraceStore

extension ChunkCursor: RoutingCursor {}

extension TraceReader: RoutingSource {
    /// The trace's model shape.
    public var shape: ModelShape { metadata.shape }
    /// Whether the trace stores gate weights.
    public var hasWeights: Bool { metadata.hasWeights }
    /// A streaming cursor from chunk `index`.
    public func cursor(fromChunk index: Int) throws -> ChunkCursor { try chunks(from: index) }
}
