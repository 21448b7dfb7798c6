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
CONTRACT = 3
ATTENTION_OUTPUTS = ["y", "focus", "entropy", "distance", "topk_index", "topk_weight", "pooled", "distance_mass", "sample_rows"]
# Distance buckets of the Fading tabs, tokens back: [0], [1, 8), [8, 64), [64, 512), [512, 4096), [4096, ...).
EDGES = (1, 8, 64, 512, 4096)


def sampled(q_pos, bin_size):
    """Indices into the block of its queries at multiples of the bin: one query per pooling bin,
    whose full row the graph returns (`sample_rows`) for the engine to measure its support size."""
    return torch.nonzero(q_pos % bin_size == 0).squeeze(1)


class Adapter(nn.Module):
    """Row-wise pieces of a decoder; rows are tokens, no batch axis.

    Facts: layers, heads, kv_heads, head_dim, width, vocab_size, train_context,
    rope_base (None without RoPE), max_positions (None: no hard limit), architecture (a name);
    layer_modules(l) (default: self.blocks[l]) for models.json's layerParameters;
    llama4_scaling: (beta, length) of a config that ships Llama 4's query scaling, else None
        (models.json "llama4Scaling", read by the engine's ministral3-scaling).
    """

    llama4_scaling = None

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

    def layer_modules(self, layer):
        """The module holding every weight that layer<layer>.qkv and layer<layer>.out apply."""
        return self.blocks[layer]

    def facts(self):
        # layerParameters: the weights one layer applies per token. The engine cannot derive it
        # from parameters without knowing whether the embeddings are tied.
        per_layer = {sum(p.numel() for p in self.layer_modules(l).parameters()) for l in range(self.layers)}
        assert len(per_layer) == 1, f"layers differ in size: {per_layer}"
        return {"architecture": self.architecture, "layers": self.layers, "heads": self.heads,
                "kvHeads": self.kv_heads, "headDim": self.head_dim, "width": self.width,
                "vocabSize": self.vocab_size, "trainContext": self.train_context,
                "maxContext": self.max_positions,
                "parameters": sum(p.numel() for p in self.parameters()), "layerParameters": per_layer.pop()}


def ssmax_scale(ssmax_s, positions):
    """(B, H, 1): s * ln(pos + 1) per query row and head; 1 where s = 0 (plain Softmax)."""
    logn = torch.log(positions.float() + 1.0)[:, None, None]  # (B, 1, 1)
    s = ssmax_s[None, :, None]  # (1, H, 1)
    return torch.where(s > 0, s * logn, torch.ones_like(s * logn))


def head_from_logits(logits, next_ids):
    """(B, V) logits -> log-normaliser and the next token's logit. Reduced along the last axis (the
    strided reduction over W @ h^T took a tenth of a run), and the target read from the logits, so
    the file holds one (transposed) copy of the output weight."""
    lse = torch.logsumexp(logits, dim=-1)  # (B,)
    target = logits.gather(-1, next_ids[:, None]).squeeze(-1)
    return lse, target


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

    def layer_modules(self, layer):
        return self.model.blocks[layer]

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
        return head_from_logits(self.model.ln_f(x) @ self.model.wte.weight.t(), next_ids)


class _SuffixSum(torch.autograd.Function):
    """x (R, n) -> sums of x[:, j:] for each j: ONNX CumSum with reverse = 1, one pass (flipping
    around a forward CumSum costs two copies)."""

    @staticmethod
    def forward(ctx, x):
        return x.flip(-1).cumsum(-1).flip(-1)

    @staticmethod
    def symbolic(g, x):
        return g.op("CumSum", x, g.op("Constant", value_t=torch.tensor(-1, dtype=torch.int64)), reverse_i=1)


def mask_bias(q_pos, key_pos, key_first=None):
    """(B, n) added to a block's logits: 0 where query i sees key j, at most -1e30 where it does not
    (after it, or before its window's key_first): exp gives exactly 0 there, as it does for -inf.
    Arithmetic on positions: a broadcasting Where over the block took several times as long."""
    hidden = (q_pos.float()[:, None] - key_pos.float()[None, :]).clamp(max=0)
    if key_first is not None:
        hidden = hidden + (key_pos.float()[None, :] - key_first.float()[:, None]).clamp(max=0)
    return hidden * 1e30


