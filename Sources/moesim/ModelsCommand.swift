import ArgumentParser
import TraceStore

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List the model presets and the source of each number.")

    @Flag(help: "Also print each preset's source.")
    var sources = false

    func run() throws {
        print("name              layers  MoE  experts  top-k  shared  hidden  expert-ffn  bf16/expert  fp8/expert  mxfp4/expert")
        for preset in ModelPreset.all {
            let columns = [
                preset.name.padding(17), String(preset.totalLayers).leftPadding(6), String(preset.moeLayers.count).leftPadding(4),
                String(preset.experts).leftPadding(8), String(preset.topK).leftPadding(6), String(preset.sharedExperts).leftPadding(7),
                String(preset.hiddenSize).leftPadding(7), String(preset.expertIntermediateSize).leftPadding(11),
                Format.bytes(preset.expertBytes(.bf16)).leftPadding(12), Format.bytes(preset.expertBytes(.fp8)).leftPadding(11),
                Format.bytes(preset.expertBytes(.mxfp4)).leftPadding(13),
            ]
            print(columns.joined(separator: " "))
            if sources { print("    source: \(preset.source)") }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    func leftPadding(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
