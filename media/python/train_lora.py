#!/usr/bin/env python3
"""LoRA fine-tuning of a student model on the studio's exported chat JSONL (transformers + peft, no TRL).

Runs as one process or under ``torchrun`` / ``accelerate launch`` (DDP, or FSDP with --distributed fsdp).
Writes, into --output:
  metrics.jsonl          one JSON event per line (start, step, checkpoint, done, cancelled, error)
  checkpoints/step-N/    adapter + optimizer/scheduler/RNG state, for --resume
  adapter/               the final adapter (adapter_config.json, adapter_model.safetensors) + manifest.json
SIGTERM (or SIGINT) stops at the next micro-batch, saves a checkpoint of the last completed step and exits
with 143. With several processes, ``--peer-timeout-minutes`` (default 10; ``--set peer-timeout-minutes=N`` from
the studio) bounds joining the group and every collective: a rank whose peer exited or froze stops with exit 3
and an ``error`` event instead of waiting forever. ``--check`` reports the environment and the tokenised data as JSON without training.

Defaults follow the method's SFT settings: LoRA r=64, alpha=128, dropout 0.05 on all linear layers, no bias;
AdamW, lr 2e-4 with linear decay and no warm-up, weight decay 0; effective batch 8; 2 epochs; bf16 (fp32 on
CPU); max length 10,240; seed 42.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import json
import math
import os
import platform
import re
import shutil
import signal
import sys
import time
import traceback
from typing import Any, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_data  # noqa: E402  (lives next to this file on the host)

EXIT_STOPPED = 143
EXIT_MISSING_PACKAGES = 2
EXIT_PEER_LOST = 3

# What torch's gloo and NCCL backends say when a peer process died or a collective ran past its deadline.
_PEER_FAILURE = re.compile(r"connection (closed|reset)|broken pipe|timed? ?out|timeout|peer|gloo|nccl|socket", re.IGNORECASE)


# The wrapped model of a run with several processes: it holds the process group, which must not be destroyed
# before the process ends (see main()).
_KEPT_UNTIL_EXIT: List[Any] = []


def peer_failure(err: BaseException) -> bool:
    """Whether `err` comes from a collective that lost its peers (rather than from this process's own work)."""
    name = type(err).__name__
    return name in ("DistBackendError", "DistNetworkError", "DistStoreError") or (isinstance(err, RuntimeError) and bool(_PEER_FAILURE.search(str(err))))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="chat JSONL exported by the studio")
    p.add_argument("--output", default=".", help="run folder (metrics, checkpoints, adapter)")
    p.add_argument("--base-model", required=True, help="Hugging Face model id or local folder of the student")
    p.add_argument("--data-sha256", default="", help="hash the studio computed; checked against the file")
    p.add_argument("--check", action="store_true", help="report environment and data, do not train")
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --output")
    p.add_argument("--lora-r", type=int, default=64)
    p.add_argument("--lora-alpha", type=int, default=128)
    p.add_argument("--lora-dropout", type=float, default=0.05)
    p.add_argument("--target-modules", default="all-linear", help="'all-linear' or a comma-separated list")
    p.add_argument("--learning-rate", type=float, default=2e-4)
    p.add_argument("--warmup-steps", type=int, default=0)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--effective-batch", type=int, default=8)
    p.add_argument("--per-device-batch", type=int, default=1)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--max-length", type=int, default=10240)
    p.add_argument("--compat", choices=list(train_data.LOSS_MASKS), default=None,
                   help="compatibility profile of the export: which tokens of an assistant turn carry loss "
                        "(default: the 'compatibility' of <data>.manifest.json beside the data, else studio)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--bf16", dest="bf16", action="store_true", default=None, help="bf16 (default where the GPU supports it)")
    p.add_argument("--no-bf16", dest="bf16", action="store_false")
    p.add_argument("--gradient-checkpointing", dest="gradient_checkpointing", action="store_true", default=True)
    p.add_argument("--no-gradient-checkpointing", dest="gradient_checkpointing", action="store_false")
    p.add_argument("--save-steps", type=int, default=100, help="checkpoint every N optimizer steps (0: only on stop)")
    p.add_argument("--save-total-limit", type=int, default=2, help="checkpoints kept")
    p.add_argument("--distributed", choices=["auto", "ddp", "fsdp"], default="auto")
    p.add_argument("--trust-remote-code", action="store_true")
    p.add_argument("--max-steps", type=int, default=0, help="stop after N optimizer steps (0: all epochs)")
    p.add_argument("--peer-timeout-minutes", type=float, default=10.0,
                   help="with several processes: how long joining the group or one collective may wait for a peer before the run stops with an error")
    return p.parse_args(argv)


