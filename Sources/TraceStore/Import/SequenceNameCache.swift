#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sequence name of the row being read, made into a String only when its bytes differ
/// from the previous row's: a long-format input gives every row its sequence's name, and
/// its rows come a sequence at a time.
struct SequenceNameCache {
    private var bytes: [UInt8] = []
    private var text = ""

    /// The name held in `base[range]` (ASCII: the readers pass no other bytes). O(name length).
    @inline(__always)
    mutating func name(_ base: UnsafePointer<UInt8>, _ range: Range<Int>) -> String {
        let same = bytes.count == range.count
            && (range.isEmpty || bytes.withUnsafeBufferPointer { memcmp($0.baseAddress!, base + range.lowerBound, range.count) == 0 })
        if !same {
            let name = UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
            bytes = Array(name)
            text = String(decoding: name, as: UTF8.self)
        }
        return text
    }
}
