/// What the engine does with an expert the layer needs that is not resident.
public enum MissHandling: Sendable, Equatable {
    /// Copy it to the GPU on demand (into a cache slot, or through a staging buffer).
    case fetch
    /// Compute it on the host CPU from host memory, as Fiddler does (Kamahori et al.,
    /// arXiv 2402.07033); the GPU waits for the result.
    case computeOnCPU
    /// Copy a low-precision version (a `byteRatio` share of the bytes, through a staging
    /// buffer, not cached) when the expert's share of its tokens' top-k gate weight is below
    /// `belowWeight`, as HOBBIT does (Tang et al., arXiv 2411.01433); else fetch it. The
    /// gate weight of low-precision experts counts against routing fidelity.
    case lowPrecision(belowWeight: Float, byteRatio: Double)
}

/// The order in which the compute stream runs a layer's experts.
public enum ExpertOrder: String, Sendable, Equatable {
    /// Ascending expert id, as the router lists them (the engines the seed papers measured).
    case ascendingID = "ascending"
    /// Experts already resident first, then the rest in the order their copies were
    /// issued (ProMoE's reordering, Song et al., arXiv 2410.22134).
    case residentFirst = "resident-first"
}
