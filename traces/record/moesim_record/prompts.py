"""Prompts to record: a text file (one prompt per non-empty line) or JSON Lines (one object
per line with ``prompt`` or ``text`` as a string, or ``token_ids`` as a list of integers,
and optionally ``name``)."""

from __future__ import annotations

import json
from dataclasses import dataclass


class PromptFileError(ValueError):
    """A prompts file that cannot be read; the message names the file, the line and the fix."""


@dataclass
class Prompt:
    """One prompt: its sequence name, token ids, and where it came from (file:line) for errors."""

    name: str
    token_ids: list[int]
    origin: str


def read_prompts(path: str, tokenizer=None, chat_template: bool = False, max_prompt_tokens: int | None = None) -> list[Prompt]:
    """The prompts of ``path`` (``.jsonl`` is read as JSON Lines, anything else as text),
    tokenised with ``tokenizer`` where they are text (optionally wrapped in its chat template
    as one user message), each cut to its first ``max_prompt_tokens`` tokens."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise PromptFileError(f"{path}: cannot be read ({error.strerror}); give a text file with one prompt per line, "
                              "or JSON Lines with a 'prompt' or 'token_ids' per line") from None
    except UnicodeDecodeError as error:
        raise PromptFileError(f"{path}: is not UTF-8 text ({error.reason} at byte {error.start})") from None
    prompts = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        origin = f"{path}:{number}"
        name = f"prompt-{len(prompts)}"
        if path.endswith(".jsonl"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise PromptFileError(f"{origin}: is not valid JSON ({error.msg} at column {error.colno}); "
                                      "each line must be one object such as {\"prompt\": \"...\"}") from None
            if not isinstance(record, dict):
                raise PromptFileError(f"{origin}: is a JSON {type(record).__name__}, not an object with 'prompt' or 'token_ids'")
            name = str(record.get("name", name))
            if "token_ids" in record:
                ids = record["token_ids"]
                if not isinstance(ids, list) or not ids or not all(isinstance(t, int) and not isinstance(t, bool) for t in ids):
                    raise PromptFileError(f"{origin}: 'token_ids' must be a non-empty list of integers")
                prompts.append(Prompt(name, ids[:max_prompt_tokens] if max_prompt_tokens else ids, origin))
                continue
            text = record.get("prompt", record.get("text"))
            if not isinstance(text, str) or not text:
                raise PromptFileError(f"{origin}: needs a non-empty string 'prompt' (or 'text'), or 'token_ids'; "
                                      f"it has keys {sorted(record)}")
        else:
            text = line
        if tokenizer is None:
            raise PromptFileError(f"{origin}: is text, but the model has no tokenizer; give token ids as JSON Lines "
                                  "({\"token_ids\": [...]}) or a model folder with its tokenizer files")
        if chat_template:
            ids = tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True, tokenize=True)
            ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
        else:
            ids = tokenizer(text)["input_ids"]
        ids = list(ids)
        prompts.append(Prompt(name, ids[:max_prompt_tokens] if max_prompt_tokens else ids, origin))
    if not prompts:
        raise PromptFileError(f"{path}: holds no prompts; give one prompt per line (or JSON Lines)")
    return prompts
