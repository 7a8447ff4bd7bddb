import OffloadSim

extension HardwareProfile {
    /// The profile with `memory` as its host memory bandwidth (``hostMemoryGBps``) and `fma` as
    /// its host FLOP/s (``hostTFLOPS``), recorded as measured on `cpu` with `threads` threads on
    /// `date` (``hostCalibratedOn``); the per-expert overhead and every GPU figure stay the profile's own.
    public func withHost(memory: HostMemoryBandwidth.Measurement, fma: HostFMAThroughput.Measurement, cpu: String, threads: Int,
                         bytes: Int, date: String) -> HardwareProfile {
        var profile = self
        profile.hostMemoryGBps = (memory.gbps * 100).rounded() / 100
        profile.hostTFLOPS = (fma.tflops * 1_000_000).rounded() / 1_000_000
        profile.hostCalibratedOn = "\(cpu), \(threads) thread\(threads == 1 ? "" : "s") reading \(bytes >> 20) MiB and running FMAs, \(date)"
        return profile
    }
}
