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


def rope_tables(T, head_dim, base, device):
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, device=device).float() / head_dim))  # (hs/2,)
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
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hs)  # (B, nh, T, T)
        att = attention_weights(att, self.s if s is None else s)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
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
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def learned_s(self):
        """(L, H) learned s, or zeros for the Softmax variant."""
        rows = [b.attn.s.detach() if b.attn.s is not None else torch.zeros(self.cfg.n_head) for b in self.blocks]
        return torch.stack(rows)

    def forward(self, idx, targets=None, s=None, return_weights=False):
        """idx (B, T); s (L, H) overrides the learned s (zeros = Softmax). Returns logits, loss, weights."""
        B, T = idx.shape
        cos, sin = rope_tables(T, self.cfg.n_embd // self.cfg.n_head, self.cfg.rope_base, idx.device)
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
    model = GPT(GPTConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, ckpt
