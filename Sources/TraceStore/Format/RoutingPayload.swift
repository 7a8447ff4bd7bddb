/// Why a chunk's payload is unusable; the reader adds the file and the chunk.
public struct PayloadError: Error, Equatable, CustomStringConvertible {
    /// What is wrong, as a sentence fragment.
    public var problem: String
    public var description: String { problem }
    init(_ problem: String) { self.problem = problem }
}

/// The columnar routing payload of one chunk (traces/FORMAT.md, "routing payload", layout 1).
///
///     "MSR1" | flags u8 | layers u16 | top_k u16 | tokens u32 | runs u32
///     runs × (sequence u32, first_token u32, tokens u32)
///     tokens × phase u8
///     layers × tokens × top_k ids, layer-major; one byte each (≤ 256 experts) or a
///     low-byte plane then a high-byte plane; ascending sets are gap-coded
///     (first id, then id[r] − id[r−1] − 1)
///     with flag bit 2 (format version 2): ⌈layers × tokens / 8⌉ bytes, bit (l × tokens + t)
///     (least significant first) set where token t lacks layer l
///
/// Columns of one layer sit together because a layer's ids repeat far more than a
/// token's ids across layers do; that and gap coding are what zstd compresses well.
enum RoutingPayload {
    static let flagAscending: UInt8 = 1
    static let flagWideIDs: UInt8 = 2
    static let flagAbsent: UInt8 = 4

    /// Serialises `chunk`'s header, runs and phases, and the ids of `ids` (the writer's pieces; a
    /// decoded chunk's own ``RoutingChunk/ids`` are `ColumnPieces(chunk.ids)`), into `bytes`
    /// (replacing what it held, in its storage); the ids must already be ascending per
    /// token-layer when `chunk.idsAscending`.
    static func encode(_ chunk: RoutingChunk, experts: Int, ids: ColumnPieces, into bytes: inout [UInt8]) {
        var out = ByteWriter(reusing: &bytes)
        let wide = experts > 256
        out.magic("MSR1")
        out.u8((chunk.idsAscending ? flagAscending : 0) | (wide ? flagWideIDs : 0) | (chunk.hasAbsent ? flagAbsent : 0))
        out.u16(chunk.layers)
        out.u16(chunk.topK)
        out.u32(chunk.tokenCount)
        out.u32(chunk.runs.count)
        for run in chunk.runs {
            out.u32(run.sequence)
            out.u32(run.firstToken)
            out.u32(run.tokens)
        }
        out.bytes.append(contentsOf: chunk.phases)
        appendPlanes(ids, count: chunk.layers * chunk.tokenCount * chunk.topK, topK: chunk.topK,
                     gapCoded: chunk.idsAscending, wide: wide, to: &out.bytes)
        if chunk.hasAbsent {
            var bits = [UInt8](repeating: 0, count: (chunk.absent.count + 7) / 8)
            for (index, isAbsent) in chunk.absent.enumerated() where isAbsent { bits[index / 8] |= 1 << (index % 8) }
            out.bytes.append(contentsOf: bits)
        }
        bytes = out.bytes
    }

