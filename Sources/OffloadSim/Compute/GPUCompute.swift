/// Time of the GPU's compute-stream operations (DESIGN.md §3): per layer the attention
/// block with its router, the always-resident shared experts, and each routed expert.
///
/// Each operation is a roofline, `launch × kernels + max(bytes / HBM, FLOPs / peak)`,
/// with the profile's achievable fractions of datasheet bandwidth and peak (Williams,
/// Waterman and Patterson, "Roofline", CACM 2009). A calibrated expert table in the
/// hardware profile replaces the routed-expert roofline for its model when the run's experts
/// are the bf16 experts it measured (``calibrationApplies(to:)``); a calibrated streaming
/// table times the attention block's weight reads, scaled for a step of several tokens by the
/// model's measured attention-against-tokens table where the profile has one. All results are
/// whole nanoseconds, rounded up; every call is O(1) (O(log n) with a table).
public final class GPUCompute: Sendable {
    /// The model being served.
    public let model: ModelCost
    /// The GPU.
    public let profile: HardwareProfile
    private let bytesPerNs: Double
    private let flopsPerNs: Double
    private let expertTable: CalibrationTable?
    private let groupedTable: GroupedCalibration?
    private let concurrentTable: GroupedCalibration?
    private let concurrentGPUTable: GroupedCalibration?
    private let streamTable: CalibrationTable?
    /// The model's measured attention-against-tokens table over its one-token time: the
    /// factor a step of several tokens scales the streamed attention by.
    private let attentionTokenScale: CalibrationTable?
    private let hostExpertTable: CalibrationTable?
    /// Factor by which a compute operation that starts while a copy is moving is slower
    /// (the profile's measured kernel slowdown; 1 for presets).
    public let copyContention: Double

    /// The cost model of `model` on `profile`.
    public init(model: ModelCost, profile: HardwareProfile) {
        self.model = model
        self.profile = profile
        bytesPerNs = profile.hbmGBps * profile.memoryEfficiency
        flopsPerNs = profile.peakTFLOPS * 1_000 * profile.computeEfficiency
        let measured = Self.calibrationApplies(to: model)
        expertTable = measured ? profile.expertCalibration[model.name] : nil
        groupedTable = measured ? profile.groupedCalibration[model.name] : nil
        concurrentTable = measured ? profile.concurrentCalibration[model.name] : nil
        concurrentGPUTable = measured ? profile.concurrentGPUCalibration[model.name] : nil
        streamTable = profile.streamCalibration
        attentionTokenScale = profile.attentionTokenCalibration[model.name].flatMap { table in
            table.nanoseconds[0] > 0 ? CalibrationTable(tokens: table.tokens, nanoseconds: table.nanoseconds.map { $0 / table.nanoseconds[0] }) : nil
        }
        hostExpertTable = profile.hostExpertCalibration[model.name].flatMap { $0.applies(to: model) ? $0.table : nil }
        copyContention = max(1, profile.kernelSlowdown ?? 1)
    }

    /// Whether a profile's calibrated expert tables for `model` time its experts: `gpu
    /// calibrate` measured moesim's kernels over the preset's expert weights in bf16 (2 bytes a
    /// parameter, ``ModelCost/expertParameters``), so experts stored otherwise (fp32, a
    /// quantised trace's own sizes) are timed by the roofline instead.
    public static func calibrationApplies(to model: ModelCost) -> Bool {
        model.expertBytes.allSatisfy { $0 == 2 * model.expertParameters }
    }

    /// Whether routed-expert times come from a measured table rather than the roofline.
    public var usesCalibratedExperts: Bool { expertTable != nil }
    /// Whether grouped kernels' times come from a measured table rather than the roofline.
    public var usesCalibratedGroups: Bool { groupedTable != nil }
    /// Whether concurrent-stream experts' times come from a measured table rather than the roofline.
    public var usesCalibratedConcurrency: Bool { concurrentTable != nil || concurrentGPUTable != nil }
    /// Whether CPU experts' times come from the profile's host expert table (the engine's own
    /// kernel, measured) rather than the host roofline.
    public var usesCalibratedHostExperts: Bool { hostExpertTable != nil }

    /// Attention and router of one layer for a step of `tokens` tokens that read
    /// `kvTokens` cached tokens and compute `scorePairs` query-key pairs, ns.
    public func attentionNanoseconds(tokens: Int, kvTokens: Int, scorePairs: Int) -> Nanoseconds {
        attention(tokens: tokens, kvTokens: kvTokens, scorePairs: scorePairs).ns
    }

