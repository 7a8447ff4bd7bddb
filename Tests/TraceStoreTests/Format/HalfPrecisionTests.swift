import Testing
@testable import TraceStore

@Suite("Half precision")
struct HalfPrecisionTests {
    static func expectSame(_ value: Float) {
        let expected = Float16(value).bitPattern
        let got = HalfPrecision.bits(rounding: value)
        if got != expected {
            Issue.record("\(value) (bits \(String(value.bitPattern, radix: 16))): \(String(got, radix: 16)), Float16 gives \(String(expected, radix: 16))")
        }
    }

    @Test("every 1021st Float bit pattern converts as Float16 converts it")
    func stridedPatterns() {
        // 1021 is odd and prime: the stride visits every mantissa residue, both signs and every exponent.
        for bits in stride(from: UInt64(0), through: UInt64(UInt32.max), by: 1021) {
            Self.expectSame(Float(bitPattern: UInt32(bits)))
        }
    }

    @Test("values at and beside every fp16 rounding boundary convert as Float16 converts them")
    func roundingBoundaries() {
        for half in UInt16(0)...UInt16(0x7bff) {
            let low = Float(Float16(bitPattern: half)), high = Float(Float16(bitPattern: half + 1))
            let middle = (low + high) / 2  // exact in Float: fp16 values have 11 significant bits
            for value in [low, low.nextUp, middle.nextDown, middle, middle.nextUp, high.nextDown] {
                Self.expectSame(value)
                Self.expectSame(-value)
            }
        }
        for value: Float in [.infinity, -.infinity, .nan, -.nan, Float(bitPattern: 0x7f80_0001), Float(bitPattern: 0x7fc0_2001),
                             .greatestFiniteMagnitude, 65520, 65519.99, .leastNonzeroMagnitude, 0x1p-25, Float(0x1p-25).nextUp, 0x1p-26] {
            Self.expectSame(value)
        }
    }
}
