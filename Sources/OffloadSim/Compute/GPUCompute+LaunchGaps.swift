/// The launch gaps inside the compute stream's operations: the part of each operation's time
/// (``GPUCompute``) in which the host is launching its kernels and none of them runs yet.
///
/// Each operation's time is `launch × kernels` plus its kernels' work (the roofline, or a
/// calibrated table whose measured times hold the launch gaps between moesim's kernels, priced
/// at the profile's calibrated gap). NVML's `utilization.gpu` counts a gap with no kernel
/// running as idle ("percent of time over the past sample period during which one or more
/// kernels was executing on the GPU", NVML API reference, `nvmlUtilization_t`), so the
/// simulation takes these gaps out of the GPU's busy time. Every call is O(1).
extension GPUCompute {
    /// Launch gaps of one layer's attention block with its router, ns.
    public var attentionLaunchNanoseconds: Nanoseconds { Nanoseconds(profile.kernelsPerAttention) * profile.launchOverheadNs }

    /// Launch gaps of one routed expert computed on the GPU, ns.
    public var expertLaunchNanoseconds: Nanoseconds { Nanoseconds(profile.kernelsPerExpert) * profile.launchOverheadNs }

    /// Launch gaps of a layer's shared experts (0 without them), ns: one expert's launches
    /// (the roofline launches them as one operation), or each shared expert's with a
    /// calibrated expert table (each then costs a measured routed expert).
    public var sharedExpertsLaunchNanoseconds: Nanoseconds {
        guard model.sharedExperts > 0 else { return 0 }
        return usesCalibratedExperts ? Nanoseconds(model.sharedExperts) * expertLaunchNanoseconds : expertLaunchNanoseconds
    }

    /// Launch gaps of a grouped kernel of `launches` launches (default: one expert's), ns, as
    /// ``groupedExpertsNanoseconds(layer:shards:launches:)`` prices them: a calibrated grouped
    /// table was measured with one expert's launches, and launches beyond those are added.
    public func groupedLaunchNanoseconds(launches: Int? = nil) -> Nanoseconds {
        let count = launches ?? profile.kernelsPerExpert
        return Nanoseconds(usesCalibratedGroups ? max(count, profile.kernelsPerExpert) : count) * profile.launchOverheadNs
    }

    /// Launch gaps of `experts` experts on `streams` concurrent streams, ns, as
    /// ``concurrentExpertsNanoseconds(layer:shards:streams:)`` prices them: one expert's
    /// launches before the first kernel runs (a stream's later launches overlap the kernels of
    /// the others), or one expert's per wave with a calibrated concurrency table.
    public func concurrentLaunchNanoseconds(experts: Int, streams: Int) -> Nanoseconds {
        guard experts > 0 else { return 0 }
        let width = max(1, streams)
        let waves = usesCalibratedConcurrency ? (experts + width - 1) / width : 1
        return Nanoseconds(waves) * expertLaunchNanoseconds
    }
}
