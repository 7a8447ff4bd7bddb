import OffloadSim
import Policies
import Testing
import TraceStore

/// The two-layer trace of the on-demand closed-form tests (2 layers × 4 experts, top-2, one
/// prompt token and three generated ones). With ``SimFixtures/profile(hbm:link:)`` and a
/// launch overhead of 100 ns per kernel: attention 8 × 100 + 500 = 1,300 ns, an expert
/// 4 × 100 + 1,000 = 1,400 ns, a copy 45,000 ns.
private func twoLayerTrace() throws -> TraceReader {
    let ids: [UInt16] = [0, 1, 2, 3]
    return try SimFixtures.trace([[(.prefill, ids), (.decode, ids), (.decode, ids), (.decode, ids)]], layers: 2, experts: 4, topK: 2)
}

private func profileWithLaunches() -> HardwareProfile {
    var profile = SimFixtures.profile()
    profile.launchOverheadNs = 100
    return profile
}

private func simulate(_ options: SimulationOptions = .init()) throws -> SimulationMetrics {
    try SimFixtures.simulate(twoLayerTrace(), model: SimFixtures.model(layers: 2, experts: 4), profile: profileWithLaunches(), options: options)
}

@Suite("GPU busy share")
struct GPUBusyShareTests {
    /// Per layer the compute stream runs 1,300 + 2 × 1,400 = 4,100 ns, of which 800 + 2 × 400 =
    /// 1,600 ns are launches: kernels run for 2,500 ns, as without launch overhead.
    @Test("launch gaps count as compute time but not as time a kernel runs")
    func launchGapsAreNotBusy() throws {
        let metrics = try simulate()
        #expect(metrics.computeNs == 4 * 2 * 4_100)
        #expect(metrics.launchGapNs == 4 * 2 * 1_600)
        #expect(metrics.gpuBusyShare == Double(4 * 2 * 2_500) / Double(metrics.makespanNs))
    }

    @Test("the event loop counts the same launch gaps as the closed form")
    func eventLoopAgreesWithClosedForm() throws {
        let closed = try simulate()
        let events = try simulate(SimulationOptions(eventDriven: true))
        #expect(events.launchGapNs == closed.launchGapNs)
        #expect(events.gpuBusyShare == closed.gpuBusyShare)
    }

    /// A layer-barrier layer runs attention (8 launches) and one grouped kernel of 5 launches.
    @Test("a grouped kernel's launch gaps are its engine's launches")
    func groupedKernelLaunches() throws {
        let engine = ServingEngine(name: "test", displayName: "test engine", source: "test", expertExecution: .layerBarrier,
                                   routerSync: HostCost(), expertSync: HostCost(), copyIssue: HostCost(), copiesPerExpert: 1,
                                   bufferSets: 2, groupedKernelLaunches: 5, prioritisesDemand: false)
        let metrics = try simulate(SimulationOptions(engine: engine))
        #expect(metrics.launchGapNs == 4 * 2 * (800 + 500))
        #expect(metrics.computeNs - metrics.launchGapNs == 4 * 2 * 2_500)
    }

    /// Two streams: one expert's launches (400) before the first kernel; the rest overlap.
    @Test("concurrent streams leave only the first expert's launches idle")
    func concurrentStreamLaunches() throws {
        var engine = ServingEngine(name: "test", displayName: "test engine", source: "test", expertExecution: .concurrentStreams,
                                   routerSync: HostCost(), expertSync: HostCost(), copyIssue: HostCost(), copiesPerExpert: 1,
                                   bufferSets: 2, groupedKernelLaunches: 1, prioritisesDemand: false)
        engine.expertStreams = 2
        let metrics = try simulate(SimulationOptions(engine: engine))
        #expect(metrics.launchGapNs == 4 * 2 * (800 + 400))
    }
}
