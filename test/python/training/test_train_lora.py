"""The trainer end to end on the CPU: --check, metrics, checkpoints, SIGTERM, --resume, two processes (DDP/gloo).

The real transformers + peft are used where they are importable (a tiny randomly initialised model built on
the spot); otherwise the loop runs with the test doubles in stub_packages/ around a tiny torch model, which
exercises everything train_lora.py itself does. Without torch the tests are skipped with the reason shown.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.normpath(os.path.join(HERE, "..", "..", "..", "media", "python", "train_lora.py"))
STUBS = os.path.join(HERE, "stub_packages")


def _has(python, module):
    try:
        return subprocess.run([python, "-c", f"import {module}"], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def torch_python():
    """An interpreter with torch: this one, or the system's (Debian ships python3-torch for /usr/bin/python3)."""
    for candidate in [os.environ.get("TRAIN_TEST_PYTHON"), sys.executable, "/usr/bin/python3"]:
        if candidate and os.path.exists(candidate) and _has(candidate, "torch"):
            return candidate
    return None


PYTHON = torch_python()
REAL_LIBS = bool(PYTHON) and _has(PYTHON, "transformers") and _has(PYTHON, "peft")
NO_TORCH = "torch is not importable by this Python or /usr/bin/python3 (set TRAIN_TEST_PYTHON)"


