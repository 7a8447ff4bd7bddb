import Foundation
import OffloadSim
import Policies
import Testing
import TraceStore

@Suite("Step pipeline")
struct StepPipelineTests {
    struct Stop: Error, Equatable {}

    /// A former that throws once it has given `limit` steps.
    struct FailingFormer: StepSource {
        var former: BatchFormer<TraceReader>
        var left: Int

        mutating func next(into step: inout Step) throws -> Bool {
            guard left > 0 else { throw Stop() }
            left -= 1
            return try former.next(into: &step)
        }
    }

    static func former(batch: Int = 2) throws -> BatchFormer<TraceReader> {
        let reader = try SimFixtures.trace(BatchFormerTests.sequences(), layers: 2, experts: 4, topK: 2, chunkTokens: 3)
        return BatchFormer(source: reader, batchSize: batch, prefillAsDecode: true)
    }

    static func drain<Source: StepSource>(_ source: inout Source) throws -> [Step] {
        var step = Step()
        var all: [Step] = []
        while try source.next(into: &step) { all.append(step) }
        return all
    }

    /// Batches of one to three steps, or closed by decisions after every step, over ten steps.
    @Test("the pipeline gives the former's steps in the same order whatever its batch size",
          arguments: [(1, 1 << 16), (2, 1 << 16), (3, 1 << 16), (64, 1)])
    func sameSteps(batchSteps: Int, batchDecisions: Int) throws {
        var direct = try Self.former()
        let expected = try Self.drain(&direct)
        var pipeline = StepPipeline(try Self.former(), batchSteps: batchSteps, batchDecisions: batchDecisions)
        let piped = try Self.drain(&pipeline)
        #expect(piped.map(\.index) == expected.map(\.index))
        #expect(piped.map(\.experts) == expected.map(\.experts))
        #expect(piped.map(\.expertTokens) == expected.map(\.expertTokens))
        #expect(piped.map(\.tokenExperts) == expected.map(\.tokenExperts))
        #expect(piped.map(\.finished) == expected.map(\.finished))
        #expect(expected.count == 6)
        var step = Step()
        #expect(try pipeline.next(into: &step) == false)
    }

    @Test("an error the former throws arrives after the steps formed before it", arguments: [0, 1, 2, 3, 4])
    func errorInPlace(limit: Int) throws {
        let pipeline = StepPipeline(FailingFormer(former: try Self.former(), left: limit), batchSteps: 2)
        var step = Step()
        for index in 0..<limit {
            #expect(try pipeline.next(into: &step))
            #expect(step.index == index)
        }
        #expect(throws: Stop()) { try pipeline.next(into: &step) }
        #expect(try pipeline.next(into: &step) == false)
    }

    @Test("dropping a pipeline early stops its producer", arguments: [0, 1, 3])
    func earlyStop(taken: Int) throws {
        var pipeline: StepPipeline<BatchFormer<TraceReader>>? = StepPipeline(try Self.former(batch: 1), batchSteps: 1)
        var step = Step()
        for _ in 0..<taken { #expect(try pipeline!.next(into: &step)) }
        pipeline = nil
        #expect(pipeline == nil)
    }

    /// 24 sequences of 6 prompt and 20 generated tokens, routed at random over 4 layers of
    /// 16 experts (top-2), at batch 3: about 180 steps, three batches of the pipeline.
    @Test("a run forming its steps ahead gives the same metrics as one forming them in turn",
          arguments: [EvictionPolicy.lru, .belady, .s3fifo])
    func sameMetrics(eviction: EvictionPolicy) throws {
        var random = SplitMix64(seed: 3, stream: "pipeline")
        let sequences: [[SimFixtures.Token]] = (0..<24).map { _ in
            (0..<26).map { t in
                let ids = (0..<4).flatMap { _ in
                    let first = random.int(below: 16)
                    return [UInt16(first), UInt16((first + 1 + random.int(below: 15)) % 16)]
                }
                return (t < 6 ? .prefill : .decode, ids)
            }
        }
        let reader = try SimFixtures.trace(sequences, layers: 4, experts: 16, topK: 2, chunkTokens: 100)
        func report(ahead: Bool) throws -> Data {
            var run = SimulationRun(source: reader, model: SimFixtures.model(layers: 4, experts: 16), profile: SimFixtures.profile(),
                                    options: SimulationOptions(cacheBytes: 20_000_000, eviction: eviction), batchSize: 3)
            run.formsStepsAhead = ahead
            let metrics = try run.run(policy: OnDemandPolicy()).metrics
            #expect(metrics.steps > 128)
            let description = RunDescription(trace: "hand", traceKind: "synthetic", traceSource: "", model: "hand", hardware: "hand",
                                             policy: "on-demand", predictor: "none", cacheBytes: 20_000_000, eviction: "\(eviction)",
                                             batch: 3, prefillAsDecode: false, notes: [])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try encoder.encode(SimulationReport(run: description, metrics: metrics))
        }
        let ahead = try report(ahead: true)
        #expect(ahead == (try report(ahead: false)))
        #expect(ahead.count > 1_000)
    }
}
