"""The adapter pieces that the exported graphs are made of agree with the training model.

    /usr/bin/python3 -m unittest -v training/test_graphs.py
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rope_rule  # noqa: E402
from graphs import (AttentionGraph, GPTAdapter, SplitAttentionGraph, WindowAttentionGraph, WindowRowsGraph, ATTENTION_OUTPUTS,  # noqa: E402
                    reference, write_manifest)
from model import GPT, GPTConfig  # noqa: E402


def small(attention):
    torch.manual_seed(3)
    model = GPT(GPTConfig(vocab_size=50, n_layer=2, n_head=2, n_embd=16, block_size=8, attention=attention, top_k=4, pooled_size=4))
    model.eval()
    if attention == "ssmax":
        for b in model.blocks:
            b.attn.s.data = torch.tensor([0.3, 0.6])
    return model


class AdapterMatchesModel(unittest.TestCase):
    def test_weights_and_surprisal_equal_the_training_forward(self):
        for attention in ("softmax", "ssmax"):
            model = small(attention)
            ids = torch.randint(0, 50, (11,), generator=torch.Generator().manual_seed(1))
            s = model.learned_s()
            ref = reference(GPTAdapter(model), ids, s, 1.0, [0, 5, 10], 4, 4)
            with torch.no_grad():
                logits, _, weights = model(ids[None], return_weights=True)
            W = np.stack([w[0].double().numpy() for w in weights])
            np.testing.assert_allclose(ref["focus"], W.max(-1), atol=1e-5, err_msg=attention)
            np.testing.assert_allclose(ref["rows"], W[:, :, [0, 5, 10], :], atol=1e-5, err_msg=attention)
            logp = torch.log_softmax(logits[0].double(), -1)
            surprisal = [0.0] + [float(-logp[t - 1, ids[t]]) for t in range(1, 11)]
            np.testing.assert_allclose(ref["surprisal"], surprisal, atol=1e-4, err_msg=attention)

    def test_manifest_counts_one_layers_weights(self):
        # Tied embeddings: parameters = layers x layerParameters + one vocabulary matrix + ln_f.
        model = small("softmax")
        with tempfile.TemporaryDirectory() as d:
            write_manifest(d, "small", GPTAdapter(model), {"softmax": {"dir": "softmax"}}, 4, 4, rope_rule.fixed(50.0))
            with open(os.path.join(d, "models.json")) as f:
                manifest = json.load(f)
        per_layer = sum(p.numel() for p in model.blocks[1].parameters())
        self.assertEqual(manifest["layerParameters"], per_layer)
        self.assertEqual(per_layer, 2 * 16 + 3 * 16 * 16 + 16 * 16 + 2 * 16 + (16 * 64 + 64) + (64 * 16 + 16))
        self.assertEqual(manifest["parameters"], 2 * per_layer + 50 * 16 + 2 * 16)

    def test_rope_scale_multiplies_the_base(self):
        model = small("softmax")
        adapter = GPTAdapter(model)
        x = torch.randn(6, 16)
        pos = torch.arange(6)
        s = torch.zeros(2)
        _, k1, _ = adapter.qkv(0, x, pos, s, torch.tensor(1.0))
        _, k50, _ = adapter.qkv(0, x, pos, s, torch.tensor(50.0))
        model.cfg.rope_base *= 50
        _, k_base, _ = GPTAdapter(model).qkv(0, x, pos, s, torch.tensor(1.0))
        torch.testing.assert_close(k50, k_base)
        torch.testing.assert_close(k1[0], k50[0])  # position 0 is not rotated
        self.assertGreater((k1[1:] - k50[1:]).abs().max().item(), 1e-2)


def bucket_mass(w, pos):
    """(..., T) rows of queries pos -> (..., 6) float64 mass per distance bucket, key by key."""
    d = pos[:, None] - np.arange(w.shape[-1])[None, :]
    edges = [0, 1, 8, 64, 512, 4096, np.inf]
    return np.stack([np.where((d >= lo) & (d < hi), w, 0).sum(-1) for lo, hi in zip(edges, edges[1:])], -1)


class AttentionGraphMaths(unittest.TestCase):
    def test_distance_mass_is_exact_at_every_edge(self):
        # 4,200 keys, bins of 17 keys: queries near each bucket edge (4096, 512, 64, 8, 1 tokens
        # back), in both graphs, against the rows summed key by key in float64.
        torch.manual_seed(2)
        G, hs, K, bin_size = 2, 8, 3, 17
        a, e = 4131, 4131 + 34
        T = e + 17  # padding past the last query
        q, k, v = torch.randn(G, e, hs), torch.randn(T, hs), torch.randn(T, hs)
        # Keys 0..39 and the last 100 draw most of each row, so that every bucket holds mass.
        q = q * 0.3
        q[..., 0], k[:, 0] = 1.0, torch.where(torch.arange(T) < 40, 6.0, 0.0) + torch.where(torch.arange(T) >= a - 66, 4.0, 0.0)
        pos = torch.arange(T)
        vkp = torch.cat([v, k, pos.float()[:, None]], dim=-1)
        z = q[:, a:] @ k.t()
        w = z.masked_fill(pos[None, None, :] > pos[None, a:e, None], float("-inf")).softmax(-1).double().numpy()
        want = bucket_mass(w, np.arange(a, e))
        P = a // bin_size * bin_size
        whole = AttentionGraph(K)(q[:, a:], pos[a:e], k[:P], k[P:], vkp, torch.zeros(bin_size))
        split = SplitAttentionGraph(K)(q[:, a:], pos[a:e], k[:P], vkp[:P], k[P:], vkp[P:], torch.zeros(bin_size))
        for name, out in (("whole", whole), ("split", split)):
            got = dict(zip(ATTENTION_OUTPUTS, out))
            np.testing.assert_allclose(got["distance_mass"].double().numpy(), want, atol=1e-6, err_msg=name)
            # One query per bin: the block's queries at multiples of 17, full rows.
            at = [i - a for i in range(a, e) if i % bin_size == 0]
            np.testing.assert_allclose(got["sample_rows"].double().numpy(), w[:, at], atol=1e-6, err_msg=name)
        self.assertGreater(want.min(), 1e-4, "every bucket holds mass")

    def test_blocked_summaries_equal_full_rows(self):
        torch.manual_seed(0)
        G, hs, K, T, a = 2, 8, 3, 10, 6  # a block of queries 6..9 of two heads sharing one kv head
        q, k, v = torch.randn(G, T, hs), torch.randn(T, hs), torch.randn(T, hs)
        pos = torch.arange(T)
        vkp = torch.cat([v, k, pos.float()[:, None]], dim=-1)
        y, focus, entropy, distance, ti, tw, pooled, mass, sample = AttentionGraph(K)(q[:, a:], pos[a:], k[:4], k[4:], vkp, torch.zeros(5))
        z = q @ k.t()  # (G, T, T)
        w = z.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf")).softmax(-1)[:, a:]
        torch.testing.assert_close(focus, w.max(-1).values)
        torch.testing.assert_close(entropy, -(w * torch.log(w.clamp_min(1e-30))).sum(-1), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(distance, (w * (pos[a:, None] - pos[None, :]).float()).sum(-1), atol=1e-4, rtol=1e-5)
        torch.testing.assert_close(tw, w.topk(K, -1).values)
        torch.testing.assert_close(y, w @ v, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(pooled, w.reshape(G, 4, 2, 5).amax(-1))
        np.testing.assert_allclose(mass.double().numpy(), bucket_mass(w.double().numpy(), np.arange(a, T)), atol=1e-6)
        self.assertEqual(tuple(sample.shape), (G, 0, T))  # no query of 6..9 is a multiple of the bin

    def test_split_block_equals_the_whole_block(self):
        torch.manual_seed(1)
        G, hs, K, T, a, P = 2, 8, 3, 24, 14, 12  # queries 14..23; past keys 0..11 all visible to them
        q, k, v = torch.randn(G, T, hs), torch.randn(T, hs), torch.randn(T, hs)
        pos = torch.arange(T)
        vkp = torch.cat([v, k, pos.float()[:, None]], dim=-1)
        whole = AttentionGraph(K)(q[:, a:], pos[a:], k[:P], k[P:], vkp, torch.zeros(4))
        split = SplitAttentionGraph(K)(q[:, a:], pos[a:], k[:P], vkp[:P], k[P:], vkp[P:], torch.zeros(4))
        for name, x, y in zip(ATTENTION_OUTPUTS, whole, split):
            if name == "topk_index":
                self.assertTrue(torch.equal(x, y), name)
            else:
                torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-5, msg=name)


def window_rows(q, k, w):
    """(G, T, T) softmax rows of query i over keys i - w + 1 .. i."""
    T = k.shape[0]
    visible = torch.ones(T, T, dtype=torch.bool).tril() & ~torch.ones(T, T, dtype=torch.bool).tril(-w)
    return (q @ k.t()).masked_fill(~visible, float("-inf")).softmax(-1)


class WindowGraphMaths(unittest.TestCase):
    def test_window_block_fed_from_a_bin_equals_masked_rows(self):
        # Queries 21..28 of a layer with window 7 see keys 15..28: the engine feeds keys from 12
        # (the bin of 4 that holds key 15) to 32, positions counted from key 12.
        torch.manual_seed(4)
        G, hs, K, T, w, bin_size = 2, 8, 3, 32, 7, 4
        a, e, k0 = 21, 29, 12
        q, k, v = torch.randn(G, T, hs), torch.randn(T, hs), torch.randn(T, hs)
        pos = torch.arange(T)
        vkp = torch.cat([v, k, pos.float()[:, None]], dim=-1)
        first = torch.clamp(pos[a:e] - w + 1, min=0)
        out = WindowAttentionGraph(K)(q[:, a:e], pos[a:e] - k0, first - k0, k[k0:], vkp[k0:], torch.zeros(bin_size))
        got = dict(zip(ATTENTION_OUTPUTS, out))
        rows = window_rows(q, k, w)[:, a:e]  # (G, B, T), absolute keys
        self.assertEqual(float(rows[..., :k0].abs().max()), 0.0, "the skipped bins hold no visible key")
        torch.testing.assert_close(got["focus"], rows.max(-1).values)
        torch.testing.assert_close(got["y"], rows @ v, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(got["entropy"], -(rows * torch.log(rows.clamp_min(1e-30))).sum(-1), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(got["distance"], (rows * (pos[a:e, None] - pos[None, :]).float()).sum(-1), atol=1e-5, rtol=1e-5)
        top = rows.topk(K, -1)
        torch.testing.assert_close(got["topk_weight"], top.values)
        self.assertTrue(torch.equal(got["topk_index"] + k0, top.indices))
        torch.testing.assert_close(got["pooled"], rows.reshape(G, e - a, -1, bin_size).amax(-1)[..., k0 // bin_size:])
        np.testing.assert_allclose(got["distance_mass"].double().numpy(), bucket_mass(rows.double().numpy(), np.arange(a, e)), atol=1e-6)
        at = [i - a for i in range(a, e) if i % bin_size == 0]  # 24 and 28
        torch.testing.assert_close(got["sample_rows"], rows[:, at, k0:])
        full = WindowRowsGraph()(q[:, a:e], pos[a:e], first, k)
        torch.testing.assert_close(full, rows)

    def test_window_wider_than_the_text_is_full_attention(self):
        torch.manual_seed(5)
        G, hs, K, T = 2, 8, 3, 12
        q, k, v = torch.randn(G, T, hs), torch.randn(T, hs), torch.randn(T, hs)
        pos = torch.arange(T)
        vkp = torch.cat([v, k, pos.float()[:, None]], dim=-1)
        window = WindowAttentionGraph(K)(q, pos, torch.zeros(T, dtype=torch.int64), k, vkp, torch.zeros(4))
        whole = AttentionGraph(K)(q, pos, k[:1], k[1:], vkp, torch.zeros(4))
        for name, x, y in zip(ATTENTION_OUTPUTS, window, whole):
            if name == "topk_index":
                self.assertTrue(torch.equal(x, y), name)
            else:
                torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-5, msg=name)

    def test_reference_masks_the_window_and_counts_the_keys_seen_for_ssmax(self):
        model = small("ssmax")
        adapter = GPTAdapter(model)
        T, w = 11, 4
        ids = torch.randint(0, 50, (T,), generator=torch.Generator().manual_seed(6))
        s = model.learned_s()
        ref = reference(adapter, ids, s, 1.0, list(range(T)), 4, 4, windows=[w, None])
        pos = torch.arange(T)
        with torch.no_grad():
            x = adapter.embed(ids, pos)
            q, k, _ = adapter.qkv(0, x, pos, torch.zeros(2), torch.tensor(1.0))
        n = torch.clamp(pos + 1, max=w).float()
        qh = q.view(T, 2, 8).transpose(0, 1) * (s[0][:, None] * torch.log(n)[None, :])[:, :, None]
        want = window_rows(qh, k.view(T, 2, 8).transpose(0, 1)[0], w)  # small(): 2 heads, 2 kv heads; head 0's keys
        np.testing.assert_allclose(ref["rows"][0, 0], want[0].double().numpy(), atol=1e-6)
        self.assertEqual(np.abs(np.triu(ref["rows"][1, 0], 1)).max(), 0.0)
        self.assertGreater(ref["rows"][1, 0, T - 1, 0], 0.0, "the full layer sees key 0")
        # Without the keys-seen factor, the same rows as the adapter's n = i + 1.
        plain = reference(adapter, ids, s, 1.0, list(range(T)), 4, 4, windows=[w, None], ssmax_keys_seen=False)
        np.testing.assert_allclose(plain["rows"][0, 0, :w], ref["rows"][0, 0, :w], atol=1e-6)
        self.assertGreater(np.abs(plain["rows"][0, 0, w:] - ref["rows"][0, 0, w:]).max(), 1e-4)


if __name__ == "__main__":
    unittest.main()
