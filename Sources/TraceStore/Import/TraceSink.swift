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

    /// Appends an assembled token; one that lacks a layer is skipped and counted under
    /// `lenient`, else fails naming `place` (`why` may explain the gap).
    func append(_ token: TokenAssembly, withWeights: Bool, lenient: Bool, file: String, place: String, why: String = "") throws {
        if let missing = token.missingLayer() {
            guard lenient else {
                throw TraceStoreError(file: file, place: place,
                                      problem: "has no complete routing for layer \(missing) (\(token.slotsFilled(missing)) of \(token.topK) slots)\(why)",
                                      fix: "Add the missing rows, or pass --lenient to skip such tokens (the count is reported and kept in the trace's notes).")
            }
            skip("with missing layers")
            return
        }
        try append(phase: token.phase, ids: token.ids, weights: withWeights ? token.weights : nil, file: file, place: place)
    }

    /// Records a skipped token under `reason`.
    func skip(_ reason: String) {
        skipped[reason, default: 0] += 1
    }
}
