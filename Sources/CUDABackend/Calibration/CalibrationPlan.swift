import OffloadSim
import TraceStore

/// What `moesim gpu calibrate` measures.
public struct CalibrationPlan: Sendable {
    /// Copy sizes, bytes (default 4 KiB to 1 GiB in steps of 4×).
    public var copySizes: [Int]
    /// Token counts of the expert FFN curves.
    public var tokenCounts: [Int]
    /// The models whose expert shapes are measured.
    public var models: [ModelPreset]
    /// Repetitions are chosen so that each point runs about this long, ns.
    public var targetNanoseconds: Double
    /// Experts per group of the grouped-kernel curves (those above a model's expert count are skipped).
    public var groupedExpertCounts: [Int]
    /// Concurrent streams of the concurrent-kernel curves (one expert kernel per stream).
    public var concurrentStreams: [Int]
    /// The most tokens a grouped-kernel or concurrent-kernel point runs in all (experts × tokens each): a batch of
    /// 256 sequences at top-8 routes 2,048 token-expert pairs.
    public var groupedMaxTokens: Int

    /// The default plan for `models`.
    public init(models: [ModelPreset], copySizes: [Int] = (0...9).map { 4_096 << (2 * $0) },
                tokenCounts: [Int] = [1, 2, 4, 8, 16, 32, 64, 128, 256], targetNanoseconds: Double = 20_000_000,
                groupedExpertCounts: [Int] = [1, 2, 4, 8, 16, 32, 64], concurrentStreams: [Int] = [1, 2, 4, 8],
                groupedMaxTokens: Int = 2_048) {
        self.models = models
        self.copySizes = copySizes
        self.tokenCounts = tokenCounts
        self.targetNanoseconds = targetNanoseconds
        self.groupedExpertCounts = groupedExpertCounts
        self.concurrentStreams = concurrentStreams
        self.groupedMaxTokens = groupedMaxTokens
    }
}

/// What a calibration measured on one GPU.
public struct CalibrationMeasurements: Sendable, Equatable {
    /// The GPU's name, compute capability and driver's CUDA version (e.g. 13000).
    public var gpuName: String
    public var computeCapability: String
    public var driverVersion: Int
    /// Mean time per pinned host-to-device copy, ns, by size in bytes.
    public var copies: [Int: Double]
    /// Bandwidth (GB/s) and per-copy latency (ns) fitted to `copies` (``BusFit``).
    public var h2dGBps: Double
    public var copyLatencyNs: Double
    /// Time per launch of back-to-back empty kernels, ns.
    public var launchGapNs: Double
    /// Rate at which the weight-streaming kernel reads 1 GiB of weights for one token, GB/s.
    public var streamGBps: Double
    /// Copy time and kernel time when both run at once, over each alone (≥ 1 means slower).
    public var copySlowdown: Double
    public var kernelSlowdown: Double
    /// Expert FFN time against tokens, per model preset name.
    public var experts: [String: CalibrationTable]
    /// Time of one weight-streaming launch (one token) against the bytes it reads, ns.
    public var stream: [Int: Double]
    /// Host round trip of a small device-to-host copy after a kernel, less the kernel's time, ns.
    public var syncAfterKernelNs: Double?
    /// Host time to issue one asynchronous host-to-device copy call, ns.
    public var copyCallNs: Double?
    /// Bandwidth of host-to-device copies from pageable memory, GB/s (``BusFit`` over the
    /// 16 and 64 MiB copies of ``pageableCopies``).
    public var pageableH2DGBps: Double?
    /// Mean time per copy from pageable host memory, ns, by size in bytes (each reading
    /// memory the CPU's caches do not hold).
    public var pageableCopies: [Int: Double]
    /// Grouped expert kernel time against experts and tokens, per model preset name.
    public var grouped: [String: GroupedCalibration]
    /// Time of k expert kernels on k concurrent streams against k and tokens as the host issues
    /// them, per model preset name.
    public var concurrent: [String: GroupedCalibration]
    /// The same with the GPU alone (queued behind a spin kernel), per model preset name.
    public var concurrentGPU: [String: GroupedCalibration]
    /// Host time of one event call between streams (a record or a wait), ns.
    public var streamEventNs: Double?
    /// The device's total memory as the driver reports it (`cuDeviceTotalMem`), bytes; a
    /// profile takes it where no preset gives the datasheet's.
    public var totalMemoryBytes: Int?
    /// moesim's weight-streaming kernel over each model's attention block against the tokens
    /// of a step, per model preset name.
    public var attentionTokens: [String: CalibrationTable]

    /// Creates measurements.
    public init(gpuName: String, computeCapability: String, driverVersion: Int, copies: [Int: Double], h2dGBps: Double,
                copyLatencyNs: Double, launchGapNs: Double, streamGBps: Double, copySlowdown: Double, kernelSlowdown: Double,
                experts: [String: CalibrationTable], stream: [Int: Double] = [:], syncAfterKernelNs: Double? = nil,
                copyCallNs: Double? = nil, pageableH2DGBps: Double? = nil, pageableCopies: [Int: Double] = [:], grouped: [String: GroupedCalibration] = [:],
                concurrent: [String: GroupedCalibration] = [:], concurrentGPU: [String: GroupedCalibration] = [:],
                streamEventNs: Double? = nil, totalMemoryBytes: Int? = nil,
                attentionTokens: [String: CalibrationTable] = [:]) {
        self.gpuName = gpuName
        self.computeCapability = computeCapability
        self.driverVersion = driverVersion
        self.copies = copies
        self.h2dGBps = h2dGBps
        self.copyLatencyNs = copyLatencyNs
        self.launchGapNs = launchGapNs
        self.streamGBps = streamGBps
        self.copySlowdown = copySlowdown
        self.kernelSlowdown = kernelSlowdown
        self.experts = experts
        self.stream = stream
        self.syncAfterKernelNs = syncAfterKernelNs
        self.copyCallNs = copyCallNs
        self.pageableH2DGBps = pageableH2DGBps
        self.pageableCopies = pageableCopies
        self.grouped = grouped
        self.concurrent = concurrent
        self.concurrentGPU = concurrentGPU
        self.streamEventNs = streamEventNs
        self.totalMemoryBytes = totalMemoryBytes
        self.attentionTokens = attentionTokens
    }

    /// The driver's CUDA version as "13.0".
    public var driverCUDA: String { "\(driverVersion / 1000).\(driverVersion % 1000 / 10)" }
}
