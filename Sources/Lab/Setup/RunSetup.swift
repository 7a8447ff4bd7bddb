import Foundation
import OffloadSim
import Policies
import TOML
import TraceStore

/// Resolves the names a user gives (model, hardware, policy, eviction) against a trace
/// into a run, with the checks and notes every result carries; `simulate`, `compare` and
/// sweeps all set runs up through it.
public struct RunSetup {
    /// The trace.
    public let reader: TraceReader
    /// The model's costs.
    public let cost: ModelCost
    /// The hardware profile.
    public var profile: HardwareProfile
    /// The policy.
    public var policy: PolicySpec
    /// Cache, eviction and split overrides.
    public var overrides: PolicyCatalog.Overrides
    /// Engine options.
    public var options: SimulationOptions
    /// Sequences per batch.
    public let batch: Int
    /// Replay prompt tokens one per step.
    public let prefillAsDecode: Bool
    /// Tokens in each sequence's KV cache when decoding starts (nil: its prompt).
    public var contextTokens: Int?
    /// Whether the run forms its steps on a second thread (``SimulationRun/formsStepsAhead``).
    public var formsStepsAhead = true
    /// Notes on what was assumed.
    public private(set) var notes: [String]

    /// How big the expert cache is: a size, or all the GPU memory the run leaves (`auto`).
    public enum CacheBudget: Sendable, Equatable {
        case bytes(Int)
        case auto
    }

