"""Writes a random Llama checkpoint in Hugging Face layout (config.json, model.safetensors,
tokenizer.json) with the shipped tokenizer, so any text tokenizes. By default a tiny one for the
CLI's convert tests (a training context of 64 tokens, so a short file reaches beyond it); with
--shape smollm2-135m one of SmolLM2-135M's shape in bfloat16, and with --shape llama3.2-1b one of
Llama-3.2-1B's, which the bench measures (bench/README.md).

    /usr/bin/python3 training/write_hf_checkpoint.py OUT_DIR [--shape smollm2-135m | llama3.2-1b]
"""
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_convert import write_safetensors  # noqa: E402

V, C, L, H, KV, I, TRAIN = 4096, 32, 2, 4, 2, 64, 64
CONFIG = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": V, "hidden_size": C,
          "num_attention_heads": H, "num_key_value_heads": KV, "num_hidden_layers": L, "intermediate_size": I,
          "max_position_embeddings": TRAIN, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
          "tie_word_embeddings": True}


# SmolLM2-135M: 30 layers, 9 heads over 3 kv heads, width 576, MLP 1,536, vocabulary 49,152, context 8,192.
SMOLLM2_135M = {**CONFIG, "vocab_size": 49152, "hidden_size": 576, "num_attention_heads": 9, "num_key_value_heads": 3,
                "num_hidden_layers": 30, "intermediate_size": 1536, "max_position_embeddings": 8192, "rope_theta": 100000.0}

# Llama-3.2-1B: 16 layers, 32 heads over 8 kv heads of 64, width 2,048, MLP 8,192, vocabulary 128,256,
# tied embeddings, RoPE base 500,000 with the llama3 rule (factor 32, original context 8,192).
LLAMA32_1B = {**CONFIG, "vocab_size": 128256, "hidden_size": 2048, "num_attention_heads": 32, "num_key_value_heads": 8,
              "num_hidden_layers": 16, "intermediate_size": 8192, "max_position_embeddings": 131072, "rope_theta": 500000.0,
              "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                               "original_max_position_embeddings": 8192}}


def main(out, config=CONFIG, dtype="F32"):
    V, C, L, H, KV, I = (config[k] for k in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                                              "num_key_value_heads", "intermediate_size"))
    g = torch.Generator().manual_seed(0)
    hs = C // H

    def r(*shape, scale=0.3):
        return torch.randn(*shape, generator=g) * scale

    state = {"model.embed_tokens.weight": r(V, C, scale=0.5), "model.norm.weight": torch.ones(C)}
    for l in range(L):
        p = f"model.layers.{l}."
        state.update({p + "input_layernorm.weight": torch.ones(C), p + "post_attention_layernorm.weight": torch.ones(C),
                      p + "self_attn.q_proj.weight": r(H * hs, C), p + "self_attn.k_proj.weight": r(KV * hs, C),
                      p + "self_attn.v_proj.weight": r(KV * hs, C), p + "self_attn.o_proj.weight": r(C, H * hs),
                      p + "mlp.gate_proj.weight": r(I, C), p + "mlp.up_proj.weight": r(I, C),
                      p + "mlp.down_proj.weight": r(C, I)})
    os.makedirs(out)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f)
    shutil.copyfile(os.path.join(HERE, "..", "models", "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    write_safetensors(os.path.join(out, "model.safetensors"), state, dtype)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--shape", choices=["tiny", "smollm2-135m", "llama3.2-1b"], default="tiny")
    args = parser.parse_args()
    if args.shape == "smollm2-135m":
        main(args.out, SMOLLM2_135M, "BF16")
    elif args.shape == "llama3.2-1b":
        main(args.out, LLAMA32_1B, "BF16")
    else:
        main(args.out)
