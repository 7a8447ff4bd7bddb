import ArgumentParser
import Lab
import Foundation
import OffloadSim
import Policies
import TraceStore

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run several policies on one trace and hardware profile and tabulate them.",
        discussion: """
            When any policy's predictor learns from the trace, every policy runs on the same held-out \
            test sequences, so that the rows are comparable.
            """)

    @Option(help: "The trace file.")
    var trace: String

    @Option(help: "Model preset; optional when the trace carries its shape and expert sizes.")
    var model: String?

    @Option(help: "Hardware preset or profile file.")
    var hardware = "rtx-a6000"

    @Option(help: "Comma-separated policies (names or files); default: every named policy.")
    var policies: String?

    @OptionGroup var cache: CacheSizeOptions

    @Option(help: "Serving engine for every policy (see `moesim engines`), or an engine file (.toml).")
    var engine = ServingEngine.moesim.name

    @OptionGroup var engineTerms: EngineTermOptions

    @Option(parsing: .unconditional, help: "Tokens in each sequence's KV cache when decoding starts (default: its prompt).")
    var context: Int?

    @Option(help: "Eviction rule for every policy (default: each policy's own).")
    var eviction: String?

    @Option(parsing: .unconditional, help: "Sequences per batch.")
    var batch = 1

    @Option(help: "When a miss enters the cache: hard-cap or after-batch (see `simulate --help`).")
    var admission: String?

    @Option(help: "Order of a layer's lookups: id or rank (see `simulate --help`).")
    var lookupOrder: String?

    @Flag(help: "Replay prompt tokens one per step.")
    var prefillAsDecode = false

    @Option(help: "Size experts as the preset in this type instead of the trace's sizes.")
    var expertDtype: String?

    @Option(parsing: .unconditional, help: "Seed of the split and the random streams.")
    var seed: UInt64 = 1

    @Flag(help: "Print JSON with stable keys.")
    var json = false

    struct Row: Encodable {
        var report: SimulationReport
        var predictorRecall: Double?

        enum CodingKeys: String, CodingKey { case report, predictorRecall = "predictor_recall" }
    }

    func validate() throws {
        try OptionRange.check(batch, ValidRange.batch, "--batch")
        if let context { try OptionRange.check(context, ValidRange.context, "--context") }
    }

    func run() throws {
        let reader = try TraceReader(path: trace)
        let names = policies.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? PolicyCatalog.names
        let specs = try names.map { try RunSetup.policy($0) }
        let learns = specs.contains { spec in
            spec.mechanism.usesPredictor && PredictorCatalog.learned.contains(spec.predictor ?? "")
        }
        let split = learns ? SequenceSplit(sequences: reader.sequences.count, seed: seed) : nil
        var rows: [Row] = []
        var refused: [String] = []
        for (index, spec) in specs.enumerated() {
            let setup = try RunSetup(
                trace: reader, model: model, expertDType: expertDtype, hardware: hardware, policy: names[index],
                cache: try cache.budget, eviction: eviction, partitioned: false,
                batch: batch, prefillAsDecode: prefillAsDecode, stagingBuffers: 2, seed: seed, timelineSteps: 0, engine: engine, engineTerms: engineTerms.terms, context: context,
                admission: admission, lookupOrder: lookupOrder)
            var overridden = setup
            overridden.overrides.split = split
            do {
                try overridden.checkMemory()
            } catch let error as TraceStoreError {
                // One policy that does not fit (all experts resident, say) must not hide the others.
                refused.append("\(spec.name): \(error.problem)")
                continue
            }
            let (report, _) = try overridden.run()
            rows.append(Row(report: report, predictorRecall: try recall(of: spec, reader: reader, split: split)))
        }
        if json {
            print(try JSONOutput.encode(rows))
            for line in refused { printError("not run: \(line)") }
            return
        }
        guard let first = rows.first?.report.run else {
            throw TraceStoreError(file: trace, place: "GPU memory", problem: "no policy fits: " + refused.joined(separator: "; "),
                                  fix: "Give a smaller --cache-mib (or auto), a shorter --context, or another --hardware.")
        }
        print("trace      \(trace)  [\(first.traceKind.uppercased())]")
        print("model      \(first.model); hardware \(first.hardware); engine \(first.engine); batch \(batch)")
        if let split { print("sequences  the \(split.testCount) held-out test sequences (seed \(seed)), for every policy") }
        print("")
        print("policy                      predictor             cache             TPOT ms   p99 ms  stall   hit rate  fidelity  moved       recall")
        for row in rows {
            let run = row.report.run
            let m = row.report.metrics
            let cache = run.cacheBytes == 0 ? "none" : "\(Format.bytes(run.cacheBytes)) \(run.eviction)"
            let tpot = m.tpot.mean.map { Format.fixed($0 / 1e6, 3) } ?? "n/a"
            let p99 = m.tpot.quantile(0.99).map { Format.fixed($0 / 1e6, 3) } ?? "n/a"
            let columns = [
                run.policy.rightPadded(27), run.predictor.rightPadded(21), cache.rightPadded(17), tpot.leftPadded(8), p99.leftPadded(8),
                (Format.fixed(m.stallShare * 100, 1) + "%").leftPadded(6), (m.lookups == 0 ? "—" : Format.fixed(m.hitRate * 100, 1) + "%").leftPadded(9),
                Format.fixed(m.routingFidelity, 3).leftPadded(9), Format.bytes(m.bytesMoved).leftPadded(11),
                (row.predictorRecall.map { Format.fixed($0, 3) } ?? "—").leftPadded(7),
            ]
            print(columns.joined(separator: " "))
        }
        let notes = Set(rows.flatMap(\.report.run.notes))
        for note in notes.sorted() { print("note: \(note)") }
        for line in refused { print("not run: \(line)") }
    }

    /// The recall@(k × widen) of the spec's predictor at its lookahead, on the same test sequences.
    private func recall(of spec: PolicySpec, reader: TraceReader, split: SequenceSplit?) throws -> Double? {
        guard spec.mechanism.usesPredictor, let name = spec.predictor,
              spec.mechanism != .speculativeDecoding || spec.prefetchDuringDraft else { return nil }
        let settings = PredictorCatalog.Settings(recall: spec.recall ?? 0.9, lookaheads: [spec.lookahead], seed: seed)
        let prepared = try PredictorCatalog.prepare(name, source: reader, settings: settings)
        let test = (prepared.split ?? split)?.test ?? Array(repeating: true, count: reader.sequences.count)
        let shape = reader.metadata.shape
        let width = min(shape.experts, Int((Double(shape.topK) * spec.widen).rounded(.up)))
        return try PredictorEvaluation.run(prepared.predictor, source: reader, test: test, lookahead: spec.lookahead, width: width).recall
    }
}
