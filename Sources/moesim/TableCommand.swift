import ArgumentParser
import Foundation
import TraceStore

struct TableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Tabulate saved `simulate --json` results, one row each, with what each assumed.")

    @Argument(help: "JSON files written by `moesim simulate --json`.")
    var results: [String]

    func run() throws {
        print("policy       predictor  cache            trace      TPOT ms   p99 ms  stall   hit rate  decode hit  moved      hardware")
        for path in results {
            guard let data = FileManager.default.contents(atPath: path),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let run = object["run"] as? [String: Any]
            else {
                throw TraceStoreError(file: path, problem: "is not a `moesim simulate --json` result",
                                      fix: "Write one with `moesim simulate ... --json > FILE`.")
            }
            func number(_ key: String) -> Double? { object[key] as? Double ?? (object[key] as? Int).map(Double.init) }
            func ms(_ key: String) -> String { number(key).map { Format.fixed($0, 3) } ?? "n/a" }
            func pct(_ key: String) -> String { number(key).map { Format.fixed($0 * 100, 1) + "%" } ?? "n/a" }
            let cacheBytes = run["cache_bytes"] as? Int ?? 0
            let cache = cacheBytes == 0 ? "none" : "\(Format.bytes(cacheBytes)) \(run["eviction"] as? String ?? "")"
            let columns = [
                (run["policy"] as? String ?? "?").rightPadded(12), (run["predictor"] as? String ?? "?").rightPadded(10),
                cache.rightPadded(16), (run["trace_kind"] as? String ?? "?").rightPadded(9), ms("tpot_ms").leftPadded(8),
                ms("tpot_p99_ms").leftPadded(8), pct("stall_share").leftPadded(6), pct("hit_rate").leftPadded(9),
                pct("decode_hit_rate").leftPadded(11), Format.bytes(Int(number("bytes_moved") ?? 0)).leftPadded(10),
                run["hardware"] as? String ?? "?",
            ]
            print(columns.joined(separator: " "))
        }
    }
}
