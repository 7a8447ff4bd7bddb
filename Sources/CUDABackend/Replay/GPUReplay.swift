import OffloadSim

/// Replays a ``ReplaySchedule`` on a GPU (`moesim gpu validate`): expert-sized buffers in
/// pinned host memory, the schedule's copies in its order on one copy stream, its compute
/// operations in order on a compute stream (attention and shared experts as
/// weight-streaming launches, routed experts as three-launch SwiGLU FFNs over the slot
/// their copy filled, a draft model's step as a kernel that holds the GPU for the time the
/// policy assumed for it), and the same dependencies: a copy waits for the operation after
/// which the simulation decided it, an expert for the copy that brought it.
///
/// Each step and each layer is timed with CUDA events on the compute stream. Everything is
/// queued ahead and synchronised once at the end, as a serving loop would keep the GPU fed —
/// except where the engine makes its host wait (``ServingEngine``): after each router when it
/// syncs on the routed ids, before each expert under a per-expert host loop. A layer-barrier
/// engine's grouped kernel runs after all its copies as moesim's grouped SwiGLU kernel
/// (``MoesimKernels/groupedExpertFFN(addresses:addressOffset:experts:hidden:intermediate:tokens:activations:on:)``:
/// three launches over the group's slots, every expert at the group's largest token count),
/// which is what a calibrated grouped table measured. A concurrent-streams engine's experts
/// run round-robin on its streams (``ConcurrentLanes``), forked from the compute stream once
/// their copies are in and joined back before the next operation, as `gpu calibrate`'s
/// concurrency table measured them; a replicated expert's share of tokens on each of its
/// copies is a kernel of its own over that copy's slot, the replica copies made as the
/// simulation made them.
public final class GPUReplay {
    /// Measured times of one pass, ns.
    public struct Pass: Sendable, Equatable {
        /// Per recorded step, its time.
        public var stepNs: [Double]
        /// Per recorded step, the time of each layer (attention start to the next one's, or the step's end).
        public var layerNs: [[Double]]
        /// Bytes copied and copies made.
        public var bytesCopied: Int
        public var copies: Int
        /// Kernels launched.
        public var launches: Int
    }

    let context: CUDAContext
    let kernels: MoesimKernels
    let model: ModelCost
    let schedule: ReplaySchedule
    let engine: ServingEngine
    /// Where things live.
    public let layout: ReplayLayout
    private let pool: DeviceBuffer?
    private let staging: DeviceBuffer?
    private let attention: [DeviceBuffer?]
    private let shared: [DeviceBuffer?]
    /// Where copies come from: pinned host memory, or pageable memory for an engine that never
    /// pins its weights (``ServingEngine/copiesFromPageableMemory``); `hostSlots` slots of
    /// `hostSlotBytes` (the largest copy: a run of expert ids spans several experts), used in
    /// turn; pageable copies read the next stretch of a source of at least
    /// ``GPUCalibration/pageableSourceBytes``.
    private let host: PinnedBuffer?
    private let pageableHost: PageableBuffer?
    private let hostSlots: Int
    private let hostSlotBytes: Int
    private let activations: ExpertActivations
    /// Under a layer-barrier engine: every grouped kernel's expert addresses (gate/up, then
    /// down), and where each group's list starts, by the index of its first operation.
    private let groupAddresses: DeviceBuffer?
    private let groupOffset: [Int: Int]
    /// Under a concurrent-streams engine: the engine's streams.
    private let lanes: ConcurrentLanes?

