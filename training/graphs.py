"""The layered model-folder contract (models/README.md): one ONNX graph per row-wise piece of a
decoder, and one attention graph that the engine runs on causal query blocks.

A model is reached through an `Adapter`: four row-wise functions (embed, qkv, out, head) and a few
facts. Our checkpoints (GPTAdapter, below) and converted Hugging Face checkpoints (hf_adapters.py)
both export through `export_variant`; `reference` runs the same adapter with plain full attention
(every T x T weight materialised) for the parity tests.

    /usr/bin/python3 training/export.py ...   (writes a model folder; see export.py)
"""
import math

import numpy as np
import torch
import torch.nn as nn

from model import apply_rope

OPSET = 17
ATTENTION_OUTPUTS = ["y", "focus", "entropy", "distance", "topk_index", "topk_weight", "pooled"]


class Adapter(nn.Module):
    """Row-wise pieces of a decoder; rows are tokens, no batch axis.

    Facts: layers, heads, kv_heads, head_dim, width, vocab_size, train_context,
    rope_base (None without RoPE), max_positions (None: no hard limit), architecture (a name).
    """

    def embed(self, input_ids, positions):  # (B,), (B,) -> (B, C)
        raise NotImplementedError

    def qkv(self, layer, x, positions, ssmax_s, rope_scale):
        """-> q (B, H*hs) pre-scaled by the attention scale and s*ln(pos+1) (heads with s > 0),
        k (B, KV*hs) with RoPE applied, v (B, KV*hs)."""
        raise NotImplementedError

    def out(self, layer, x, attn):  # (B, C), (B, H*hs) -> (B, C)
        raise NotImplementedError

    def head(self, x, next_ids):  # -> lse (B,), target logit (B,)
        raise NotImplementedError

    def facts(self):
        return {"architecture": self.architecture, "layers": self.layers, "heads": self.heads,
                "kvHeads": self.kv_heads, "headDim": self.head_dim, "width": self.width,
                "vocabSize": self.vocab_size, "trainContext": self.train_context,
                "maxContext": self.max_positions,
                "parameters": sum(p.numel() for p in self.parameters())}


def ssmax_scale(ssmax_s, positions):
    """(B, H, 1): s * ln(pos + 1) per query row and head; 1 where s = 0 (plain Softmax)."""
    logn = torch.log(positions.float() + 1.0)[:, None, None]  # (B, 1, 1)
    s = ssmax_s[None, :, None]  # (1, H, 1)
    return torch.where(s > 0, s * logn, torch.ones_like(s * logn))


def rope_cos_sin(positions, head_dim, base, rope_scale):
    """(B, 1, hs/2) tables for absolute positions; the base is multiplied by rope_scale."""
    exponent = torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim  # (hs/2,)
    inv = torch.exp(-exponent * torch.log(base * rope_scale))  # base^-exponent
    freqs = positions.float()[:, None] * inv[None, :]  # (B, hs/2)
    return freqs.cos()[:, None, :], freqs.sin()[:, None, :]


class GPTAdapter(Adapter):
    """Our checkpoints (model.py): pre-LN blocks, RoPE, tied embeddings."""

    architecture = "attention-lens"

    def __init__(self, model):
        super().__init__()
        cfg = model.cfg
        self.model = model
        self.layers, self.heads, self.kv_heads = cfg.n_layer, cfg.n_head, cfg.n_head
        self.width, self.head_dim, self.vocab_size = cfg.n_embd, cfg.n_embd // cfg.n_head, cfg.vocab_size
        self.train_context, self.rope_base, self.max_positions = cfg.block_size, cfg.rope_base, None

    def embed(self, input_ids, positions):
        return self.model.wte(input_ids)

    def qkv(self, layer, x, positions, ssmax_s, rope_scale):
        block = self.model.blocks[layer]
        B, H, hs = x.shape[0], self.heads, self.head_dim
        q, k, v = block.attn.qkv(block.ln1(x)).split(self.width, dim=-1)
        cos, sin = rope_cos_sin(positions, hs, self.rope_base, rope_scale)
        q = apply_rope(q.view(B, H, hs), cos, sin) * (ssmax_scale(ssmax_s, positions) / math.sqrt(hs))
        k = apply_rope(k.view(B, H, hs), cos, sin)
        return q.reshape(B, H * hs), k.reshape(B, H * hs), v

    def out(self, layer, x, attn):
        block = self.model.blocks[layer]
        x = x + block.attn.proj(attn)
        return x + block.mlp(block.ln2(x))

    def head(self, x, next_ids):
        h = self.model.ln_f(x)  # (B, C)
        wte = self.model.wte.weight
        # W @ h^T, not h @ W^T: a transposed weight would be folded into a second copy in the file.
        lse = torch.logsumexp(wte @ h.t(), dim=0)  # (B,)
        target = (self.model.wte(next_ids) * h).sum(dim=-1)
        return lse, target


