"""Checks of the training pipeline that need PyTorch. Run: /usr/bin/python3 -m unittest -v training/test_training.py"""
import math
import os
import subprocess
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
from model import GPT, GPTConfig, attention_weights  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def figure1_max_weight(n, s):
    """The paper's Figure 1 input: n logits, all -2 but one +3, seen by the query at position n - 1."""
    att = torch.zeros(1, n, n)
    att[0, n - 1, :] = -2.0
    att[0, n - 1, 0] = 3.0
    w = attention_weights(att, None if s is None else torch.tensor([s]))
    return w[0, n - 1].max().item()


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
                                   "--tokenizer-out", os.path.join(out, "tok.json"), "--vocab-size", "300", *args],
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