    /// Sets up a replay of `schedule` for `model`, allocating its buffers.
    public init(context: CUDAContext, kernels: MoesimKernels, model: ModelCost, schedule: ReplaySchedule,
                engine: ServingEngine = .moesim) throws {
        try Self.checkReplayable(schedule, model: model)
        self.context = context
        self.kernels = kernels
        self.model = model
        self.schedule = schedule
        self.engine = engine
        let headroom = 2 << 30
        let laneCount = engine.expertExecution == .concurrentStreams ? engine.expertStreams : 0
        layout = try ReplayLayout(schedule: schedule, model: model, memoryBytes: context.totalMemory - headroom, expertLanes: laneCount)
        let hidden = model.hiddenSize
        activations = try ExpertActivations(context: context, maxTokens: layout.maxTokens, width: hidden, intermediate: layout.activationWidth,
                                            rows: layout.activationRows)
        // The lanes run only routed experts: their buffers hold the largest of those, not attention's tokens.
        lanes = laneCount > 0
            ? try ConcurrentLanes(context: context, count: laneCount, maxTokens: layout.laneTokens, width: hidden,
                                  intermediate: layout.expertIntermediate.max() ?? 8, rows: hidden)
            : nil
        pool = layout.slots > 0 ? try context.allocateDevice(layout.slots * layout.slotBytes) : nil
        staging = layout.stagingBuffers > 0 ? try context.allocateDevice(layout.stagingBuffers * layout.slotBytes) : nil
        attention = try layout.attentionBytes.map { $0 > 0 ? try context.allocateDevice($0) : nil }
        shared = try layout.sharedBytes.map { $0 > 0 ? try context.allocateDevice($0) : nil }
        hostSlotBytes = max(layout.slotBytes, schedule.copies.map { $0.offset + $0.bytes }.max() ?? 0)
        // Eight expert-sized sources in turn; copies of many experts at once (runs of ids) take two of their own size.
        hostSlots = schedule.copies.isEmpty ? 0 : max(2, min(8, 8 * layout.slotBytes / hostSlotBytes))
        let pageable = engine.copiesFromPageableMemory
        host = hostSlots > 0 && !pageable ? try context.allocatePinned(hostSlots * hostSlotBytes) : nil
        // The driver stages a pageable copy through the CPU, whose rate is the host's copy from
        // DRAM (an H200's host, 2026-12-04: 7.6-8.4 GB/s) or from its caches (13 GB/s): each copy
        // reads the next stretch of a source larger than the caches, as an engine's gigabytes of
        // weights are (`gpu calibrate` times them so too).
        pageableHost = hostSlots > 0 && pageable
            ? PageableBuffer(bytes: max(GPUCalibration.pageableSourceBytes, 2 * (schedule.copies.map(\.bytes).max() ?? 0))) : nil
        var addresses: [UInt64] = []
        var offsets: [Int: Int] = [:]
        if engine.expertExecution == .layerBarrier {
            // A group of one is grouped too: the calibrated table measured the grouped kernel at every count.
            for (index, op) in schedule.ops.enumerated() where op.groupSize > 0 {
                offsets[index] = addresses.count * 8
                var bases: [UInt64] = []
                var downs: [UInt64] = []
                for member in schedule.ops[index..<index + op.groupSize] {
                    guard case .expert(let layer, _, _, _, _) = member.kernel else { preconditionFailure("a grouped kernel holds experts only") }
                    let (buffer, offset) = Self.weights(of: member, layout: layout, pool: pool, staging: staging)
                    bases.append(UInt64(buffer.address) + UInt64(offset))
                    downs.append(bases.last! + UInt64(4 * hidden * layout.expertIntermediate[layer]))
                }
                addresses += bases + downs
            }
        }
        groupOffset = offsets
        groupAddresses = addresses.isEmpty ? nil : try context.deviceBuffer(holding: addresses, on: try context.makeStream())
    }

    /// Where routed expert `op` reads its weights: its staging buffer, or the slot of its key's
    /// own weights or of the replica it reads (a replica has a slot even when its expert was staged).
    private static func weights(of op: ReplaySchedule.ComputeOp, layout: ReplayLayout, pool: DeviceBuffer?,
                                staging: DeviceBuffer?) -> (DeviceBuffer, Int) {
        guard case .expert(_, _, let key, let slot, _) = op.kernel else { preconditionFailure("only a routed expert has expert weights") }
        if slot >= 0 && op.replica == 0 { return (staging!, slot * layout.slotBytes) }
        return (pool!, layout.slot(ofKey: key, replica: op.replica) * layout.slotBytes)
    }

