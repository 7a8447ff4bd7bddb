import OffloadSim
import Policies
import TraceStore

/// Runs sweep points: opens each trace once (per runner: one per worker thread), turns a
/// point's settings into a ``RunSetup`` and simulates it.
public final class PointRunner {
    private var readers: [String: TraceReader] = [:]
    private var workingSets: [String: Int] = [:]
    private var traceHashes: [String: String] = [:]
    /// The spec the points come from, so that errors name its file, key and line.
    private let spec: SweepSpec?
    /// Whether each point forms its steps on a second thread (``RunSetup/formsStepsAhead``).
    let formsStepsAhead: Bool

    /// A runner with nothing open yet, for points of `spec`; `formsStepsAhead` off where other
    /// runners keep every core busy.
    public init(spec: SweepSpec? = nil, formsStepsAhead: Bool = true) {
        self.spec = spec
        self.formsStepsAhead = formsStepsAhead
    }

    /// The trace at `path`, opened once.
    func reader(_ path: String) throws -> TraceReader {
        if let reader = readers[path] { return reader }
        let reader = try TraceReader(path: path)
        readers[path] = reader
        return reader
    }

    /// The content hash of the trace at `path`.
    public func traceHash(_ path: String) -> String {
        if let hash = traceHashes[path] { return hash }
        let hash = ContentHash.file(path) ?? "unreadable"
        traceHashes[path] = hash
        return hash
    }

    /// Resolves `point` into a run, checking every name and size (no simulation); an error
    /// names the spec's key and line where it can (see ``SweepSpec/locate(_:in:)``).
    public func setup(_ point: SweepPoint) throws -> RunSetup {
        do {
            return try unlocatedSetup(point)
        } catch let error as TraceStoreError {
            throw spec?.locate(error, in: point) ?? error
        }
    }

    private func unlocatedSetup(_ point: SweepPoint) throws -> RunSetup {
        let s = point.settings
        for (parameter, value) in s {
            if let problem = parameter.problem(with: value) { throw invalid(point, "\(parameter.rawValue) \(problem)") }
        }
        func text(_ p: SweepParameter) -> String? { s[p]?.string }
        func number(_ p: SweepParameter) -> Double? { s[p]?.number }
        func integer(_ p: SweepParameter) -> Int? { if case .integer(let v) = s[p] { v } else { nil } }
        func flag(_ p: SweepParameter) -> Bool { if case .bool(let v) = s[p] { v } else { false } }
        let path = text(.trace)!
        let trace = try reader(path)
        var cache: RunSetup.CacheBudget? = number(.cacheMiB).map { $0 > 0 ? .bytes(Int(($0 * Double(Units.mebibyte)).rounded())) : nil } ?? nil
        if let fraction = number(.cacheFraction), fraction > 0 {
            cache = .bytes(Int((Double(try workingSet(path, trace: trace, dtype: text(.expertDType), model: text(.model))) * fraction).rounded()))
        }
        var setup = try RunSetup(
            trace: trace, model: text(.model), expertDType: text(.expertDType), hardware: text(.hardware) ?? "rtx-a6000",
            policy: text(.policy) ?? "on-demand", cache: cache, eviction: text(.eviction), partitioned: flag(.partitioned),
            batch: integer(.batch) ?? 1, prefillAsDecode: flag(.prefillAsDecode), stagingBuffers: 2,
            seed: UInt64(integer(.seed) ?? 1), timelineSteps: 0, engine: text(.engine) ?? ServingEngine.moesim.name,
            engineTerms: try engineTerms(point), context: integer(.context), admission: text(.admission), lookupOrder: text(.lookupOrder))
        if let gbps = number(.busGBps) {
            // The swept rate is the one every copy takes, pinned or not.
            setup.profile.link.gbps = gbps
            setup.profile.pageableH2DGBps = nil
            setup.profile.measuredPageableCopies = nil
        }
        if let latency = number(.copyLatencyNs) { setup.profile.link.latencyNs = Nanoseconds(latency) }
        if let engines = integer(.copyEngines) { setup.profile.link.copyEngines = engines }
        if let chunk = integer(.chunkBytes) { setup.profile.link.chunkBytes = chunk }
        if let gbps = number(.hostMemoryGBps) {
            // A swept bandwidth prices the CPU experts, so a measured host expert table (which
            // holds its machine's bandwidth) would make the axis change nothing.
            setup.profile.hostMemoryGBps = gbps
            setup.profile.hostExpertCalibration = [:]
        }
        if let layers = integer(.hostExpertLayers) { setup.options.engine.hostExpertLayers = layers }
        if let tokens = integer(.prefillChunkTokens) { setup.options.engine.prefillChunkTokens = tokens }
        if let tokens = integer(.cpuExpertsBelowTokens) { setup.options.engine.cpuExpertsBelowTokens = tokens }
        if let predictor = text(.predictor) {
            guard PredictorCatalog.names.contains(predictor) else {
                throw invalid(point, "unknown predictor '\(predictor)' (valid: \(PredictorCatalog.names.joined(separator: ", ")))")
            }
            setup.policy.predictor = predictor
        }
        if let recall = number(.recall) { setup.policy.recall = recall }
        if let lookahead = integer(.lookahead) { setup.policy.lookahead = lookahead }
        if let widen = number(.widen) { setup.policy.widen = widen }
        try setup.checkMemory()
        setup.formsStepsAhead = formsStepsAhead
        return setup
    }

