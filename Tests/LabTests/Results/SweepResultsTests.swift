import Foundation
import Lab
import OffloadSim
import TestSupport
import Testing
import TraceStore

#if canImport(Glibc)
import Glibc
#endif

/// Reads every stored point of a results file as (hash, report JSON).
func storedReports(_ path: String) throws -> [String: String] {
    let database = try SQLiteDatabase(path: path, mode: .readOnly)
    let rows = try database.prepare("SELECT point_hash, report FROM points")
    var reports: [String: String] = [:]
    while try rows.step() { reports[rows.text(0)] = rows.text(1) }
    return reports
}

/// A small synthetic DeepSeek-V2-Lite trace (8 sequences of 8 + 24 tokens), made once.
let smallTrace: String = {
    let path = Repository.temporaryFolder() + "/small.sqlite"
    _ = try! TraceSynthesis.run(.init(model: ModelPreset.named("deepseek-v2-lite"), tokens: 256, seed: 2, prefill: 8, decode: 24), output: path)
    return path
}()

/// A 24-point sweep over the small trace (policies × bus × cache).
func smallSpec(name: String = "small") throws -> (SweepSpec, String) {
    let folder = Repository.temporaryFolder()
    let text = """
        name = "\(name)"
        [base]
        trace = "\(smallTrace)"
        [grid]
        policy = ["on-demand", "cross-layer-gate"]
        bus_gbps = [12.6, 25.2, 50.4]
        cache_mib = [0, 2048, 4096, 8192]
        """
    let path = folder + "/spec.toml"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return (try SweepSpec(toml: text, file: path), path)
}

@Suite("Sweep results", .serialized)
struct SweepResultsTests {
    @Test("a sweep killed mid-run and rerun computes only the missing points: none lost, none repeated")
    func killAndResume() throws {
        let (spec, specPath) = try smallSpec()
        let folder = Repository.temporaryFolder()
        let killed = folder + "/killed.sqlite", whole = folder + "/whole.sqlite"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.executable)
        process.arguments = ["sweep", specPath, "-o", killed, "--jobs", "2"]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var stored = 0
        let deadline = Date().addingTimeInterval(60)
        while stored < 3 && Date() < deadline && process.isRunning {
            usleep(50_000)
            stored = (try? storedReports(killed).count) ?? 0
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let before = try storedReports(killed).count
        #expect(before >= 3)
        #expect(before < spec.count, "the sweep finished before it could be killed; make the spec larger")
        let resumed = try CLI.run(["sweep", specPath, "-o", killed, "--jobs", "2"])
        #expect(resumed.status == 0)
        #expect(resumed.stdout.contains("\(spec.count - before) points computed, \(before) already in"))
        let uninterrupted = try CLI.run(["sweep", specPath, "-o", whole, "--jobs", "1"])
        #expect(uninterrupted.status == 0)
        let (a, b) = (try storedReports(killed), try storedReports(whole))
        #expect(a.count == spec.count)
        #expect(a == b)
    }

    @Test("three shards merged give exactly the unsharded results")
    func shardsAndMerge() throws {
        let (spec, _) = try smallSpec(name: "shards")
        let folder = Repository.temporaryFolder()
        var shards: [String] = []
        for index in 0..<3 {
            let path = folder + "/shard\(index).sqlite"
            try SweepRunner(spec: spec, jobs: 1, shard: (index, 3)).run(into: ResultsDatabase(path: path, spec: spec))
            shards.append(path)
        }
        #expect(try shards.map { try storedReports($0).count } == [8, 8, 8])
        let merged = folder + "/merged.sqlite", whole = folder + "/whole.sqlite"
        let (points, duplicates) = try ResultsMerge.merge(shards + [shards[0]], into: merged)
        #expect(points == spec.count && duplicates == 8)
        try SweepRunner(spec: spec, jobs: 2).run(into: ResultsDatabase(path: whole, spec: spec))
        #expect(try storedReports(merged) == storedReports(whole))
        let layers = try SQLiteDatabase(path: merged, mode: .readOnly).prepare("SELECT count(*) FROM layers")
        _ = try layers.step()
        #expect(layers.int(0) == spec.count * 26)
    }

