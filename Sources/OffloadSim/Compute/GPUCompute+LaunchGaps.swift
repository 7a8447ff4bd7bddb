/// The launch gaps inside the compute stream's operations: the part of each operation's time
/// (``GPUCompute``) that is the profile's launch time per kernel, in which the host is
/// launching and, in moesim's serial timeline, no kernel runs.
///
/// A roofline operation takes `launch × kernels` plus its kernels' work, and the launches are
/// its gaps. A calibrated table's measured time was taken with moesim's kernels queued back to
/// back, so whatever gaps it holds are the device's own between kernels, not separable from
/// the kernels: an operation a table times has no gaps, except launches the model adds beyond
/// the ones measured. NVML's `utilization.gpu` counts a gap with no kernel running as idle
/// ("percent of time over the past sample period during which one or more kernels was
/// executing on the GPU", NVML API reference, `nvmlUtilization_t`), so the simulation takes
/// these gaps out of the GPU's busy time (attention's come with its time, from
/// ``GPUCompute/attention(tokens:kvTokens:scorePairs:)``). Every call is O(1).
extension GPUCompute {
    /// Launch gaps of one routed expert computed on the GPU, ns.
    public var expertLaunchNanoseconds: Nanoseconds {
        usesCalibratedExperts ? 0 : Nanoseconds(profile.kernelsPerExpert) * profile.launchOverheadNs
    }

    /// Launch gaps of a layer's shared experts (0 without them), ns: one expert's launches (the
    /// roofline launches them as one operation).
    public var sharedExpertsLaunchNanoseconds: Nanoseconds { model.sharedExperts > 0 ? expertLaunchNanoseconds : 0 }

    /// Launch gaps of a grouped kernel of `launches` launches (default: one expert's), ns, as
    /// ``groupedExpertsNanoseconds(layer:shards:launches:)`` prices them: every launch under the
    /// roofline, those beyond the measured ones with a calibrated grouped table.
    public func groupedLaunchNanoseconds(launches: Int? = nil) -> Nanoseconds {
        let count = launches ?? profile.kernelsPerExpert
        return Nanoseconds(usesCalibratedGroups ? max(0, count - profile.kernelsPerExpert) : count) * profile.launchOverheadNs
    }
}