def training_config(args: argparse.Namespace) -> Dict[str, Any]:
    skip = {"data", "output", "check", "resume", "data_sha256", "peer_timeout_minutes"}
    return {k: v for k, v in vars(args).items() if k not in skip}


def missing_packages() -> List[str]:
    missing = []
    for name in ("torch", "transformers", "peft"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


class MetricsLog:
    """Appends events to metrics.jsonl (rank 0 only), flushed per line so the studio sees them at once."""

    def __init__(self, path: str, enabled: bool):
        self.enabled = enabled
        self.file = open(path, "a", encoding="utf-8") if enabled else None

    def emit(self, event: str, **fields: Any) -> None:
        if not self.file:
            return
        record = {"event": event, "time": time.time(), **fields}
        self.file.write(json.dumps(record, allow_nan=False) + "\n")
        self.file.flush()

    def close(self) -> None:
        if self.file:
            self.file.close()


def gpu_inventory() -> List[Dict[str, Any]]:
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    return [
        {"name": torch.cuda.get_device_name(i), "memory_gb": round(torch.cuda.get_device_properties(i).total_memory / 1e9, 1)}
        for i in range(torch.cuda.device_count())
    ]


def environment_report(output: str) -> Dict[str, Any]:
    versions: Dict[str, Optional[str]] = {"python": platform.python_version()}
    for name in ("torch", "transformers", "peft", "accelerate"):
        try:
            versions[name] = getattr(importlib.import_module(name), "__version__", "?")
        except ImportError:
            versions[name] = None
    report: Dict[str, Any] = {"versions": versions, "gpus": gpu_inventory(), "cuda": False, "bf16": False}
    if versions["torch"]:
        import torch

        report["cuda"] = torch.cuda.is_available()
        report["bf16"] = bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    usage = shutil.disk_usage(output)
    report["disk_free_gb"] = round(usage.free / 1e9, 1)
    return report


def run_check(args: argparse.Namespace) -> int:
    problems: List[str] = []
    warnings: List[str] = []
    env = environment_report(args.output)
    for name in ("torch", "transformers", "peft"):
        if env["versions"].get(name) is None:
            problems.append(f"the Python package '{name}' is not installed in this environment")
    if env["versions"].get("torch") and not env["cuda"]:
        warnings.append("no CUDA GPU is visible: training would run on the CPU in fp32")
    if env["disk_free_gb"] < 2:
        warnings.append(f"only {env['disk_free_gb']} GB free in the run folder")
    report: Dict[str, Any] = {"environment": env, "config": training_config(args)}
    try:
        conversations = train_data.load_conversations(args.data)
        report["conversations"] = len(conversations)
        digest = train_data.sha256_of_file(args.data)
        report["data_sha256"] = digest
        if args.data_sha256 and digest != args.data_sha256:
            problems.append(f"the data file's SHA-256 is {digest}, not the {args.data_sha256} that was uploaded")
        if env["versions"].get("transformers"):
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(args.base_model, trust_remote_code=args.trust_remote_code)
            compat = train_data.export_compatibility(args.data, args.compat)
            _, data_report = train_data.tokenize_dataset(tokenizer, conversations, args.max_length, args.data, compat)
            report["data"] = data_report.as_dict()
            if data_report.truncated:
                warnings.append(f"{data_report.truncated} of {data_report.examples} examples are longer than {args.max_length} tokens and will be truncated")
            if data_report.dropped_no_trainable_tokens:
                warnings.append(f"{data_report.dropped_no_trainable_tokens} examples have no trained token within the max length and will be left out")
            if data_report.kept == 0:
                problems.append("no example has a trained token")
            world = int(os.environ.get("WORLD_SIZE", "1"))
            try:
                plan = train_data.plan_steps(data_report.kept, args.effective_batch, args.per_device_batch, world, args.epochs)
                report["plan"] = {"accumulation": plan.accumulation, "steps_per_epoch": plan.steps_per_epoch, "total_steps": plan.total_steps}
            except ValueError as err:
                problems.append(str(err))
    except (train_data.DataError, OSError) as err:
        problems.append(str(err))
    except Exception as err:  # noqa: BLE001 - a tokenizer that cannot load is a finding of the check
        problems.append(f"{type(err).__name__}: {err}")
    report["problems"] = problems
    report["warnings"] = warnings
    report["ok"] = not problems
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if not problems else 1


def latest_checkpoint(output: str) -> Optional[str]:
    root = os.path.join(output, "checkpoints")
    if not os.path.isdir(root):
        return None
    steps = []
    for name in os.listdir(root):
        if name.startswith("step-") and name[5:].isdigit() and os.path.exists(os.path.join(root, name, "trainer_state.pt")):
            steps.append(int(name[5:]))
    return os.path.join(root, f"step-{max(steps)}") if steps else None


class StopRequest:
    """Set by SIGTERM/SIGINT; checked between micro-batches so a stop takes at most one forward/backward."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, _signum: int, _frame: Any) -> None:
        self.requested = True


def train(args: argparse.Namespace) -> int:
    import torch
    import torch.distributed as dist
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    stop = StopRequest()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    distributed = world > 1
    mode = "none" if not distributed else ("ddp" if args.distributed == "auto" else args.distributed)
    peer_timeout = datetime.timedelta(minutes=args.peer_timeout_minutes)
    if distributed:
        # Without a deadline a rank whose peer died waits in a collective forever (holding its GPU). gloo
        # honours the group's timeout itself; NCCL only with its watchdog's error handling on.
        os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1")
        os.environ.setdefault("NCCL_ASYNC_ERROR_HANDLING", "1")
        dist.init_process_group(backend="nccl" if cuda else "gloo", timeout=peer_timeout)
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    is_main = rank == 0
    os.makedirs(args.output, exist_ok=True)
    log = MetricsLog(os.path.join(args.output, "metrics.jsonl"), is_main)

    def say(text: str) -> None:
        if is_main:
            print(text, flush=True)

    def all_reduce(value: float, op) -> float:
        """The value reduced over every process (itself when the run is not distributed)."""
        if not distributed:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=device)
        dist.all_reduce(t, op=op)
        return float(t.item())

    def all_max(value: float) -> float:
        return all_reduce(value, dist.ReduceOp.MAX if distributed else None)

    def all_sum(value: float) -> float:
        return all_reduce(value, dist.ReduceOp.SUM if distributed else None)

    try:
        bf16_ok = cuda and torch.cuda.is_bf16_supported()
        use_bf16 = bf16_ok if args.bf16 is None else bool(args.bf16)
        if use_bf16 and not bf16_ok:
            say("bf16 is not supported here; training in fp32")
            use_bf16 = False
        torch.manual_seed(args.seed)

        digest = train_data.sha256_of_file(args.data)
        if args.data_sha256 and digest != args.data_sha256:
            raise train_data.DataError(f"{args.data}: SHA-256 {digest} differs from the uploaded {args.data_sha256}")
        tokenizer = AutoTokenizer.from_pretrained(args.base_model, trust_remote_code=args.trust_remote_code)
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        conversations = train_data.load_conversations(args.data)
        compat = train_data.export_compatibility(args.data, args.compat)
        examples, data_report = train_data.tokenize_dataset(tokenizer, conversations, args.max_length, args.data, compat)
        say(f"loss mask: the {compat} profile")
        if not examples:
            raise train_data.DataError(f"{args.data}: no example has a trained token within {args.max_length} tokens")
        plan = train_data.plan_steps(len(examples), args.effective_batch, args.per_device_batch, world, args.epochs)
        total_steps = plan.total_steps if args.max_steps <= 0 else min(plan.total_steps, args.max_steps)
        say(f"{len(examples)} examples ({data_report.truncated} truncated), {plan.total_steps} steps planned, accumulation {plan.accumulation}, world size {world}")

        # FSDP needs one dtype per flat parameter: load fp32 and let FSDP cast for compute; otherwise load
        # the frozen base in bf16 and keep the trainable LoRA weights in fp32 under autocast
        load_dtype = torch.bfloat16 if use_bf16 and mode != "fsdp" else torch.float32
        model = AutoModelForCausalLM.from_pretrained(args.base_model, torch_dtype=load_dtype, trust_remote_code=args.trust_remote_code)
        model.config.use_cache = False
        no_split = set(getattr(model, "_no_split_modules", None) or [])
        if args.gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.enable_input_require_grads()
        targets: Any = args.target_modules if args.target_modules == "all-linear" else [t.strip() for t in args.target_modules.split(",") if t.strip()]
        lora = LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout, target_modules=targets, bias="none", task_type="CAUSAL_LM")
        peft_model = get_peft_model(model, lora)
        for param in peft_model.parameters():
            if param.requires_grad:
                param.data = param.data.float()
        peft_model.to(device)
        trainable = [p for p in peft_model.parameters() if p.requires_grad]
        trainable_names = [n for n, p in peft_model.named_parameters() if p.requires_grad]
        say(f"trainable parameters: {sum(p.numel() for p in trainable):,}")

        # a checkpoint's weights go in before wrapping (FSDP shards the parameters); its optimizer and
        # scheduler state after the optimizer exists
        start_step = 0
        resume_state: Optional[Dict[str, Any]] = None
        if args.resume:
            checkpoint = latest_checkpoint(args.output)
            if checkpoint is None:
                say("--resume: no checkpoint yet; starting from the beginning")
            else:
                resume_state = torch.load(os.path.join(checkpoint, "trainer_state.pt"), map_location="cpu")
                if resume_state["data_sha256"] != digest:
                    raise train_data.DataError(f"{checkpoint} was trained on data {resume_state['data_sha256']}, not on {digest}; refusing to resume on different data")
                if resume_state["world_size"] != world:
                    say(f"resuming with {world} processes; the checkpoint was written by {resume_state['world_size']}, so batches after it are regrouped")
                params = dict(peft_model.named_parameters())
                with torch.no_grad():
                    for n, value in resume_state["weights"].items():
                        params[n].copy_(value.to(params[n].device))
                start_step = int(resume_state["step"])
                say(f"resumed from {checkpoint} (step {start_step})")

        wrapped: Any = peft_model
        if mode == "ddp":
            from torch.nn.parallel import DistributedDataParallel

            wrapped = DistributedDataParallel(peft_model, device_ids=[local_rank] if cuda else None)
            _KEPT_UNTIL_EXIT.append(wrapped)
        elif mode == "fsdp":
            import functools

            from torch.distributed.fsdp import FullyShardedDataParallel, MixedPrecision
            from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy

            layer_classes = {type(m) for m in peft_model.modules() if type(m).__name__ in no_split}
            policy = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls=layer_classes) if layer_classes else None
            precision = MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.float32, buffer_dtype=torch.bfloat16) if use_bf16 else None
            wrapped = FullyShardedDataParallel(peft_model, auto_wrap_policy=policy, mixed_precision=precision, use_orig_params=True, device_id=device if cuda else None)
            _KEPT_UNTIL_EXIT.append(wrapped)
            trainable = [p for p in wrapped.parameters() if p.requires_grad]

        optimizer = torch.optim.AdamW(trainable, lr=args.learning_rate, weight_decay=args.weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: train_data.linear_decay(s, plan.total_steps, args.warmup_steps))

        if resume_state is not None:
            if mode == "fsdp":
                from torch.distributed.fsdp import FullyShardedDataParallel

                optimizer.load_state_dict(FullyShardedDataParallel.optim_state_dict_to_load(wrapped, optimizer, resume_state["optimizer"]))
            else:
                optimizer.load_state_dict(resume_state["optimizer"])
            scheduler.load_state_dict(resume_state["scheduler"])
            torch.set_rng_state(resume_state["rng"])

        def adapter_state() -> Dict[str, Any]:
            """The trainable weights by name, gathered to rank 0 under FSDP."""
            if mode == "fsdp":
                from torch.distributed.fsdp import FullStateDictConfig, FullyShardedDataParallel, StateDictType

                with FullyShardedDataParallel.state_dict_type(wrapped, StateDictType.FULL_STATE_DICT, FullStateDictConfig(offload_to_cpu=True, rank0_only=True)):
                    full = wrapped.state_dict()
                return {k: v for k, v in full.items() if k in set(trainable_names)}
            return {n: p.detach().cpu().clone() for n, p in peft_model.named_parameters() if p.requires_grad}

        def optimizer_state() -> Dict[str, Any]:
            if mode == "fsdp":
                from torch.distributed.fsdp import FullyShardedDataParallel

                return FullyShardedDataParallel.optim_state_dict(wrapped, optimizer)
            return optimizer.state_dict()

        def save_adapter(folder: str, weights: Dict[str, Any]) -> None:
            # peft filters the LoRA tensors out of the given weights and writes adapter_config.json with them
            peft_model.save_pretrained(folder, state_dict=weights, safe_serialization=True)

        def save_checkpoint(step: int, epoch: int) -> str:
            weights = adapter_state()
            optim = optimizer_state()
            name = os.path.join("checkpoints", f"step-{step}")
            if is_main:
                final = os.path.join(args.output, name)
                tmp = final + ".tmp"
                shutil.rmtree(tmp, ignore_errors=True)
                os.makedirs(tmp)
                save_adapter(os.path.join(tmp, "adapter"), weights)
                torch.save(
                    {"step": step, "epoch": epoch, "weights": weights, "optimizer": optim, "scheduler": scheduler.state_dict(),
                     "rng": torch.get_rng_state(), "data_sha256": digest, "plan_total_steps": plan.total_steps, "world_size": world},
                    os.path.join(tmp, "trainer_state.pt"),
                )
                shutil.rmtree(final, ignore_errors=True)
                os.replace(tmp, final)
                kept = sorted(
                    (int(n[5:]) for n in os.listdir(os.path.join(args.output, "checkpoints")) if n.startswith("step-") and n[5:].isdigit()),
                    reverse=True,
                )
                for old in kept[max(1, args.save_total_limit):]:
                    shutil.rmtree(os.path.join(args.output, "checkpoints", f"step-{old}"), ignore_errors=True)
                log.emit("checkpoint", step=step, path=name)
            if distributed:
                dist.barrier()
            return name

        log.emit("start", total_steps=total_steps, epochs=args.epochs, examples=len(examples), world_size=world,
                 resumed_from_step=start_step, gpus=gpu_inventory())
        autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16) if use_bf16 and mode != "fsdp" else contextlib.nullcontext()
        wrapped.train()
        step = start_step
        epoch = 0
        loss: Optional[float] = None
        started = time.time()
        steps_timed = 0
        stopped = False
        for epoch in range(args.epochs):
            order = train_data.epoch_order(len(examples), epoch, args.seed)
            micro = train_data.rank_micro_batches(order, rank, world, args.per_device_batch)
            windows = [micro[i : i + plan.accumulation] for i in range(0, len(micro), plan.accumulation)]
            for index, window in enumerate(windows):
                number = epoch * plan.steps_per_epoch + index + 1
                if number <= step:
                    continue
                if number > total_steps:
                    break
                step_start = time.time()
                if cuda:
                    torch.cuda.reset_peak_memory_stats(device)
                batches = [train_data.collate([examples[i] for i in ids], pad_id) for ids in window]
                # loss = sum of token losses over the whole window and all processes / their token count, so
                # every trained token weighs the same whatever the padding and accumulation
                local_tokens = sum(sum(1 for row in b["labels"] for t in row[1:] if t != train_data.IGNORE_INDEX) for b in batches)
                window_tokens = max(1.0, all_sum(float(local_tokens)))
                loss_sum = 0.0
                seen_tokens = 0
                for j, b in enumerate(batches):
                    input_ids = torch.tensor(b["input_ids"], device=device)
                    labels = torch.tensor(b["labels"], device=device)
                    mask = torch.tensor(b["attention_mask"], device=device)
                    tokens = int((labels[:, 1:] != train_data.IGNORE_INDEX).sum().item())
                    seen_tokens += int(mask.sum().item())
                    sync = contextlib.nullcontext() if (mode != "ddp" or j == len(batches) - 1) else wrapped.no_sync()
                    with sync, autocast:
                        out = wrapped(input_ids=input_ids, attention_mask=mask, labels=labels)
                        # HF returns the mean over this micro-batch's trained tokens; rescale to a share of the window
                        # a micro-batch whose only trained token is its first has nothing after the shift;
                        # it still runs backward (DDP needs every process to) but contributes zero
                        part = out.loss * tokens if tokens > 0 else out.logits.sum() * 0.0
                        (part * (world / window_tokens)).backward()
                    loss_sum += float(part.detach().item())
                    if all_max(1.0 if stop.requested else 0.0) > 0:
                        stopped = True
                        break
                if stopped:
                    optimizer.zero_grad(set_to_none=True)
                    break
                if mode == "fsdp":
                    grad_norm = wrapped.clip_grad_norm_(args.max_grad_norm)
                else:
                    grad_norm = torch.nn.utils.clip_grad_norm_(trainable, args.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step = number
                steps_timed += 1
                loss = all_sum(loss_sum) / window_tokens
                elapsed = time.time() - step_start
                tokens_all = all_sum(float(seen_tokens))
                memory = all_max(torch.cuda.max_memory_allocated(device) / 1e9 if cuda else 0.0)
                per_step = (time.time() - started) / steps_timed
                norm = float(grad_norm)
                log.emit("step", step=step, total_steps=total_steps, epoch=round(epoch + (index + 1) / len(windows), 4),
                         loss=loss, lr=scheduler.get_last_lr()[0], grad_norm=norm if math.isfinite(norm) else None,
                         tokens_per_s=tokens_all / elapsed if elapsed > 0 else None, gpu_mem_gb=memory if cuda else None,
                         eta_s=per_step * (total_steps - step))
                if args.save_steps > 0 and step % args.save_steps == 0 and step < total_steps:
                    save_checkpoint(step, epoch)
            if stopped or step >= total_steps:
                break

        if stopped:
            existing = latest_checkpoint(args.output)
            if step > start_step or existing is None:
                path = save_checkpoint(step, epoch)
            else:
                path = os.path.relpath(existing, args.output)
            log.emit("cancelled", step=step, checkpoint=path)
            say(f"stopped on request after step {step}; checkpoint saved")
            return EXIT_STOPPED

        weights = adapter_state()
        if is_main:
            adapter_dir = os.path.join(args.output, "adapter")
            save_adapter(adapter_dir, weights)
            versions = environment_report(args.output)["versions"]
            manifest = {
                "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "base_model": args.base_model,
                "data_file": os.path.basename(args.data),
                "data_sha256": digest,
                "config": training_config(args),
                "data": data_report.as_dict(),
                "plan": {"world_size": world, "accumulation": plan.accumulation, "total_steps": total_steps},
                "metrics": {"final_loss": loss, "steps": step, "runtime_s": round(time.time() - started, 1)},
                "versions": versions,
                "precision": "bf16" if use_bf16 else "fp32",
                "distributed": mode,
            }
            with open(os.path.join(adapter_dir, "manifest.json"), "w", encoding="utf-8") as f:
                json.dump(manifest, f, indent=2)
            log.emit("done", step=step, adapter="adapter")
            say(f"done: adapter in {adapter_dir}")
        if distributed:
            dist.barrier()
        return 0
    except train_data.DataError as err:
        log.emit("error", message=str(err))
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 1
    except Exception as err:
        if distributed and peer_failure(err):
            message = (f"lost contact with another training process (rank {rank} of {world}): it exited or did not answer "
                       f"within the {args.peer_timeout_minutes:g}-minute peer deadline ({type(err).__name__}: {err})")
            log.emit("error", message=message)
            print(f"error: {message}", file=sys.stderr, flush=True)
            return EXIT_PEER_LOST
        log.emit("error", message=f"{type(err).__name__}: {err}")
        raise
    finally:
        # the process group is not destroyed: a run with several processes ends through os._exit in main()
        log.close()


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.check:
        return run_check(args)
    missing = missing_packages()
    if missing:
        message = f"cannot train: the Python package(s) {', '.join(missing)} are not installed in this environment (pip install torch transformers peft)"
        MetricsLog(os.path.join(args.output, "metrics.jsonl"), int(os.environ.get("RANK", "0")) == 0).emit("error", message=message)
        print(message, file=sys.stderr)
        return EXIT_MISSING_PACKAGES
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return train(args)
    try:
        code = train(args)
    except BaseException:  # noqa: BLE001 - reported below, then the process ends the same way as on success
        traceback.print_exc()
        code = 1
    # Several processes: end without running torch's destructors. Under torch 1.13 the gloo process group's
    # destructor (run when DDP's reducer is freed) joins its worker thread while holding the GIL, and that
    # thread may need the GIL to free the last tensor of a finished collective: the process then never exits
    # (1 run in 6 on 2 busy cores; gdb showed exactly these two threads, and the TCPStore client thread
    # spinning once rank 0 had gone). So the wrapped model is kept alive until here and the process ends
    # without tearing the group down. Everything this script writes is closed by now (metrics log,
    # checkpoints, adapter); only stdio is left to flush.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