    /// ``attentionNanoseconds(tokens:kvTokens:scorePairs:)`` and the launch time it holds
    /// (0 when the measured streaming time decides it: that time holds its own gaps), ns.
    public func attention(tokens: Int, kvTokens: Int, scorePairs: Int) -> (ns: Nanoseconds, launches: Nanoseconds) {
        let bytes = Double(model.attentionBytes) + Double(kvTokens) * Double(model.kvBytesPerToken)
        let flops = 2 * Double(model.attentionParameters) * Double(tokens) + 4 * Double(scorePairs) * Double(model.queryWidth)
        let launches = Nanoseconds(profile.kernelsPerAttention) * profile.launchOverheadNs
        if let streamTable {
            // The measured launch time already holds its launch gap and its achieved bandwidth at
            // this size; for several tokens, it grows as the kernel measured over this model's
            // attention block grew (moesim's CUDA-core kernel; the roofline below is a tensor core's).
            var streamed = streamTable.time(tokens: Int(bytes))
            if tokens > 1, let attentionTokenScale { streamed *= attentionTokenScale.time(tokens: tokens) }
            let measured = Units.roundUp(streamed)
            let computed = launches + Units.roundUp(flops / flopsPerNs)
            return measured >= computed ? (measured, 0) : (computed, launches)
        }
        return (launches + Units.roundUp(max(bytes / bytesPerNs, flops / flopsPerNs)), launches)
    }

    /// One routed expert of `layer` applied to `tokens` tokens, ns.
    public func expertNanoseconds(layer: Int, tokens: Int) -> Nanoseconds {
        if let expertTable { return Units.roundUp(expertTable.time(tokens: tokens)) }
        return Nanoseconds(profile.kernelsPerExpert) * profile.launchOverheadNs + expertWork(layer: layer, tokens: tokens)
    }

    /// Several experts of `layer` computed by one grouped kernel (a fused MoE kernel, or the
    /// grouped GEMMs of expert-parallel engines), each for its number of tokens in `shards`,
    /// ns: `launches` kernel launches (default: one expert's, ``HardwareProfile/kernelsPerExpert``)
    /// plus each expert's roofline. A calibrated expert table does not apply: it measured
    /// moesim's per-expert kernels, not a grouped one. A calibrated grouped table does: the
    /// measured grouped kernel at the shards' count with every expert at the largest shard's
    /// tokens (moesim's grouped kernel gives each expert of a group the same token count), plus
    /// the launches beyond the ``HardwareProfile/kernelsPerExpert`` it was measured with.
    public func groupedExpertsNanoseconds(layer: Int, shards: [Int], launches: Int? = nil) -> Nanoseconds {
        guard !shards.isEmpty else { return 0 }
        let launchCount = launches ?? profile.kernelsPerExpert
        if let groupedTable {
            let extra = Nanoseconds(max(0, launchCount - profile.kernelsPerExpert)) * profile.launchOverheadNs
            return extra + Units.roundUp(groupedTable.time(experts: shards.count, tokens: shards.max()!))
        }
        let launched = Nanoseconds(launchCount) * profile.launchOverheadNs
        return shards.reduce(launched) { $0 + expertWork(layer: layer, tokens: $1) }
    }

    /// The experts of `layer`, each for its number of tokens in `shards`, launched round-robin
    /// on `streams` CUDA streams that run concurrently, ns
    /// (``concurrentExperts(layer:shards:streams:)``'s time).
    public func concurrentExpertsNanoseconds(layer: Int, shards: [Int], streams: Int) -> Nanoseconds {
        concurrentExperts(layer: layer, shards: shards, streams: streams).ns
    }

