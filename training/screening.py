"""Multiscreen ("Screening Is Enough", K. M. Nakanishi, arXiv 2604.01178): the `screening` twin.

Per layer, H parallel gated screening tiles replace attention and the MLP; there is no LayerNorm.
A tile with learned scalars s_w, s_r, s_O:

    window w = e^{s_w} + 1, acceptance width r = sigmoid(s_r)
    q, k (d_K), v (d_V) = unit(x W_Q), unit(x W_K), unit(x W_V); g = x W_G (not normalised)
    MiPE: the first two coordinates of q_i and k_i rotate by pi * i * gamma(w) / w,
          gamma(w) = (cos(pi w / 256) + 1) / 2 for w < 256, else 0
    alpha_ij = max(1 - (1 - q_i.k_j) / r, 0)^2                  (Trim-and-Square: 0 unless q.k > 1 - r)
    m_ij = (cos(pi (j - i) / w) + 1) / 2 for -w < j - i <= 0, else 0    (causal softmask)
    h_i = sum_j alpha_ij m_ij v_j                                 (not normalised; 0 when nothing passes)
    x += (TanhNorm(h_i) * tanh(SiLU(g_i))) e^{s_O} W_O,  TanhNorm(h) = tanh(|h|) / |h| * h

Embeddings are row-normalised and tied: x = e^{s_E} E[token], logits = e^{s_F} x E^T. Initial values
(the paper's, as both public ports read it): s_w evenly spaced in [0, ln 256] over a layer's tiles
(w from 2 to 257), s_r = 0 (r = 1/2), s_O = -ln sqrt(H L), s_E = 0, s_F = ln sqrt(d_E); W_Q, W_K,
W_V ~ N(0, 0.1^2 / d_out), W_G ~ N(0, 0.1^2), W_O ~ N(0, 0.1^2 / d_E). The projections read the raw
residual stream (the paper normalises q, k, v after projecting, never the input).

Beyond the training length the paper runs every tile whose learned w exceeds the longest training
sequence with w = infinity (softmask 1 over the whole causal past; MiPE off, gamma(inf) = 0):
`infinite_windows=True`, an inference option.

The pieces are kept apart for the graph export: ScreeningLayer.project (x -> q, k, v, g), relevance
(weights-free: q, k, positions, w, r -> alpha * m) and ScreeningLayer.output (h, g, x -> x_out).
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

MIPE_THRESHOLD = 256.0


@dataclass
class ScreenConfig:
    vocab_size: int = 4096
    n_layer: int = 11
    n_head: int = 11
    n_embd: int = 121
    block_size: int = 512  # training context, tokens
    attention: str = "screening"
    d_key: int = 16
    d_value: int = 64
    query_block: int = 128  # queries per block of the screening loop (memory and speed, not the result)

    @classmethod
    def from_psi(cls, psi, **kw):
        """The paper's size rule: layers = tiles per layer = psi, width = psi^2."""
        return cls(n_layer=psi, n_head=psi, n_embd=psi * psi, **kw)


def mipe_gamma(w):
    return torch.where(w < MIPE_THRESHOLD, (torch.cos(math.pi * w / MIPE_THRESHOLD) + 1) / 2, torch.zeros_like(w))


def apply_mipe(x, w, pos):
    """Rotate coordinates 0 and 1 of x (B, H, T, d) by pi * pos * gamma(w) / w; w (H,), pos (T,) float."""
    freq = torch.where(w < MIPE_THRESHOLD, math.pi * mipe_gamma(w) / w, torch.zeros_like(w))  # 0, not nan, at w = inf
    angle = freq[:, None] * pos[None, :]  # (H, T)
    cos, sin = angle.cos(), angle.sin()
    x0, x1 = x[..., 0], x[..., 1]
    return torch.cat([(x0 * cos - x1 * sin)[..., None], (x0 * sin + x1 * cos)[..., None], x[..., 2:]], dim=-1)


def softmask(q_pos, k_pos, w):
    """(H, Tq, Tk): (cos(pi (j - i) / w) + 1) / 2 for -w < j - i <= 0, else 0; w may be inf."""
    d = k_pos[None, None, :] - q_pos[None, :, None]  # j - i
    w = w[:, None, None]
    m = (torch.cos(math.pi * d / w) + 1) / 2
    return torch.where((d <= 0) & (d > -w), m, torch.zeros_like(m))


