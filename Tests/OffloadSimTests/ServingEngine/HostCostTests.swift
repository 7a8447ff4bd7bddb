import OffloadSim
import Testing

@Suite("Host costs")
struct HostCostTests {
    @Test("a sum of operations reads with counts and fixed nanoseconds", arguments: [
        ("sync + launch", HostCost(syncs: 1, launches: 1)),
        ("2 × copy_call", HostCost(copyCalls: 2)),
        ("3*sync+launch + 4000", HostCost(syncs: 3, launches: 1, fixedNs: 4_000)),
        ("sync + sync", HostCost(syncs: 2)),
        ("7000", HostCost(fixedNs: 7_000)),
    ])
    func sumsRead(text: String, cost: HostCost) {
        #expect(HostCost(parsing: text) == cost)
    }

    @Test("a term that is no operation, a bad count or an empty term is refused", arguments: [
        "sync + copy", "0 × sync", "1001 × launch", "sync +", "-5", "2 × 3 × sync", "",
    ])
    func badSumsAreRefused(text: String) {
        #expect(HostCost(parsing: text) == nil)
    }

    @Test("a cost writes itself as it reads back")
    func descriptionRoundTrips() {
        for cost in [HostCost(syncs: 1, launches: 1), HostCost(syncs: 2, copyCalls: 1, fixedNs: 500), HostCost(fixedNs: 0), HostCost(launches: 3)] {
            #expect(HostCost(parsing: cost.description) == cost)
        }
        #expect(HostCost(syncs: 2, copyCalls: 1, fixedNs: 500).description == "2 × sync + copy_call + 500")
    }

    @Test("the hardware profile prices each operation")
    func profilePricesOperations() {
        var profile = HardwareProfile.preset(named: "rtx-a6000")!
        // The presets' assumptions: 5 µs for a sync and for a launch, as the PyTorch engines' 10 µs router sync was written.
        #expect(HostCost(syncs: 1, launches: 1).nanoseconds(on: profile) == 10_000)
        profile.syncAfterKernelNs = 7_300
        profile.launchOverheadNs = 2_100
        profile.copyCallNs = 1_900
        #expect(HostCost(syncs: 2, launches: 1, copyCalls: 3, fixedNs: 11).nanoseconds(on: profile) == 2 * 7_300 + 2_100 + 3 * 1_900 + 11)
    }

    /// PyTorch's costs measured on an H200's host: yalis's router read back (sync + launch) is
    /// the measured op-then-read 54,330 ns; an engine without a framework, or a profile without
    /// the table, keeps the driver-level figures.
    @Test("a profile's framework table prices the operations of an engine that names the framework")
    func frameworkPricesOperations() {
        var profile = HardwareProfile.preset(named: "rtx-a6000")!
        let cost = HostCost(syncs: 1, launches: 1, copyCalls: 2)
        #expect(cost.nanoseconds(on: profile, framework: "pytorch") == 20_000)
        profile.frameworkCosts["pytorch"] = FrameworkHostCosts(launchNs: 10_553, syncNs: 43_777, copyCallNs: 14_832, measuredOn: "H200 host")
        #expect(cost.nanoseconds(on: profile, framework: "pytorch") == 54_330 + 2 * 14_832)
        #expect(cost.nanoseconds(on: profile) == 20_000 && cost.nanoseconds(on: profile, framework: "jax") == 20_000)
        #expect(ServingEngine.yalis.framework == "pytorch" && ServingEngine.moesim.framework == nil && ServingEngine.llamaCpp.framework == nil)
    }
}