    /// Throws ``ReplayError`` when the replay cannot run `schedule` of `model`: experts on the
    /// CPU, a hidden size not a multiple of 8. Needs no GPU.
    public static func checkReplayable(_ schedule: ReplaySchedule, model: ModelCost) throws {
        let onCPU = schedule.ops.contains { if case .expert(_, _, _, _, true) = $0.kernel { true } else { false } }
        if onCPU || schedule.cpuExperts > 0 { throw ReplayError.unsupported("experts computed on the CPU") }
        guard model.hiddenSize % 8 == 0 else { throw ReplayError.unsupported("a hidden size not a multiple of 8") }
    }

    /// Runs the schedule once; `copies` false runs only the compute stream's operations,
    /// without copies or waits (all weights treated as resident): the compute-only time.
    public func run(copies withCopies: Bool) throws -> Pass {
        let compute = try context.makeStream()
        let copyStream = try context.makeStream()
        let copyDone = withCopies ? try schedule.copies.map { _ in try context.makeEvent(timing: false) } : []
        var opNeeded = Set<Int>()
        if withCopies { for copy in schedule.copies where copy.after >= 0 { opNeeded.insert(copy.after) } }
        var opDone: [Int: CUDAEvent] = [:]
        for index in opNeeded { opDone[index] = try context.makeEvent(timing: false) }
        var stepMarks: [[CUDAEvent]] = []
        var nextCopy = 0
        var pageableCursor = 0
        var bytes = 0
        var launches = 0

        func enqueueCopies(before opIndex: Int) throws {
            while withCopies, nextCopy < schedule.copies.count, schedule.copies[nextCopy].after < opIndex {
                let copy = schedule.copies[nextCopy]
                if copy.after >= 0 { try copyStream.wait(for: opDone[copy.after]!) }
                let (buffer, offset) = copy.key >= 0 ? (pool!, layout.slot(ofKey: copy.key, replica: copy.replica) * layout.slotBytes)
                                                     : (staging!, copy.staging * layout.slotBytes)
                // A piece of a copy lands where the simulation's earlier pieces left off.
                if let pageableHost {
                    if pageableCursor + copy.bytes > pageableHost.bytes { pageableCursor = 0 }
                    try copyStream.copy(copy.bytes, from: pageableHost, sourceOffset: pageableCursor, to: buffer, offset: offset + copy.offset)
                    pageableCursor += copy.bytes
                } else {
                    let source = (nextCopy % hostSlots) * hostSlotBytes + copy.offset
                    try copyStream.copy(copy.bytes, from: host!, sourceOffset: source, to: buffer, offset: offset + copy.offset)
                }
                try copyStream.record(copyDone[nextCopy])
                bytes += copy.bytes
                nextCopy += 1
            }
        }

        // Operations before this index belong to a grouped kernel already launched.
        var groupEnd = 0
        for step in schedule.steps {
            var marks = [try context.makeEvent()]
            try compute.record(marks[0])
            for index in step.firstOp..<step.endOp {
                try enqueueCopies(before: index)
                let op = schedule.ops[index]
                if case .attention = op.kernel, index > step.firstOp {
                    let mark = try context.makeEvent()
                    try compute.record(mark)
                    marks.append(mark)
                }
                if withCopies {
                    for copy in op.waitsForCopies {
                        precondition(copy < nextCopy, "an operation waits for a copy not yet queued")
                        try compute.wait(for: copyDone[copy])
                    }
                }
                if let offset = groupOffset[index] {
                    if case .expert(let layer, _, _, _, _) = op.kernel, !engine.splitSync.isZero, !engine.keepsExpertsOnGPU(layer: layer) {
                        // The engine's host syncs between the layer's weight tensors: the host waits for the GPU, then launches.
                        for _ in 0..<max(1, engine.splitSync.syncs) { try compute.synchronize() }
                    }
                    launches += try launchGroup(schedule.ops[index..<index + op.groupSize], addressOffset: offset, on: compute)
                    groupEnd = index + op.groupSize
                } else if let lanes, op.groupSize > 0 {
                    let group = schedule.ops[index..<index + op.groupSize]
                    try lanes.run(group.count, width: engine.expertStreams, after: compute) { item, stream, activations in
                        launches += try launch(group[index + item], on: stream, activations: activations)
                    }
                    groupEnd = index + op.groupSize
                } else if index >= groupEnd {
                    if case .expert = op.kernel, engine.expertExecution == .perExpertSync { try compute.synchronize() }
                    launches += try launch(op, on: compute, activations: activations)
                }
                if case .attention = op.kernel, !engine.routerSync.isZero { try compute.synchronize() }
                if let done = opDone[index] { try compute.record(done) }
            }
            let end = try context.makeEvent()
            try compute.record(end)
            marks.append(end)
            stepMarks.append(marks)
        }
        try enqueueCopies(before: Int.max)
        try context.synchronize()
        var stepNs: [Double] = []
        var layerNs: [[Double]] = []
        for marks in stepMarks {
            stepNs.append(try marks.last!.nanoseconds(since: marks[0]))
            layerNs.append(try zip(marks, marks.dropFirst()).map { try $1.nanoseconds(since: $0) })
        }
        return Pass(stepNs: stepNs, layerNs: layerNs, bytesCopied: bytes, copies: nextCopy, launches: launches)
    }

