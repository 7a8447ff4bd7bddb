/// A GPU and its host link as the simulator models them, with the source of each
/// number: either a preset (datasheet figures and stated assumptions) or a profile
/// calibrated on a real GPU by `moesim gpu calibrate`.
///
/// Profiles are TOML files (``init(toml:file:)``, ``tomlText``); `moesim hardware
/// --export NAME` writes a preset as a file to copy and edit.
public struct HardwareProfile: Sendable, Equatable {
    /// Short name, as given to `--hardware`.
    public var name: String
    /// The GPU's product name.
    public var displayName: String
    /// Where the numbers come from.
    public var source: String
    /// For a calibrated profile: the GPU, driver and date it was measured on; nil for presets.
    public var calibratedOn: String?
    /// Datasheet memory bandwidth, GB/s.
    public var hbmGBps: Double
    /// Datasheet dense bf16 tensor throughput, TFLOP/s.
    public var peakTFLOPS: Double
    /// GPU memory, GiB.
    public var memoryGiB: Double
    /// Fraction of `hbmGBps` a weight-streaming kernel achieves.
    public var memoryEfficiency: Double
    /// Fraction of `peakTFLOPS` a GEMM achieves.
    public var computeEfficiency: Double
    /// Host-side cost of launching one kernel, ns.
    public var launchOverheadNs: Nanoseconds
    /// Host time from a kernel's end until the host holds a few bytes it wrote (a small
    /// device-to-host copy the host waits for, as an engine reads the routed ids), ns: presets
    /// assume a copy's latency (5 µs, ``presetAssumptions``); `moesim gpu calibrate` measures it.
    public var syncAfterKernelNs: Nanoseconds
    /// Host time to issue one asynchronous host-to-device copy call, ns: presets assume a
    /// launch's 5 µs (``presetAssumptions``); `moesim gpu calibrate` measures the driver call.
    public var copyCallNs: Nanoseconds
    /// Kernels per layer for attention, norms and router.
    public var kernelsPerAttention: Int
    /// Kernels per expert (gate/up projection, activation, down projection, weighted add).
    public var kernelsPerExpert: Int
    /// The host-to-device link.
    public var link: BusLink
    /// Host-to-device bandwidth of copies from pageable (never pinned) host memory, GB/s, for
    /// engines whose weights are not pinned (``ServingEngine/copiesFromPageableMemory``): the
    /// driver stages such copies through pinned buffers of its own. nil: not measured — no
    /// datasheet gives it, so presets have none; `moesim gpu calibrate` measures it.
    public var pageableH2DGBps: Double?
    /// For a calibrated profile, the measured time of a copy from pageable memory against its
    /// size in bytes, the source cycling over more host memory than the CPU caches hold (as an
    /// engine's weights do): copies from pageable memory are timed by it, since the driver's
    /// staging makes their rate depend on size (on an H200: 12-13 GB/s at 16 MiB, 7-10 GB/s
    /// at 64 MiB, 2026-12-04), which one bandwidth cannot say.
    public var measuredPageableCopies: CalibrationTable?
    /// Where and how ``hostMemoryGBps`` and ``hostTFLOPS`` were measured (`moesim host
    /// calibrate`: the CPU, threads and date); nil when they are the preset's assumptions or a
    /// file author's figures.
    public var hostCalibratedOn: String?
    /// Host memory bandwidth a CPU expert kernel reaches, GB/s (for CPU expert execution).
    public var hostMemoryGBps: Double
    /// Host CPU bf16 throughput, TFLOP/s.
    public var hostTFLOPS: Double
    /// Fixed cost per expert computed on the CPU (dispatch, activations over PCIe and back), ns.
    public var hostExpertOverheadNs: Nanoseconds
    /// Measured routed-expert time against tokens, per model preset name.
    public var expertCalibration: [String: CalibrationTable]
    /// A routed expert's time on the host CPU measured with the engine's own kernel, per
    /// model preset name: replaces the CPU roofline for that model's experts of the timed size.
    public var hostExpertCalibration: [String: HostExpertCalibration] = [:]
    /// Measured grouped-kernel time against experts and tokens, per model preset name: the
    /// grouped kernel of layer-barrier engines and expert-parallel shards costs this instead of
    /// a roofline per expert.
    public var groupedCalibration: [String: GroupedCalibration]
    /// Measured time of k experts launched together on k concurrent streams against k and the
    /// tokens each takes, per model preset name: a concurrent-streams engine's layer costs this
    /// instead of the roofline with perfect sharing of SMs and HBM (``GPUCompute``).
    public var concurrentCalibration: [String: GroupedCalibration]
    /// The same work timed with the GPU alone: queued behind a spin kernel while the host
    /// issues it, so that the host's issue rate is not in it (NVIDIA nvbench's blocking-kernel
    /// method), per model preset name. Where a profile has it, a concurrent-streams layer costs
    /// these waves, each no earlier than the host has issued its launches at
    /// ``launchOverheadNs`` each (``GPUCompute/concurrentExperts(layer:shards:streams:)``).
    public var concurrentGPUCalibration: [String: GroupedCalibration] = [:]
    /// Host costs of a framework's operations measured on this profile's machine, by framework
    /// name (`[framework.pytorch]`): an engine that names the framework has its syncs, launches
    /// and copy calls priced by them (``FrameworkHostCosts``).
    public var frameworkCosts: [String: FrameworkHostCosts] = [:]
    /// For a calibrated profile, the measured time per copy against its size in bytes
    /// (`link.measuredTimes`: the bus times single-engine copies by it).
    public var measuredCopies: CalibrationTable? {
        get { link.measuredTimes }
        set { link.measuredTimes = newValue }
    }
    /// For a calibrated profile, the measured time of one weight-streaming launch against
    /// the bytes it reads: replaces the attention roofline's memory term, since small
    /// launches reach less of the HBM bandwidth than large ones.
    public var streamCalibration: CalibrationTable?
    /// For a calibrated profile, the measured time of one weight-streaming launch over a
    /// model's attention block against the tokens of a step, per model preset name: a step of
    /// several tokens scales ``streamCalibration``'s one-token time by it (`gpu calibrate`
    /// measures moesim's CUDA-core kernel, whose time grows with tokens).
    public var attentionTokenCalibration: [String: CalibrationTable] = [:]
    /// For a calibrated profile, the host's time for one call that orders two streams (an event
    /// recorded on one, or waited for on another: `cuEventRecord`, `cuStreamWaitEvent`), ns: a
    /// concurrent-streams layer forks its streams from the compute stream and joins them back
    /// with such calls (``GPUCompute/concurrentExperts(layer:shards:streams:hostLaunchNs:)``).
    /// Presets have none (no datasheet gives it): their concurrent layers do not price them.
    public var streamEventNs: Nanoseconds?
    /// For a calibrated profile, how much slower copies ran alongside kernels than alone (a
    /// record; the bus model does not use it).
    public var copySlowdown: Double?
    /// For a calibrated profile, how much slower kernels ran alongside copies than alone:
    /// compute operations that start while a copy is moving take this factor longer.
    public var kernelSlowdown: Double?

