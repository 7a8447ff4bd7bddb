import Foundation
import Testing
@testable import TraceStore

/// Chunks compressed on worker threads are stored in their order and the file does not
/// depend on how many are in flight.
@Suite("Chunk compression pipeline")
struct ChunkCompressionPipelineTests {
    @Test("a trace of many chunks reads back token for token in order, and twice gives the same bytes")
    func manyChunksInOrder() throws {
        let folder = Fixtures.temporaryFolder()
        // 40 sequences × (prefill + 5 decode) tokens in chunks of 1 token: hundreds of chunks in flight.
        try Fixtures.tinyTrace(at: folder + "/a.sqlite", sequences: 40, weights: false, chunkTokens: 1)
        try Fixtures.tinyTrace(at: folder + "/b.sqlite", sequences: 40, weights: false, chunkTokens: 1)
        #expect(FileManager.default.contents(atPath: folder + "/a.sqlite") == FileManager.default.contents(atPath: folder + "/b.sqlite"))
        let tokens = try Fixtures.tokens(of: folder + "/a.sqlite")
        #expect(tokens.count > 200)
        var position = [Int: Int]()
        for token in tokens {
            let t = position[token.sequence, default: 0]
            #expect(token.ids == Fixtures.tinyIDs(sequence: token.sequence, token: t), "sequence \(token.sequence) token \(t)")
            position[token.sequence] = t + 1
        }
        #expect(try TraceReader(path: folder + "/a.sqlite").metadata.chunks == tokens.count)
    }

    @Test("the compressed payloads come back in submission order whatever the limit")
    func submissionOrder() throws {
        for limit in [1, 2, 8] {
            let pipeline = ChunkCompressionPipeline<[[UInt8]]>(level: 3, limit: limit)
            var stored: [[UInt8]] = []
            let decompressor = ZstdDecompressor()
            for n in 0..<50 {
                let payload = [UInt8](repeating: UInt8(n), count: 1000 + n)
                try pipeline.submit({ [$0.compress(payload)] }) { compressed in
                    var output: [UInt8] = []
                    try compressed[0].withUnsafeBytes { try decompressor.decompress($0, into: &output, limit: 4096) }
                    stored.append(output)
                }
            }
            try pipeline.drain()
            #expect(stored.count == 50)
            #expect(stored.enumerated().allSatisfy { $0.element == [UInt8](repeating: UInt8($0.offset), count: 1000 + $0.offset) })
        }
    }

    @Test("a stored chunk is released while later chunks are still in flight")
    func storedChunksAreReleased() throws {
        final class Marker {}
        let pipeline = ChunkCompressionPipeline<[[UInt8]]>(level: 19, limit: 2)
        weak var first: Marker?
        do {
            let marker = Marker()
            first = marker
            try pipeline.submit({ [$0.compress([UInt8](repeating: 1, count: 100))] }) { _ in _ = marker }
        }
        // The writer stays ahead: each chunk just submitted takes milliseconds to compress
        // (256 KiB of pseudo-random bytes at level 19), so the queue does not run dry.
        var random = SplitMix64(seed: 7)
        let payload = (0..<(256 * 1024 / 8)).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
        for _ in 0..<8 { try pipeline.submit({ [$0.compress(payload)] }) { _ in } }
        #expect(first == nil, "the first chunk, stored long ago, is still held")
        try pipeline.drain()
    }

    @Test("a frame written into a spare frame's storage is the frame written fresh, and reuses that storage when it is large enough",
          arguments: [0, 100, 300_000])
    func spareFramesGiveTheSameBytes(spareLength: Int) throws {
        var random = SplitMix64(seed: 3)
        // Half compressible, half not: a frame of some 150 KB.
        var payload: [UInt8] = []
        for i in 0..<(128 * 1024 / 8) {
            let word: UInt64 = i % 2 == 0 ? UInt64(i) : random.next()
            withUnsafeBytes(of: word) { payload.append(contentsOf: $0) }
        }
        let fresh = ZstdCompressor(level: 1).compress(payload)
        let compressor = ZstdCompressor(level: 1)
        var spare = [UInt8](repeating: 0xAB, count: spareLength)
        spare.reserveCapacity(400_000)
        let storage = spare.withUnsafeBufferPointer { $0.baseAddress }
        compressor.spareFrames = [spare]
        spare = []
        let reused = compressor.compress(payload)
        #expect(reused == fresh && compressor.spareFrames.isEmpty)
        #expect(reused.withUnsafeBufferPointer { $0.baseAddress } == storage, "the spare's storage (capacity 400,000) was not reused")
    }

    @Test("frames handed back to the pipeline are written into again, and the payloads still come back intact")
    func recycledFrames() throws {
        let pipeline = ChunkCompressionPipeline<[[UInt8]]>(level: 3, limit: 2)
        let decompressor = ZstdDecompressor()
        var stored: [[UInt8]] = [], storages = Set<UInt>()
        for n in 0..<40 {
            let payload = [UInt8](repeating: UInt8(n), count: 20_000 + n)
            try pipeline.submit({ [$0.compress(payload)] }) { compressed in
                var output: [UInt8] = []
                try compressed[0].withUnsafeBytes { try decompressor.decompress($0, into: &output, limit: 1 << 20) }
                stored.append(output)
                storages.insert(UInt(bitPattern: compressed[0].withUnsafeBufferPointer { $0.baseAddress }))
                pipeline.recycle(compressed)
            }
        }
        try pipeline.drain()
        #expect(stored.enumerated().allSatisfy { $0.element == [UInt8](repeating: UInt8($0.offset), count: 20_000 + $0.offset) })
        // 40 frames in a handful of buffers: at most the spares kept plus those in flight.
        #expect(storages.count < 20, "\(storages.count) distinct buffers for 40 frames")
    }
}