class TrimSquareMask(torch.autograd.Function):
    """max(z, 0)^2 * m with its backward written out: three T x T passes each way where autograd's
    chain of elementwise ops takes about ten (they were most of a CPU training step)."""

    @staticmethod
    def forward(ctx, z, m):
        p = z.clamp(min=0)
        ctx.save_for_backward(p, m)
        return p * m * p

    @staticmethod
    def backward(ctx, grad):
        p, m = ctx.saved_tensors
        gp = grad * p
        dm = (gp * p).sum(0) if ctx.needs_input_grad[1] else None  # m (H, Tq, Tk) is shared by the batch
        return gp * (2 * m), dm


def relevance(q, k, q_pos, k_pos, w, r):
    """alpha * m (B, H, Tq, Tk) of queries q at q_pos against keys k at k_pos; no weights involved.
    alpha = max(1 - (1 - q.k) / r, 0)^2, with 1 - (1 - q.k) / r computed as (q / r).k + 1 - 1 / r."""
    inv = 1 / r[:, None, None]
    z = (q * inv).float() @ k.float().transpose(-2, -1) + (1 - inv)
    return TrimSquareMask.apply(z, softmask(q_pos, k_pos, w))


def tanh_norm(h):
    """tanh(|h|) / |h| * h; at h = 0 the limit (the identity) so the value is 0 and the gradient finite."""
    n = (h * h).sum(-1, keepdim=True).clamp(min=1e-24).sqrt()
    return torch.tanh(n) / n * h


class ScreeningLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H, E, dk, dv = cfg.n_head, cfg.n_embd, cfg.d_key, cfg.d_value
        self.H, self.dk, self.dv = H, dk, dv
        # One matrix for the four projections of every tile: [q | k | v | g], each (H, d) per token.
        self.qkvg = nn.Linear(E, H * (2 * dk + 2 * dv), bias=False)
        self.out = nn.Linear(H * dv, E, bias=False)
        self.s_w = nn.Parameter(torch.linspace(0.0, math.log(MIPE_THRESHOLD), H))
        self.s_r = nn.Parameter(torch.zeros(H))
        self.s_o = nn.Parameter(torch.full((H,), -0.5 * math.log(H * cfg.n_layer)))
        with torch.no_grad():
            W = self.qkvg.weight.view(H, 2 * dk + 2 * dv, E)  # rows of one tile: q, k, v, g
            W[:, :2 * dk].normal_(0.0, 0.1 / math.sqrt(dk))
            W[:, 2 * dk:2 * dk + dv].normal_(0.0, 0.1 / math.sqrt(dv))
            W[:, 2 * dk + dv:].normal_(0.0, 0.1)
            self.out.weight.normal_(0.0, 0.1 / math.sqrt(E))

    def windows(self, infinite_beyond=None):
        """w (H,); tiles whose w exceeds infinite_beyond (the training length) get w = inf."""
        w = self.s_w.exp() + 1
        if infinite_beyond is not None:
            w = torch.where(w > infinite_beyond, torch.full_like(w, math.inf), w)
        return w

    def acceptance(self):
        return torch.sigmoid(self.s_r)

    def project(self, x, w, pos):
        """x (B, T, E) -> q, k (B, H, T, d_K) unit and MiPE-rotated, v (B, H, T, d_V) unit, g (B, H, T, d_V)."""
        B, T, _ = x.shape
        z = self.qkvg(x).view(B, T, self.H, -1).transpose(1, 2)
        q, k, v, g = z.split([self.dk, self.dk, self.dv, self.dv], dim=-1)
        q, k, v = F.normalize(q, dim=-1), F.normalize(k, dim=-1), F.normalize(v, dim=-1)
        return apply_mipe(q, w, pos), apply_mipe(k, w, pos), v, g

    def output(self, h, g, x):
        """x + (TanhNorm(h) * tanh(SiLU(g))) e^{s_O} W_O; h, g (B, H, T, d_V)."""
        B, H, T, dv = h.shape
        u = tanh_norm(h.float()) * torch.tanh(F.silu(g)) * self.s_o.exp()[:, None, None]
        return x + self.out(u.transpose(1, 2).reshape(B, T, H * dv).to(x.dtype))

    def forward(self, x, w, block, keep=None):
        """One layer over blocks of queries; each block reads only the keys inside the widest window.
        keep: None, "maps" (alpha * m, (B, H, T, T)), "last" (the last query's row, (B, H, T)) or
        "focus" (the largest relevance of each query, mean over tiles, (B, T))."""
        B, T, _ = x.shape
        pos = torch.arange(T, device=x.device, dtype=torch.float32)
        r = self.acceptance()
        q, k, v, g = self.project(x, w, pos)
        reach = T if math.isinf(w.max().item()) else math.ceil(w.max().item())  # keys farther back have m = 0
        hs, kept = [], []
        for a in range(0, T, block):
            b = min(T, a + block)
            lo = max(0, a - reach + 1)
            rel = relevance(q[:, :, a:b], k[:, :, lo:b], pos[a:b], pos[lo:b], w, r)
            hs.append(rel.to(v.dtype) @ v[:, :, lo:b])
            if keep == "maps":
                kept.append(F.pad(rel, (lo, T - b)))
            elif keep == "last" and b == T:
                kept.append(F.pad(rel[:, :, -1], (lo, 0)))
            elif keep == "focus":
                kept.append(rel.amax(-1).mean(1))
        out = self.output(torch.cat(hs, dim=2), g, x)
        return out, (None if keep is None else torch.cat(kept, dim=-2 if keep == "maps" else -1))


