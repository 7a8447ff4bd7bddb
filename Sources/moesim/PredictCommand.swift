import ArgumentParser
import Policies
import TraceStore

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Accuracy of an expert predictor on held-out sequences: recall@k and precision per layer.",
        discussion: "Learned predictors train on a seeded split of the sequences and are scored on the rest.")

    @Option(help: "The trace file.")
    var trace: String

    @Option(help: "Predictor: \(PredictorCatalog.names.joined(separator: ", ")).")
    var predictor: String

    @Option(parsing: .unconditional, help: "Layers ahead to predict.")
    var lookahead = 1

    @Option(parsing: .unconditional, help: "Predict k × widen experts per token.")
    var widen = 1.0

    @Option(parsing: .unconditional, help: "Recall of the parametric predictor.")
    var recall = 0.9

    @Option(parsing: .unconditional, help: "Share of sequences held out for testing learned predictors.")
    var testFraction = 0.3

    @Option(parsing: .unconditional, help: "Seed of the split and of random predictors.")
    var seed: UInt64 = 1

    @Flag(help: "Print JSON with stable keys.")
    var json = false

    func validate() throws {
        try OptionRange.check(lookahead, 1...4_096, "--lookahead")
        try OptionRange.check(widen, ValidRange.widen, "--widen")
        try OptionRange.check(recall, ValidRange.recall, "--recall")
        guard testFraction > 0, testFraction < 1 else { throw ValidationError("--test-fraction must be between 0 and 1.") }
    }

    func run() throws {
        let reader = try TraceReader(path: trace)
        let shape = reader.metadata.shape
        guard lookahead < shape.layers else {
            throw TraceStoreError(file: trace, problem: "has \(shape.layers) MoE layers; lookahead \(lookahead) leaves none to predict",
                                  fix: "Use a lookahead below \(shape.layers).")
        }
        let settings = PredictorCatalog.Settings(recall: recall, lookaheads: [lookahead], seed: seed, testFraction: testFraction)
        let prepared = try PredictorCatalog.prepare(predictor, source: reader, settings: settings)
        let test = prepared.split?.test ?? Array(repeating: true, count: reader.sequences.count)
        let width = min(shape.experts, Int((Double(shape.topK) * widen).rounded(.up)))
        let evaluation = try PredictorEvaluation.run(prepared.predictor, source: reader, test: test, lookahead: lookahead, width: width)
        if json {
            print(try JSONOutput.encode(evaluation))
        } else {
            print("trace      \(trace)  [\(reader.metadata.provenanceLabel.uppercased())]")
            print(evaluation.text)
        }
    }
}
