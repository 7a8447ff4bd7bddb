import TraceStore

/// A forward-only stream of routing chunks (``RoutingChunk``), as the engine consumes them.
public protocol RoutingCursor {
    /// A chunk buffer shaped for this stream.
    func makeChunk() -> RoutingChunk
    /// Decodes the next chunk into `chunk`; false after the last.
    mutating func next(into chunk: inout RoutingChunk) throws -> Bool
    /// The current chunk's recorded predictions, one per lookahead the cursor was opened with.
    var predictions: [PredictionChunk] { get }
}

/// Routing records and the sequences they belong to, from which batches are formed.
///
/// The engine never opens files: a trace reader (``TraceReader``) is one source; the
/// source owns any I/O and its errors.
public protocol RoutingSource {
    /// The cursor type this source hands out.
    associatedtype Cursor: RoutingCursor
    /// How errors name the source (a trace's path).
    var sourceName: String { get }
    /// The model shape the ids refer to.
    var shape: ModelShape { get }
    /// Whether gate weights are present.
    var hasWeights: Bool { get }
    /// The sequences, in trace order.
    var sequences: [SequenceInfo] { get }
    /// Lookaheads the source has recorded predictions for.
    var recordedLookaheads: [Int] { get }
    /// A cursor positioned at chunk `index` (a sequence's ``SequenceInfo/firstChunk``),
    /// decoding the recorded predictions at `lookaheads` too, and the gate weights when
    /// `weights` (a source may skip its own checks of what it does not decode then).
    func cursor(fromChunk index: Int, predictions lookaheads: [Int], weights: Bool) throws -> Cursor
}
