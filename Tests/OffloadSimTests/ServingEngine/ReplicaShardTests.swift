import OffloadSim
import Testing
import TraceStore

/// Every expert resident; expert 0 of layer 0 holds `replicas` ready replicas.
private final class ReplicatingPolicy: OffloadPolicy {
    let name = "replicating"
    let replicas: Int
    var preloadsAllExperts: Bool { true }
    init(replicas: Int) { self.replicas = replicas }
    func readyReplicas(ofKey key: Int) -> Int { key == 0 ? replicas : 0 }
}

/// One sequence: a 4-token prompt routed to {0, 1} at layer 0 and {2, 3} at layer 1, then three
/// decode tokens routed the same way. Experts read 1 MB at 1,000 GB/s (1,000 ns) and do no FLOPs.
private func computeNs(replicas: Int, execution: ExpertExecution = .concurrentStreams) throws -> Nanoseconds {
    try simulate(replicas: replicas, execution: execution).metrics.computeNs
}

private func simulate(replicas: Int, execution: ExpertExecution = .concurrentStreams, replaySteps: Int = 0) throws -> (metrics: SimulationMetrics, timeline: TimelineRecorder, replay: ReplaySchedule) {
    let ids: [UInt16] = [0, 1, 2, 3]
    let reader = try SimFixtures.trace([Array(repeating: (.prefill, ids), count: 4) + Array(repeating: (.decode, ids), count: 3)],
                                       layers: 2, experts: 4, topK: 2)
    let engine = ServingEngine(name: "streams", displayName: "test", source: "test", expertExecution: execution, expertStreams: 2)
    let run = SimulationRun(source: reader, model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile(),
                            options: SimulationOptions(replaySteps: replaySteps, engine: engine))
    return try run.run(policy: ReplicatingPolicy(replicas: replicas))
}

@Suite("Replicas on concurrent streams")
struct ReplicaShardTests {
    /// Prefill, layer 0: shards [2, 2, 4] instead of [4, 4]: 3 MB of weights read at once
    /// (3,000 ns) instead of 2 MB (2,000 ns); the longest stream (2 kernels) is 2,000 either way.
    /// Decode tokens give expert 0 one token, which one copy runs whole.
    @Test("a replica splits its expert's tokens into a kernel of its own that reads its own weights")
    func replicaAddsAKernel() throws {
        #expect(try computeNs(replicas: 1) - computeNs(replicas: 0) == 1_000)
    }

    /// Three replicas for 4 tokens: shards [1, 1, 1, 1, 4], 5 MB at once.
    @Test("an expert's tokens are split among at most as many copies as it has tokens")
    func copiesBoundedByTokens() throws {
        #expect(try computeNs(replicas: 3) - computeNs(replicas: 0) == 3_000)
        #expect(try computeNs(replicas: 9) - computeNs(replicas: 0) == 3_000)
    }

    @Test("engines that run a layer's experts on one stream ignore replicas", arguments: [ExpertExecution.streaming, .layerBarrier])
    func serialEnginesIgnoreReplicas(execution: ExpertExecution) throws {
        #expect(try computeNs(replicas: 1, execution: execution) == computeNs(replicas: 0, execution: execution))
    }

    /// Only the prompt step gives expert 0 more than one token, so only its layer 0 splits:
    /// expert 0's 4 tokens run as 2 on its own weights and 2 on its replica, expert 1's 4 whole.
    @Test("a recorded replay runs each copy's share of a replicated expert as an operation of its own")
    func replayRecordsEachCopysShare() throws {
        let replay = try simulate(replicas: 1, replaySteps: 8).replay
        let experts = replay.ops[replay.steps[0].firstOp..<replay.steps[0].endOp].compactMap { op -> [Int]? in
            guard case .expert(let layer, let expert, _, _, _) = op.kernel else { return nil }
            return [layer, expert, op.replica, op.tokens, op.groupSize]
        }
        #expect(experts.prefix(3) == [[0, 0, 0, 2, 3], [0, 0, 1, 2, 0], [0, 1, 0, 4, 0]])
        #expect(replay.replicaOps == 1)
        #expect(try simulate(replicas: 0, replaySteps: 8).replay.replicaOps == 0)
    }
}
