/// IEEE 754 binary16 conversion in integer arithmetic: the bits `Float16(value).bitPattern`
/// gives, for every `Float` (round to nearest, ties to even; subnormals, infinities and NaNs
/// as compiler-rt's `__truncsfhf2` makes them), without the call. On x86-64 without F16C,
/// Swift's `Float16(_: Float)` is that library call (6% of a parametric synthesis's samples
/// in `perf`, Benchmarks/RESULTS.md, twelfth session); a trace stores every gate weight as
/// fp16 (traces/FORMAT.md, "weight payload"), so importers of float weights convert each.
enum HalfPrecision {
    /// The fp16 bit pattern nearest `value`. Tested against `Float16(value).bitPattern` over
    /// every 1021st `Float` bit pattern and at every fp16 rounding boundary.
    @inline(__always)
    static func bits(rounding value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: bits >> 16) & 0x8000
        let exponent = Int(bits >> 23) & 0xff
        let mantissa = bits & 0x7f_ffff
        if exponent == 0xff {
            // Infinity, or a quiet NaN keeping the payload's top bits.
            return sign | 0x7c00 | (mantissa == 0 ? 0 : 0x200 | UInt16(truncatingIfNeeded: (mantissa & 0x3f_ffff) >> 13))
        }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 31 { return sign | 0x7c00 }
        if halfExponent <= 0 {
            // Subnormal in fp16 (or zero): the significand with its leading bit, shifted into place.
            guard halfExponent >= -10 else { return sign }
            let significand = mantissa | 0x80_0000
            let shift = UInt32(14 - halfExponent)
            var half = significand >> shift
            let remainder = significand & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
            if remainder > halfway || (remainder == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(truncatingIfNeeded: half)
        }
        // A carry out of the mantissa rounds into the exponent, up to infinity, as it should.
        var half = UInt32(halfExponent) << 10 | mantissa >> 13
        let remainder = mantissa & 0x1fff
        if remainder > 0x1000 || (remainder == 0x1000 && half & 1 == 1) { half += 1 }
        return sign | UInt16(truncatingIfNeeded: half)
    }
}