class AttentionGraph(nn.Module):
    """One causal query block against the keys it can see, reduced to the per-query summaries.

    Summaries come from one softmax pass: focus is the top-1 weight, the log-normaliser is
    z[argmax] - log(focus), and one matrix product against [v | k | position] gives the output,
    sum_j w_j k_j (entropy = lse - q . that) and the expected key position (distance)."""

    def __init__(self, heads, kv_heads, head_dim, top_k):
        super().__init__()
        self.H, self.KV, self.hs, self.K = heads, kv_heads, head_dim, top_k

    def forward(self, q, q_pos, k, v, pool_template):
        H, KV, hs = self.H, self.KV, self.hs
        G = H // KV
        B, Tk = q.shape[0], k.shape[0]
        qh = q.view(B, KV, G, hs).permute(1, 2, 0, 3).reshape(KV, G * B, hs)  # head h = kv * G + g
        kh = k.view(Tk, KV, hs).transpose(0, 1)  # (KV, Tk, hs)
        vh = v.view(Tk, KV, hs).transpose(0, 1)
        key_pos = torch.arange(Tk, dtype=torch.int64)
        z = (qh @ kh.transpose(1, 2)).reshape(H, B, Tk)  # (H, B, Tk)
        z = z.masked_fill(key_pos[None, :] > q_pos[:, None], float("-inf"))
        w = z.softmax(dim=-1)
        tw, ti = w.topk(self.K, dim=-1)  # (H, B, K)
        focus = tw[:, :, 0]
        lse = z.gather(-1, ti[:, :, :1]).squeeze(-1) - torch.log(focus)  # (H, B)
        pos_col = key_pos.float()[None, :, None].expand(KV, Tk, 1)
        vkp = torch.cat([vh, kh, pos_col], dim=-1)  # (KV, Tk, 2hs + 1)
        mix = (w.reshape(KV, G * B, Tk) @ vkp).reshape(H, B, 2 * hs + 1)
        y = mix[:, :, :hs].permute(1, 0, 2).reshape(B, H * hs)
        qz = q.view(B, H, hs).transpose(0, 1)  # (H, B, hs)
        entropy = lse - (qz * mix[:, :, hs:2 * hs]).sum(dim=-1)
        distance = q_pos.float()[None, :] - mix[:, :, 2 * hs]
        bin_size = pool_template.shape[0]  # a traced dimension: the bin is an input, not a constant
        pooled = w.reshape(H, B, -1, bin_size).amax(dim=-1)  # (H, B, Tk / bin)
        return y, focus, entropy, distance, ti, tw, pooled


