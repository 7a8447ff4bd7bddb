import Foundation
import TraceStore

/// Where the benchmarks find the real traces and keep the traces they derive from them.
public enum BenchmarkData {
    /// `../shared/traces` beside the repository.
    public static let shared = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/traces").path

    /// A scratch folder for imported and generated traces (reused between runs).
    public static let scratch: String = {
        let path = NSTemporaryDirectory() + "moesim-bench"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// The ESFT set imported as a moesim trace.
    public static let esft = scratch + "/esft.sqlite"
    /// A 1M-token synthetic trace fitted to ESFT.
    public static let synthetic = scratch + "/synthetic-1m.sqlite"
    /// The ESFT source folder.
    public static let esftSource = shared + "/esft-deepseek-v2-lite"

    /// Whether the real traces are there; prints why the benchmarks skip when not.
    public static var available: Bool {
        if FileManager.default.fileExists(atPath: esftSource) { return true }
        print("skipping: \(shared) is not present")
        return false
    }

    /// Imports ESFT into ``esft`` unless it is there already.
    public static func ensureESFT() throws {
        if !FileManager.default.fileExists(atPath: esft) { try importESFT() }
    }

    /// Imports ESFT into ``esft``.
    public static func importESFT() throws {
        try TraceImport.run(format: .esft, inputs: [esftSource], output: esft, options: ImportOptions())
    }

    /// Generates ``synthetic`` from ESFT unless it is there already.
    public static func ensureSynthetic() throws {
        try ensureESFT()
        if !FileManager.default.fileExists(atPath: synthetic) {
            try TraceSynthesis.run(.init(model: ModelPreset.named("deepseek-v2-lite"), tokens: 1_000_000, seed: 1, like: esft), output: synthetic)
        }
    }
}
