import ArgumentParser
import Lab
import Foundation
import OffloadSim
import Policies
import TraceStore

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay a trace through the bus, compute and cache model under a policy.",
        discussion: """
            Prints which trace (real or synthetic), hardware profile and policy the figures assume. \
            Without --cache-mib/--cache-gb there is no expert cache: experts stream through a double buffer.
            """)

    @Option(help: "The trace file.")
    var trace: String

    @Option(help: "Model preset (see `moesim models`); optional when the trace carries its shape and expert sizes.")
    var model: String?

    @Option(help: "Size experts as the model preset stored in this type (bf16, fp8, mxfp4) instead of the trace's sizes.")
    var expertDtype: String?

    @Option(help: "Hardware preset (see `moesim hardware`) or a profile file (.toml).")
    var hardware = "rtx-a6000"

    @Option(help: "Policy: \(PolicyCatalog.names.joined(separator: ", ")) (see `moesim policies`), or a policy file (.toml).")
    var policy = "on-demand"

    @OptionGroup var cache: CacheSizeOptions

    @Option(help: "Serving engine: \(ServingEngine.builtIns.map(\.name).joined(separator: ", ")) (see `moesim engines`), or an engine file (.toml).")
    var engine = ServingEngine.moesim.name

    @OptionGroup var engineTerms: EngineTermOptions

    @Option(parsing: .unconditional, help: "Tokens in each sequence's KV cache when decoding starts (default: its prompt, from the trace).")
    var context: Int?

    @Option(help: "Eviction rule: \(EvictionPolicy.allCases.map(\.rawValue).joined(separator: ", ")) (default: the policy's, else lru).")
    var eviction: String?

    @Flag(help: "Give each layer its own share of the cache budget.")
    var partitioned = false

    @Option(help: "When a miss enters the cache: hard-cap (evict before each insertion, stage what finds no room) or after-batch (admit a layer batch's misses, then evict back to the budget, as llama.cpp-based offloading does).")
    var admission: String?

    @Option(help: "Order of a layer's lookups, copies and experts: id (ascending expert id) or rank (the tokens' rank order, as trace-driven cache simulators replay).")
    var lookupOrder: String?

    @Option(parsing: .unconditional, help: "Sequences per batch (continuous batching).")
    var batch = 1

    @Flag(help: "Replay prompt tokens one per step, as decode (for prefill-only traces such as ESFT).")
    var prefillAsDecode = false

    @Option(parsing: .unconditional, help: "Staging buffers for experts without a cache slot.")
    var stagingBuffers = 2

    @Option(parsing: .unconditional, help: "Seed of the run's random streams (predictors, arrivals); the same seed gives the same output.")
    var seed: UInt64 = 1

    @Flag(help: "Print JSON with stable keys.")
    var json = false

    @Option(help: "Write the first steps' compute and copy streams as Chrome/Perfetto trace-event JSON.")
    var timeline: String?

    @Option(parsing: .unconditional, help: "Steps the timeline records.")
    var timelineSteps = 4

    @Flag(help: "Simulate event by event even where on-demand loading has a closed form (slower, same results; for checking the one against the other).")
    var eventDriven = false

    func validate() throws {
        try OptionRange.check(batch, ValidRange.batch, "--batch")
        try OptionRange.check(stagingBuffers, 1...64, "--staging-buffers")
        if let context { try OptionRange.check(context, ValidRange.context, "--context") }
        try OptionRange.check(timelineSteps, 1...1_000_000, "--timeline-steps")
    }

    func run() throws {
        if let timeline { try AtomicFile.refuseOverwriting(inputs: [trace, hardware, policy, engine], output: timeline, flag: "--timeline") }
        let reader = try TraceReader(path: trace)
        var setup = try RunSetup(trace: reader, model: model, expertDType: expertDtype, hardware: hardware, policy: policy,
                                 cache: try cache.budget, eviction: eviction, partitioned: partitioned,
                                 batch: batch, prefillAsDecode: prefillAsDecode, stagingBuffers: stagingBuffers, seed: seed,
                                 timelineSteps: timeline == nil ? 0 : timelineSteps, engine: engine, engineTerms: engineTerms.terms, context: context,
                                 admission: admission, lookupOrder: lookupOrder)
        setup.options.eventDriven = eventDriven
        let (report, recorder) = try setup.run()
        if let timeline {
            try AtomicFile.write(recorder.json(title: "moesim \(report.run.policy) on \(trace) (\(report.run.traceKind)), \(report.run.hardware)"), to: timeline)
        }
        print(json ? try JSONOutput.encode(report) : report.text)
    }
}
