import ArgumentParser
import TraceStore

/// `--level N`: the zstd level a written trace's chunks are compressed at.
struct CompressionLevelOption: ParsableArguments {
    /// `trace import`'s default: real traces are kept and shared, and level 19 is the smallest in practice.
    static let importDefault: Int32 = 19
    /// `trace synth`'s default: resampled and parametric routing compresses little beyond its
    /// entropy, so level 19 bought 4% on a 200 k-token ESFT-like synthesis (55.2 MB against 57.6
    /// at level 1, written in 28.2 s against ~1 s) and 0.3% on a parametric Qwen3 one (43.16
    /// against 43.30 MB, 15.7 against 4.0 s), and level 3 was no smaller than 1 (Benchmarks/RESULTS.md,
    /// tenth session). A synthetic trace can be made again from its seed.
    static let synthDefault: Int32 = 1

    @Option(parsing: .unconditional,
            help: "zstd compression level: 1-22 (19 is smallest in practice, 1-3 several times faster to write), or below 0 for zstd's fast levels (as `zstd --fast=N`: faster still, larger files). Default: 19 for `trace import`, 1 for `trace synth` (synthetic routing compresses little further).")
    var level: Int32?

    func validate() throws {
        guard let level else { return }
        let levels = ZstdCompressor.levels
        guard levels.contains(level), level != 0 else {
            throw ValidationError("--level is \(level); valid: 1…\(levels.upperBound), or \(levels.lowerBound)…-1 for zstd's fast levels (0 would be zstd's default, 3).")
        }
    }
}
