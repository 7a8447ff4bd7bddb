/// How the engine serves one planned expert of the layer being computed.
struct PlannedExpert {
    /// Its weights are on the GPU (a cache hit, a finished copy) or its CPU result is in.
    var ready: Bool
    /// It goes through a staging buffer (no cache slot).
    var staged: Bool
    /// The host CPU computes it.
    var onCPU: Bool
    /// Its low-precision version is fetched.
    var lowPrecision: Bool
    /// Its copy waits for a per-expert host loop to reach it.
    var deferred: Bool
}