    /// One grouped kernel over `group`'s experts (all of one layer), each at the group's largest token count.
    private func launchGroup(_ group: ArraySlice<ReplaySchedule.ComputeOp>, addressOffset: Int, on stream: CUDAStream) throws -> Int {
        guard case .expert(let layer, _, _, _, _) = group.first!.kernel else { return 0 }
        try kernels.groupedExpertFFN(addresses: groupAddresses!, addressOffset: addressOffset, experts: group.count, hidden: model.hiddenSize,
                                     intermediate: layout.expertIntermediate[layer], tokens: group.map(\.tokens).max()!, activations: activations,
                                     on: stream)
        return MoesimKernels.launchesPerGroup
    }

    private func launch(_ op: ReplaySchedule.ComputeOp, on stream: CUDAStream, activations: ExpertActivations) throws -> Int {
        let hidden = model.hiddenSize
        switch op.kernel {
        case .draft:
            // moesim has no draft model's kernels: the GPU is held for the time the policy assumed.
            try kernels.spin(nanoseconds: Int(op.work), on: stream)
            return 1
        case .attention(let layer, let bytes):
            try kernels.streamWeights(attention[layer]!, bytes: bytes, width: hidden, tokens: op.tokens, activations: activations, on: stream)
            return 1
        case .shared(let layer, let bytes):
            // Each shared expert as its own FFN, as the simulator costs them.
            let count = max(1, model.sharedExperts)
            let each = bytes / count
            let width = max(8, each / (6 * hidden) / 8 * 8)
            for index in 0..<count {
                try kernels.expertFFN(shared[layer]!, offset: index * each, hidden: hidden, intermediate: width, tokens: op.tokens,
                                      activations: activations, on: stream)
            }
            return count * MoesimKernels.launchesPerExpert
        case .expert(let layer, _, _, _, _):
            let (buffer, offset) = Self.weights(of: op, layout: layout, pool: pool, staging: staging)
            try kernels.expertFFN(buffer, offset: offset, hidden: hidden, intermediate: layout.expertIntermediate[layer], tokens: op.tokens,
                                  activations: activations, on: stream)
            return MoesimKernels.launchesPerExpert
        }
    }
}

/// A schedule the GPU replay cannot run.
public enum ReplayError: Error, CustomStringConvertible {
    case unsupported(String)

    public var description: String {
        switch self {
        case .unsupported(let what):
            return "the GPU replay does not support \(what); validate a single-GPU policy that computes every expert on the GPU (on-demand, cross-layer-gate, default-vector-speculation, promoe, mixtral-offloading, hobbit, oracle, all-resident), "
                + "and under an engine with a CPU threshold (cpu_experts_below_tokens) a --batch whose steps all reach it or --engine-set cpu_experts_below_tokens=0."
        }
    }
}
