import TraceStore

/// Forms steps from a trace's sequences by continuous batching (Orca, OSDI 2022; vLLM's
/// default schedule): up to `batchSize` sequences run at once; whenever a slot frees, the
/// next sequence in trace order is admitted; a step whose admitted sequences still have
/// prompt tokens is a prefill step (all those prompts at once, prefill first), otherwise
/// a decode step (one token of every running sequence). The trace has no arrival times:
/// all sequences are waiting from the start.
///
/// Memory: each batch slot streams its sequence through its own cursor, so memory is
/// O(batchSize × chunk), independent of trace length. A slot moves on to a later sequence
/// by reading forward when it lies in the next chunk and by re-opening a cursor otherwise.
public struct BatchFormer<Source: RoutingSource> {
    private struct Reader {
        var cursor: Source.Cursor
        var chunk: RoutingChunk
        var loaded = false
    }

    private struct Running {
        var sequence: Int
        var position = 0
        var runEnd = 0
        var remaining: Int
        var consumed = 0
        var decoded = 0
        var producedFirst = false
    }

    /// Sequences per batch.
    public let batchSize: Int
    /// Replays prompt tokens one per step, as if they were generated (for prefill-only traces).
    public let prefillAsDecode: Bool
    /// Which sequences to run (by id); nil runs all. Held-out evaluation runs the test split.
    public let sequenceMask: [Bool]?
    /// Generated tokens each running sequence contributes to a decode step (more than 1 for
    /// speculative decoding, where a step verifies the draft tokens together).
    public let decodeTokensPerStep: Int
    /// Lookaheads whose recorded predictions steps carry.
    public let predictionLookaheads: [Int]
    /// Prompt tokens a prefill step takes at most (nil: every admitted prompt whole): longer
    /// prompts, and prompts beyond the first ones, continue in the next steps, each chunk's
    /// attention over the chunks before it, and a sequence's first token comes with its last
    /// chunk (llama.cpp's ubatch; chunked prefill).
    public let prefillChunkTokens: Int?
    /// Tokens in each sequence's KV cache when its decoding starts (nil: its prompt, as the
    /// trace has it). Decode attention then reads this many tokens plus those generated since;
    /// prefill steps are unchanged (their time does not include prefilling the context).
    public let contextTokens: Int?
    private let source: Source
    private var assembler: StepAssembler
    private var readers: [Reader?]
    private var running: [Running?]
    private var nextSequence = 0
    private var stepIndex = 0

    /// A former over `source` with `batchSize` slots, whose steps carry `content` (recorded
    /// predictions, `predictionLookaheads`, only with ``StepContent/tokens``).
    public init(source: Source, batchSize: Int, prefillAsDecode: Bool = false, sequenceMask: [Bool]? = nil, decodeTokensPerStep: Int = 1,
                predictionLookaheads: [Int] = [], contextTokens: Int? = nil, prefillChunkTokens: Int? = nil, lookupOrder: LookupOrder = .id,
                content: StepContent = .tokens) {
        precondition(content == .tokens || predictionLookaheads.isEmpty)
        precondition(batchSize >= 1 && decodeTokensPerStep >= 1 && (contextTokens ?? 0) >= 0 && (prefillChunkTokens ?? 1) >= 1)
        self.prefillChunkTokens = prefillChunkTokens
        self.contextTokens = contextTokens
        self.predictionLookaheads = predictionLookaheads
        self.decodeTokensPerStep = decodeTokensPerStep
        precondition(sequenceMask == nil || sequenceMask!.count == source.sequences.count)
        self.sequenceMask = sequenceMask
        self.source = source
        self.batchSize = batchSize
        self.prefillAsDecode = prefillAsDecode
        assembler = StepAssembler(layers: source.shape.layers, experts: source.shape.experts, topK: source.shape.topK,
                                  order: lookupOrder, content: content)
        readers = Array(repeating: nil, count: batchSize)
        running = Array(repeating: nil, count: batchSize)
    }

