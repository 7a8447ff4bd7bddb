/// The gate-weight payload of one chunk (traces/FORMAT.md, "weight payload", layout 1).
///
///     "MSW1" | layers u16 | top_k u16 | tokens u32
///     high-byte plane, then low-byte plane, of layers × tokens × top_k fp16 weights,
///     indexed as the routing payload's ids
///
/// Splitting the planes puts the slowly varying sign/exponent bytes together, which
/// compresses markedly better than interleaved fp16 (measured on ESFT, Benchmarks/RESULTS.md).
enum WeightPayload {
    /// Serialises the weights of `chunk`, taken from `weights` (its own ``RoutingChunk/weightBits``
    /// when nil), into `bytes` (replacing what it held, in its storage).
    static func encode(_ chunk: RoutingChunk, weights: ColumnPieces? = nil, into bytes: inout [UInt8]) {
        var out = ByteWriter(reusing: &bytes)
        out.magic("MSW1")
        out.u16(chunk.layers)
        out.u16(chunk.topK)
        out.u32(chunk.tokenCount)
        // High bytes, then low bytes, filled through pointers (an append per byte paid a uniqueness check each).
        let start = out.bytes.count, count = chunk.layers * chunk.tokenCount * chunk.topK
        out.bytes.append(contentsOf: repeatElement(0, count: 2 * count))
        defer { bytes = out.bytes }
        guard count > 0 else { return }
        let pieces = weights ?? ColumnPieces(chunk.weightBits)
        out.bytes.withUnsafeMutableBufferPointer { bytes in
            let planes = bytes.baseAddress! + start
            pieces.forEach { layer, weights, values, at in
                // From the piece's own high and low addresses the loop vectorises; indexing from the payload's start did not.
                let high = planes + layer * pieces.rowLength + at, low = high + count
                for i in 0..<values {
                    high[i] = UInt8(truncatingIfNeeded: weights[i] >> 8)
                    low[i] = UInt8(truncatingIfNeeded: weights[i])
                }
            }
        }
    }

    /// ``encode(_:weights:into:)`` into a new array.
    static func encode(_ chunk: RoutingChunk) -> [UInt8] {
        var bytes: [UInt8] = []
        encode(chunk, into: &bytes)
        return bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, into chunk: inout RoutingChunk) throws {
        var reader = ByteReader(bytes)
        do {
            guard reader.matches("MSW1") else { throw PayloadError("weight payload does not start with 'MSW1'") }
            let layers = try reader.u16(), topK = try reader.u16(), tokens = try reader.u32()
            guard layers == chunk.layers, topK == chunk.topK, tokens == chunk.tokenCount else {
                throw PayloadError("weight payload is \(layers) × \(tokens) × \(topK), the routing \(chunk.layers) × \(chunk.tokenCount) × \(chunk.topK)")
            }
            let count = layers * tokens * topK
            guard reader.remaining == 2 * count else {
                throw PayloadError("weight payload has \(reader.remaining) bytes where \(2 * count) were expected")
            }
            let planes = try reader.take(2 * count)
            chunk.weightBits.removeAll(keepingCapacity: true)
            chunk.weightBits.append(contentsOf: repeatElement(0, count: count))
            // Without a branch per weight, so it vectorises: `isValidWeight`'s short-circuit `&&`
            // and `||` kept the loop scalar (16 instructions a weight; Benchmarks/RESULTS.md,
            // thirteenth session). Its two faults as arithmetic: the exponent's bits all ones
            // carry into bit 15 when 0x0400 is added to them; a set sign bit on anything but
            // −0 leaves the pattern above 0x8000.
            let anyOutside = chunk.weightBits.withUnsafeMutableBufferPointer { out -> Bool in
                guard count > 0 else { return false }
                let (out, high) = (out.baseAddress!, planes.baseAddress!.assumingMemoryBound(to: UInt8.self))
                let low = high + count
                var outside: UInt16 = 0
                for i in 0..<count {
                    let bits = UInt16(high[i]) << 8 | UInt16(low[i])
                    out[i] = bits
                    outside |= ((bits & 0x7C00) &+ 0x0400) | (bits > 0x8000 ? 0x8000 : 0)
                }
                return outside & 0x8000 != 0
            }
            if anyOutside, let i = chunk.weightBits.firstIndex(where: { !isValidWeight($0) }) {
                let weight = Float(Float16(bitPattern: chunk.weightBits[i]))
                throw PayloadError("weight payload holds gate weight \(weight) (fp16 0x\(String(chunk.weightBits[i], radix: 16))) at layer \(i / (tokens * topK)); valid: finite and non-negative")
            }
        } catch is ByteReader.ShortRead {
            throw PayloadError("weight payload is truncated")
        } catch let error as PayloadError {
            throw error
        } catch {
            throw PayloadError("weight payload: \(error)")
        }
    }

    /// A finite fp16 that is not below zero (−0 passes): exponent bits not all ones, sign
    /// bit clear unless the magnitude is zero.
    @inline(__always)
    static func isValidWeight(_ bits: UInt16) -> Bool {
        bits & 0x7C00 != 0x7C00 && (bits & 0x8000 == 0 || bits == 0x8000)
    }
}