class RowsGraph(nn.Module):
    """Full attention rows of chosen queries (Follow Cursor, zoom): (H, R, Tk)."""

    def __init__(self, heads, kv_heads, head_dim):
        super().__init__()
        self.H, self.KV, self.hs = heads, kv_heads, head_dim

    def forward(self, q, q_pos, k):
        H, KV, hs = self.H, self.KV, self.hs
        R, Tk = q.shape[0], k.shape[0]
        qh = q.view(R, KV, H // KV, hs).permute(1, 2, 0, 3).reshape(KV, -1, hs)
        z = (qh @ k.view(Tk, KV, hs).permute(1, 2, 0)).reshape(H, R, Tk)
        z = z.masked_fill(torch.arange(Tk, dtype=torch.int64)[None, :] > q_pos[:, None], float("-inf"))
        return z.softmax(dim=-1)


class _Piece(nn.Module):
    """One adapter method as a module; the adapter is a child so its weights export as initializers."""

    def __init__(self, adapter, fn):
        super().__init__()
        self.adapter, self.fn = adapter, fn

    def forward(self, *args):
        return self.fn(*args)


def _export(module, args, path, inputs, outputs, dynamic, meta):
    import onnx

    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=dynamic,
                          opset_version=OPSET, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    for key, value in {"attention_lens_contract": "2", **meta}.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(m, path)


def export_attention(adapter, top_k, folder):
    """attention.onnx and attention-rows.onnx: weights-free, shared by every variant of a model."""
    import os

    H, KV, hs = adapter.heads, adapter.kv_heads, adapter.head_dim
    B, Tk = 6, 16
    q, k, v = torch.randn(B, H * hs), torch.randn(Tk, KV * hs), torch.randn(Tk, KV * hs)
    q_pos = torch.arange(10, 10 + B)
    rows_dyn = {"q": {0: "B"}, "q_pos": {0: "B"}, "k": {0: "Tk"}}
    dyn = {**rows_dyn, "v": {0: "Tk"}, "pool_template": {0: "bin"}, "y": {0: "B"}, "focus": {1: "B"},
           "entropy": {1: "B"}, "distance": {1: "B"}, "topk_index": {1: "B"}, "topk_weight": {1: "B"},
           "pooled": {1: "B", 2: "bins"}}
    _export(AttentionGraph(H, KV, hs, top_k), (q, q_pos, k, v, torch.zeros(2)), os.path.join(folder, "attention.onnx"),
            ["q", "q_pos", "k", "v", "pool_template"], ATTENTION_OUTPUTS, dyn, {"piece": "attention"})
    _export(RowsGraph(H, KV, hs), (q, q_pos, k), os.path.join(folder, "attention-rows.onnx"), ["q", "q_pos", "k"],
            ["rows"], {**rows_dyn, "rows": {1: "B", 2: "Tk"}}, {"piece": "attention-rows"})


def export_variant(adapter, folder, meta):
    """embed, layer<l>.qkv, layer<l>.out and head graphs of one set of weights into folder."""
    import os

    os.makedirs(folder, exist_ok=True)
    adapter.eval().requires_grad_(False)
    B, C, H, hs = 5, adapter.width, adapter.heads, adapter.head_dim
    ids = torch.randint(0, adapter.vocab_size, (B,))
    pos = torch.arange(3, 3 + B)
    x = torch.randn(B, C)
    rows = {0: "B"}
    _export(_Piece(adapter, adapter.embed), (ids, pos), os.path.join(folder, "embed.onnx"), ["input_ids", "positions"], ["x"],
            {"input_ids": rows, "positions": rows, "x": rows}, {**meta, "piece": "embed"})
    rope = adapter.rope_base is not None
    for l in range(adapter.layers):
        s = torch.full((H,), 0.2)
        inputs = ["x", "positions", "ssmax_s"] + (["rope_scale"] if rope else [])
        fn = (lambda x, p, s, r, l=l: adapter.qkv(l, x, p, s, r)) if rope else (lambda x, p, s, l=l: adapter.qkv(l, x, p, s, None))
        args = (x, pos, s, torch.tensor(1.0)) if rope else (x, pos, s)
        _export(_Piece(adapter, fn), args, os.path.join(folder, f"layer{l}.qkv.onnx"), inputs, ["q", "k", "v"],
                {"x": rows, "positions": rows, "q": rows, "k": rows, "v": rows}, {**meta, "piece": f"layer{l}.qkv"})
        _export(_Piece(adapter, lambda x, a, l=l: adapter.out(l, x, a)), (x, torch.randn(B, H * hs)),
                os.path.join(folder, f"layer{l}.out.onnx"), ["x", "attn"], ["x_out"],
                {"x": rows, "attn": rows, "x_out": rows}, {**meta, "piece": f"layer{l}.out"})
    _export(_Piece(adapter, adapter.head), (x, ids), os.path.join(folder, "head.onnx"), ["x", "next_ids"], ["lse", "target"],
            {"x": rows, "next_ids": rows, "lse": rows, "target": rows}, {**meta, "piece": "head"})


@torch.no_grad()
def reference(adapter, ids, ssmax_s, rope_scale, queries, top_k, pooled_size):
    """Plain full attention through the adapter: every layer's (H, T, T) weights, reduced with
    numpy (float64) to what the engine returns. ids (T,) int64; ssmax_s (L, H)."""
    T = ids.shape[0]
    H, KV, hs = adapter.heads, adapter.kv_heads, adapter.head_dim
    pos = torch.arange(T)
    x = adapter.embed(ids, pos)
    weights = []
    for l in range(adapter.layers):
        q, k, v = adapter.qkv(l, x, pos, ssmax_s[l], None if adapter.rope_base is None else torch.tensor(float(rope_scale)))
        qh = q.view(T, H, hs).transpose(0, 1)
        kh = k.view(T, KV, hs).transpose(0, 1).repeat_interleave(H // KV, dim=0)
        vh = v.view(T, KV, hs).transpose(0, 1).repeat_interleave(H // KV, dim=0)
        z = qh @ kh.transpose(1, 2)
        z = z.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
        w = z.softmax(dim=-1)  # (H, T, T)
        weights.append(w.double().numpy())
        x = adapter.out(l, x, (w @ vh).transpose(0, 1).reshape(T, H * hs))
    lse, target = adapter.head(x, torch.roll(ids, -1))
    surprisal = np.concatenate([[0.0], (lse - target).double().numpy()[:-1]])
    W = np.stack(weights)  # (L, H, T, T)
    i = np.arange(T)
    logw = np.log(np.where(W > 0, W, 1.0))
    b = math.ceil(T / pooled_size)
    n = math.ceil(T / b)
    pooled = np.zeros(W.shape[:2] + (n, n))
    for a in range(n):
        for c in range(n):
            pooled[:, :, a, c] = W[:, :, a * b:(a + 1) * b, c * b:(c + 1) * b].max(axis=(-1, -2))
    order = np.argsort(-W, axis=-1, kind="stable")[..., :top_k]
    return {
        "focus": W.max(-1), "entropy": -(W * logw).sum(-1), "distance": (W * (i[:, None] - i[None, :])).sum(-1),
        "rows": W[:, :, queries, :], "topk_weight": np.take_along_axis(W, order, -1), "pooled": pooled,
        "surprisal": surprisal,
    }
