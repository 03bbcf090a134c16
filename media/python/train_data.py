"""Data side of the studio's LoRA trainer: reading the exported chat JSONL, applying the model's chat template,
masking the loss to the assistant turns marked for training, truncation, batching and the step plan.

Pure Python (no torch, no transformers) so it can be tested anywhere with a small stand-in tokenizer; the
trainer (train_lora.py) turns the lists into tensors.

Input format: one JSON object per line, ``{"messages": [{"role": ..., "content": ..., "weight": 0|1}, ...]}``
(OpenAI / TRL chat messages). ``weight`` applies to assistant messages: 1 trains on that turn, 0 keeps it as
context only. An assistant message without ``weight`` is trained on. Other roles are never trained on.

Which tokens of a trained assistant turn carry loss follows the export's compatibility profile (the export
manifest's ``compatibility``, passed to the trainer as ``--compat``), exactly as the studio's export preview
(src/trajectory/tokenMask.ts) shows it. For the Qwen template ``<|im_start|>assistant\n{content}<|im_end|>\n``:

* ``studio``: the content and ``<|im_end|>``, the tokens the model writes when it is served;
* ``reference``: also the newline after ``<|im_start|>assistant`` and the one after ``<|im_end|>``, as the
  method's reference trains them (TRL's completion-only collator between ``<|im_start|>assistant`` and the next
  ``<|im_start|>user``).

A token carries loss when its first character lies inside a trained span.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Optional, Sequence, Tuple

IGNORE_INDEX = -100
ROLES = ("system", "user", "assistant", "tool")
#: compatibility profiles, as the export manifest names them; the first is the default
LOSS_MASKS = ("studio", "reference")


class DataError(ValueError):
    """Bad training data, with the file and line it came from."""


@dataclass
class Conversation:
    line: int
    messages: List[dict]


@dataclass
class TokenizedExample:
    line: int
    input_ids: List[int]
    labels: List[int]
    #: length before truncation
    full_length: int
    truncated: bool = False

    @property
    def trainable_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def sha256_of_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_message(path: str, line: int, index: int, message: Any) -> dict:
    where = f"{path}:{line}: messages[{index}]"
    if not isinstance(message, dict):
        raise DataError(f"{where}: expected an object, got {type(message).__name__}")
    role = message.get("role")
    if role not in ROLES:
        raise DataError(f"{where}.role: expected one of {', '.join(ROLES)}, got {role!r}")
    content = message.get("content")
    if not isinstance(content, str):
        raise DataError(f"{where}.content: expected a string, got {type(content).__name__}")
    if "weight" in message:
        weight = message["weight"]
        if weight not in (0, 1) or isinstance(weight, bool):
            raise DataError(f"{where}.weight: expected 0 or 1, got {weight!r}")
        if role != "assistant" and weight == 1:
            raise DataError(f"{where}.weight: only assistant messages can be trained on (role is {role!r})")
    return message


def parse_conversations(lines: Iterable[str], path: str = "data.jsonl") -> List[Conversation]:
    """Parses and validates every line; the first bad line raises a DataError naming file, line and field."""
    conversations: List[Conversation] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{number}: not valid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(record, dict) or not isinstance(record.get("messages"), list):
            raise DataError(f"{path}:{number}: expected an object with a \"messages\" array")
        messages = [_check_message(path, number, i, m) for i, m in enumerate(record["messages"])]
        if not any(m["role"] == "assistant" for m in messages):
            raise DataError(f"{path}:{number}: no assistant message to learn from")
        conversations.append(Conversation(line=number, messages=messages))
    if not conversations:
        raise DataError(f"{path}: no conversations")
    return conversations


def load_conversations(path: str) -> List[Conversation]:
    with open(path, "r", encoding="utf-8") as f:
        return parse_conversations(f, path)


def is_trained(message: dict) -> bool:
    return message["role"] == "assistant" and message.get("weight", 1) == 1


def _template_messages(messages: Sequence[dict]) -> List[dict]:
    # the template sees only role and content; our weight field is not part of the conversation
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def render(tokenizer: Any, messages: Sequence[dict], add_generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(_template_messages(messages), tokenize=False, add_generation_prompt=add_generation_prompt)


def export_compatibility(data_path: str, requested: Optional[str] = None) -> str:
    """The profile to mask the loss with: ``requested`` (the trainer's ``--compat``) or, without it, the
    ``compatibility`` the studio's export manifest (``<data>.manifest.json``) records; ``studio`` when neither
    says. A flag that contradicts the manifest beside the data is an error: the preview the user checked would
    not be what is trained."""
    manifest_path = data_path + ".manifest.json"
    recorded: Optional[str] = None
    try:
        with open(manifest_path, "r", encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        manifest = None
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{manifest_path}: cannot read the export manifest ({err})") from None
    if isinstance(manifest, dict) and "compatibility" in manifest:
        recorded = manifest["compatibility"]
        if recorded not in LOSS_MASKS:
            raise DataError(f"{manifest_path}: compatibility: expected one of {', '.join(LOSS_MASKS)}, got {recorded!r}")
    if requested is not None:
        _check_loss_mask(requested)
        if recorded is not None and recorded != requested:
            raise DataError(f"{manifest_path}: compatibility: the data was exported for {recorded!r} but the trainer was asked for --compat {requested}")
        return requested
    return recorded or LOSS_MASKS[0]


def _check_loss_mask(loss_mask: str) -> str:
    if loss_mask not in LOSS_MASKS:
        raise DataError(f"unknown compatibility profile {loss_mask!r}: expected one of {', '.join(LOSS_MASKS)}")
    return loss_mask


def trainable_char_spans(tokenizer: Any, messages: Sequence[dict], where: str, loss_mask: str = "studio") -> Tuple[str, List[Tuple[int, int]]]:
    """The rendered conversation and the character spans of the trained assistant turns.

    A turn's text runs from the end of the prompt rendered up to it (with the generation prompt, which ends with
    the ``<|im_start|>assistant`` header) to the end of the conversation rendered through it (its content, the
    end-of-turn token and what the template writes after it). ``studio`` trains that text without the whitespace
    after the end-of-turn token; ``reference`` trains it whole and adds the whitespace that ends the header. This
    needs a template whose renders of a prefix are prefixes of the full render, which chat templates are; one that
    is not is reported, not guessed around.
    """
    _check_loss_mask(loss_mask)
    full = render(tokenizer, messages)
    spans: List[Tuple[int, int]] = []
    for i, message in enumerate(messages):
        if not is_trained(message):
            continue
        before = _render_prompt(tokenizer, messages[:i])
        through = render(tokenizer, messages[: i + 1])
        if not through.startswith(before):
            raise DataError(f"{where}: the chat template does not render messages[{i}] as a continuation of the earlier turns; cannot tell which tokens are the assistant's")
        if not full.startswith(through):
            raise DataError(f"{where}: the chat template renders the conversation through messages[{i}] differently from the whole conversation; cannot mask the loss reliably")
        if loss_mask == "reference":
            start, end = len(before.rstrip()), len(through)
        else:
            start, end = len(before), len(before) + len(through[len(before):].rstrip())
        if spans and spans[-1][1] >= start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return full, spans


def _render_prompt(tokenizer: Any, messages: Sequence[dict]) -> str:
    """The text before an assistant turn, including its header. Some templates refuse an empty conversation
    (an assistant turn first); then the turn starts at the beginning."""
    try:
        return render(tokenizer, messages, add_generation_prompt=True)
    except Exception:  # noqa: BLE001 - template errors are jinja exceptions of many kinds
        if messages:
            raise
        return ""


def _tokenize_with_offsets(tokenizer: Any, text: str) -> Tuple[List[int], Optional[List[Tuple[int, int]]]]:
    try:
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return list(encoded["input_ids"]), [tuple(o) for o in encoded["offset_mapping"]]
    except (NotImplementedError, TypeError, KeyError, ValueError):
        encoded = tokenizer(text, add_special_tokens=False)
        return list(encoded["input_ids"]), None


def tokenize_conversation(tokenizer: Any, conversation: Conversation, max_length: int, where: str = "data.jsonl", loss_mask: str = "studio") -> TokenizedExample:
    """Token ids and labels for one conversation; labels are IGNORE_INDEX outside the trained turns."""
    location = f"{where}:{conversation.line}"
    full, spans = trainable_char_spans(tokenizer, conversation.messages, location, loss_mask)
    ids, offsets = _tokenize_with_offsets(tokenizer, full)
    labels = [IGNORE_INDEX] * len(ids)
    if offsets is not None:
        for index, (start, _end) in enumerate(offsets):
            if any(s <= start < e for s, e in spans):
                labels[index] = ids[index]
    else:
        # slow tokenizers give no offsets: tokenize the text piecewise at the span boundaries instead
        ids, labels = [], []
        cuts = sorted({0, len(full), *[p for span in spans for p in span]})
        for a, b in zip(cuts, cuts[1:]):
            piece = tokenizer(full[a:b], add_special_tokens=False)["input_ids"]
            trained = any(s <= a < e for s, e in spans)
            ids.extend(piece)
            labels.extend(piece if trained else [IGNORE_INDEX] * len(piece))
    full_length = len(ids)
    truncated = full_length > max_length
    if truncated:
        ids, labels = ids[:max_length], labels[:max_length]
    return TokenizedExample(line=conversation.line, input_ids=ids, labels=labels, full_length=full_length, truncated=truncated)


@dataclass
class DatasetReport:
    examples: int
    kept: int
    truncated: int
    dropped_no_trainable_tokens: int
    max_length: int
    #: the compatibility profile the loss mask followed
    loss_mask: str
    longest: int
    mean_length: float
    trainable_tokens: int
    total_tokens: int
    #: data lines of the examples that were longer than max_length
    truncated_lines: List[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def tokenize_dataset(tokenizer: Any, conversations: Sequence[Conversation], max_length: int, where: str = "data.jsonl", loss_mask: str = "studio") -> Tuple[List[TokenizedExample], DatasetReport]:
    """Tokenises every conversation. An example whose trained turns all fall beyond max_length has nothing to
    learn from and is left out, and counted in the report (never silently)."""
    _check_loss_mask(loss_mask)
    tokenized = [tokenize_conversation(tokenizer, c, max_length, where, loss_mask) for c in conversations]
    kept = [t for t in tokenized if t.trainable_tokens > 0]
    lengths = [t.full_length for t in tokenized]
    report = DatasetReport(
        examples=len(tokenized),
        kept=len(kept),
        truncated=sum(1 for t in tokenized if t.truncated),
        dropped_no_trainable_tokens=len(tokenized) - len(kept),
        max_length=max_length,
        loss_mask=loss_mask,
        longest=max(lengths) if lengths else 0,
        mean_length=(sum(lengths) / len(lengths)) if lengths else 0.0,
        trainable_tokens=sum(t.trainable_tokens for t in kept),
        total_tokens=sum(len(t.input_ids) for t in kept),
        truncated_lines=[t.line for t in tokenized if t.truncated][:50],
    )
    return kept, report


def collate(examples: Sequence[TokenizedExample], pad_token_id: int) -> dict:
    """Right-padded lists: input_ids (pad id), labels (IGNORE_INDEX), attention_mask (0 on padding)."""
    width = max(len(e.input_ids) for e in examples)
    batch = {"input_ids": [], "labels": [], "attention_mask": []}
    for e in examples:
        pad = width - len(e.input_ids)
        batch["input_ids"].append(e.input_ids + [pad_token_id] * pad)
        batch["labels"].append(e.labels + [IGNORE_INDEX] * pad)
        batch["attention_mask"].append([1] * len(e.input_ids) + [0] * pad)
    return batch


@dataclass
class StepPlan:
    """How examples become optimizer steps for a given world size."""

    examples: int
    world_size: int
    per_device_batch: int
    accumulation: int
    epochs: int
    #: micro-batches each process runs per epoch
    micro_batches_per_epoch: int
    steps_per_epoch: int
    total_steps: int

    @property
    def effective_batch(self) -> int:
        return self.per_device_batch * self.accumulation * self.world_size


def plan_steps(examples: int, effective_batch: int, per_device_batch: int, world_size: int, epochs: int) -> StepPlan:
    """Effective batch = per-device batch × accumulation × processes; it must divide exactly, because a
    silently different batch size changes the training run the user asked for."""
    per_step = per_device_batch * world_size
    if per_device_batch < 1 or world_size < 1 or effective_batch < 1:
        raise ValueError("batch sizes and the number of processes must be positive")
    if effective_batch % per_step != 0:
        raise ValueError(
            f"effective batch {effective_batch} is not a multiple of per-device batch {per_device_batch} × {world_size} processes; "
            "change --per-device-batch or --effective-batch"
        )
    accumulation = effective_batch // per_step
    per_rank = math.ceil(examples / world_size)
    micro = math.ceil(per_rank / per_device_batch)
    steps_per_epoch = math.ceil(micro / accumulation)
    return StepPlan(examples, world_size, per_device_batch, accumulation, epochs, micro, steps_per_epoch, steps_per_epoch * epochs)


def epoch_order(examples: int, epoch: int, seed: int) -> List[int]:
    """A shuffled order that depends only on (seed, epoch), so a resumed run sees the same batches."""
    order = list(range(examples))
    random.Random(seed * 1_000_003 + epoch).shuffle(order)
    return order


def rank_micro_batches(order: Sequence[int], rank: int, world_size: int, per_device_batch: int) -> List[List[int]]:
    """This process's micro-batches: the order padded (by wrapping) to a multiple of the world size, then
    every world_size-th index, like torch's DistributedSampler, so every process runs the same count."""
    total = math.ceil(len(order) / world_size) * world_size
    padded = list(order) + [order[i % len(order)] for i in range(total - len(order))]
    mine = padded[rank::world_size]
    return [mine[i : i + per_device_batch] for i in range(0, len(mine), per_device_batch)]


def linear_decay(step: int, total_steps: int, warmup_steps: int = 0) -> float:
    """Multiplier of the peak learning rate: linear warm-up, then linear decay to 0 at total_steps."""
    if warmup_steps > 0 and step < warmup_steps:
        return step / warmup_steps
    remaining = max(0, total_steps - step)
    return remaining / max(1, total_steps - warmup_steps)
