extension HardwareProfile {
    /// Assumptions shared by every preset, stated once so that each profile can cite them.
    ///
    /// Effective host-to-device bandwidth is 80% of the link's per-direction theoretical
    /// rate, the typical share pinned `cudaMemcpyAsync` reaches (DESIGN.md §1 quotes ~25
    /// GB/s for PCIe 4.0 x16); per-copy latency 5 µs and per-kernel launch 5 µs (PyTorch
    /// eager dispatch plus `cudaLaunchKernel`); kernels reach 80% of datasheet memory
    /// bandwidth and 70% of dense bf16 peak. The host CPU (for CPU expert execution) is a
    /// generic two-socket server: 100 GB/s achieved memory bandwidth, 2 TFLOP/s bf16, 20 µs
    /// per expert call. Calibrate (`moesim gpu calibrate`) to replace them.
    public static let presetAssumptions =
        "effective H2D = 80% of theoretical per-direction link rate; copy latency 5 µs; launch 5 µs/kernel; 80% of datasheet HBM bandwidth, 70% of dense bf16 peak; host CPU 100 GB/s, 2 TFLOP/s, 20 µs per CPU expert"

    /// The built-in profiles, in the order `moesim hardware` lists them.
    public static let presets: [HardwareProfile] = [
        preset("rtx-a6000", "NVIDIA RTX A6000", hbm: 768, tflops: 154.8, memory: 48, linkTheoretical: 31.5,
               source: "NVIDIA RTX A6000 datasheet: 768 GB/s GDDR6, 48 GB, 309.7 TFLOPS tensor with sparsity (154.8 dense); PCIe 4.0 x16 (31.5 GB/s per direction)"),
        preset("rtx-4090", "NVIDIA GeForce RTX 4090", hbm: 1008, tflops: 165.2, memory: 24, linkTheoretical: 31.5,
               source: "NVIDIA Ada GPU architecture whitepaper: 1,008 GB/s GDDR6X, 24 GB, 165.2 TFLOPS FP16 tensor with FP32 accumulate (dense); PCIe 4.0 x16"),
        preset("a100-80gb-pcie", "NVIDIA A100 80GB PCIe", hbm: 1935, tflops: 312, memory: 80, linkTheoretical: 31.5,
               source: "NVIDIA A100 datasheet: 1,935 GB/s HBM2e (80GB PCIe), 312 TFLOPS BF16 dense; PCIe 4.0 x16"),
        preset("h100-pcie", "NVIDIA H100 PCIe", hbm: 2000, tflops: 756, memory: 80, linkTheoretical: 63,
               source: "NVIDIA H100 datasheet (PCIe): 2 TB/s HBM2e, 80 GB, 1,513 TFLOPS BF16 with sparsity (756 dense); PCIe 5.0 x16 (63 GB/s per direction)"),
        preset("h100-sxm", "NVIDIA H100 SXM", hbm: 3350, tflops: 989, memory: 80, linkTheoretical: 63,
               source: "NVIDIA H100 datasheet (SXM): 3.35 TB/s HBM3, 80 GB, 1,979 TFLOPS BF16 with sparsity (989 dense); host link PCIe 5.0 x16"),
        preset("h200", "NVIDIA H200", hbm: 4800, tflops: 989, memory: 141, linkTheoretical: 63,
               source: "NVIDIA H200 datasheet (SXM): 4.8 TB/s HBM3e, 141 GB, 1,979 TFLOPS BF16 with sparsity (989 dense); PCIe 5.0 x16 (63 GB/s per direction)"),
        preset("t4", "NVIDIA T4", hbm: 320, tflops: 65, memory: 16, linkTheoretical: 15.75,
               source: "NVIDIA T4 datasheet: 320 GB/s GDDR6, 16 GB, 65 TFLOPS FP16 mixed precision; PCIe 3.0 x16 (15.75 GB/s per direction)"),
        preset("l4", "NVIDIA L4", hbm: 300, tflops: 121, memory: 24, linkTheoretical: 31.5,
               source: "NVIDIA L4 datasheet: 300 GB/s GDDR6, 24 GB, 242 TFLOPS FP16 with sparsity (121 dense); PCIe 4.0 x16"),
        preset("gh200", "NVIDIA GH200 Grace Hopper", hbm: 4000, tflops: 989, memory: 96, linkTheoretical: 450,
               source: "NVIDIA GH200 datasheet: H100 with 96 GB HBM3 at 4 TB/s, 989 TFLOPS BF16 dense; NVLink-C2C 900 GB/s total (450 GB/s per direction) to Grace memory"),
    ]

    private static func preset(_ name: String, _ display: String, hbm: Double, tflops: Double, memory: Double,
                               linkTheoretical: Double, source: String) -> HardwareProfile {
        HardwareProfile(
            name: name, displayName: display, source: source + ". Assumed: " + presetAssumptions,
            hbmGBps: hbm, peakTFLOPS: tflops, memoryGiB: memory,
            link: BusLink(gbps: (linkTheoretical * 0.8 * 100).rounded() / 100, latencyNs: 5_000))
    }

    /// The preset named `name` (case-insensitive), or nil.
    public static func preset(named name: String) -> HardwareProfile? {
        presets.first { $0.name == name.lowercased() }
    }
}
