"""Checks of training/convert.py and training/hf_adapters.py on tiny random checkpoints in Hugging
Face layout, written here without transformers. The reference below is this file's own reading of
the transformers modelling code (full-sequence, eager attention); fidelity against transformers
itself needs the fixtures of training/make_hf_fixtures.py.

Run: /usr/bin/python3 -m unittest -v training/test_convert.py
"""
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
import bpe  # noqa: E402
import convert  # noqa: E402
from convert import ConvertError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
V, C, L, P = 300, 64, 2, 128
CONFIGS = {
    "gpt2": {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": V, "n_embd": C, "n_head": 4,
             "n_layer": L, "n_positions": P, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"},
    "llama": {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": V, "hidden_size": C,
              "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": L, "intermediate_size": 96,
              "max_position_embeddings": 256, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
              "tie_word_embeddings": False},
    "qwen2": {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": V, "hidden_size": C,
              "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": L, "intermediate_size": 96,
              "max_position_embeddings": 512, "rms_norm_eps": 1e-6, "hidden_act": "silu",
              "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0},  # as transformers 5 writes it
              "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": 4096},
}
# head_dim given explicitly and unlike hidden_size / heads (as Qwen3 and some SmolLM configs do), tied.
CONFIGS["llama-head-dim"] = {**CONFIGS["llama"], "head_dim": 24, "tie_word_embeddings": True}
CONFIGS["mistral"] = {**CONFIGS["llama"], "model_type": "mistral", "architectures": ["MistralForCausalLM"],
                      "sliding_window": None}


def random_state(cfg, seed=0):
    """A state dict with transformers' names and layouts for cfg (GPT-2's Conv1D stored [in, out])."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape, scale=0.08):
        return torch.randn(*shape, generator=g) * scale

    def norm(n):
        return 1.0 + r(n, scale=0.1)

    s = {}
    if cfg["model_type"] == "gpt2":
        s["transformer.wte.weight"], s["transformer.wpe.weight"] = r(V, C, scale=0.3), r(P, C, scale=0.1)
        for l in range(L):
            p = f"transformer.h.{l}."
            s[p + "ln_1.weight"], s[p + "ln_1.bias"] = norm(C), r(C)
            s[p + "ln_2.weight"], s[p + "ln_2.bias"] = norm(C), r(C)
            s[p + "attn.c_attn.weight"], s[p + "attn.c_attn.bias"] = r(C, 3 * C, scale=0.3), r(3 * C)
            s[p + "attn.c_proj.weight"], s[p + "attn.c_proj.bias"] = r(C, C), r(C)
            s[p + "mlp.c_fc.weight"], s[p + "mlp.c_fc.bias"] = r(C, 4 * C), r(4 * C)
            s[p + "mlp.c_proj.weight"], s[p + "mlp.c_proj.bias"] = r(4 * C, C), r(C)
        s["transformer.ln_f.weight"], s["transformer.ln_f.bias"] = norm(C), r(C)
        return s
    H, KV, I = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["intermediate_size"]
    hs = cfg.get("head_dim") or C // H
    s["model.embed_tokens.weight"] = r(V, C, scale=0.5)
    for l in range(L):
        p = f"model.layers.{l}."
        s[p + "input_layernorm.weight"], s[p + "post_attention_layernorm.weight"] = norm(C), norm(C)
        s[p + "self_attn.q_proj.weight"], s[p + "self_attn.k_proj.weight"] = r(H * hs, C, scale=0.3), r(KV * hs, C, scale=0.3)
        s[p + "self_attn.v_proj.weight"], s[p + "self_attn.o_proj.weight"] = r(KV * hs, C), r(C, H * hs)
        if cfg["model_type"] == "qwen2":
            s[p + "self_attn.q_proj.bias"], s[p + "self_attn.k_proj.bias"] = r(H * hs), r(KV * hs)
            s[p + "self_attn.v_proj.bias"] = r(KV * hs)
        s[p + "mlp.gate_proj.weight"], s[p + "mlp.up_proj.weight"] = r(I, C), r(I, C)
        s[p + "mlp.down_proj.weight"] = r(C, I)
    s["model.norm.weight"] = norm(C)
    if not cfg.get("tie_word_embeddings"):
        s["lm_head.weight"] = r(V, C, scale=0.3)
    return s


def as_stored(t, dtype):
    """The float32 values a tensor has after a round trip through dtype."""
    return {"BF16": t.bfloat16().float(), "F16": t.half().float()}.get(dtype, t)


def write_safetensors(path, tensors, dtype="F32"):
    """The safetensors layout: u64 little-endian header size, JSON header, raw little-endian bytes."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        a = t.numpy()
        if a.dtype == np.float32 and dtype == "BF16":
            raw, kind = t.bfloat16().view(torch.int16).numpy().tobytes(), "BF16"
        elif a.dtype == np.float32 and dtype == "F16":
            raw, kind = a.astype(np.float16).tobytes(), "F16"
        else:
            raw, kind = a.tobytes(), {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[a.dtype]
        header[name] = {"dtype": kind, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def write_tokenizer(folder, vocab=V):
    chars = [chr(0x100 + i) for i in range(vocab)]
    tok = {"version": "1.0", "added_tokens": [], "normalizer": None, "pre_tokenizer": {"type": "ByteLevel"},
           "model": {"type": "BPE", "vocab": {c: i for i, c in enumerate(chars)}, "merges": []}}
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)


def write_checkpoint(folder, name, state=None, fmt="safetensors", dtype="F32", cfg=None):
    """A checkpoint folder in transformers' layout; returns (path, the float32 weights as stored)."""
    cfg = cfg or CONFIGS[name]
    state = random_state(cfg) if state is None else state
    path = os.path.join(folder, name + "-" + fmt + "-" + dtype)
    os.makedirs(path)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(cfg, f)
    write_tokenizer(path)
    stored = {k: as_stored(v, dtype) for k, v in state.items()}
    if fmt == "safetensors":
        write_safetensors(os.path.join(path, "model.safetensors"), state, dtype)
    elif fmt == "sharded":
        names = sorted(state)
        shards = {"model-00001-of-00002.safetensors": names[::2], "model-00002-of-00002.safetensors": names[1::2]}
        for shard, keys in shards.items():
            write_safetensors(os.path.join(path, shard), {k: state[k] for k in keys}, dtype)
        index = {"metadata": {"total_size": 0}, "weight_map": {k: s for s, keys in shards.items() for k in keys}}
        with open(os.path.join(path, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f)
    else:  # bin: torch.save of the state dict, with the causal-mask buffers old GPT-2 files carry
        extra = {f"transformer.h.{l}.attn.bias": torch.ones(1, 1, P, P).tril() for l in range(L)} if name == "gpt2" else {}
        torch.save({**{k: v.to(torch.bfloat16) if dtype == "BF16" else v for k, v in state.items()}, **extra},
                   os.path.join(path, "pytorch_model.bin"))
    return path, stored


def hf_reference(cfg, w, ids):
    """Logits (T, V) and attention weights [(H, T, T)] as transformers computes them (eager)."""
    T = len(ids)
    causal = torch.ones(T, T, dtype=torch.bool).tril()

    def attend(q, k, v, scale):  # (H, T, hs) each
        att = (q @ k.transpose(1, 2)) * scale
        att = att.masked_fill(~causal, float("-inf")).softmax(-1)
        return att, (att @ v).transpose(0, 1).reshape(T, -1)

    weights = []
    if cfg["model_type"] == "gpt2":
        H = cfg["n_head"]
        hs = C // H
        ln = lambda x, p: F.layer_norm(x, (C,), w[p + ".weight"], w[p + ".bias"], 1e-5)  # noqa: E731
        conv1d = lambda x, p: x @ w[p + ".weight"] + w[p + ".bias"]  # noqa: E731  Conv1D: x @ W[in, out] + b
        h = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][:T]
        for l in range(L):
            p = f"transformer.h.{l}."
            q, k, v = conv1d(ln(h, p + "ln_1"), p + "attn.c_attn").split(C, dim=-1)
            att, y = attend(*(t.view(T, H, hs).transpose(0, 1) for t in (q, k, v)), 1 / math.sqrt(hs))
            weights.append(att)
            h = h + conv1d(y, p + "attn.c_proj")
            h = h + conv1d(F.gelu(conv1d(ln(h, p + "ln_2"), p + "mlp.c_fc"), approximate="tanh"), p + "mlp.c_proj")
        return ln(h, "transformer.ln_f") @ w["transformer.wte.weight"].t(), weights
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hs, eps = cfg.get("head_dim") or C // H, cfg["rms_norm_eps"]

    def rms(x, p):
        return w[p + ".weight"] * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def linear(x, p):
        return F.linear(x, w[p + ".weight"], w.get(p + ".bias"))

    def rotate_half(x):
        return torch.cat((-x[..., hs // 2:], x[..., :hs // 2]), dim=-1)

    theta = cfg.get("rope_theta") or cfg["rope_parameters"]["rope_theta"]
    inv_freq = 1.0 / (theta ** (torch.arange(0, hs, 2, dtype=torch.int64).float() / hs))
    freqs = torch.arange(T).float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    h = w["model.embed_tokens.weight"][ids]
    for l in range(L):
        p = f"model.layers.{l}."
        x = rms(h, p + "input_layernorm")
        q = linear(x, p + "self_attn.q_proj").view(T, H, hs).transpose(0, 1)
        k = linear(x, p + "self_attn.k_proj").view(T, KV, hs).transpose(0, 1)
        v = linear(x, p + "self_attn.v_proj").view(T, KV, hs).transpose(0, 1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = (t[:, None].expand(KV, H // KV, T, hs).reshape(H, T, hs) for t in (k, v))  # repeat_kv
        att, y = attend(q, k, v, 1 / math.sqrt(hs))
        weights.append(att)
        h = h + linear(y, p + "self_attn.o_proj")
        x = rms(h, p + "post_attention_layernorm")
        h = h + linear(F.silu(linear(x, p + "mlp.gate_proj")) * linear(x, p + "mlp.up_proj"), p + "mlp.down_proj")
    lm = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return rms(h, "model.norm") @ lm.t(), weights


@torch.no_grad()
def adapter_forward(adapter, ids, ssmax_s=None, rope_scale=1.0, head=False):
    """The whole model from embed, qkv, out and head alone, with plain causal softmax attention:
    surprisal (T,) (0 for the first token), attention weights [(H, T, T)] and attention outputs;
    with head=True also the head's log-normaliser and next-token logit (T,) at every position."""
    ids = torch.as_tensor(ids)
    T, H, KV, hs = len(ids), adapter.heads, adapter.kv_heads, adapter.head_dim
    pos = torch.arange(T)
    x = adapter.embed(ids, pos)
    weights, outputs = [], []
    for l in range(adapter.layers):
        s = torch.zeros(H) if ssmax_s is None else ssmax_s[l]
        q, k, v = adapter.qkv(l, x, pos, s, None if adapter.rope_base is None else torch.tensor(rope_scale))
        kv_of = torch.arange(H) // (H // KV)  # query head h reads kv head h // (H / KV)
        kh, vh = k.view(T, KV, hs).transpose(0, 1)[kv_of], v.view(T, KV, hs).transpose(0, 1)[kv_of]
        z = q.view(T, H, hs).transpose(0, 1) @ kh.transpose(1, 2)  # q carries the attention scale
        att = z.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf")).softmax(-1)
        y = (att @ vh).transpose(0, 1).reshape(T, H * hs)
        weights.append(att)
        outputs.append(y)
        x = adapter.out(l, x, y)
    lse, target = adapter.head(x, torch.roll(ids, -1))
    surprisal = torch.cat([torch.zeros(1), (lse - target)[:-1]])
    return (surprisal, weights, outputs, (lse, target)) if head else (surprisal, weights, outputs)


def reference_surprisal(logits, ids):
    logp = logits.log_softmax(-1)
    return torch.cat([torch.zeros(1), -logp[torch.arange(len(ids) - 1), torch.as_tensor(ids[1:])]])


IDS = [5, 17, 200, 3, 3, 99, 250, 1, 42, 42, 42, 7, 180, 64, 2, 299]


class Conversion(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def assert_matches_reference(self, name, path, stored, tol=2e-5):
        adapter = convert.load(path)
        surprisal, weights, _ = adapter_forward(adapter, IDS)
        logits, ref_weights = hf_reference(CONFIGS[name], stored, IDS)
        np.testing.assert_allclose(surprisal.numpy(), reference_surprisal(logits, IDS).numpy(), atol=tol, rtol=0)
        for w, r in zip(weights, ref_weights):
            np.testing.assert_allclose(w.numpy(), r.numpy(), atol=tol, rtol=0)
        self.assertGreater(float(surprisal[1:].std()), 0.01, "surprisal varies from token to token")
        return adapter

    def test_each_architecture_matches_the_transformers_reading(self):
        for name in CONFIGS:
            with self.subTest(name):
                self.assert_matches_reference(name, *write_checkpoint(self.dir, name))

    def test_weight_formats_bf16_f16_sharded_and_bin(self):
        for name, fmt, dtype in (("llama", "sharded", "BF16"), ("qwen2", "safetensors", "F16"),
                                 ("gpt2", "bin", "F32"), ("llama", "bin", "BF16"), ("gpt2", "sharded", "F32")):
            with self.subTest(f"{name} {fmt} {dtype}"):
                self.assert_matches_reference(name, *write_checkpoint(self.dir, name, fmt=fmt, dtype=dtype))

    def test_causal_and_deterministic(self):
        for name in ("gpt2", "llama", "qwen2"):
            with self.subTest(name):
                adapter = convert.load(write_checkpoint(self.dir, name)[0])
                s1, w1, _ = adapter_forward(adapter, IDS)
                s2, w2, _ = adapter_forward(adapter, IDS)
                self.assertTrue(torch.equal(s1, s2) and all(torch.equal(a, b) for a, b in zip(w1, w2)))
                changed = IDS[:10] + [(i + 1) % V for i in IDS[10:]]
                s3, w3, _ = adapter_forward(adapter, changed)
                # Rows of queries before the change see only unchanged tokens; surprisal of token
                # t is predicted at t - 1, so it moves from token 10 on.
                torch.testing.assert_close(s3[:10], s1[:10], atol=1e-6, rtol=0)
                for a, b in zip(w1, w3):
                    torch.testing.assert_close(b[:, :10, :10], a[:, :10, :10], atol=1e-6, rtol=0)
                self.assertFalse(torch.allclose(s3[10:], s1[10:]))
                self.assertTrue(all(torch.all(w.triu(1) == 0) for w in w1), "no weight on a later key")

    def test_grouped_query_heads_read_kv_head_h_over_group(self):
        # Qwen2, 4 query heads on 2 kv heads: zero q/k weights (uniform attention); v is its bias
        # alone, 0 for kv head 0 and 1 for kv head 1. transformers' repeat_kv gives query heads
        # 0, 1 kv head 0 and heads 2, 3 kv head 1; an interleaved mapping would give 0, 1, 0, 1.
        cfg = CONFIGS["qwen2"]
        state = random_state(cfg)
        hs = C // 4
        for l in range(L):
            p = f"model.layers.{l}.self_attn."
            for t in ("q_proj", "k_proj", "v_proj"):
                state[p + t + ".weight"].zero_()
                state[p + t + ".bias"].zero_()
            state[p + "v_proj.bias"][hs:] = 1.0
        adapter = convert.load(write_checkpoint(self.dir, "qwen2", state)[0])
        _, _, outputs = adapter_forward(adapter, IDS)
        per_head = outputs[0].view(len(IDS), 4, hs)
        for h, expected in enumerate([0.0, 0.0, 1.0, 1.0]):
            torch.testing.assert_close(per_head[:, h], torch.full((len(IDS), hs), expected))

    def test_gpt2_conv1d_weights_are_transposed_on_load(self):
        # c_proj is square, so a missing transpose would load without a shape error. With the MLP
        # zeroed, out(x = 0, attn = a) is a @ W + b for Conv1D's W [in, out].
        state = random_state(CONFIGS["gpt2"])
        for t in ("mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"):
            state["transformer.h.0." + t].zero_()
        W = torch.arange(C * C, dtype=torch.float32).view(C, C) / (C * C)  # far from symmetric
        state["transformer.h.0.attn.c_proj.weight"] = W
        b = state["transformer.h.0.attn.c_proj.bias"]
        adapter = convert.load(write_checkpoint(self.dir, "gpt2", state)[0])
        a = torch.randn(3, C)
        got = adapter.out(0, torch.zeros(3, C), a)
        torch.testing.assert_close(got, a @ W + b)
        self.assertGreater(float((a @ W.t() - a @ W).abs().max()), 0.1, "the case tells the two layouts apart")

    def test_ssmax_and_rope_scale_inputs(self):
        adapter = convert.load(write_checkpoint(self.dir, "llama")[0])
        x, pos = torch.randn(6, C), torch.arange(0, 60, 10)
        s = torch.tensor([0.0, 0.3, 0.0, 0.5])
        q0, k0, v0 = adapter.qkv(0, x, pos, torch.zeros(4), torch.tensor(1.0))
        q1, k1, v1 = adapter.qkv(0, x, pos, s, torch.tensor(1.0))
        factor = torch.where(s > 0, s * torch.log(pos.float() + 1)[:, None], torch.ones(1))  # (B, H)
        torch.testing.assert_close(q1.view(6, 4, -1), q0.view(6, 4, -1) * factor[:, :, None])
        self.assertTrue(torch.equal(k0, k1) and torch.equal(v0, v1))
        _, k50, _ = adapter.qkv(0, x, pos, torch.zeros(4), torch.tensor(50.0))
        torch.testing.assert_close(k50[0], k0[0])  # position 0 is not rotated
        self.assertFalse(torch.allclose(k50[1:], k0[1:], atol=1e-3))
        # GPT-2 has no RoPE: its qkv takes rope_scale None.
        g = convert.load(write_checkpoint(self.dir, "gpt2")[0])
        self.assertEqual(len(g.qkv(1, torch.randn(2, C), torch.arange(2), torch.zeros(4), None)), 3)

    def test_models_json_facts(self):
        facts = {}
        for name in ("gpt2", "llama-head-dim", "qwen2"):
            out = os.path.join(self.dir, f"{name}-folder")
            self.assertEqual(convert.main([write_checkpoint(self.dir, name)[0], out, "--id", name]), 0)
            with open(os.path.join(out, "models.json")) as f:
                facts[name] = json.load(f)
            for graph in ("attention.onnx", "attention-rows.onnx", "softmax/embed.onnx", "softmax/head.onnx",
                          f"softmax/layer{L - 1}.qkv.onnx", f"softmax/layer{L - 1}.out.onnx"):
                self.assertTrue(os.path.isfile(os.path.join(out, graph)), f"{name}: {graph}")
            self.assertEqual((facts[name]["contract"], facts[name]["id"], facts[name]["variants"]), (3, name, {"softmax": {"dir": "softmax"}}))
        g, l, q = facts["gpt2"], facts["llama-head-dim"], facts["qwen2"]
        # No Llama 4 scaling in these configs: the engine's defaults apply (0.1, the training context).
        self.assertTrue(all("llama4Scaling" not in f for f in facts.values()))
        self.assertEqual((g["architecture"], g["rope"], g["maxContext"], g["trainContext"]), ("gpt2", None, P, P))
        self.assertEqual((g["heads"], g["kvHeads"], g["headDim"], g["width"], g["layers"]), (4, 4, 16, C, L))
        self.assertAlmostEqual(g["posthocS"], 1 / math.log(P), places=6)
        self.assertEqual((l["architecture"], l["kvHeads"], l["headDim"], l["maxContext"]), ("llama", 2, 24, None))
        self.assertEqual(l["rope"], {"base": 10000.0, "beyondTrainContext": {"rule": "fixed", "factor": 1.0}})
        self.assertEqual((q["architecture"], q["rope"]["base"], q["trainContext"]), ("qwen2", 1e6, 512))
        self.assertAlmostEqual(q["posthocS"], 1 / math.log(512), places=6)
        # Parameters as transformers counts them (tied embeddings once).
        n = sum(t.numel() for t in random_state(CONFIGS["qwen2"]).values())
        self.assertEqual(q["parameters"], n)
        # layerParameters: every tensor of one layer in the checkpoint, embeddings and head excluded.
        for name, prefix in (("gpt2", "transformer.h.0."), ("llama-head-dim", "model.layers.0."), ("qwen2", "model.layers.0.")):
            state = random_state(CONFIGS[name])
            self.assertEqual(facts[name]["layerParameters"], sum(t.numel() for k, t in state.items() if k.startswith(prefix)), name)
        # GPT-2 and the llama here are tied: one vocabulary matrix besides the layers (and GPT-2's positions).
        self.assertEqual(g["parameters"], L * g["layerParameters"] + V * C + P * C + 2 * C)
        self.assertEqual(l["parameters"], L * l["layerParameters"] + V * C + C)


    def test_llama4_scaling_from_the_config(self):
        """beta and L of ministral3-scaling: rope_parameters' llama_4_scaling_beta and
        original_max_position_embeddings (Ministral 3), or attn_scale and floor_scale (Llama 4)."""
        base = CONFIGS["llama"]
        for extra, expect in (
            ({"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "llama_4_scaling_beta": 0.2,
                                  "original_max_position_embeddings": 96}}, {"beta": 0.2, "length": 96}),
            ({"attn_scale": 0.15, "floor_scale": 64}, {"beta": 0.15, "length": 64}),
        ):
            name = "llama4-" + "-".join(sorted(extra))
            out = os.path.join(self.dir, name + "-folder")
            src = os.path.join(self.dir, name)
            os.makedirs(src, exist_ok=True)
            checkpoint = write_checkpoint(src, "llama", cfg={**base, **extra})[0]
            self.assertEqual(convert.main([checkpoint, out, "--id", name]), 0)
            with open(os.path.join(out, "models.json")) as f:
                self.assertEqual(json.load(f)["llama4Scaling"], expect)


class TransformersFixtures(unittest.TestCase):
    """The converter against transformers itself: checkpoints and outputs that
    training/make_hf_fixtures.py wrote with transformers (surprisal, next-token logits and their
    log-normaliser, and attention rows within 1e-3). A fixture missing from test/fixtures/hf/ is a
    failure: the fixtures are committed."""

    def check(self, name):
        folder = os.path.join(os.path.dirname(HERE), "test", "fixtures", "hf", name)
        self.assertTrue(
            os.path.isfile(os.path.join(folder, "reference.json")),
            f"no transformers reference in {folder}: run training/make_hf_fixtures.py where transformers is installed",
        )
        with open(os.path.join(folder, "reference.json")) as f:
            ref = json.load(f)
        adapter = convert.load(folder)
        convert.check_tokenizer(folder, adapter.vocab_size)
        self.assertEqual(adapter.architecture, ref["architecture"])
        self.assertEqual(bpe.Tokenizer.load(os.path.join(folder, "tokenizer.json")).encode(ref["text"]), ref["ids"])
        surprisal, weights, _, (lse, target) = adapter_forward(adapter, ref["ids"], head=True)
        np.testing.assert_allclose(surprisal.numpy(), ref["surprisal"], atol=1e-3, rtol=0)
        # Logits themselves, not only their differences: a shift common to a row leaves surprisal as it is.
        np.testing.assert_allclose(target[:-1].numpy(), ref["target_logit"], atol=1e-3, rtol=0)
        np.testing.assert_allclose(lse[:-1].numpy(), ref["logsumexp"], atol=1e-3, rtol=0)
        rows = np.stack([w[:, ref["queries"], :].numpy() for w in weights])  # (L, H, Q, T)
        np.testing.assert_allclose(rows, np.array(ref["attention_rows"]), atol=1e-3, rtol=0)

    def test_gpt2(self):
        self.check("gpt2")

    def test_llama(self):
        self.check("llama")

    def test_qwen2(self):
        self.check("qwen2")

    def test_llama_with_explicit_head_dim(self):
        self.check("llama-head-dim")


class BrokenFolders(unittest.TestCase):
    """Every problem is one ConvertError naming the file and what is wrong."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path, self.stored = write_checkpoint(self.tmp.name, "llama")

    def tearDown(self):
        self.tmp.cleanup()

    def file(self, name):
        return os.path.join(self.path, name)

    def assert_fails(self, pattern):
        with self.assertRaises(ConvertError) as cm:
            convert.check_tokenizer(self.path, convert.load(self.path).vocab_size)
        self.assertRegex(str(cm.exception), pattern)
        self.assertNotIn("\n", str(cm.exception))

    def edit_config(self, **changes):
        with open(self.file("config.json")) as f:
            cfg = json.load(f)
        cfg.update(changes)
        with open(self.file("config.json"), "w") as f:
            json.dump(cfg, f)

    def edit_header(self, edit):
        with open(self.file("model.safetensors"), "rb") as f:
            data = f.read()
        n = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + n])
        edit(header)
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        with open(self.file("model.safetensors"), "wb") as f:
            f.write(len(text).to_bytes(8, "little") + text + data[8 + n:])

    def test_missing_config(self):
        os.remove(self.file("config.json"))
        self.assert_fails(r"config\.json is missing: .* is not a Hugging Face checkpoint folder")

    def test_config_not_json(self):
        with open(self.file("config.json"), "w") as f:
            f.write("{model_type: llama")
        self.assert_fails(r"config\.json is not valid JSON")

    def test_unknown_architecture_names_the_supported_ones(self):
        self.edit_config(model_type="bert", architectures=["BertForMaskedLM"])
        self.assert_fails(r"config\.json: model 'bert' is not supported; supported: gpt2 .*llama .*mistral .*qwen2")

    def test_architecture_from_architectures_when_model_type_is_absent(self):
        with open(self.file("config.json")) as f:
            cfg = json.load(f)
        del cfg["model_type"]
        with open(self.file("config.json"), "w") as f:
            json.dump(cfg, f)
        self.assertEqual(convert.load(self.path).architecture, "llama")

    def test_missing_config_key_and_unsupported_options(self):
        self.edit_config(hidden_size=None)
        self.assert_fails(r"config\.json lacks hidden_size")
        self.edit_config(hidden_size=C, rope_scaling={"rope_type": "llama3", "factor": 8.0})
        self.assert_fails(r"config\.json RoPE .*llama3.* is not supported: only plain RoPE")
        self.edit_config(rope_scaling={"type": "linear", "factor": 2.0})
        self.assert_fails(r"config\.json RoPE .*linear.* is not supported")
        self.edit_config(rope_scaling=None, rope_parameters={"rope_type": "yarn", "rope_theta": 1e4, "factor": 4.0})
        self.assert_fails(r"config\.json RoPE .*yarn.* is not supported")
        self.edit_config(rope_parameters=None, hidden_act="gelu")
        self.assert_fails(r"hidden_act 'gelu' is not supported")

    def test_no_weights(self):
        os.remove(self.file("model.safetensors"))
        self.assert_fails(r"has no weights: expected model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin")

    def test_truncated_safetensors(self):
        size = os.path.getsize(self.file("model.safetensors"))
        with open(self.file("model.safetensors"), "r+b") as f:
            f.truncate(size - 100)
        self.assert_fails(r"model\.safetensors is truncated: tensor \S+ ends at byte \d+ of the data, which holds \d+")
        with open(self.file("model.safetensors"), "r+b") as f:
            f.truncate(5)
        self.assert_fails(r"model\.safetensors is truncated: 5 bytes")
        with open(self.file("model.safetensors"), "wb") as f:
            f.write((10 ** 6).to_bytes(8, "little") + b"{}")
        self.assert_fails(r"model\.safetensors is truncated or not safetensors: header of 1000000 bytes in a file of 10")

    def test_corrupt_header(self):
        with open(self.file("model.safetensors"), "r+b") as f:
            f.seek(8)
            f.write(b"\xff\xfe")
        self.assert_fails(r"model\.safetensors has a corrupt header")

    def test_header_shape_disagrees_with_data_size(self):
        self.edit_header(lambda h: h["model.norm.weight"].update(shape=[C + 1]))
        self.assert_fails(r"model\.safetensors: tensor model\.norm\.weight of shape \[65\] and dtype F32 needs 260 bytes, its offsets span 256")

    def test_tensor_shape_disagrees_with_config(self):
        self.edit_config(intermediate_size=128)
        self.assert_fails(r"model\.safetensors: model\.layers\.0\.mlp\.gate_proj\.weight has shape \[96, 64\], config\.json implies \[128, 64\]")

    def test_missing_tensor(self):
        self.edit_header(lambda h: h.pop("model.layers.1.mlp.up_proj.weight"))
        self.assert_fails(r"model\.safetensors lacks tensor model\.layers\.1\.mlp\.up_proj\.weight")

    def test_missing_lm_head_of_an_untied_model(self):
        self.assertFalse(CONFIGS["llama"]["tie_word_embeddings"])
        self.edit_header(lambda h: h.pop("lm_head.weight"))
        self.assert_fails(r"model\.safetensors lacks tensor lm_head\.weight")

    def test_sharded_index_problems(self):
        path, _ = write_checkpoint(self.tmp.name, "llama", fmt="sharded")
        self.path = path
        index_path = self.file("model.safetensors.index.json")
        with open(index_path) as f:
            index = json.load(f)
        index["weight_map"]["model.extra.weight"] = "model-00001-of-00002.safetensors"
        with open(index_path, "w") as f:
            json.dump(index, f)
        self.assert_fails(r"model-00001-of-00002\.safetensors lacks tensor model\.extra\.weight \(named by model\.safetensors\.index\.json\)")
        os.remove(self.file("model-00002-of-00002.safetensors"))
        self.assert_fails(r"model-00002-of-00002\.safetensors is missing \(named by model\.safetensors\.index\.json\)")

    def test_corrupt_pytorch_bin(self):
        path, _ = write_checkpoint(self.tmp.name, "gpt2", fmt="bin")
        self.path = path
        with open(self.file("pytorch_model.bin"), "r+b") as f:
            f.truncate(1000)
        self.assert_fails(r"pytorch_model\.bin cannot be read by torch\.load")

    def test_tokenizer_missing_or_too_large(self):
        os.remove(self.file("tokenizer.json"))
        self.assert_fails(r"tokenizer\.json is missing")
        write_tokenizer(self.path, vocab=V + 5)
        self.assert_fails(r"tokenizer\.json has token id 304, beyond config\.json vocab_size 300")

    def test_command_line_prints_one_line_and_exits_2(self):
        os.remove(self.file("config.json"))
        run = subprocess.run([sys.executable, os.path.join(HERE, "convert.py"), self.path, os.path.join(self.tmp.name, "out")],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertRegex(run.stderr, r"^convert: \S+config\.json is missing: .*\n$")
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "out")), "nothing written")


if __name__ == "__main__":
    unittest.main()
