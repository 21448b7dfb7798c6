"""Checks of the screening twin (training/screening.py) against hand-computed cases and a slow loop.
Run: cd training && /usr/bin/python3 -m unittest -v test_screening"""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as model_module  # noqa: E402
from screening import (Multiscreen, ScreenConfig, TrimSquareMask, apply_mipe, mipe_gamma, n_parameters,  # noqa: E402
                       relevance, softmask, tanh_norm)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def unit2(angle, d=4):
    """A unit vector of d coordinates at `angle` in the plane of the first two."""
    v = torch.zeros(d, dtype=torch.float64)
    v[0], v[1] = math.cos(angle), math.sin(angle)
    return v


def one_pair(s, r, distance=0, w=8.0):
    """Relevance of one query-key pair with similarity s at distance i - j."""
    q = unit2(0.0)[None, None, None]
    k = unit2(math.acos(s))[None, None, None]
    pos_q, pos_k = torch.tensor([float(distance)]), torch.tensor([0.0])
    return relevance(q, k, pos_q, pos_k, torch.tensor([w]), torch.tensor([r], dtype=torch.float64))[0, 0, 0, 0].item()


def tiny(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = ScreenConfig(vocab_size=30, n_layer=2, n_head=3, n_embd=9, block_size=12, d_key=4, d_value=5, query_block=4, **kw)
    m = Multiscreen(cfg).eval()
    with torch.no_grad():  # windows of 1.5, 3 and 40 tokens (40 > block_size: infinite under the paper's rule)
        for layer in m.layers:
            layer.s_w.copy_(torch.log(torch.tensor([0.5, 2.0, 39.0])))
            layer.s_r.copy_(torch.tensor([-0.5, 1.0, 2.5]))
            layer.s_o.normal_()
            layer.out.weight.mul_(20)  # layers that matter: at the paper's initial scale they move the logits by 0.02
        m.s_e.fill_(0.3)
    return m


def slow_forward(m, ids, infinite_windows=False):
    """The paper's equations one token, tile and key at a time, from the model's weights; logits (T, V)."""
    cfg = m.cfg
    H, dk, dv = cfg.n_head, cfg.d_key, cfg.d_value
    E = m.wte / m.wte.norm(dim=1, keepdim=True)
    x = [E[t] * math.exp(m.s_e.item()) for t in ids.tolist()]
    T = len(x)
    for layer in m.layers:
        W = layer.qkvg.weight.view(H, 2 * dk + 2 * dv, -1)
        delta = [torch.zeros(cfg.n_embd) for _ in range(T)]
        for h in range(H):
            w = math.exp(layer.s_w[h].item()) + 1
            if infinite_windows and w > cfg.block_size:
                w = math.inf
            r = 1 / (1 + math.exp(-layer.s_r[h].item()))
            gamma = (math.cos(math.pi * w / 256) + 1) / 2 if w < 256 else 0.0
            Wq, Wk, Wv, Wg = W[h, :dk], W[h, dk:2 * dk], W[h, 2 * dk:2 * dk + dv], W[h, 2 * dk + dv:]

            def rot(vec, i):
                a = math.pi * i * gamma / w if gamma else 0.0
                out = vec.clone()
                out[0] = vec[0] * math.cos(a) - vec[1] * math.sin(a)
                out[1] = vec[0] * math.sin(a) + vec[1] * math.cos(a)
                return out

            q = [rot(Wq @ xi / (Wq @ xi).norm(), i) for i, xi in enumerate(x)]
            k = [rot(Wk @ xi / (Wk @ xi).norm(), i) for i, xi in enumerate(x)]
            v = [Wv @ xi / (Wv @ xi).norm() for xi in x]
            for i in range(T):
                hi = torch.zeros(dv)
                for j in range(i + 1):
                    alpha = max(1 - (1 - float(q[i] @ k[j])) / r, 0.0) ** 2
                    mask = (math.cos(math.pi * (j - i) / w) + 1) / 2 if j - i > -w else 0.0
                    hi = hi + alpha * mask * v[j]
                n = hi.norm().item()
                u = hi * (math.tanh(n) / n if n > 0 else 1.0)
                g = Wg @ x[i]
                gate = torch.tanh(g * torch.sigmoid(g))
                z = u * gate * math.exp(layer.s_o[h].item())
                delta[i] = delta[i] + layer.out.weight[:, h * dv:(h + 1) * dv] @ z
        x = [xi + di for xi, di in zip(x, delta)]
    return torch.stack(x) * math.exp(m.s_f.item()) @ E.t()


class Formulas(unittest.TestCase):
    def test_trim_edges(self):
        for r in (0.5, 0.2):
            self.assertAlmostEqual(one_pair(1 - r, r), 0.0, places=12)  # s = 1 - r: just rejected
            self.assertEqual(one_pair(1 - r - 0.1, r), 0.0)
            self.assertAlmostEqual(one_pair(1.0, r), 1.0, places=6)
        self.assertAlmostEqual(one_pair(0.75, 0.5), 0.25, places=6)  # (1 - 0.25 / 0.5)^2

    def test_softmask_edges(self):
        w = torch.tensor([4.0, 3.0, math.inf])
        m = softmask(torch.arange(10.0), torch.arange(10.0), w)  # (H, Tq, Tk)
        self.assertTrue(torch.equal(m[:, 6, 6], torch.ones(3)))   # distance 0
        self.assertEqual(m[0, 6, 2].item(), 0.0)                  # distance w = 4
        self.assertAlmostEqual(m[0, 6, 4].item(), 0.5, places=6)  # distance w / 2
        self.assertAlmostEqual(m[1, 6, 4].item(), (math.cos(2 * math.pi / 3) + 1) / 2, places=6)
        self.assertTrue(torch.equal(m.triu(1), torch.zeros_like(m)))  # never a later key
        self.assertTrue(torch.equal(m[2].tril(), torch.ones(10, 10).tril()))  # w = inf: the whole past

    def test_mipe_gamma_and_rotation(self):
        g = mipe_gamma(torch.tensor([256.0, 300.0, 128.0, 64.0, 0.0]))
        self.assertEqual(g[0].item(), 0.0)
        self.assertEqual(g[1].item(), 0.0)
        self.assertAlmostEqual(g[2].item(), 0.5, places=6)
        self.assertAlmostEqual(g[3].item(), (math.cos(math.pi / 4) + 1) / 2, places=6)
        self.assertEqual(g[4].item(), 1.0)
        w = torch.tensor([64.0, 300.0, math.inf])
        x = torch.randn(1, 3, 7, 5)
        y = apply_mipe(x, w, torch.arange(7.0))
        angle = math.pi * 5 * g[3].item() / 64  # position 5, first tile
        self.assertAlmostEqual(y[0, 0, 5, 0].item(), x[0, 0, 5, 0].item() * math.cos(angle) - x[0, 0, 5, 1].item() * math.sin(angle), places=5)
        self.assertTrue(torch.equal(y[..., 2:], x[..., 2:]))
        self.assertTrue(torch.equal(y[:, 1:], x[:, 1:]))  # w >= 256 and w = inf: no rotation
        # q.k depends on the distance only
        q, k = unit2(0.3)[None, None, None].float().expand(1, 1, 9, 4), unit2(1.1)[None, None, None].float().expand(1, 1, 9, 4)
        s = (apply_mipe(q, w[:1], torch.arange(9.0)) @ apply_mipe(k, w[:1], torch.arange(9.0)).transpose(-2, -1))[0, 0]
        self.assertAlmostEqual(s[5, 2].item(), s[8, 5].item(), places=5)

    def test_tanh_norm_at_zero_and_beyond(self):
        h = torch.zeros(2, 3, requires_grad=True)
        u = tanh_norm(h)
        self.assertTrue(torch.equal(u, torch.zeros(2, 3)))
        u.sum().backward()
        self.assertTrue(torch.isfinite(h.grad).all())
        torch.testing.assert_close(h.grad, torch.ones(2, 3))  # TanhNorm is the identity near 0
        h = torch.tensor([[3.0, 4.0]])
        torch.testing.assert_close(tanh_norm(h), torch.tensor([[0.6, 0.8]]) * math.tanh(5.0))

    def test_trim_square_mask_gradient(self):
        z = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
        m = torch.rand(3, 4, 5, dtype=torch.float64, requires_grad=True)
        self.assertTrue(torch.autograd.gradcheck(TrimSquareMask.apply, (z, m)))
        torch.testing.assert_close(TrimSquareMask.apply(z, m), z.clamp(min=0) ** 2 * m)

    def test_parameter_count_at_psi_11(self):
        cfg = ScreenConfig.from_psi(11)
        self.assertEqual((cfg.n_layer, cfg.n_head, cfg.n_embd), (11, 11, 121))
        m = Multiscreen(cfg)
        self.assertEqual(sum(p.numel() for p in m.parameters()), 3_775_565)
        self.assertEqual(n_parameters(cfg), 3_775_565)

    def test_paper_initialisation(self):
        m = Multiscreen(ScreenConfig.from_psi(4, vocab_size=50))
        torch.testing.assert_close(m.learned_windows()[0], torch.exp(torch.linspace(0, math.log(256), 4)) + 1)
        torch.testing.assert_close(m.learned_acceptance(), torch.full((4, 4), 0.5))
        torch.testing.assert_close(m.layers[0].s_o.exp(), torch.full((4,), 1 / 4.0))  # 1 / sqrt(H L)
        self.assertAlmostEqual(m.s_f.exp().item(), 4.0, places=5)  # sqrt(d_E)
        self.assertEqual(m.s_e.item(), 0.0)


class Forward(unittest.TestCase):
    def test_matches_the_slow_loop(self):
        m = tiny()
        ids = torch.randint(0, 30, (1, 11))
        with torch.no_grad():
            torch.testing.assert_close(m(ids)[0][0], slow_forward(m, ids[0]), atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(m(ids, infinite_windows=True)[0][0], slow_forward(m, ids[0], True),
                                       atol=1e-5, rtol=1e-4)
            self.assertFalse(torch.allclose(m(ids)[0], m(ids, infinite_windows=True)[0], atol=1e-4))

    def test_query_blocks_do_not_change_the_result(self):
        m = tiny()
        ids = torch.randint(0, 30, (2, 23))
        a = m(ids)[0]
        m.cfg.query_block = 64
        torch.testing.assert_close(m(ids)[0], a)

    def test_causal(self):
        m = tiny()
        ids = torch.randint(0, 30, (1, 20))
        changed = ids.clone()
        changed[0, 13] = (ids[0, 13] + 1) % 30
        for inf in (False, True):
            a, b = m(ids, infinite_windows=inf)[0], m(changed, infinite_windows=inf)[0]
            self.assertTrue(torch.equal(a[:, :13], b[:, :13]))
            self.assertFalse(torch.allclose(a[:, 13:], b[:, 13:]))

    def test_relevance_maps_last_rows_and_focus_agree(self):
        m = tiny()
        ids = torch.randint(0, 30, (2, 15))
        maps, w, r = m.relevance_maps(ids)
        self.assertEqual(len(maps), 2)
        self.assertEqual(tuple(maps[0].shape), (2, 3, 15, 15))
        self.assertTrue(torch.equal(maps[1].triu(1), torch.zeros_like(maps[1])))
        self.assertTrue(((maps[0] >= 0) & (maps[0] <= 1)).all())
        torch.testing.assert_close(w, torch.tensor([[1.5, 3.0, 40.0]] * 2))
        self.assertTrue(torch.isinf(m.relevance_maps(ids, infinite_windows=True)[1][:, 2]).all())
        torch.testing.assert_close(r, torch.sigmoid(torch.tensor([[-0.5, 1.0, 2.5]] * 2)))
        logits, rows = m.last_query(ids)
        torch.testing.assert_close(logits, m(ids)[0][:, -1])
        for mp, row, foc in zip(maps, rows, m.focus(ids)):
            torch.testing.assert_close(row, mp[:, :, -1])
            torch.testing.assert_close(foc, mp.amax(-1).mean(1))

    def test_gradients_reach_every_parameter(self):
        m = tiny().train()
        ids = torch.randint(0, 30, (2, 12))
        m(ids[:, :-1], ids[:, 1:])[1].mean().backward()
        for name, p in m.named_parameters():
            self.assertTrue(torch.isfinite(p.grad).all(), name)
            self.assertGreater(p.grad.abs().sum().item(), 0, name)


class Training(unittest.TestCase):
    def test_train_resume_and_load(self):
        with tempfile.TemporaryDirectory() as d:
            (np.arange(4000) % 64).astype(np.uint16).tofile(os.path.join(d, "train.bin"))
            (np.arange(400) % 64).astype(np.uint16).tofile(os.path.join(d, "val.bin"))
            with open(os.path.join(d, "manifest.json"), "w") as f:
                json.dump({"vocab_size": 64}, f)

            def train(*args):
                return subprocess.run([sys.executable, os.path.join(ROOT, "training", "train.py"), "--attention", "screening",
                                       "--data", d, "--psi", "2", "--batch", "2", "--block", "16", "--steps", "4",
                                       "--eval-every", "2", "--save-every", "2", "--keep-every", "2",
                                       "--out", os.path.join(d, "s.pt"), *args],
                                      capture_output=True, text=True)

            r = train("--max-minutes", "0")  # stops after its first step
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("w median", r.stdout)
            r = train("--resume")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("resumed", r.stdout)
            self.assertIn("done", r.stdout)
            m, ckpt = model_module.load_checkpoint(os.path.join(d, "s.pt"))
            self.assertIsInstance(m, Multiscreen)
            self.assertEqual((m.cfg.n_layer, m.cfg.n_head, m.cfg.n_embd), (2, 2, 4))
            self.assertEqual(ckpt["step"], 4)
            self.assertEqual(ckpt["train_args"]["weight_decay"], 0.0)
            self.assertEqual(sorted(f for f in os.listdir(d) if "-step" in f), ["s-step2.pt", "s-step4.pt"])
            self.assertEqual(torch.load(os.path.join(d, "s-step4.pt"), weights_only=False)["model"].keys(),
                             ckpt["model"].keys())

    def test_eval_beside_a_softmax_twin(self):
        with tempfile.TemporaryDirectory() as d:
            rng = np.random.default_rng(0)
            rng.integers(0, 4096, 6000).astype(np.uint16).tofile(os.path.join(d, "val.bin"))
            with open(os.path.join(d, "manifest.json"), "w") as f:
                json.dump({"vocab_size": 4096, "splits": {"val": {"files": 3}}}, f)
            torch.manual_seed(0)
            soft = model_module.GPT(model_module.GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=64))
            scr = Multiscreen(ScreenConfig.from_psi(2, block_size=64))
            for name, m in (("soft.pt", soft), ("scr.pt", scr)):
                model_module.save_checkpoint(os.path.join(d, name), m, {})
            r = subprocess.run([sys.executable, os.path.join(ROOT, "training", "eval.py"), "--data", d, "--modes", "softmax",
                                "--softmax", os.path.join(d, "soft.pt"), "--screening", os.path.join(d, "scr.pt"),
                                "--windows", "2", "--selection-windows", "1", "--trials", "2", "--factors", "5,10",
                                "--formats", "py-dict", "--card", "", "--out", os.path.join(d, "res.json"),
                                "--table", os.path.join(d, "table.md")], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(d, "res.json")) as f:
                res = json.load(f)
            self.assertEqual(list(res["results"]), ["softmax", "screening"])
            scr_res = res["results"]["screening"]
            self.assertEqual(set(scr_res["loss"]), {"learned-w", "inf-w"})
            cell = scr_res["retrieval"]["inf-w"]["py-dict"]["16x"]
            self.assertEqual(np.array(cell["needle_relevance_per_tile"]).shape, (2, 2))
            self.assertEqual(len(res["screening"]["w"]), 2)
            with open(os.path.join(d, "table.md")) as f:
                table = f.read()
            self.assertIn("| screening | none (w = inf beyond 64) |", table)


if __name__ == "__main__":
    unittest.main()