    /// Resolves a run; every bad name or size is a ``TraceStoreError`` naming the option and the valid values.
    ///
    /// - Parameters:
    ///   - engine: a built-in engine name or an engine file (see `moesim engines`).
    ///   - engineTerms: `KEY=VALUE` settings of the engine's terms (`--engine-set`), applied in order.
    ///   - context: tokens in each sequence's KV cache when decoding starts (nil: the trace's prompt).
    public init(trace reader: TraceReader, model: String?, expertDType: String?, hardware: String, policy: String, cache: CacheBudget?,
                eviction: String?, partitioned: Bool, batch: Int, prefillAsDecode: Bool, stagingBuffers: Int, seed: UInt64, timelineSteps: Int,
                engine: String = ServingEngine.moesim.name, engineTerms: [String] = [], context: Int? = nil, admission: String? = nil,
                lookupOrder: String? = nil) throws {
        self.reader = reader
        let shape = reader.metadata.shape
        var notes: [String] = []
        let preset: ModelPreset?
        if let model {
            let named = try ModelPreset.require(model)
            guard named.moeLayers.count == shape.layers, named.experts == shape.experts else {
                throw TraceStoreError(
                    file: reader.path, place: "model shape",
                    problem: "has \(shape.layers) MoE layers × \(shape.experts) experts, but \(named.name) has \(named.moeLayers.count) × \(named.experts)",
                    fix: "Pass the model the trace was recorded on, or leave --model out to use the trace's own shape.")
            }
            preset = named
        } else {
            preset = ModelPreset.named(shape.name)
        }
        let nativeTopK = shape.nativeTopK ?? preset?.topK
        if let nativeTopK, nativeTopK != shape.topK {
            notes.append("the trace was recorded with top-k \(shape.topK) where the model's native top-k is \(nativeTopK); simulated as recorded")
        }
        let dtype = try expertDType.map { try Self.choice(ExpertDType.self, $0, option: "--expert-dtype", noun: "type", plural: "types") }
        var cost = try ModelCost.resolve(shape: shape, preset: preset, dtype: dtype)
        if preset == nil { cost.assumptions.insert("no preset named '\(shape.name)': expert sizes from the trace", at: 0) }
        notes += cost.assumptions
        if dtype == nil, shape.expertBytes != nil, let dtype = shape.expertDType {
            notes.append("expert sizes from the trace (\(dtype))")
        }
        self.cost = cost
        profile = try Self.profile(hardware)
        if profile.expertCalibration[cost.name] != nil, !GPUCompute.calibrationApplies(to: cost) {
            let (smallest, largest) = (cost.expertBytes.min()!, cost.expertBytes.max()!)
            let sizes = Format.bytes(smallest) + (smallest == largest ? "" : "–" + Format.bytes(largest))
            notes.append("the profile's calibrated expert tables for \(cost.name) timed bf16 experts (\(Format.bytes(2 * cost.expertParameters))); "
                         + "this run's are \(sizes), so the roofline times them (--expert-dtype bf16 uses the tables)")
        }
        if let host = profile.hostExpertCalibration[cost.name], !host.applies(to: cost) {
            let (smallest, largest) = (cost.expertBytes.min()!, cost.expertBytes.max()!)
            let sizes = Format.bytes(smallest) + (smallest == largest ? "" : "–" + Format.bytes(largest))
            notes.append("the profile's CPU expert table for \(cost.name) timed experts of \(Format.bytes(host.expertBytes)); "
                         + "this run's are \(sizes), so CPU experts are timed by the host roofline (memory_gbps, tflops)")
        }
        self.policy = try Self.policy(policy)
        let rule = try eviction.map { try Self.choice(EvictionPolicy.self, $0, option: "--eviction", noun: "eviction rule", plural: "rules") }
        let servingEngine = try Self.engine(engine, setting: engineTerms)
        options = SimulationOptions(
            cacheBytes: 0, eviction: rule ?? .lru, partitioned: partitioned, stagingBuffers: stagingBuffers, timelineSteps: timelineSteps,
            seed: seed, engine: servingEngine,
            admission: try admission.map { try Self.choice(CacheAdmission.self, $0, option: "--admission", noun: "admission", plural: "admissions") } ?? .hardCap,
            lookupOrder: try lookupOrder.map { try Self.choice(LookupOrder.self, $0, option: "--lookup-order", noun: "order", plural: "orders") } ?? .id)
        if servingEngine.copiesFromPageableMemory {
            let timedByTable = profile.measuredPageableCopies != nil
            notes.append(profile.pageableH2DGBps.map {
                timedByTable ? "the engine copies from pageable host memory: timed by the profile's measured pageable copies (\(Format.fixed($0, 2)) GB/s over the large ones)"
                    : "the engine copies from pageable host memory: at the profile's \(Format.fixed($0, 2)) GB/s" }
                         ?? "the engine copies from pageable host memory, but the profile has no pageable_h2d_gbps (no datasheet gives it; "
                            + "`moesim gpu calibrate` measures it): its copies move at the pinned \(Format.fixed(profile.link.gbps, 2)) GB/s, an upper bound")
        }
        if let framework = servingEngine.framework, let costs = profile.frameworkCosts[framework], servingEngine.hasHostCosts || servingEngine.dispatchesEagerly {
            notes.append(Self.frameworkNote(framework) + " (measured on \(costs.measuredOn)): sync \(Format.fixed(Double(costs.syncNs) / 1_000, 1)) µs, "
                         + "launch \(Format.fixed(Double(costs.launchNs) / 1_000, 1)) µs, copy call \(Format.fixed(Double(costs.copyCallNs) / 1_000, 1)) µs"
                         + (servingEngine.dispatchesEagerly ? "; every kernel dispatched eagerly at that launch, none starting before the host issues it" : ""))
        }
        if options.admission != .hardCap { notes.append("admission \(options.admission.rawValue): a layer batch's misses are all admitted, then the cache is trimmed to its budget") }
        if options.lookupOrder != .id { notes.append("lookup order \(options.lookupOrder.rawValue): a layer's experts are looked up, fetched and run in the tokens' rank order") }
        self.batch = batch
        self.prefillAsDecode = prefillAsDecode
        contextTokens = context
        if let context, let longest = reader.sequences.map(\.prefillTokens).max(), !prefillAsDecode, context < longest {
            notes.append("--context \(context) is below the longest prompt (\(longest) tokens): decode attention reads \(context) tokens plus those generated")
        }
        var cacheBytes: Int?
        switch cache {
        case .bytes(let bytes): cacheBytes = bytes
        case .auto:
            let plan = Self.memoryPlan(reader: reader, cost: cost, profile: profile, options: options, batch: batch,
                                       prefillAsDecode: prefillAsDecode, context: context)
            guard plan.roomForCacheBytes >= cost.expertBytes.min()! else {
                throw TraceStoreError(file: "--cache-mib auto", problem: "leaves no room for an expert: \(plan.summary)",
                                      fix: "Use a GPU with more memory (--hardware)\(Self.hostLayersHint(options.engine)), a shorter --context or a smaller --batch.")
            }
            cacheBytes = plan.roomForCacheBytes
            notes.append("--cache-mib auto: \(plan.summary)")
        case nil: cacheBytes = nil
        }
        if let cacheBytes {
            let smallest = cost.expertBytes.min()!
            let share = partitioned ? cacheBytes / shape.layers : cacheBytes
            guard share >= smallest else {
                throw TraceStoreError(
                    file: "--cache-mib", problem: "a cache of \(Format.bytes(cacheBytes))\(partitioned ? " split over \(shape.layers) layers" : "") holds less than one expert (\(Format.bytes(smallest)))",
                    fix: "Give at least \(Format.bytes(partitioned ? smallest * shape.layers : smallest)), or leave the cache out.")
            }
        }
        overrides = PolicyCatalog.Overrides(cacheBytes: cacheBytes, eviction: rule)
        if !prefillAsDecode && reader.metadata.decodeTokens == 0 {
            notes.append("the trace has no decode tokens: TPOT is undefined; --prefill-as-decode replays prompt tokens one per step")
        }
        self.notes = notes
    }

