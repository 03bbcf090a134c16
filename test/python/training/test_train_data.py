"""The trainer's data side: validation, chat template, loss mask, truncation, batching and the step plan."""

import json
import os
import sys
import unittest

# no __pycache__ next to the shipped script (media/ goes into the extension package)
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "media", "python"))
sys.path.insert(0, HERE)

import train_data  # noqa: E402
from fake_tokenizer import FakeTokenizer  # noqa: E402

IGNORE = train_data.IGNORE_INDEX


def conversation(*turns, line=1):
    return train_data.Conversation(line=line, messages=[dict(t) for t in turns])


def trained_text(tok, example):
    return tok.decode([t for t in example.labels if t != IGNORE])


AGENT = [
    {"role": "system", "content": "Solve with code."},
    {"role": "user", "content": "New task:\nWhat is 6*7?"},
    {"role": "assistant", "content": "Thought: multiply\nCode:\n```py\nprint(6*7)\n```<end_code>", "weight": 1},
    {"role": "user", "content": "Observation:\n42"},
    {"role": "assistant", "content": "Thought: bad step\nCode:\n```py\nx=\n```<end_code>", "weight": 0},
    {"role": "user", "content": "Observation:\nSyntaxError"},
    {"role": "assistant", "content": "Thought: done\nCode:\n```py\nfinal_answer(42)\n```<end_code>"},
]


TRAINED_TURNS = [m["content"] for m in AGENT if m["role"] == "assistant" and m.get("weight", 1) == 1]
#: what each profile trains of a turn (src/trajectory/trainingProfile.ts): studio the content and <|im_end|>;
#: reference also the newline after "<|im_start|>assistant" and the one after <|im_end|> (the reference's TRL
#: collator between its response and instruction templates, exps_research/finetune_sft.py:223-224)
EXPECTED_TRAINED = {
    "studio": "".join(c + "<|im_end|>" for c in TRAINED_TURNS),
    "reference": "".join("\n" + c + "<|im_end|>\n" for c in TRAINED_TURNS),
}


