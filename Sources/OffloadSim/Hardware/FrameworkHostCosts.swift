/// What the host pays for the operations an engine file counts (``HostCost``: syncs, eager
/// launches, copy calls) when the engine issues them through a framework rather than bare driver
/// calls: a hardware profile's `[framework.NAME]` table, measured through that framework on the
/// profile's machine (`Benchmarks/torch-host-terms.py --toml` for PyTorch). An engine whose
/// file names the framework (``ServingEngine/framework``) has its host costs priced by this
/// table instead of the profile's driver-level ``HardwareProfile/syncAfterKernelNs``,
/// ``HardwareProfile/launchOverheadNs`` and ``HardwareProfile/copyCallNs``, and its
/// concurrent-streams layers' host issue of their kernels
/// (``GPUCompute/concurrentExperts(layer:shards:streams:hostLaunchNs:)``) costs ``launchNs`` a
/// launch; on a profile without the table it keeps the driver-level figures. An engine that
/// dispatches its kernels eagerly (``ServingEngine/dispatchesEagerly``) also issues every kernel
/// of its serial stream at ``launchNs``, none starting before it is issued, so a stream of
/// kernels shorter than their dispatch is bound by the host; an engine whose kernels are queued
/// ahead (CUDA graphs) keeps the profile's launch time as the gap between kernels.
public struct FrameworkHostCosts: Sendable, Equatable {
    /// Host time to issue one small eager operation, ns (PyTorch: `x.add_(1)` back to back).
    public var launchNs: Nanoseconds
    /// Host time from an operation's issue to its few bytes read on the host, less
    /// ``launchNs``, ns (PyTorch: an op then `ids.cpu()` of 64 bytes on an idle GPU, as YALIS
    /// reads the routed ids), so that `sync + launch` is that round trip.
    public var syncNs: Nanoseconds
    /// Host time to issue one non-blocking host-to-device copy, ns (PyTorch:
    /// `dst.copy_(src, non_blocking=True)` of 4 KiB from pinned memory).
    public var copyCallNs: Nanoseconds
    /// What measured it: framework and version, GPU, machine and date.
    public var measuredOn: String

    /// Costs of `launchNs`, `syncNs` and `copyCallNs` ns, measured as `measuredOn` says.
    public init(launchNs: Nanoseconds, syncNs: Nanoseconds, copyCallNs: Nanoseconds, measuredOn: String) {
        self.launchNs = launchNs
        self.syncNs = syncNs
        self.copyCallNs = copyCallNs
        self.measuredOn = measuredOn
    }
}