class Multiscreen(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Parameter(torch.empty(cfg.vocab_size, cfg.n_embd).normal_(0.0, 0.1 / math.sqrt(cfg.n_embd)))
        self.s_e = nn.Parameter(torch.zeros(()))
        self.s_f = nn.Parameter(torch.tensor(0.5 * math.log(cfg.n_embd)))
        self.layers = nn.ModuleList([ScreeningLayer(cfg) for _ in range(cfg.n_layer)])

    def layer_windows(self, infinite_windows=False):
        return [l.windows(self.cfg.block_size if infinite_windows else None) for l in self.layers]

    def learned_windows(self):
        """(L, H) learned w."""
        return torch.stack([l.windows().detach() for l in self.layers])

    def learned_acceptance(self):
        """(L, H) learned r."""
        return torch.stack([l.acceptance().detach() for l in self.layers])

    def embed(self):
        return F.normalize(self.wte, dim=-1)

    def run(self, idx, keep=None, infinite_windows=False):
        """idx (B, T) -> final residual stream and, per layer, what `keep` asks for (ScreeningLayer.forward)."""
        E = self.embed()
        x = F.embedding(idx, E) * self.s_e.exp()
        kept = []
        ws = self.layer_windows(infinite_windows)
        for layer, w in zip(self.layers, ws):
            x, k = layer(x, w, self.cfg.query_block, keep)
            kept.append(k)
        return x, E, kept

    def forward(self, idx, targets=None, return_weights=False, infinite_windows=False):
        """The GPT interface of model.py: logits, loss (B, T) or None, relevance maps per layer or None."""
        x, E, maps = self.run(idx, "maps" if return_weights else None, infinite_windows)
        logits = (x * self.s_f.exp()) @ E.t()
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1),
                                   reduction="none").view(targets.shape)
        return logits, loss, (maps if return_weights else None)

    @torch.no_grad()
    def relevance_maps(self, idx, infinite_windows=False):
        """Per layer (B, H, T, T) alpha * m, and the (L, H) windows and acceptance widths used."""
        maps = self.forward(idx, return_weights=True, infinite_windows=infinite_windows)[2]
        return maps, torch.stack([w.detach() for w in self.layer_windows(infinite_windows)]), self.learned_acceptance()

    @torch.no_grad()
    def last_query(self, idx, infinite_windows=False):
        """Logits at the last position and, per layer, the last query's relevance (B, H, T)."""
        x, E, rows = self.run(idx, "last", infinite_windows)
        return (x[:, -1] * self.s_f.exp()) @ E.t(), rows

    @torch.no_grad()
    def focus(self, idx, infinite_windows=False):
        """Per layer (B, T): the largest relevance of each query, mean over tiles."""
        return self.run(idx, "focus", infinite_windows)[2]


def n_parameters(cfg):
    """The closed form: tied embedding, per tile four projections, the output and s_w, s_r, s_O; s_E, s_F."""
    per_tile = cfg.n_embd * (2 * cfg.d_key + 2 * cfg.d_value) + cfg.d_value * cfg.n_embd + 3
    return cfg.vocab_size * cfg.n_embd + cfg.n_layer * cfg.n_head * per_tile + 2