    /// Decodes `bytes` into `chunk`, checking every field against the trace's shape.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, index: Int, experts: Int, maxTokens: Int, into chunk: inout RoutingChunk
    ) throws {
        var reader = ByteReader(bytes)
        do {
            guard reader.matches("MSR1") else { throw PayloadError("routing payload does not start with 'MSR1'") }
            let flags = try reader.u8()
            guard flags & ~(flagAscending | flagWideIDs | flagAbsent) == 0 else { throw PayloadError("routing payload has unknown flags \(flags)") }
            let wide = flags & flagWideIDs != 0
            guard wide == (experts > 256) else { throw PayloadError("routing payload id width disagrees with \(experts) experts") }
            let layers = try reader.u16(), topK = try reader.u16()
            guard layers == chunk.layers, topK == chunk.topK else {
                throw PayloadError("routing payload is \(layers) layers × top-\(topK), the trace \(chunk.layers) × top-\(chunk.topK)")
            }
            let tokens = try reader.u32(), runCount = try reader.u32()
            guard tokens >= 1, tokens <= maxTokens else { throw PayloadError("routing payload holds \(tokens) tokens (1…\(maxTokens) allowed)") }
            guard runCount >= 1, runCount <= tokens else { throw PayloadError("routing payload has \(runCount) sequence runs for \(tokens) tokens") }
            chunk.reset(index: index, tokenCount: tokens, withWeights: false)
            chunk.idsAscending = flags & flagAscending != 0
            var covered = 0
            for _ in 0..<runCount {
                let run = SequenceRun(sequence: try reader.u32(), firstToken: try reader.u32(), tokens: try reader.u32())
                guard run.tokens >= 1 else { throw PayloadError("routing payload has an empty sequence run") }
                covered += run.tokens
                chunk.runs.append(run)
            }
            guard covered == tokens else { throw PayloadError("routing payload runs cover \(covered) of \(tokens) tokens") }
            let phases = try reader.take(tokens)
            guard !phases.contains(where: { $0 > 1 }) else { throw PayloadError("routing payload has a phase other than 0 or 1") }
            chunk.phases.append(contentsOf: phases)
            let count = layers * tokens * topK
            let absentBytes = flags & flagAbsent != 0 ? (layers * tokens + 7) / 8 : 0
            guard reader.remaining == count * (wide ? 2 : 1) + absentBytes else {
                throw PayloadError("routing payload has \(reader.remaining) bytes after its phases where \(count * (wide ? 2 : 1) + absentBytes) were expected")
            }
            let planes = try reader.take(count * (wide ? 2 : 1))
            try readPlanes(planes, count: count, wide: wide, into: &chunk.ids)
            if absentBytes > 0 {
                let bits = try reader.take(absentBytes)
                chunk.absent = (0..<layers * tokens).map { bits[$0 / 8] & (1 << ($0 % 8)) != 0 }
            }
            try validate(&chunk.ids, topK: topK, experts: experts, ascending: chunk.idsAscending)
        } catch is ByteReader.ShortRead {
            throw PayloadError("routing payload is truncated")
        } catch let error as PayloadError {
            throw error
        } catch {
            throw PayloadError("routing payload: \(error)")
        }
    }

    /// Appends `ids` as the payload stores them: one byte plane, or a low then a high one when
    /// `wide`; each run of `topK` ascending ids gap-coded (first id, then id[r] − id[r−1] − 1)
    /// when `gapCoded`. Written through pointers in passes without branches, which the compiler
    /// vectorises: every value as a gap from the one before it, then each run's first id over
    /// its gap (a fused loop with the choice inside took 23 instructions per id). O(ids).
    static func appendPlanes(_ ids: [UInt16], topK k: Int, gapCoded: Bool, wide: Bool, to bytes: inout [UInt8]) {
        appendPlanes(ColumnPieces(ids), count: ids.count, topK: k, gapCoded: gapCoded, wide: wide, to: &bytes)
    }

    /// ``appendPlanes(_:topK:gapCoded:wide:to:)`` for the `count` ids of `pieces`, each piece
    /// coded where it lands (a piece is whole tokens, so no run of `topK` spans two).
    static func appendPlanes(_ pieces: ColumnPieces, count: Int, topK k: Int, gapCoded: Bool, wide: Bool, to bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count * (wide ? 2 : 1)))
        guard count > 0 else { return }
        bytes.withUnsafeMutableBufferPointer { bytes in
            let low = bytes.baseAddress! + start
            pieces.forEach { layer, ids, values, at in
                let to = layer * pieces.rowLength + at
                writePlane(ids, count: values, topK: k, gapCoded: gapCoded, shift: 0, into: low + to)
                if wide { writePlane(ids, count: values, topK: k, gapCoded: gapCoded, shift: 8, into: low + count + to) }
            }
        }
    }

    /// One byte plane (`shift` 0: low bytes, 8: high bytes) of the values ``appendPlanes(_:topK:gapCoded:wide:to:)`` stores.
    @inline(__always)
    private static func writePlane(_ ids: UnsafePointer<UInt16>, count: Int, topK k: Int, gapCoded: Bool, shift: UInt16,
                                   into plane: UnsafeMutablePointer<UInt8>) {
        guard gapCoded else {
            for i in 0..<count { plane[i] = UInt8(truncatingIfNeeded: ids[i] >> shift) }
            return
        }
        for i in 1..<max(count, 1) { plane[i] = UInt8(truncatingIfNeeded: (ids[i] &- ids[i - 1] &- 1) >> shift) }
        for i in stride(from: 0, to: count, by: k) { plane[i] = UInt8(truncatingIfNeeded: ids[i] >> shift) }
    }

    static func readPlanes(_ planes: UnsafeRawBufferPointer, count: Int, wide: Bool, into values: inout [UInt16]) throws {
        values.withUnsafeMutableBufferPointer { out in
            if wide {
                for i in 0..<count { out[i] = UInt16(planes[i]) | UInt16(planes[count + i]) << 8 }
            } else {
                for i in 0..<count { out[i] = UInt16(planes[i]) }
            }
        }
    }

    /// Undoes gap coding in place and checks range and distinctness. A gap-coded run rises
    /// strictly, so only its last id needs the range check (the sum cannot wrap a UInt32: at
    /// most k gaps of 65,535).
    static func validate(_ ids: inout [UInt16], topK: Int, experts: Int, ascending: Bool) throws {
        let limit = UInt32(experts)
        var bad: Int? = nil
        ids.withUnsafeMutableBufferPointer { ids in
            var i = 0
            while i < ids.count {
                if ascending {
                    var id = UInt32(ids[i])
                    for r in 1..<max(topK, 1) {
                        id &+= UInt32(ids[i + r]) &+ 1
                        ids[i + r] = UInt16(truncatingIfNeeded: id)
                    }
                    if id >= limit { bad = i; return }
                } else {
                    for r in 0..<topK {
                        let id = ids[i + r]
                        if UInt32(id) >= limit { bad = i; return }
                        for q in 0..<r where ids[i + q] == id { bad = i; return }
                    }
                }
                i += topK
            }
        }
        if let bad {
            throw PayloadError("routing payload has an expert id out of 0..<\(experts) or repeated within one token's top-\(topK) (value index \(bad))")
        }
    }
}
