import OffloadSim
import TraceStore

import Dispatch

/// The measurements behind `moesim gpu calibrate` (issue 6; DESIGN.md §5): copy time
/// against size, launch gap, achieved weight-streaming bandwidth, copy/kernel contention
/// and expert FFN time against tokens for each model's expert shape; and the terms of the
/// serving-engine models (issue 13): the host's sync on a small device-to-host copy after a
/// kernel, the host's cost of issuing a copy call, the bandwidth of copies from pageable
/// memory, a grouped expert kernel against experts
/// and tokens, and expert kernels on concurrent streams (issue 15; ``GPUCalibration+EngineTerms.swift``).
///
/// Every GPU time is the mean of back-to-back repetitions between two CUDA events on one
/// stream, after one untimed warm-up run; experts rotate over enough copies of their
/// weights (≥ 512 MiB in all) that L2 does not hold them between launches. Host times are
/// read from `hostClock` around the host's calls.
public struct GPUCalibration {
    let context: CUDAContext
    let kernels: MoesimKernels
    let plan: CalibrationPlan
    let log: (String) -> Void
    let hostClock: () -> Double

    /// A calibration of `context`'s GPU; `log` receives a line per measurement; `hostClock`
    /// reads the host's monotonic time in ns (default: the system's uptime clock).
    public init(context: CUDAContext, kernels: MoesimKernels, plan: CalibrationPlan, log: @escaping (String) -> Void = { _ in },
                hostClock: @escaping () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) }) {
        self.context = context
        self.kernels = kernels
        self.plan = plan
        self.log = log
        self.hostClock = hostClock
    }

    /// Runs every measurement of the plan.
    public func measure() throws -> CalibrationMeasurements {
        let stream = try context.makeStream()
        let timer = try GPUTimer(context: context)
        let largest = plan.copySizes.max() ?? 1 << 30
        let host = try context.allocatePinned(largest)
        let device = try context.allocateDevice(largest)

        // Copies are issued as a serving loop (and `gpu validate`) issues them: each after a
        // wait on an event of the compute stream and followed by an event of its own.
        let computeSide = try context.makeStream()
        let decided = try context.makeEvent(timing: false)
        let copied = try context.makeEvent(timing: false)
        try computeSide.record(decided)
        func issueCopy(_ size: Int) throws {
            try stream.wait(for: decided)
            try stream.copy(size, from: host, to: device)
            try stream.record(copied)
        }
        var copies: [Int: Double] = [:]
        for size in plan.copySizes {
            try issueCopy(size)
            let first = try timer.time(stream, repetitions: 1) { _ in try issueCopy(size) }
            let repetitions = repetitionsFor(first)
            copies[size] = try fastest { try timer.time(stream, repetitions: repetitions) { _ in try issueCopy(size) } }
            log("copy \(size) B: \(copies[size]!) ns (\(repetitions)×)")
        }
        guard let fit = BusFit.fit(copies.map { ($0.key, $0.value) }) else {
            throw CUDAError.call("calibration", code: -1, message: "copy times do not grow with size; cannot fit the bus")
        }
        log("bus fit: \(fit.gbps) GB/s, latency \(fit.latencyNs) ns")

        try kernels.empty(on: stream)
        let launchGap = try timer.time(stream, repetitions: 2_000) { _ in try kernels.empty(on: stream) }
        log("launch gap: \(launchGap) ns")
        let syncAfterKernel = try syncAfterKernelNs(stream: stream, kernelNs: launchGap)
        log("sync on a small device-to-host copy after a kernel: \(syncAfterKernel) ns")
        let copyCall = try copyCallNs(stream: stream, host: host, device: device)
        log("host time per copy call: \(copyCall) ns")
        let streamEvent = try streamEventNs(stream: stream)
        log("host time per event call between streams: \(streamEvent) ns")
        let (pageableTable, pageableGBps) = try pageableCopies(stream: stream, timer: timer, device: device)
        log("copies from pageable memory: \(pageableGBps.map { "\($0) GB/s" } ?? "not fitted")")

        let width = 4_096
        let streamBytes = min(largest, 1 << 30)
        let activations = try ExpertActivations(context: context, maxTokens: plan.tokenCounts.max() ?? 1, width: width,
                                                intermediate: plan.models.map(\.kernelIntermediateSize).max() ?? width,
                                                rows: max(streamBytes / (2 * width), plan.models.map(\.hiddenSize).max() ?? width,
                                                          plan.models.map { Self.attentionRows($0) }.max() ?? 0))
        func streamOnce(_ s: CUDAStream) throws {
            try kernels.streamWeights(device, bytes: streamBytes, width: width, tokens: 1, activations: activations, on: s)
        }
        try streamOnce(stream)
        let streamNs = try timer.time(stream, repetitions: 10) { _ in try streamOnce(stream) }
        let streamGBps = Double(streamBytes / (2 * width) * 2 * width) / streamNs
        log("weight streaming: \(streamGBps) GB/s")
        var streamCurve: [Int: Double] = [:]
        for size in plan.copySizes where size >= 256 << 10 && size <= streamBytes {
            // Rotate over the buffer so that L2 does not serve a small launch's weights again.
            let regions = max(1, streamBytes / size)
            func launch(_ index: Int) throws {
                try kernels.rows(device, offset: (index % regions) * size, rows: size / (2 * width), columns: width,
                                 input: activations.input, tokens: 1, output: activations.output, on: stream)
            }
            try launch(0)
            let once = try timer.time(stream, repetitions: min(regions, 8), launch)
            streamCurve[size] = try fastest { try timer.time(stream, repetitions: max(regions, repetitionsFor(once)), launch) }
            log("weight streaming \(size) B: \(streamCurve[size]!) ns")
        }

        let (copySlowdown, kernelSlowdown) = try contention(host: host, device: device, kernel: streamOnce, kernelNs: streamNs,
                                                            copyBytes: min(largest, 256 << 20), copyNs: copies[min(largest, 256 << 20)] ?? fit.latencyNs)
        log("contention: copies ×\(copySlowdown), kernels ×\(kernelSlowdown)")

        var experts: [String: CalibrationTable] = [:]
        var attentionTokens: [String: CalibrationTable] = [:]
        var grouped: [String: GroupedCalibration] = [:]
        var concurrent: [String: GroupedCalibration] = [:]
        var concurrentGPU: [String: GroupedCalibration] = [:]
        for model in plan.models {
            experts[model.name] = try expertCurve(model, stream: stream, timer: timer, activations: activations)
            attentionTokens[model.name] = try attentionTokenCurve(model, weights: device, stream: stream, timer: timer, activations: activations)
            grouped[model.name] = try groupedCurve(model, stream: stream, timer: timer)
            (concurrent[model.name], concurrentGPU[model.name]) = try concurrentCurves(model, stream: stream, timer: timer)
        }
        return CalibrationMeasurements(gpuName: context.deviceName, computeCapability: context.computeCapability,
                                       driverVersion: try context.driver.driverVersion(), copies: copies, h2dGBps: fit.gbps,
                                       copyLatencyNs: fit.latencyNs, launchGapNs: launchGap, streamGBps: streamGBps,
                                       copySlowdown: copySlowdown, kernelSlowdown: kernelSlowdown, experts: experts,
                                       stream: streamCurve, syncAfterKernelNs: syncAfterKernel, copyCallNs: copyCall,
                                       pageableH2DGBps: pageableGBps, pageableCopies: pageableTable, grouped: grouped,
                                       concurrent: concurrent, concurrentGPU: concurrentGPU, streamEventNs: streamEvent, totalMemoryBytes: context.totalMemory,
                                       attentionTokens: attentionTokens)
    }

    /// The fastest of three timings: interruptions (clock changes, other tenants) only add time.
    func fastest(_ measure: () throws -> Double) throws -> Double {
        try (0..<3).map { _ in try measure() }.min()!
    }

    func repetitionsFor(_ once: Double) -> Int {
        max(3, min(1_000, Int(plan.targetNanoseconds / max(once, 1))))
    }

    /// Copies on one stream and weight-streaming kernels on another, first alone then
    /// together, each side sized to about 4 copies' time; returns the slowdowns.
    private func contention(host: PinnedBuffer, device: DeviceBuffer, kernel: (CUDAStream) throws -> Void, kernelNs: Double,
                            copyBytes: Int, copyNs: Double) throws -> (Double, Double) {
        let copyStream = try context.makeStream()
        let computeStream = try context.makeStream()
        let copyTimer = try GPUTimer(context: context)
        let kernelTimer = try GPUTimer(context: context)
        let copiesRun = 4
        let kernelsRun = max(1, Int((Double(copiesRun) * copyNs / max(kernelNs, 1)).rounded()))
        let destination = try context.allocateDevice(copyBytes)
        let copyAlone = try copyTimer.time(copyStream, repetitions: copiesRun) { _ in try copyStream.copy(copyBytes, from: host, to: destination) }
        let kernelAlone = try kernelTimer.time(computeStream, repetitions: kernelsRun) { _ in try kernel(computeStream) }
        try copyStream.record(copyTimer.start)
        try computeStream.record(kernelTimer.start)
        for index in 0..<max(copiesRun, kernelsRun) {
            if index < copiesRun { try copyStream.copy(copyBytes, from: host, to: destination) }
            if index < kernelsRun { try kernel(computeStream) }
        }
        try copyStream.record(copyTimer.end)
        try computeStream.record(kernelTimer.end)
        try context.synchronize()
        let copyTogether = try copyTimer.end.nanoseconds(since: copyTimer.start) / Double(copiesRun)
        let kernelTogether = try kernelTimer.end.nanoseconds(since: kernelTimer.start) / Double(kernelsRun)
        return (copyTogether / copyAlone, kernelTogether / kernelAlone)
    }

    /// Expert FFN time against tokens for `model`'s expert (bf16 weights; in the SwiGLU shape
    /// with its weights, ``ModelPreset/kernelIntermediateSize``).
    private func expertCurve(_ model: ModelPreset, stream: CUDAStream, timer: GPUTimer, activations: ExpertActivations) throws -> CalibrationTable {
        let hidden = model.hiddenSize
        let intermediate = model.kernelIntermediateSize
        let (weights, expertBytes, copies) = try expertCopies(model, atLeast: 2)
        var times: [Double] = []
        for tokens in plan.tokenCounts {
            func run(_ index: Int) throws {
                try kernels.expertFFN(weights, offset: (index % copies) * expertBytes, hidden: hidden, intermediate: intermediate,
                                      tokens: tokens, activations: activations, on: stream)
            }
            try run(0)
            let once = try timer.time(stream, repetitions: copies, run)
            times.append(try fastest { try timer.time(stream, repetitions: max(copies, repetitionsFor(once)), run) })
            log("\(model.name) expert, \(tokens) tokens: \(times.last!) ns")
        }
        return Self.nonDecreasing(tokens: plan.tokenCounts, times)
    }

    /// moesim's weight-streaming kernel over `model`'s attention block (its attention and router
    /// weights in bf16, rows of the hidden size) against the tokens of a step, as the replay
    /// runs a layer's attention: the kernel's time grows with tokens, which the one-token
    /// streaming table cannot say (on an H200, 2026-12-04, a 512-token Switch step replayed 24%
    /// slower than the simulation priced it without this). Launches rotate over `weights` so
    /// that L2 does not serve them; nil when the block is empty or larger than `weights`.
    private func attentionTokenCurve(_ model: ModelPreset, weights: DeviceBuffer, stream: CUDAStream, timer: GPUTimer,
                                     activations: ExpertActivations) throws -> CalibrationTable? {
        let hidden = model.hiddenSize
        let rows = Self.attentionRows(model)
        let bytes = rows * 2 * hidden
        guard rows > 0, bytes <= weights.bytes else { return nil }
        let regions = max(1, weights.bytes / bytes)
        var times: [Double] = []
        for tokens in plan.tokenCounts {
            func run(_ index: Int) throws {
                try kernels.rows(weights, offset: (index % regions) * bytes, rows: rows, columns: hidden,
                                 input: activations.input, tokens: tokens, output: activations.output, on: stream)
            }
            try run(0)
            let once = try timer.time(stream, repetitions: min(regions, 8), run)
            times.append(try fastest { try timer.time(stream, repetitions: max(min(regions, 8), repetitionsFor(once)), run) })
            log("\(model.name) attention (\(bytes) B), \(tokens) tokens: \(times.last!) ns")
        }
        return Self.nonDecreasing(tokens: plan.tokenCounts, times)
    }

    /// Rows of `model`'s attention block (attention and router weights, bf16) as the replay
    /// streams it: rows of the hidden size.
    static func attentionRows(_ model: ModelPreset) -> Int {
        (model.attentionParameters + model.hiddenSize * model.experts) / model.hiddenSize
    }

    /// Copies of `model`'s expert as moesim's kernels run it (6 × hidden ×
    /// ``ModelPreset/kernelIntermediateSize`` bf16 bytes each: the expert's bytes) in one device
    /// buffer, enough (≥ 512 MiB, and at least `atLeast`) that timed launches rotating over them
    /// find no weights left in L2 from the launch before.
    func expertCopies(_ model: ModelPreset, atLeast: Int) throws -> (weights: DeviceBuffer, expertBytes: Int, copies: Int) {
        let expertBytes = 6 * model.hiddenSize * model.kernelIntermediateSize
        let copies = max(atLeast, (512 << 20) / expertBytes + 1)
        return (try context.allocateDevice(copies * expertBytes), expertBytes, copies)
    }

    /// A measured curve as a table; event timing has about 0.5 µs resolution, so the curve is
    /// kept non-decreasing.
    static func nonDecreasing(tokens: [Int], _ measured: [Double]) -> CalibrationTable {
        var times = measured
        for index in times.indices.dropFirst() { times[index] = max(times[index], times[index - 1]) }
        return CalibrationTable(tokens: tokens, nanoseconds: times)!
    }
}
