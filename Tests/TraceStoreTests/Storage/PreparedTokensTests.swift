import Foundation
import Testing
import TraceStore

@Suite("Prepared tokens")
struct PreparedTokensTests {
    /// Absent layers of tiny token `t`: the very first token lacks one (the flags must start
    /// there), two later ones lack others.
    static func absentLayers(token t: Int) -> [Int] { t == 0 ? [1] : t == 3 ? [0, 2] : t == 5 ? [2] : [] }

    static func writer(at path: String, weights: Bool) throws -> TraceWriter {
        let metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: weights, synthetic: true, source: "test", importer: "test")
        return try TraceWriter(path: path, metadata: metadata, options: .init(chunkTokens: 4, compressionLevel: 3))
    }

    static func weightBits(token t: Int) -> [UInt16] {
        Fixtures.tinyWeights(token: t).map { Float16($0).bitPattern }
    }

    @Test("tokens appended prepared, in any order and repeatedly, write the same file as appended by value",
          arguments: [true, false])
    func preparedMatchesByValue(weights: Bool) throws {
        let folder = Fixtures.temporaryFolder()
        // Eight distinct source tokens; the trace repeats and reorders them across chunk boundaries.
        let sources = (0..<8).map { (ids: Fixtures.tinyIDs(sequence: $0 % 3, token: $0), weights: Self.weightBits(token: $0), absent: Self.absentLayers(token: $0)) }
        let order = [5, 0, 0, 3, 7, 1, 5, 2, 6, 4, 3, 0, 7]
        let byValue = try Self.writer(at: folder + "/value.sqlite", weights: weights)
        let byCopy = try Self.writer(at: folder + "/prepared.sqlite", weights: weights)
        var prepared = PreparedTokens(shape: Fixtures.tinyShape, hasWeights: weights)
        for source in sources { try prepared.append(ids: source.ids, weightBits: weights ? source.weights : nil, absentLayers: source.absent) }
        #expect(prepared.count == 8)
        #expect(prepared.absentLayers(of: 0) == [1] && prepared.absentLayers(of: 3) == [0, 2] && prepared.absentLayers(of: 4).isEmpty)
        for (position, source) in order.enumerated() {
            let phase: Phase = position % 5 < 2 ? .prefill : .decode
            if position % 5 == 0 {
                byValue.beginSequence(name: "s\(position / 5)")
                byCopy.beginSequence(name: "s\(position / 5)")
            }
            try byValue.appendToken(phase: phase, ids: sources[source].ids, weightBits: weights ? sources[source].weights : nil,
                                    absentLayers: sources[source].absent)
            try byCopy.appendToken(phase: phase, prepared: prepared, at: source)
        }
        let written = try byCopy.finish()
        try byValue.finish()
        // Sources 5, 0, 0, 3, 5, 3, 0 lack 1, 1, 1, 2, 1, 2, 1 layers: 9 layers × top-2.
        #expect(written.absentDecisions == 18)
        #expect(FileManager.default.contents(atPath: folder + "/prepared.sqlite") == FileManager.default.contents(atPath: folder + "/value.sqlite"))
    }

    @Test("runs of prepared tokens appended at once, across chunk boundaries, write the same file as appended one by one by value",
          arguments: [true, false])
    func runsMatchOneByOne(weights: Bool) throws {
        let folder = Fixtures.temporaryFolder()
        let sources = (0..<8).map { (ids: Fixtures.tinyIDs(sequence: $0 % 3, token: $0), weights: Self.weightBits(token: $0), absent: Self.absentLayers(token: $0)) }
        var prepared = PreparedTokens(shape: Fixtures.tinyShape, hasWeights: weights)
        for source in sources { try prepared.append(ids: source.ids, weightBits: weights ? source.weights : nil, absentLayers: source.absent) }
        // Runs of 0 to 9 tokens in chunks of 4: some fill a chunk exactly, some span three.
        let runs: [(sequence: Int, phase: Phase, sources: [Int])] = [
            (0, .prefill, [5, 0, 0]), (0, .decode, []), (0, .decode, [3, 7, 1, 5, 2, 6]),
            (1, .prefill, [4]), (1, .decode, [3, 0, 7, 7, 0, 3, 5, 1, 2]), (2, .decode, [6, 6, 6, 6]),
        ]
        let byValue = try Self.writer(at: folder + "/value.sqlite", weights: weights)
        let byRuns = try Self.writer(at: folder + "/runs.sqlite", weights: weights)
        for sequence in 0..<3 {
            byValue.beginSequence(name: "s\(sequence)")
            byRuns.beginSequence(name: "s\(sequence)")
            for run in runs where run.sequence == sequence {
                for source in run.sources {
                    try byValue.appendToken(phase: run.phase, ids: sources[source].ids, weightBits: weights ? sources[source].weights : nil,
                                            absentLayers: sources[source].absent)
                }
                try byRuns.appendTokens(phase: run.phase, prepared: prepared, at: run.sources)
            }
        }
        let written = try byRuns.finish()
        try byValue.finish()
        #expect(written.tokens == 23 && written.chunks == 6)
        #expect(FileManager.default.contents(atPath: folder + "/runs.sqlite") == FileManager.default.contents(atPath: folder + "/value.sqlite"))
    }

    @Test("prepared runs and tokens by value mixed within chunks write the same file as every token by value",
          arguments: [true, false])
    func mixedWithinChunks(weights: Bool) throws {
        let folder = Fixtures.temporaryFolder()
        let sources = (0..<8).map { (ids: Fixtures.tinyIDs(sequence: $0 % 3, token: $0), weights: Self.weightBits(token: $0), absent: Self.absentLayers(token: $0)) }
        var prepared = PreparedTokens(shape: Fixtures.tinyShape, hasWeights: weights)
        for source in sources { try prepared.append(ids: source.ids, weightBits: weights ? source.weights : nil, absentLayers: source.absent) }
        // Chunks of 4: a run of 3 prepared then one by value, one by value then a run of 2 across
        // the boundary, ..., and a last chunk of 2 (closed up after the prepared copies).
        let steps: [(byValue: Bool, sources: [Int])] = [
            (false, [5, 0, 3]), (true, [1]), (true, [7]), (false, [2, 6]), (true, [4]), (false, [3, 3, 0]), (true, [5]), (false, [1, 2]),
        ]
        let byValue = try Self.writer(at: folder + "/value.sqlite", weights: weights)
        let mixed = try Self.writer(at: folder + "/mixed.sqlite", weights: weights)
        byValue.beginSequence(name: "s")
        mixed.beginSequence(name: "s")
        for step in steps {
            for source in step.sources {
                try byValue.appendToken(phase: .decode, ids: sources[source].ids, weightBits: weights ? sources[source].weights : nil,
                                        absentLayers: sources[source].absent)
                if step.byValue {
                    try mixed.appendToken(phase: .decode, ids: sources[source].ids, weightBits: weights ? sources[source].weights : nil,
                                          absentLayers: sources[source].absent)
                }
            }
            if !step.byValue { try mixed.appendTokens(phase: .decode, prepared: prepared, at: step.sources) }
        }
        let written = try mixed.finish()
        try byValue.finish()
        #expect(written.tokens == 14 && written.chunks == 4)
        #expect(FileManager.default.contents(atPath: folder + "/mixed.sqlite") == FileManager.default.contents(atPath: folder + "/value.sqlite"))
    }

    @Test("runs of prepared tokens across the blocks they are held in write the same file as appended by value")
    func runsAcrossBlocks() throws {
        let folder = Fixtures.temporaryFolder()
        let count = 2 * PreparedTokens.blockTokens + 100
        let sources = (0..<count).map { (ids: Fixtures.tinyIDs(sequence: $0 % 5, token: $0), weights: Self.weightBits(token: $0), absent: $0 % 61 == 7 ? [1] : []) }
        var prepared = PreparedTokens(shape: Fixtures.tinyShape, hasWeights: true)
        for source in sources { try prepared.append(ids: source.ids, weightBits: source.weights, absentLayers: source.absent) }
        // Runs that cross the first and the second block boundary, a run within a block, single
        // tokens from each block, and a run that steps back over a boundary.
        let block = PreparedTokens.blockTokens
        let runs = [Array(block - 30..<block + 40), Array(2 * block - 5..<2 * block + 60), Array(100..<180), [count - 1, 0, block, 2 * block - 1],
                    Array(block - 2..<block + 1) + Array(block - 2..<block + 1)]
        let metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: true, synthetic: true, source: "test", importer: "test")
        let byValue = try TraceWriter(path: folder + "/value.sqlite", metadata: metadata, options: .init(chunkTokens: 64, compressionLevel: 1))
        let byRuns = try TraceWriter(path: folder + "/runs.sqlite", metadata: metadata, options: .init(chunkTokens: 64, compressionLevel: 1))
        for (sequence, run) in runs.enumerated() {
            byValue.beginSequence(name: "s\(sequence)")
            byRuns.beginSequence(name: "s\(sequence)")
            for source in run {
                try byValue.appendToken(phase: .decode, ids: sources[source].ids, weightBits: sources[source].weights, absentLayers: sources[source].absent)
            }
            try byRuns.appendTokens(phase: .decode, prepared: prepared, at: run)
        }
        let written = try byRuns.finish()
        try byValue.finish()
        #expect(written.tokens == runs.map(\.count).reduce(0, +) && written.absentDecisions > 0)
        #expect(FileManager.default.contents(atPath: folder + "/runs.sqlite") == FileManager.default.contents(atPath: folder + "/value.sqlite"))
    }

    @Test("a copy of prepared tokens keeps its tokens while the original is appended to and emptied")
    func copiesKeepTheirTokens() throws {
        let count = PreparedTokens.blockTokens + 10
        var original = PreparedTokens(shape: Fixtures.tinyShape, hasWeights: true)
        for t in 0..<count { try original.append(ids: Fixtures.tinyIDs(sequence: 1, token: t), weightBits: Self.weightBits(token: t)) }
        func contents(_ tokens: PreparedTokens) -> [[UInt16]] {
            (0..<tokens.count).map { t in
                var (ids, weights) = ([UInt16](repeating: 0, count: 6), [UInt16](repeating: 0, count: 6))
                tokens.copy(t, ids: &ids, weightBits: &weights)
                return ids + weights
            }
        }
        let copy = original
        let before = contents(copy)
        // Appending to the shared tokens copies their blocks (the last one partly filled) first.
        try original.append(ids: [7, 6, 5, 4, 3, 2], weightBits: Self.weightBits(token: 3))
        #expect(contents(copy) == before && copy.count == count)
        // Each layer's pair is stored ascending, its weights swapped with it.
        let w = Self.weightBits(token: 3)
        #expect(Array(contents(original).prefix(count)) == before && contents(original)[count] == [6, 7, 4, 5, 2, 3, w[1], w[0], w[3], w[2], w[5], w[4]])
        // A second copy appending its own token at the same place leaves the original's.
        var other = copy
        try other.append(ids: [0, 1, 2, 3, 4, 5], weightBits: w)
        #expect(contents(original)[count] == [6, 7, 4, 5, 2, 3, w[1], w[0], w[3], w[2], w[5], w[4]] && contents(other)[count] == [0, 1, 2, 3, 4, 5] + w)
        let appended = original
        original.removeAll()
        try original.append(ids: Fixtures.tinyIDs(sequence: 2, token: 0), weightBits: Self.weightBits(token: 0))
        #expect(contents(appended).count == count + 1 && Array(contents(appended).prefix(count)) == before && original.count == 1)
    }

    @Test("preparing refuses a token with the reason appending gives", arguments: [
        ([0, 0, 1, 2, 3, 4] as [UInt16], [0x3800, 0x3400, 0x3800, 0x3400, 0x3800, 0x3400] as [UInt16]),  // repeated expert
        ([0, 1, 2, 9, 3, 4], [0x3800, 0x3400, 0x3800, 0x3400, 0x3800, 0x3400]),  // expert out of range
        ([0, 1, 2, 3, 4, 5], [0x3800, 0xB400, 0x3800, 0x3400, 0x3800, 0x3400]),  // negative weight
        ([0, 1, 2, 3], [0x3800, 0x3400, 0x3800, 0x3400]),  // too few ids
    ])
    func refusesAsAppendingDoes(ids: [UInt16], weightBits: [UInt16]) throws {
        let writer = try Self.writer(at: Fixtures.temporaryFolder() + "/refused.sqlite", weights: true)
        writer.beginSequence(name: "s")
        var prepared = PreparedTokens(shape: Fixtures.tinyShape, hasWeights: true)
        let appending = #expect(throws: TraceWriter.InvalidToken.self) { try writer.appendToken(phase: .decode, ids: ids, weightBits: weightBits) }
        let preparing = #expect(throws: TraceWriter.InvalidToken.self) { try prepared.append(ids: ids, weightBits: weightBits) }
        #expect(preparing?.problem == appending?.problem)
        #expect(prepared.count == 0)
        writer.discard()
    }

    @Test("a writer refuses tokens prepared for another shape or without its weights")
    func refusesAnotherShape() throws {
        let writer = try Self.writer(at: Fixtures.temporaryFolder() + "/shape.sqlite", weights: true)
        writer.beginSequence(name: "s")
        var wider = PreparedTokens(shape: ModelShape(name: "tiny", layers: 3, experts: 16, topK: 2, expertBytes: [100, 100, 200]), hasWeights: true)
        try wider.append(ids: Fixtures.tinyIDs(sequence: 0, token: 0), weightBits: Self.weightBits(token: 0))
        var unweighted = PreparedTokens(shape: Fixtures.tinyShape, hasWeights: false)
        try unweighted.append(ids: Fixtures.tinyIDs(sequence: 0, token: 0), weightBits: nil)
        #expect(throws: TraceWriter.InvalidToken.self) { try writer.appendToken(phase: .decode, prepared: wider, at: 0) }
        #expect(throws: TraceWriter.InvalidToken.self) { try writer.appendToken(phase: .decode, prepared: unweighted, at: 0) }
        writer.discard()
    }
}
