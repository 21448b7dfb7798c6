"""Checks of the training pipeline that need PyTorch. Run: /usr/bin/python3 -m unittest -v training/test_training.py"""
import json
import lzma
import math
import os
import subprocess
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import bpe  # noqa: E402
import eval as evaluation  # noqa: E402
import model as model_module  # noqa: E402
import prepare  # noqa: E402
from model import GPT, GPTConfig, attention_weights, rope_tables  # noqa: E402
from train import add_repeated_spans, batches  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def figure1_max_weight(n, s):
    """The paper's Figure 1 input: n logits, all -2 but one +3, seen by the query at position n - 1."""
    att = torch.zeros(1, n, n)
    att[0, n - 1, :] = -2.0
    att[0, n - 1, 0] = 3.0
    w = attention_weights(att, None if s is None else torch.tensor([s]))
    return w[0, n - 1].max().item()


def small_ssmax(s):
    """A seeded 2-layer SSMax model in eval mode, every layer's two heads set to s."""
    torch.manual_seed(0)
    m = GPT(GPTConfig(n_layer=2, n_head=2, n_embd=16, vocab_size=50, block_size=8, attention="ssmax")).eval()
    with torch.no_grad():
        for b in m.blocks:
            b.attn.s.copy_(torch.tensor(s))
    return m


class SSMaxMath(unittest.TestCase):
    def test_softmax_max_fades_as_n_grows(self):
        weights = [figure1_max_weight(n, None) for n in (10, 100, 1000, 10000)]
        self.assertTrue(all(a > b for a, b in zip(weights, weights[1:])), weights)
        self.assertLess(weights[-1], 0.05)

    def test_ssmax_max_stays_near_one(self):
        for n in (10, 100, 1000, 10000):
            self.assertGreater(figure1_max_weight(n, 0.43), 0.9, f"n={n}")

    def test_ssmax_matches_closed_form(self):
        # p_max = n^(3s) / (n^(3s) + (n - 1) n^(-2s)) for the Figure 1 input.
        for n in (10, 1000):
            s = 0.43
            expected = n ** (3 * s) / (n ** (3 * s) + (n - 1) * n ** (-2 * s))
            self.assertAlmostEqual(figure1_max_weight(n, s), expected, places=5)

    def test_small_s_fades_too(self):
        # Rule of thumb: with margin D = 5 the lead survives iff s * D > 1; s = 0.15 gives 0.75.
        self.assertLess(figure1_max_weight(10000, 0.15), 0.2)

    def test_posthoc_scale_is_softmax_at_training_length(self):
        n = 256
        self.assertAlmostEqual(figure1_max_weight(n, 1 / math.log(n)), figure1_max_weight(n, None), places=6)

    def test_ssmax_variant_differs_from_softmax_only_in_normalisation(self):
        torch.manual_seed(0)
        soft = GPT(GPTConfig(n_layer=1, n_head=2, n_embd=16, vocab_size=50, block_size=8))
        torch.manual_seed(0)
        ss = GPT(GPTConfig(n_layer=1, n_head=2, n_embd=16, vocab_size=50, block_size=8, attention="ssmax"))
        ss_state = {k: v for k, v in ss.state_dict().items() if not k.endswith("attn.s")}
        for k, v in soft.state_dict().items():
            self.assertTrue(torch.equal(v, ss_state[k]), k)
        ids = torch.randint(0, 50, (1, 8))
        # At the training length the initial s makes position 7 (n = 8) identical to Softmax.
        a = soft(ids)[0][0, -1]
        b = ss(ids)[0][0, -1]
        self.assertTrue(torch.allclose(a, b, atol=1e-5))
        self.assertFalse(torch.allclose(soft(ids)[0][0, 1], ss(ids)[0][0, 1], atol=1e-5))


