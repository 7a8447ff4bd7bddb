import OffloadSim

extension CalibrationMeasurements {
    /// The preset whose datasheet figures (HBM bandwidth, bf16 peak, memory, host CPU) a
    /// profile for this GPU starts from, by its name as the driver reports it; nil when
    /// none matches.
    public var datasheetPreset: HardwareProfile? {
        let name = gpuName.uppercased()
        let rules: [(all: [String], none: [String], preset: String)] = [
            (["GH200"], [], "gh200"),
            (["H100", "PCIE"], [], "h100-pcie"),
            (["H100"], ["PCIE"], "h100-sxm"),
            (["H200"], ["NVL"], "h200"),
            (["A100"], [], "a100-80gb-pcie"),
            (["A6000"], ["ADA"], "rtx-a6000"),
            (["4090"], [], "rtx-4090"),
            (["L4"], ["L40"], "l4"),
            (["T4"], [], "t4"),
        ]
        for rule in rules where rule.all.allSatisfy(name.contains) && !rule.none.contains(where: name.contains) {
            return HardwareProfile.preset(named: rule.preset)
        }
        return nil
    }

    /// A hardware profile the simulator loads: the measured bus (fitted bandwidth and
    /// latency, one copy engine, as the replay uses one copy stream), launch gap and
    /// weight-streaming bandwidth, the expert curves, and datasheet figures from the
    /// matching preset. `date` is written into `calibrated_on`.
    ///
    /// The compute terms describe moesim's own kernels (one weight-streaming launch per
    /// attention block, three launches per expert or per grouped kernel), which is what `gpu
    /// validate` replays; the host terms (sync after a kernel, copy call) are moesim's own
    /// driver calls, without a framework's dispatch on top.
    public func profile(name: String? = nil, date: String) -> HardwareProfile {
        let base = datasheetPreset
        let hbm = base?.hbmGBps ?? streamGBps
        var profile = HardwareProfile(
            name: name ?? "calibrated-" + (base?.name ?? slug(gpuName)),
            displayName: gpuName,
            source: "measured by `moesim gpu calibrate` with moesim's CUDA-core kernels (one weight-streaming launch per attention block, "
                + "three per expert or grouped kernel; host syncs and copy calls timed on the host around moesim's driver calls); " + (base.map { "datasheet hbm_gbps, peak_tflops, memory and the host CPU figures from the \($0.name) preset" }
                    ?? "no preset matches this GPU: hbm_gbps is the measured streaming rate, memory_gib the driver's total, and peak_tflops and the host figures are placeholders to edit"),
            calibratedOn: "\(gpuName) (compute capability \(computeCapability)), driver CUDA \(driverCUDA), \(date)",
            hbmGBps: hbm, peakTFLOPS: base?.peakTFLOPS ?? 100, memoryGiB: base?.memoryGiB ?? driverMemoryGiB,
            memoryEfficiency: streamGBps / hbm, computeEfficiency: base?.computeEfficiency ?? 0.7,
            launchOverheadNs: Nanoseconds(launchGapNs.rounded()), kernelsPerAttention: 1,
            kernelsPerExpert: MoesimKernels.launchesPerExpert,
            link: BusLink(gbps: h2dGBps, latencyNs: Nanoseconds(copyLatencyNs.rounded()), copyEngines: 1, chunkBytes: 0),
            hostMemoryGBps: base?.hostMemoryGBps ?? 100, hostTFLOPS: base?.hostTFLOPS ?? 2,
            hostExpertOverheadNs: base?.hostExpertOverheadNs ?? 20_000, expertCalibration: experts)
        let sizes = copies.keys.sorted()
        profile.measuredCopies = CalibrationTable(tokens: sizes, nanoseconds: sizes.map { copies[$0]! })
        let streamSizes = stream.keys.sorted()
        profile.streamCalibration = streamSizes.isEmpty ? nil : CalibrationTable(tokens: streamSizes, nanoseconds: streamSizes.map { stream[$0]! })
        if let syncAfterKernelNs { profile.syncAfterKernelNs = Nanoseconds(syncAfterKernelNs.rounded()) }
        if let copyCallNs { profile.copyCallNs = Nanoseconds(copyCallNs.rounded()) }
        profile.pageableH2DGBps = pageableH2DGBps
        let pageableSizes = pageableCopies.keys.sorted()
        profile.measuredPageableCopies = pageableH2DGBps == nil ? nil
            : CalibrationTable(tokens: pageableSizes, nanoseconds: pageableSizes.map { pageableCopies[$0]! })
        profile.groupedCalibration = grouped
        profile.attentionTokenCalibration = attentionTokens
        profile.concurrentCalibration = concurrent
        profile.concurrentGPUCalibration = concurrentGPU
        profile.streamEventNs = streamEventNs.map { Nanoseconds($0.rounded()) }
        profile.copySlowdown = copySlowdown
        profile.kernelSlowdown = kernelSlowdown
        return profile
    }

    /// The driver's total device memory in GiB, rounded down to 1/100 GiB (0 where unknown).
    private var driverMemoryGiB: Double {
        (Double(totalMemoryBytes ?? 0) / Double(1 << 30) * 100).rounded(.down) / 100
    }

    private func slug(_ text: String) -> String {
        let lowered = text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return String(lowered).split(separator: "-").joined(separator: "-")
    }
}