    /// Fills `step` with the next step; false when every sequence has finished.
    public mutating func next(into step: inout Step) throws -> Bool {
        assembler.begin(&step, index: stepIndex, phase: .decode)
        for slot in 0..<batchSize where running[slot] == nil {
            guard try admit(into: slot) else { break }
            step.admitted.append(running[slot]!.sequence)
        }
        let prefilling = (0..<batchSize).filter { slot in running[slot].map { _ in nextPhase(slot) == .prefill } ?? false }
        let active = (0..<batchSize).filter { running[$0] != nil }
        guard !active.isEmpty else { return false }
        step.phase = prefilling.isEmpty ? .decode : .prefill
        // A decode step of one sequence taking one token is written without the step counters.
        let single = step.phase == .decode && batchSize == 1 && decodeTokensPerStep == 1 && assembler.assemblesSingleTokens
        // Prompt tokens this step may still take.
        var chunkLeft = step.phase == .prefill ? prefillChunkTokens ?? Int.max : Int.max
        for slot in prefilling.isEmpty ? active : prefilling {
            guard chunkLeft > 0 else { break }
            let decoding = step.phase == .decode
            let before = decoding ? contextTokens.map { $0 + running[slot]!.decoded } ?? running[slot]!.consumed : running[slot]!.consumed
            var taken = 0
            repeat {
                if single {
                    assembler.assembleSingle(token: running[slot]!.position, of: readers[slot]!.chunk, into: &step, weighted: weighted)
                } else {
                    assembler.add(token: running[slot]!.position, of: readers[slot]!.chunk, sequence: running[slot]!.sequence, into: &step)
                }
                if !predictionLookaheads.isEmpty {
                    assembler.addPredictions(token: running[slot]!.position, from: readers[slot]!.cursor.predictions, into: &step)
                }
                taken += 1
                try advance(slot)
            } while running[slot]!.remaining > 0
                && (step.phase == .prefill ? nextPhase(slot) == .prefill && taken < chunkLeft
                                           : taken < decodeTokensPerStep && nextPhase(slot) == .decode)
            if decoding { running[slot]!.decoded += taken } else { chunkLeft -= taken }
            let sequence = running[slot]!.sequence
            step.sequences.append((sequence, taken))
            step.kvTokens += before + taken
            step.scorePairs += taken * before + taken * (taken + 1) / 2
            // A prompt cut by the chunk limit produces its first token with its last chunk.
            let promptDone = running[slot]!.remaining == 0 || decoding || nextPhase(slot) != .prefill
            if !running[slot]!.producedFirst && promptDone {
                running[slot]!.producedFirst = true
                step.firstTokens.append(sequence)
            }
            if running[slot]!.remaining == 0 {
                step.finished.append(sequence)
                running[slot] = nil
            }
        }
        if !single { assembler.finish(&step, weighted: weighted) }
        stepIndex += 1
        return true
    }

    /// Whether steps carry gate mass: the source has weights and the content asks for them.
    private var weighted: Bool { source.hasWeights && assembler.content != .lookups }

    private func nextPhase(_ slot: Int) -> Phase {
        prefillAsDecode ? .decode : readers[slot]!.chunk.phase(token: running[slot]!.position)
    }

    private mutating func admit(into slot: Int) throws -> Bool {
        let sequences = source.sequences
        while nextSequence < sequences.count
            && (sequences[nextSequence].tokens == 0 || sequenceMask.map { !$0[nextSequence] } ?? false) {
            nextSequence += 1
        }
        guard nextSequence < sequences.count else { return false }
        let info = sequences[nextSequence]
        nextSequence += 1
        var reader: Reader
        if let current = readers[slot], current.loaded, current.chunk.index <= info.firstChunk,
           current.chunk.index + 1 >= info.firstChunk {
            reader = current
        } else {
            // A pre-pass over the lookups in id order reads no weights (the run that follows
            // reads them, checking the chunks' checksums); rank order sorts by them.
            let weights = assembler.content != .lookups || assembler.order != .id
            let cursor = try source.cursor(fromChunk: info.firstChunk, predictions: predictionLookaheads, weights: weights)
            reader = Reader(cursor: cursor, chunk: cursor.makeChunk())
        }
        while !reader.loaded || reader.chunk.index < info.firstChunk {
            guard try reader.cursor.next(into: &reader.chunk) else { throw missing(info.id) }
            reader.loaded = true
        }
        var position = 0
        guard let run = reader.chunk.runs.first(where: { run in
            if run.sequence == info.id { return true }
            position += run.tokens
            return false
        }), run.firstToken == 0 else { throw missing(info.id) }
        readers[slot] = reader
        running[slot] = Running(sequence: info.id, position: position, runEnd: position + run.tokens, remaining: info.tokens)
        return true
    }

    private mutating func advance(_ slot: Int) throws {
        running[slot]!.position += 1
        running[slot]!.consumed += 1
        running[slot]!.remaining -= 1
        guard running[slot]!.remaining > 0, running[slot]!.position == running[slot]!.runEnd else { return }
        var reader = readers[slot]!
        readers[slot] = nil
        defer { readers[slot] = reader }
        guard try reader.cursor.next(into: &reader.chunk),
              let run = reader.chunk.runs.first, run.sequence == running[slot]!.sequence
        else { throw missing(running[slot]!.sequence) }
        running[slot]!.position = 0
        running[slot]!.runEnd = run.tokens
    }

    private func missing(_ sequence: Int) -> TraceStoreError {
        TraceStoreError(file: source.sourceName, place: "sequence \(sequence)",
                        problem: "its tokens are not where the sequences table says",
                        fix: "The trace is damaged; re-create it with `moesim trace import`.")
    }
}
