import ArgumentParser
import Lab
import TraceStore

/// `moesim merge`: joins results databases of one sweep spec.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Join results databases of one sweep spec (e.g. its shards) without duplicates.")

    @Argument(help: "Results databases written by `moesim sweep`.")
    var inputs: [String]

    @Option(name: [.short, .customLong("output")], help: "The merged database to write.")
    var output: String

    func run() throws {
        try AtomicFile.refuseOverwriting(inputs: inputs, output: output)
        let (points, duplicates) = try ResultsMerge.merge(inputs, into: output)
        print("merged \(inputs.count) files into \(output): \(points) points (\(duplicates) duplicates dropped)")
    }
}
