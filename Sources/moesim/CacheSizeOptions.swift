import ArgumentParser
import Lab
import OffloadSim

/// `--cache-mib X | auto` and `--cache-gb X`: the expert cache budget of a run.
struct CacheSizeOptions: ParsableArguments {
    @Option(name: .customLong("cache-mib"), parsing: .unconditional,
            help: "Expert cache budget in MiB, or 'auto': all the GPU memory the run leaves (resident weights, KV cache, activations and the engine's buffers taken out).")
    var cacheMiB: String?

    @Option(name: .customLong("cache-gb"), parsing: .unconditional, help: "Expert cache budget in GB (10^9 bytes).")
    var cacheGB: Double?

    /// The largest budget accepted, bytes (2^60: far beyond any GPU, and safe to sum).
    static let largestBytes = 1 << 60

    func validate() throws {
        guard cacheMiB == nil || cacheGB == nil else { throw ValidationError("Give --cache-mib or --cache-gb, not both.") }
        _ = try budget
    }

    /// The budget asked for, nil without one.
    var budget: RunSetup.CacheBudget? {
        get throws {
            if cacheMiB == "auto" { return .auto }
            if let cacheMiB {
                guard let value = Double(cacheMiB) else {
                    throw ValidationError("--cache-mib takes a size in MiB or 'auto', not '\(cacheMiB)'.")
                }
                return .bytes(try Self.bytes(value, unit: Double(Units.mebibyte), option: "--cache-mib"))
            }
            return try cacheGB.map { .bytes(try Self.bytes($0, unit: 1e9, option: "--cache-gb")) }
        }
    }

    private static func bytes(_ value: Double, unit: Double, option: String) throws -> Int {
        let bytes = value * unit
        guard bytes > 0, bytes.isFinite, bytes <= Double(largestBytes) else {
            throw ValidationError("\(option) is \(value); valid: above 0 up to \(Int(Double(largestBytes) / unit)) (2^60 bytes; leave it out to run without a cache).")
        }
        return Int(bytes.rounded())
    }
}
