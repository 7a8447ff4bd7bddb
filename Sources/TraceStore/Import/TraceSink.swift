/// Where an importer sends routing: a ``TraceWriter`` plus the bookkeeping every
/// importer shares — the place in the source for error messages, and counts of what
/// `--lenient` skipped or kept incomplete.
public final class TraceSink {
    /// The writer tokens go to.
    let writer: TraceWriter
    /// Tokens skipped under `--lenient`, by reason.
    public private(set) var skipped: [String: Int] = [:]
    /// Tokens kept under `--lenient` with some layers absent, and those layers' count.
    public private(set) var incompleteTokens = 0
    public private(set) var absentLayers = 0

    init(writer: TraceWriter) {
        self.writer = writer
    }

    /// Labels the trace synthetic once it is being written (``TraceWriter/markSynthetic(_:)``).
    func markSynthetic(_ sentence: String) {
        writer.markSynthetic(sentence)
    }

    /// Opens the next sequence.
    func beginSequence(name: String) {
        writer.beginSequence(name: name)
    }

    /// Appends a token; a refusal becomes a ``TraceStoreError`` naming `file` and `place`.
    func append(
        phase: Phase, ids: [UInt16], weights: [Float]?, predictions: [[UInt16]] = [], absentLayers: [Int] = [],
        file: String, place: @autoclosure () -> String
    ) throws {
        do {
            try writer.appendToken(phase: phase, ids: ids, weights: weights, predictions: predictions, absentLayers: absentLayers)
        } catch let error as TraceWriter.InvalidToken {
            throw TraceStoreError(file: file, place: place(), problem: "the token \(error.problem)",
                                  fix: "Fix the source, or check --format and --model (see `moesim models`).")
        }
    }

    /// Appends an assembled token. One that lacks some layers fails naming `place` (`why` may
    /// explain the gap), or under `lenient` is kept with those layers absent (a layer with only
    /// some of its slots counts as absent); a token with no layer at all is skipped.
    func append(_ token: TokenAssembly, withWeights: Bool, lenient: Bool, file: String, place: String, why: String = "") throws {
        let missing = token.missingLayers()
        if let first = missing.first {
            guard lenient else {
                throw TraceStoreError(file: file, place: place,
                                      problem: "has no complete routing for layer \(first) (\(token.slotsFilled(first)) of \(token.topK) slots)\(why)",
                                      fix: "Add the missing rows, or pass --lenient to keep such tokens with those layers absent (the count is reported and kept in the trace's notes).")
            }
            guard missing.count < token.layers else {
                skip("without any complete layer")
                return
            }
            incompleteTokens += 1
            absentLayers += missing.count
        }
        try append(phase: token.phase, ids: token.ids, weights: withWeights ? token.weights : nil, absentLayers: missing, file: file, place: place)
    }

    /// Records a skipped token under `reason`.
    func skip(_ reason: String) {
        skipped[reason, default: 0] += 1
    }
}
