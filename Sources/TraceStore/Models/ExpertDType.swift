/// How a routed expert's weights are stored, which sets its size in bytes.
public enum ExpertDType: String, Sendable, CaseIterable {
    /// IEEE float32: 4 bytes per parameter (a checkpoint run as stored, e.g. Hugging Face's
    /// Switch Transformers loaded without a `torch_dtype`).
    case fp32
    /// bfloat16: 2 bytes per parameter.
    case bf16
    /// 8-bit float (e4m3), ignoring per-block scales: 1 byte per parameter.
    case fp8
    /// 4-bit with one 8-bit scale per 32 values (OCP MX spec v1.0 MXFP4; also the size of
    /// group-32 int4 with an 8-bit scale): 4.25 bits per parameter.
    case mxfp4

    /// Bytes of `parameters` weights in this type, rounded up to whole bytes.
    public func bytes(parameters: Int) -> Int {
        switch self {
        case .fp32: return parameters * 4
        case .bf16: return parameters * 2
        case .fp8: return parameters
        case .mxfp4: return (parameters * 17 + 31) / 32
        }
    }
}
