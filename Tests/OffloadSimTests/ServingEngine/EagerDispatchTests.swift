import OffloadSim
import Policies
import TOML
import Testing
import TraceStore

/// One prompt token through one layer of 2 experts, top-1, every expert resident: attention
/// (8 kernels) then one expert (4 kernels), no launch gaps. With ``SimFixtures/profile(hbm:link:)``
/// at `hbm` GB/s: attention reads 500,000 B, the expert 1,000,000 B.
private func run(hbm: Double, dispatchesEagerly: Bool, frameworkLaunchNs: Nanoseconds?) throws -> SimulationMetrics {
    let trace = try SimFixtures.trace([[(.prefill, [1])]], layers: 1, experts: 2, topK: 1)
    var profile = SimFixtures.profile(hbm: hbm)
    if let frameworkLaunchNs {
        profile.frameworkCosts["pytorch"] = FrameworkHostCosts(launchNs: frameworkLaunchNs, syncNs: 0, copyCallNs: 0, measuredOn: "test")
    }
    let engine = ServingEngine(name: "eager", displayName: "eager test engine", source: "test", expertExecution: .streaming,
                               framework: "pytorch", dispatchesEagerly: dispatchesEagerly)
    let run = SimulationRun(source: trace, model: SimFixtures.model(layers: 1, experts: 2), profile: profile,
                            options: SimulationOptions(engine: engine))
    return try run.run(policy: AllResidentPolicy()).metrics
}

@Suite("Eager kernel dispatch")
struct EagerDispatchTests {
    /// At 1,000 GB/s attention takes 500 ns and the expert 1,000. The host dispatches 8 kernels
    /// at 10,000 ns: attention's last is issued at 80,000 and runs its 500 / 8 = 62 ns, so the
    /// op ends at 80,062; the expert's 4 are issued by 120,000, its last runs 250: 120,250.
    @Test("short kernels dispatched eagerly wait for the host's issue of each")
    func shortKernelsAreHostBound() throws {
        let metrics = try run(hbm: 1_000, dispatchesEagerly: true, frameworkLaunchNs: 10_000)
        #expect(metrics.makespanNs == 120_250)
        // The kernels' own work stays 1,500 ns; the rest is idle, waiting on the host.
        #expect(metrics.computeNs - metrics.launchGapNs == 1_500)
        #expect(metrics.hostWaitNs == 120_250 - 1_500)
    }

    /// At 1 GB/s attention takes 500,000 ns and the expert 1,000,000: the host has issued both
    /// ops' kernels (120,000 ns) long before the GPU needs them.
    @Test("a host that runs ahead of long kernels adds nothing")
    func hostAheadOfLongKernels() throws {
        let metrics = try run(hbm: 1, dispatchesEagerly: true, frameworkLaunchNs: 10_000)
        #expect(metrics.makespanNs == 1_500_000)
        #expect(metrics.hostWaitNs == 0)
    }

    @Test("queued kernels, or a profile without the framework's costs, keep the launch gaps alone")
    func dispatchNeedsEagerEngineAndFrameworkCosts() throws {
        #expect(try run(hbm: 1_000, dispatchesEagerly: false, frameworkLaunchNs: 10_000).makespanNs == 1_500)
        #expect(try run(hbm: 1_000, dispatchesEagerly: true, frameworkLaunchNs: nil).makespanNs == 1_500)
    }

    @Test("Hugging Face's and Tutel's loops dispatch eagerly; YALIS replays compiled graphs")
    func builtInDispatch() {
        #expect(ServingEngine.builtIns.filter(\.dispatchesEagerly).map(\.name) == ["hf-transformers", "deepspeed-zero3", "tutel", "replica-streams"])
    }

    @Test("kernel_dispatch reads back, and a word other than queued or eager is refused with its line")
    func kernelDispatchKey() throws {
        let eager = try ServingEngine(toml: "name = \"e\"\n[host]\nframework = \"pytorch\"\nkernel_dispatch = \"eager\"\n", file: "e.toml")
        let reread = try ServingEngine(toml: eager.tomlText, file: "e.toml")
        let plain = try ServingEngine(toml: "name = \"e\"\n", file: "e.toml")
        #expect(eager.dispatchesEagerly && reread.dispatchesEagerly && !plain.dispatchesEagerly)
        #expect {
            _ = try ServingEngine(toml: "name = \"e\"\n[host]\nkernel_dispatch = \"graphs\"\n", file: "e.toml")
        } throws: { error in
            let failure = error as? TOMLFileError
            return failure?.line == 3 && failure!.problem.contains("valid: queued, eager")
        }
    }
}
