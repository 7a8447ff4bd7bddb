import Foundation
import HostCalibration
import OffloadSim
import TestSupport
import Testing

@Suite("Host memory bandwidth")
struct HostMemoryBandwidthTests {
    /// Passes of 4,000, 2,500 and 3,000 ns.
    @Test("the rate is the bytes over the fastest pass")
    func rateFromTheFastestPass() {
        let clock = SteppedClock([10, 4_000, 10, 2_500, 10, 3_000])
        let measured = HostMemoryBandwidth(bytes: 1 << 20, threads: 3, passes: 3).measure(clock: clock.read)
        #expect(measured.passNanoseconds == [4_000, 2_500, 3_000])
        #expect(measured.gbps == Double(1 << 20) / 2_500)
    }

    @Test("the bytes read are whole 64-byte lines, shared by threads that do not divide them evenly")
    func sharesOfAnOddBuffer() {
        let benchmark = HostMemoryBandwidth(bytes: 999_999, threads: 5, passes: 1)
        #expect(benchmark.bytes == 999_936)
        // The pass's sum is checked against the buffer's contents inside measure(): an uneven share would fail it.
        #expect(benchmark.measure().gbps > 0)
    }

    @Test("a profile with a measured host takes both host figures, says where, keeps every other figure and survives a round trip")
    func profileWithMeasuredHost() throws {
        let preset = try #require(HardwareProfile.preset(named: "rtx-4090"))
        let memory = HostMemoryBandwidth.Measurement(gbps: 23.456, passNanoseconds: [1])
        let fma = HostFMAThroughput.Measurement(tflops: 0.123_456_78, passNanoseconds: [1])
        let profile = preset.withHost(memory: memory, fma: fma, cpu: "Test CPU", threads: 2, bytes: 64 << 20, date: "2026-12-04")
        #expect(profile.hostMemoryGBps == 23.46 && profile.hostTFLOPS == 0.123457)
        #expect(profile.hostExpertOverheadNs == preset.hostExpertOverheadNs && profile.link == preset.link && profile.hbmGBps == preset.hbmGBps)
        let place = "Test CPU, 2 threads reading 64 MiB and running FMAs, 2026-12-04"
        #expect(profile.label == "rtx-4090 (preset: NVIDIA GeForce RTX 4090, datasheet figures; host measured on \(place))")
        #expect(try HardwareProfile(toml: profile.tomlText, file: "host.toml") == profile)
        var edited = profile
        edited.hbmGBps += 1
        #expect(edited.label.hasPrefix("rtx-4090 (edited copy of the preset: ") && edited.label.hasSuffix("; host measured on \(place))"))
    }

    @Test("moesim host calibrate writes a profile the simulator loads, with the figure it printed")
    func calibrateCommand() throws {
        let output = Repository.temporaryFolder() + "/host-4090.toml"
        let run = try CLI.run(["host", "calibrate", "--hardware", "rtx-4090", "--mib", "16", "--threads", "2", "--fma-rounds", "20000", "-o", output])
        #expect(run.status == 0, "\(run.stderr)")
        let profile = try HardwareProfile(toml: try String(contentsOfFile: output, encoding: .utf8), file: output)
        #expect(run.stdout.contains(String(format: "host memory %.2f GB/s read by 2 threads", profile.hostMemoryGBps)), "\(run.stdout)")
        #expect(run.stdout.contains(String(format: "host FMAs   %.4f TFLOP/s on 2 threads", profile.hostTFLOPS)), "\(run.stdout)")
        #expect(profile.hostCalibratedOn?.hasSuffix(", 2 threads reading 16 MiB and running FMAs, " + String(ISO8601DateFormatter().string(from: Date()).prefix(10))) == true)
        let simulated = try CLI.run(["simulate", "--trace", Repository.root + "/traces/demo.sqlite", "--hardware", output, "--policy", "fiddler"])
        #expect(simulated.status == 0 && simulated.stdout.contains("; host measured on"), "\(simulated.stderr)")
    }

    @Test("moesim host calibrate refuses a buffer of more than half the machine's memory, before allocating it")
    func refusesAnOversizedBuffer() throws {
        let run = try CLI.run(["host", "calibrate", "--hardware", "t4", "--mib", "1048576", "-o", Repository.temporaryFolder() + "/big.toml"])
        #expect(run.status == 2 && run.stderr.contains("--mib: 1048576 MiB is more than half of this machine's"), "\(run.stderr)")
    }

    @Test("moesim host calibrate refuses to overwrite the profile it reads")
    func refusesToOverwriteItsInput() throws {
        let file = Repository.temporaryFolder() + "/mine.toml"
        try CLI.run(["hardware", "--export", "t4"]).stdout.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try CLI.run(["host", "calibrate", "--hardware", file, "--mib", "1", "-o", file])
        #expect(run.status != 0)
    }
}
