"""What recording costs: time and disk per 1,000 tokens for models of real shape.

Builds a model from a hand-written copy of a published config (no download: the weights are
random, bf16, on the GPU when there is one), records prompts of random token ids with
prefill and greedy decoding, and times the same prefill and decoding without the recorder's
hooks (before and after the recording, keeping the faster), so the recorder's overhead
shows apart from the model's own cost. Random weights do not route like trained ones (the
OLMoE- and Qwen3-shaped models reuse ~90% of the previous token's experts, the
DeepSeek-shaped one routes near-uniformly), so the disk figure only indicates the order of
magnitude; the time is the model's. Usage (from traces/record/):

    python benchmarks/record_cost.py --model olmoe-1b-7b --prompts 4 --prompt-tokens 256 --decode-tokens 256
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from moesim_record.prompts import Prompt  # noqa: E402
from moesim_record.recorder import record  # noqa: E402

# Shapes from the models' published config.json files on the Hugging Face hub.
CONFIGS = {
    # allenai/OLMoE-1B-7B-0924
    "olmoe-1b-7b": lambda: transformers.OlmoeConfig(
        vocab_size=50304, hidden_size=2048, intermediate_size=1024, num_hidden_layers=16, num_attention_heads=16,
        num_key_value_heads=16, num_experts=64, num_experts_per_tok=8, max_position_embeddings=4096, rope_theta=10000.0),
    # Qwen/Qwen3-30B-A3B
    "qwen3-30b-a3b": lambda: transformers.Qwen3MoeConfig(
        vocab_size=151936, hidden_size=2048, intermediate_size=6144, moe_intermediate_size=768, num_hidden_layers=48,
        num_attention_heads=32, num_key_value_heads=4, head_dim=128, num_experts=128, num_experts_per_tok=8,
        norm_topk_prob=True, max_position_embeddings=40960, rope_theta=1000000.0),
    # deepseek-ai/DeepSeek-V2-Lite
    "deepseek-v2-lite": lambda: transformers.DeepseekV2Config(
        vocab_size=102400, hidden_size=2048, intermediate_size=10944, moe_intermediate_size=1408, num_hidden_layers=27,
        num_attention_heads=16, num_key_value_heads=16, n_routed_experts=64, n_shared_experts=2, num_experts_per_tok=6,
        first_k_dense_replace=1, kv_lora_rank=512, q_lora_rank=None, qk_rope_head_dim=64, qk_nope_head_dim=128,
        v_head_dim=128, topk_method="greedy", n_group=1, topk_group=1, routed_scaling_factor=1.0,
        max_position_embeddings=163840),
}


def baseline(model, prompts: list[Prompt], decode_tokens: int, device) -> float:
    """Seconds for the same prefill and greedy decoding with no hooks and no file."""
    started = time.perf_counter()
    with torch.inference_mode():
        for prompt in prompts:
            out = model(input_ids=torch.tensor([prompt.token_ids], device=device), use_cache=True)
            for _ in range(decode_tokens):
                token = out.logits[0, -1].argmax().view(1, 1)
                out = model(input_ids=token, past_key_values=out.past_key_values, use_cache=True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(CONFIGS), required=True)
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--prompt-tokens", type=int, default=256)
    parser.add_argument("--decode-tokens", type=int, default=256)
    parser.add_argument("--lookaheads", default="1,2")
    parser.add_argument("--output", default=None, help="where to keep the trace (default: a temporary file)")
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    config = CONFIGS[args.model]()
    config._name_or_path = args.model
    torch.manual_seed(0)
    started = time.perf_counter()
    with device:
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).eval()
    build = time.perf_counter() - started
    generator = torch.Generator().manual_seed(1)
    prompts = [Prompt(f"p{i}", torch.randint(3, config.vocab_size, (args.prompt_tokens,), generator=generator).tolist(), f"random:{i}")
               for i in range(args.prompts)]
    baseline(model, prompts[:1], 4, device)  # warm-up: kernels, allocator
    plain = baseline(model, prompts, args.decode_tokens, device)
    path = args.output or os.path.join(tempfile.mkdtemp(), "trace.sqlite")
    lookaheads = [int(d) for d in args.lookaheads.split(",") if d]
    recording = record(model, prompts, path, decode_tokens=args.decode_tokens, lookaheads=lookaheads,
                       source=f"random-weight {args.model} (benchmark)")
    plain = min(plain, baseline(model, prompts, args.decode_tokens, device))  # again after, against run-order effects
    tokens = int(recording.meta["tokens"])
    size = os.path.getsize(path)
    result = {
        "model": args.model, "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "torch": torch.__version__, "transformers": transformers.__version__,
        "parameters_billion": round(sum(p.numel() for p in model.parameters()) / 1e9, 2),
        "moe_layers": int(recording.meta["layers"]), "experts": int(recording.meta["experts"]), "top_k": int(recording.meta["top_k"]),
        "lookaheads": lookaheads, "tokens": tokens, "prefill_tokens": int(recording.meta["prefill_tokens"]),
        "decode_tokens": int(recording.meta["decode_tokens"]), "build_s": round(build, 1),
        "record_s": round(recording.seconds, 2), "plain_s": round(plain, 2),
        "record_s_per_1000_tokens": round(recording.seconds / tokens * 1000, 2),
        "plain_s_per_1000_tokens": round(plain / tokens * 1000, 2),
        "file_bytes": size, "kib_per_1000_tokens": round(size / tokens * 1000 / 1024, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
