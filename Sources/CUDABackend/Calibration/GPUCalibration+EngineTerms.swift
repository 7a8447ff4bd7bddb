import OffloadSim
import TraceStore

/// The serving-engine terms a GPU can tell (issue 13): what the host pays for a sync on a
/// small device-to-host copy after a kernel and for issuing one copy call — the operations
/// ``HostCost`` counts in an engine file — and a grouped expert kernel's time against experts
/// and tokens, which layer-barrier engines run once per layer; and (issue 15) how expert
/// kernels on concurrent streams share the GPU, which concurrent-streams engines rely on.
extension GPUCalibration {
    /// Host-timed repetitions of a host-side measurement.
    static let hostRepetitions = 200
    /// Bytes the host reads back after a kernel: a batch's top-k ids are a few dozen bytes.
    static let syncBytes = 64
    /// Bytes of each copy whose issue is timed: small, so that the copy queue never fills.
    static let issuedCopyBytes = 4_096

    /// The host round trip of an empty kernel followed by a device-to-host copy of
    /// ``syncBytes`` on the same stream and a wait on the stream — as an engine reads the
    /// routed ids (`row_indices.cpu()`) — less the kernel's own time on the GPU (`kernelNs`,
    /// the launch gap), ns. The fastest of three sets of ``hostRepetitions``.
    func syncAfterKernelNs(stream: CUDAStream, kernelNs: Double) throws -> Double {
        let ids = try context.allocateDevice(Self.syncBytes)
        let landing = try context.allocatePinned(Self.syncBytes)
        func roundTrip() throws {
            try kernels.empty(on: stream)
            try stream.copy(Self.syncBytes, from: ids, to: landing)
            try stream.synchronize()
        }
        try roundTrip()
        let roundTripNs = try fastest {
            let start = hostClock()
            for _ in 0..<Self.hostRepetitions { try roundTrip() }
            return (hostClock() - start) / Double(Self.hostRepetitions)
        }
        return max(0, roundTripNs - kernelNs)
    }

    /// The host time to issue one asynchronous copy of ``issuedCopyBytes`` from pinned memory
    /// (the call's return, not the copy), ns: ``hostRepetitions`` calls issued back to back on
    /// an idle stream; the fastest of three sets.
    func copyCallNs(stream: CUDAStream, host: PinnedBuffer, device: DeviceBuffer) throws -> Double {
        try fastest {
            try stream.synchronize()
            let start = hostClock()
            for _ in 0..<Self.hostRepetitions { try stream.copy(Self.issuedCopyBytes, from: host, to: device) }
            let issued = hostClock() - start
            try stream.synchronize()
            return issued / Double(Self.hostRepetitions)
        }
    }

    /// The host time of one call that orders two streams, ns: ``hostRepetitions`` pairs of an
    /// event recorded on `stream` and waited for on another, issued back to back (how
    /// ``ConcurrentLanes`` forks and joins a concurrent layer's streams); the fastest of three sets.
    func streamEventNs(stream: CUDAStream) throws -> Double {
        let other = try context.makeStream()
        let event = try context.makeEvent(timing: false)
        return try fastest {
            try stream.synchronize()
            let start = hostClock()
            for _ in 0..<Self.hostRepetitions {
                try stream.record(event)
                try other.wait(for: event)
            }
            let issued = hostClock() - start
            try other.synchronize()
            return issued / Double(2 * Self.hostRepetitions)
        }
    }

    /// Sizes of the copies from pageable memory that are timed: from a small expert's weight
    /// matrix to a layer's (the driver stages these copies, and their rate depends on size).
    static let pageableCopyBytes = [64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]
    /// Of those, the large ones whose slope gives `pageable_h2d_gbps`: the per-copy cost does
    /// not blur it.
    static let pageableFitBytes = 16 << 20
    /// Host memory the copies from pageable memory read in turn: more than a CPU's caches hold,
    /// so that every copy reads DRAM, as an engine's weights (gigabytes) do.
    static let pageableSourceBytes = 1 << 30

