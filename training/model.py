"""A small decoder-only transformer (nanoGPT-like) with Softmax or Scalable-Softmax attention.

Pre-LayerNorm blocks, rotary position embeddings (so it runs past the training length), tied
input/output embeddings. The two variants differ only in the attention normalisation:

    softmax: p = softmax(q.k / sqrt(d))
    ssmax:   p = softmax(s[layer, head] * ln(i + 1) * q.k / sqrt(d))     (i = 0-based query position)

s multiplies the logits (arXiv 2501.19399); subtracting s * ln n instead would cancel inside the
softmax. The exported graphs are built from these modules by graphs.py (models/README.md).
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from screening import Multiscreen, ScreenConfig

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
    top_k: int = 16  # keys per query in the exported summaries (graphs.py)
    pooled_size: int = 256  # side of the pooled attention map the engine builds


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
        # logits and was measured to learn induction (copy) heads far later or not at all.
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


def save_checkpoint(path, model, extra):
    torch.save({"config": asdict(model.cfg), "model": model.state_dict(), **extra}, path)


def load_checkpoint(path):
    ckpt = torch.load(path, map_location="cpu")
    if ckpt["config"]["attention"] == "screening":
        model = Multiscreen(ScreenConfig(**ckpt["config"]))
    else:
        model = GPT(GPTConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, ckpt