class BadInput(unittest.TestCase):
    def run_prepare(self, *args):
        with tempfile.TemporaryDirectory() as out:
            return subprocess.run([sys.executable, os.path.join(ROOT, "training", "prepare.py"), "--out", out,
                                   "--tokenizer", os.path.join(out, "tok.json"), "--train-tokenizer", "--vocab-size", "300", *args],
                                  capture_output=True, text=True)

    def test_missing_corpus_folder(self):
        r = self.run_prepare("--source", "mine=/nonexistent/corpus")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("corpus source 'mine' not found: no folder /nonexistent/corpus", r.stderr)

    def test_empty_and_non_utf8_files_are_reported(self):
        with tempfile.TemporaryDirectory() as src:
            open(os.path.join(src, "empty.py"), "w").close()
            with open(os.path.join(src, "latin1.txt"), "wb") as f:
                f.write(b"caf\xe9 au lait\n")
            r = self.run_prepare("--source", f"mine={src}")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("latin1.txt: not UTF-8 (byte 0xe9 at offset 3)", r.stdout)
            self.assertIn("corpus too small: 0 training and 0 validation files", r.stderr)

    def test_bad_source_spec(self):
        r = self.run_prepare("--source", "justaname")
        self.assertIn("--source expects NAME=DIR", r.stderr)

    def test_train_without_prepared_data(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([sys.executable, os.path.join(ROOT, "training", "train.py"), "--attention", "softmax",
                                "--data", d, "--out", os.path.join(d, "x.pt")], capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("run `/usr/bin/python3 training/prepare.py` first", r.stderr)


class WarmStart(unittest.TestCase):
    """--init: a longer-context run continues from a checkpoint's weights; another shape is refused."""

    def train(self, d, *args):
        return subprocess.run([sys.executable, os.path.join(ROOT, "training", "train.py"), "--attention", "ssmax",
                               "--data", d, "--layers", "1", "--heads", "2", "--width", "16", "--batch", "2",
                               "--eval-every", "1", *args], capture_output=True, text=True)

    def test_init_carries_the_weights_to_a_longer_context_and_refuses_another_shape(self):
        with tempfile.TemporaryDirectory() as d:
            (np.arange(4000) % 64).astype(np.uint16).tofile(os.path.join(d, "train.bin"))
            (np.arange(400) % 64).astype(np.uint16).tofile(os.path.join(d, "val.bin"))
            with open(os.path.join(d, "manifest.json"), "w") as f:
                json.dump({"vocab_size": 64}, f)
            torch.manual_seed(5)
            first = GPT(GPTConfig(vocab_size=64, n_layer=1, n_head=2, n_embd=16, block_size=16, attention="ssmax"))
            model_module.save_checkpoint(os.path.join(d, "first.pt"), first,
                                         {"train_args": {"steps": 3, "batch": 2, "block": 16}})
            # lr 0: one step leaves the weights as they came
            r = self.train(d, "--block", "32", "--steps", "1", "--lr", "0", "--init", os.path.join(d, "first.pt"),
                           "--out", os.path.join(d, "next.pt"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("starting from the weights of", r.stdout)
            after = torch.load(os.path.join(d, "next.pt"), map_location="cpu", weights_only=False)
            self.assertEqual(after["config"]["block_size"], 32)
            for k, v in first.state_dict().items():
                self.assertTrue(torch.equal(after["model"][k], v), k)
            r = self.train(d, "--block", "32", "--steps", "1", "--width", "32", "--init", os.path.join(d, "first.pt"),
                           "--out", os.path.join(d, "other.pt"))
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("has another shape or attention", r.stderr)


class RepeatedSpans(unittest.TestCase):
    def windows(self, rows=64, n=257, seed=0):
        return np.random.default_rng(seed).integers(0, 4096, size=(rows, n))

    def test_every_chosen_row_carries_a_later_copy_of_one_of_its_spans(self):
        x = self.windows()
        before = x.copy()
        spans = add_repeated_spans(x, np.random.default_rng(1), share=1.0)
        self.assertEqual(sorted(r for r, *_ in spans), list(range(len(x))))
        for row, src, dst, length in spans:
            self.assertTrue(8 <= length <= 64, length)
            self.assertGreaterEqual(dst, src + length)  # later and not overlapping
            self.assertLessEqual(dst + length, x.shape[1])
            np.testing.assert_array_equal(x[row, dst:dst + length], before[row, src:src + length])
            untouched = np.ones(x.shape[1], bool)
            untouched[dst:dst + length] = False
            np.testing.assert_array_equal(x[row, untouched], before[row, untouched])

    def test_share_is_the_fraction_of_rows_changed(self):
        x = self.windows(rows=4000, n=65)
        spans = add_repeated_spans(x, np.random.default_rng(2), share=0.25)
        self.assertAlmostEqual(len(spans) / 4000, 0.25, delta=0.03)
        self.assertTrue(all(8 <= length <= 16 for *_, length in spans))  # at most a quarter of a short window

    def test_share_zero_leaves_the_windows_alone(self):
        data = np.arange(10_000, dtype=np.uint16)
        x, y = next(batches(data, 32, 8, np.random.default_rng(3), repeat_share=0.0))
        torch.testing.assert_close(x[:, 1:], y[:, :-1])
        torch.testing.assert_close(x[:, 1:] - x[:, :-1], torch.ones(8, 31, dtype=torch.int64))

    def test_same_seed_same_batches_and_targets_stay_shifted_inputs(self):
        data = np.random.default_rng(4).integers(0, 500, size=50_000).astype(np.uint16)
        a = batches(data, 128, 16, np.random.default_rng(5), repeat_share=0.5)
        b = batches(data, 128, 16, np.random.default_rng(5), repeat_share=0.5)
        for _ in range(3):
            (xa, ya), (xb, yb) = next(a), next(b)
            self.assertTrue(torch.equal(xa, xb) and torch.equal(ya, yb))
            self.assertTrue(torch.equal(xa[:, 1:], ya[:, :-1]))


class Model(unittest.TestCase):
    def test_rope_scale_multiplies_the_base(self):
        cos1, sin1 = rope_tables(40, 16, 10000.0 * 50, "cpu")
        cos2, sin2 = rope_tables(40, 16, 10000.0, "cpu", scale=50.0)
        torch.testing.assert_close(cos1, cos2)
        torch.testing.assert_close(sin1, sin2)

    def test_rope_scale_one_is_the_default_and_other_scales_change_the_output(self):
        torch.manual_seed(0)
        m = GPT(GPTConfig(n_layer=2, n_head=2, n_embd=16, vocab_size=50, block_size=8)).eval()
        ids = torch.randint(0, 50, (1, 24))
        torch.testing.assert_close(m(ids)[0], m(ids, rope_scale=1.0)[0])
        self.assertFalse(torch.allclose(m(ids)[0], m(ids, rope_scale=50.0)[0], atol=1e-4))

    def test_init_scales_with_fan_in(self):
        torch.manual_seed(0)
        m = GPT(GPTConfig(n_layer=1, n_head=2, n_embd=64, vocab_size=50, block_size=8))
        self.assertAlmostEqual(m.blocks[0].attn.qkv.weight.std().item(), 64 ** -0.5, delta=0.01)
        self.assertAlmostEqual(m.blocks[0].mlp[2].weight.std().item(), 256 ** -0.5, delta=0.005)

    def test_causal_kernel_matches_the_full_weights(self):
        # Without return_weights the model runs the fused (torch >= 2) or the blocked kernel; with it, full
        # T x T weights. Both must give the same logits, for Softmax and SSMax, across several query blocks.
        m = small_ssmax([0.3, 0.0])  # the second head plain Softmax
        ids = torch.randint(0, 50, (2, 600))
        torch.testing.assert_close(m(ids)[0], m(ids, return_weights=True)[0], atol=1e-5, rtol=1e-4)
        q, k, v = torch.randn(3, 1, 2, 300, 8).unbind(0)
        full = attention_weights(q @ k.transpose(-2, -1) / math.sqrt(8), None) @ v
        torch.testing.assert_close(model_module.blocked_causal_attention(q, k, v, block=64), full)

    @unittest.skipUnless(model_module.FUSED, "torch without scaled_dot_product_attention (Debian's 1.13)")
    def test_fused_attention_matches_the_eager_weights(self):
        m = small_ssmax([0.3, 0.9])
        ids = torch.randint(0, 50, (2, 20))
        fused = m(ids)[0]
        eager = m(ids, return_weights=True)[0]  # return_weights takes the eager path
        torch.testing.assert_close(fused, eager, atol=1e-5, rtol=1e-4)


class Corpus(unittest.TestCase):
    def test_globs_keep_star_inside_a_folder(self):
        sel = prepare.selector(["*.js", "src/**/*.ts"], ["src/vendor/**"])
        self.assertTrue(sel("index.js"))
        self.assertFalse(sel("lib/index.js"))
        self.assertTrue(sel("src/a.ts") and sel("src/x/y/a.ts"))
        self.assertFalse(sel("src/vendor/a.ts"))

    def test_licences_must_be_permissive(self):
        self.assertTrue(prepare.spdx_permissive("MIT"))
        self.assertTrue(prepare.spdx_permissive("(MIT OR Apache-2.0)"))
        self.assertFalse(prepare.spdx_permissive("GPL-3.0-only"))
        self.assertFalse(prepare.spdx_permissive("(MIT OR GPL-2.0)"))
        self.assertFalse(prepare.spdx_permissive(None))

    def test_duplicates_keep_one_copy_and_a_training_copy_wins(self):
        docs = [("a", "x.py", "print(1)\n", True), ("b", "y.py", "print(1)   \n", False), ("b", "z.py", "other\n", True),
                ("c", "w.py", "print(1)\n", False)]
        kept, dropped = prepare.deduplicate(docs)
        self.assertEqual([(d[0], d[1]) for d in kept], [("b", "y.py"), ("b", "z.py")])
        self.assertEqual(dropped, {"a": 1, "c": 1})

    def test_manifest_records_sources_and_splits_by_file_without_shared_content(self):
        with tempfile.TemporaryDirectory() as src, tempfile.TemporaryDirectory() as out:
            for i in range(60):
                with open(os.path.join(src, f"m{i}.py"), "w") as f:
                    f.write(f"def f{i}(x):\n    return x * {i}\n")
            with open(os.path.join(src, "copy.py"), "w") as f:
                f.write("def f0(x):\n    return x * 0\n")
            r = subprocess.run([sys.executable, os.path.join(ROOT, "training", "prepare.py"), "--source", f"mine={src}",
                                "--out", out, "--tokenizer", os.path.join(out, "tok.json"), "--train-tokenizer",
                                "--vocab-size", "300"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(out, "manifest.json")) as f:
                m = json.load(f)
            (s,) = m["sources"]
            self.assertEqual((s["name"], s["files"], s["skipped"]["duplicate"]), ("mine", 60, 1))
            self.assertEqual(m["splits"]["train"]["files"] + m["splits"]["val"]["files"], 60)
            val = prepare.read_jsonl_xz(os.path.join(out, "val.jsonl.xz"))
            train = prepare.read_jsonl_xz(os.path.join(out, "train.jsonl.xz"))
            self.assertTrue(val and not set(val) & set(train))
            self.assertEqual(m["splits"]["val"]["files"], len(val))
            tokens = np.fromfile(os.path.join(out, "val.bin"), dtype=np.uint16)
            self.assertEqual(tokens.size, m["splits"]["val"]["tokens"])
            with lzma.open(os.path.join(out, "val.jsonl.xz"), "rt") as f:
                self.assertTrue(all(prepare.is_validation("mine", json.loads(line)["path"]) for line in f))


class Eval(unittest.TestCase):
    def test_wilson_interval(self):
        lo, hi = evaluation.wilson(50, 200)  # p = 0.25, z = 1.96: 0.2547 -/+ 0.0596
        self.assertAlmostEqual(lo, 0.1951, places=3)
        self.assertAlmostEqual(hi, 0.3143, places=3)
        self.assertEqual(evaluation.wilson(0, 200)[0], 0.0)

    def test_trials_put_the_value_early_and_the_question_last(self):
        tok = bpe.Tokenizer.from_merges(bpe.train(["x = {1: 2}\n"] * 5, 300))
        filler = list(range(100)) * 20
        rnd = evaluation.random.Random(0)
        for fmt in evaluation.FORMATS:
            ids, first, pos = evaluation.make_trial(tok, fmt, filler, 300, rnd)
            self.assertEqual(len(ids), 300)
            self.assertEqual(ids[pos[0]], first)
            self.assertLess(pos[-1], 40)


class Tokenizer(unittest.TestCase):
    def test_training_learns_frequent_merges_and_round_trips(self):
        texts = ["def foo(bar):\n    return bar\n"] * 50 + ["café 😀\n"]
        tok = bpe.Tokenizer.from_merges(bpe.train(texts, 300))
        ids = tok.encode("def foo(bar):")
        self.assertLess(len(ids), len("def foo(bar):"))
        inverse = {v: k for k, v in tok.vocab.items()}
        char_to_byte = {c: b for b, c in bpe.BYTE_TO_CHAR.items()}
        for text in ("def foo(bar):\n", "café 😀\n", "unseen \u2603"):
            raw = bytes(char_to_byte[c] for i in tok.encode(text) for c in inverse[i])
            self.assertEqual(raw.decode("utf-8"), text)


if __name__ == "__main__":
    unittest.main()
