import Foundation
import OffloadSim
import TOML
import Testing

@Suite("Hardware profiles")
struct HardwareProfileTests {
    @Test("every preset survives a round trip through its TOML file", arguments: HardwareProfile.presets.map(\.name))
    func roundTrip(name: String) throws {
        let preset = try #require(HardwareProfile.preset(named: name))
        let parsed = try HardwareProfile(toml: preset.tomlText, file: "\(name).toml")
        #expect(parsed == preset)
    }

    @Test("the files in hardware/ are the presets as `moesim hardware --export` writes them", arguments: HardwareProfile.presets.map(\.name))
    func checkedInFiles(name: String) throws {
        let path = SimFixtures.root + "/hardware/\(name).toml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == HardwareProfile.preset(named: name)!.tomlText, "run `make hardware-files` to regenerate \(path)")
    }

    @Test("PCIe 4.0 x16 presets assume 25.2 GB/s effective host-to-device bandwidth")
    func pcie4() {
        #expect(HardwareProfile.preset(named: "rtx-a6000")?.link.gbps == 25.2)
        #expect(HardwareProfile.preset(named: "t4")?.link.gbps == 12.6)
        #expect(HardwareProfile.preset(named: "h100-sxm")?.link.gbps == 50.4)
    }

    @Test("an unknown key is refused with its line and the valid keys")
    func unknownKey() {
        let text = HardwareProfile.presets[0].tomlText.replacingOccurrences(of: "[bus]\n", with: "[bus]\nbandwith_gbps = 3\n")
        let line = text.components(separatedBy: "\n").firstIndex(of: "bandwith_gbps = 3")! + 1
        #expect {
            _ = try HardwareProfile(toml: text, file: "p.toml")
        } throws: { error in
            let failure = error as? TOMLFileError
            return failure?.line == line && failure!.problem.contains("unknown key 'bus.bandwith_gbps'") && failure!.problem.contains("bus.h2d_gbps")
        }
    }

    @Test("a non-positive bandwidth is refused with its line")
    func nonPositiveBandwidth() {
        let text = HardwareProfile.presets[0].tomlText.replacingOccurrences(of: "h2d_gbps = 25.2", with: "h2d_gbps = 0")
        #expect {
            _ = try HardwareProfile(toml: text, file: "p.toml")
        } throws: { error in
            (error as? TOMLFileError)?.problem.contains("'bus.h2d_gbps' is 0.0; valid: 0.001…1000000") == true && (error as? TOMLFileError)?.line ?? 0 > 0
        }
    }

    @Test("a calibrated profile is labelled with the GPU it was measured on")
    func calibratedLabel() throws {
        var profile = HardwareProfile.presets[0]
        profile.calibratedOn = "NVIDIA H100 80GB HBM3, driver 550.54, 2026-11-22"
        profile.expertCalibration["qwen3-30b-a3b"] = CalibrationTable(tokens: [1, 2], nanoseconds: [10_000, 11_000])
        let parsed = try HardwareProfile(toml: profile.tomlText, file: "h100.toml")
        #expect(parsed == profile)
        #expect(parsed.label.contains("calibrated on NVIDIA H100"))
    }

    @Test("measured host operations, grouped-kernel and concurrent-stream tables survive a round trip")
    func engineTermsRoundTrip() throws {
        var profile = HardwareProfile.presets[0]
        profile.calibratedOn = "NVIDIA H100 80GB HBM3, driver CUDA 13.0, 2026-12-03"
        profile.syncAfterKernelNs = 7_412
        profile.copyCallNs = 1_873
        profile.groupedCalibration["qwen3-30b-a3b"] = GroupedCalibration([
            1: CalibrationTable(tokens: [1, 2], nanoseconds: [10_000, 10_500])!, 8: CalibrationTable(tokens: [1], nanoseconds: [61_000])!,
        ])
        profile.concurrentCalibration["qwen3-30b-a3b"] = GroupedCalibration([4: CalibrationTable(tokens: [1, 8], nanoseconds: [40_000, 52_000])!])
        let text = profile.tomlText
        #expect(text.contains("[calibration.grouped_ffn.qwen3-30b-a3b.experts_8]"))
        #expect(text.contains("[calibration.concurrent_ffn.qwen3-30b-a3b.streams_4]"))
        #expect(try HardwareProfile(toml: text, file: "h100.toml") == profile)
    }

    @Test("a framework's host costs, the calls between streams and a GPU-alone concurrency table survive a round trip")
    func frameworkCostsRoundTrip() throws {
        var profile = HardwareProfile.presets[0]
        profile.frameworkCosts["pytorch"] = FrameworkHostCosts(launchNs: 10_553, syncNs: 43_777, copyCallNs: 14_832, measuredOn: "PyTorch 2.11 on an H200")
        profile.streamEventNs = 1_250
        profile.concurrentGPUCalibration["qwen3-30b-a3b"] = GroupedCalibration([4: CalibrationTable(tokens: [1, 8], nanoseconds: [30_000, 41_000])!])
        let text = profile.tomlText
        #expect(text.contains("[framework.pytorch]") && text.contains("sync_ns = 43777") && text.contains("stream_event_ns = 1250"))
        #expect(!HardwareProfile.presets[0].tomlText.contains("stream_event_ns"))
        #expect(text.contains("[calibration.concurrent_ffn_gpu.qwen3-30b-a3b.streams_4]"))
        #expect(try HardwareProfile(toml: text, file: "h200.toml") == profile)
    }

    @Test("a framework table without one of its costs, or with a key of its own, is refused naming the key", arguments: [
        ("launch_ns = 10553", "", "'framework.pytorch.launch_ns'"),
        ("copy_call_ns = 14832", "copy_call_ns = 14832\nlaunches = 3", "'framework.pytorch.launches' should be framework.NAME.KEY"),
    ])
    func frameworkTableRefusals(line: String, replacement: String, message: String) {
        var profile = HardwareProfile.presets[0]
        profile.frameworkCosts["pytorch"] = FrameworkHostCosts(launchNs: 10_553, syncNs: 43_777, copyCallNs: 14_832, measuredOn: "PyTorch")
        let text = profile.tomlText.replacingOccurrences(of: line, with: replacement)
        #expect(text != profile.tomlText)
        #expect {
            _ = try HardwareProfile(toml: text, file: "h200.toml")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("a pageable copy rate survives a round trip and gives copies from pageable memory the link at that rate, without the pinned copy table")
    func pageableCopyLink() throws {
        var profile = HardwareProfile.presets[0]
        #expect(profile.copyLink(pageable: true) == profile.link && !profile.tomlText.contains("pageable"))
        profile.pageableH2DGBps = 11.75
        profile.measuredCopies = CalibrationTable(tokens: [4_096, 1 << 20], nanoseconds: [6_000, 50_000])
        #expect(try HardwareProfile(toml: profile.tomlText, file: "pageable.toml") == profile)
        let pageable = profile.copyLink(pageable: true)
        #expect(pageable.gbps == 11.75 && pageable.measuredTimes == nil && pageable.latencyNs == profile.link.latencyNs)
        #expect(profile.copyLink(pageable: false) == profile.link)
    }

    @Test("a measured attention-against-tokens table survives a round trip under its model's name")
    func attentionTokenTableRoundTrip() throws {
        var profile = HardwareProfile.presets[0]
        profile.attentionTokenCalibration["switch-base-128-encoder"] = CalibrationTable(tokens: [1, 256], nanoseconds: [12_000, 190_000])
        let text = profile.tomlText
        #expect(text.contains("[calibration.attention_tokens.switch-base-128-encoder]"))
        #expect(try HardwareProfile(toml: text, file: "attention.toml") == profile)
        let broken = text.replacingOccurrences(of: "ns = [12000.0, 190000.0]", with: "ns = [12000.0]")
        #expect(throws: (any Error).self) { try HardwareProfile(toml: broken, file: "attention.toml") }
    }

    @Test("a measured pageable copy table survives a round trip and times copies from pageable memory, not pinned ones")
    func pageableCopyTable() throws {
        var profile = HardwareProfile.presets[0]
        profile.pageableH2DGBps = 7.5
        profile.measuredCopies = CalibrationTable(tokens: [4_096, 1 << 20], nanoseconds: [6_000, 50_000])
        let pageableTimes = try #require(CalibrationTable(tokens: [65_536, 1 << 20], nanoseconds: [9_000, 80_000]))
        profile.measuredPageableCopies = pageableTimes
        #expect(profile.tomlText.contains("[calibration.pageable_copy]"))
        #expect(try HardwareProfile(toml: profile.tomlText, file: "pageable.toml") == profile)
        #expect(profile.copyLink(pageable: true).measuredTimes == pageableTimes)
        #expect(profile.copyLink(pageable: false).measuredTimes == profile.measuredCopies)
        var bus = PCIeBus(links: [profile.copyLink(pageable: true)])
        var queue = EventQueue()
        _ = bus.submit(bytes: 1 << 20, priority: .demand, tag: 0, now: 0, queue: &queue)
        var finished: CopyCompletion?
        while finished == nil, let event = queue.popNext() { finished = bus.handle(event, now: event.time, queue: &queue) }
        #expect(finished?.finishedAt == 80_000)
    }

    @Test("a grouped table under a name without its expert count is refused with its line")
    func groupedTableNeedsItsCount() {
        let text = HardwareProfile.presets[0].tomlText + "\n[calibration.grouped_ffn.qwen3-30b-a3b.eight]\ntokens = [1]\nns = [5.0]\n"
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("tokens = [1]") }! + 1
        #expect {
            _ = try HardwareProfile(toml: text, file: "h100.toml")
        } throws: { error in
            let failure = error as? TOMLFileError
            return failure?.line == line && failure!.problem.contains("calibration.grouped_ffn.MODEL.experts_N.tokens")
        }
    }

    @Test("a profile file under a name of its own is not labelled as a preset's datasheet figures")
    func fileLabel() throws {
        let text = HardwareProfile.presets[0].tomlText.replacingOccurrences(of: "name = \"\(HardwareProfile.presets[0].name)\"", with: "name = \"my-gpu\"")
        let parsed = try HardwareProfile(toml: text, file: "my-gpu.toml")
        #expect(parsed.label == "my-gpu (profile file: \(HardwareProfile.presets[0].displayName), not calibrated)")
        #expect(HardwareProfile.presets[0].label.contains("(preset: "))
    }

    @Test("an edited copy of a preset under the preset's name says so; a swept bus does not make it one")
    func editedPresetLabel() throws {
        var edited = HardwareProfile.presets[0]
        edited.hbmGBps *= 2
        #expect(edited.label.hasPrefix("\(edited.name) (edited copy of the preset: "))
        var swept = HardwareProfile.presets[0]
        swept.link.gbps = 6.3
        #expect(swept.label == HardwareProfile.presets[0].label)
    }
}