    /// The experts of `layer`, each for its number of tokens in `shards`, launched round-robin
    /// on `streams` CUDA streams that run concurrently: their time and the part of it in which
    /// no kernel runs, ns. Three bounds, the time the largest:
    /// - Kernels running at once share the HBM bandwidth and the SMs, so together they take at
    ///   least the roofline over their summed bytes and FLOPs (Williams, Waterman and Patterson,
    ///   "Roofline", CACM 2009, applied to the concurrent work) after one expert's launches.
    ///   Sharing is taken as perfect: a kernel that fills every SM leaves no room for another,
    ///   which a roofline does not see.
    /// - Each stream runs its own experts one after another, each after its launches, at best
    ///   at its own roofline, or at its measured time alone where the profile has an expert
    ///   table (``expertNanoseconds(layer:tokens:)``: launch gaps inside it). The third bound's
    ///   schedule runs each stream in that order too, so it holds this one.
    /// - One host thread issues every launch, one after another, each in `hostLaunchNs` (by
    ///   default the profile's launch time — `gpu calibrate` times empty kernels launched back to back: the
    ///   host's issue rate, or the GPU's per-kernel time where that is slower — or a
    ///   framework's dispatch of an eager op, ``FrameworkHostCosts/launchNs``): an
    ///   expert's kernels start no earlier than the host has issued its launches and those of
    ///   every expert before it. At one token an expert's launches take about as long as its
    ///   kernels (an H200's calibration, 2026-12-04), so the host's issue rate, not the GPU's
    ///   sharing, bounds a layer of many small experts. Where the profile prices the calls that
    ///   order streams (``HardwareProfile/streamEventNs``) the host also forks the streams it
    ///   uses (an event recorded, then waited for by each stream before its first expert) and
    ///   joins them after the last (an event recorded on each, waited for by the compute
    ///   stream), as ``ConcurrentLanes`` in the GPU replay does; the layer ends no earlier than
    ///   those joins are issued.
    /// The launch gaps, in which no kernel runs, are the time outside the union of the kernels'
    /// spans in that schedule (each kernel at its own roofline), or outside the summed work
    /// where the first bound decides (the kernels then run slower for sharing): one expert's
    /// launches when the GPU is the bound; every launch on one stream; the host's issue time
    /// less the kernels where the host is. One stream gives the serial sum, as a single-stream
    /// engine runs them (plus the fork's two calls where the profile prices them). With an
    /// expert table, an expert's measured time holds its launches: it may start once the host
    /// starts issuing them and ends no earlier than they are issued.
    /// O(experts log experts).
    ///
    /// A calibrated concurrency table replaces the first two bounds: the shards run in waves of
    /// `streams` consecutive kernels, each wave taking the measured time of that many kernels on
    /// as many streams at the wave's largest token count. Timed with the GPU alone
    /// (``HardwareProfile/concurrentGPUCalibration``), a wave ends no earlier than its
    /// predecessor's end plus its own time, nor than the host has issued its last expert's
    /// launches (and those of every expert before it) plus that expert's time alone; the time
    /// the host's issue adds is the launch gaps. Timed as issued
    /// (``HardwareProfile/concurrentCalibration``, the host's issue rate in it), the waves'
    /// times add up and no launch gaps are separated from them.
    public func concurrentExperts(layer: Int, shards: [Int], streams: Int, hostLaunchNs: Nanoseconds? = nil) -> (ns: Nanoseconds, launches: Nanoseconds) {
        guard !shards.isEmpty else { return (0, 0) }
        let issue = Double(Nanoseconds(profile.kernelsPerExpert) * (hostLaunchNs ?? profile.launchOverheadNs))
        let event = Double(profile.streamEventNs ?? 0), used = min(max(1, streams), shards.count)
        // When the host has issued expert `index`'s launches: the fork, each stream's wait before
        // its first expert, and every launch so far; and when it has issued the joins.
        func issued(_ index: Int) -> Double { event + Double(index + 1) * issue + Double(min(index + 1, used)) * event }
        let joined = issued(shards.count - 1) + Double(2 * used) * event
        if let concurrentGPUTable {
            let width = max(1, streams)
            var waves = 0.0, end = 0.0
            for first in stride(from: 0, to: shards.count, by: width) {
                let last = min(first + width, shards.count) - 1
                let wave = concurrentGPUTable.time(experts: last - first + 1, tokens: shards[first...last].max()!)
                waves += wave
                end = max(end + wave, issued(last) + concurrentGPUTable.time(experts: 1, tokens: shards[last]))
            }
            let ns = Units.roundUp(max(end, joined))
            return (ns, ns - Units.roundUp(waves))
        }
        if let concurrentTable {
            let width = max(1, streams)
            let ns = stride(from: 0, to: shards.count, by: width).reduce(Nanoseconds(0)) { total, first in
                let wave = shards[first..<min(first + width, shards.count)]
                return total + Units.roundUp(concurrentTable.time(experts: wave.count, tokens: wave.max()!))
            }
            return (ns, 0)
        }
        // Each expert alone: its measured time where the profile has an expert table (its launch
        // gaps inside it, as the serial timeline takes it), else its launches and its roofline.
        let launches = expertTable == nil ? Double(Nanoseconds(profile.kernelsPerExpert) * profile.launchOverheadNs) : 0
        var bytes = 0.0, flops = 0.0
        let width = max(1, min(streams, shards.count))
        // When each stream's last kernel ends, none starting before the host issued it (which
        // also bounds the stream's own chain of launches and kernels), and the kernels' spans.
        var hostBound = Array(repeating: 0.0, count: width)
        var spans: [(start: Double, end: Double)] = []
        spans.reserveCapacity(shards.count)
        for (index, tokens) in shards.enumerated() {
            let expertBytes = Double(model.expertBytes[layer]), expertFlops = 2 * Double(model.expertParameters) * Double(tokens)
            let work = expertTable.map { $0.time(tokens: tokens) } ?? max(expertBytes / bytesPerNs, expertFlops / flopsPerNs)
            bytes += expertBytes
            flops += expertFlops
            // The kernels start once the host has issued their launches; a measured time, which
            // holds the launches, once the host starts issuing them, and it ends no earlier
            // than they are all issued.
            let start = max(hostBound[index % width] + launches, expertTable == nil ? issued(index) : issued(index) - issue)
            hostBound[index % width] = max(start + work, issued(index))
            spans.append((start, start + work))
        }
        let sharedWork = max(bytes / bytesPerNs, flops / flopsPerNs)
        let ns = max(Units.roundUp(launches + sharedWork), Units.roundUp(max(hostBound.max()!, joined)))
        // No kernel runs outside the spans' union; under the first bound the kernels run slower
        // for sharing, so they fill at least the summed work.
        var busy = 0.0, reach = 0.0
        for span in spans.sorted(by: { $0.start < $1.start }) where span.end > reach {
            busy += span.end - max(span.start, reach)
            reach = span.end
        }
        return (ns, max(0, ns - Units.roundUp(max(busy, sharedWork))))
    }

