/// What a simulation did on the GPU during its first steps, in enough detail to do it
/// again on a real GPU (`moesim gpu validate`): the compute stream's operations in order,
/// the copies in the order the bus started them, and what each waited for.
///
/// A copy may start once the compute operation that had last finished when the
/// simulation submitted it has finished (the decision to copy was made then); an expert
/// operation waits for the copy that brought its weights. A layer-barrier engine's grouped
/// kernel (or a concurrent-streams engine's experts on their streams) is recorded as its
/// experts' operations back to back, the first waiting for every copy of the group and
/// holding the group's size. Cancelled prefetches never
/// started and are absent. Times are the simulation's, ns.
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

        /// Creates an operation.
        public init(kernel: Kernel, tokens: Int, waitsForCopies: [Int] = [], start: Nanoseconds, end: Nanoseconds, work: Nanoseconds,
                    groupSize: Int = 0) {
            self.kernel = kernel
            self.tokens = tokens
            self.waitsForCopies = waitsForCopies
            self.start = start
            self.end = end
            self.work = work
            self.groupSize = groupSize
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
        /// Index into ``ReplaySchedule/ops`` of the operation after which it was decided, or -1.
        public var after: Int
        /// Whether it was a prefetch when submitted.
        public var prefetch: Bool
        /// Simulated start (latency included) and end, ns.
        public var start: Nanoseconds
        public var end: Nanoseconds
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
    }

    /// Compute operations in stream order.
    public internal(set) var ops: [ComputeOp] = []
    /// Copies in the order they started.
    public internal(set) var copies: [Copy] = []
    /// The recorded steps.
    public internal(set) var steps: [StepSpan] = []
    /// Grouped operations of a concurrent-streams engine in which some expert ran as several
    /// copies (a replica's share of its tokens on its own stream): recorded as the expert's one
    /// operation, so a replay of them would not run what the simulation timed.
    public internal(set) var replicatedGroups = 0

    /// An empty schedule.
    public init() {}

    /// Creates a schedule from parts (tests, hand-written replays).
    public init(ops: [ComputeOp], copies: [Copy], steps: [StepSpan], replicatedGroups: Int = 0) {
        self.ops = ops
        self.copies = copies
        self.steps = steps
        self.replicatedGroups = replicatedGroups
    }
}
