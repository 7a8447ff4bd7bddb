import OffloadSim
import TraceStore

/// Builds predictors by name and trains the learned ones on a trace's training split.
public enum PredictorCatalog {
    /// Predictor names, as `--predictor` and policy files take them.
    public static let names = ["recorded", "oracle", "parametric", "previous-token", "popularity", "cross-layer", "activation-matrix"]
    /// The predictors among ``names`` that learn from the trace (and so run on held-out sequences).
    public static let learned: Set<String> = ["popularity", "cross-layer", "activation-matrix"]

    /// What a predictor needs besides its name.
    public struct Settings: Sendable, Equatable {
        /// Recall of the parametric predictor.
        public var recall: Double = 0.9
        /// Per-layer recall of the parametric predictor (overrides `recall`).
        public var layerRecall: [Double]?
        /// Lookaheads a learned predictor must support.
        public var lookaheads: [Int] = [1]
        /// Seed of the split and of random predictors.
        public var seed: UInt64 = 1
        /// Share of sequences held out for testing.
        public var testFraction: Double = 0.3

        /// Default settings.
        public init(recall: Double = 0.9, layerRecall: [Double]? = nil, lookaheads: [Int] = [1], seed: UInt64 = 1, testFraction: Double = 0.3) {
            self.recall = recall
            self.layerRecall = layerRecall
            self.lookaheads = lookaheads
            self.seed = seed
            self.testFraction = testFraction
        }
    }

    /// A trained predictor and the sequences a run with it may use.
    public struct Prepared {
        /// The predictor.
        public var predictor: ExpertPredictor
        /// The split; nil when the predictor learns nothing (then every sequence may run).
        public var split: SequenceSplit?
        /// Sequences the predictor learned from (empty for unlearned predictors).
        public var trainedOn: Set<Int>
    }

    /// Builds `name` for `source` and, if it learns, trains it on the training split.
    public static func prepare<Source: RoutingSource>(_ name: String, source: Source, settings: Settings) throws -> Prepared {
        let shape = PredictorShape(layers: source.shape.layers, experts: source.shape.experts, topK: source.shape.topK)
        let predictor: ExpertPredictor
        switch name {
        case "recorded":
            for d in settings.lookaheads where !source.recordedLookaheads.contains(d) {
                let recorded = source.recordedLookaheads.isEmpty ? "none" : source.recordedLookaheads.map(String.init).joined(separator: ", ")
                throw TraceStoreError(file: source.sourceName, problem: "has no recorded predictions at lookahead \(d) (it has: \(recorded))",
                                      fix: "Record the trace with predictions (traces/record), or use another predictor.")
            }
            predictor = RecordedPredictor(layers: shape.layers)
        case "oracle": predictor = OraclePredictor(shape: shape)
        case "parametric":
            guard (0...1).contains(settings.recall) else {
                throw TraceStoreError(file: "--recall", problem: "recall \(settings.recall) is outside 0…1", fix: "Give a recall between 0 and 1.")
            }
            predictor = ParametricPredictor(shape: shape, recall: settings.recall, layerRecall: settings.layerRecall, seed: settings.seed)
        case "previous-token": predictor = PreviousTokenPredictor(shape: shape)
        case "popularity": predictor = PopularityPredictor(shape: shape)
        case "cross-layer":
            let counters = settings.lookaheads.count * shape.layers * shape.experts * shape.experts
            guard counters <= CrossLayerPredictor.largestCounters else {
                throw TraceStoreError(file: source.sourceName, place: "model shape",
                                      problem: "needs \(counters) co-activation counters for the cross-layer predictor (lookaheads × layers × experts²), above its \(CrossLayerPredictor.largestCounters)",
                                      fix: "Use another predictor (popularity, previous-token, parametric, oracle) for a model this wide.")
            }
            predictor = CrossLayerPredictor(shape: shape, lookaheads: settings.lookaheads)
        case "activation-matrix": predictor = ActivationMatrixPredictor(shape: shape)
        default:
            throw TraceStoreError(file: "--predictor", problem: "unknown predictor '\(name)'", fix: "Valid predictors: \(names.joined(separator: ", ")).")
        }
        guard predictor.isLearned else { return Prepared(predictor: predictor, split: nil, trainedOn: []) }
        let split = SequenceSplit(sequences: source.sequences.count, testFraction: settings.testFraction, seed: settings.seed)
        guard source.sequences.count >= 2 else {
            throw TraceStoreError(file: source.sourceName, problem: "has one sequence; a learned predictor needs sequences to train on and others to test on",
                                  fix: "Use a trace with several sequences, or the oracle or parametric predictor.")
        }
        var former = BatchFormer(source: source, batchSize: 1, sequenceMask: split.train)
        var step = Step()
        var seen = Set<Int>()
        while try former.next(into: &step) {
            seen.formUnion(step.tokenSequences)
            predictor.learn(step)
        }
        return Prepared(predictor: predictor, split: split, trainedOn: seen)
    }
}
