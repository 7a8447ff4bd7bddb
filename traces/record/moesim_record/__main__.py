"""Command line: python -m moesim_record --model ID --prompts FILE -o OUT.sqlite (decoder-only MoE models, or
the encoder of a Switch Transformers model)."""

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
    parser.add_argument("--pad-to", type=positive, help="Switch Transformers encoder: pad (or cut) each prompt to N tokens with --pad-token-id "
                        "and route the padding too, as moe-mpmc's latency script does (512 there)")
    parser.add_argument("--pad-token-id", type=positive, default=0, help="the padding token (default 0, T5's)")
    parser.add_argument("--random-weights", type=positive, metavar="SEED",
                        help="build the model from its config.json with weights drawn from SEED instead of loading them "
                             "(no download of the weights; the routing then shows no learned skew, and the trace says so)")
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
    from .recorder import record, record_encoder
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
        model = load_model(args, device)
    except (OSError, ValueError) as error:
        return fail(f"--model {args.model}: cannot be loaded ({str(error).splitlines()[0]}); give a hub id or a folder with "
                    "config.json and the weights" + ("" if args.random_weights is not None else ", or --random-weights SEED with config.json alone"))
    encoder = model.config.model_type == "switch_transformers"
    eos = set()
    if not args.ignore_eos and not encoder:
        configured = model.generation_config.eos_token_id if model.generation_config else None
        configured = configured if configured is not None else model.config.eos_token_id
        eos = set(configured if isinstance(configured, list) else [] if configured is None else [configured])

    def progress(done: int, total: int, tokens: int, seconds: float) -> None:
        print(f"recorded {done}/{total} prompts, {tokens} tokens, {tokens / max(seconds, 1e-9):.1f} tokens/s", file=sys.stderr)

    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    weights = f"RANDOM weights (seed {args.random_weights}) built from the config of" if args.random_weights is not None else "recorded from"
    source = f"{weights} {args.model} ({dtype} on {device}); prompts from {os.path.basename(args.prompts)}"
    notes = ("The model's weights were drawn at random, not trained: its routing shows no learned skew or locality; "
             "use it for the shape and the mechanics, not for hit rates.") if args.random_weights is not None else ""
    try:
        if encoder:
            recording = record_encoder(model, prompts, args.output, pad_to=args.pad_to, pad_token_id=args.pad_token_id,
                                       lookaheads=args.lookaheads, model_name=args.model_name, source=source,
                                       license=args.license, notes=notes, progress=progress)
        else:
            recording = record(model, prompts, args.output, decode_tokens=args.decode_tokens, lookaheads=args.lookaheads,
                               prediction_width=args.prediction_width, eos_token_ids=eos, model_name=args.model_name,
                               source=source, license=args.license, notes=notes, progress=progress)
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


def load_model(args: argparse.Namespace, device: str):
    """The model: a decoder-only causal LM, or the encoder of a Switch Transformers model
    (``SwitchTransformersEncoderModel``); loaded, or built from config.json with seeded
    random weights under ``--random-weights``."""
    import torch
    import transformers

    config = transformers.AutoConfig.from_pretrained(args.model)
    encoder = config.model_type == "switch_transformers"
    kind = transformers.SwitchTransformersEncoderModel if encoder else transformers.AutoModelForCausalLM
    dtype = getattr(torch, args.dtype) if args.dtype != "auto" else None
    if args.random_weights is not None:
        torch.manual_seed(args.random_weights)
        model = kind.from_config(config, **({"dtype": dtype} if dtype is not None else {})) if not encoder \
            else kind(config).to(dtype or torch.float32)
    else:
        model = kind.from_pretrained(args.model, dtype=args.dtype if args.dtype != "auto" else "auto")
    return model.to(device)


def fail(message: str) -> int:
    print(f"moesim_record: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