    /// What an expert-parallel run names as its engine: its own execution model, which no
    /// `--engine` changes (``ExpertParallelSimulation``).
    public static let expertParallelEngineLabel = "expert-parallel model (each GPU's experts as one grouped kernel between all-to-alls; no serving engine applies)"

    /// A built-in engine by name, or an engine file when `name` is a path.
    public static func engine(_ name: String) throws -> ServingEngine {
        if let engine = ServingEngine.builtIn(named: name) { return engine }
        if let engine = try tomlFile(name, template: "moesim engines --export NAME", ServingEngine.init(toml:file:)) { return engine }
        throw TraceStoreError(file: "--engine", problem: "unknown engine '\(name)'",
                              fix: "Valid engines: \(ServingEngine.builtIns.map(\.name).joined(separator: ", ")); or give an engine file (.toml).")
    }

    /// The engine `name` with `terms` (`KEY=VALUE`, as `--engine-set` takes them) set in order
    /// (``ServingEngine/setting(_:origin:)``); a malformed setting, an unknown key or a value the
    /// engine file would refuse is an error naming `--engine-set`.
    public static func engine(_ name: String, setting terms: [String]) throws -> ServingEngine {
        let engine = try Self.engine(name)
        let fix = "Give KEY=VALUE with a term of `moesim engines --export \(engine.name)` (e.g. cpu_experts_below_tokens=0, copy_grouping=expert)."
        let assignments = try terms.map { term -> (key: String, value: String) in
            let parts = term.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TraceStoreError(file: "--engine-set", problem: "'\(term)' is not KEY=VALUE", fix: fix)
            }
            return (parts[0], parts[1])
        }
        do {
            return try engine.setting(assignments, origin: "--engine-set")
        } catch let error as TOMLFileError {
            throw TraceStoreError(file: "--engine-set", problem: error.problem, fix: fix)
        }
    }

    /// A built-in policy by name, or a policy file when `name` is a path.
    public static func policy(_ name: String) throws -> PolicySpec {
        if let spec = PolicySpec.builtIn(named: name) { return spec }
        if let spec = try tomlFile(name, template: "moesim policies --export NAME", PolicySpec.init(toml:file:)) { return spec }
        throw TraceStoreError(file: "--policy", problem: "unknown policy '\(name)'",
                              fix: "Valid policies: \(PolicyCatalog.names.joined(separator: ", ")); or give a policy file (.toml).")
    }

    /// The case of `type` named `text` (any letter case), or an error naming `option` and the valid names.
    private static func choice<Choice: CaseIterable & RawRepresentable<String>>(
        _ type: Choice.Type, _ text: String, option: String, noun: String, plural: String
    ) throws -> Choice {
        guard let parsed = Choice(rawValue: text.lowercased()) else {
            throw TraceStoreError(file: option, problem: "unknown \(noun) '\(text)'",
                                  fix: "Valid \(plural): \(Choice.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return parsed
    }

    /// A preset by name, or a profile file when `name` is a path.
    public static func profile(_ name: String) throws -> HardwareProfile {
        if let preset = HardwareProfile.preset(named: name) { return preset }
        if let profile = try tomlFile(name, template: "moesim hardware --export NAME", HardwareProfile.init(toml:file:)) { return profile }
        throw TraceStoreError(file: "--hardware", problem: "unknown hardware '\(name)'",
                              fix: "Valid presets: \(HardwareProfile.presets.map(\.name).joined(separator: ", ")); or give a profile file (.toml).")
    }

    /// Parses `name` as a TOML file when it looks like a path (nil otherwise); a file that
    /// cannot be read or has a bad line is an error naming it, the line and `template` to start from.
    private static func tomlFile<T>(_ name: String, template: String, _ parse: (String, String) throws -> T) throws -> T? {
        guard name.hasSuffix(".toml") || name.contains("/") else { return nil }
        guard let data = FileManager.default.contents(atPath: name) else {
            throw TraceStoreError(file: name, problem: "cannot be read", fix: "Check the path, or start from `\(template)`.")
        }
        do {
            return try parse(String(decoding: data, as: UTF8.self), name)
        } catch let error as TOMLFileError {
            throw TraceStoreError(file: name, place: error.line > 0 ? "line \(error.line)" : "", problem: error.problem,
                                  fix: "Fix the file (start from `\(template)`).")
        }
    }

    /// Runs it: the report (what was assumed and the metrics) and the recorded timeline.
    public func run() throws -> (SimulationReport, TimelineRecorder) {
        let (report, result) = try execute()
        return (report, result.timeline)
    }

    /// Runs it recording the GPU operations of the first `steps` steps, for a replay on a GPU.
    public func runRecordingReplay(steps: Int) throws -> (SimulationReport, ReplaySchedule) {
        var setup = self
        setup.options.replaySteps = steps
        let (report, result) = try setup.execute()
        if let parallel = result.parallel {
            throw TraceStoreError(file: "--policy", problem: "'\(result.policyName)' runs the experts on \(parallel.gpus) GPUs (expert parallelism), and the GPU replay runs one",
                                  fix: "Validate a single-GPU policy (on-demand, cross-layer-gate, default-vector-speculation, all-resident, ...); expert parallelism is simulated only.")
        }
        guard !result.replay.steps.isEmpty else {
            throw TraceStoreError(file: reader.path, problem: "the run recorded no steps to replay",
                                  fix: "Use a trace with tokens, or a policy that runs on moesim's single-GPU engine.")
        }
        return (report, result.replay)
    }

    private func execute() throws -> (SimulationReport, PolicyCatalog.Result) {
        try checkMemory()
        var run = SimulationRun(source: reader, model: cost, profile: profile, options: options, batchSize: batch,
                                prefillAsDecode: prefillAsDecode)
        run.contextTokens = contextTokens
        run.formsStepsAhead = formsStepsAhead
        let result = try PolicyCatalog.run(policy, run, overrides: overrides)
        let meta = reader.metadata
        let description = RunDescription(
            trace: reader.path, traceKind: meta.provenanceLabel, traceSource: meta.source, model: cost.name,
            hardware: profile.label, engine: result.parallel == nil ? options.engine.label : Self.expertParallelEngineLabel,
            policy: result.policyName, predictor: result.predictorName,
            cacheBytes: result.cacheBytes, eviction: result.eviction,
            batch: batch, prefillAsDecode: prefillAsDecode, notes: notes + result.notes)
        return (SimulationReport(run: description, metrics: result.metrics, parallel: result.parallel), result)
    }
}

extension RunSetup {
    /// The start of the note that a run's host operations were priced by a profile's framework table.
    static func frameworkNote(_ framework: String) -> String {
        "the engine's host operations are priced by the profile's [framework.\(framework)]"
    }

    /// Sets the profile's framework tables aside, for a GPU replay, which issues moesim's own
    /// driver calls: the simulation then prices the engine's syncs, launches and copy calls as
    /// the replay pays them, and the run's notes say so.
    public mutating func priceHostOperationsAsDriverCalls() {
        guard let framework = options.engine.framework, profile.frameworkCosts[framework] != nil else { return }
        profile.frameworkCosts = [:]
        notes.removeAll { $0.hasPrefix(Self.frameworkNote(framework)) }
        notes.append("the replay issues moesim's driver calls: the engine's host operations are priced at the profile's driver-level "
                     + "sync, launch and copy call, not its [framework.\(framework)]")
    }
}
