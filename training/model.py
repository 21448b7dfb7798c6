"""A small decoder-only transformer (nanoGPT-like) with Softmax or Scalable-Softmax attention.

Pre-LayerNorm blocks, rotary position embeddings (so it runs past the training length), tied
input/output embeddings. The two variants differ only in the attention normalisation:

    softmax: p = softmax(q.k / sqrt(d))
    ssmax:   p = softmax(s[layer, head] * ln(i + 1) * q.k / sqrt(d))     (i = 0-based query position)

s multiplies the logits (arXiv 2501.19399); subtracting s * ln n instead would cancel inside the
softmax. `analyse` is the graph exported to ONNX: it computes attention head by head and reduces
each head's T x T weights at once to the summaries in models/README.md.
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

# Fused causal attention (torch >= 2.0, e.g. on the GPU machine); Debian's torch 1.13 takes the eager path.
FUSED = hasattr(F, "scaled_dot_product_attention")


@dataclass
class GPTConfig:
    vocab_size: int = 4096
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 192
    block_size: int = 256  # training context, tokens
    attention: str = "softmax"  # "softmax" or "ssmax"
    rope_base: float = 10000.0
    top_k: int = 16  # keys per query returned by `analyse`
    pooled_size: int = 256  # side of the pooled attention map returned by `analyse`


def rope_tables(T, head_dim, base, device, scale=1.0):
    """cos, sin (T, hs/2). scale multiplies the base: 1 at and below the training length; the SSMax
    paper's long-context recipe multiplies it (by 50) beyond it, so far positions rotate slower."""
    inv = 1.0 / ((base * scale) ** (torch.arange(0, head_dim, 2, device=device).float() / head_dim))  # (hs/2,)
    pos = torch.arange(T, device=device).float()
    freqs = pos[:, None] * inv[None, :]  # (T, hs/2)
    return freqs.cos(), freqs.sin()


def apply_rope(x, cos, sin):
    # x: (B, nh, T, hs); rotate pairs (x1, x2) made of the two halves of the head dimension
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def ssmax_factor(s, T, device):
    """(nh, T, 1): s * ln(i + 1) for each head and query position; s = 0 means plain Softmax (factor 1)."""
    logn = torch.log(torch.arange(T, device=device).float() + 1.0)  # (T,)
    factor = s[:, None, None] * logn[None, :, None]
    return torch.where(s[:, None, None] > 0, factor, torch.ones_like(factor))


def attention_weights(att, s):
    """Causal attention weights from scaled logits att (..., nh, T, T); s (nh,) or None for Softmax."""
    T = att.shape[-1]
    if s is not None:
        att = att * ssmax_factor(s, T, att.device)  # multiply: subtracting s*ln(n) would cancel in the softmax
    mask = torch.ones(T, T, dtype=torch.bool, device=att.device).tril()
    return att.masked_fill(~mask, float("-inf")).softmax(dim=-1)


