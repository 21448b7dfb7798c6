"""The screening twin (training/screening.py, Multiscreen) as a model folder's layered graphs
(models/README.md, "Screening variants"): per layer a projection graph and an output graph, and two
weights-free graphs, `screening.onnx` (a block of queries against the keys they can see, reduced to
per-query relevance summaries) and `screening-rows.onnx` (full relevance rows of chosen queries).

Every tile of a layer has its own q, k, v (no grouping), so one call covers all H tiles. Keys come
as the projection graph writes them, [key, tile, d], so a block's keys are one slice of the engine's
buffer. Window w and acceptance r are inputs: the engine feeds w = inf for tiles whose learned w
exceeds the training length when the inspected length does (the paper's rule, screening.py
`infinite_windows`), and the projection graph needs w too (MiPE turns off at w = inf).

    /usr/bin/python3 training/export.py --screening CKPT --tokenizer models/tokenizer.json --out models
"""
import math
import os

import numpy as np
import torch
import torch.nn as nn

from graphs import EDGES, _export, _Piece, distance_mass, head_from_logits

SCREENING_OUTPUTS = ["h", "focus", "pass_count", "total", "distance", "topk_index", "topk_relevance", "pooled", "distance_mass"]


def trim_square_mask(q, k, q_pos, k_pos, w, r):
    """alpha * m (H, B, Tk) for q (H, B, dK), k (H, Tk, dK), positions as floats: screening.relevance's
    formula and order of operations, written with plain ops for the export (no autograd Function)."""
    inv = 1 / r[:, None, None]
    z = (q * inv) @ k.transpose(-2, -1) + (1 - inv)
    d = k_pos[None, None, :] - q_pos[None, :, None]  # j - i
    wb = w[:, None, None]
    m = (torch.cos(math.pi * d / wb) + 1) / 2
    m = torch.where((d <= 0) & (d > -wb), m, torch.zeros_like(m))
    p = z.clamp(min=0)
    return p * m * p


class ScreeningGraph(nn.Module):
    """One block of B queries of every tile against the keys fed (from a multiple of the pooling bin
    that the block's widest window needs); q_pos counts from the first key fed, as do the key indices
    and bins returned. Relevance is absolute: nothing is normalised."""

    def __init__(self, top_k):
        super().__init__()
        self.K = top_k

    def forward(self, q, q_pos, k, v, window, acceptance, pool_template):
        H, B, dk = q.shape  # traced dimensions
        key_pos = torch.arange(k.shape[0], dtype=torch.int64)
        rel = trim_square_mask(q, k.transpose(0, 1), q_pos.float(), key_pos.float(), window, acceptance)  # (H, B, Tk)
        h = (rel @ v.transpose(0, 1)).transpose(0, 1).reshape(B, -1)  # (B, H*dV): sum_j alpha m v_j
        rows = rel.reshape(H * B, -1)
        top, index = rows.topk(self.K, dim=-1)
        total = rows.sum(-1)
        passing = (rows > 0).float().sum(-1)
        back = (q_pos[:, None] - key_pos[None, :]).float()  # (B, Tk) tokens back
        mean_back = (rel * back).sum(-1).reshape(-1)  # relevance-weighted, over all keys; < 0 never
        distance = torch.where(total > 0, mean_back / torch.where(total > 0, total, torch.ones_like(total)), torch.zeros_like(total))
        bin_size = pool_template.shape[0]
        pooled = rows.reshape(H * B, -1, bin_size).amax(dim=-1)
        mass = distance_mass([(rows, 0, None)], q_pos.repeat(H), bin_size)
        return (h, top[:, 0].reshape(H, B), passing.reshape(H, B), total.reshape(H, B), distance.reshape(H, B),
                index.reshape(H, B, -1), top.reshape(H, B, -1), pooled.reshape(H, B, -1), mass.reshape(H, B, -1))


class ScreeningRowsGraph(nn.Module):
    """Full relevance rows (H, R, Tk) of chosen queries (absolute positions) against keys 0 .. Tk - 1."""

    def forward(self, q, q_pos, k, window, acceptance):
        key_pos = torch.arange(k.shape[0], dtype=torch.int64)
        return trim_square_mask(q, k.transpose(0, 1), q_pos.float(), key_pos.float(), window, acceptance)


