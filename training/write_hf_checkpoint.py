"""Writes a tiny random Llama checkpoint in Hugging Face layout (config.json, model.safetensors,
tokenizer.json) for the CLI's convert tests: the shipped tokenizer, so any text tokenizes, and a
training context of 64 tokens, so a short file reaches beyond it.

    /usr/bin/python3 training/write_hf_checkpoint.py OUT_DIR
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


def main(out):
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
        json.dump(CONFIG, f)
    shutil.copyfile(os.path.join(HERE, "..", "models", "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    write_safetensors(os.path.join(out, "model.safetensors"), state)


if __name__ == "__main__":
    main(sys.argv[1])
