import ArgumentParser
import Lab
import OffloadSim
import TraceStore

struct EnginesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engines", abstract: "List the serving-engine models, or print one as an editable engine file.",
        discussion: """
            An engine says how a layer's experts execute (streaming as each lands, a barrier then one grouped kernel, \
            or a host loop with a sync per expert), what the host's syncs and copy calls cost, how many copy calls an \
            expert takes and how far a prefetch may run ahead without a cache. Host costs are fixed times or sums of \
            operations (sync, launch, copy_call) that the hardware profile prices: a preset's assumptions, or what \
            `moesim gpu calibrate` measured. An engine that keeps experts in host memory (llama-cpp) computes them \
            on the CPU in steps below a token threshold, may keep later layers' experts on the GPU, copies runs of \
            consecutive expert ids together and takes prompts in chunks. Pass --engine NAME or --engine FILE.toml to \
            simulate, compare, sweep (parameter engine) and gpu validate.
            """)

    @Flag(help: "Also print where each number comes from.")
    var sources = false

    @Option(help: "Print the engine with this name as TOML (copy, edit, pass with --engine FILE).")
    var export: String?

    /// A host cost as the table shows it: µs when fixed, else the operations the hardware profile prices.
    private func hostCost(_ cost: HostCost) -> String {
        cost.isFixed ? "\(Format.fixed(Double(cost.fixedNs) / 1000, 1)) µs" : cost.description
    }

    func run() throws {
        if let export {
            print(try OptionRange.named("--export") { try RunSetup.engine(export) }.tomlText, terminator: "")
            return
        }
        print("name             experts           router sync    copy call  copies/expert  buffer sets  copy queue  CPU below  engine")
        for engine in ServingEngine.builtIns {
            let columns = [
                engine.name.rightPadded(16), engine.expertExecution.rawValue.rightPadded(17),
                hostCost(engine.routerSync).leftPadded(13), hostCost(engine.copyIssue).leftPadded(10),
                (engine.copiesPerExpert.map(String.init) ?? "per matrix").leftPadded(14),
                (engine.bufferSets.map(String.init) ?? "per policy").leftPadded(12),
                (engine.prioritisesDemand ? "priority" : "fifo").leftPadded(11),
                (engine.cpuExpertsBelowTokens > 0 ? "\(engine.cpuExpertsBelowTokens) tokens" : "—").leftPadded(10), engine.displayName,
            ]
            print(columns.joined(separator: " "))
            if sources {
                print("    source: \(engine.source)")
                for key in engine.sources.keys.sorted() { print("    \(key): \(engine.sources[key]!)") }
            }
        }
    }
}
