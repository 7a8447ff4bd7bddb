import ArgumentParser
import TraceStore

/// `--level N`: the zstd level a written trace's chunks are compressed at.
struct CompressionLevelOption: ParsableArguments {
    @Option(parsing: .unconditional,
            help: "zstd compression level: 1-22 (19 is smallest in practice, 1-3 several times faster to write), or below 0 for zstd's fast levels (as `zstd --fast=N`: faster still, larger files).")
    var level: Int32 = 19

    func validate() throws {
        let levels = ZstdCompressor.levels
        guard levels.contains(level), level != 0 else {
            throw ValidationError("--level is \(level); valid: 1…\(levels.upperBound), or \(levels.lowerBound)…-1 for zstd's fast levels (0 would be zstd's default, 3).")
        }
    }
}
