"""Hugging Face decoders as row-wise adapters: GPT-2, the Llama family (Llama, TinyLlama, SmolLM,
Mistral without sliding window) and Qwen2/2.5.

Each class follows the `Adapter` interface of the model-folder contract v3 (training/graphs.py):
the facts (layers, heads, kv_heads, head_dim, width, vocab_size, rope_base, max_positions,
train_context, architecture) and four row-wise methods on batch-free tensors (rows are tokens):

    embed(input_ids, positions) -> x                                   (B, C)
    qkv(layer, x, positions, ssmax_s, rope_scale) -> q, k, v           (B, H*hs), (B, KV*hs), (B, KV*hs)
    out(layer, x, attn) -> x                                           attn (B, H*hs)
    head(x, next_ids) -> lse, target                                   (B,), (B,)

q comes out multiplied by the model's attention scale and by s * ln(pos + 1) for heads with s > 0;
query head h reads key/value head h // (H // KV). Weights are float32 nn.Linear/nn.LayerNorm
modules in [out, in] layout whatever the checkpoint stored (GPT-2's Conv1D is transposed on load).
`from_state_dict` checks every tensor's presence and shape against config.json and raises
WeightsError naming the first problem. This module reads no files; training/convert.py does.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from graphs import Adapter, head_from_logits, rope_cos_sin, ssmax_scale
from model import apply_rope


class WeightsError(Exception):
    """A tensor is missing or has the wrong shape for config.json."""


class _Weights:
    """Takes tensors out of a state dict by name, checking shapes; reports what is missing."""

    def __init__(self, state, source):
        self.state, self.source = state, source

    def take(self, name, shape):
        t = self.state.get(name)
        if t is None:
            raise WeightsError(f"{self.source} lacks tensor {name}")
        if tuple(t.shape) != tuple(shape):
            raise WeightsError(f"{self.source}: {name} has shape {list(t.shape)}, config.json implies {list(shape)}")
        return t.float()

    def load(self, module, prefix, transpose=False):
        """Copies prefix.weight (and prefix.bias when the module has one) into module."""
        w = module.weight
        shape = tuple(w.shape)[::-1] if transpose else tuple(w.shape)
        src = self.take(prefix + ".weight", shape)
        w.data.copy_(src.t() if transpose else src)
        if getattr(module, "bias", None) is not None:
            module.bias.data.copy_(self.take(prefix + ".bias", module.bias.shape))


class RMSNorm(nn.Module):
    def __init__(self, width, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def _require(cfg, *keys):
    for key in keys:
        if cfg.get(key) is None:
            raise WeightsError(f"config.json lacks {key}")


def _head(norm, lm_weight, x, next_ids):
    return head_from_logits(norm(x) @ lm_weight.t(), next_ids)


_GPT2_ACTIVATIONS = {
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "gelu": F.gelu,
    "relu": F.relu,
}


class GPT2Block(nn.Module):
    def __init__(self, C, inner, eps, scale):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(C, eps=eps), nn.LayerNorm(C, eps=eps)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, inner), nn.Linear(inner, C)
        self.scale = scale


class GPT2Adapter(Adapter):
    """GPT-2: learned positions, LayerNorm, Conv1D weights ([in, out] in the checkpoint), tied
    lm_head, attention scale 1/sqrt(hs) (and 1/(layer+1) with scale_attn_by_inverse_layer_idx)."""

    architecture = "gpt2"

    def __init__(self, cfg):
        super().__init__()
        _require(cfg, "n_embd", "n_head", "n_layer", "n_positions", "vocab_size")
        act = cfg.get("activation_function", "gelu_new")
        if act not in _GPT2_ACTIVATIONS:
            raise WeightsError(f"config.json activation_function {act!r} is not supported; one of {', '.join(_GPT2_ACTIVATIONS)}")
        self.act = _GPT2_ACTIVATIONS[act]
        C, H = cfg["n_embd"], cfg["n_head"]
        if C % H:
            raise WeightsError(f"config.json n_embd {C} is not a multiple of n_head {H}")
        self.layers, self.heads, self.kv_heads, self.head_dim = cfg["n_layer"], H, H, C // H
        self.width, self.vocab_size = C, cfg["vocab_size"]
        self.rope_base, self.max_positions = None, cfg["n_positions"]
        self.train_context = cfg["n_positions"]
        eps = cfg.get("layer_norm_epsilon", 1e-5)
        inner = cfg.get("n_inner") or 4 * C
        base = 1.0 / math.sqrt(self.head_dim) if cfg.get("scale_attn_weights", True) else 1.0
        by_layer = cfg.get("scale_attn_by_inverse_layer_idx", False)
        self.wte = nn.Embedding(self.vocab_size, C)
        self.wpe = nn.Embedding(self.max_positions, C)
        self.blocks = nn.ModuleList(
            [GPT2Block(C, inner, eps, base / (l + 1) if by_layer else base) for l in range(self.layers)])
        self.ln_f = nn.LayerNorm(C, eps=eps)

    @classmethod
    def from_state_dict(cls, cfg, state, source):
        # GPT2LMHeadModel saves "transformer.h.0...", GPT2Model (the original gpt2 files) "h.0...".
        state = {k[len("transformer."):] if k.startswith("transformer.") else k: v for k, v in state.items()}
        self = cls(cfg)
        w = _Weights(state, source)
        w.load(self.wte, "wte")
        w.load(self.wpe, "wpe")
        for l, b in enumerate(self.blocks):
            p = f"h.{l}."
            w.load(b.ln_1, p + "ln_1")
            w.load(b.ln_2, p + "ln_2")
            w.load(b.c_attn, p + "attn.c_attn", transpose=True)
            w.load(b.c_proj, p + "attn.c_proj", transpose=True)
            w.load(b.c_fc, p + "mlp.c_fc", transpose=True)
            w.load(b.mlp_proj, p + "mlp.c_proj", transpose=True)
        w.load(self.ln_f, "ln_f")
        return self

    def embed(self, input_ids, positions):
        return self.wte(input_ids) + self.wpe(positions)

    def qkv(self, layer, x, positions, ssmax_s, rope_scale):
        b = self.blocks[layer]
        B, H, hs = x.shape[0], self.heads, self.head_dim
        q, k, v = b.c_attn(b.ln_1(x)).split(self.width, dim=-1)
        q = q.view(B, H, hs) * (ssmax_scale(ssmax_s, positions) * b.scale)
        return q.reshape(B, H * hs), k, v

    def out(self, layer, x, attn):
        b = self.blocks[layer]
        x = x + b.c_proj(attn)
        return x + b.mlp_proj(self.act(b.c_fc(b.ln_2(x))))

    def head(self, x, next_ids):
        return _head(self.ln_f, self.wte.weight, x, next_ids)


class LlamaBlock(nn.Module):
    def __init__(self, C, H, KV, hs, inner, eps, qkv_bias, o_bias, mlp_bias):
        super().__init__()
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(C, eps), RMSNorm(C, eps)
        self.q_proj = nn.Linear(C, H * hs, bias=qkv_bias)
        self.k_proj = nn.Linear(C, KV * hs, bias=qkv_bias)
        self.v_proj = nn.Linear(C, KV * hs, bias=qkv_bias)
        self.o_proj = nn.Linear(H * hs, C, bias=o_bias)
        self.gate_proj = nn.Linear(C, inner, bias=mlp_bias)
        self.up_proj = nn.Linear(C, inner, bias=mlp_bias)
        self.down_proj = nn.Linear(inner, C, bias=mlp_bias)


def llama4_scaling_of(cfg, rope):
    """(beta, length) of Llama 4's query scaling where the config has them (the engine runs them
    in ministral3-scaling, Ministral 3's form of the rule): Ministral 3 writes
    rope_parameters llama_4_scaling_beta and original_max_position_embeddings, Llama 4 attn_scale
    and floor_scale; else None (the engine then uses 0.1 and the training context)."""
    if rope.get("llama_4_scaling_beta") is not None and rope.get("original_max_position_embeddings"):
        return float(rope["llama_4_scaling_beta"]), int(rope["original_max_position_embeddings"])
    if cfg.get("attn_scale") is not None and cfg.get("floor_scale"):
        return float(cfg["attn_scale"]), int(cfg["floor_scale"])
    return None


class LlamaAdapter(Adapter):
    """The Llama family: RMSNorm, RoPE (rotate_half halves, base rope_theta), grouped-query
    attention, SwiGLU MLP silu(gate) * up, optional tied lm_head, scale 1/sqrt(head_dim)."""

    architecture = "llama"
    qkv_bias_always = False

    def __init__(self, cfg):
        super().__init__()
        _require(cfg, "hidden_size", "num_attention_heads", "num_hidden_layers", "intermediate_size", "vocab_size",
                 "max_position_embeddings")
        if cfg.get("hidden_act", "silu") != "silu":
            raise WeightsError(f"config.json hidden_act {cfg['hidden_act']!r} is not supported (the Llama family uses silu)")
        # transformers 5 writes rope_parameters {rope_type, rope_theta, ...}; older files rope_theta
        # and rope_scaling (null, or {type or rope_type, factor, ...}).
        rope = cfg.get("rope_parameters") or cfg.get("rope_scaling") or {}
        kind = rope.get("rope_type", rope.get("type", "default"))
        if kind != "default" or rope.get("partial_rotary_factor", 1.0) != 1.0:
            raise WeightsError(f"config.json RoPE {rope} is not supported: only plain RoPE (rope_type default, no scaling)")
        C, H = cfg["hidden_size"], cfg["num_attention_heads"]
        KV = cfg.get("num_key_value_heads") or H
        hs = cfg.get("head_dim") or C // H
        if H % KV:
            raise WeightsError(f"config.json num_attention_heads {H} is not a multiple of num_key_value_heads {KV}")
        if hs % 2:
            raise WeightsError(f"head size {hs} is odd: RoPE needs an even head size")
        self.layers, self.heads, self.kv_heads, self.head_dim = cfg["num_hidden_layers"], H, KV, hs
        self.width, self.vocab_size = C, cfg["vocab_size"]
        self.rope_base = float(cfg.get("rope_theta") or rope.get("rope_theta") or 10000.0)
        self.max_positions, self.train_context = None, cfg["max_position_embeddings"]
        self.llama4_scaling = llama4_scaling_of(cfg, rope)
        self.tied = bool(cfg.get("tie_word_embeddings", False))
        bias = bool(cfg.get("attention_bias", False))
        eps = cfg.get("rms_norm_eps", 1e-6)
        self.embed_tokens = nn.Embedding(self.vocab_size, C)
        self.blocks = nn.ModuleList([
            LlamaBlock(C, H, KV, hs, cfg["intermediate_size"], eps, bias or self.qkv_bias_always, bias,
                       bool(cfg.get("mlp_bias", False)))
            for _ in range(self.layers)])
        self.norm = RMSNorm(C, eps)
        self.lm_head = None if self.tied else nn.Linear(C, self.vocab_size, bias=False)

    @classmethod
    def from_state_dict(cls, cfg, state, source):
        self = cls(cfg)
        w = _Weights(state, source)
        w.load(self.embed_tokens, "model.embed_tokens")
        for l, b in enumerate(self.blocks):
            p = f"model.layers.{l}."
            for name in ("input_layernorm", "post_attention_layernorm"):
                w.load(getattr(b, name), p + name)
            for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
                w.load(getattr(b, name), p + "self_attn." + name)
            for name in ("gate_proj", "up_proj", "down_proj"):
                w.load(getattr(b, name), p + "mlp." + name)
        w.load(self.norm, "model.norm")
        if self.lm_head is not None:
            w.load(self.lm_head, "lm_head")
        return self

    def embed(self, input_ids, positions):
        return self.embed_tokens(input_ids)

    def qkv(self, layer, x, positions, ssmax_s, rope_scale):
        b = self.blocks[layer]
        B, H, KV, hs = x.shape[0], self.heads, self.kv_heads, self.head_dim
        h = b.input_layernorm(x)
        cos, sin = rope_cos_sin(positions, hs, self.rope_base, rope_scale)
        q = apply_rope(b.q_proj(h).view(B, H, hs), cos, sin) * (ssmax_scale(ssmax_s, positions) / math.sqrt(hs))
        k = apply_rope(b.k_proj(h).view(B, KV, hs), cos, sin)
        return q.reshape(B, H * hs), k.reshape(B, KV * hs), b.v_proj(h)

    def out(self, layer, x, attn):
        b = self.blocks[layer]
        x = x + b.o_proj(attn)
        h = b.post_attention_layernorm(x)
        return x + b.down_proj(F.silu(b.gate_proj(h)) * b.up_proj(h))

    def head(self, x, next_ids):
        return _head(self.norm, self.embed_tokens.weight if self.tied else self.lm_head.weight, x, next_ids)


class Qwen2Adapter(LlamaAdapter):
    """Qwen2/2.5: Llama with biases on q, k and v (none on o_proj)."""

    architecture = "qwen2"
    qkv_bias_always = True


# config.json model_type -> adapter; architectures[0] is the fallback when model_type is absent.
ADAPTERS = {"gpt2": GPT2Adapter, "llama": LlamaAdapter, "mistral": LlamaAdapter, "qwen2": Qwen2Adapter}
ARCHITECTURES = {"GPT2LMHeadModel": "gpt2", "GPT2Model": "gpt2", "LlamaForCausalLM": "llama",
                 "MistralForCausalLM": "mistral", "Qwen2ForCausalLM": "qwen2"}
