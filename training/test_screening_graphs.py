"""The screening twin's graph pieces (training/screening_graphs.py) run the way the engine runs them,
block by block from the first key bin a block can see, and agree with Multiscreen.forward and its
relevance maps (screening_reference). The ONNX files themselves are checked against the same
reference by test/engine/screening.test.ts.

    cd training && /usr/bin/python3 -m unittest -v test_screening_graphs
"""
import json
import math
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from screening import Multiscreen, ScreenConfig  # noqa: E402
from screening_graphs import (ScreeningAdapter, ScreeningGraph, ScreeningRowsGraph, export_screening_graphs,  # noqa: E402
                              export_screening_variant, run_windows, screening_reference)

K, POOLED = 8, 16


def small(psi=3, seed=0):
    """A random Multiscreen, training length 64, windows from 1.5 to 200 tokens (two beyond 64)."""
    torch.manual_seed(seed)
    m = Multiscreen(ScreenConfig.from_psi(psi, vocab_size=60, block_size=64, d_key=8, d_value=6, query_block=16)).eval()
    with torch.no_grad():
        for layer in m.layers:
            layer.s_w.copy_(torch.log(torch.linspace(0.5, 199.0, psi)))
            layer.s_r.normal_(0.5, 1.0)
            layer.s_o.normal_()
            layer.out.weight.mul_(20)  # layers that move the logits
    return m


