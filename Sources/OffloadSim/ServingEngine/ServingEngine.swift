/// How the serving engine that a result was measured on executes a layer (DESIGN.md §3,
/// "the engine"): engines differ in what they overlap, and a policy's gain is measured
/// against the engine's own on-demand path, so the engine is part of the model, as the
/// hardware is.
///
/// An engine is a named, editable file (`engines/*.toml`, ``init(toml:file:)``,
/// ``tomlText``); each number names its source in ``sources``: the engine's code by file,
/// a datasheet, or a calibration. ``moesim`` (the default) is the simulator's own engine and
/// adds nothing to a run: every earlier result is unchanged.
public struct ServingEngine: Sendable, Equatable {
    /// Short name, as given to `--engine`.
    public var name: String
    /// The engine's published name and version.
    public var displayName: String
    /// What the engine is and where its code is.
    public var source: String
    /// How a layer's routed experts are executed.
    public var expertExecution: ExpertExecution
    /// Host time from the router's end on the GPU until the host knows the routed ids (a
    /// device-to-host copy of the top-k ids that blocks the host); none: the engine decides
    /// on the device or does not wait. While the host waits, nothing new is launched.
    public var routerSync: HostCost
    /// Under ``ExpertExecution/perExpertSync``: host time of the sync before each expert's
    /// launch (the loop reads the expert's token indices on the host).
    public var expertSync: HostCost
    /// Per layer whose routed experts a layer-barrier engine copies from host memory and runs on
    /// the GPU: host time in which the GPU idles between the layer's weight tensors (the host
    /// waits for one tensor's kernel, then issues the next tensor's copies; llama.cpp's
    /// scheduler synchronises before each split's input copies). On one stream the layer's
    /// time is the same whether these gaps fall between its tensors or before its grouped
    /// kernel, where the simulation puts them.
    public var splitSync: HostCost
    /// Host time to issue one host-to-device copy call: the host issues a layer's copies one
    /// after another, so the k-th copy can start no earlier than k × this after the host decided.
    public var copyIssue: HostCost
    /// Host-to-device copy calls per expert (one per weight tensor as the engine stores
    /// them); each pays the link's per-copy latency. nil: one per weight matrix of the model
    /// (``ModelCost/matricesPerExpert``), as engines that keep each projection apart do.
    public var copiesPerExpert: Int?
    /// Layer buffer sets for experts without a cache slot: without a cache a prefetch may
    /// run `bufferSets − 1` layers ahead of the layer being computed. nil: sized to the
    /// policy (its lookahead + 1 layers), as moesim's own engine does.
    public var bufferSets: Int?
    /// Kernel launches of the grouped MoE kernel under ``ExpertExecution/layerBarrier``.
    public var groupedKernelLaunches: Int
    /// Under ``ExpertExecution/layerBarrier``: nil, the grouped kernel runs the routed experts
    /// at their token counts; a factor, it runs every expert of the layer at the capacity
    /// top-k × ⌊factor × ⌈tokens / experts⌉⌋, padded, as a capacity-based dispatch does (Tutel's
    /// `extract_critical`), so it reads all of the layer's weights: every expert must be resident.
    public var capacityFactor: Double?
    /// CUDA streams a layer's experts are launched on under ``ExpertExecution/concurrentStreams``
    /// (round-robin in execution order); 1 elsewhere.
    public var expertStreams: Int
    /// Steps of fewer tokens than this compute every routed expert that is not resident on the
    /// GPU on the host CPU instead of copying it, whatever the policy's miss handling (llama.cpp's
    /// rule for expert tensors kept in host memory: ggml-cuda offloads a `MUL_MAT_ID` to the GPU
    /// only from 32 tokens on); 0: never.
    public var cpuExpertsBelowTokens: Int
    /// Host cost once per layer whose experts run on the CPU (the layer's input read back to
    /// the host, its result copied to the GPU), each CPU expert then costing the host roofline
    /// alone; nil: the profile's per-expert overhead on every CPU expert instead
    /// (``HardwareProfile/hostExpertOverheadNs``, Fiddler's model).
    public var cpuLayer: HostCost?
    /// Prompt tokens one prefill step takes at most (llama.cpp's ubatch, a chunked prefill):
    /// longer prompts go in several steps, each copying and computing its own experts; nil:
    /// each admitted prompt whole in one step.
    public var prefillChunkTokens: Int?
    /// Whether a layer's shared experts run after its routed experts rather than from the
    /// router's end, alongside them (llama.cpp builds the shared expert's FFN after the routed
    /// ones and its scheduler runs the graph's splits in order). Layer-barrier engines only.
    public var sharedExpertsAfterRouted: Bool
    /// Layers, from the first, whose routed experts live in host memory; every later layer's
    /// experts stay on the GPU from the start, outside the cache, never copied (llama.cpp's
    /// `--n-cpu-moe N`); nil: every layer's.
    public var hostExpertLayers: Int?
    /// Whether a layer's copies into its buffer set go as one copy per run of consecutive
    /// expert ids (each run ``copiesPerExpert`` calls, one per weight tensor) rather than one
    /// per expert, as llama.cpp's scheduler copies the used rows of an expert tensor. Only for
    /// engines whose layer waits for all of its copies (``waitsForWholeLayer``).
    public var copiesIDRuns: Bool
    /// Whether the engine copies experts from pageable host memory (weights it never pinned:
    /// llama.cpp's CPU buffer or memory-mapped model file) rather than pinned memory: its copies
    /// then move at the profile's ``HardwareProfile/pageableH2DGBps`` where it has one.
    public var copiesFromPageableMemory: Bool
    /// Whether demand copies overtake queued prefetches (moesim's two priority classes);
    /// false: one FIFO transfer stream for every copy, as an engine with a single copy
    /// stream has.
    public var prioritisesDemand: Bool
    /// The framework the engine's host code issues its operations through ("pytorch"), whose
    /// `[framework.NAME]` costs in a hardware profile price its host costs
    /// (``HostCost/nanoseconds(on:framework:)``); nil: bare driver calls, at the profile's own
    /// sync, launch and copy call.
    public var framework: String?
    /// Whether the host issues each kernel as its own framework operation, in program order
    /// (eager PyTorch), so that a kernel cannot start before the host has dispatched it and a
    /// stream of kernels shorter than their dispatch is bound by the host; false: kernels are
    /// queued ahead of the GPU (CUDA graphs, a compiled model, bare driver calls) and only the
    /// profile's launch gap separates them. Priced only on a profile with the ``framework``'s
    /// costs (its `launch_ns` a kernel); elsewhere the profile's launch gap stands for it.
    public var dispatchesEagerly: Bool
    /// Per TOML key, where its value comes from.
    public var sources: [String: String]

