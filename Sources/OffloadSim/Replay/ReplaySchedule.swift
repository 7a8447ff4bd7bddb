/// What a simulation did on the GPU during its first steps, in enough detail to do it
/// again on a real GPU (`moesim gpu validate`): the compute stream's operations in order,
/// the copies in the order the bus started them, and what each waited for.
///
/// A copy may start once the compute operation that had last finished when the
/// simulation submitted it has finished (the decision to copy was made then); an expert
/// operation waits for the copy that brought its weights. A layer-barrier engine's grouped
/// kernel (or a concurrent-streams engine's experts on their streams) is recorded as its
/// experts' operations back to back, the first waiting for every copy of the group and
/// holding the group's size; where replicas split an expert's tokens, each copy's share is an
/// operation of its own that reads that copy's weights. A copy is recorded as the pieces the
/// bus moved it in (an engine's copy calls, a prefetch's chunks); a prefetch cancelled before
/// it started is absent, one cancelled between chunks keeps those it moved. Experts the host
/// CPU computed are counted, not recorded (``cpuExperts``). Times are the simulation's, ns.
public struct ReplaySchedule: Sendable, Equatable {
    /// What a compute operation computes.
    public enum Kernel: Sendable, Equatable {
        /// A draft model's step (speculative decoding).
        case draft
        /// Attention and router of `layer`, reading `bytes` of weights and KV cache.
        case attention(layer: Int, bytes: Int)
        /// The shared experts of `layer`, `bytes` of weights.
        case shared(layer: Int, bytes: Int)
        /// Routed expert `expert` of `layer` (cache key `key`), or in staging buffer
        /// `staging` (≥ 0) when it has no cache slot; `onCPU` when the host computed it.
        case expert(layer: Int, expert: Int, key: Int, staging: Int, onCPU: Bool)
    }

    /// One operation of the compute stream.
    public struct ComputeOp: Sendable, Equatable {
        /// What it computes.
        public var kernel: Kernel
        /// Tokens it processes.
        public var tokens: Int
        /// Indices into ``ReplaySchedule/copies`` of the copies it waits for (the one that
        /// brought an expert's weights; a grouped kernel's whole layer), ascending.
        public var waitsForCopies: [Int]
        /// Simulated start and end, ns (end − start includes any slowdown from a copy running alongside).
        public var start: Nanoseconds
        public var end: Nanoseconds
        /// Its time alone on the GPU, without interference from copies, ns.
        public var work: Nanoseconds
        /// The first expert of a grouped kernel: the group's number of experts (this operation
        /// and the ones after it); 0 for every other operation.
        public var groupSize: Int
        /// For a routed expert, which copy of its weights it reads: 0 its own, r ≥ 1 its r-th
        /// replica (a concurrent-streams layer splits an expert's tokens among its ready replicas).
        public var replica: Int

        /// Creates an operation.
        public init(kernel: Kernel, tokens: Int, waitsForCopies: [Int] = [], start: Nanoseconds, end: Nanoseconds, work: Nanoseconds,
                    groupSize: Int = 0, replica: Int = 0) {
            self.kernel = kernel
            self.tokens = tokens
            self.waitsForCopies = waitsForCopies
            self.start = start
            self.end = end
            self.work = work
            self.groupSize = groupSize
            self.replica = replica
        }
    }

    /// One host-to-device copy.
    public struct Copy: Sendable, Equatable {
        /// Bytes moved.
        public var bytes: Int
        /// Destination cache key, or -1 for a staging buffer.
        public var key: Int
        /// Destination staging buffer when `key` is -1.
        public var staging: Int
        /// 0 for the expert's own weights; r ≥ 1 for its r-th replica (a replica copy that
        /// arrived after its replica was given up lands in replica 1 and nothing waits for it).
        public var replica: Int
        /// Index into ``ReplaySchedule/ops`` of the operation after which it was decided, or -1.
        public var after: Int
        /// Whether it was a prefetch when submitted.
        public var prefetch: Bool
        /// Simulated start (latency included) and end, ns.
        public var start: Nanoseconds
        public var end: Nanoseconds
        /// Where in its destination it lands, bytes: a copy is recorded as the pieces the bus
        /// moved it in (``CopyPiece``: one per copy call of the engine, one per chunk of a chunked
        /// prefetch), each where it begins in the expert's weights.
        public var offset: Int

        /// Creates a copy.
        public init(bytes: Int, key: Int, staging: Int, replica: Int = 0, after: Int, prefetch: Bool, start: Nanoseconds, end: Nanoseconds,
                    offset: Int = 0) {
            self.offset = offset
            self.bytes = bytes
            self.key = key
            self.staging = staging
            self.replica = replica
            self.after = after
            self.prefetch = prefetch
            self.start = start
            self.end = end
        }
    }

    /// One step: its operations are `ops[firstOp..<endOp]`.
    public struct StepSpan: Sendable, Equatable {
        /// The step's index in the run.
        public var index: Int
        /// Whether it was a decode step.
        public var decode: Bool
        /// Tokens it carried and tokens it produced.
        public var tokens: Int
        public var produced: Int
        public var firstOp: Int
        public var endOp: Int
        /// Simulated start and end, ns.
        public var start: Nanoseconds
        public var end: Nanoseconds

        /// Creates a step.
        public init(index: Int, decode: Bool, tokens: Int, produced: Int, firstOp: Int, endOp: Int, start: Nanoseconds, end: Nanoseconds) {
            self.index = index
            self.decode = decode
            self.tokens = tokens
            self.produced = produced
            self.firstOp = firstOp
            self.endOp = endOp
            self.start = start
            self.end = end
        }
    }

    /// Compute operations in stream order.
    public internal(set) var ops: [ComputeOp] = []
    /// Copies in the order they started.
    public internal(set) var copies: [Copy] = []
    /// The recorded steps.
    public internal(set) var steps: [StepSpan] = []
    /// Experts the host CPU computed during the recorded steps (Fiddler's, or an engine's below
    /// its CPU threshold): the replay runs none, so a schedule with any is not replayable.
    public internal(set) var cpuExperts = 0

    /// An empty schedule.
    public init() {}

    /// Creates a schedule from parts (tests, hand-written replays).
    public init(ops: [ComputeOp], copies: [Copy], steps: [StepSpan]) {
        self.ops = ops
        self.copies = copies
        self.steps = steps
    }

    /// Operations that read a replica's weights (a share of a replicated expert's tokens).
    public var replicaOps: Int { ops.reduce(0) { $0 + ($1.replica > 0 ? 1 : 0) } }
}
