/// A routed expert's time on the host CPU measured with the serving engine's own kernel
/// (`moesim host calibrate --ggml`: llama.cpp's `MUL_MAT_ID` over the gate, up and down
/// matrices, read from host memory), against the tokens it takes. Where it applies it replaces
/// the CPU roofline over ``HardwareProfile/hostMemoryGBps`` and ``HardwareProfile/hostTFLOPS``,
/// which are ceilings that ggml's block-quantised kernels do not reach (Benchmarks/RESULTS.md,
/// "ggml's CPU expert kernel").
public struct HostExpertCalibration: Sendable, Equatable {
    /// Time per expert (its three matrices) against tokens, ns.
    public var table: CalibrationTable
    /// Bytes of the expert that was timed.
    public var expertBytes: Int
    /// What timed it: the kernel, its library, the types, the threads, the CPU and the date.
    public var kernel: String

    /// A calibration of `table` (ns per expert), measured on experts of `expertBytes` by `kernel`.
    public init(table: CalibrationTable, expertBytes: Int, kernel: String) {
        self.table = table
        self.expertBytes = expertBytes
        self.kernel = kernel
    }

    /// Whether the table times `model`'s experts: every layer's within a third either way of the
    /// timed expert's size. One quantisation's layers vary that much (Q4_K_M stores a layer's
    /// down matrix in Q4_K or Q6_K: 2.65 or 3.06 MB an expert of Qwen3-30B-A3B), while another
    /// type family differs by more (Q8_0 is 1.9× Q4_K, bf16 3.6×). O(layers).
    public func applies(to model: ModelCost) -> Bool {
        model.expertBytes.allSatisfy { bytes in
            let ratio = Double(bytes) / Double(expertBytes)
            return ratio >= 0.75 && ratio <= 4.0 / 3.0
        }
    }
}
