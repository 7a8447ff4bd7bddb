import OffloadSim
import Policies
import Testing
import TraceStore

@Suite struct ReplayScheduleTests {
    /// Two decode tokens over two layers, top-2, each token using experts 0 and 1.
    static func run(cacheBytes: Int) throws -> (SimulationMetrics, ReplaySchedule) {
        let reader = try SimFixtures.trace([[(.decode, [0, 1, 0, 1]), (.decode, [0, 1, 0, 1])]], layers: 2, experts: 4, topK: 2)
        let options = SimulationOptions(cacheBytes: cacheBytes, replaySteps: 8)
        let run = SimulationRun(source: reader, model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile(), options: options)
        let (metrics, _, schedule) = try run.run(policy: OnDemandPolicy())
        return (metrics, schedule)
    }

    @Test func withoutACacheEveryExpertWaitsForItsStagingCopyDecidedAtItsRouter() throws {
        let (metrics, schedule) = try Self.run(cacheBytes: 0)
        #expect(schedule.steps.count == 2)
        #expect(schedule.ops.count == 12)
        #expect(schedule.copies.count == 8)
        #expect(schedule.copies.allSatisfy { $0.key == -1 && $0.bytes == 1_000_000 && !$0.prefetch })
        for (index, op) in schedule.ops.enumerated() {
            guard case .expert(_, _, _, let staging, _) = op.kernel else { continue }
            #expect(staging >= 0)
            let copy = schedule.copies[try #require(op.waitsForCopies.first)]
            #expect(copy.end <= op.start)
            // The copy was decided when this layer's router (the attention op before it) finished.
            guard case .attention = schedule.ops[copy.after].kernel else { Issue.record("copy decided after \(schedule.ops[copy.after].kernel)"); continue }
            #expect(copy.after < index)
        }
        let simulated = schedule.steps.reduce(Nanoseconds(0)) { $0 + $1.end - $1.start }
        #expect(simulated == metrics.makespanNs)
    }

    @Test func cachedExpertsWaitForTheCopyOfAnEarlierStepAndMakeNoNewOnes() throws {
        let (_, schedule) = try Self.run(cacheBytes: 8_000_000)
        #expect(schedule.copies.count == 4)
        #expect(schedule.copies.allSatisfy { $0.key >= 0 })
        let second = schedule.steps[1]
        let waits = schedule.ops[second.firstOp..<second.endOp].flatMap(\.waitsForCopies)
        #expect(waits.count == 4)
        #expect(waits.allSatisfy { schedule.copies[$0].end <= second.start })
    }

    /// An engine that copies each expert as two calls (one per weight tensor) moves two pieces
    /// of 500,000 B, each paying the link's latency: the replay makes the same two calls, the
    /// second where the first left off, and the expert waits for the second.
    @Test func anEnginesCopyCallsAreReplayedAsThePiecesTheSimulationMoved() throws {
        let reader = try SimFixtures.trace([[(.decode, [0, 1, 0, 1])]], layers: 2, experts: 4, topK: 2)
        let engine = ServingEngine(name: "two-calls", displayName: "test", source: "test", copiesPerExpert: 2)
        let options = SimulationOptions(replaySteps: 8, engine: engine)
        let run = SimulationRun(source: reader, model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile(), options: options)
        let (_, _, schedule) = try run.run(policy: OnDemandPolicy())
        #expect(schedule.copies.count == 8)
        #expect(schedule.copies.map(\.offset) == [0, 500_000, 0, 500_000, 0, 500_000, 0, 500_000])
        #expect(schedule.copies.allSatisfy { $0.bytes == 500_000 && $0.key == -1 })
        for op in schedule.ops {
            guard case .expert = op.kernel else { continue }
            let waited = try #require(op.waitsForCopies.first)
            #expect(schedule.copies[waited].offset == 500_000 && schedule.copies[waited].staging == schedule.copies[waited - 1].staging)
        }
    }

    @Test func nothingIsRecordedUnlessAsked() throws {
        let reader = try SimFixtures.trace([[(.decode, [0, 1, 0, 1])]], layers: 2, experts: 4, topK: 2)
        let run = SimulationRun(source: reader, model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile(), options: .init())
        let (_, _, schedule) = try run.run(policy: OnDemandPolicy())
        #expect(schedule == ReplaySchedule())
    }
}
