"""Tiny random Hugging Face checkpoints with transformers' own outputs: the fidelity fixtures of
training/convert.py. Needs `transformers` and `tokenizers` (the GPU machine has transformers 5.17;
see ../shared/ENVIRONMENT.md); CI only reads what it writes.

    python3 training/make_hf_fixtures.py [--out test/fixtures/hf]

For each of gpt2, llama (grouped-query attention, untied lm_head) and qwen2 (q/k/v biases, tied
embeddings, RoPE base 1e6) it writes <out>/<arch>/ with what save_pretrained writes (config.json,
model.safetensors in bfloat16, 2 bytes a weight), a small byte-level tokenizer.json and
reference.json: the token ids of a fixed text, the surprisal of every token (0 for the first, then
-log p(token t | tokens < t)) and the attention rows of a few query positions for every layer and
head, computed by transformers in float32 with eager attention from the same (bfloat16-exact)
weights. training/test_convert.py checks the converter against them.
"""
import argparse
import glob
import json
import os

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig, Qwen2Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = 300
TOKENS = 48
SEED = 1234


def train_tokenizer(path):
    """Byte-level BPE of VOCAB tokens trained on samples/: real merges, a few KB."""
    texts = []
    for p in sorted(glob.glob(os.path.join(ROOT, "samples", "*"))):
        with open(p, encoding="utf-8") as f:
            texts.append(f.read())
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=["<|endoftext|>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    tok.save(path)
    return tok


def rope(theta):
    """transformers 5 takes RoPE settings as rope_parameters; 4.x as rope_theta."""
    if int(transformers.__version__.split(".")[0]) >= 5:
        return {"rope_parameters": {"rope_type": "default", "rope_theta": theta}}
    return {"rope_theta": theta}


def configs(vocab):
    common = {"vocab_size": vocab, "bos_token_id": 0, "eos_token_id": 0}
    return {
        "gpt2": GPT2Config(n_positions=64, n_embd=64, n_layer=2, n_head=4, n_inner=128, activation_function="gelu_new",
                           resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **common),
        "llama": LlamaConfig(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5,
                             tie_word_embeddings=False, **rope(10000.0), **common),
        "qwen2": Qwen2Config(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-6,
                             tie_word_embeddings=True, use_sliding_window=False, **rope(1000000.0), **common),
    }


@torch.no_grad()
def randomise(model, generator):
    """Weights large enough for peaked attention and varied predictions (the default init of
    std 0.02 gives near-uniform rows), rounded to bfloat16 so the saved file holds them exactly."""
    for name, p in model.named_parameters():
        if p.dim() == 1 and ("norm" in name or "ln_" in name) and name.endswith("weight"):
            p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=generator))
        elif p.dim() == 1:
            p.copy_(0.05 * torch.randn(p.shape, generator=generator))
        else:
            p.copy_(0.25 * torch.randn(p.shape, generator=generator))
        p.copy_(p.bfloat16().float())


@torch.no_grad()
def reference(model, ids, queries):
    out = model(input_ids=torch.tensor([ids]), output_attentions=True)
    logp = out.logits[0].float().log_softmax(-1)  # (T, V)
    surprisal = [0.0] + [float(-logp[t - 1, ids[t]]) for t in range(1, len(ids))]
    assert out.attentions is not None and len(out.attentions) == model.config.num_hidden_layers, "no attention weights"
    rows = [[[[round(float(w), 7) for w in a[0, h, q]] for q in queries] for h in range(a.shape[1])]
            for a in out.attentions]  # (L, H, Q, T)
    return surprisal, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "hf"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tok_path = os.path.join(args.out, "tokenizer.json")
    tok = train_tokenizer(tok_path)
    vocab = tok.get_vocab_size()
    with open(os.path.join(ROOT, "samples", "hello.py"), encoding="utf-8") as f:
        text = f.read()
    ids = tok.encode(text).ids[:TOKENS]
    assert len(ids) == TOKENS, f"samples/hello.py gives only {len(ids)} tokens"
    text = text[:tok.encode(text).offsets[TOKENS - 1][1]]
    queries = [0, 1, TOKENS // 2, TOKENS - 1]
    for arch, cfg in configs(vocab).items():
        torch.manual_seed(SEED)
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").float().eval()
        randomise(model, torch.Generator().manual_seed(SEED))
        surprisal, rows = reference(model, ids, queries)
        folder = os.path.join(args.out, arch)
        model.to(torch.bfloat16).save_pretrained(folder)  # safetensors (transformers 5 writes nothing else)
        with open(tok_path, encoding="utf-8") as f, open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as g:
            g.write(f.read())
        ref = {"transformers": transformers.__version__, "torch": torch.__version__, "architecture": arch,
               "attn_implementation": "eager", "dtype": "float32 compute, bfloat16-exact weights",
               "text": text, "ids": ids, "surprisal": [round(s, 7) for s in surprisal], "queries": queries,
               "attention_rows": rows}
        with open(os.path.join(folder, "reference.json"), "w") as f:
            json.dump(ref, f)
        files = sorted(os.listdir(folder))
        size = sum(os.path.getsize(os.path.join(folder, n)) for n in files)
        print(f"{arch}: {', '.join(files)} ({size / 1024:.0f} KB); mean surprisal {sum(surprisal[1:]) / (TOKENS - 1):.3f}")
    os.remove(tok_path)


if __name__ == "__main__":
    main()