def blocked_causal_attention(q, k, v, block=256):
    """softmax(q.k / sqrt(hs)) v with a causal mask, one block of queries at a time: no T x T buffer and
    no masked upper half. The path of torch < 2.0 (Debian's 1.13 on CPU); 2x faster at 4,096 tokens."""
    T = q.shape[-2]
    q = q / math.sqrt(q.shape[-1])
    pos = torch.arange(T, device=q.device)
    out = []
    for a in range(0, T, block):
        b = min(T, a + block)
        z = q[..., a:b, :] @ k[..., :b, :].transpose(-2, -1)  # (..., b - a, b)
        z = z.masked_fill(pos[None, :b] > pos[a:b, None], float("-inf"))
        out.append(z.softmax(dim=-1) @ v[..., :b, :])
    return torch.cat(out, dim=-2)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0, "n_embd must be divisible by n_head"
        self.n_head, self.hs = cfg.n_head, cfg.n_embd // cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=False)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)
        # s starts at 1/ln(training context): identical to Softmax at the training length.
        self.s = nn.Parameter(torch.full((cfg.n_head,), 1.0 / math.log(cfg.block_size))) if cfg.attention == "ssmax" else None

    def _qkv(self, x, cos, sin):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, self.hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, self.hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, self.hs).transpose(1, 2)
        return apply_rope(q, cos, sin), apply_rope(k, cos, sin), v

    def forward(self, x, cos, sin, s=None, return_weights=False):
        """s overrides the learned s (zeros = Softmax); returns (y, weights or None)."""
        B, T, C = x.shape
        q, k, v = self._qkv(x, cos, sin)
        s = self.s if s is None else s
        att = None
        if return_weights:
            att = attention_weights((q @ k.transpose(-2, -1)) / math.sqrt(self.hs), s)  # (B, nh, T, T)
            y = att @ v
        else:
            # SSMax scales each query row, so it can scale q and leave the rest to a causal kernel.
            if s is not None:
                q = q * ssmax_factor(s, T, x.device)
            if FUSED:  # RoPE promotes q, k to float32 under autocast; the kernel wants one dtype (bf16 on GPU)
                y = F.scaled_dot_product_attention(q.to(v.dtype), k.to(v.dtype), v, is_causal=True)
            else:
                y = blocked_causal_attention(q, k, v)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.proj(y), (att if return_weights else None)

    def analyse(self, x, cos, sin, s, mask_bias, query_index, top_k, pooled_size):
        """Batch 1. Per head: weights reduced at once; never all heads' T x T together. This is the
        exported graph's hot loop, written for few passes over T x T and few T x T buffers.

        mask_bias: (T, Tk), -1e9 where key j is masked for query i (j > i, or a padding key j >= T), else 0.
        Keys are padded with zeros to Tk >= T + top_k columns, a multiple of the pooling bin, so that
        top-k and key pooling need no padded copy of the weights."""
        _, T, C = x.shape
        Tk = mask_bias.shape[1]
        bin_size = (T + pooled_size - 1) // pooled_size
        q, k, v = self._qkv(x, cos, sin)
        # The SSMax factor depends on the query row alone, so it scales q, not the T x T logits.
        q = q[0] * (ssmax_factor(s, T, x.device) / math.sqrt(self.hs))  # (nh, T, hs)
        k = F.pad(k[0], (0, 0, 0, Tk - T))  # (nh, Tk, hs)
        v = F.pad(v[0], (0, 0, 0, Tk - T))
        key_pos = torch.arange(Tk, device=x.device).float()
        ys, outs = [], {n: [] for n in ("focus", "entropy", "distance", "topk_index", "topk_weight", "rows", "pooled")}
        done = torch.zeros((), device=x.device)
        for h in range(self.n_head):
            qh = q[h] + done
            # Additive finite mask (MatMul + Add fuse into one Gemm); softmax still gives exact zeros.
            z = qh @ k[h].transpose(0, 1) + mask_bias  # (T, Tk)
            w = z.softmax(dim=-1)
            wk = w @ k[h]  # (T, hs); sum_j w_ij z_ij = q_i . (w k)_i for the unmasked keys
            ys.append(w @ v[h])  # (T, hs)
            focus = w.amax(dim=-1)
            outs["focus"].append(focus)
            # -sum w log w = logsumexp(z) - E[z], and logsumexp(z) = max z - log(max w): no extra T x T pass.
            outs["entropy"].append(z.amax(dim=-1) - torch.log(focus) - (qh * wk).sum(dim=-1))
            outs["distance"].append(key_pos[:T] - w @ key_pos)  # sum_j w_ij (i - j)
            tw, ti = w.topk(top_k, dim=-1)
            outs["topk_index"].append(ti)
            outs["topk_weight"].append(tw)
            outs["rows"].append(w.index_select(0, query_index)[:, :T])
            by_key = w.reshape(T, Tk // bin_size, bin_size).amax(dim=-1)  # (T, Tk / bin)
            by_key = F.pad(by_key, (0, pooled_size))[:, :pooled_size]  # (T, P)
            by_key = F.pad(by_key, (0, 0, 0, bin_size * pooled_size - T))  # (bin * P, P)
            outs["pooled"].append(by_key.reshape(pooled_size, bin_size, pooled_size).amax(dim=1))
            # A zero that depends on every reduction of this head: the next head (and the next
            # layer) cannot start before this head's T x T buffers are consumed and freed. Without
            # it onnxruntime may schedule all heads' matrices first (2 GB at T = 4,000).
            done = torch.cat([outs[n][-1].reshape(-1)[:1].float() for n in outs]).sum().clamp(0, 0)
        y = torch.stack(ys, dim=0).transpose(0, 1).reshape(1, T, C) + done
        return self.proj(y), {n: torch.stack(t, dim=0) for n, t in outs.items()}  # each (nh, ...)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(), nn.Linear(4 * cfg.n_embd, cfg.n_embd))

    def forward(self, x, cos, sin, s=None, return_weights=False):
        a, w = self.attn(self.ln1(x), cos, sin, s, return_weights)
        x = x + a
        return x + self.mlp(self.ln2(x)), w


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        # std 1/sqrt(fan_in), not GPT-2's 0.02: with 0.02 a model this narrow starts with near-zero q.k
        # logits and was measured to learn induction (copy) heads far later or not at all (RESEARCH.md).
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=m.in_features ** -0.5)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=m.embedding_dim ** -0.5)

    def learned_s(self):
        """(L, H) learned s, or zeros for the Softmax variant."""
        rows = [b.attn.s.detach() if b.attn.s is not None else torch.zeros(self.cfg.n_head) for b in self.blocks]
        return torch.stack(rows)

    def forward(self, idx, targets=None, s=None, return_weights=False, rope_scale=1.0):
        """idx (B, T); s (L, H) overrides the learned s (zeros = Softmax); rope_scale multiplies the RoPE
        base. Returns logits, loss (B, T), weights (a list over layers of (B, H, T, T), or None)."""
        B, T = idx.shape
        cos, sin = rope_tables(T, self.cfg.n_embd // self.cfg.n_head, self.cfg.rope_base, idx.device, rope_scale)
        x = self.wte(idx)  # (B, T, C)
        weights = []
        for l, block in enumerate(self.blocks):
            x, w = block(x, cos, sin, None if s is None else s[l], return_weights)
            weights.append(w)
        logits = self.ln_f(x) @ self.wte.weight.t()  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), reduction="none").view(B, T)
        return logits, loss, (weights if return_weights else None)

    def analyse(self, input_ids, query_index, ssmax_s):
        """The exported graph (models/README.md): summaries per layer and head, surprisal, logits."""
        T = input_ids.shape[1]
        cos, sin = rope_tables(T, self.cfg.n_embd // self.cfg.n_head, self.cfg.rope_base, input_ids.device)
        x = self.wte(input_ids)
        bin_size = (T + self.cfg.pooled_size - 1) // self.cfg.pooled_size
        Tk = (T + self.cfg.top_k + bin_size - 1) // bin_size * bin_size  # padded key count, see Attention.analyse
        pos = torch.arange(Tk, device=x.device)
        mask_bias = (pos[None, :] > pos[:T, None]).float() * -1e9  # (T, Tk)
        per_layer = []
        for l, block in enumerate(self.blocks):
            a, outs = block.attn.analyse(block.ln1(x), cos, sin, ssmax_s[l], mask_bias, query_index, self.cfg.top_k,
                                         self.cfg.pooled_size)
            x = x + a
            x = x + block.mlp(block.ln2(x))
            per_layer.append(outs)
        h = self.ln_f(x)[0]  # (T, C)
        # W @ h^T rather than h @ W^T: a transposed weight would be folded into a second copy of the
        # tied embedding (3 MB) in the exported file.
        lse = torch.logsumexp(self.wte.weight @ h.t(), dim=0)  # (T,); the (V, T) logits are transient
        # Logit of each next token; ids rolled by one (not sliced) so T = 1 exports without empty broadcasts.
        target = (self.wte(torch.roll(input_ids[0], shifts=-1, dims=0)) * h).sum(dim=-1)  # (T,), last entry unused
        surprisal = torch.cat([torch.zeros(1, device=h.device), (lse - target)[:-1]])
        logits = (self.wte.weight @ h.index_select(0, query_index).t()).t()  # (Q, V), for tests
        names = ("focus", "entropy", "distance", "topk_index", "topk_weight", "rows", "pooled")
        stacked = [torch.stack([o[n] for o in per_layer], dim=0) for n in names]  # each (L, H, ...)
        return (*stacked, surprisal, logits)


def save_checkpoint(path, model, extra):
    torch.save({"config": asdict(model.cfg), "model": model.state_dict(), **extra}, path)


def load_checkpoint(path):
    ckpt = torch.load(path, map_location="cpu")
    model = GPT(GPTConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, ckpt