def engine_like(model, ids, rows_per_block=7):
    """The engine's loop (layered-run.ts) over the torch pieces: per layer the projection, screening
    blocks fed from the bin holding key a - ceil(max w) + 1, then the output; summaries per [l, h, i]."""
    adapter = ScreeningAdapter(model)
    T = ids.shape[0]
    L, H = adapter.layers, adapter.heads
    bin_size = math.ceil(T / POOLED)
    bins = math.ceil(T / bin_size)
    padded = math.ceil(max(T, K) / bin_size) * bin_size + math.ceil(K / bin_size) * bin_size
    pos = torch.arange(T)
    windows = run_windows(model, T)
    r = model.learned_acceptance()
    graph = ScreeningGraph(K)
    out = {name: np.zeros((L, H, T)) for name in ("focus", "pass_count", "total", "distance")}
    out["topk_relevance"] = np.zeros((L, H, T, K))
    out["distance_mass"] = np.zeros((L, H, T, 6))
    out["pooled"] = np.zeros((L, H, bins, bins))
    with torch.no_grad():
        x = adapter.embed(ids, pos)
        for l in range(L):
            w = windows[l]
            q, k, v, g = adapter.project(l, x, pos, w)
            kp = torch.zeros(padded, adapter.heads * adapter.d_key)
            vp = torch.zeros(padded, adapter.heads * adapter.d_value)
            kp[:T], vp[:T] = k, v
            reach = math.inf if math.isinf(w.max().item()) else math.ceil(w.max().item())
            h = torch.zeros(T, H * adapter.d_value)
            for a in range(0, T, rows_per_block):
                e = min(T, a + rows_per_block)
                k0 = int(max(0, a - reach + 1) // bin_size * bin_size)
                end = max(math.ceil(max(e, K) / bin_size) * bin_size, k0 + math.ceil(K / bin_size) * bin_size)
                qb = q[a:e].reshape(e - a, H, -1).transpose(0, 1)
                res = graph(qb, pos[a:e] - k0, kp[k0:end].reshape(end - k0, H, -1), vp[k0:end].reshape(end - k0, H, -1), w, r[l],
                            torch.zeros(bin_size))
                hb, focus, passing, total, dist, index, top, pooled, mass = res
                h[a:e] = hb
                for name, val in (("focus", focus), ("pass_count", passing), ("total", total), ("distance", dist)):
                    out[name][l, :, a:e] = val.numpy()
                out["topk_relevance"][l, :, a:e] = top.numpy()
                out["distance_mass"][l, :, a:e] = mass.numpy()
                for i in range(a, e):
                    qb_ = i // bin_size
                    for c in range(min(pooled.shape[-1], bins - k0 // bin_size)):
                        cell = (l, slice(None), qb_, k0 // bin_size + c)
                        out["pooled"][cell] = np.maximum(out["pooled"][cell], pooled[:, i - a, c].numpy())
            x = adapter.out(l, x, h, g)
        lse, target = adapter.head(x, torch.roll(ids, -1))
    out["surprisal"] = np.concatenate([[0.0], (lse - target).double().numpy()[:-1]])
    return out


class Pieces(unittest.TestCase):
    def test_engine_loop_equals_the_model_at_every_length(self):
        model = small()
        gen = torch.Generator().manual_seed(3)
        for T in (1, 5, 64, 100, 150):  # 64: the training length; beyond it the w = inf rule
            ids = torch.randint(0, 60, (T,), generator=gen)
            ref = screening_reference(model, ids, [0, T - 1], K, POOLED)
            got = engine_like(model, ids)
            worst = {name: float(np.abs(got[name] - ref[name]).max()) for name in got}
            for name, err in worst.items():
                self.assertLess(err, 1e-4, f"T = {T}, {name}: {worst}")

    def test_w_rule_beyond_the_training_length(self):
        model = small()
        w64, w65 = run_windows(model, 64), run_windows(model, 65)
        torch.testing.assert_close(w64, model.learned_windows())
        self.assertTrue(torch.isinf(w65[:, 1:]).all(), "w = 100.75 and 200 > 64: infinite beyond 64 tokens")
        torch.testing.assert_close(w65[:, 0], w64[:, 0])

    def test_relevance_facts(self):
        model = small()
        ids = torch.randint(0, 60, (40,), generator=torch.Generator().manual_seed(5))
        ref = screening_reference(model, ids, list(range(40)), K, POOLED)
        R = ref["rows"]
        self.assertTrue(((R >= 0) & (R <= 1 + 1e-6)).all())
        self.assertTrue((np.triu(R, 1) == 0).all(), "causal")
        np.testing.assert_allclose(ref["distance_mass"].sum(-1), ref["total"], atol=1e-9)
        # The narrowest tile (w = 1.5) sees its own key and the previous one only.
        self.assertTrue((np.tril(R[:, 0], -2) == 0).all())
        self.assertTrue((ref["pass_count"] <= np.arange(1, 41)).all())

    def test_rows_graph_equals_the_relevance_maps(self):
        model = small()
        T = 30
        ids = torch.randint(0, 60, (T,), generator=torch.Generator().manual_seed(6))
        adapter = ScreeningAdapter(model)
        ref = screening_reference(model, ids, [3, 17, 29], K, POOLED)
        with torch.no_grad():
            x = adapter.embed(ids, torch.arange(T))
            q, k, v, g = adapter.project(0, x, torch.arange(T), run_windows(model, T)[0])
            H = adapter.heads
            rows = ScreeningRowsGraph()(q[[3, 17, 29]].reshape(3, H, -1).transpose(0, 1), torch.tensor([3, 17, 29]),
                                        k.reshape(T, H, -1), run_windows(model, T)[0], model.learned_acceptance()[0])
        np.testing.assert_allclose(rows.numpy(), ref["rows"][0], atol=1e-6)

    def test_export_writes_the_graphs_and_the_variant(self):
        model = small(psi=2)
        with tempfile.TemporaryDirectory() as d:
            export_screening_variant(model, os.path.join(d, "screening"))
            export_screening_graphs(K, d)
            names = sorted(os.listdir(os.path.join(d, "screening")))
            self.assertEqual(names, ["embed.onnx", "head.onnx", "layer0.out.onnx", "layer0.proj.onnx", "layer1.out.onnx", "layer1.proj.onnx"])
            self.assertTrue(os.path.isfile(os.path.join(d, "screening.onnx")) and os.path.isfile(os.path.join(d, "screening-rows.onnx")))
            entry = json.loads(json.dumps(ScreeningAdapter(model).variant("screening")))
        self.assertEqual(entry["dims"], {"layers": 2, "heads": 2, "kvHeads": 2, "headDim": 8, "valueDim": 6, "width": 4,
                                         "layerParameters": 4 * 2 * (8 + 8 + 6 + 6) + 2 * 6 * 4 + 3 * 2,
                                         "parameters": sum(p.numel() for p in model.parameters()), "trainContext": 64})
        self.assertEqual(np.array(entry["window"]).shape, (2, 2))
        self.assertAlmostEqual(entry["acceptance"][0][0], float(model.learned_acceptance()[0, 0]), places=5)


if __name__ == "__main__":
    unittest.main()
