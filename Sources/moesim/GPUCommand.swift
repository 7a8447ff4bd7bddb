import ArgumentParser
import CUDABackend
import Foundation
import Lab
import OffloadSim
import TraceStore

/// `moesim gpu`: calibrate a hardware profile on a real GPU and validate simulated figures
/// against the GPU. Needs an NVIDIA driver; without one every subcommand exits with status 2.
struct GPUCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpu",
        abstract: "Calibrate a hardware profile on a real GPU, and validate simulated figures against it.",
        discussion: """
            Loads the CUDA driver (libcuda.so.1, or the path in MOESIM_LIBCUDA) at run time; \
            nothing else from CUDA is needed. Without a driver these commands exit with status 2.
            """,
        subcommands: [GPUCalibrateCommand.self, GPUValidateCommand.self])

    /// Opens the driver and the first GPU, and loads moesim's kernels.
    static func open() throws -> (CUDAContext, MoesimKernels) {
        let path = ProcessInfo.processInfo.environment["MOESIM_LIBCUDA"] ?? CUDADriver.defaultLibrary
        let context = try CUDAContext(driver: try CUDADriver(path: path))
        return (context, try MoesimKernels(context: context))
    }
}

struct GPUCalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure the GPU's bus, launch gap, host syncs and copy calls, memory bandwidth, and expert FFN times (alone, grouped, on concurrent streams) into a hardware profile.")

    @Option(name: .customLong("model"), help: "Model presets whose expert shapes to measure (repeatable; default: every preset).")
    var models: [String] = []

    @Option(name: .shortAndLong, help: "The profile file to write (.toml).")
    var output: String

    @Option(help: "The profile's name (default: calibrated-<preset of this GPU>).")
    var name: String?

    @Flag(help: "Print each measurement as it is made.")
    var verbose = false

    func run() throws {
        let presets = try models.isEmpty ? ModelPreset.all : models.map { try ModelPreset.require($0) }
        let (context, kernels) = try GPUCommand.open()
        printError("calibrating \(context.deviceName) (\(context.computeCapability)) for \(presets.map(\.name).joined(separator: ", "))")
        let calibration = GPUCalibration(context: context, kernels: kernels, plan: CalibrationPlan(models: presets),
                                         log: { if verbose { printError("  \($0)") } })
        let measured = try calibration.measure()
        let date = ISO8601DateFormatter().string(from: Date()).prefix(10)
        let profile = measured.profile(name: name, date: String(date))
        try AtomicFile.write(profile.tomlText, to: output)
        print("""
            \(profile.label)
            bus         \(String(format: "%.2f", measured.h2dGBps)) GB/s pinned host-to-device, \(String(format: "%.1f", measured.copyLatencyNs / 1_000)) µs per copy
            launches    \(String(format: "%.2f", measured.launchGapNs / 1_000)) µs per back-to-back launch
            host        \(String(format: "%.2f", Double(profile.syncAfterKernelNs) / 1_000)) µs sync on a small device-to-host copy after a kernel, \(String(format: "%.2f", Double(profile.copyCallNs) / 1_000)) µs per copy call, \(String(format: "%.2f", Double(profile.streamEventNs ?? 0) / 1_000)) µs per event call between streams
            HBM         \(String(format: "%.0f", measured.streamGBps)) GB/s weight streaming (\(String(format: "%.0f", profile.memoryEfficiency * 100))% of \(String(format: "%.0f", profile.hbmGBps)) GB/s datasheet)
            contention  copies ×\(String(format: "%.3f", measured.copySlowdown)), kernels ×\(String(format: "%.3f", measured.kernelSlowdown)) when both run
            experts     \(presets.map { "\($0.name) \(String(format: "%.1f", measured.experts[$0.name]!.time(tokens: 1) / 1_000)) µs at 1 token" }.joined(separator: ", "))
            grouped     \(presets.compactMap { model in measured.grouped[model.name].map { "\(model.name) \(String(format: "%.1f", $0.time(experts: model.topK, tokens: 1) / 1_000)) µs for \(model.topK) expert\(model.topK == 1 ? "" : "s") at 1 token" } }.joined(separator: ", "))
            concurrent  \(presets.compactMap { model in measured.concurrent[model.name].map { issued in
                "\(model.name) \(String(format: "%.1f", issued.time(experts: 4, tokens: 1) / 1_000)) µs for 4 experts on 4 streams at 1 token as issued"
                    + (measured.concurrentGPU[model.name].map { String(format: ", %.1f µs with the GPU alone", $0.time(experts: 4, tokens: 1) / 1_000) } ?? "")
            } }.joined(separator: "; "))
            wrote \(output)
            """)
    }
}