    @Test("each point's metric columns hold its report's figures, GPU and host shares included")
    func metricColumnsHoldTheReport() throws {
        let (spec, _) = try smallSpec(name: "columns")
        let path = Repository.temporaryFolder() + "/columns.sqlite"
        try SweepRunner(spec: spec, jobs: 2).run(into: ResultsDatabase(path: path, spec: spec))
        let rows = try SQLiteDatabase(path: path, mode: .readOnly).prepare("SELECT report, gpu_busy_share, host_wait_share, tpot_ms FROM points")
        var count = 0
        while try rows.step() {
            let report = try #require(try JSONSerialization.jsonObject(with: Data(rows.text(0).utf8)) as? [String: Any])
            #expect(rows.double(1) == report["gpu_busy_share"] as? Double)
            #expect(rows.double(2) == report["host_wait_share"] as? Double)
            #expect(rows.double(3) == report["tpot_ms"] as? Double)
            #expect(rows.double(1) > 0)
            count += 1
        }
        #expect(count == spec.count)
    }

    /// The llama-cpp engine over the small trace: its 8-token prompts and 1-token decode steps run
    /// on the CPU below 32 tokens, so the host's bandwidth sets decoding's pace; with every layer's
    /// experts on the GPU nothing runs on the CPU; a prefill chunk of 4 makes two steps of each prompt.
    @Test("a sweep sets the engine's host layers, prefill chunk and CPU threshold and the host's bandwidth, each in its column")
    func engineTermsSweep() throws {
        let folder = Repository.temporaryFolder()
        let text = """
            name = "llama"
            [base]
            trace = "\(smallTrace)"
            engine = "llama-cpp"
            [grid]
            host_memory_gbps = [50.0, 100.0]
            host_expert_layers = [0, 26]
            prefill_chunk_tokens = [4, 512]
            cpu_experts_below_tokens = [0, 32]
            """
        let spec = try SweepSpec(toml: text, file: folder + "/spec.toml")
        let path = folder + "/llama.sqlite"
        try SweepRunner(spec: spec, jobs: 2).run(into: ResultsDatabase(path: path, spec: spec))
        let rows = try SQLiteDatabase(path: path, mode: .readOnly).prepare(
            "SELECT p_host_memory_gbps, p_host_expert_layers, p_prefill_chunk_tokens, p_cpu_experts_below_tokens, tpot_ms, report FROM points")
        var tpot: [String: Double] = [:]
        while try rows.step() {
            let report = try #require(try JSONSerialization.jsonObject(with: Data(rows.text(5).utf8)) as? [String: Any])
            let key = "\(rows.double(0))/\(rows.int(1))/\(rows.int(2))/\(rows.int(3))"
            tpot[key] = rows.double(4)
            let cpuExperts = try #require(report["cpu_experts"] as? Int)
            #expect((rows.int(1) == 0 || rows.int(3) == 0) == (cpuExperts == 0), "\(key): \(cpuExperts) CPU experts")
            #expect((report["steps"] as? Int) == (rows.int(2) == 4 ? 8 * 2 + 8 * 24 : 8 + 8 * 24), "\(key)")
        }
        #expect(tpot.count == 16)
        // Half the host bandwidth slows the CPU's decoding; with every expert on the GPU, or none on the CPU, it does not matter.
        #expect(try #require(tpot["50.0/26/512/32"]) > (try #require(tpot["100.0/26/512/32"])))
        #expect(tpot["50.0/0/512/32"] == tpot["100.0/0/512/32"])
        #expect(tpot["50.0/26/512/0"] == tpot["100.0/26/512/0"])
    }

    /// Hugging Face's loop syncs before each expert and after the router; with both syncs set to
    /// 0 the host never waits, and each point runs exactly as `simulate --engine-set` would.
    @Test("a sweep sets any engine term through engine_set, names it in the engine column and runs as --engine-set does")
    func engineSetSweep() throws {
        let folder = Repository.temporaryFolder()
        let text = """
            name = "hf terms"
            [base]
            trace = "\(smallTrace)"
            engine = "hf-transformers"
            [grid]
            engine_set = ["", "expert_sync_ns=0; router_sync_ns=0"]
            """
        let spec = try SweepSpec(toml: text, file: folder + "/spec.toml")
        let path = folder + "/hf.sqlite"
        try SweepRunner(spec: spec, jobs: 2).run(into: ResultsDatabase(path: path, spec: spec))
        let rows = try SQLiteDatabase(path: path, mode: .readOnly).prepare("SELECT p_engine_set, engine, host_wait_share, tpot_ms FROM points")
        var found: [String: (engine: String, hostWait: Double, tpot: Double)] = [:]
        while try rows.step() { found[rows.text(0)] = (rows.text(1), rows.double(2), rows.double(3)) }
        let plain = try #require(found[""]), unsynced = try #require(found["expert_sync_ns=0; router_sync_ns=0"])
        #expect(plain.engine == "hf-transformers (Hugging Face transformers, eager MoE loop with CPU offload)")
        #expect(unsynced.engine.hasSuffix("; set: host.expert_sync_ns = 0, host.router_sync_ns = 0)"), "\(unsynced.engine)")
        #expect(plain.hostWait > 0 && unsynced.hostWait == 0)
        #expect(unsynced.tpot < plain.tpot)
        let direct = try RunSetup(
            trace: TraceReader(path: smallTrace), model: nil, expertDType: nil, hardware: "rtx-a6000", policy: "on-demand", cache: nil,
            eviction: nil, partitioned: false, batch: 1, prefillAsDecode: false, stagingBuffers: 2, seed: 1, timelineSteps: 0,
            engine: "hf-transformers", engineTerms: ["expert_sync_ns=0", "router_sync_ns=0"]).run().0
        #expect(try #require(direct.metrics.tpot.mean) / 1e6 == unsynced.tpot)
    }