def distance_mass(parts, query_pos, bin_size):
    """(R, 6): each row's exact mass in the six distance buckets, from the parts its weights come in:
    [(w (R, n), first key, share (R, 1) or None)], each starting at a multiple of bin_size and
    spanning whole bins. The mass nearer than an edge is the sum of the bins after the bin the edge
    cuts plus that bin's keys nearer than the edge; bins are summed from the query's end backwards,
    so a near bucket is never the difference of two sums over thousands of keys. Only the bin sums
    and their suffix sums are per key bin; the rest is per edge."""
    R, E = query_pos.shape[0], len(EDGES)
    stop = (query_pos[:, None] + 1 - torch.tensor(EDGES)[None, :]).clamp_min(0)  # (R, E): first key nearer than each edge
    cut = stop // bin_size * bin_size  # (R, E): first key of the bin each edge cuts; that bin lies in one part
    offsets = torch.arange(bin_size)[None, None, :]
    nearer = cut[:, :, None] + offsets >= stop[:, :, None]  # (R, E, bin): keys of the cut bin nearer than the edge
    zero = torch.zeros(())
    near, total = 0, 0
    for w, first, share in parts:
        n = w.shape[1]
        # Bin sums as a product with ones: onnxruntime reduces a short last axis several times slower.
        bins = (w.reshape(-1, bin_size) @ torch.ones(bin_size, 1)).reshape(R, -1)  # (R, n / bin)
        above = _SuffixSum.apply(bins)  # mass of each bin and those after it
        after = (cut - first) // bin_size + 1  # (R, E): the part's first bin after the cut one (<= 0: all of them)
        whole = torch.where(after < n // bin_size, above.gather(-1, after.clamp(0, n // bin_size - 1)), zero)
        inside = (cut >= first) & (cut < first + n)
        at = torch.where(inside, cut - first, torch.zeros((), dtype=torch.int64))[:, :, None] + offsets  # (R, E, bin) in the part
        keys = w.gather(-1, at.reshape(R, -1)).reshape(R, E, -1)
        mass = whole + torch.where(inside[:, :, None] & nearer, keys, zero).sum(-1)
        near = near + (mass if share is None else mass * share)
        total = total + (above[:, 0] if share is None else above[:, 0] * share[:, 0])
    return torch.stack([near[:, 0], near[:, 1] - near[:, 0], near[:, 2] - near[:, 1], near[:, 3] - near[:, 2],
                        near[:, 4] - near[:, 3], total - near[:, 4]], dim=-1)


class AttentionGraph(nn.Module):
    """One causal query block of the G query heads that share one kv head, against the keys they
    can see, reduced to per-query summaries.

    Keys come in two parts so that only the last one is masked: `k_past` (every key before the
    block, always visible; at least key 0) and `k_diag` (the block's own keys and padding, masked
    above the diagonal). Summaries come from one softmax pass: focus is the top-1 weight, the
    log-normaliser is z[argmax] - log(focus), and one product with `vkp` = [v | k | position]
    gives the output, sum_j w_j k_j (entropy = lse - q . that) and the expected key position."""

    def __init__(self, top_k):
        super().__init__()
        self.K = top_k

    def forward(self, q, q_pos, k_past, k_diag, vkp, pool_template):
        G, B, hs = q.shape  # traced dimensions: one graph serves every head size and grouping
        P = k_past.shape[0]
        rows = q.reshape(-1, hs)  # (G*B, hs)
        z_past = rows @ k_past.t()  # (G*B, P)
        diag_pos = torch.arange(k_diag.shape[0], dtype=torch.int64) + P
        z_diag = (rows @ k_diag.t()).reshape(G, B, -1) + mask_bias(q_pos, diag_pos)  # (G, B, D)
        z = torch.cat([z_past, z_diag.reshape(G * B, -1)], dim=-1)  # (G*B, Tk)
        w = z.softmax(dim=-1)
        tw, ti = w.topk(self.K, dim=-1)  # (G*B, K)
        focus = tw[:, 0]
        lse = z.gather(-1, ti[:, :1]).squeeze(-1) - torch.log(focus)
        mix = w @ vkp  # (G*B, 2hs + 1)
        y = mix[:, :hs].reshape(G, B, hs)
        entropy = lse - (rows * mix[:, hs:2 * hs]).sum(dim=-1)
        distance = q_pos.float().repeat(G) - mix[:, 2 * hs]
        bin_size = pool_template.shape[0]  # a traced dimension: the bin is an input, not a constant
        pooled = w.reshape(G * B, -1, bin_size).amax(dim=-1)  # (G*B, Tk / bin)
        mass = distance_mass([(w, 0, None)], q_pos.repeat(G), bin_size)
        sample = w.reshape(G, B, -1).index_select(1, sampled(q_pos, bin_size))  # (G, S, Tk)
        return (y, focus.reshape(G, B), entropy.reshape(G, B), distance.reshape(G, B), ti.reshape(G, B, -1),
                tw.reshape(G, B, -1), pooled.reshape(G, B, -1), mass.reshape(G, B, -1), sample)


class WindowAttentionGraph(AttentionGraph):
    """AttentionGraph for a sliding-window layer: query i sees keys key_first[i] .. i only. The
    engine feeds the keys from a multiple of the bin that the block's first window needs (the bins
    before it hold no key any query sees), so every position here, q_pos and key_first included,
    counts from the first key fed; one set `k` (every key is masked on both sides) and the same
    outputs, with key indices and bins relative to that key."""

    def forward(self, q, q_pos, key_first, k, vkp, pool_template):
        G, B, hs = q.shape  # traced dimensions, as in AttentionGraph
        rows = q.reshape(-1, hs)  # (G*B, hs)
        key_pos = torch.arange(k.shape[0], dtype=torch.int64)
        z = ((rows @ k.t()).reshape(G, B, -1) + mask_bias(q_pos, key_pos, key_first)).reshape(G * B, -1)  # (G*B, Tk)
        w = z.softmax(dim=-1)
        tw, ti = w.topk(self.K, dim=-1)
        focus = tw[:, 0]
        lse = z.gather(-1, ti[:, :1]).squeeze(-1) - torch.log(focus)
        mix = w @ vkp  # (G*B, 2hs + 1): its position column is absolute, unused here
        y = mix[:, :hs].reshape(G, B, hs)
        entropy = lse - (rows * mix[:, hs:2 * hs]).sum(dim=-1)
        # Distance from relative positions: both terms stay below the window and the block.
        distance = q_pos.float().repeat(G) - w @ key_pos.float()
        bin_size = pool_template.shape[0]
        pooled = w.reshape(G * B, -1, bin_size).amax(dim=-1)
        mass = distance_mass([(w, 0, None)], q_pos.repeat(G), bin_size)
        sample = w.reshape(G, B, -1).index_select(1, sampled(q_pos, bin_size))
        return (y, focus.reshape(G, B), entropy.reshape(G, B), distance.reshape(G, B), ti.reshape(G, B, -1),
                tw.reshape(G, B, -1), pooled.reshape(G, B, -1), mass.reshape(G, B, -1), sample)


class SplitAttentionGraph(nn.Module):
    """The same block and outputs as AttentionGraph, for blocks that start at or after key P:
    the past keys [0, P) are all visible, so their logits are never masked nor concatenated with
    the block's own keys; each part gets its own softmax and the two merge on per-query values
    (log-normalisers, the top-k candidates, pooled bins, the mixed output). The past part is
    most of the work: this saves a full pass over it. Needs P and D >= top_k, multiples of the bin."""

    def __init__(self, top_k):
        super().__init__()
        self.K = top_k

    @staticmethod
    def _part(rows, query_pos, k, vkp, K, bin_size, bias=None):
        z = rows @ k.t()  # (G*B, n)
        if bias is not None:
            z = (z.reshape(-1, bias.shape[0], z.shape[-1]) + bias).reshape(rows.shape[0], -1)
        w = z.softmax(dim=-1)
        tw, ti = w.topk(K, dim=-1)
        lse = z.gather(-1, ti[:, :1]).squeeze(-1) - torch.log(tw[:, 0])
        pooled = w.reshape(rows.shape[0], -1, bin_size).amax(dim=-1)
        mix = w @ vkp
        # The part's own expected distance: subtracting positions in the hundreds after the merge
        # would lose float32 digits that the merge weights cannot give back.
        return lse, mix[:, :-1], query_pos - mix[:, -1], tw, ti, pooled, w

    def forward(self, q, q_pos, k_past, vkp_past, k_diag, vkp_diag, pool_template):
        K = self.K
        G, B, hs = q.shape  # traced dimensions, as in AttentionGraph
        P = k_past.shape[0]
        bin_size = pool_template.shape[0]  # a traced dimension: the bin is an input, not a constant
        rows = q.reshape(-1, hs)  # (G*B, hs)
        bias = mask_bias(q_pos, torch.arange(k_diag.shape[0], dtype=torch.int64) + P)
        query_pos = q_pos.float().repeat(G)
        lse_p, mix_p, dist_p, tw_p, ti_p, pooled_p, w_p = self._part(rows, query_pos, k_past, vkp_past, K, bin_size)
        lse_d, mix_d, dist_d, tw_d, ti_d, pooled_d, w_d = self._part(rows, query_pos, k_diag, vkp_diag, K, bin_size, bias)
        top = torch.maximum(lse_p, lse_d)
        lse = top + torch.log(torch.exp(lse_p - top) + torch.exp(lse_d - top))
        c_p, c_d = torch.exp(lse_p - lse)[:, None], torch.exp(lse_d - lse)[:, None]  # each part's share
        mix = c_p * mix_p + c_d * mix_d  # (G*B, 2hs)
        tw, pick = torch.cat([tw_p * c_p, tw_d * c_d], dim=-1).topk(K, dim=-1)
        ti = torch.cat([ti_p, ti_d + P], dim=-1).gather(-1, pick)
        pooled = torch.cat([pooled_p * c_p, pooled_d * c_d], dim=-1)
        y = mix[:, :hs].reshape(G, B, hs)
        entropy = lse - (rows * mix[:, hs:2 * hs]).sum(dim=-1)
        distance = c_p[:, 0] * dist_p + c_d[:, 0] * dist_d
        mass = distance_mass([(w_p, 0, c_p), (w_d, P, c_d)], q_pos.repeat(G), bin_size)
        at = sampled(q_pos, bin_size)
        sample = torch.cat([w.reshape(G, B, -1).index_select(1, at) * c.reshape(G, B, 1).index_select(1, at)
                            for w, c in ((w_p, c_p), (w_d, c_d))], dim=-1)  # (G, S, Tk): rows first, then the shares
        return (y, tw[:, 0].reshape(G, B), entropy.reshape(G, B), distance.reshape(G, B), ti.reshape(G, B, -1),
                tw.reshape(G, B, -1), pooled.reshape(G, B, -1), mass.reshape(G, B, -1), sample)


class RowsGraph(nn.Module):
    """Full attention rows of chosen queries of the heads that share one kv head: (G, R, Tk)."""

    def forward(self, q, q_pos, k):
        z = q @ k.t()  # (G, R, Tk)
        z = z.masked_fill(torch.arange(k.shape[0], dtype=torch.int64)[None, :] > q_pos[:, None], float("-inf"))
        return z.softmax(dim=-1)


class WindowRowsGraph(nn.Module):
    """RowsGraph for a sliding-window layer: keys before key_first (absolute, one per query) masked too."""

    def forward(self, q, q_pos, key_first, k):
        z = q @ k.t()  # (G, R, Tk)
        key_pos = torch.arange(k.shape[0], dtype=torch.int64)[None, :]
        z = z.masked_fill((key_pos > q_pos[:, None]) | (key_pos < key_first[:, None]), float("-inf"))
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
    for key, value in {"attention_lens_contract": str(CONTRACT), **meta}.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(m, path)


def export_attention(top_k, folder):
    """attention.onnx, attention-split.onnx, attention-rows.onnx and their sliding-window forms
    attention-window.onnx and attention-window-rows.onnx: weights-free and generic in the head size
    and the query heads per kv head, so one set serves every model (the converter copies the shipped
    set)."""
    import os

    G, hs = 2, 8  # example sizes only: both are dynamic axes
    B, P, D = 6, 10, 8
    q = torch.randn(G, B, hs)
    q_pos = torch.arange(P, P + B)
    per_query = {0: "G", 1: "B"}
    dyn = {"q": {0: "G", 1: "B", 2: "hs"}, "q_pos": {0: "B"}, "k_past": {0: "P", 1: "hs"}, "k_diag": {0: "D", 1: "hs"},
           "vkp": {0: "Tk", 1: "vkp_width"}, "pool_template": {0: "bin"}, "y": {0: "G", 1: "B", 2: "hs"},
           "focus": per_query, "entropy": per_query, "distance": per_query, "topk_index": per_query, "topk_weight": per_query,
           "pooled": {0: "G", 1: "B", 2: "bins"}, "distance_mass": per_query, "sample_rows": {0: "G", 1: "S", 2: "Tk"}}
    args = (q, q_pos, torch.randn(P, hs), torch.randn(D, hs), torch.randn(P + D, 2 * hs + 1), torch.zeros(2))
    _export(AttentionGraph(top_k), args, os.path.join(folder, "attention.onnx"),
            ["q", "q_pos", "k_past", "k_diag", "vkp", "pool_template"], ATTENTION_OUTPUTS, dyn, {"piece": "attention"})
    split_dyn = {**dyn, "vkp_past": {0: "P", 1: "vkp_width"}, "vkp_diag": {0: "D", 1: "vkp_width"}}
    split_dyn.pop("vkp")
    P, D = 32, 24  # >= top_k at export, multiples of the example bin
    args = (q, torch.arange(P, P + B), torch.randn(P, hs), torch.randn(P, 2 * hs + 1), torch.randn(D, hs), torch.randn(D, 2 * hs + 1),
            torch.zeros(2))
    _export(SplitAttentionGraph(top_k), args, os.path.join(folder, "attention-split.onnx"),
            ["q", "q_pos", "k_past", "vkp_past", "k_diag", "vkp_diag", "pool_template"], ATTENTION_OUTPUTS, split_dyn,
            {"piece": "attention-split"})
    _export(RowsGraph(), (q, q_pos, torch.randn(P + D, hs)), os.path.join(folder, "attention-rows.onnx"), ["q", "q_pos", "k"],
            ["rows"], {"q": {0: "G", 1: "R", 2: "hs"}, "q_pos": {0: "R"}, "k": {0: "Tk", 1: "hs"}, "rows": {0: "G", 1: "R", 2: "Tk"}},
            {"piece": "attention-rows"})
    window_dyn = {**dyn, "key_first": {0: "B"}, "k": {0: "Tk", 1: "hs"}}
    for name in ("k_past", "k_diag"):
        window_dyn.pop(name)
    Tk = P + D
    args = (q, torch.arange(P, P + B), torch.arange(P - 5, P + B - 5), torch.randn(Tk, hs), torch.randn(Tk, 2 * hs + 1), torch.zeros(2))
    _export(WindowAttentionGraph(top_k), args, os.path.join(folder, "attention-window.onnx"),
            ["q", "q_pos", "key_first", "k", "vkp", "pool_template"], ATTENTION_OUTPUTS, window_dyn, {"piece": "attention-window"})
    _export(WindowRowsGraph(), (q, torch.arange(P, P + B), torch.arange(P - 5, P + B - 5), torch.randn(Tk, hs)),
            os.path.join(folder, "attention-window-rows.onnx"), ["q", "q_pos", "key_first", "k"], ["rows"],
            {"q": {0: "G", 1: "R", 2: "hs"}, "q_pos": {0: "R"}, "key_first": {0: "R"}, "k": {0: "Tk", 1: "hs"},
             "rows": {0: "G", 1: "R", 2: "Tk"}}, {"piece": "attention-window-rows"})


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


def write_manifest(folder, model_id, adapter, variants, top_k, pooled_size, rope_rule):
    """models.json of a model folder (contract 3, models/README.md); rope_rule as training/rope_rule.py writes it."""
    import json
    import os

    manifest = {"contract": CONTRACT, "id": model_id, **adapter.facts(), "topK": top_k, "pooledSize": pooled_size,
                "tokenizer": "tokenizer.json",
                "rope": None if adapter.rope_base is None else {
                    "base": adapter.rope_base, "beyondTrainContext": rope_rule},
                "posthocS": round(1.0 / math.log(adapter.train_context), 6), "variants": variants}
    if adapter.llama4_scaling is not None:
        beta, length = adapter.llama4_scaling
        manifest["llama4Scaling"] = {"beta": beta, "length": length}
    with open(os.path.join(folder, "models.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


@torch.no_grad()
def reference(adapter, ids, ssmax_s, rope_scale, queries, top_k, pooled_size, q_scale=None, windows=None, ssmax_keys_seen=True):
    """Plain full attention through the adapter: every layer's (H, T, T) weights, reduced with
    numpy (float64) to what the engine returns. ids (T,) int64; ssmax_s (L, H); q_scale (T,) or
    None: a length rule's factor per query position (the post-hoc length-rule modes); windows: per
    layer None (full) or w (query i sees keys i - w + 1 .. i; models.json "layerTypes"). SSMax's n
    in a sliding layer is the keys the query sees, min(i + 1, w), as a converter bakes it into that
    layer's qkv graph; ssmax_keys_seen=False keeps the adapter's i + 1 (training/convert.py's
    graphs, which know no windows)."""
    T = ids.shape[0]
    H, KV, hs = adapter.heads, adapter.kv_heads, adapter.head_dim
    pos = torch.arange(T)
    x = adapter.embed(ids, pos)
    weights = []
    for l in range(adapter.layers):
        w_l = None if windows is None else windows[l]
        q, k, v = adapter.qkv(l, x, pos, ssmax_s[l], None if adapter.rope_base is None else torch.tensor(float(rope_scale)))
        if q_scale is not None:
            q = q * q_scale[:, None].to(q.dtype)
        if w_l is not None and ssmax_keys_seen:
            # The adapter multiplied q by s ln(i + 1); past the window n stops growing at w.
            seen = torch.log(torch.clamp(pos.double() + 1, max=w_l)) / torch.log(pos.double() + 1).clamp_min(1e-30)
            ratio = torch.where(pos + 1 > w_l, seen, torch.ones_like(seen)).float()
            q = (q.view(T, H, hs) * torch.where(ssmax_s[l] > 0, ratio[:, None], torch.ones(T, H))[:, :, None]).reshape(T, H * hs)
        qh = q.view(T, H, hs).transpose(0, 1)
        kh = k.view(T, KV, hs).transpose(0, 1).repeat_interleave(H // KV, dim=0)
        vh = v.view(T, KV, hs).transpose(0, 1).repeat_interleave(H // KV, dim=0)
        z = qh @ kh.transpose(1, 2)
        visible = torch.ones(T, T, dtype=torch.bool).tril()
        if w_l is not None:
            visible &= ~torch.ones(T, T, dtype=torch.bool).tril(-w_l)  # keys j <= i - w
        z = z.masked_fill(~visible, float("-inf"))
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
    d = i[:, None] - i[None, :]  # (T, T) tokens back; negative above the diagonal, where W is 0
    edges = [0, *EDGES, np.inf]
    distance_mass = np.stack([(W * ((d >= lo) & (d < hi))).sum(-1) for lo, hi in zip(edges, edges[1:])], -1)
    # Support: the fewest largest weights holding 90 % (within 1e-6, as the engine counts), and how
    # near the decision was: the distance of the running sums either side of it from 0.9.
    held = np.concatenate([np.zeros(W.shape[:-1] + (1,)), np.cumsum(-np.sort(-W, axis=-1), axis=-1)], -1)
    support = (held < 0.9 - 1e-6).sum(-1)
    side = lambda n: np.take_along_axis(held, n[..., None], -1)[..., 0]  # noqa: E731
    margin = np.minimum(np.abs(side(support - 1) - 0.9), np.abs(side(support) - 0.9))
    return {
        "focus": W.max(-1), "entropy": -(W * logw).sum(-1), "distance": (W * (i[:, None] - i[None, :])).sum(-1),
        "rows": W[:, :, queries, :], "topk_weight": np.take_along_axis(W, order, -1), "pooled": pooled,
        "surprisal": surprisal, "distance_mass": distance_mass, "support": support, "support_margin": margin,
    }
