"""Command line: python -m moesim_record --model ID --prompts FILE -o OUT.sqlite."""

from __future__ import annotations

import argparse
import os
import sys


def parse_lookaheads(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers such as 1 or 0,1,2") from None
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"'{text}': lookaheads are 0 or more layers ahead")
    return values


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' must be 0 or more")
    return value


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m moesim_record",
        description="Record a router trace (moesim format, traces/FORMAT.md) from a Hugging Face transformers MoE model: "
                    "prefill of each prompt, then greedy decoding; per token and MoE layer the top-k expert ids and gate "
                    "weights, and per lookahead d the experts layer m's gate picks from the hidden state of layer m - d.")
    parser.add_argument("--model", required=True, help="model id on the Hugging Face hub, or a local folder (config + weights)")
    parser.add_argument("--prompts", required=True, help="text file (one prompt per line) or .jsonl ('prompt'/'text' or 'token_ids', optional 'name')")
    parser.add_argument("-o", "--output", required=True, help="the trace to write (.sqlite); appears only when complete")
    parser.add_argument("--decode-tokens", type=positive, default=64, help="greedy tokens to generate per prompt (default 64)")
    parser.add_argument("--lookaheads", type=parse_lookaheads, default=[1], help="lookaheads d to record predictions for, e.g. 1 or 0,1,2; '' for none (default 1)")
    parser.add_argument("--prediction-width", type=positive, help="experts per predicted set (default: the model's top-k)")
    parser.add_argument("--max-prompt-tokens", type=positive, help="cut each prompt to its first N tokens")
    parser.add_argument("--chat-template", action="store_true", help="wrap each text prompt in the tokenizer's chat template as one user message")
    parser.add_argument("--ignore-eos", action="store_true", help="always generate --decode-tokens tokens, past end-of-sequence")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N, or auto (cuda when available; default)")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"],
                        help="weights' type (default auto: the checkpoint's)")
    parser.add_argument("--model-name", help="the trace's model name (default: the moesim preset matching the model, else the id's last part)")
    parser.add_argument("--license", default="unknown", help="licence of the recorded prompts and routing, stored in the trace")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):
        return fail(f"{args.output}: its folder {folder} does not exist; create it or choose another -o")
    if not os.path.isfile(args.prompts):
        return fail(f"{args.prompts}: cannot be read (no such file); give a text file with one prompt per line, "
                    "or JSON Lines with a 'prompt' or 'token_ids' per line")

    import torch  # imported late so that --help and argument errors are instant
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .prompts import PromptFileError, read_prompts
    from .recorder import record
    from .routers import UnsupportedModel
    from .traceformat import TraceFormatError

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        tokenizer = AutoTokenizer.from_pretrained(args.model)
    except (OSError, ValueError):
        tokenizer = None
    try:
        prompts = read_prompts(args.prompts, tokenizer, args.chat_template, args.max_prompt_tokens)
    except PromptFileError as error:
        return fail(str(error))
    try:
        model = AutoModelForCausalLM.from_pretrained(args.model, dtype=args.dtype if args.dtype != "auto" else "auto").to(device)
    except (OSError, ValueError) as error:
        return fail(f"--model {args.model}: cannot be loaded ({str(error).splitlines()[0]}); give a hub id or a folder with "
                    "config.json and the weights")
    eos = set()
    if not args.ignore_eos:
        configured = model.generation_config.eos_token_id if model.generation_config else None
        configured = configured if configured is not None else model.config.eos_token_id
        eos = set(configured if isinstance(configured, list) else [] if configured is None else [configured])

    def progress(done: int, total: int, tokens: int, seconds: float) -> None:
        print(f"recorded {done}/{total} prompts, {tokens} tokens, {tokens / max(seconds, 1e-9):.1f} tokens/s", file=sys.stderr)

    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    try:
        recording = record(model, prompts, args.output, decode_tokens=args.decode_tokens, lookaheads=args.lookaheads,
                           prediction_width=args.prediction_width, eos_token_ids=eos, model_name=args.model_name,
                           source=f"recorded from {args.model} ({dtype} on {device}); prompts from {os.path.basename(args.prompts)}",
                           license=args.license, progress=progress)
    except (UnsupportedModel, TraceFormatError, ValueError) as error:
        return fail(f"--model {args.model}: {error}")
    meta = recording.meta
    tokens = int(meta["tokens"])
    size = os.path.getsize(args.output)
    print(f"wrote {args.output}: {meta['sequences']} sequences, {tokens} tokens ({meta['prefill_tokens']} prefill, "
          f"{meta['decode_tokens']} decode), {meta['layers']} MoE layers x {meta['experts']} experts, top-{meta['top_k']}, "
          f"predictions at lookaheads {meta.get('prediction_lookaheads', 'none')}; {size} bytes "
          f"({size / tokens * 1000 / 1024:.1f} KiB per 1,000 tokens), {recording.seconds:.1f} s "
          f"({recording.seconds / tokens * 1000:.1f} s per 1,000 tokens)")
    return 0


def fail(message: str) -> int:
    print(f"moesim_record: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