class ScreeningAdapter(nn.Module):
    """Row-wise pieces of a Multiscreen; rows are tokens, no batch axis."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        cfg = model.cfg
        self.layers, self.heads, self.width = cfg.n_layer, cfg.n_head, cfg.n_embd
        self.d_key, self.d_value, self.vocab_size = cfg.d_key, cfg.d_value, cfg.vocab_size

    def embed(self, input_ids, positions):  # (B,) -> (B, E)
        return self.model.embed()[input_ids] * self.model.s_e.exp()

    def project(self, layer, x, positions, window):
        """-> q, k (B, H*dK) unit and MiPE-rotated, v (B, H*dV) unit, g (B, H*dV)."""
        q, k, v, g = self.model.layers[layer].project(x[None], window, positions.float())  # (1, H, B, d)
        B = x.shape[0]
        return tuple(t[0].transpose(0, 1).reshape(B, -1) for t in (q, k, v, g))

    def out(self, layer, x, h, g):
        B, H, dv = x.shape[0], self.heads, self.d_value
        per_tile = lambda t: t.reshape(B, H, dv).transpose(0, 1)[None]  # noqa: E731  (1, H, B, dV)
        return self.model.layers[layer].output(per_tile(h), per_tile(g), x[None])[0]

    def head(self, x, next_ids):
        E = self.model.embed()
        return head_from_logits((x * self.model.s_f.exp()) @ E.t(), next_ids)

    def variant(self, folder_name):
        """The models.json entry of this variant (models/README.md, "Screening variants")."""
        per_layer = sum(p.numel() for p in self.model.layers[0].parameters())
        rows = lambda t: [[float(v) for v in row] for row in t]  # noqa: E731  (exact float32: the engine feeds these)
        return {"dir": folder_name, "attention": "screening",
                "dims": {"layers": self.layers, "heads": self.heads, "kvHeads": self.heads, "headDim": self.d_key,
                         "valueDim": self.d_value, "width": self.width, "layerParameters": per_layer,
                         "parameters": sum(p.numel() for p in self.model.parameters()),
                         "trainContext": self.model.cfg.block_size},
                "window": rows(self.model.learned_windows()), "acceptance": rows(self.model.learned_acceptance())}


def export_screening_variant(model, folder):
    """embed, layer<l>.proj, layer<l>.out and head graphs of a Multiscreen into folder."""
    adapter = ScreeningAdapter(model).eval().requires_grad_(False)
    os.makedirs(folder, exist_ok=True)
    B, E, H = 5, adapter.width, adapter.heads
    dk, dv = adapter.d_key, adapter.d_value
    ids = torch.randint(0, adapter.vocab_size, (B,))
    pos = torch.arange(3, 3 + B)
    x = torch.randn(B, E)
    w = torch.tensor([2.0 + 50 * i for i in range(H)])
    rows = {0: "B"}
    meta = {"attention": "screening"}
    _export(_Piece(adapter, adapter.embed), (ids, pos), os.path.join(folder, "embed.onnx"), ["input_ids", "positions"], ["x"],
            {"input_ids": rows, "positions": rows, "x": rows}, {**meta, "piece": "embed"})
    for l in range(adapter.layers):
        _export(_Piece(adapter, lambda x, p, w, l=l: adapter.project(l, x, p, w)), (x, pos, w), os.path.join(folder, f"layer{l}.proj.onnx"),
                ["x", "positions", "window"], ["q", "k", "v", "g"],
                {"x": rows, "positions": rows, "q": rows, "k": rows, "v": rows, "g": rows}, {**meta, "piece": f"layer{l}.proj"})
        _export(_Piece(adapter, lambda x, h, g, l=l: adapter.out(l, x, h, g)), (x, torch.randn(B, H * dv), torch.randn(B, H * dv)),
                os.path.join(folder, f"layer{l}.out.onnx"), ["x", "h", "g"], ["x_out"],
                {"x": rows, "h": rows, "g": rows, "x_out": rows}, {**meta, "piece": f"layer{l}.out"})
    _export(_Piece(adapter, adapter.head), (x, ids), os.path.join(folder, "head.onnx"), ["x", "next_ids"], ["lse", "target"],
            {"x": rows, "next_ids": rows, "lse": rows, "target": rows}, {**meta, "piece": "head"})
    assert dk >= 2, "MiPE rotates two coordinates of q and k"
    return adapter


def export_screening_graphs(top_k, folder):
    """screening.onnx and screening-rows.onnx: weights-free, generic in tiles, d_K, d_V and lengths."""
    H, B, Tk, dk, dv = 3, 6, 32, 4, 5  # example sizes only: all dynamic
    q = torch.nn.functional.normalize(torch.randn(H, B, dk), dim=-1)
    k = torch.nn.functional.normalize(torch.randn(Tk, H, dk), dim=-1)
    v = torch.randn(Tk, H, dv)
    w, r = torch.tensor([2.0, 9.0, math.inf]), torch.tensor([0.3, 0.5, 0.7])
    per_query = {0: "H", 1: "B"}
    dyn = {"q": {0: "H", 1: "B", 2: "dK"}, "q_pos": {0: "B"}, "k": {0: "Tk", 1: "H", 2: "dK"}, "v": {0: "Tk", 1: "H", 2: "dV"},
           "window": {0: "H"}, "acceptance": {0: "H"}, "pool_template": {0: "bin"}, "h": {0: "B", 1: "HdV"},
           "focus": per_query, "pass_count": per_query, "total": per_query, "distance": per_query, "topk_index": per_query,
           "topk_relevance": per_query, "pooled": {0: "H", 1: "B", 2: "bins"}, "distance_mass": per_query}
    _export(ScreeningGraph(top_k), (q, torch.arange(20, 20 + B), k, v, w, r, torch.zeros(2)), os.path.join(folder, "screening.onnx"),
            ["q", "q_pos", "k", "v", "window", "acceptance", "pool_template"], SCREENING_OUTPUTS, dyn, {"piece": "screening"})
    _export(ScreeningRowsGraph(), (q, torch.arange(20, 20 + B), k, w, r), os.path.join(folder, "screening-rows.onnx"),
            ["q", "q_pos", "k", "window", "acceptance"], ["rows"],
            {"q": {0: "H", 1: "R", 2: "dK"}, "q_pos": {0: "R"}, "k": {0: "Tk", 1: "H", 2: "dK"}, "window": {0: "H"},
             "acceptance": {0: "H"}, "rows": {0: "H", 1: "R", 2: "Tk"}}, {"piece": "screening-rows"})


def run_windows(model, T):
    """(L, H) windows the engine runs T tokens with: the learned w, and w = inf for tiles whose w exceeds
    the training length once T does (the paper's rule; at or below it the trained windows are exact)."""
    return torch.stack([w.detach() for w in model.layer_windows(T > model.cfg.block_size)])


@torch.no_grad()
def screening_reference(model, ids, queries, top_k, pooled_size):
    """Multiscreen.forward's relevance maps (every T x T map, the engine's w rule for T) reduced with
    numpy (float64) to what the engine returns: per [layer, tile, query] the largest relevance, keys
    passing, total relevance, relevance-weighted distance, the top k (passing keys only), pooled
    maxima, relevance by distance bucket (unnormalised) and full rows of `queries`; surprisal."""
    T = ids.shape[0]
    infinite = T > model.cfg.block_size
    logits, _, maps = model(ids[None], return_weights=True, infinite_windows=infinite)
    logp = torch.log_softmax(logits[0].double(), -1)
    surprisal = np.array([0.0] + [float(-logp[t - 1, ids[t]]) for t in range(1, T)])
    R = np.stack([m[0].double().numpy() for m in maps])  # (L, H, T, T)
    i = np.arange(T)
    back = i[:, None] - i[None, :]
    total = R.sum(-1)
    b = math.ceil(T / pooled_size)
    n = math.ceil(T / b)
    pooled = np.zeros(R.shape[:2] + (n, n))
    for a in range(n):
        for c in range(n):
            pooled[:, :, a, c] = R[:, :, a * b:(a + 1) * b, c * b:(c + 1) * b].max(axis=(-1, -2))
    top = -np.sort(-R, axis=-1)[..., :top_k]
    top = np.concatenate([top, np.zeros(top.shape[:-1] + (top_k - top.shape[-1],))], -1)  # fewer keys than K: 0
    edges = [0, *EDGES, np.inf]
    return {
        "focus": R.max(-1), "pass_count": (R > 0).sum(-1).astype(np.float64), "total": total,
        "distance": np.where(total > 0, (R * back).sum(-1) / np.where(total > 0, total, 1.0), 0.0),
        "topk_relevance": top, "pooled": pooled, "rows": R[:, :, queries, :],
        "distance_mass": np.stack([(R * ((back >= lo) & (back < hi))).sum(-1) for lo, hi in zip(edges, edges[1:])], -1),
        "surprisal": surprisal, "windows": run_windows(model, T).numpy(),
    }
