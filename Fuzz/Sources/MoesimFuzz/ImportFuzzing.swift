import Foundation
import TraceStore

/// `import`: the input as a text trace, imported as every text format (strictly and with
/// `--lenient`; the generic long format also with a model, which reads it in one pass with
/// per-row checks); a trace that imports is then read back and simulated.
enum ImportFuzzing {
    static func run(_ input: [UInt8]) {
        let scratch = FuzzScratch.shared
        for format in ImportFormat.allCases {
            // ESFT reads a folder of per-layer files: the input is split at NUL bytes into layers 1, 2, ….
            let inputs: [String]
            if format == .esft {
                let folder = scratch.folder + "/esft"
                try? FileManager.default.removeItem(atPath: folder)
                try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for (layer, part) in input.split(separator: 0, omittingEmptySubsequences: false).prefix(32).enumerated() {
                    scratch.write(Array(part), to: folder + "/expert_weights_\(layer + 1).txt")
                }
                inputs = [folder]
            } else {
                let path = scratch.input + "." + format.rawValue
                scratch.write(input, to: path)
                inputs = [path]
            }
            let models: [ModelPreset?] = format == .csv || format == .jsonl ? [nil, ModelPreset.named("olmoe-1b-7b")] : [nil]
            for lenient in [false, true] {
                for model in models {
                    let options = ImportOptions(model: model, lenient: lenient, writer: .init(chunkTokens: 64, compressionLevel: 1))
                    guard (try? TraceImport.run(format: format, inputs: inputs, output: scratch.output, options: options)) != nil else { continue }
                    Exercise.trace(at: scratch.output)
                }
            }
        }
    }
}