    /// Creates a profile.
    public init(name: String, displayName: String, source: String, calibratedOn: String? = nil,
                hbmGBps: Double, peakTFLOPS: Double, memoryGiB: Double, memoryEfficiency: Double = 0.8,
                computeEfficiency: Double = 0.7, launchOverheadNs: Nanoseconds = 5_000, syncAfterKernelNs: Nanoseconds = 5_000,
                copyCallNs: Nanoseconds = 5_000, kernelsPerAttention: Int = 8,
                kernelsPerExpert: Int = 4, link: BusLink, hostMemoryGBps: Double = 100, hostTFLOPS: Double = 2,
                hostExpertOverheadNs: Nanoseconds = 20_000, expertCalibration: [String: CalibrationTable] = [:],
                groupedCalibration: [String: GroupedCalibration] = [:], concurrentCalibration: [String: GroupedCalibration] = [:]) {
        self.name = name
        self.displayName = displayName
        self.source = source
        self.calibratedOn = calibratedOn
        self.hbmGBps = hbmGBps
        self.peakTFLOPS = peakTFLOPS
        self.memoryGiB = memoryGiB
        self.memoryEfficiency = memoryEfficiency
        self.computeEfficiency = computeEfficiency
        self.launchOverheadNs = launchOverheadNs
        self.syncAfterKernelNs = syncAfterKernelNs
        self.copyCallNs = copyCallNs
        self.kernelsPerAttention = kernelsPerAttention
        self.kernelsPerExpert = kernelsPerExpert
        self.link = link
        self.hostMemoryGBps = hostMemoryGBps
        self.hostTFLOPS = hostTFLOPS
        self.hostExpertOverheadNs = hostExpertOverheadNs
        self.expertCalibration = expertCalibration
        self.groupedCalibration = groupedCalibration
        self.concurrentCalibration = concurrentCalibration
        streamCalibration = nil
        pageableH2DGBps = nil
        measuredPageableCopies = nil
        hostCalibratedOn = nil
        copySlowdown = nil
        kernelSlowdown = nil
    }

    /// The link copies take: ``link`` for copies from pinned memory; for copies from pageable
    /// memory, the same link at ``pageableH2DGBps`` with the measured pageable copy table in
    /// place of the pinned one (``measuredPageableCopies``, nil where not measured), or
    /// ``link`` itself where the profile has no pageable figure.
    public func copyLink(pageable: Bool) -> BusLink {
        guard pageable, let pageableH2DGBps else { return link }
        var pageableLink = link
        pageableLink.gbps = pageableH2DGBps
        pageableLink.measuredTimes = measuredPageableCopies
        return pageableLink
    }

    /// How every output names the profile: a preset's datasheet figures, a calibration ("calibrated
    /// on …"), or a profile file whose figures are its author's (under a name of its own, or an
    /// edited copy of a preset). The bus settings are left out of the comparison: sweeps and
    /// policies set them, and results report them on their own.
    /// A measured host is named too ("; host measured on …"), and so is each host expert
    /// table ("; qwen3-30b-a3b CPU experts timed with …").
    public var label: String {
        let experts = hostExpertCalibration.keys.sorted().map { "; \($0) CPU experts timed with \(hostExpertCalibration[$0]!.kernel)" }
        let host = (hostCalibratedOn.map { "; host measured on \($0)" } ?? "") + experts.joined()
        if let calibratedOn { return "\(name) (calibrated on \(calibratedOn)\(host))" }
        guard var preset = HardwareProfile.preset(named: name) else { return "\(name) (profile file: \(displayName), not calibrated\(host))" }
        preset.link = link
        if hostCalibratedOn != nil {
            preset.hostMemoryGBps = hostMemoryGBps
            preset.hostTFLOPS = hostTFLOPS
            preset.hostCalibratedOn = hostCalibratedOn
        }
        preset.hostExpertCalibration = hostExpertCalibration
        guard preset == self else { return "\(name) (edited copy of the preset: \(displayName), not calibrated\(host))" }
        return "\(name) (preset: \(displayName), datasheet figures\(host))"
    }
}