    /// Copies from pageable memory: the time of a copy of each of ``pageableCopyBytes`` (ns,
    /// timed between events on `stream`, the fastest of three sets of four), each copy reading
    /// the next stretch of a ``pageableSourceBytes`` source, and the bandwidth fitted to the
    /// large ones as the pinned bus is (``BusFit``; nil when their times do not grow with
    /// size). An engine that never pins its weights copies at these times, not the pinned ones.
    func pageableCopies(stream: CUDAStream, timer: GPUTimer, device: DeviceBuffer) throws -> (table: [Int: Double], gbps: Double?) {
        let sizes = Self.pageableCopyBytes.filter { $0 <= device.bytes }
        guard let largest = sizes.max() else { return ([:], nil) }
        let source = PageableBuffer(bytes: max(Self.pageableSourceBytes, 2 * largest))
        var cursor = 0
        func copy(_ size: Int) throws {
            if cursor + size > source.bytes { cursor = 0 }
            try stream.copy(size, from: source, sourceOffset: cursor, to: device)
            cursor += size
        }
        var table: [Int: Double] = [:]
        for size in sizes {
            try copy(size)
            table[size] = try fastest { try timer.time(stream, repetitions: 4) { _ in try copy(size) } }
            log("pageable copy \(size) B: \(table[size]!) ns")
        }
        let large = table.filter { $0.key >= Self.pageableFitBytes }.map { (bytes: $0.key, nanoseconds: $0.value) }
        return (table, large.count >= 2 ? BusFit.fit(large)?.gbps : nil)
    }

    /// moesim's grouped SwiGLU kernel (``MoesimKernels/groupedExpertFFN(addresses:addressOffset:experts:hidden:intermediate:tokens:activations:on:)``)
    /// for `model`'s expert shape: for each of the plan's expert counts up to the model's
    /// experts, time against tokens per expert (points with more than the plan's
    /// ``CalibrationPlan/groupedMaxTokens`` in all are skipped). Groups rotate over enough
    /// copies of the expert (≥ 512 MiB, and more than the largest group) that L2 does not hold
    /// a group's weights from one launch to the next. nil when no count applies.
    func groupedCurve(_ model: ModelPreset, stream: CUDAStream, timer: GPUTimer) throws -> GroupedCalibration? {
        let counts = plan.groupedExpertCounts.filter { $0 <= model.experts && $0 <= plan.groupedMaxTokens }
        guard let most = counts.max() else { return nil }
        let (hidden, intermediate) = (model.hiddenSize, model.kernelIntermediateSize)
        let (weights, expertBytes, copies) = try expertCopies(model, atLeast: most + 1)
        let activations = try ExpertActivations(context: context, maxTokens: plan.groupedMaxTokens, width: hidden,
                                                intermediate: intermediate, rows: hidden)
        return try curves(counts, of: "\(model.name) grouped kernel, experts", stream: stream, timer: timer) { experts in
            // Rotation r holds the gate/up then the down addresses of experts r·E … r·E + E − 1 (mod copies).
            let rotations = max(2, copies / experts)
            var addresses: [UInt64] = []
            for rotation in 0..<rotations {
                let bases = (0..<experts).map { UInt64(weights.address) + UInt64(((rotation * experts + $0) % copies) * expertBytes) }
                addresses += bases + bases.map { $0 + UInt64(4 * hidden * intermediate) }
            }
            let table = try context.deviceBuffer(holding: addresses, on: stream)
            return (rotations, { tokens, index in
                try kernels.groupedExpertFFN(addresses: table, addressOffset: (index % rotations) * 16 * experts, experts: experts,
                                             hidden: hidden, intermediate: intermediate, tokens: tokens, activations: activations, on: stream)
            })
        }
    }

