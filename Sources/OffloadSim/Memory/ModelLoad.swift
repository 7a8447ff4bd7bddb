/// Moving to the GPU, before a run's first step, every weight the GPU holds when the run
/// starts: the weights that stay resident (``ModelCost/residentWeightBytes``), the routed
/// experts of the layers an engine keeps on the GPU, and the experts a policy places there
/// before serving (every expert when it is all-resident or preloads; a static hot set).
///
/// Priced as PyTorch's `model.to("cuda")` moves a model that was loaded into ordinary host
/// memory: one synchronous copy per weight tensor from pageable memory (`Module._apply` calls
/// `Tensor.to` on each parameter in turn), so the copies run one after another at the
/// profile's pageable rate, with its measured pageable copy table where it has one
/// (``HardwareProfile/copyLink(pageable:)``), and at its pinned rate where it has neither — a
/// lower bound on the time then. Each routed expert is ``ModelCost/matricesPerExpert`` copies;
/// the resident weights are priced as one copy (their per-tensor latencies, tens of tensors per
/// layer against hundreds of milliseconds of bytes for the models this serves, are left out).
///
/// The load is not in a run's timeline: a run starts with these weights on the GPU. What it
/// is for is a measurement that times the load with the run, as arXiv 2605.11537's artifact
/// samples GPU utilisation over a block that first moves the model to the GPU (moe-mpmc
/// `src/latency.py`: `move_to_device(model, "cuda")` inside `with monitor_gputil()`); the GPU
/// runs no kernel while it lasts (copy engines are not kernels, and NVML's
/// `utilization.gpu` counts kernels).
public struct ModelLoad: Sendable, Equatable {
    /// Bytes moved.
    public var bytes: Int
    /// Copy calls (weight tensors).
    public var copies: Int
    /// Time of the copies one after another, ns.
    public var nanoseconds: Nanoseconds
    /// Whether they were priced at the profile's pageable rate (false: its pinned rate).
    public var pageable: Bool

    /// The load of `model` with `residentExperts[layer]` routed experts of each MoE layer on the
    /// GPU at the start, on `profile`'s link.
    ///
    /// Complexity: O(layers).
    public init(model: ModelCost, profile: HardwareProfile, residentExperts: [Int]) {
        precondition(residentExperts.count == model.expertBytes.count, "one count per MoE layer")
        var link = profile.copyLink(pageable: true)
        // Synchronous copies from pageable memory: one at a time, each whole.
        link.copyEngines = 1
        link.chunkBytes = 0
        let bus = PCIeBus(links: [link])
        pageable = profile.pageableH2DGBps != nil
        bytes = model.residentWeightBytes
        copies = model.residentWeightBytes > 0 ? 1 : 0
        nanoseconds = model.residentWeightBytes > 0 ? bus.exclusiveCopyNanoseconds(bytes: model.residentWeightBytes, pieces: 1)! : 0
        for (layer, count) in residentExperts.enumerated() where count > 0 {
            let expert = model.expertBytes[layer]
            bytes += count * expert
            copies += count * model.matricesPerExpert
            nanoseconds += Nanoseconds(count) * bus.exclusiveCopyNanoseconds(bytes: expert, pieces: model.matricesPerExpert)!
        }
    }
}
