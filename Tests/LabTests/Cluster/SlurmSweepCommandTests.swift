import Foundation
import Lab
import TestSupport
import Testing

/// `moesim sweep --slurm` and `moesim sweep status` from the command line. The scripts are run
/// here by bash, as a Slurm task would run them (bash reads `#SBATCH` lines as comments); the
/// same commands against a real slurmctld and slurmd are `make test-slurm` (Tests/Slurm/).
@Suite("Slurm sweep command", .serialized)
struct SlurmSweepCommandTests {
    /// An empty folder to use as PATH, so that no Slurm command is found.
    static let noSlurm = ["PATH": Repository.temporaryFolder()]

    @Test("--slurm without --submit writes the plan and both scripts beside the output and prints how to submit them")
    func writesScripts() throws {
        let (spec, specPath) = try smallSpec(name: "slurm-print")
        let output = Repository.temporaryFolder() + "/results.sqlite"
        let result = try CLI.run(["sweep", specPath, "-o", output, "--slurm", "--tasks", "3"], environment: Self.noSlurm)
        #expect(result.status == 0, "\(result.stderr)")
        let folder = SlurmSweepFolder(output: output)
        for file in [folder.planFile, folder.arrayScript, folder.mergeScript] { #expect(FileManager.default.fileExists(atPath: file)) }
        #expect(result.stdout.contains("array=$(sbatch --parsable \(folder.arrayScript))"))
        #expect(result.stdout.contains("sbatch --dependency=afterok:$array \(folder.mergeScript)"))
        #expect(result.stdout.contains("#SBATCH --array=0-2"))
        let plan = try JSONDecoder().decode(SlurmSweepPlan.self, from: Data(contentsOf: URL(fileURLWithPath: folder.planFile)))
        #expect(plan.points == spec.count && plan.tasks == 3 && plan.specHash == spec.hash)
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("the scripts run as Slurm tasks give shards whose merge equals the unsharded sweep, and status counts each shard")
    func scriptsRunAsTasks() throws {
        let (spec, specPath) = try smallSpec(name: "slurm-run")
        let output = Repository.temporaryFolder() + "/results.sqlite"
        #expect(try CLI.run(["sweep", specPath, "-o", output, "--slurm", "--tasks", "3"], environment: Self.noSlurm).status == 0)
        let folder = SlurmSweepFolder(output: output)
        for task in [2, 0] {
            let run = try CLI.run(program: "/bin/bash", [folder.arrayScript], environment: ["SLURM_ARRAY_TASK_ID": String(task)])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("(shard \(task)/3): 8 points computed, 0 already in"))
        }
        let partial = try CLI.run(["sweep", "status", output], environment: Self.noSlurm)
        #expect(partial.status == 0, "\(partial.stderr)")
        #expect(partial.stdout.contains("\(output) does not exist yet"))
        let rows = partial.stdout.split(separator: "\n").filter { $0.first?.isNumber == true || $0.hasPrefix("total") }
        #expect(rows.map { $0.split(separator: " ").prefix(3).joined(separator: " ") } == ["0 8 8", "1 0 8", "2 8 8", "total 16 24"])
        #expect(rows[1].contains("not queued"))

        let rerun = try CLI.run(["sweep", specPath, "-o", output, "--slurm"], environment: Self.noSlurm)
        #expect(rerun.stdout.contains("array=$(sbatch --parsable --array=1 \(folder.arrayScript))"), "a rerun submits only the unfinished shard")
        #expect(try CLI.run(program: "/bin/bash", [folder.arrayScript], environment: ["SLURM_ARRAY_TASK_ID": "1"]).status == 0)
        let merge = try CLI.run(program: "/bin/bash", [folder.mergeScript])
        #expect(merge.status == 0, "\(merge.stderr)")

        let whole = Repository.temporaryFolder() + "/whole.sqlite"
        #expect(try CLI.run(["sweep", specPath, "-o", whole, "--jobs", "2"]).status == 0)
        #expect(try storedReports(output) == storedReports(whole))
        #expect(try storedReports(output).count == spec.count)
        let done = try CLI.run(["sweep", specPath, "-o", output, "--slurm", "--submit"], environment: Self.noSlurm)
        #expect(done.stdout.contains("already holds all 24 points; nothing to submit"))
        let json = try CLI.run(["sweep", "status", specPath, "-o", output, "--json"], environment: Self.noSlurm)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["complete"] as? Bool == true && object["stored"] as? Int == 24 && (object["shards"] as? [Any])?.count == 3)
    }

    @Test("--submit without sbatch on PATH says so and records no job")
    func submitWithoutSbatch() throws {
        let (_, specPath) = try smallSpec(name: "slurm-nosbatch")
        let output = Repository.temporaryFolder() + "/results.sqlite"
        let result = try CLI.run(["sweep", specPath, "-o", output, "--slurm", "--submit"], environment: Self.noSlurm)
        #expect(result.status == 2)
        #expect(result.stderr.contains("sbatch") && result.stderr.contains("not on PATH"))
        #expect(!FileManager.default.fileExists(atPath: SlurmSweepFolder(output: output).jobsFile))
    }

    @Test("a folder laid out for 3 shards refuses another task count")
    func otherTaskCount() throws {
        let (_, specPath) = try smallSpec(name: "slurm-tasks")
        let output = Repository.temporaryFolder() + "/results.sqlite"
        #expect(try CLI.run(["sweep", specPath, "-o", output, "--slurm", "--tasks", "3"], environment: Self.noSlurm).status == 0)
        let result = try CLI.run(["sweep", specPath, "-o", output, "--slurm", "--tasks", "4"], environment: Self.noSlurm)
        #expect(result.status == 2)
        #expect(result.stderr.contains("holds 3 shards; 4 tasks would split the points differently"))
    }

    @Test("Slurm options without --slurm, and --shard with it, are refused")
    func optionMix() throws {
        let (_, specPath) = try smallSpec(name: "slurm-mix")
        let output = Repository.temporaryFolder() + "/results.sqlite"
        let tasks = try CLI.run(["sweep", specPath, "-o", output, "--tasks", "3"])
        #expect(tasks.status == 2 && tasks.stderr.contains("go with --slurm"))
        let shard = try CLI.run(["sweep", specPath, "-o", output, "--slurm", "--shard", "0/2"])
        #expect(shard.status == 2 && shard.stderr.contains("leave out --shard"))
    }

    @Test("status of a local sweep counts its points; a spec without -o asks for the results")
    func localStatus() throws {
        let (_, specPath) = try smallSpec(name: "slurm-local")
        let output = Repository.temporaryFolder() + "/results.sqlite"
        #expect(try CLI.run(["sweep", specPath, "-o", output, "--shard", "0/6", "--jobs", "1"]).status == 0)
        let status = try CLI.run(["sweep", "status", output])
        #expect(status.stdout.contains("24 points; \(output) holds 4"))
        let spec = try CLI.run(["sweep", "status", specPath])
        #expect(spec.status == 2 && spec.stderr.contains("moesim sweep status \(specPath) -o RESULTS"))
        let (_, otherSpec) = try smallSpec(name: "another")
        let other = try CLI.run(["sweep", "status", otherSpec, "-o", output])
        #expect(other.status == 2 && other.stderr.contains("belongs to sweep 'slurm-local'"))
    }
}
