import OffloadSim
import Policies
import Testing

@Suite("Model load")
struct ModelLoadTests {
    /// 2 layers of 4 experts of 1,500,000 B in 3 matrices; 2 × 500,000 B of resident weights.
    static let model = SimFixtures.model(layers: 2, experts: 4, expertBytes: 1_500_000)

    /// Resident weights: 5,000 + 1,000,000 / 25 = 45,000 ns. Each expert: 3 copies of 500,000 B,
    /// 5,000 + 20,000 ns each; 6 experts: 450,000 ns.
    @Test("the load copies the resident weights and the start's experts one tensor after another at the pinned rate")
    func pinnedRate() {
        let load = ModelLoad(model: Self.model, profile: SimFixtures.profile(), residentExperts: [4, 2])
        #expect(load.bytes == 10_000_000 && load.copies == 19 && load.nanoseconds == 495_000 && !load.pageable)
    }

    /// At 10 GB/s: 5,000 + 100,000 ns for the resident weights, 6 × 3 × (5,000 + 50,000) for the experts.
    @Test("a profile's pageable rate prices the load, as model.to moves ordinary host memory")
    func pageableRate() {
        var profile = SimFixtures.profile()
        profile.pageableH2DGBps = 10
        let load = ModelLoad(model: Self.model, profile: profile, residentExperts: [4, 2])
        #expect(load.nanoseconds == 1_095_000 && load.pageable)
    }

    /// Several copy engines and chunking do not speed up synchronous copies made one at a time.
    @Test("the load ignores the link's copy engines and chunks")
    func serialCopies() {
        let load = ModelLoad(model: Self.model, profile: SimFixtures.profile(link: BusLink(gbps: 25, latencyNs: 5_000, copyEngines: 2, chunkBytes: 100_000)),
                             residentExperts: [4, 2])
        #expect(load.nanoseconds == 495_000)
    }

    @Test("an all-resident run loads every expert and counts the load in its GPU busy share with it")
    func allResidentRun() throws {
        let reader = try SimFixtures.trace([[(.prefill, [0, 1]), (.decode, [2, 3])]], layers: 2, experts: 4, topK: 1, expertBytes: 1_500_000)
        let run = SimulationRun(source: reader, model: Self.model, profile: SimFixtures.profile(), options: .init(), batchSize: 1)
        let metrics = try run.run(policy: AllResidentPolicy()).metrics
        #expect(metrics.modelLoadNs == ModelLoad(model: Self.model, profile: SimFixtures.profile(), residentExperts: [4, 4]).nanoseconds)
        #expect(metrics.modelLoadNs == 45_000 + 8 * 75_000)
        let busy = Double(metrics.computeNs - metrics.launchGapNs)
        #expect(metrics.gpuBusyShareWithLoad == busy / Double(metrics.makespanNs + metrics.modelLoadNs))
        #expect(metrics.gpuBusyShareWithLoad < metrics.gpuBusyShare)
    }

    @Test("an on-demand run without a cache loads only the resident weights")
    func onDemandRun() throws {
        let reader = try SimFixtures.trace([[(.prefill, [0, 1]), (.decode, [2, 3])]], layers: 2, experts: 4, topK: 1, expertBytes: 1_500_000)
        let metrics = try SimFixtures.simulate(reader, model: Self.model, profile: SimFixtures.profile())
        #expect(metrics.modelLoadNs == 45_000)
    }
}