    /// moesim's expert FFN (three launches) on k concurrent streams, one expert per stream,
    /// forked from `stream` by an event and joined back to it, for each of the plan's stream
    /// counts: the k experts' time against tokens each (points over the plan's
    /// ``CalibrationPlan/groupedMaxTokens`` in all are skipped), timed twice. `issued`: queued
    /// as the host issues them, so that where an expert's launches take about as long as its
    /// kernels (one token on an H200, 2026-12-04) the host's issue rate is in the time. `gpu`:
    /// the same work queued behind a spin kernel while the host issues it (the blocking-kernel
    /// method of NVIDIA's nvbench), the GPU alone; a point the host could not queue within the
    /// spin, twice lengthened, is left out. Against one stream they say how much of the GPU
    /// one expert kernel leaves to the others — the SM-occupancy term a roofline with perfect
    /// sharing does not see. Experts rotate over copies as in ``groupedCurve(_:stream:timer:)``.
    func concurrentCurves(_ model: ModelPreset, stream: CUDAStream, timer: GPUTimer) throws -> (issued: GroupedCalibration?, gpu: GroupedCalibration?) {
        let counts = plan.concurrentStreams.filter { $0 >= 1 && $0 <= plan.groupedMaxTokens }
        guard let most = counts.max() else { return (nil, nil) }
        let (hidden, intermediate) = (model.hiddenSize, model.kernelIntermediateSize)
        let (weights, expertBytes, copies) = try expertCopies(model, atLeast: most + 1)
        let maxTokens = max(1, plan.tokenCounts.filter { $0 <= plan.groupedMaxTokens }.max() ?? 1)
        let lanes = try ConcurrentLanes(context: context, count: most, maxTokens: maxTokens, width: hidden, intermediate: intermediate, rows: hidden)
        func rotations(_ streams: Int) -> Int { max(2, copies / streams) }
        func run(_ streams: Int, tokens: Int, index: Int) throws {
            try lanes.run(streams, width: streams, after: stream) { lane, laneStream, activations in
                try kernels.expertFFN(weights, offset: ((index * streams + lane) % copies) * expertBytes, hidden: hidden,
                                      intermediate: intermediate, tokens: tokens, activations: activations, on: laneStream)
            }
        }
        let what = "\(model.name) experts on concurrent streams, streams"
        let issued = try curves(counts, of: what, stream: stream, timer: timer) { streams in
            (rotations(streams), { tokens, index in try run(streams, tokens: tokens, index: index) })
        }
        var alone: [Int: CalibrationTable] = [:]
        for streams in counts {
            var tokenCounts: [Int] = []
            var times: [Double] = []
            for tokens in plan.tokenCounts where streams * tokens <= plan.groupedMaxTokens {
                guard let asIssued = issued?.time(experts: streams, tokens: tokens) else { continue }
                let label = "\(what) \(streams) × \(tokens) tokens"
                guard let gpu = try gpuAlone(label, asIssued: asIssued, repetitions: rotations(streams), stream: stream, timer: timer,
                                             { try run(streams, tokens: tokens, index: $0) }) else { continue }
                tokenCounts.append(tokens)
                times.append(gpu)
            }
            if !tokenCounts.isEmpty { alone[streams] = Self.nonDecreasing(tokens: tokenCounts, times) }
        }
        return (issued, GroupedCalibration(alone))
    }

    /// The fastest of three timings of `repetitions` runs of `body` queued behind a spin kernel
    /// of twice their time as issued (`asIssued`, ns each) plus 1 ms, at most 50 ms: the GPU alone,
    /// ns. Where the host did not queue them all within the spin, once more behind a spin twice
    /// as long; nil (logged) where it still did not.
    private func gpuAlone(_ label: String, asIssued: Double, repetitions: Int, stream: CUDAStream, timer: GPUTimer,
                          _ body: (Int) throws -> Void) throws -> Double? {
        var hold = Int(min(50e6, 2 * asIssued * Double(repetitions) + 1e6))
        for _ in 0..<2 {
            let passes = try (0..<3).map { _ in
                try timer.timeQueued(stream, kernels: kernels, holdNanoseconds: hold, repetitions: repetitions, hostClock: hostClock, body)
            }
            if passes.allSatisfy({ $0.hostQueue < Double(hold) }) {
                let gpu = passes.map(\.gpu).min()!
                log("\(label), the GPU alone (queued behind a \(hold) ns spin): \(gpu) ns; as issued: \(asIssued) ns")
                return gpu
            }
            hold *= 2
        }
        log("\(label): not queued within a \(hold / 2) ns spin; left out of the GPU-alone table")
        return nil
    }

    /// For each of `counts`, the time of the work `prepare` sets up for that count — how many
    /// rotations it cycles through, and a body for a token count and a rotation index — against
    /// the plan's token counts (those with at most ``CalibrationPlan/groupedMaxTokens`` in all):
    /// one untimed run, then the fastest of three timings of at least every rotation once.
    private func curves(_ counts: [Int], of what: String, stream: CUDAStream, timer: GPUTimer,
                        prepare: (Int) throws -> (rotations: Int, run: (Int, Int) throws -> Void)) throws -> GroupedCalibration? {
        var tables: [Int: CalibrationTable] = [:]
        for count in counts {
            let (rotations, body) = try prepare(count)
            var tokenCounts: [Int] = []
            var times: [Double] = []
            for tokens in plan.tokenCounts where count * tokens <= plan.groupedMaxTokens {
                let run = { (index: Int) throws in try body(tokens, index) }
                try run(0)
                let once = try timer.time(stream, repetitions: rotations, run)
                tokenCounts.append(tokens)
                times.append(try fastest { try timer.time(stream, repetitions: max(rotations, repetitionsFor(once)), run) })
                log("\(what) \(count) × \(tokens) tokens: \(times.last!) ns")
            }
            if !tokenCounts.isEmpty { tables[count] = Self.nonDecreasing(tokens: tokenCounts, times) }
        }
        return GroupedCalibration(tables)
    }
}