struct GPUValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Replay a policy's simulated decisions on the GPU and compare simulated with measured figures.",
        discussion: """
            The simulation records its first --steps steps: the compute stream's operations and the copies, \
            with what each waited for. The GPU runs the same copies in the same order on a copy stream and the same \
            operations on a compute stream (moesim's kernels over expert-sized weights; a layer-barrier engine's experts \
            as one grouped kernel, a concurrent-streams engine's on its streams), timed with CUDA events, then the \
            operations alone for the compute-only time. Use a profile calibrated on this GPU (`moesim gpu calibrate`), \
            and --expert-dtype bf16: its tables time the bf16 experts it measured.
            """)

    @Option(help: "The trace file.")
    var trace: String

    @Option(help: "Model preset (see `moesim models`).")
    var model: String?

    @Option(help: "Size experts as the model preset stored in this type (bf16, fp8, mxfp4) instead of the trace's sizes.")
    var expertDtype: String?

    @Option(help: "Policy name or file.")
    var policy = "on-demand"

    @Option(help: "Hardware profile file from `moesim gpu calibrate` (a preset name also works, for comparison).")
    var profile: String

    @OptionGroup var cache: CacheSizeOptions

    @Option(help: "Serving engine whose schedule is replayed (see `moesim engines`): a layer-barrier engine's experts wait for their whole layer; an engine with host syncs makes the replay's host wait where it waits.")
    var engine = ServingEngine.moesim.name

    @OptionGroup var engineTerms: EngineTermOptions

    @Option(help: "Eviction rule (default: the policy's, else lru).")
    var eviction: String?

    @Option(parsing: .unconditional, help: "Steps to replay.")
    var steps = 64

    @Option(name: .customLong("context"), parsing: .unconditional,
            help: "Tokens already in each sequence's KV cache when decoding starts (default: the trace's prompt); the replay's attention launches read that KV cache.")
    var contextTokens: Int?

    @Flag(help: "Replay prompt tokens one per step, as decode.")
    var prefillAsDecode = false

    @Option(parsing: .unconditional, help: "Sequences per batch (continuous batching); TPOT is then each decode step's time.")
    var batch = 1

    @Option(parsing: .unconditional, help: "Seed of the run's random streams.")
    var seed: UInt64 = 1

    @Flag(help: "Print JSON with stable keys.")
    var json = false

    func validate() throws {
        try OptionRange.check(steps, 1...1_000_000, "--steps")
        try OptionRange.check(batch, ValidRange.batch, "--batch")
        if let contextTokens { try OptionRange.check(contextTokens, ValidRange.context, "--context") }
    }

    func run() throws {
        let servingEngine = try RunSetup.engine(engine, setting: engineTerms.terms)
        if servingEngine.runsEveryExpert {
            throw TraceStoreError(file: "--engine", problem: "'\(engine)' runs every expert at capacity, and the CUDA replay runs the routed experts",
                                  fix: "Validate an engine whose capacity_factor is \"routed\"; capacity dispatch is simulated only.")
        }
        let reader = try TraceReader(path: trace)
        var setup = try RunSetup(trace: reader, model: model, expertDType: expertDtype, hardware: profile, policy: policy,
                                 cache: try cache.budget, eviction: eviction, partitioned: false, batch: batch, prefillAsDecode: prefillAsDecode,
                                 stagingBuffers: 2, seed: seed, timelineSteps: 0, engine: engine, engineTerms: engineTerms.terms, context: contextTokens)
        setup.priceHostOperationsAsDriverCalls()
        let (simulated, schedule) = try setup.runRecordingReplay(steps: steps)
        // The GPU is opened once the run is known to be replayable, so a refusal needs no GPU.
        try GPUReplay.checkReplayable(schedule, model: setup.cost)
        let (context, kernels) = try GPUCommand.open()
        let replay = try GPUReplay(context: context, kernels: kernels, model: setup.cost, schedule: schedule, engine: setup.options.engine)
        _ = try replay.run(copies: false)
        let measured = try replay.run(copies: true)
        let computeOnly = try replay.run(copies: false)
        let report = ValidationReport(schedule: schedule, replay: measured, computeOnly: computeOnly)
        let run = simulated.run
        if json {
            struct Output: Encodable {
                var run: RunDescription
                var gpu: String
                var validation: ValidationReport
            }
            print(try JSONOutput.encode(Output(run: run, gpu: "\(context.deviceName), driver CUDA \(try context.driver.driverVersion())", validation: report)))
            return
        }
        print("""
            trace      \(run.trace) (\(run.traceKind)), first \(report.steps) steps (\(report.decodeSteps) decode) at batch \(run.batch)
            hardware   \(run.hardware)
            engine     \(run.engine)
            gpu        \(context.deviceName) (compute capability \(context.computeCapability))
            policy     \(run.policy), predictor \(run.predictor), cache \(run.cacheBytes > 0 ? "\(Format.bytes(run.cacheBytes)) \(run.eviction)" : "none (double-buffered)")
            """)
        for note in run.notes { print("note       \(note)") }
        if replay.layout.sharesSlots {
            print("note       more experts than GPU memory holds: keys share slots (times unaffected; weights differ)")
        }
        if schedule.replicaOps > 0 {
            print("note       \(schedule.replicaOps) expert kernels ran on replicas: each a share of its expert's tokens over its own copy")
        }
        print("")
        print(report.table)
    }
}
