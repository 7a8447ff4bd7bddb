import Foundation

extension TraceExport {
    /// The provenance line that starts the export of a synthetic trace, so that importing
    /// the export does not relabel generated routing as recorded (traces/FORMAT.md). CSV
    /// carries it as a comment line, JSON Lines as an object without routing keys:
    ///
    ///     # moesim_trace_export provenance=synthetic source=<source>
    ///     {"moesim_trace_export":{"provenance":"synthetic","source":"<source>"}}
    public struct Provenance: Equatable, Sendable {
        /// The key that marks the line.
        public static let key = "moesim_trace_export"
        /// Whether the exported trace was synthetic.
        public var synthetic: Bool
        /// The exported trace's `source`, on one line.
        public var source: String

        /// A provenance line's content.
        public init(synthetic: Bool, source: String) {
            self.synthetic = synthetic
            self.source = String(source.map { $0.isNewline ? " " : $0 })
        }

        /// The CSV comment line, with its newline.
        public var csvComment: String {
            "# \(Self.key) provenance=\(synthetic ? "synthetic" : "real") source=\(source)\n"
        }

        /// The JSON Lines object, with its newline.
        public var jsonLine: String {
            "{\"\(Self.key)\":{\"provenance\":\"\(synthetic ? "synthetic" : "real")\",\"source\":\(TraceExport.jsonString(source))}}\n"
        }

        /// Reads a CSV comment line; nil when it is another comment.
        public init?(csvComment line: String) {
            let prefix = "# \(Self.key) provenance="
            guard line.hasPrefix(prefix) else { return nil }
            let rest = line.dropFirst(prefix.count)
            let label = rest.prefix { $0 != " " }
            guard label == "synthetic" || label == "real" else { return nil }
            let sourcePrefix = " source="
            let tail = rest.dropFirst(label.count)
            self.init(synthetic: label == "synthetic", source: tail.hasPrefix(sourcePrefix) ? String(tail.dropFirst(sourcePrefix.count)) : "")
        }

        /// Reads a JSON Lines object; nil when it is a routing row.
        public init?(jsonObject object: [String: Any]) {
            guard let inner = object[Self.key] as? [String: Any], let label = inner["provenance"] as? String,
                  label == "synthetic" || label == "real" else { return nil }
            self.init(synthetic: label == "synthetic", source: inner["source"] as? String ?? "")
        }
    }
}
