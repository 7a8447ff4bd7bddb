import Foundation
import OffloadSim
import TOML
import Testing

@Suite("Engine files")
struct ServingEngineFileTests {
    @Test("every built-in engine survives a round trip through its TOML file", arguments: ServingEngine.builtIns.map(\.name))
    func roundTrip(name: String) throws {
        let engine = try #require(ServingEngine.builtIn(named: name))
        #expect(try ServingEngine(toml: engine.tomlText, file: "\(name).toml") == engine)
    }

    @Test("the files in engines/ are the built-ins as `moesim engines --export` writes them", arguments: ServingEngine.builtIns.map(\.name))
    func checkedInFiles(name: String) throws {
        let path = SimFixtures.root + "/engines/\(name).toml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == ServingEngine.builtIn(named: name)!.tomlText, "run `make engine-files` to regenerate \(path)")
    }

    @Test("every number of a shipped engine names its source")
    func everyTermHasASource() {
        for engine in ServingEngine.builtIns {
            for key in ["experts", "buffer_sets", "copy_queue", "router_sync_ns", "copy_issue_ns", "copies_per_expert"] {
                #expect(engine.sources[key]?.isEmpty == false, "\(engine.name) has no source for \(key)")
            }
        }
    }

    @Test("a concurrent-streams engine file keeps its number of streams")
    func concurrentStreamsRoundTrip() throws {
        let engine = try ServingEngine(toml: "name = \"mine\"\n[execution]\nexperts = \"concurrent-streams\"\nstreams = 8\n", file: "mine.toml")
        #expect(engine.expertExecution == .concurrentStreams && engine.expertStreams == 8 && engine.waitsForWholeLayer)
        #expect(try ServingEngine(toml: engine.tomlText, file: "mine.toml") == engine)
    }

