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
                preset.name.rightPadded(17), String(preset.totalLayers).leftPadded(6), String(preset.moeLayers.count).leftPadded(4),
                String(preset.experts).leftPadded(8), String(preset.topK).leftPadded(6), String(preset.sharedExperts).leftPadded(7),
                String(preset.hiddenSize).leftPadded(7), String(preset.expertIntermediateSize).leftPadded(11),
                Format.bytes(preset.expertBytes(.bf16)).leftPadded(12), Format.bytes(preset.expertBytes(.fp8)).leftPadded(11),
                Format.bytes(preset.expertBytes(.mxfp4)).leftPadded(13),
            ]
            print(columns.joined(separator: " "))
            if sources {
                print("    source: \(preset.source)")
                print("    attention: \(preset.attentionParameters) parameters/layer, \(preset.kvCacheBytesPerToken) B KV/token/layer (\(preset.attentionSource))")
                print("    resident: \(Format.bytes(preset.residentWeightBytes)) in bf16 besides the routed experts (\(preset.residentSource))")
            }
        }
    }
}
