import TraceStore

extension ModelPreset {
    /// The width moesim's kernels give this model's expert, whose FFN they always run in the
    /// SwiGLU shape (gate/up, SwiGLU, down: 3 × hidden × width bf16 weights): the expert's own
    /// intermediate size for a three-matrix expert; for another shape (Switch Transformers'
    /// two-matrix ReLU expert, `wi` and `wo` in transformers' `SwitchTransformersDenseActDense`)
    /// the width with the expert's weight count, hence its bytes and FLOPs —
    /// `matricesPerExpert × intermediate / 3`, rounded down to a multiple of 8 (Switch-base:
    /// 2 × 3,072 / 3 = 2,048). Only the elementwise step between the matrices differs (SwiGLU
    /// over 2 × width values instead of ReLU over the intermediate size), a small kernel beside
    /// the weight reads. ``GPUReplay`` sizes a replayed expert from its bytes the same way.
    public var kernelIntermediateSize: Int {
        max(8, matricesPerExpert * expertIntermediateSize / 3 / 8 * 8)
    }
}
