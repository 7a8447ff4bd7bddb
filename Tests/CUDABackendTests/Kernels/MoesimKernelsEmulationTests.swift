import Foundation
import Testing

/// What moesim's CUDA kernels compute, run on the CPU by ``KernelEmulator`` from the same
/// source as the committed PTX, against products computed here. Weights and activations are
/// small multiples of 1/8 and 1/4, exact in bf16 and fp32, so sums agree to rounding.
@Suite struct MoesimKernelsEmulationTests {
    static func bf16(_ value: Float) -> UInt16 { UInt16(value.bitPattern >> 16) }
    static func weights(rows: Int, cols: Int, seed: Int) -> [Float] {
        (0..<rows * cols).map { Float(($0 * 7 + seed * 13) % 11 - 5) * 0.125 }
    }
    static func activations(tokens: Int, cols: Int, seed: Int) -> [Float] {
        (0..<tokens * cols).map { Float(($0 * 5 + seed) % 7 - 3) * 0.25 }
    }
    /// out[t × rows + r] = W[r, :] · x[t, :].
    static func product(_ w: [Float], rows: Int, cols: Int, _ x: ArraySlice<Float>, tokens: Int) -> [Float] {
        let x = Array(x)
        return (0..<tokens * rows).map { index in
            let (t, r) = index.quotientAndRemainder(dividingBy: rows)
            return (0..<cols).reduce(Float(0)) { $0 + w[r * cols + $1] * x[t * cols + $1] }
        }
    }
    static func close(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($1)) }
    }

    /// 20 rows (the last block half idle), 512 columns (each lane loops twice), 11 tokens (two token tiles).
    @Test func rowsDotMultipliesEachRowByEachToken() {
        let (rows, cols, tokens) = (20, 512, 11)
        let w = Self.weights(rows: rows, cols: cols, seed: 1)
        let x = Self.activations(tokens: tokens, cols: cols, seed: 2)
        let out = KernelEmulator.rowsDot(weights: w.map(Self.bf16), rows: rows, cols: cols, x: x, tokens: tokens)
        #expect(Self.close(out, Self.product(w, rows: rows, cols: cols, x[...], tokens: tokens)))
    }

    /// Three experts in separate allocations, all reading the same tokens (a gate/up projection).
    @Test func theGroupedKernelRunsEachExpertsMatrixOnTheSharedTokens() {
        let (rows, cols, tokens) = (12, 64, 3)
        let experts = (0..<3).map { Self.weights(rows: rows, cols: cols, seed: 5 + $0) }
        let x = Self.activations(tokens: tokens, cols: cols, seed: 4)
        let out = KernelEmulator.groupedRowsDot(experts: experts.map { $0.map(Self.bf16) }, rows: rows, cols: cols, x: x, xStride: 0,
                                                tokens: tokens)
        let expected = experts.flatMap { Self.product($0, rows: rows, cols: cols, x[...], tokens: tokens) }
        #expect(Self.close(out, expected))
    }

    /// Each expert reads its own tokens at x + e × tokens × cols (a down projection over each expert's SwiGLU output).
    @Test func theGroupedKernelReadsEachExpertsTokensAtItsStride() {
        let (rows, cols, tokens) = (9, 32, 2)
        let experts = (0..<4).map { Self.weights(rows: rows, cols: cols, seed: 9 + $0) }
        let x = Self.activations(tokens: 4 * tokens, cols: cols, seed: 6)
        let out = KernelEmulator.groupedRowsDot(experts: experts.map { $0.map(Self.bf16) }, rows: rows, cols: cols, x: x,
                                                xStride: tokens * cols, tokens: tokens)
        let expected = experts.indices.flatMap { e in
            Self.product(experts[e], rows: rows, cols: cols, x[(e * tokens * cols)..<((e + 1) * tokens * cols)], tokens: tokens)
        }
        #expect(Self.close(out, expected))
    }

    @Test func swigluMultipliesTheSiluOfTheGateByTheUpProjection() {
        let (intermediate, tokens) = (5, 3)
        let gateUp = (0..<tokens * 2 * intermediate).map { Float($0 % 9 - 4) * 0.5 }
        let out = KernelEmulator.swiglu(gateUp: gateUp, intermediate: intermediate, tokens: tokens)
        let expected = (0..<tokens * intermediate).map { index -> Float in
            let (t, k) = index.quotientAndRemainder(dividingBy: intermediate)
            let g = gateUp[t * 2 * intermediate + k], u = gateUp[t * 2 * intermediate + intermediate + k]
            return g / (1 + exp(-g)) * u
        }
        #expect(Self.close(out, expected))
    }

    /// The kernel reads the clock until the time asked has passed: it never returns sooner.
    @Test func spinHoldsItsThreadsForTheTimeAsked() {
        let start = DispatchTime.now().uptimeNanoseconds
        KernelEmulator.spin(nanoseconds: 2_000_000)
        #expect(DispatchTime.now().uptimeNanoseconds - start >= 2_000_000)
    }
}
