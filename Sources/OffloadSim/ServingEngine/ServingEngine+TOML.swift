import TOML
import TraceStore

extension ServingEngine {
    /// The keys of the `[execution]` and `[host]` tables, in file order; `[sources]` takes the same names.
    static let termKeys = [
        "execution.experts", "execution.grouped_kernel_launches", "execution.capacity_factor", "execution.streams", "execution.buffer_sets", "execution.copy_queue",
        "execution.shared_experts", "execution.prefill_chunk_tokens", "execution.cpu_experts_below_tokens", "execution.host_expert_layers",
        "host.router_sync_ns", "host.expert_sync_ns", "host.split_sync_ns", "host.copy_issue_ns", "host.copies_per_expert", "host.copy_grouping", "host.copy_source", "host.cpu_layer_ns",
        "host.framework", "host.kernel_dispatch",
    ]

    /// Every key an engine file may hold.
    public static let tomlKeys = ["name", "display_name", "source"] + termKeys + ["sources.*"]

    /// The largest host time a term may take, ns (one second: far beyond any sync or copy call).
    static let maximumHostNs: Nanoseconds = 1_000_000_000

    /// Reads an engine file; errors give the line of the bad key and what is valid.
    public init(toml text: String, file: String) throws {
        func fail(_ line: Int, _ problem: String) -> TOMLFileError { TOMLFileError(file: file, line: line, problem: problem) }
        let doc = try TOMLDocument(parsing: text, file: file, allowed: Self.tomlKeys)
        func read<T>(_ key: String, _ reader: (String) throws -> T?) throws -> T? { try doc.read(key, file: file, reader) }
        guard let name = try read("name", doc.string) else { throw fail(0, "has no 'name'") }
        func integer(_ key: String, default value: Int, in range: ClosedRange<Int>, or word: String? = nil) throws -> Int {
            guard let read = try read(key, doc.integer) else { return value }
            guard range.contains(read) else {
                let valid = word.map { "an integer \(range.lowerBound)…\(range.upperBound) or \"\($0)\"" } ?? "\(range.lowerBound)…\(range.upperBound)"
                throw fail(doc.line(of: key), "'\(key)' is \(read); valid: \(valid)")
            }
            return read
        }
        // A count that may instead name where it comes from ("per-matrix", "per-policy"): nil then.
        func countOrWord(_ key: String, word: String, default value: Int?, in range: ClosedRange<Int>) throws -> Int? {
            guard let entry = doc[key] else { return value }
            if case .string(let text) = entry.value {
                guard text == word else { throw fail(entry.line, "'\(key)' is '\(text)'; valid: an integer \(range.lowerBound)…\(range.upperBound) or \"\(word)\"") }
                return nil
            }
            return try integer(key, default: 0, in: range, or: word)
        }
        let experts = try read("execution.experts", doc.string) ?? ExpertExecution.streaming.rawValue
        guard let execution = ExpertExecution(rawValue: experts) else {
            throw fail(doc.line(of: "execution.experts"),
                       "'execution.experts' is '\(experts)'; valid: \(ExpertExecution.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // A word from `valid`, the first when the key is absent.
        func choice(_ key: String, _ valid: [String]) throws -> String {
            let word = try read(key, doc.string) ?? valid[0]
            guard valid.contains(word) else { throw fail(doc.line(of: key), "'\(key)' is '\(word)'; valid: \(valid.joined(separator: ", "))") }
            return word
        }
        let queue = try choice("execution.copy_queue", ["priority", "fifo"])
        var capacityFactor: Double?
        if let entry = doc["execution.capacity_factor"], entry.value != .string("routed") {
            guard execution == .layerBarrier else {
                throw fail(entry.line, "'execution.capacity_factor' applies to layer-barrier engines only; give \"routed\" for \(execution.rawValue)")
            }
            capacityFactor = try read("execution.capacity_factor") { try doc.number($0, in: 0.01...1_000, rangeText: "0.01…1000") }
        }
        let grouping = try choice("host.copy_grouping", ["expert", "id-run"])
        if grouping == "id-run" && !execution.waitsForWholeLayer {
            throw fail(doc.line(of: "host.copy_grouping"),
                       "'host.copy_grouping' \"id-run\" needs a layer that waits for all of its copies (experts = \"layer-barrier\" or \"concurrent-streams\"), not \(execution.rawValue)")
        }
        let copySource = try choice("host.copy_source", ["pinned", "pageable"])
        let shared = try choice("execution.shared_experts", ["with-router", "after-routed"])
        let dispatch = try choice("host.kernel_dispatch", ["queued", "eager"])
        if shared == "after-routed" && execution != .layerBarrier {
            throw fail(doc.line(of: "execution.shared_experts"),
                       "'execution.shared_experts' \"after-routed\" needs experts = \"layer-barrier\", not \(execution.rawValue)")
        }
        var sources: [String: String] = [:]
        for key in doc.keys(under: "sources") {
            let term = String(key.dropFirst("sources.".count))
            guard Self.termKeys.contains(where: { $0.hasSuffix("." + term) }) else {
                throw fail(doc.line(of: key), "'\(key)' names no engine term; valid: \(Self.termKeys.map { $0.split(separator: ".")[1] }.joined(separator: ", "))")
            }
            sources[term] = try read(key, doc.string)
        }
        let host = 0...Int(Self.maximumHostNs)
        // ns, or a sum of the operations the hardware profile prices.
        func hostCost(_ key: String) throws -> HostCost {
            guard let entry = doc[key] else { return .none }
            guard case .string(let text) = entry.value else { return HostCost(fixedNs: Nanoseconds(try integer(key, default: 0, in: host))) }
            guard let cost = HostCost(parsing: text), cost.fixedNs <= Self.maximumHostNs else {
                throw fail(entry.line, "'\(key)' is '\(text)'; valid: an integer \(host.lowerBound)…\(host.upperBound) (ns) or a sum of "
                           + "\(HostCost.operationNames.joined(separator: ", ")), each with an optional count (\"2 × sync\"), and ns (\"sync + launch + 4000\")")
            }
            return cost
        }
        let splitSync = try hostCost("host.split_sync_ns")
        if !splitSync.isZero && execution != .layerBarrier {
            throw fail(doc.line(of: "host.split_sync_ns"), "'host.split_sync_ns' needs experts = \"layer-barrier\", not \(execution.rawValue); give 0")
        }
        let framework = try read("host.framework", doc.string) ?? "none"
        guard !framework.isEmpty, framework.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw fail(doc.line(of: "host.framework"), "'host.framework' is '\(framework)'; valid: \"none\" or a framework's name in lower case (\"pytorch\")")
        }
        var cpuLayer: HostCost?
        if let entry = doc["host.cpu_layer_ns"], entry.value != .string("per-expert") { cpuLayer = try hostCost("host.cpu_layer_ns") }
        self.init(
            name: name, displayName: try read("display_name", doc.string) ?? name, source: try read("source", doc.string) ?? "",
            expertExecution: execution,
            routerSync: try hostCost("host.router_sync_ns"), expertSync: try hostCost("host.expert_sync_ns"), splitSync: splitSync,
            copyIssue: try hostCost("host.copy_issue_ns"),
            copiesPerExpert: try countOrWord("host.copies_per_expert", word: "per-matrix", default: 1, in: 1...64),
            bufferSets: try countOrWord("execution.buffer_sets", word: "per-policy", default: nil, in: 1...64),
            groupedKernelLaunches: try integer("execution.grouped_kernel_launches", default: 1, in: 1...64), capacityFactor: capacityFactor,
            expertStreams: try integer("execution.streams", default: 1, in: 1...128),
            cpuExpertsBelowTokens: try integer("execution.cpu_experts_below_tokens", default: 0, in: ValidRange.cpuExpertsBelowTokens),
            cpuLayer: cpuLayer, hostExpertLayers: try countOrWord("execution.host_expert_layers", word: "all", default: nil, in: ValidRange.hostExpertLayers),
            prefillChunkTokens: try countOrWord("execution.prefill_chunk_tokens", word: "whole", default: nil, in: ValidRange.prefillChunkTokens),
            sharedExpertsAfterRouted: shared == "after-routed",
            copiesIDRuns: grouping == "id-run", copiesFromPageableMemory: copySource == "pageable",
            prioritisesDemand: queue == "priority", framework: framework == "none" ? nil : framework,
            dispatchesEagerly: dispatch == "eager", sources: sources)
    }

    /// The engine as a TOML file a user can edit and load with `--engine FILE`.
    public var tomlText: String {
        var lines = [
            "# moesim engine model (use with --engine NAME or --engine PATH; see `moesim engines`)",
            "name = \(TOMLValue.quoted(name))",
            "display_name = \(TOMLValue.quoted(displayName))",
            "source = \(TOMLValue.quoted(source))",
            "",
            "[execution]",
            "experts = \(TOMLValue.quoted(expertExecution.rawValue))   # \(ExpertExecution.allCases.map(\.rawValue).joined(separator: " | "))",
            "grouped_kernel_launches = \(groupedKernelLaunches)   # launches of the grouped MoE kernel (layer-barrier)",
            "capacity_factor = \(capacityFactor.map { TOMLValue.float($0).description } ?? "\"routed\"")   # grouped kernel (layer-barrier): \"routed\" experts, or every expert at capacity top-k × ⌊factor × ⌈tokens / experts⌉⌋",
            "streams = \(expertStreams)   # CUDA streams a layer's experts are launched on (concurrent-streams)",
            "buffer_sets = \(bufferSets.map(String.init) ?? "\"per-policy\"")   # layer buffer sets without a cache: a prefetch runs buffer_sets - 1 layers ahead",
            "copy_queue = \(TOMLValue.quoted(prioritisesDemand ? "priority" : "fifo"))   # priority: demand copies overtake queued prefetches | fifo: one transfer stream",
            "shared_experts = \(TOMLValue.quoted(sharedExpertsAfterRouted ? "after-routed" : "with-router"))   # shared experts from the router's end, alongside the routed ones | after-routed (layer-barrier)",
            "prefill_chunk_tokens = \(prefillChunkTokens.map(String.init) ?? "\"whole\"")   # prompt tokens a prefill step takes at most (\"whole\": each prompt in one step)",
            "cpu_experts_below_tokens = \(cpuExpertsBelowTokens)   # steps of fewer tokens compute the experts not on the GPU on the host CPU (0: never)",
            "host_expert_layers = \(hostExpertLayers.map(String.init) ?? "\"all\"")   # layers, from the first, whose experts live in host memory; later layers keep theirs on the GPU",
            "",
            "[host]   # ns, or a sum of sync, launch, copy_call (with counts: \"2 × sync\") priced by the hardware profile",
            "router_sync_ns = \(Self.tomlValue(routerSync))   # host waits for the router's ids (device-to-host) before issuing copies",
            "expert_sync_ns = \(Self.tomlValue(expertSync))   # host sync before each expert (per-expert-sync)",
            "split_sync_ns = \(Self.tomlValue(splitSync))   # per layer copied from host memory to the GPU: GPU idle while the host syncs between its weight tensors (layer-barrier)",
            "copy_issue_ns = \(Self.tomlValue(copyIssue))   # host time to issue one copy call",
            "copies_per_expert = \(copiesPerExpert.map(String.init) ?? "\"per-matrix\"")   # copy calls per expert (weight tensors), each paying the link's latency",
            "copy_grouping = \(TOMLValue.quoted(copiesIDRuns ? "id-run" : "expert"))   # expert: each expert copied apart | id-run: one copy per run of consecutive expert ids (layer-barrier)",
            "copy_source = \(TOMLValue.quoted(copiesFromPageableMemory ? "pageable" : "pinned"))   # host memory copies come from: pinned | pageable (at the profile's pageable_h2d_gbps where it has one)",
            "cpu_layer_ns = \(cpuLayer.map(Self.tomlValue) ?? "\"per-expert\"")   # host cost per layer computed on the CPU, or \"per-expert\": the profile's host.expert_overhead_ns per CPU expert",
            "framework = \(TOMLValue.quoted(framework ?? "none"))   # the host code's framework: a profile's [framework.NAME] prices the sync, launch and copy_call above (\"none\": bare driver calls)",
            "kernel_dispatch = \(TOMLValue.quoted(dispatchesEagerly ? "eager" : "queued"))   # queued: kernels queued ahead of the GPU | eager: each issued by the host as a framework op (its launch_ns), none starting before it is issued",
        ]
        let described = Self.termKeys.map { String($0.split(separator: ".")[1]) }.filter { sources[$0] != nil }
        if !described.isEmpty {
            lines += ["", "[sources]   # where each number comes from"]
            lines += described.map { "\($0) = \(TOMLValue.quoted(sources[$0]!))" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A host cost as its file writes it: an integer when it is fixed nanoseconds, else the quoted sum.
    private static func tomlValue(_ cost: HostCost) -> String {
        cost.isFixed ? String(cost.fixedNs) : TOMLValue.quoted(cost.description)
    }
}
