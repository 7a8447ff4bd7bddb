"""The recorder on tiny random models of every supported family, checked against the models'
own router logits, an independent reading of each routing rule, and moesim's Swift reader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch
import transformers

from moesim_record.prompts import Prompt, PromptFileError, read_prompts
from moesim_record.recorder import record, record_encoder
from moesim_record.routers import UnsupportedModel
from moesim_record.traceformat import TraceFormatError, TraceShape, TraceWriter

from support import expected_routing, exported_rows, recorded_predictions, run_moesim
from tiny_models import FAMILIES, tiny_model

transformers.logging.set_verbosity_error()

PROMPTS = [Prompt("first", [5, 17, 33, 8, 61, 12], "test:1"), Prompt("second", [40, 3, 77, 29], "test:2")]
DECODE = 5
LOOKAHEADS = [0, 1, 2]


class RecordedFamilies(unittest.TestCase):
    """One recording per family, shared by the tests of this class."""

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="moesim-record-")
        cls.models, cls.recordings = {}, {}
        for family in FAMILIES:
            cls.models[family] = tiny_model(family)
            path = os.path.join(cls.folder, f"{family}.sqlite")
            cls.recordings[family] = record(cls.models[family], PROMPTS, path, decode_tokens=DECODE, lookaheads=LOOKAHEADS)

    def full_forward(self, family: str, tokens: list[int]):
        """Router logits per MoE layer and each MoE block's input, from one forward pass over the
        whole sequence (no cache), taken with the model's own output_router_logits."""
        model = self.models[family]
        inputs, handles = {}, []
        for index, layer in enumerate(model.model.layers):
            def keep(module, args, index=index):
                inputs[index] = args[0].reshape(-1, args[0].shape[-1])
            handles.append(layer.mlp.register_forward_pre_hook(keep))
        try:
            with torch.no_grad():
                out = model(input_ids=torch.tensor([tokens]), output_router_logits=True)
        finally:
            for handle in handles:
                handle.remove()
        moe = [i for i, layer in enumerate(model.model.layers) if hasattr(layer.mlp, "gate") or hasattr(layer.mlp, "router")]
        return [logits.reshape(len(tokens), -1) for logits in out.router_logits], [inputs[i] for i in moe], moe

    def test_recorded_routing_and_weights_are_what_the_router_logits_give(self):
        for family in FAMILIES:
            with self.subTest(family=family):
                config = self.models[family].config
                rows = exported_rows(self.recordings[family].path, self.folder)
                for name, prompt, generated in self.recordings[family].sequences:
                    self.assertEqual(len(generated), DECODE)
                    logits, _, moe = self.full_forward(family, prompt + generated)
                    self.assertEqual(len(logits), len(moe))
                    for layer, layer_logits in enumerate(logits):
                        ids, weights = expected_routing(family, config, layer_logits)
                        for token in range(len(prompt) + len(generated)):
                            recorded = rows[(name, token, layer)]
                            self.assertEqual(sorted(recorded), sorted(ids[token].tolist()), f"{name} token {token} layer {layer}")
                            for expert, weight in zip(ids[token], weights[token]):
                                self.assertAlmostEqual(recorded[int(expert)], float(weight), delta=2e-3 * max(1, abs(weight)))

    def test_greedy_decoding_feeds_back_what_generate_produces(self):
        for family in FAMILIES:
            with self.subTest(family=family):
                for _, prompt, generated in self.recordings[family].sequences:
                    with torch.inference_mode():
                        expected = self.models[family].generate(torch.tensor([prompt]), max_new_tokens=DECODE, do_sample=False,
                                                                eos_token_id=None, pad_token_id=0)
                    self.assertEqual(generated, expected[0, len(prompt):].tolist())

    def test_predictions_at_lookahead_zero_are_the_routing(self):
        for family in FAMILIES:
            with self.subTest(family=family):
                trace = self.recordings[family].path
                predicted = recorded_predictions(trace)[0]
                rows = exported_rows(trace, self.folder)
                index = 0
                for name, prompt, generated in self.recordings[family].sequences:
                    for token in range(len(prompt) + len(generated)):
                        for layer in range(predicted.shape[1]):
                            self.assertEqual(sorted(predicted[index, layer].tolist()), sorted(rows[(name, token, layer)]))
                        index += 1
                self.assertEqual(index, len(predicted))

    def test_predictions_ahead_are_the_later_gate_applied_to_the_earlier_hidden_state(self):
        for family in FAMILIES:
            with self.subTest(family=family):
                model = self.models[family]
                predicted = recorded_predictions(self.recordings[family].path)
                offset = 0
                for _, prompt, generated in self.recordings[family].sequences:
                    tokens = prompt + generated
                    _, hidden, moe = self.full_forward(family, tokens)
                    for d in (1, 2):
                        for target in range(d, len(moe)):
                            router = getattr(model.model.layers[moe[target]].mlp, "gate", None) or model.model.layers[moe[target]].mlp.router
                            with torch.no_grad():
                                logits = torch.nn.functional.linear(hidden[target - d].float(), router.weight.float(),
                                                                    getattr(router, "bias", None))
                            ids, _ = expected_routing(family, model.config, logits)
                            got = predicted[d][offset:offset + len(tokens), target]
                            self.assertEqual(np.sort(got, axis=1).tolist(), np.sort(ids, axis=1).tolist(), f"d={d} layer {target}")
                        self.assertTrue((predicted[d][offset:offset + len(tokens), :d] == -1).all())
                    offset += len(tokens)

    def test_moesim_reads_the_shape_counts_and_predictions(self):
        for family in FAMILIES:
            with self.subTest(family=family):
                trace = self.recordings[family].path
                result = run_moesim("trace", "info", trace, "--json")
                self.assertEqual(result.returncode, 0, result.stderr)
                info = json.loads(result.stdout)
                model = self.models[family]
                moe = [i for i, layer in enumerate(model.model.layers) if hasattr(layer.mlp, "gate") or hasattr(layer.mlp, "router")]
                self.assertEqual((info["layers"], info["experts"], info["top_k"]), (len(moe), 8, 2))
                self.assertEqual((info["tokens"], info["prefill_tokens"], info["decode_tokens"], info["sequences"]),
                                 (10 + 2 * DECODE, 10, 2 * DECODE, 2))
                self.assertEqual((info["provenance"], info["has_weights"], info["prediction_lookaheads"], info["prediction_width"]),
                                 ("real", True, LOOKAHEADS, 2))
                experts = model.model.layers[moe[0]].mlp.experts
                self.assertEqual(info["expert_bytes"], [sum(p.numel() * 4 for p in experts.parameters()) // 8] * len(moe))
                self.assertEqual(info["shared_experts"], 2 if family in ("deepseek_v2", "qwen2_moe") else 0)

    def test_moesim_scores_the_recorded_predictions_as_recorded(self):
        for family in FAMILIES:
            with self.subTest(family=family):
                trace = self.recordings[family].path
                predicted = recorded_predictions(trace)[1]
                rows = exported_rows(trace, self.folder)
                truth = np.array([[sorted(rows[(name, token, layer)]) for layer in range(predicted.shape[1])]
                                  for name, prompt, generated in self.recordings[family].sequences
                                  for token in range(len(prompt) + len(generated))])
                result = run_moesim("predict", "--trace", trace, "--predictor", "recorded", "--lookahead", "1", "--json")
                self.assertEqual(result.returncode, 0, result.stderr)
                report = json.loads(result.stdout)
                self.assertEqual((report["test_sequences"], report["tokens"]), (2, len(truth)))
                for layer in report["layers"]:
                    m = layer["layer"]
                    hits = sum(len(set(p) & set(t)) for p, t in zip(predicted[:, m].tolist(), truth[:, m].tolist()))
                    self.assertEqual(layer["hits"], hits, f"layer {m}")

    def test_moesim_simulates_a_policy_on_the_recorded_predictions(self):
        policy = os.path.join(self.folder, "gate-recorded.toml")
        with open(policy, "w") as handle:
            handle.write('name = "gate-recorded"\nmechanism = "prefetch"\n[predictor]\nname = "recorded"\nlookahead = 1\n')
        result = run_moesim("simulate", "--trace", self.recordings["qwen3_moe"].path, "--hardware", "rtx-a6000",
                            "--policy", policy, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual((report["run"]["predictor"], report["run"]["trace_kind"]), ("recorded", "real"))
        self.assertGreater(report["bytes_prefetch"], 0)


class RecorderBehaviour(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="moesim-record-")

    def test_the_same_model_and_prompts_give_the_same_bytes(self):
        paths = [os.path.join(self.folder, f"{i}.sqlite") for i in range(2)]
        for path in paths:
            record(tiny_model("mixtral"), PROMPTS, path, decode_tokens=3, lookaheads=[1])
        with open(paths[0], "rb") as a, open(paths[1], "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_a_failure_mid_recording_leaves_no_file(self):
        path = os.path.join(self.folder, "t.sqlite")
        bad = Prompt("bad", [1, 2, 500], "prompts.jsonl:2")
        with self.assertRaisesRegex(ValueError, r"prompts.jsonl:2: token ids \[500\] outside the vocabulary 0\.\.95"):
            record(tiny_model("olmoe"), [PROMPTS[0], bad], path, decode_tokens=3, lookaheads=[1])
        self.assertEqual(os.listdir(self.folder), [])

    def test_decoding_stops_after_an_end_of_sequence_token(self):
        model = tiny_model("mixtral")
        free = record(model, PROMPTS[:1], os.path.join(self.folder, "a.sqlite"), decode_tokens=5, lookaheads=[])
        generated = free.sequences[0][2]
        stopped = record(model, PROMPTS[:1], os.path.join(self.folder, "b.sqlite"), decode_tokens=5, lookaheads=[],
                         eos_token_ids={generated[2]})
        self.assertEqual(stopped.sequences[0][2], generated[:generated.index(generated[2])])
        self.assertEqual(stopped.meta["decode_tokens"], str(generated.index(generated[2])))
        self.assertNotIn("prediction_lookaheads", stopped.meta)

    def test_a_wider_prediction_holds_the_top_logits(self):
        model = tiny_model("qwen3_moe")
        path = os.path.join(self.folder, "w.sqlite")
        record(model, PROMPTS[:1], path, decode_tokens=0, lookaheads=[0], prediction_width=4)
        predicted = recorded_predictions(path)[0]
        rows = exported_rows(path, self.folder)
        self.assertEqual(predicted.shape, (6, 3, 4))
        for token in range(6):
            for layer in range(3):
                self.assertTrue(set(rows[("first", token, layer)]) <= set(predicted[token, layer].tolist()))

    def test_an_encoder_decoder_model_is_refused_with_the_supported_families(self):
        config = transformers.SwitchTransformersConfig(vocab_size=64, d_model=16, d_kv=4, d_ff=32, num_layers=2,
                                                       num_decoder_layers=2, num_heads=2, num_experts=4)
        model = transformers.SwitchTransformersForConditionalGeneration(config)
        with self.assertRaisesRegex(UnsupportedModel, "encoder-decoder.*supported: Mixtral"):
            record(model, PROMPTS, os.path.join(self.folder, "s.sqlite"), decode_tokens=1, lookaheads=[1])
        self.assertEqual(os.listdir(self.folder), [])


class TraceFormat(unittest.TestCase):
    """The writer alone, on shapes the tiny models do not reach, read back by moesim."""

    def write(self, experts: int, has_weights: bool, chunk_tokens: int):
        rng = np.random.default_rng(3)
        shape = TraceShape(model="wide", layers=3, experts=experts, top_k=4, model_layers=[1, 3, 5], expert_bytes=[1000] * 3)
        path = os.path.join(tempfile.mkdtemp(prefix="moesim-record-"), "t.sqlite")
        written = []
        with TraceWriter(path, shape, has_weights=has_weights, lookaheads=[1], prediction_width=5, chunk_tokens=chunk_tokens) as writer:
            for s in range(3):
                writer.begin_sequence(f"s{s}")
                for t in range(5 + 4 * s):
                    ids = np.stack([rng.choice(experts, 4, replace=False) for _ in range(3)])
                    weights = rng.random((3, 4)).astype(np.float32) if has_weights else None
                    predicted = np.stack([rng.choice(experts, 5, replace=False) for _ in range(3)])
                    writer.append_token(0 if t < 3 else 1, ids, weights, [predicted])
                    written.append((f"s{s}", t, ids, weights, predicted))
            writer.finish()
        return path, written

    def test_wide_ids_across_many_chunks_read_back_through_moesim(self):
        path, written = self.write(experts=300, has_weights=True, chunk_tokens=7)
        info = json.loads(run_moesim("trace", "info", path, "--json").stdout)
        self.assertEqual((info["tokens"], info["prefill_tokens"], info["chunks"], info["experts"]), (27, 9, 4, 300))
        rows = exported_rows(path, os.path.dirname(path))
        predicted = recorded_predictions(path)[1]
        for index, (name, token, ids, weights, guess) in enumerate(written):
            for layer in range(3):
                expected = {int(e): float(np.float16(w)) for e, w in zip(ids[layer], weights[layer])}
                self.assertEqual(rows[(name, token, layer)].keys(), expected.keys())
                for expert, weight in expected.items():
                    self.assertAlmostEqual(rows[(name, token, layer)][expert], weight, delta=1e-6 * max(1, weight))
            self.assertEqual(predicted[index, 1:].tolist(), np.sort(guess[1:], axis=1).tolist())

    def test_without_weights_the_rank_order_is_kept(self):
        path, written = self.write(experts=40, has_weights=False, chunk_tokens=4096)
        out = os.path.join(os.path.dirname(path), "rows.jsonl")
        self.assertEqual(run_moesim("trace", "export", path, "--format", "jsonl", "-o", out).returncode, 0)
        with open(out) as handle:
            rows = [json.loads(line) for line in handle]
        ranked = {(r["sequence"], r["token"], r["layer"], r["rank"]): r["expert"] for r in rows}
        for name, token, ids, _, _ in written:
            for layer in range(3):
                self.assertEqual([ranked[(name, token, layer, rank)] for rank in range(4)], ids[layer].tolist())

    def test_a_repeated_expert_is_refused_and_nothing_is_written(self):
        shape = TraceShape(model="m", layers=1, experts=8, top_k=2, model_layers=[0])
        path = os.path.join(tempfile.mkdtemp(prefix="moesim-record-"), "t.sqlite")
        with self.assertRaisesRegex(TraceFormatError, "repeated within one token's top-k"):
            with TraceWriter(path, shape, has_weights=False) as writer:
                writer.begin_sequence("s")
                writer.append_token(0, np.array([[3, 3]]))
        self.assertEqual(os.listdir(os.path.dirname(path)), [])


class Prompts(unittest.TestCase):
    def write(self, name: str, text: str) -> str:
        path = os.path.join(tempfile.mkdtemp(prefix="moesim-record-"), name)
        with open(path, "w") as handle:
            handle.write(text)
        return path

    def test_json_lines_give_names_and_token_ids_cut_to_the_limit(self):
        path = self.write("p.jsonl", '{"name": "q1", "token_ids": [4, 5, 6, 7]}\n\n{"token_ids": [9]}\n')
        prompts = read_prompts(path, max_prompt_tokens=3)
        self.assertEqual([(p.name, p.token_ids, p.origin) for p in prompts],
                         [("q1", [4, 5, 6], f"{path}:1"), ("prompt-1", [9], f"{path}:3")])

    def test_a_bad_json_line_is_named_with_its_line(self):
        path = self.write("p.jsonl", '{"token_ids": [1]}\n{"token_ids": [1,}\n')
        with self.assertRaisesRegex(PromptFileError, rf"{path}:2: is not valid JSON"):
            read_prompts(path)

    def test_text_prompts_without_a_tokenizer_are_refused(self):
        path = self.write("p.txt", "hello there\n")
        with self.assertRaisesRegex(PromptFileError, rf"{path}:1: is text, but the model has no tokenizer"):
            read_prompts(path)


def tiny_switch_config() -> transformers.SwitchTransformersConfig:
    """Four encoder blocks, two of them sparse (blocks 1 and 3), four experts, capacity 4 tokens per sequence."""
    return transformers.SwitchTransformersConfig(vocab_size=96, d_model=16, d_kv=4, d_ff=32, num_layers=4, num_sparse_encoder_layers=2,
                                                 num_decoder_layers=2, num_sparse_decoder_layers=1, num_heads=2, num_experts=4,
                                                 expert_capacity=4, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)


class SwitchEncoder(unittest.TestCase):
    """The encoder of a tiny random Switch Transformers model, checked against an independent
    reading of top-1 routing with expert capacity (Fedus et al., arXiv 2101.03961, §2.1) and
    moesim's Swift reader."""

    PAD_TO = 12

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="moesim-record-")
        config = tiny_switch_config()
        config._attn_implementation = "eager"
        torch.manual_seed(0)
        cls.model = transformers.SwitchTransformersEncoderModel(config).eval()
        with torch.no_grad():  # clear winners, as trained routers have
            for name, parameter in cls.model.named_parameters():
                if "router" in name:
                    parameter.normal_(0, 1.0)
        cls.trace = os.path.join(cls.folder, "switch.sqlite")
        cls.recording = record_encoder(cls.model, PROMPTS, cls.trace, pad_to=cls.PAD_TO, lookaheads=[1])

    def expected(self, tokens: list[int]) -> list[tuple[int, dict[int, tuple[int, float]]]]:
        """Per token its position and, per MoE layer kept, (expert, probability): the argmax of
        the softmax of the router's logits, dropped once its expert already took the capacity."""
        hidden, handles = {}, []
        sparse = [i for i, block in enumerate(self.model.encoder.block) if block.layer[-1].is_sparse]
        for layer, index in enumerate(sparse):
            router = self.model.encoder.block[index].layer[-1].mlp.router
            handles.append(router.register_forward_pre_hook(lambda module, args, layer=layer: hidden.__setitem__(layer, args[0][0])))
        try:
            with torch.no_grad():
                self.model(input_ids=torch.tensor([tokens]))
        finally:
            for handle in handles:
                handle.remove()
        capacity = self.model.config.expert_capacity
        kept = [dict() for _ in tokens]
        for layer, index in enumerate(sparse):
            router = self.model.encoder.block[index].layer[-1].mlp.router
            with torch.no_grad():
                probs = torch.softmax(hidden[layer].float() @ router.classifier.weight.float().T, dim=-1)
            taken = [0] * probs.shape[-1]
            for t in range(len(tokens)):
                expert = int(torch.argmax(probs[t]))
                taken[expert] += 1
                if taken[expert] <= capacity:
                    kept[t][layer] = (expert, float(probs[t, expert]))
        return [(t, layers) for t, layers in enumerate(kept) if layers]

    def test_routing_is_top1_with_tokens_over_capacity_absent(self):
        rows = exported_rows(self.trace, self.folder)
        absent = 0
        for prompt in PROMPTS:
            tokens = prompt.token_ids + [0] * (self.PAD_TO - len(prompt.token_ids))
            for written, (_, layers) in enumerate(self.expected(tokens)):
                for layer in range(2):
                    if layer in layers:
                        expert, probability = layers[layer]
                        row = rows[(prompt.name, written, layer)]
                        self.assertEqual(list(row), [expert])
                        self.assertAlmostEqual(row[expert], probability, delta=1e-3)
                    else:
                        self.assertNotIn((prompt.name, written, layer), rows)
                        absent += 1
        self.assertGreater(absent, 0, "the padding should overflow an expert's capacity")
        info = json.loads(run_moesim("trace", "info", self.trace, "--json").stdout)
        self.assertEqual(info["absent_decisions"], absent)
        self.assertEqual((info["layers"], info["experts"], info["top_k"]), (2, 4, 1))
        self.assertIn("expert capacity 4 tokens per sequence", info["notes"])

    def test_predictions_are_the_next_router_on_this_layers_input(self):
        predicted = recorded_predictions(self.trace)[1]
        self.assertEqual(predicted.shape[1:], (2, 1))
        self.assertTrue((predicted[:, 0] == -1).all())

    def test_moesim_simulates_the_encoder_trace(self):
        result = run_moesim("simulate", "--trace", self.trace, "--hardware", "a100-80gb-pcie", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual(report["prefill_steps"], 2)
        self.assertGreater(report["gpu_busy_share"], 0)


class CommandLine(unittest.TestCase):
    def run_recorder(self, *arguments: str) -> subprocess.CompletedProcess:
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return subprocess.run([sys.executable, "-m", "moesim_record", *arguments], capture_output=True, text=True, cwd=here)

    def test_records_a_saved_model_folder_and_reports_the_cost(self):
        folder = tempfile.mkdtemp(prefix="moesim-record-")
        tiny_model("olmoe").save_pretrained(os.path.join(folder, "model"))
        prompts = os.path.join(folder, "prompts.jsonl")
        with open(prompts, "w") as handle:
            handle.write('{"token_ids": [3, 4, 5]}\n{"token_ids": [6, 7]}\n')
        out = os.path.join(folder, "trace.sqlite")
        result = self.run_recorder("--model", os.path.join(folder, "model"), "--prompts", prompts, "-o", out,
                                   "--decode-tokens", "4", "--ignore-eos", "--lookaheads", "1,2")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"wrote .*trace.sqlite: 2 sequences, 13 tokens \(5 prefill, 8 decode\), 3 MoE layers x 8 "
                                        r"experts, top-2, predictions at lookaheads 1,2; \d+ bytes \([\d.]+ KiB per 1,000 tokens\)")
        info = json.loads(run_moesim("trace", "info", out, "--json").stdout)
        self.assertIn("recorded from", info["source"])
        self.assertEqual(info["model"], "model")

    def test_records_a_switch_encoder_with_random_weights_from_its_config_alone(self):
        folder = tempfile.mkdtemp(prefix="moesim-record-")
        tiny_switch_config().save_pretrained(os.path.join(folder, "switch"))
        prompts = os.path.join(folder, "prompts.jsonl")
        with open(prompts, "w") as handle:
            handle.write('{"token_ids": [3, 4, 5]}\n{"token_ids": [6, 7]}\n')
        out = os.path.join(folder, "trace.sqlite")
        result = self.run_recorder("--model", os.path.join(folder, "switch"), "--prompts", prompts, "-o", out,
                                   "--random-weights", "3", "--pad-to", "8", "--lookaheads", "")
        self.assertEqual(result.returncode, 0, result.stderr)
        info = json.loads(run_moesim("trace", "info", out, "--json").stdout)
        self.assertIn("RANDOM weights (seed 3)", info["source"])
        self.assertIn("no learned skew", info["notes"])
        self.assertEqual(info["model"], "switch-encoder")
        self.assertEqual(info["sequences"], 2)
        self.assertEqual(info["decode_tokens"], 0)

    def test_a_missing_prompts_file_exits_2_naming_it(self):
        result = self.run_recorder("--model", "unused", "--prompts", "/nonexistent/p.txt", "-o", "/tmp/x.sqlite")
        self.assertEqual(result.returncode, 2)
        self.assertIn("/nonexistent/p.txt: cannot be read", result.stderr)

    def test_an_output_in_a_missing_folder_exits_2_before_loading_anything(self):
        result = self.run_recorder("--model", "unused", "--prompts", "p.txt", "-o", "/nonexistent/t.sqlite")
        self.assertEqual(result.returncode, 2)
        self.assertIn("/nonexistent/t.sqlite: its folder /nonexistent does not exist", result.stderr)


if __name__ == "__main__":
    unittest.main()