    /// One routed expert's roofline without launches: max(weight bytes / HBM, FLOPs / peak), ns.
    private func expertWork(layer: Int, tokens: Int) -> Nanoseconds {
        let flops = 2 * Double(model.expertParameters) * Double(tokens)
        return Units.roundUp(max(Double(model.expertBytes[layer]) / bytesPerNs, flops / flopsPerNs))
    }

    /// All shared experts of a layer applied to `tokens` tokens, ns (0 without shared experts).
    /// With a calibrated expert table, each shared expert (the routed experts' shape in the
    /// presets) costs a routed expert's measured time.
    public func sharedExpertsNanoseconds(tokens: Int) -> Nanoseconds {
        guard model.sharedExperts > 0 else { return 0 }
        if let expertTable { return Nanoseconds(model.sharedExperts) * Units.roundUp(expertTable.time(tokens: tokens)) }
        let flops = 2 * Double(model.sharedExpertBytes / 2) * Double(tokens) * Double(model.sharedExperts)
        return roofline(bytes: Double(model.sharedExpertBytes * model.sharedExperts), flops: flops,
                        kernels: profile.kernelsPerExpert)
    }

    /// One routed expert of `layer` computed on the host CPU from host memory for `tokens`
    /// tokens, ns: the profile's per-call overhead (when `overhead`) plus the profile's host
    /// expert table where it applies (``HostExpertCalibration``), else a roofline over host
    /// bandwidth and FLOPs.
    public func cpuExpertNanoseconds(layer: Int, tokens: Int, overhead: Bool = true) -> Nanoseconds {
        let fixed = overhead ? profile.hostExpertOverheadNs : 0
        if let hostExpertTable { return fixed + Units.roundUp(hostExpertTable.time(tokens: tokens)) }
        let flops = 2 * Double(model.expertParameters) * Double(tokens)
        return fixed + Units.roundUp(max(Double(model.expertBytes[layer]) / profile.hostMemoryGBps, flops / (profile.hostTFLOPS * 1_000)))
    }

    private func roofline(bytes: Double, flops: Double, kernels: Int) -> Nanoseconds {
        Nanoseconds(kernels) * profile.launchOverheadNs + Units.roundUp(max(bytes / bytesPerNs, flops / flopsPerNs))
    }
}
