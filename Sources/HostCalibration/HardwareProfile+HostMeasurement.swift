import OffloadSim

extension HardwareProfile {
    /// The profile with `measured` as its host memory bandwidth (``hostMemoryGBps``), recorded as
    /// measured on `cpu` with `threads` threads on `date` (``hostCalibratedOn``); every other
    /// figure, the host's FLOP/s and per-expert overhead included, is the profile's own.
    public func withHostMemory(_ measured: HostMemoryBandwidth.Measurement, cpu: String, threads: Int, bytes: Int,
                               date: String) -> HardwareProfile {
        var profile = self
        profile.hostMemoryGBps = (measured.gbps * 100).rounded() / 100
        profile.hostCalibratedOn = "\(cpu), \(threads) thread\(threads == 1 ? "" : "s") reading \(bytes >> 20) MiB, \(date)"
        return profile
    }
}
