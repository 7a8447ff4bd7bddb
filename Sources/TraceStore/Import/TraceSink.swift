/// Where an importer sends routing: a ``TraceWriter`` plus the bookkeeping every
/// importer shares — the place in the source for error messages, and counts of what
/// `--lenient` skipped.
public final class TraceSink {
    /// The writer tokens go to.
    let writer: TraceWriter
    /// Tokens skipped under `--lenient`, by reason.
    public private(set) var skipped: [String: Int] = [:]

    init(writer: TraceWriter) {
        self.writer = writer
    }

    /// Opens the next sequence.
    func beginSequence(name: String) {
        writer.beginSequence(name: name)
    }

    /// Appends a token; a refusal becomes a ``TraceStoreError`` naming `file` and `place`.
    func append(
        phase: Phase, ids: [UInt16], weights: [Float]?, predictions: [[UInt16]] = [],
        file: String, place: @autoclosure () -> String
    ) throws {
        do {
            try writer.appendToken(phase: phase, ids: ids, weights: weights, predictions: predictions)
        } catch let error as TraceWriter.InvalidToken {
            throw TraceStoreError(file: file, place: place(), problem: "the token \(error.problem)",
                                  fix: "Fix the source, or check --format and --model (see `moesim models`).")
        }
    }

    /// Records a skipped token under `reason`.
    func skip(_ reason: String) {
        skipped[reason, default: 0] += 1
    }
}
