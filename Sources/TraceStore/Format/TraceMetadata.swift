/// What a trace file says about itself: format, model shape, provenance and totals.
///
/// Stored as key/value rows in the `meta` table and, per layer, in the `layers` table
/// (traces/FORMAT.md lists every key).
public struct TraceMetadata: Equatable, Sendable {
    /// The `meta` value of `format`, so that other SQLite files are recognised as such.
    public static let formatName = "moesim-trace"
    /// The version this build writes: 3 adds a content checksum to every chunk and
    /// prediction row. Version 2 added absent token-layers (a token that lacks some layers'
    /// routing; version 1 files have none); version 3 files may hold them or not.
    public static let currentFormatVersion = 3
    /// The versions this build reads.
    public static let readableFormatVersions = 1...3

    /// Format version of the file: what a file read says; ``currentFormatVersion`` for one being written.
    public var formatVersion = currentFormatVersion
    /// Whether chunks and predictions carry content checksums (version 3 on).
    public var hasContentChecksums: Bool { formatVersion >= 3 }
    /// The model shape the ids refer to.
    public var shape: ModelShape
    /// Whether fp16 gate weights are stored next to the ids.
    public var hasWeights: Bool
    /// True when moesim generated the routing (`trace synth`); false for recorded routing.
    public var synthetic: Bool
    /// Where the routing came from (a repository, a paper, a recorder run).
    public var source: String
    /// The licence of the source data, or "unknown".
    public var license: String
    /// Free text: how it was recorded, what was overridden, what was skipped.
    public var notes: String
    /// The importer or generator that wrote it ("esft", "synth", …).
    public var importer: String
    /// The moesim version that wrote the file.
    public var createdBy: String
    /// Tokens, all phases.
    public var tokens: Int = 0
    /// Prompt tokens.
    public var prefillTokens: Int = 0
    /// Generated tokens.
    public var decodeTokens: Int = 0
    /// Number of sequences.
    public var sequences: Int = 0
    /// Number of routing chunks.
    public var chunks: Int = 0
    /// Largest number of tokens in one chunk.
    public var chunkTokens: Int = 0
    /// Lookaheads (in layers) that have recorded predictions; empty for none.
    public var predictionLookaheads: [Int] = []
    /// Experts per recorded prediction set (per token, per target layer).
    public var predictionWidth: Int = 0
    /// Routed decisions the source lacked (tokens × layers × top-k minus those stored): a
    /// token kept with only some of its layers (format version 2).
    public var absentDecisions: Int = 0

    /// Creates metadata; totals are filled in by the writer.
    public init(
        shape: ModelShape, hasWeights: Bool, synthetic: Bool, source: String, license: String = "unknown",
        notes: String = "", importer: String, createdBy: String = MoesimVersion.current
    ) {
        self.shape = shape
        self.hasWeights = hasWeights
        self.synthetic = synthetic
        self.source = source
        self.license = license
        self.notes = notes
        self.importer = importer
        self.createdBy = createdBy
    }

    /// Routed decisions in the trace: tokens × layers × top-k.
    public var decisions: Int { tokens * shape.decisionsPerToken }

    /// "real" or "synthetic", as every output says it.
    public var provenanceLabel: String { synthetic ? "synthetic" : "real" }
}

/// The version of moesim, written into every file it produces.
public enum MoesimVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"
}
