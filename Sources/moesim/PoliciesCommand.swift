import ArgumentParser
import Lab
import Policies
import TraceStore

struct PoliciesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policies", abstract: "List the named policies, or print one as an editable policy file.")

    @Option(help: "Print the policy with this name as TOML (copy, edit, pass with --policy FILE).")
    var export: String?

    func run() throws {
        if let export {
            print(try OptionRange.named("--export") { try RunSetup.policy(export) }.tomlText, terminator: "")
            return
        }
        print("name                        mechanism      predictor     description  [paper]")
        for spec in PolicySpec.builtIns {
            let predictor = spec.predictor.map { $0 == "parametric" ? "parametric r=\(Format.fixed(spec.recall ?? 0.9, 2))" : $0 } ?? "none"
            print("\(spec.name.rightPadded(27)) \(spec.mechanism.rawValue.rightPadded(14)) \(predictor.rightPadded(13)) \(spec.description)  [\(spec.paper)]")
        }
    }
}
