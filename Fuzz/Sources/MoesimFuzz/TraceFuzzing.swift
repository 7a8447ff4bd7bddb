import Foundation
import TraceStore

/// The targets whose input is, or edits, a trace file.
enum TraceFuzzing {
    /// `trace-file`: the input's bytes as a trace file.
    static func traceFile(_ input: [UInt8]) {
        let path = FuzzScratch.shared.input + ".sqlite"
        FuzzScratch.shared.write(input, to: path)
        Exercise.trace(at: path)
    }

    /// `trace-meta`: the input as ``TraceEdits`` on a copy of the template.
    static func traceMeta(_ input: [UInt8]) {
        let path = FuzzScratch.shared.templateCopy()
        guard (try? TraceEdits.apply(input, to: path)) != nil else { return }
        Exercise.trace(at: path)
    }

    /// The payload kinds a `chunk` input's first byte chooses among (byte % 3), and the
    /// chunk it replaces (byte / 3 % chunks).
    private static let kinds = ["routing", "weights", "predictions"]

    /// `chunk`: the input (after its first byte) as the decompressed payload of one chunk of
    /// a copy of the template, recompressed as a valid zstd frame and with the content
    /// checksum made to match, so that decoding and everything after it see the payload.
    static func chunk(_ input: [UInt8]) {
        guard let selector = input.first else { return }
        let payload = Array(input.dropFirst())
        let kind = kinds[Int(selector) % 3], index = Int(selector) / 3 % 3
        let path = FuzzScratch.shared.templateCopy()
        do {
            let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
            var blobs = try payloads(of: database, chunk: index)
            blobs[kind] = payload
            let compressor = ZstdCompressor(level: 1)
            var checksum = PayloadChecksum()
            checksum.add(blobs["routing"]!)
            checksum.add(blobs["weights"]!)
            let chunk = try database.prepare("UPDATE chunks SET routing = ?, weights = ?, checksum = ? WHERE id = ?")
            try chunk.bind(1, compressor.compress(blobs["routing"]!))
            try chunk.bind(2, compressor.compress(blobs["weights"]!))
            try chunk.bind(3, checksum.stored)
            try chunk.bind(4, index)
            try chunk.run()
            var predictionSum = PayloadChecksum()
            predictionSum.add(blobs["predictions"]!)
            let prediction = try database.prepare("UPDATE predictions SET data = ?, checksum = ? WHERE chunk = ?")
            try prediction.bind(1, compressor.compress(blobs["predictions"]!))
            try prediction.bind(2, predictionSum.stored)
            try prediction.bind(3, index)
            try prediction.run()
        } catch {
            return
        }
        Exercise.trace(at: path)
    }

    /// The decompressed payloads of chunk `index` of an open trace.
    private static func payloads(of database: SQLiteDatabase, chunk index: Int) throws -> [String: [UInt8]] {
        let decompressor = ZstdDecompressor()
        var result: [String: [UInt8]] = [:]
        for (kind, sql) in [("routing", "SELECT routing FROM chunks WHERE id = ?"), ("weights", "SELECT weights FROM chunks WHERE id = ?"),
                            ("predictions", "SELECT data FROM predictions WHERE chunk = ?")] {
            let select = try database.prepare(sql)
            try select.bind(1, index)
            _ = try select.step()
            var payload: [UInt8] = []
            try select.withBlob(0) { try decompressor.decompress($0, into: &payload, limit: 1 << 24) }
            result[kind] = payload
        }
        return result
    }

    /// The template's payloads as `chunk` seeds (selector byte first).
    static func templatePayloads() throws -> [(String, [UInt8])] {
        let database = try SQLiteDatabase(path: FuzzScratch.shared.template, mode: .readOnly)
        var seeds: [(String, [UInt8])] = []
        for index in 0..<3 {
            let blobs = try payloads(of: database, chunk: index)
            for (k, kind) in kinds.enumerated() {
                seeds.append(("chunk\(index)-\(kind)", [UInt8(index * 3 + k)] + blobs[kind]!))
            }
        }
        return seeds
    }
}
