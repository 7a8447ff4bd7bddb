/// `moesim trace info --verify`: decodes every chunk and every recorded prediction of a
/// trace, checking each against the metadata, the zstd frame checksums and (format version
/// 3 on) the content checksums its rows store. A damaged chunk is a ``TraceStoreError``
/// naming it. O(trace), one chunk in memory.
public enum TraceVerification {
    /// Verifies `trace` and says what was checked.
    public static func run(_ trace: TraceReader) throws -> String {
        let cursor = try trace.chunks(predictions: trace.metadata.predictionLookaheads)
        var chunk = cursor.makeChunk()
        var chunks = 0
        while try cursor.next(into: &chunk) { chunks += 1 }
        let what = trace.metadata.predictionLookaheads.isEmpty ? "" : " and their predictions"
        return trace.metadata.hasContentChecksums
            ? "\(chunks) chunks\(what) decoded; every content checksum matches"
            : "\(chunks) chunks\(what) decoded; format version \(trace.metadata.formatVersion) stores no content checksums (zstd frame checksums only; re-import to add them)"
    }
}
