#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `moesim trace export`: writes a trace in the generic long format (CSV or JSON Lines),
/// one row per routed expert in rank order, atomically (temp file + rename).
///
/// Weights are printed as the shortest decimal that reads back to the same fp16 value,
/// so import → export → import is lossless on ids and on weights at fp16 precision. A
/// synthetic trace's export starts with a provenance line (``Provenance``) so that its
/// re-import is labelled synthetic too.
public enum TraceExport {
    /// The two syntaxes of the long format.
    public enum Syntax: String, CaseIterable, Sendable {
        case csv, jsonl
    }

    /// Streams `trace` to `output`; returns the number of rows written.
    @discardableResult
    public static func run(trace: TraceReader, syntax: Syntax, output: String) throws -> Int {
        let temporary = AtomicFile.temporaryPath(for: output)
        guard let file = fopen(temporary, "wb") else {
            throw TraceStoreError(file: output, problem: "cannot be created (\(String(cString: strerror(errno))))", fix: "Check that the folder exists and is writable.")
        }
        var closed = false
        defer {
            if !closed { fclose(file) }
            AtomicFile.remove(temporary)
        }
        var rowsOut = LongFormatRowWriter(syntax: syntax)
        func write() throws {
            let ok = rowsOut.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) == $0.count }
            guard ok else {
                throw TraceStoreError(file: output, problem: "could not be written (\(String(cString: strerror(errno))))", fix: "Check the disk space.")
            }
            rowsOut.clear()
        }
        if trace.metadata.synthetic {
            let provenance = Provenance(synthetic: true, source: trace.metadata.source)
            rowsOut.append(syntax == .csv ? provenance.csvComment : provenance.jsonLine)
        }
        if syntax == .csv { rowsOut.append("sequence,token,phase,layer,rank,expert,weight\n") }
        let names = trace.sequences.map { Array((syntax == .jsonl ? jsonString($0.name) : csvField($0.name)).utf8) }
        let cursor = try trace.chunks()
        var chunk = cursor.makeChunk()
        var rows = 0
        while try cursor.next(into: &chunk) {
            var token = 0
            for run in chunk.runs {
                for position in run.firstToken..<run.firstToken + run.tokens {
                    rowsOut.beginToken(name: names[run.sequence], position: position, phase: chunk.phase(token: token))
                    // A layer the token lacks has no rows (an import with --lenient keeps it absent).
                    for layer in 0..<chunk.layers where !chunk.isAbsent(token: token, layer: layer) {
                        let base = chunk.offset(token: token, layer: layer)
                        for (rank, slot) in chunk.rankOrder(token: token, layer: layer).enumerated() {
                            rowsOut.appendRow(layer: layer, rank: rank, expert: chunk.ids[base + slot],
                                              weightBits: chunk.hasWeights ? chunk.weightBits[base + slot] : nil)
                            rows += 1
                        }
                    }
                    token += 1
                }
                if rowsOut.bytes.count > 1 << 20 { try write() }
            }
        }
        try write()
        guard fflush(file) == 0 else {
            throw TraceStoreError(file: output, problem: "could not be written", fix: "Check the disk space.")
        }
        fclose(file)
        closed = true
        try AtomicFile.commit(temporary, to: output)
        return rows
    }

    /// A sequence name as a CSV field: names with a comma, quote or newline have those replaced
    /// by "_", and a leading "#" (which would make the row a comment) too.
    static func csvField(_ name: String) -> String {
        let field = String(name.map { $0 == "," || $0 == "\"" || $0.isNewline ? "_" : $0 })
        return field.first == "#" ? "_" + field.dropFirst() : field
    }

    /// A JSON string literal.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 { out += unicodeEscape(scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
