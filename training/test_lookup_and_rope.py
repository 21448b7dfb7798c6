"""The key lookup data (training/lookup_data.py) and the per-length RoPE rule (training/rope_rule.py).
No PyTorch needed. Run: /usr/bin/python3 -m unittest -v training/test_lookup_and_rope.py"""
import os
import random
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import eval as evaluation  # noqa: E402
import lookup_data  # noqa: E402
import rope_rule  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOK = bpe.Tokenizer.load(os.path.join(ROOT, "models", "tokenizer.json"))
INVERSE = {v: k for k, v in TOK.vocab.items()}
CHAR_TO_BYTE = {c: b for b, c in bpe.BYTE_TO_CHAR.items()}


def text(ids):
    return bytes(CHAR_TO_BYTE[c] for i in ids for c in INVERSE[int(i)]).decode("utf-8", "replace")


with open(os.path.join(ROOT, "samples", "inventory.py"), encoding="utf-8") as f:
    SAMPLE = np.asarray(TOK.encode(f.read()), dtype=np.int64)


def filler(n):
    return SAMPLE[:n].copy()


class LookupData(unittest.TestCase):
    def test_each_query_names_a_bound_value_that_follows_it(self):
        for seed in range(40):
            rnd = random.Random(seed)
            bindings, queries, _ = lookup_data.episode(TOK, rnd)
            window = filler(512)
            ids, answers = lookup_data.splice(window, bindings, queries, rnd)
            self.assertEqual(len(ids), 512)
            self.assertEqual(len(answers), len(queries))
            for (prefix, value, _), at in zip(queries, answers):
                self.assertEqual(list(ids[at - len(prefix):at + len(value)]), prefix + value)
                bound = [b for b in bindings if text(value).strip() in text(b)]
                self.assertTrue(bound, f"the value {text(value)!r} is bound before it is asked for")
                first = min(ids.tolist().index(b[0]) for b in bound)
                self.assertLess(first, at)

    def test_several_bindings_compete_and_the_query_differs_from_its_binding(self):
        counts = []
        for seed in range(60):
            bindings, queries, _ = lookup_data.episode(TOK, random.Random(seed))
            counts.append(len(bindings))
            values = {text(v).strip() for _, v, _ in queries}
            for prefix, value, _ in queries:
                binding = next(b for b in bindings if text(value).strip() in text(b))
                # copying the binding's text does not answer: the query's words are not the binding's
                self.assertNotIn(text(prefix).strip(), text(binding))
            self.assertLessEqual(len(values), len(queries))
        self.assertGreaterEqual(min(counts), 3)
        self.assertLessEqual(max(counts), 6)

    def test_the_eval_formats_stay_out_of_training(self):
        for seed in range(300):
            bindings, queries, _ = lookup_data.episode(TOK, random.Random(seed), "train")
            joined = "".join(text(b) for b in bindings) + "".join(text(p) for p, _, _ in queries)
            self.assertNotIn("assert.equal(", joined)
            self.assertNotIn("assert ", joined)  # py-dict asks with `assert V["key"] ==`
            for b in bindings:  # py-dict and js-object bind in a one-line literal
                line = text(b).strip().splitlines()[0]
                self.assertFalse(line.endswith("}") or line.endswith("};"), line)
        for fmt in ("py-dict", "js-object"):
            pre, _, tail = evaluation.FORMATS[fmt]("CODES", "key_abcdef")
            self.assertTrue(tail.lstrip().startswith("assert"))

    def test_held_out_pairs_are_asked_only_in_the_held_out_split(self):
        seen = {"train": set(), "heldout": set()}
        for seed in range(400):
            for split in seen:
                _, _, pairs = lookup_data.episode(TOK, random.Random(seed), split)
                self.assertEqual(pairs[0] in lookup_data.HELD_OUT_PAIRS, split == "heldout")
                self.assertTrue(all(p not in lookup_data.HELD_OUT_PAIRS for p in pairs[1:]))
                seen[split].update(pairs)
        self.assertEqual(seen["heldout"] & lookup_data.HELD_OUT_PAIRS, lookup_data.HELD_OUT_PAIRS)
        self.assertFalse(seen["train"] & lookup_data.HELD_OUT_PAIRS)

    def test_share_and_seed(self):
        x = np.stack([filler(513)] * 40)
        before = x.copy()
        changed = lookup_data.add_lookups(x, np.random.default_rng(0), 0.5, TOK)
        rows = {r for r, _ in changed}
        self.assertTrue(10 <= len(rows) <= 30)
        for r in range(40):
            self.assertEqual(r in rows, not np.array_equal(x[r], before[r]))
        y = np.stack([filler(513)] * 40)
        lookup_data.add_lookups(y, np.random.default_rng(0), 0.5, TOK)
        self.assertTrue(np.array_equal(x, y), "the same seed gives the same windows")

    def test_a_window_too_short_for_any_episode_is_refused_clearly(self):
        with self.assertRaisesRegex(ValueError, "more than 5"):
            lookup_data.episode(TOK, random.Random(0), max_tokens=5)


class RopeRule(unittest.TestCase):
    def test_training_base_up_to_the_context_then_the_band_that_holds_the_length(self):
        rule = rope_rule.per_length([(1024, 10), (2048, 20), (None, 50)])
        got = [rope_rule.scale_for(T, 512, rule) for T in (1, 512, 513, 1024, 1025, 2048, 2049, 10 ** 6)]
        self.assertEqual(got, [1.0, 1.0, 10.0, 10.0, 20.0, 20.0, 50.0, 50.0])
        self.assertEqual(rope_rule.scale_for(600, 512, rope_rule.fixed(50)), 50.0)
        self.assertEqual(rope_rule.describe(rule), "x10 to 1,024, x20 to 2,048, x50 beyond")

    def test_the_last_band_must_be_open(self):
        with self.assertRaises(AssertionError):
            rope_rule.per_length([(1024, 10)])


if __name__ == "__main__":
    unittest.main()
