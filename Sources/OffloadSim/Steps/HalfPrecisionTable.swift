/// The value of every fp16 bit pattern as a `Float`, tabulated once (65,536 entries,
/// 256 KiB): converting a gate weight is then one load. On x86-64 without F16C, which
/// Swift's default target is, `Float(Float16(bitPattern:))` calls the runtime's software
/// conversion (`__extendhfsf2`), 6% of a replay's samples under `perf`. The table holds
/// that same conversion's results, so every value is bit for bit the same.
enum HalfPrecisionTable {
    /// `values[Int(bits)] == Float(Float16(bitPattern: bits))` for every `bits`. Written once,
    /// when first used, and only read afterwards (hence safe to share across threads); it
    /// lives as long as the process.
    nonisolated(unsafe) static let values: UnsafePointer<Float> = {
        let table = UnsafeMutablePointer<Float>.allocate(capacity: Int(UInt16.max) + 1)
        for bits in 0...UInt16.max { table[Int(bits)] = Float(Float16(bitPattern: bits)) }
        return UnsafePointer(table)
    }()
}
