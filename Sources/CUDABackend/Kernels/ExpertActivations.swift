/// Device buffers for the activations of one expert FFN (or weight-streaming launch) of
/// up to `maxTokens` tokens: input x, the gate/up projections, the SwiGLU output and the
/// down projection's output, all fp32.
public final class ExpertActivations {
    /// The most tokens one launch may process.
    public let maxTokens: Int
    let input: DeviceBuffer
    let gateUp: DeviceBuffer
    let hidden: DeviceBuffer
    let output: DeviceBuffer

    /// Buffers for `maxTokens` tokens, inputs up to `width` wide, experts up to
    /// `intermediate` wide and outputs up to `rows` rows.
    public init(context: CUDAContext, maxTokens: Int, width: Int, intermediate: Int, rows: Int) throws {
        self.maxTokens = maxTokens
        let sizes = Self.bufferBytes(maxTokens: maxTokens, width: width, intermediate: intermediate, rows: rows)
        input = try context.allocateDevice(sizes[0])
        gateUp = try context.allocateDevice(sizes[1])
        hidden = try context.allocateDevice(sizes[2])
        output = try context.allocateDevice(sizes[3])
    }

    /// Device bytes the buffers for these sizes take, before any is allocated.
    public static func bytes(maxTokens: Int, width: Int, intermediate: Int, rows: Int) -> Int {
        bufferBytes(maxTokens: maxTokens, width: width, intermediate: intermediate, rows: rows).reduce(0, +)
    }

    /// Input, gate/up, SwiGLU output and output buffer bytes (fp32).
    private static func bufferBytes(maxTokens: Int, width: Int, intermediate: Int, rows: Int) -> [Int] {
        [maxTokens * max(width, intermediate) * 4, maxTokens * 2 * intermediate * 4, maxTokens * intermediate * 4,
         maxTokens * max(rows, width, 2 * intermediate) * 4]
    }
}

extension MoesimKernels {
    /// One SwiGLU expert, three launches: `2 × intermediate` gate/up rows then `hidden` down
    /// rows of bf16 weights starting at `offset` in `weights` (6 × hidden × intermediate bytes).
    public func expertFFN(_ weights: DeviceBuffer, offset: Int = 0, hidden: Int, intermediate: Int, tokens: Int,
                          activations: ExpertActivations, on stream: CUDAStream) throws {
        precondition(tokens <= activations.maxTokens, "more tokens than the activation buffers hold")
        try rows(weights, offset: offset, rows: 2 * intermediate, columns: hidden, input: activations.input, tokens: tokens,
                 output: activations.gateUp, on: stream)
        try swiglu(activations.gateUp, intermediate: intermediate, tokens: tokens, output: activations.hidden, on: stream)
        try rows(weights, offset: offset + 4 * hidden * intermediate, rows: hidden, columns: intermediate,
                 input: activations.hidden, tokens: tokens, output: activations.output, on: stream)
    }

    /// One launch that streams `bytes` of bf16 weights (rounded down to whole rows of
    /// `width`) against `tokens` tokens: a stand-in for an attention block's projections.
    public func streamWeights(_ weights: DeviceBuffer, bytes: Int, width: Int, tokens: Int,
                              activations: ExpertActivations, on stream: CUDAStream) throws {
        let rowCount = max(1, min(bytes, weights.bytes) / (2 * width))
        try rows(weights, rows: rowCount, columns: width, input: activations.input, tokens: tokens,
                 output: activations.output, on: stream)
    }
}

extension MoesimKernels {
    /// Launches of one grouped FFN (gate/up for every expert, SwiGLU, down for every expert).
    public static let launchesPerGroup = 3

    /// A group of `experts` SwiGLU experts in three launches, as a grouped MoE kernel runs a
    /// layer's experts: gate/up rows of every expert, one SwiGLU over all of them, down rows of
    /// every expert. `addresses` holds, from byte `addressOffset`, the device addresses of the
    /// experts' gate/up weights (2 × intermediate rows of hidden bf16 each) and then of their
    /// down weights (hidden rows of intermediate); every expert takes the same `tokens` tokens.
    /// `activations` must hold `experts × tokens` tokens.
    public func groupedExpertFFN(addresses: DeviceBuffer, addressOffset: Int = 0, experts: Int, hidden: Int, intermediate: Int,
                                 tokens: Int, activations: ExpertActivations, on stream: CUDAStream) throws {
        precondition(experts * tokens <= activations.maxTokens, "more tokens than the activation buffers hold")
        try groupedRows(addresses: addresses, addressOffset: addressOffset, experts: experts, rows: 2 * intermediate, columns: hidden,
                        input: activations.input, inputStride: 0, tokens: tokens, output: activations.gateUp, on: stream)
        try swiglu(activations.gateUp, intermediate: intermediate, tokens: experts * tokens, output: activations.hidden, on: stream)
        try groupedRows(addresses: addresses, addressOffset: addressOffset + 8 * experts, experts: experts, rows: hidden,
                        columns: intermediate, input: activations.hidden, inputStride: tokens * intermediate, tokens: tokens,
                        output: activations.output, on: stream)
    }
}