def write_data(path, count, long_every=0):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            answer = f"Thought: compute {i}\nCode:\n```py\nprint({i}+1)\n```<end_code>"
            if long_every and i % long_every == 0:
                answer += " pad" * 200
            messages = [
                {"role": "system", "content": "Solve."},
                {"role": "user", "content": f"New task:\nWhat is {i}+1?"},
                {"role": "assistant", "content": answer, "weight": 1},
                {"role": "user", "content": f"Observation:\n{i + 1}"},
                {"role": "assistant", "content": "skip me", "weight": 0},
            ]
            f.write(json.dumps({"messages": messages}) + "\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_briefly(proc, seconds):
    """Waits until `proc` exits or `seconds` pass, whichever is first; returns its exit code or None."""
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def read_metrics(folder):
    path = os.path.join(folder, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@unittest.skipIf(PYTHON is None, NO_TORCH)
class TrainerRunTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ts-train-py-")
        self.data = os.path.join(self.dir, "data.jsonl")
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
        if not REAL_LIBS:
            self.env["PYTHONPATH"] = STUBS + os.pathsep + self.env.get("PYTHONPATH", "")
        self.model = "tiny/random" if not REAL_LIBS else self.tiny_real_model()

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def tiny_real_model(self):
        """A randomly initialised two-layer Qwen2 with a character-level tokenizer, saved to a folder."""
        folder = os.path.join(self.dir, "tiny-model")
        code = r'''
import sys, json
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
folder = sys.argv[1]
chars = [chr(i) for i in range(32, 127)] + ["\n"]
vocab = {c: i for i, c in enumerate(["<unk>", "<|im_start|>", "<|im_end|>"] + chars)}
tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|im_end|>", pad_token="<unk>",
    additional_special_tokens=["<|im_start|>", "<|im_end|>"])
fast.chat_template = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
fast.save_pretrained(folder)
cfg = Qwen2Config(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096)
Qwen2ForCausalLM(cfg).save_pretrained(folder)
'''
        subprocess.run([PYTHON, "-c", code, folder], check=True, env=self.env, timeout=300)
        return folder

    def run_trainer(self, *extra, check=True, timeout=300):
        args = [PYTHON, SCRIPT, "--data", self.data, "--output", self.dir, "--base-model", self.model, *extra]
        proc = subprocess.run(args, capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and proc.returncode != 0:
            self.fail(f"trainer exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def test_check_reports_environment_data_and_plan(self):
        write_data(self.data, 10, long_every=5)
        proc = self.run_trainer("--check", "--max-length", "400")
        report = json.loads(proc.stdout)
        self.assertTrue(report["ok"], report["problems"])
        self.assertEqual(report["conversations"], 10)
        self.assertEqual(report["data"]["truncated"], 2, "examples 0 and 5 are longer than 400 tokens")
        self.assertEqual(report["plan"]["accumulation"], 8)
        self.assertEqual(report["config"]["lora_r"], 64)
        self.assertIn("torch", report["environment"]["versions"])
        self.assertTrue(any("truncated" in w for w in report["warnings"]))

    def test_check_fails_with_the_reason_for_bad_data(self):
        with open(self.data, "w") as f:
            f.write(json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}) + "\n")
            f.write('{"messages": [{"role": "assistant", "content": 3}]}\n')
        proc = self.run_trainer("--check", check=False)
        self.assertEqual(proc.returncode, 1)
        report = json.loads(proc.stdout)
        self.assertFalse(report["ok"])
        self.assertIn("data.jsonl:2: messages[0].content", " ".join(report["problems"]))

    def test_full_run_writes_metrics_adapter_and_manifest(self):
        write_data(self.data, 12)
        self.run_trainer("--per-device-batch", "2", "--save-steps", "2")
        events = read_metrics(self.dir)
        kinds = [e["event"] for e in events]
        self.assertEqual(kinds[0], "start")
        self.assertEqual(kinds[-1], "done")
        steps = [e for e in events if e["event"] == "step"]
        # 12 examples, effective batch 8 = 2 per device x 4 accumulation: 2 steps per epoch, 2 epochs
        self.assertEqual([e["step"] for e in steps], [1, 2, 3, 4])
        self.assertEqual(events[0]["total_steps"], 4)
        for e in steps:
            self.assertAlmostEqual(e["lr"], 2e-4 * (1 - e["step"] / 4))
            for key in ("loss", "grad_norm", "tokens_per_s", "eta_s"):
                self.assertIsInstance(e[key], float)
        self.assertEqual(steps[-1]["eta_s"], 0.0)
        self.assertTrue(any(e["event"] == "checkpoint" and e["step"] == 2 for e in events))
        adapter = os.path.join(self.dir, "adapter")
        self.assertTrue(os.path.exists(os.path.join(adapter, "adapter_config.json")))
        with open(os.path.join(adapter, "manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["base_model"], self.model)
        import hashlib

        with open(self.data, "rb") as f:
            self.assertEqual(manifest["data_sha256"], hashlib.sha256(f.read()).hexdigest())
        self.assertEqual(manifest["config"]["lora_alpha"], 128)
        self.assertEqual(manifest["precision"], "fp32", "no GPU here: bf16 falls back to fp32")
        self.assertEqual(manifest["metrics"]["steps"], 4)

    def test_wrong_data_hash_is_refused(self):
        write_data(self.data, 4)
        proc = self.run_trainer("--data-sha256", "0" * 64, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("SHA-256", proc.stderr)
        self.assertEqual(read_metrics(self.dir)[-1]["event"], "error")

    def test_sigterm_saves_a_checkpoint_and_resume_continues_from_it(self):
        write_data(self.data, 800)
        args = [PYTHON, SCRIPT, "--data", self.data, "--output", self.dir, "--base-model", self.model, "--save-steps", "0", "--max-length", "256"]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env)
        try:
            deadline = time.time() + 240
            while time.time() < deadline and not any(e["event"] == "step" and e["step"] >= 3 for e in read_metrics(self.dir)):
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        self.assertEqual(proc.returncode, 143, err)
        events = read_metrics(self.dir)
        cancelled = events[-1]
        self.assertEqual(cancelled["event"], "cancelled")
        stopped_at = cancelled["step"]
        self.assertGreaterEqual(stopped_at, 3)
        self.assertTrue(os.path.exists(os.path.join(self.dir, cancelled["checkpoint"], "trainer_state.pt")))

        self.run_trainer("--save-steps", "0", "--max-length", "256", "--resume", "--max-steps", str(stopped_at + 2))
        after = read_metrics(self.dir)[len(events):]
        self.assertEqual(after[0]["event"], "start")
        self.assertEqual(after[0]["resumed_from_step"], stopped_at)
        resumed_steps = [e["step"] for e in after if e["event"] == "step"]
        self.assertEqual(resumed_steps, [stopped_at + 1, stopped_at + 2])
        # the learning rate continues the original schedule (200 steps), not a fresh one
        first = next(e for e in after if e["event"] == "step")
        self.assertAlmostEqual(first["lr"], 2e-4 * (1 - (stopped_at + 1) / 200))

    def start_ranks(self, args, world):
        """Starts `world` trainer processes with the environment torchrun gives its workers, output to files."""
        port = free_port()
        ranks = []
        for rank in range(world):
            rank_env = dict(self.env, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                            WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(world))
            out = open(os.path.join(self.dir, f"rank{rank}.out"), "w+")
            err = open(os.path.join(self.dir, f"rank{rank}.err"), "w+")
            ranks.append((subprocess.Popen(args, stdout=out, stderr=err, text=True, env=rank_env, start_new_session=True), out, err))
        return ranks

    def watch_ranks(self, ranks, timeout):
        """Waits for every rank; the first non-zero exit (or the timeout) kills the rest at once.

        Returns [(exit code, stderr)] per rank: a failing rank never leaves its peer waiting in a collective.
        """
        deadline = time.monotonic() + timeout
        try:
            while any(p.poll() is None for p, _, _ in ranks):
                failed = any(p.returncode not in (None, 0) for p, _, _ in ranks)
                if failed or time.monotonic() > deadline:
                    break
                wait_briefly(next(p for p, _, _ in ranks if p.poll() is None), 0.2)
        finally:
            for p, _, _ in ranks:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        results = []
        for p, out, err in ranks:
            err.seek(0)
            results.append((p.returncode, err.read()))
            out.close()
            err.close()
        return results

    def assert_ranks_succeeded(self, results):
        if any(code != 0 for code, _ in results):
            self.fail("a training process failed:\n" + "\n".join(f"--- rank {r} exited {code}; stderr tail:\n{err[-3000:]}" for r, (code, err) in enumerate(results)))

    def test_two_processes_share_the_effective_batch(self):
        write_data(self.data, 16)
        # the two workers are started directly (Debian's torch 1.13 launcher itself fails under Python 3.11)
        args = [PYTHON, SCRIPT, "--data", self.data, "--output", self.dir, "--base-model", self.model, "--save-steps", "0"]
        self.assert_ranks_succeeded(self.watch_ranks(self.start_ranks(args, 2), 300))
        events = read_metrics(self.dir)
        self.assertEqual(events[0]["world_size"], 2)
        steps = [e for e in events if e["event"] == "step"]
        # 16 examples / (1 per device x 2 processes x 4 accumulation) = 2 steps per epoch, 2 epochs; one writer
        self.assertEqual([e["step"] for e in steps], [1, 2, 3, 4])
        self.assertEqual(events[-1]["event"], "done")

    def lose_a_peer(self, how):
        """Two ranks train; once steps are logged, rank 1 is killed or frozen. Returns rank 0's (exit code, stderr, seconds after)."""
        write_data(self.data, 2000)  # 500 steps: the run is still going when the peer is lost after the first
        deadline_minutes = 0.25
        args = [PYTHON, SCRIPT, "--data", self.data, "--output", self.dir, "--base-model", self.model, "--save-steps", "0",
                "--peer-timeout-minutes", str(deadline_minutes)]
        ranks = self.start_ranks(args, 2)
        try:
            started = time.monotonic()
            while not any(e["event"] == "step" for e in read_metrics(self.dir)):
                if any(p.poll() is not None for p, _, _ in ranks) or time.monotonic() - started > 240:
                    self.assert_ranks_succeeded(self.watch_ranks(ranks, 0))
                    self.fail("no training step was logged within 240 s")
                wait_briefly(ranks[0][0], 0.1)
            os.killpg(ranks[1][0].pid, how)
            lost_at = time.monotonic()
            # the survivor must give up by itself: the deadline, plus room for a loaded machine
            wait_briefly(ranks[0][0], deadline_minutes * 60 + 60)
            after = time.monotonic() - lost_at
        finally:
            results = self.watch_ranks(ranks, 0)
        return results[0][0], results[0][1], after

    def assert_survivor_stopped(self, code, err, after):
        self.assertEqual(code, 3, f"rank 0 should stop with exit 3 (peer lost) but exited {code} after {after:.0f} s; stderr:\n{err[-3000:]}")
        self.assertIn("lost contact with another training process", err)
        last = read_metrics(self.dir)[-1]
        self.assertEqual(last["event"], "error")
        self.assertIn("lost contact with another training process", last["message"])

    def test_a_killed_peer_ends_the_run(self):
        self.assert_survivor_stopped(*self.lose_a_peer(signal.SIGKILL))

    def test_a_frozen_peer_ends_the_run_at_the_deadline(self):
        code, err, after = self.lose_a_peer(signal.SIGSTOP)
        self.assert_survivor_stopped(code, err, after)
        self.assertGreaterEqual(after, 0.25 * 60 * 0.9, "rank 0 gave up before the peer deadline")


class MissingPackagesTest(unittest.TestCase):
    @unittest.skipIf(REAL_LIBS, "transformers and peft are installed here")
    def test_training_without_transformers_stops_with_a_clear_message(self):
        folder = tempfile.mkdtemp(prefix="ts-train-py-")
        try:
            data = os.path.join(folder, "data.jsonl")
            write_data(data, 2)
            python = PYTHON or sys.executable
            env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
            proc = subprocess.run([python, SCRIPT, "--data", data, "--output", folder, "--base-model", "x"], capture_output=True, text=True, timeout=120, env=env)
            self.assertEqual(proc.returncode, 2)
            self.assertIn("transformers", proc.stderr)
            self.assertIn("not installed", read_metrics(folder)[-1]["message"])
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@unittest.skipUnless(REAL_LIBS, "full run with the real transformers + peft skipped: they are not importable here (the loop is covered with test doubles above)")
class RealLibrariesTest(unittest.TestCase):
    def test_marker(self):
        # TrainerRunTest above runs with the real libraries when this class is not skipped
        self.assertTrue(REAL_LIBS)


if __name__ == "__main__":
    unittest.main()
