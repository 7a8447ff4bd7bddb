/// The content checksum of a chunk (traces/FORMAT.md, "Content checksums", format version
/// 3): FNV-1a's offset basis and prime applied to the decompressed payload taken as 64-bit
/// little-endian words, then its last 0–7 bytes one at a time; a chunk's routing payload,
/// then its weight payload. Stored as the signed 64-bit integer with the same bits.
///
/// The zstd frame checksum only shows that a blob decompresses to what was compressed; this
/// one shows that it is the content the writer produced, so a blob swapped for another valid
/// frame is caught. Each step is a bijection of the state, so a change confined to one word
/// always changes the sum. O(n) in the payload, a multiply per 8 bytes.
public struct PayloadChecksum: Equatable, Sendable {
    /// The running sum.
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01B3

    /// An empty sum.
    public init() {}

    /// Adds `bytes`.
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        var value = self.value
        while i + 8 <= bytes.count {
            value = (value ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* Self.prime
            i += 8
        }
        while i < bytes.count {
            value = (value ^ UInt64(bytes[i])) &* Self.prime
            i += 1
        }
        self.value = value
    }

    /// Adds `bytes`.
    public mutating func add(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { add($0) }
    }

    /// The sum as SQLite stores it.
    public var stored: Int64 { Int64(bitPattern: value) }
}
