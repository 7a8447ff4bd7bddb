import ArgumentParser
import Lab
import OffloadSim
import TraceStore

struct HardwareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hardware", abstract: "List the hardware presets, or write one as an editable profile file.")

    @Flag(help: "Also print each preset's sources and assumptions.")
    var sources = false

    @Option(help: "Print the preset with this name as a TOML profile (copy, edit, pass with --hardware FILE).")
    var export: String?

    func run() throws {
        if let export {
            print(try OptionRange.named("--export") { try RunSetup.profile(export) }.tomlText, terminator: "")
            return
        }
        print("name             GPU                          HBM GB/s  bf16 TFLOP/s  memory   H2D GB/s  copy latency")
        for preset in HardwareProfile.presets {
            let columns = [
                preset.name.rightPadded(16), preset.displayName.rightPadded(28), Format.fixed(preset.hbmGBps, 0).leftPadded(8),
                Format.fixed(preset.peakTFLOPS, 1).leftPadded(13), "\(Format.fixed(preset.memoryGiB, 0)) GB".leftPadded(7),
                Format.fixed(preset.link.gbps, 2).leftPadded(10), "\(preset.link.latencyNs / 1000) µs".leftPadded(13),
            ]
            print(columns.joined(separator: " "))
            if sources { print("    source: \(preset.source)") }
        }
    }
}
