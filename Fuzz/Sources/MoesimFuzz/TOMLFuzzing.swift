import Foundation
import Lab
import OffloadSim
import Policies
import TOML
import TraceStore

/// `toml`: the input as a TOML file, read as every schema moesim has; what parses is then
/// used as a user would (a profile, policy or engine simulates the template trace; a sweep
/// or reproduction of up to 8 points is checked and its first point run on it).
enum TOMLFuzzing {
    static func run(_ input: [UInt8]) {
        guard let text = String(validating: input, as: UTF8.self) else { return }
        _ = try? TOMLDocument(parsing: text)
        let file = FuzzScratch.shared.folder + "/input.toml"
        let template = FuzzScratch.shared.template
        if let profile = try? HardwareProfile(toml: text, file: file), let reader = try? TraceReader(path: template) {
            Exercise.simulate(reader, profile: profile)
        }
        if let policy = try? PolicySpec(toml: text, file: file), let reader = try? TraceReader(path: template) {
            Exercise.simulate(reader, policy: policy)
        }
        if let engine = try? ServingEngine(toml: text, file: file), let reader = try? TraceReader(path: template) {
            Exercise.simulate(reader, engine: engine)
        }
        if var sweep = try? SweepSpec(toml: text, file: file) {
            sweep.base[.trace] = .string(template)
            sweep.grid.removeAll { $0.parameter == .trace }
            if sweep.count <= 8 {
                var runner = SweepRunner(spec: sweep, jobs: 1)
                if (try? runner.check()) != nil { _ = try? PointRunner(spec: sweep).run(sweep.point(0)) }
            }
        }
        if let reproduction = try? Reproduction(toml: text, file: file), reproduction.runs.count <= 8 {
            _ = try? reproduction.run(trace: template)
        }
    }
}
