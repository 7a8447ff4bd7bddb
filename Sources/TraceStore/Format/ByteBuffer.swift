/// Appends little-endian integers to a byte array (the payloads' encoding).
struct ByteWriter {
    var bytes: [UInt8] = []

    /// A writer that starts empty, but in the storage `bytes` had (taken, leaving `bytes` empty):
    /// payloads encoded one after another into one buffer reuse its allocation.
    init(reusing bytes: inout [UInt8]) {
        swap(&self.bytes, &bytes)
        self.bytes.removeAll(keepingCapacity: true)
    }

    /// An empty writer.
    init() {}

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: Int) { le(UInt64(value), 2) }
    mutating func u32(_ value: Int) { le(UInt64(value), 4) }
    mutating func magic(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func le(_ value: UInt64, _ count: Int) {
        for i in 0..<count { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
}

/// Reads little-endian integers from a payload, failing on a short read.
struct ByteReader {
    struct ShortRead: Error {}

    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - position }

    mutating func u8() throws -> UInt8 {
        guard remaining >= 1 else { throw ShortRead() }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16() throws -> Int { Int(try le(2)) }
    mutating func u32() throws -> Int { Int(try le(4)) }

    mutating func matches(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard remaining >= count else { return false }
        let equal = text.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[position + $0] == expected[$0] }
        }
        if equal { position += count }
        return equal
    }

    /// The next `count` bytes, without copying.
    mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw ShortRead() }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
    }

    private mutating func le(_ count: Int) throws -> UInt64 {
        guard remaining >= count else { throw ShortRead() }
        var value: UInt64 = 0
        for i in 0..<count { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += count
        return value
    }
}