class MaskingTest(unittest.TestCase):
    def check_agent_mask(self, tok, loss_mask):
        example = train_data.tokenize_conversation(tok, conversation(*AGENT), max_length=100_000, loss_mask=loss_mask)
        self.assertEqual(len(example.input_ids), len(example.labels))
        trained = trained_text(tok, example)
        # exactly the weight-1 (and unweighted) assistant turns, each with its end-of-turn marker
        self.assertEqual(trained, EXPECTED_TRAINED[loss_mask])
        self.assertNotIn("bad step", trained)
        self.assertNotIn("Observation", trained)
        self.assertNotIn("New task", trained)
        self.assertNotIn("<|im_start|>assistant", trained, "the turn header is context, not a target")
        # labels equal the input ids wherever they are not masked
        for i, label in enumerate(example.labels):
            if label != IGNORE:
                self.assertEqual(label, example.input_ids[i])

    def test_fast_tokenizer_offsets(self):
        for loss_mask in train_data.LOSS_MASKS:
            with self.subTest(loss_mask=loss_mask):
                self.check_agent_mask(FakeTokenizer(offsets=True), loss_mask)

    def test_slow_tokenizer_piecewise(self):
        for loss_mask in train_data.LOSS_MASKS:
            with self.subTest(loss_mask=loss_mask):
                self.check_agent_mask(FakeTokenizer(offsets=False), loss_mask)

    def test_both_paths_agree_on_ids_and_labels(self):
        for loss_mask in train_data.LOSS_MASKS:
            a = train_data.tokenize_conversation(FakeTokenizer(offsets=True), conversation(*AGENT), 100_000, loss_mask=loss_mask)
            b = train_data.tokenize_conversation(FakeTokenizer(offsets=False), conversation(*AGENT), 100_000, loss_mask=loss_mask)
            self.assertEqual(a.input_ids, b.input_ids)
            self.assertEqual(a.labels, b.labels)

    def test_the_reference_profile_trains_two_tokens_more_per_trained_turn(self):
        tok = FakeTokenizer()
        counts = {m: train_data.tokenize_conversation(tok, conversation(*AGENT), 100_000, loss_mask=m).trainable_tokens for m in train_data.LOSS_MASKS}
        self.assertEqual(counts["reference"] - counts["studio"], 2 * len(TRAINED_TURNS))

    def test_an_unknown_profile_is_refused(self):
        with self.assertRaisesRegex(train_data.DataError, r"unknown compatibility profile 'paper'"):
            train_data.tokenize_dataset(FakeTokenizer(), [conversation(*AGENT)], 1000, loss_mask="paper")

    def test_default_system_prompt_of_the_template_is_context(self):
        tok = FakeTokenizer()
        example = train_data.tokenize_conversation(tok, conversation({"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}), 1000)
        self.assertEqual(trained_text(tok, example), "hello<|im_end|>")
        self.assertTrue(tok.decode(example.input_ids).startswith("<|im_start|>system\nYou are a helpful"))

    def test_template_that_is_not_prefix_stable_is_refused(self):
        class Reordering(FakeTokenizer):
            def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=False):
                return super().apply_chat_template(list(reversed(messages)), tokenize, add_generation_prompt)

        with self.assertRaisesRegex(train_data.DataError, r"data\.jsonl:3: the chat template"):
            train_data.tokenize_conversation(Reordering(), conversation(*AGENT[:3], line=3), 1000)


class TruncationTest(unittest.TestCase):
    def test_long_examples_are_truncated_and_counted(self):
        tok = FakeTokenizer()
        long = conversation({"role": "user", "content": "q"}, {"role": "assistant", "content": "a" * 500}, line=1)
        short = conversation({"role": "user", "content": "q"}, {"role": "assistant", "content": "b"}, line=2)
        kept, report = train_data.tokenize_dataset(tok, [long, short], max_length=100)
        self.assertEqual(report.truncated, 1)
        self.assertEqual(report.truncated_lines, [1])
        self.assertTrue(all(len(e.input_ids) <= 100 for e in kept))
        self.assertGreater(report.longest, 100)

    def test_examples_with_no_trained_token_left_are_dropped_and_reported(self):
        tok = FakeTokenizer()
        prompt_heavy = conversation({"role": "user", "content": "x" * 300}, {"role": "assistant", "content": "answer"}, line=7)
        kept, report = train_data.tokenize_dataset(tok, [prompt_heavy], max_length=50)
        self.assertEqual(kept, [])
        self.assertEqual(report.dropped_no_trainable_tokens, 1)


class ExportCompatibilityTest(unittest.TestCase):
    def setUp(self):
        import tempfile

        self.dir = tempfile.TemporaryDirectory()
        self.data = os.path.join(self.dir.name, "train.jsonl")

    def tearDown(self):
        self.dir.cleanup()

    def write_manifest(self, text):
        with open(self.data + ".manifest.json", "w", encoding="utf-8") as f:
            f.write(text)

    def test_the_manifest_beside_the_data_decides_when_no_flag_is_given(self):
        self.assertEqual(train_data.export_compatibility(self.data), "studio", "no manifest: the studio profile")
        self.write_manifest(json.dumps({"compatibility": "reference"}))
        self.assertEqual(train_data.export_compatibility(self.data), "reference")
        self.assertEqual(train_data.export_compatibility(self.data, "reference"), "reference")

    def test_a_flag_that_contradicts_the_manifest_is_refused(self):
        self.write_manifest(json.dumps({"compatibility": "reference"}))
        with self.assertRaisesRegex(train_data.DataError, r"train\.jsonl\.manifest\.json: compatibility: the data was exported for 'reference' but the trainer was asked for --compat studio"):
            train_data.export_compatibility(self.data, "studio")

    def test_a_bad_manifest_is_named(self):
        self.write_manifest(json.dumps({"compatibility": "paper"}))
        with self.assertRaisesRegex(train_data.DataError, r"manifest\.json: compatibility: expected one of studio, reference, got 'paper'"):
            train_data.export_compatibility(self.data)


class ValidationTest(unittest.TestCase):
    def parse(self, *records):
        return train_data.parse_conversations([json.dumps(r) if not isinstance(r, str) else r for r in records], "set.jsonl")

    def test_errors_name_file_line_and_field(self):
        ok = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
        cases = [
            ("{not json", r"set\.jsonl:2: not valid JSON"),
            ({"messages": [{"role": "robot", "content": "x"}]}, r"set\.jsonl:2: messages\[0\]\.role"),
            ({"messages": [{"role": "user", "content": 5}]}, r"set\.jsonl:2: messages\[0\]\.content"),
            ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 0.5}]}, r"messages\[1\]\.weight: expected 0 or 1"),
            ({"messages": [{"role": "user", "content": "q", "weight": 1}, {"role": "assistant", "content": "a"}]}, r"only assistant messages"),
            ({"messages": [{"role": "user", "content": "q"}]}, r"set\.jsonl:2: no assistant message"),
            ({"conversation": []}, r"set\.jsonl:2: expected an object with a \"messages\" array"),
        ]
        for bad, pattern in cases:
            with self.subTest(pattern=pattern):
                with self.assertRaisesRegex(train_data.DataError, pattern):
                    self.parse(ok, bad)

    def test_blank_lines_are_skipped_and_line_numbers_kept(self):
        ok = json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "id": "x"})
        convs = train_data.parse_conversations(["", ok, "  ", ok], "f")
        self.assertEqual([c.line for c in convs], [2, 4])


