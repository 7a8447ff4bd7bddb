extension ServingEngine {
    /// A small device-to-host copy the host waits for, plus the eager operation that issues
    /// it (`row_indices.cpu()`, `.nonzero().tolist()`): the sync of the PyTorch engines.
    static let syncAndOp = HostCost(syncs: 1, launches: 1)
    /// One eager copy call (`tensor.copy_(..., non_blocking=True)`, `.to(device)`).
    static let copyCall = HostCost(copyCalls: 1)
    /// How the host terms are priced, said once for every PyTorch engine's sources.
    static let pricedByProfile = "priced by the hardware profile: presets assume 5 µs for each sync, launch and copy call (HardwareProfile.presetAssumptions: a copy's latency, a launch); a profile calibrated by `moesim gpu calibrate` holds moesim's own driver calls measured on its GPU, and PyTorch's where it has a [framework.pytorch] table (Benchmarks/torch-host-terms.py --toml)"

    /// moesim's own engine, the default: experts stream as they land, no host costs beyond
    /// the hardware profile's. Every result from before engines existed is this engine's.
    public static let moesim = ServingEngine(
        name: "moesim", displayName: "moesim streaming engine",
        source: "moesim's own execution model (Sources/OffloadSim/Engine/Simulation+Router.swift, Simulation+Layers.swift): after each router every miss is queued at once; each expert computes as soon as its weights are resident; misses without a cache slot stream through two expert-sized staging buffers",
        expertExecution: .streaming, copiesPerExpert: 1, bufferSets: nil,
        groupedKernelLaunches: 1, prioritisesDemand: true,
        sources: [
            "experts": "moesim's engine: an expert runs once resident (Simulation+Layers.swift startNextExpert)",
            "buffer_sets": "moesim's engine: a prefetch buffer of (lookahead + 1) × width experts without a cache (Policies/PolicyCatalog.swift)",
            "copy_queue": "moesim's bus: demand copies ahead of queued prefetches (OffloadSim/Bus/PCIeBus.swift)",
            "router_sync_ns": "none: the simulated engine decides on the device",
            "copy_issue_ns": "none: the hardware profile's per-copy latency holds the copy's whole fixed cost",
            "copies_per_expert": "one copy per expert (moesim's replay copies an expert as one buffer: CUDABackend/Replay/GPUReplay.swift)",
        ])

    /// YALIS on its `offload_prefetch` branch (github.com/axonn-ai/yalis), the engine the
    /// Speculating Experts paper (arXiv 2603.19289) measured: after the router it copies the
    /// top-k ids to the host, issues each expert's two weight tensors as separate copies on
    /// one transfer stream into one of two per-layer buffer sets, makes the compute stream
    /// wait for all of them and runs one fused MoE kernel.
    public static let yalis = ServingEngine(
        name: "yalis", displayName: "YALIS, branch offload_prefetch",
        source: "github.com/axonn-ai/yalis, branch offload_prefetch: yalis/offloading/manager.py, yalis/offloading/buffer_manager.py, yalis/external/model.py (LLaMAMoE.forward), yalis/external/fused_moe.py, yalis/tensor_parallel/moe.py; configuration as in examples/infer_cpu_offload.py (modules [\"mlp.experts\"], selective prefetch, 1 prefetch layer, preallocated buffers)",
        expertExecution: .layerBarrier, routerSync: syncAndOp, copyIssue: copyCall, copiesPerExpert: 2, bufferSets: 2,
        groupedKernelLaunches: 5, prioritisesDemand: false, framework: "pytorch",
        sources: [
            "framework": "YALIS is PyTorch: manager.py reads the ids with row_indices.cpu(), buffer_manager.py copies with tensor.copy_(non_blocking=True)",
            "kernel_dispatch": "queued: engine.py compiles generate with torch.compile(mode=\"reduce-overhead\"), which replays decode as CUDA graphs (engine.py YALIS_DECODE_MODE, branch offload_prefetch), so its kernels are not dispatched one eager op at a time; its host reads of the routed ids break the graphs (priced as router_sync_ns)",
            "experts": "model.py LLaMAMoE.forward calls offload_manager.fetch_layer (or layer_context, which waits for the prefetched layer) and then self.experts(...) once; manager.py fetch_layer ends with current_stream.wait_stream(transfer_stream), so the compute stream waits for every copy of the layer; TPMoE.forward runs fused_moe.py fused_experts over the layer's experts",
            "grouped_kernel_launches": "fused_moe.py fused_experts: moe_align_block_size, fused_moe_kernel (w1), silu_and_mul, fused_moe_kernel (w2), torch.sum — 5 launches",
            "buffer_sets": "manager.py prepare_for_offloading: num_buffer_sets = num_prefetch_layers + 1, with num_prefetch_layers = 1 (examples/infer_cpu_offload.py); buffer_manager.py get_buffer_idx_for_layer: layer N uses set N % num_buffer_sets; each set holds a whole layer's expert tensors",
            "copy_queue": "manager.py: fetch_layer and prefetch_layer both issue on the one self.transfer_stream, in issue order",
            "router_sync_ns": "manager.py _move_rows_to_gpu: row_indices.cpu() copies the top-k ids to the host and blocks it until the router has run: one small device-to-host copy plus one eager op (sync + launch), " + pricedByProfile + "; not measured on the paper's machine",
            "copy_issue_ns": "buffer_manager.py copy_rows: one gpu_buffer[r].copy_(cpu_tensor[r], non_blocking=True) per expert row per weight tensor, each an eager PyTorch copy call (copy_call), " + pricedByProfile,
            "copies_per_expert": "tensor_parallel/moe.py TPMoE: two weight tensors per expert, gate_up_proj [E, 2I, H] and proj [E, H, I]; copy_rows copies each row of each separately",
        ])

    /// Hugging Face transformers' MoE blocks with experts offloaded (accelerate's CPU-offload
    /// hooks): a Python loop over the layer's routed experts, a host sync to find each
    /// expert's tokens, the expert's weights copied when its module runs.
    public static let hfTransformers = ServingEngine(
        name: "hf-transformers", displayName: "Hugging Face transformers, eager MoE loop with CPU offload",
        source: "github.com/huggingface/transformers: models/switch_transformers/modeling_switch_transformers.py SwitchTransformersSparseMLP.forward and models/qwen3_moe/modeling_qwen3_moe.py (per-expert loop); github.com/huggingface/accelerate hooks.py AlignDevicesHook (offloaded weights moved to the GPU when a module runs)",
        expertExecution: .perExpertSync, routerSync: syncAndOp, expertSync: HostCost(syncs: 2, launches: 2), copyIssue: copyCall, copiesPerExpert: nil, bufferSets: 1,
        groupedKernelLaunches: 1, prioritisesDemand: false, framework: "pytorch", dispatchesEagerly: true,
        sources: [
            "framework": "transformers' modeling code and accelerate's hooks are PyTorch",
            "kernel_dispatch": "eager: the modeling code runs as eager PyTorch, one operation (and its kernel) at a time (arXiv 2605.11537's artifact, src/latency.py, neither compiles the model nor captures graphs)",
            "experts": "SwitchTransformersSparseMLP.forward: `for idx in idx_mask: next_states[router_mask[:, :, idx]] = expert(hidden_states[router_mask[:, :, idx]])`, one expert at a time; Qwen3MoeSparseMoeBlock: `for expert_idx in expert_hit: ... torch.where(expert_mask[expert_idx])`",
            "buffer_sets": "accelerate AlignDevicesHook.pre_forward copies a module's offloaded weights when it runs and post_forward drops them: nothing is loaded ahead",
            "copy_queue": "the copies run on the current stream, in program order",
            "router_sync_ns": "SwitchTransformersSparseMLP.forward: torch.nonzero(idx_mask)...tolist() reads the routed experts on the host (Qwen3: expert_hit ... .nonzero()): one small device-to-host copy plus one eager op (sync + launch), " + pricedByProfile,
            "expert_sync_ns": "two eager operations per expert that each wait for a count on the host (2 × sync + 2 × launch). Switch: `hidden_states[router_mask[:, :, idx]]` and `next_states[router_mask[:, :, idx]] = ...` index with a boolean mask, which PyTorch's index and index_put_ turn into indices with nonzero, sizing the result on the host. Qwen3 (Qwen3MoeSparseMoeBlock.forward, transformers 00d4b3d2): `self.experts[expert_idx]` indexes a ModuleList with a one-element CUDA tensor, which reads the id on the host (later versions: `if expert_idx == self.num_experts`), and torch.where sizes its output; its token and weight gathers, weight multiply and index_add_ (4-5 eager operations more per expert) are not counted. " + pricedByProfile,
            "copy_issue_ns": "accelerate set_module_tensor_to_device: one eager .to(device) per weight tensor (copy_call), " + pricedByProfile,
            "copies_per_expert": "one per weight matrix of the expert module (nn.Linear wi/wo for Switch; gate_proj/up_proj/down_proj for SwiGLU experts)",
        ])

    /// DeepSpeed ZeRO stage 3 with parameters offloaded to pinned CPU memory, wrapping Hugging
    /// Face's MoE loop: each submodule's parameters are fetched when it runs and the compute
    /// waits for them; the prefetch that follows a recorded module trace is invalidated as soon
    /// as the routed experts differ from the recorded ones, so across MoE layers nothing is
    /// fetched ahead. On a routed MoE its schedule is therefore the `hf-transformers` one.
    public static let deepSpeedZero3: ServingEngine = {
        // Hugging Face's schedule, term for term; only the names and the sources differ.
        var engine = hfTransformers
        engine.name = "deepspeed-zero3"
        engine.displayName = "DeepSpeed ZeRO-3 with parameters offloaded to pinned CPU memory, over Hugging Face's MoE loop"
        engine.source = "github.com/microsoft/DeepSpeed deepspeed/runtime/zero/partitioned_param_coordinator.py (fetch_sub_module, trace_prologue, _invalidate_trace, reset_step; commit 38327e07f); the wrapped model's loop as in transformers' SwitchTransformersSparseMLP.forward"
        engine.sources = [
            "experts": "the wrapped Hugging Face loop runs one routed expert at a time (SwitchTransformersSparseMLP.forward); fetch_sub_module gathers a submodule's parameters when its forward hook fires and blocks on them before it runs",
            "buffer_sets": "fetch_sub_module prefetches upcoming parameters only while the recorded module trace matches (is_complete_trace); trace_prologue calls _invalidate_trace when the module that runs is not the recorded one, which a change in routed experts causes, so nothing is fetched ahead across MoE layers; release_sub_module frees parameters after use",
            "copy_queue": "all gathers run on the coordinator's one allgather stream, in issue order; the compute stream waits on it (current_stream().wait_stream)",
            "router_sync_ns": "the wrapped loop reads the routed experts on the host (torch.nonzero(...).tolist()): one device-to-host copy plus one eager op (sync + launch), " + pricedByProfile,
            "expert_sync_ns": "the wrapped loop's two boolean-mask indexings per expert (SwitchTransformersSparseMLP.forward: read and write of the expert's tokens), each sizing its result on the host (2 × sync + 2 × launch), " + pricedByProfile,
            "copy_issue_ns": "one all-gather call per parameter (a single GPU's all-gather is a copy from the pinned partition; copy_call), " + pricedByProfile,
            "framework": "DeepSpeed and the model it wraps are PyTorch",
            "kernel_dispatch": "eager: the wrapped model runs as eager PyTorch, one operation at a time, with DeepSpeed's hooks around each submodule",
            "copies_per_expert": "each nn.Linear of an expert is its own submodule with its own fetch (iter_params over z3 leaf modules): one copy per weight matrix; the second matrix's fetch fires when the first has run, where moesim issues both before the expert runs (one matrix's compute per expert of overlap that DeepSpeed does not have)",
        ]
        return engine
    }()

    /// Tutel's MoE layer (github.com/microsoft/tutel) with every expert resident: a
    /// capacity-based dispatch and one batched matmul per projection over all local experts, so
    /// each expert runs its padded capacity whatever its load, and no host sync.
    public static let tutel = ServingEngine(
        name: "tutel", displayName: "Tutel MoE layer, all experts resident",
        source: "github.com/microsoft/tutel (commit 82af7aa): tutel/impls/moe_layer.py (forward: fast_encode, expert_local, fast_decode), tutel/impls/fast_dispatch.py (extract_critical: the capacity), tutel/experts/ffn.py (FusedExpertsNetwork.forward: batched matmuls over the local experts)",
        expertExecution: .layerBarrier,  copiesPerExpert: 1, bufferSets: 1,
        groupedKernelLaunches: 7, capacityFactor: 1.0, prioritisesDemand: false, framework: "pytorch", dispatchesEagerly: true,
        sources: [
            "framework": "Tutel is a PyTorch extension (moe_layer.py)",
            "kernel_dispatch": "eager: moe_layer.py's forward issues its encode, matmuls, activation and decode as eager PyTorch operations",
            "experts": "moe_layer.py forward: fast_encode scatters the tokens into an [experts × capacity, model] buffer, expert_local runs FusedExpertsNetwork over all local experts at once, fast_decode gathers back: the layer waits for its whole batch of experts",
            "grouped_kernel_launches": "fast_encode, matmul (fc1), add (fc1 bias), activation, matmul (fc2), add (fc2 bias), fast_decode — 7 launches (ffn.py FusedExpertsNetwork.forward without megablocks; the gate's kernels belong to the router)",
            "capacity_factor": "fast_dispatch.py extract_critical: capacity = top_k × int(capacity_factor × ceil(tokens / experts)); moe_layer.py reads the gate's capacity_factor, default 1.0 (CAP_FACTOR)",
            "buffer_sets": "none used: the engine needs every expert resident (no offloading in Tutel)",
            "router_sync_ns": "none: the capacity comes from the tensor shapes on the host and the dispatch runs on the device",
            "copy_issue_ns": "none: nothing is copied per layer",
            "copy_queue": "unused: nothing is copied per layer",
            "copies_per_expert": "unused: nothing is copied per layer (ffn.py keeps each projection of all local experts as one batched tensor)",
        ])

    /// The runtime of arXiv 2605.11537 as its abstract describes it: a layer's experts (and
    /// their replicas) as separate kernels on concurrent CUDA streams, the expert ids taken
    /// from a hash table predicted ahead of the batch (SiDA-MoE), so no host sync on the
    /// router or per expert. Its code is not public: the stream count is an assumption.
    public static let replicaStreams = ServingEngine(
        name: "replica-streams", displayName: "concurrent expert streams with replicas (arXiv 2605.11537, as its abstract describes)",
        source: "arXiv 2605.11537 abstract (\"the replicated experts process batch tokens concurrently\"); github.com/vvkkvv23812025/moe-mpmc src/utils/manager.py (SODAManager: the predicted experts moved with .to(\"cuda\") before the batch, the hash table built by a thread); the replication and stream code is not in that repository",
        expertExecution: .concurrentStreams, copyIssue: copyCall, copiesPerExpert: nil, bufferSets: nil,
        groupedKernelLaunches: 1, expertStreams: 4, prioritisesDemand: false, framework: "pytorch", dispatchesEagerly: true,
        sources: [
            "framework": "moe-mpmc is PyTorch (src/utils/manager.py: module.to(\"cuda\"))",
            "kernel_dispatch": "eager: moe-mpmc runs transformers' Switch model as eager PyTorch (src/latency_with_hash.py compiles nothing); a concurrent layer's host issue of its streams' kernels is priced in the concurrency model itself",
            "experts": "abstract: replicas process the batch's tokens concurrently; each expert copy is moesim's per-expert kernel on one of the streams",
            "streams": "ASSUMED: 4 (the paper's stream count is not in its public artifact); sweep `engine` over edited copies to see its effect",
            "buffer_sets": "none: SODAManager.move_experts keeps the predicted experts on the GPU (a cache), nothing is staged per layer",
            "copy_queue": "module.to(\"cuda\") runs on the current stream in program order",
            "router_sync_ns": "none: SwitchTransformersSparseMLPOffloading.forward reads the expert ids from the predicted hash table, not from the router",
            "expert_sync_ns": "none: the replicas' kernels are launched without waiting on each other (the abstract's concurrency)",
            "copy_issue_ns": "module.to(\"cuda\") issues one eager copy per weight tensor (copy_call), " + pricedByProfile,
            "copies_per_expert": "one per weight tensor of the expert module (SwitchTransformersDenseActDense wi, wo)",
        ])

    /// llama.cpp with its routed-expert tensors kept in host memory (`--cpu-moe`, or
    /// `--n-cpu-moe N` for the layers it names) and the rest of the model on one GPU: a step of
    /// fewer than 32 tokens computes the experts on the CPU; a larger one copies the layer's
    /// used experts to the GPU, run by run of consecutive ids, and runs `MUL_MAT_ID` there.
    public static let llamaCpp = ServingEngine(
        name: "llama-cpp", displayName: "llama.cpp with expert tensors in host memory (--cpu-moe)",
        source: "github.com/ggml-org/llama.cpp (master, 2026): ggml/src/ggml-cuda/ggml-cuda.cu ggml_backend_cuda_device_offload_op (32 tokens by default), ggml/src/ggml-backend.cpp ggml_backend_sched_compute_splits (copy only the used experts, PR #15346) and ggml_backend_sched_split_graph (a new split per offloaded weight), src/llama-graph.cpp build_moe_ffn; common/arg.cpp --cpu-moe / --n-cpu-moe (tensor override of ffn_(up|down|gate)_exps to the CPU buffer)",
        expertExecution: .layerBarrier, routerSync: HostCost(syncs: 1), splitSync: HostCost(syncs: 2, copyCalls: 2), copyIssue: copyCall,
        copiesPerExpert: nil, bufferSets: 1, groupedKernelLaunches: 5, cpuExpertsBelowTokens: 32, cpuLayer: HostCost(syncs: 1, copyCalls: 1), prefillChunkTokens: 512,
        sharedExpertsAfterRouted: true, copiesIDRuns: true, copiesFromPageableMemory: true,
        prioritisesDemand: false,
        sources: [
            "experts": "from 32 tokens: build_moe_ffn's MUL_MAT_IDs (up, gate, down) run on the GPU, each the first node of its own split (ggml_backend_sched_split_graph starts a split at a weight on another backend), whose expert tensor the scheduler copies before the split runs; copies and kernels share the backend's one stream, so a layer's experts wait for its copies",
            "grouped_kernel_launches": "build_moe_ffn: MUL_MAT_ID up, MUL_MAT_ID gate, SWIGLU, MUL_MAT_ID down, then the MUL by the weights and the top-k − 1 ADDs that sum the experts, which ggml-cuda.cu's graph evaluation fuses into one kernel (ggml_cuda_match_moe_weighted_reduction, ggml-cuda/moe-weighted-reduction.cu) — 5; the activations' quantisation inside a quantised MUL_MAT_ID is not counted",
            "buffer_sets": "one: each split's input copy is reused layer after layer (n_copies = 1 without pipeline parallelism), and nothing is copied ahead of the layer that needs it",
            "copy_queue": "ggml_backend_tensor_set_async on the GPU backend's stream, in graph order",
            "shared_experts": "src/models/deepseek2.cpp (and the other shared-expert models): build_moe_ffn first, then build_ffn over the ffn_*_shexp tensors, then the ADD; ggml_backend_sched_compute_splits runs the splits in graph order, and the CPU backend computes its split synchronously, so the shared expert's GPU split starts after the routed experts",
            "prefill_chunk_tokens": "common/common.h common_params n_ubatch = 512, the physical batch (llama_context_default_params likewise): llama_decode splits a batch into ubatches of at most n_ubatch tokens and runs the graph, its expert copies included, once per ubatch",
            "cpu_experts_below_tokens": "ggml-cuda.cu ggml_backend_cuda_device_offload_op: an op whose weights are in host memory runs on the GPU only when get_op_batch_size(op) >= op_offload_min_batch_size, 32 unless the GGML_OP_OFFLOAD_MIN_BATCH environment variable says otherwise (for MUL_MAT_ID the batch is ne[2], the ubatch's tokens); below that the CPU backend runs it from host memory",
            "router_sync_ns": "ggml_backend_sched_compute_splits: the host reads what the router wrote (GPU path: ggml_backend_tensor_get_async of the ids, then ggml_backend_synchronize; CPU path: the split's inputs copied to the host after the GPU is synchronised): one sync, priced by the hardware profile (presets assume 5 µs)",
            "split_sync_ns": "ggml_backend_sched_compute_splits: up, gate and down each start a split whose expert tensor is an input; before copying a split's inputs the host calls ggml_backend_synchronize on the GPU backend (its events are NULL without pipeline parallelism, n_copies = 1), so before the gate and the down tensor's copies it waits for the previous tensor's kernel and the GPU idles until the first copy call is issued: 2 × (sync + copy_call) per layer on the GPU path (the up split's sync is the router's above)",
            "copy_issue_ns": "one ggml_backend_tensor_set_async (cudaMemcpyAsync) per run and weight tensor (copy_call), priced by the hardware profile",
            "copy_source": "pageable: --cpu-moe overrides the expert tensors to ggml_backend_cpu_buffer_type() (common/common.h llm_ffn_exps_cpu_override), not the CUDA host buffer type, so they sit in the CPU buffer or, with mmap (the default), in the mapped model file; the copies move at the profile's pageable_h2d_gbps, which gpu calibrate measures and presets lack",
            "copies_per_expert": "GGUF stores a layer's experts as one tensor per projection (ffn_gate_exps, ffn_up_exps, ffn_down_exps): one copy per weight matrix of a run",
            "copy_grouping": "ggml_backend_sched_compute_splits: the used expert ids are set in a bitset and consecutive ones copied together (copy_experts(first_id, last_id))",
            "cpu_layer_ns": "CPU path: besides the router's output read above, the layer's hidden state comes to the host (a sync) and the result goes back to the GPU (one copy call, ggml_backend_tensor_copy), priced by the hardware profile; the CPU's MUL_MAT_ID then reads each used expert's rows with all threads, the host roofline per expert (hardware profile host.memory_gbps, host.tflops), without a per-expert overhead",
        ])

    /// The built-in engines, in the order `moesim engines` lists them.
    public static let builtIns: [ServingEngine] = [.moesim, .yalis, .hfTransformers, .deepSpeedZero3, .tutel, .replicaStreams, .llamaCpp]

    /// The built-in engine named `name` (case-insensitive), or nil.
    public static func builtIn(named name: String) -> ServingEngine? {
        builtIns.first { $0.name == name.lowercased() }
    }
}