    /// A profile whose host expert table times the small trace's experts (bf16 DeepSeek-V2-Lite:
    /// 3 × 2,048 × 1,408 × 2 bytes) at 1 ms each: without a swept bandwidth it sets the CPU path's
    /// pace; a swept `host_memory_gbps` prices the experts by the roofline instead.
    @Test("a swept host bandwidth prices CPU experts even where the profile has a measured host expert table")
    func sweptHostBandwidthOverridesTable() throws {
        let folder = Repository.temporaryFolder()
        var profile = try #require(HardwareProfile.preset(named: "rtx-a6000"))
        let table = try #require(CalibrationTable(tokens: [1, 64], nanoseconds: [1_000_000, 1_000_000]))
        profile.hostExpertCalibration["deepseek-v2-lite"] = HostExpertCalibration(table: table, expertBytes: 3 * 2_048 * 1_408 * 2, kernel: "test")
        let hardware = folder + "/measured.toml"
        try profile.tomlText.write(toFile: hardware, atomically: true, encoding: .utf8)
        func tpots(_ grid: String) throws -> [Double] {
            let text = "name = \"t\"\n[base]\ntrace = \"\(smallTrace)\"\nengine = \"llama-cpp\"\nhardware = \"\(hardware)\"\n[grid]\n\(grid)\n"
            let spec = try SweepSpec(toml: text, file: folder + "/spec.toml")
            let path = Repository.temporaryFolder() + "/r.sqlite"
            try SweepRunner(spec: spec, jobs: 1).run(into: ResultsDatabase(path: path, spec: spec))
            let rows = try SQLiteDatabase(path: path, mode: .readOnly).prepare("SELECT tpot_ms FROM points ORDER BY point_index")
            var found: [Double] = []
            while try rows.step() { found.append(rows.double(0)) }
            return found
        }
        let swept = try tpots("host_memory_gbps = [50.0, 100.0]")
        let measured = try tpots("batch = [1]")
        #expect(swept.count == 2 && swept[0] > swept[1])
        // The table's 1 ms an expert is slower than either roofline (17.3 MB at 50 GB/s is 0.35 ms).
        #expect(measured.count == 1 && measured[0] > swept[0])
    }

    @Test("a results file of another spec is refused, not mixed")
    func otherSpecRefused() throws {
        let (spec, _) = try smallSpec(name: "one")
        let (other, _) = try smallSpec(name: "two")
        let path = Repository.temporaryFolder() + "/r.sqlite"
        _ = try ResultsDatabase(path: path, spec: spec)
        #expect {
            _ = try ResultsDatabase(path: path, spec: other)
        } throws: { error in
            (error as? TraceStoreError)?.problem.contains("holds results of another sweep spec") == true
        }
        let folder = Repository.temporaryFolder()
        let otherPath = folder + "/other.sqlite"
        _ = try ResultsDatabase(path: otherPath, spec: other)
        #expect(throws: TraceStoreError.self) { try ResultsMerge.merge([path, otherPath], into: folder + "/m.sqlite") }
        #expect(!AtomicFile.exists(folder + "/m.sqlite") && !AtomicFile.exists(folder + "/m.sqlite.partial"))
    }

    @Test("a results file of another schema version or a trace file is refused")
    func wrongFiles() throws {
        let (spec, _) = try smallSpec()
        let path = Repository.temporaryFolder() + "/r.sqlite"
        _ = try ResultsDatabase(path: path, spec: spec)
        try SQLiteDatabase(path: path, mode: .readWriteCreate).execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        #expect {
            _ = try ResultsDatabase(path: path, spec: spec)
        } throws: { error in
            (error as? TraceStoreError)?.problem.contains("schema 99") == true
        }
        #expect(throws: TraceStoreError.self) { _ = try ResultsDatabase(path: Repository.root + "/traces/demo.sqlite", spec: spec) }
    }
}