    /// Simulates `point`.
    public func run(_ point: SweepPoint) throws -> SimulationReport {
        let setup = try setup(point)
        do {
            return try setup.run().0
        } catch let error as TraceStoreError {
            throw spec?.locate(error, in: point) ?? error
        }
    }

    /// Bytes of every distinct expert the trace routes to (its working set over the whole trace).
    private func workingSet(_ path: String, trace: TraceReader, dtype: String?, model: String?) throws -> Int {
        let key = path + "|" + (dtype ?? "") + "|" + (model ?? "")
        if let bytes = workingSets[key] { return bytes }
        let shape = trace.metadata.shape
        let preset = model.flatMap(ModelPreset.named) ?? ModelPreset.named(shape.name)
        let cost = try ModelCost.resolve(shape: shape, preset: preset, dtype: dtype.flatMap { ExpertDType(rawValue: $0) })
        var used = Array(repeating: false, count: shape.layers * shape.experts)
        var former = BatchFormer(source: trace, batchSize: 1)
        var step = Step()
        while try former.next(into: &step) {
            for layer in 0..<shape.layers {
                for index in step.range(layer: layer) { used[layer * shape.experts + Int(step.experts[index])] = true }
            }
        }
        let bytes = used.indices.reduce(0) { $0 + (used[$1] ? cost.expertBytes[$1 / shape.experts] : 0) }
        workingSets[key] = bytes
        return bytes
    }

    /// The point's `engine_set` as `--engine-set` terms (its `;`-separated parts; none for ""),
    /// refusing a term that one of the typed parameters also sets, which would otherwise win unsaid.
    private func engineTerms(_ point: SweepPoint) throws -> [String] {
        guard let text = point.settings[.engineSet]?.string else { return [] }
        let terms = text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let typed: [(SweepParameter, String)] = [(.hostExpertLayers, "execution.host_expert_layers"),
                                                  (.prefillChunkTokens, "execution.prefill_chunk_tokens"),
                                                  (.cpuExpertsBelowTokens, "execution.cpu_experts_below_tokens")]
        for term in terms {
            let name = term.prefix { $0 != "=" }.trimmingCharacters(in: .whitespaces)
            if let (parameter, _) = typed.first(where: { $0.1 == ServingEngine.termKey(named: name) && point.settings[$0.0] != nil }) {
                throw TraceStoreError(file: "--engine-set", problem: "'\(term)' sets a term the point's \(parameter.rawValue) also sets",
                                      fix: "Set \(name) in one of them.")
            }
        }
        return terms
    }

    private func invalid(_ point: SweepPoint, _ problem: String) -> TraceStoreError {
        TraceStoreError(file: "sweep point \(point.index)", problem: problem + " in \(point.configJSON)", fix: "Fix the sweep spec.")
    }
}
