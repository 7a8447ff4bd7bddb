/// CUDA streams that run expert kernels concurrently beside a main stream: each lane is a
/// stream with its own activation buffers, forked from the main stream by an event and
/// joined back to it by one event per lane — how a concurrent-streams engine launches a
/// layer's experts round-robin on its streams (``OffloadSim/ExpertExecution/concurrentStreams``),
/// and what `gpu calibrate`'s concurrency table times.
final class ConcurrentLanes {
    private let lanes: [(stream: CUDAStream, joined: CUDAEvent, activations: ExpertActivations)]
    private let fork: CUDAEvent

    /// `count` lanes whose activation buffers hold `maxTokens` tokens of `width`-wide inputs,
    /// `intermediate`-wide experts and `rows`-row outputs (``ExpertActivations``).
    init(context: CUDAContext, count: Int, maxTokens: Int, width: Int, intermediate: Int, rows: Int) throws {
        lanes = try (0..<count).map { _ in
            (stream: try context.makeStream(), joined: try context.makeEvent(timing: false),
             activations: try ExpertActivations(context: context, maxTokens: maxTokens, width: width, intermediate: intermediate, rows: rows))
        }
        fork = try context.makeEvent(timing: false)
    }

    /// Lanes available.
    var count: Int { lanes.count }

    /// Runs `items` pieces of work round-robin on the first `width` lanes (at most
    /// ``count``), each lane starting after the work queued on `main` so far; `main` waits for
    /// every lane used before its later work. `body` gets the item, its lane's stream and
    /// activations. A lane waits for the fork just before its first item and is joined just
    /// after its last, so that one item per lane queues wait, launch, record, join per lane.
    func run(_ items: Int, width: Int, after main: CUDAStream,
             _ body: (_ item: Int, _ stream: CUDAStream, _ activations: ExpertActivations) throws -> Void) throws {
        let used = min(max(1, width), items, lanes.count)
        guard used > 0 else { return }
        try main.record(fork)
        for item in 0..<items {
            let lane = lanes[item % used]
            if item < used { try lane.stream.wait(for: fork) }
            try body(item, lane.stream, lane.activations)
            if item + used >= items {
                try lane.stream.record(lane.joined)
                try main.wait(for: lane.joined)
            }
        }
    }
}
