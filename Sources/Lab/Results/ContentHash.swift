import Foundation

/// 64-bit FNV-1a (Fowler, Noll, Vo), the identity moesim gives sweep points, specs and trace
/// files: stable across runs and machines, fast, and ample for telling configurations
/// apart (not a cryptographic hash).
public enum ContentHash {
    /// FNV-1a of `bytes`, continuing from `state`.
    public static func fnv1a(_ bytes: some Sequence<UInt8>, state: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var hash = state
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// The hash of `bytes` as 16 hex digits.
    public static func hex(of bytes: [UInt8]) -> String { String(format: "%016llx", fnv1a(bytes)) }

    /// The hash of the file at `path`, read in 1 MiB blocks; nil when it cannot be read.
    public static func file(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        while let block = try? handle.read(upToCount: 1 << 20), !block.isEmpty {
            hash = fnv1a(block, state: hash)
        }
        return String(format: "%016llx", hash)
    }
}
