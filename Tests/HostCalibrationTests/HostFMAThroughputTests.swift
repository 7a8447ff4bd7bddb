import HostCalibration
import Testing

@Suite("Host FMA throughput")
struct HostFMAThroughputTests {
    /// 3 threads × 1,000 rounds × 256 operations over the fastest pass of 2,000 ns: 384 GFLOP/s.
    @Test("the rate is every thread's operations over the fastest pass")
    func rateFromTheFastestPass() {
        let clock = SteppedClock([5, 3_000, 5, 2_000, 5, 2_500])
        let measured = HostFMAThroughput(iterations: 1_000, threads: 3, passes: 3).measure(clock: clock.read)
        #expect(measured.passNanoseconds == [3_000, 2_000, 2_500])
        #expect(measured.tflops == 0.384)
        #expect(HostFMAThroughput.flopsPerIteration == 256)
    }
}