class BatchingTest(unittest.TestCase):
    def test_collate_pads_right_and_masks_padding(self):
        a = train_data.TokenizedExample(1, [5, 6, 7], [IGNORE, 6, 7], 3)
        b = train_data.TokenizedExample(2, [8], [8], 1)
        batch = train_data.collate([a, b], pad_token_id=0)
        self.assertEqual(batch["input_ids"], [[5, 6, 7], [8, 0, 0]])
        self.assertEqual(batch["labels"], [[IGNORE, 6, 7], [8, IGNORE, IGNORE]])
        self.assertEqual(batch["attention_mask"], [[1, 1, 1], [1, 0, 0]])

    def test_effective_batch_is_per_device_times_accumulation_times_processes(self):
        for world, per_device in [(1, 1), (2, 1), (4, 2), (8, 1)]:
            plan = train_data.plan_steps(2000, 8, per_device, world, 2)
            self.assertEqual(plan.effective_batch, 8)
            self.assertEqual(plan.steps_per_epoch, -(-2000 // 8))
            self.assertEqual(plan.total_steps, 2 * plan.steps_per_epoch)
        with self.assertRaisesRegex(ValueError, "not a multiple"):
            train_data.plan_steps(100, 8, 3, 1, 2)

    def test_ranks_cover_every_example_with_equal_counts(self):
        order = train_data.epoch_order(11, epoch=0, seed=42)
        per_rank = [train_data.rank_micro_batches(order, r, 4, 2) for r in range(4)]
        self.assertEqual(len({len(m) for m in per_rank}), 1, "every process runs the same number of micro-batches")
        seen = {i for mbs in per_rank for mb in mbs for i in mb}
        self.assertEqual(seen, set(range(11)))

    def test_order_depends_only_on_seed_and_epoch(self):
        self.assertEqual(train_data.epoch_order(50, 1, 42), train_data.epoch_order(50, 1, 42))
        self.assertNotEqual(train_data.epoch_order(50, 0, 42), train_data.epoch_order(50, 1, 42))
        self.assertEqual(sorted(train_data.epoch_order(50, 0, 42)), list(range(50)))

    def test_linear_decay_reaches_zero_without_warmup(self):
        self.assertEqual(train_data.linear_decay(0, 100), 1.0)
        self.assertAlmostEqual(train_data.linear_decay(50, 100), 0.5)
        self.assertEqual(train_data.linear_decay(100, 100), 0.0)
        self.assertAlmostEqual(train_data.linear_decay(5, 100, warmup_steps=10), 0.5)


if __name__ == "__main__":
    unittest.main()