    /// Creates an engine description.
    public init(name: String, displayName: String, source: String, expertExecution: ExpertExecution = .streaming,
                routerSync: HostCost = .none, expertSync: HostCost = .none, splitSync: HostCost = .none, copyIssue: HostCost = .none,
                copiesPerExpert: Int? = 1, bufferSets: Int? = nil, groupedKernelLaunches: Int = 1, capacityFactor: Double? = nil,
                expertStreams: Int = 1, cpuExpertsBelowTokens: Int = 0, cpuLayer: HostCost? = nil, hostExpertLayers: Int? = nil,
                prefillChunkTokens: Int? = nil, sharedExpertsAfterRouted: Bool = false, copiesIDRuns: Bool = false,
                copiesFromPageableMemory: Bool = false, prioritisesDemand: Bool = true, framework: String? = nil,
                dispatchesEagerly: Bool = false, sources: [String: String] = [:]) {
        self.name = name
        self.displayName = displayName
        self.source = source
        self.expertExecution = expertExecution
        self.routerSync = routerSync
        self.expertSync = expertSync
        self.splitSync = splitSync
        self.copyIssue = copyIssue
        self.copiesPerExpert = copiesPerExpert
        self.bufferSets = bufferSets
        self.groupedKernelLaunches = groupedKernelLaunches
        self.capacityFactor = capacityFactor
        self.expertStreams = expertStreams
        self.cpuExpertsBelowTokens = cpuExpertsBelowTokens
        self.cpuLayer = cpuLayer
        self.hostExpertLayers = hostExpertLayers
        self.prefillChunkTokens = prefillChunkTokens
        self.sharedExpertsAfterRouted = sharedExpertsAfterRouted
        self.copiesIDRuns = copiesIDRuns
        self.copiesFromPageableMemory = copiesFromPageableMemory
        self.prioritisesDemand = prioritisesDemand
        self.framework = framework
        self.dispatchesEagerly = dispatchesEagerly
        self.sources = sources
    }

    /// Whether the host's own time (syncs, copy issue) enters the run: false for an engine
    /// that neither syncs nor pays for issuing copies, whose runs need no host clock.
    public var hasHostCosts: Bool { !routerSync.isZero || !expertSync.isZero || !splitSync.isZero || !copyIssue.isZero }

    /// Whether a step of `tokens` tokens computes its non-resident experts on the host CPU
    /// (``cpuExpertsBelowTokens``).
    public func computesOnCPU(tokens: Int) -> Bool { tokens < cpuExpertsBelowTokens }

    /// Whether `layer`'s routed experts stay on the GPU from the start (``hostExpertLayers``).
    public func keepsExpertsOnGPU(layer: Int) -> Bool { hostExpertLayers.map { layer >= $0 } ?? false }

    /// Whether a layer's experts wait for all of its copies and the uncached ones land in a
    /// buffer set holding the whole layer (layer-barrier and concurrent-streams engines).
    public var waitsForWholeLayer: Bool { expertExecution.waitsForWholeLayer }

    /// Whether a layer runs every one of its experts at capacity (``capacityFactor`` under a
    /// layer barrier), which needs all of them resident.
    public var runsEveryExpert: Bool { expertExecution == .layerBarrier && capacityFactor != nil }

    /// How every output names the engine: "yalis (YALIS, offload_prefetch)".
    public var label: String { "\(name) (\(displayName))" }
}

/// How an engine runs a layer's routed experts once its router has run.
public enum ExpertExecution: String, CaseIterable, Sendable {
    /// Each expert computes as soon as its weights are resident; misses without a cache
    /// slot stream through two expert-sized staging buffers (moesim's own engine).
    case streaming
    /// All of the layer's copies first, then one grouped kernel over the layer's experts;
    /// uncached experts land in a buffer set that holds the whole layer (YALIS: its
    /// transfer stream fills a per-layer buffer set, the compute stream waits for all of
    /// it, then one fused MoE kernel runs).
    case layerBarrier = "layer-barrier"
    /// A host loop over the layer's experts, each launched after a host sync, with its
    /// weights copied when the loop reaches it (Hugging Face transformers' MoE blocks).
    case perExpertSync = "per-expert-sync"
    /// All of the layer's copies first (into a buffer set holding the layer, as
    /// `layer-barrier`), then each expert's own kernels launched round-robin on
    /// ``ServingEngine/expertStreams`` CUDA streams, which run concurrently and share the
    /// SMs and HBM (``GPUCompute/concurrentExpertsNanoseconds(layer:shards:streams:)``).
    case concurrentStreams = "concurrent-streams"

    /// Whether a layer run this way waits for all of its copies (layer-barrier and concurrent-streams).
    public var waitsForWholeLayer: Bool { self == .layerBarrier || self == .concurrentStreams }
}