    @Test("a capacity factor is kept for a layer-barrier engine and refused for any other", arguments: [
        ("layer-barrier", true), ("streaming", false), ("concurrent-streams", false),
    ])
    func capacityFactorNeedsALayerBarrier(execution: String, accepted: Bool) throws {
        let text = "name = \"mine\"\n[execution]\nexperts = \"\(execution)\"\ncapacity_factor = 1.25\n"
        if accepted {
            let engine = try ServingEngine(toml: text, file: "mine.toml")
            #expect(engine.capacityFactor == 1.25 && engine.runsEveryExpert)
            #expect(try ServingEngine(toml: engine.tomlText, file: "mine.toml") == engine)
        } else {
            #expect {
                _ = try ServingEngine(toml: text, file: "mine.toml")
            } throws: { error in
                String(describing: error).contains("mine.toml:4: 'execution.capacity_factor' applies to layer-barrier engines only")
            }
        }
        let routed = try ServingEngine(toml: "name = \"mine\"\n[execution]\nexperts = \"\(execution)\"\ncapacity_factor = \"routed\"\n", file: "mine.toml")
        #expect(routed.capacityFactor == nil && !routed.runsEveryExpert)
    }

    @Test("the words per-matrix and per-policy read as nil counts")
    func wordsForDerivedCounts() throws {
        let text = """
            name = "mine"
            [execution]
            buffer_sets = "per-policy"
            [host]
            copies_per_expert = "per-matrix"
            """
        let engine = try ServingEngine(toml: text, file: "mine.toml")
        #expect(engine.copiesPerExpert == nil && engine.bufferSets == nil)
        #expect(engine.expertExecution == .streaming && engine.prioritisesDemand)
    }

    @Test("copies by id run and syncs between weight tensors need a layer barrier; a per-expert CPU cost reads as nil; host layers survive a round trip")
    func hostResidentTerms() throws {
        let barrier = try ServingEngine(toml: """
            name = "mine"
            [execution]
            experts = "layer-barrier"
            cpu_experts_below_tokens = 16
            host_expert_layers = 24
            prefill_chunk_tokens = 256
            shared_experts = "after-routed"
            [host]
            copy_grouping = "id-run"
            cpu_layer_ns = "per-expert"
            split_sync_ns = "2 × sync + 2 × copy_call"
            """, file: "mine.toml")
        #expect(barrier.splitSync == HostCost(syncs: 2, copyCalls: 2))
        #expect(barrier.copiesIDRuns && barrier.cpuLayer == nil && barrier.cpuExpertsBelowTokens == 16 && barrier.hostExpertLayers == 24
                && barrier.prefillChunkTokens == 256 && barrier.sharedExpertsAfterRouted)
        #expect(try ServingEngine(toml: barrier.tomlText, file: "again.toml") == barrier)
        for (text, message) in [("[host]\ncopy_grouping = \"id-run\"", "needs a layer that waits for all of its copies"),
                                ("[host]\ncopy_grouping = \"runs\"", "valid: expert, id-run"),
                                ("[execution]\nshared_experts = \"after-routed\"", "needs experts = \"layer-barrier\""),
                                ("[host]\nsplit_sync_ns = \"sync\"", "'host.split_sync_ns' needs experts = \"layer-barrier\", not streaming"),
                                ("[execution]\ncpu_experts_below_tokens = -1", "valid: 0…1048576")] {
            #expect {
                _ = try ServingEngine(toml: "name = \"bad\"\n\(text)\n", file: "bad.toml")
            } throws: { error in
                let failure = error as? TOMLFileError
                return failure?.line == 3 && failure!.problem.contains(message)
            }
        }
    }

    @Test("a bad value is refused with its line and the valid values", arguments: [
        ("experts = \"barrier\"", "valid: streaming, layer-barrier, per-expert-sync, concurrent-streams"),
        ("streams = 0", "valid: 1…128"),
        ("copy_queue = \"lifo\"", "valid: priority, fifo"),
        ("buffer_sets = 0", "valid: an integer 1…64 or \"per-policy\""),
        ("buffer_sets = \"many\"", "valid: an integer 1…64 or \"per-policy\""),
    ])
    func badExecutionValue(line: String, message: String) throws {
        let text = "name = \"bad\"\n[execution]\n\(line)\n"
        #expect {
            _ = try ServingEngine(toml: text, file: "bad.toml")
        } throws: { error in
            let failure = error as? TOMLFileError
            return failure?.line == 3 && failure!.problem.contains(message)
        }
    }

    @Test("an engine's framework reads back as its name, \"none\" as none, and a name with capitals or spaces is refused with its line")
    func frameworkName() throws {
        for (word, framework) in [("pytorch", Optional("pytorch")), ("none", nil)] {
            let engine = try ServingEngine(toml: "name = \"e\"\n[host]\nframework = \"\(word)\"\n", file: "e.toml")
            #expect(engine.framework == framework)
            #expect(try ServingEngine(toml: engine.tomlText, file: "e.toml") == engine)
        }
        #expect(ServingEngine.builtIns.filter { $0.framework == "pytorch" }.map(\.name) == ["yalis", "hf-transformers", "deepspeed-zero3", "tutel", "replica-streams"])
        #expect {
            _ = try ServingEngine(toml: "name = \"e\"\n[host]\nframework = \"Py Torch\"\n", file: "e.toml")
        } throws: { error in
            let failure = error as? TOMLFileError
            return failure?.line == 3 && failure!.problem.contains("valid: \"none\" or a framework's name in lower case")
        }
    }

    @Test("a negative or absurd host time is refused with the valid range")
    func badHostTime() throws {
        for value in ["-1", "9223372036854775807"] {
            #expect {
                _ = try ServingEngine(toml: "name = \"bad\"\n[host]\nrouter_sync_ns = \(value)\n", file: "bad.toml")
            } throws: { error in
                (error as? TOMLFileError)?.problem.contains("valid: 0…1000000000") == true
            }
        }
    }

    @Test("a host cost written as operations survives a round trip and a bad one is refused with its line")
    func hostOperationsInFiles() throws {
        var engine = ServingEngine.yalis
        engine.expertSync = HostCost(syncs: 2, launches: 1, fixedNs: 700)
        let reread = try ServingEngine(toml: engine.tomlText, file: "yalis.toml")
        #expect(reread == engine)
        #expect(engine.tomlText.contains("expert_sync_ns = \"2 × sync + launch + 700\""))
        #expect {
            _ = try ServingEngine(toml: "name = \"bad\"\n[host]\nrouter_sync_ns = \"sync + flush\"\n", file: "bad.toml")
        } throws: { error in
            let failure = error as? TOMLFileError
            return failure?.line == 3 && failure!.problem.contains("'sync + flush'") && failure!.problem.contains("sync, launch, copy_call")
        }
    }

    @Test("a term set by name or by full key reads as its file line would; the engine then says what was set and by whom")
    func settingTerms() throws {
        let llama = ServingEngine.llamaCpp
        #expect(try llama.setting([], origin: "--engine-set") == llama)
        let set = try llama.setting([("cpu_experts_below_tokens", "0"), ("host.split_sync_ns", "sync"), ("copy_grouping", "\"expert\"")],
                                    origin: "--engine-set")
        #expect(set.cpuExpertsBelowTokens == 0 && set.splitSync == HostCost(syncs: 1) && !set.copiesIDRuns)
        #expect(set.prefillChunkTokens == 512 && set.cpuLayer == llama.cpuLayer && set.name == "llama-cpp")
        #expect(set.displayName == llama.displayName
                + "; set: execution.cpu_experts_below_tokens = 0, host.split_sync_ns = \"sync\", host.copy_grouping = \"expert\"")
        #expect(set.sources["cpu_experts_below_tokens"] == "set by --engine-set" && set.sources["prefill_chunk_tokens"] == llama.sources["prefill_chunk_tokens"])
        #expect {
            _ = try ServingEngine.moesim.setting([("streams", "0")], origin: "--engine-set")
        } throws: { error in
            (error as? TOMLFileError).map { $0.file == "--engine-set" && $0.line == 0 && $0.problem == "'execution.streams' is 0; valid: 1…128" } ?? false
        }
    }

    @Test("a source for a term that does not exist is refused")
    func unknownSource() throws {
        #expect {
            _ = try ServingEngine(toml: "name = \"bad\"\n[sources]\nwarp_speed = \"hope\"\n", file: "bad.toml")
        } throws: { error in
            (error as? TOMLFileError)?.problem.contains("names no engine term") == true
        }
    }
}
