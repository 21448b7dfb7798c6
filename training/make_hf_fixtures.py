"""Tiny random Hugging Face checkpoints with transformers' own outputs: the fidelity fixtures of
training/convert.py. Needs transformers 5 (with torch 2 and its own dependencies safetensors and
tokenizers); CI only reads what it writes. The committed fixtures were made with transformers
5.17.0 and torch 2.13.0 on CPU; test/fixtures/hf/README.md gives the exact command and versions.

    python3 training/make_hf_fixtures.py [--out test/fixtures/hf]

For each of gpt2 (tied embeddings), llama (grouped-query attention, untied lm_head), qwen2 (q/k/v
biases, tied embeddings, RoPE base 1e6), llama-head-dim (an explicit head_dim of 24, not
hidden_size / heads = 16, which transformers 4.40 could not express; tied embeddings as in SmolLM),
llama3 (RoPE llama3 with an original context of 32, BOS), qwen3 (q/k norm, head_dim 24), gemma3
(gemma3_text: a 16-key sliding layer beside a full one, BOS) and mistral-sliding (a 16-key window)
it writes <out>/<name>/ (--only NAME,... for some):
- config.json, generation_config.json and model.safetensors, written by save_pretrained from the
  model cast to bfloat16 (2 bytes a weight; a tied lm_head.weight is left out);
- tokenizer.json: byte-level BPE of 300 tokens trained on samples/ by training/bpe.py, plus
  <|endoftext|> as an added token (id 300, as GPT-2 has it last);
- reference.json: the token ids of a fixed text, the surprisal of every token (0 for the first,
  then -log p(token t | tokens < t)), the logit of each next token and the log-normaliser, and the
  attention rows of a few query positions for every layer and head.
The reference is what transformers computes (float32, eager attention) from the model that its
from_pretrained loads back from the folder, with no missing or unexpected weights; it must equal
the model's output before saving (the weights are bfloat16-exact). training/test_convert.py checks
the converter against it.
"""
import argparse
import glob
import json
import os
import shutil
import sys

import safetensors
import tokenizers
import torch
import transformers
from safetensors import safe_open
from transformers import AutoModelForCausalLM, Gemma3TextConfig, GPT2Config, LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BPE_VOCAB = 300
EOS = "<|endoftext|>"
TOKENS = 48
SEED = 1234
# rope_parameters and from_pretrained(dtype=) are transformers 5's spelling.
assert int(transformers.__version__.split(".")[0]) >= 5, f"transformers {transformers.__version__}: needs 5 or later"
transformers.logging.disable_progress_bar()


def write_tokenizer(path):
    """Byte-level BPE trained on samples/ (real merges, a few KB) plus one added special token."""
    texts = []
    for p in sorted(glob.glob(os.path.join(ROOT, "samples", "*"))):
        with open(p, encoding="utf-8") as f:
            texts.append(f.read())
    tok = bpe.Tokenizer.from_merges(bpe.train(texts, BPE_VOCAB, log=lambda *_: None))
    assert len(tok.vocab) == BPE_VOCAB, f"samples/ give only {len(tok.vocab)} tokens"
    tok.save(path)
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    data["added_tokens"] = [{"id": BPE_VOCAB, "content": EOS, "single_word": False, "lstrip": False,
                             "rstrip": False, "normalized": False, "special": True}]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    return tok


def rope(theta):
    return {"rope_parameters": {"rope_type": "default", "rope_theta": theta}}


# Past the window of the sliding layers and past Llama 3's original context within the 48 tokens.
WINDOW, ORIGINAL_CONTEXT = 16, 32
# Fixtures whose tokenizer begins every text with BOS, as Llama 3's and Gemma 3's do.
WITH_BOS = {"llama3", "gemma3"}


def configs(vocab, eos):
    common = {"vocab_size": vocab, "bos_token_id": eos, "eos_token_id": eos}
    small = {"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2}
    return {
        "gpt2": GPT2Config(n_positions=64, n_embd=64, n_layer=2, n_head=4, n_inner=128, activation_function="gelu_new",
                           resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **common),
        "llama": LlamaConfig(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5,
                             tie_word_embeddings=False, **rope(10000.0), **common),
        "qwen2": Qwen2Config(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-6,
                             tie_word_embeddings=True, use_sliding_window=False, **rope(1000000.0), **common),
        "llama-head-dim": LlamaConfig(hidden_size=64, head_dim=24, intermediate_size=96, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                                      rms_norm_eps=1e-5, tie_word_embeddings=True, **rope(10000.0), **common),
        "llama3": LlamaConfig(**small, max_position_embeddings=256, rms_norm_eps=1e-5, tie_word_embeddings=True,
                              rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                               "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                               "original_max_position_embeddings": ORIGINAL_CONTEXT}, **common),
        "qwen3": Qwen3Config(**small, head_dim=24, max_position_embeddings=512, rms_norm_eps=1e-6,
                             tie_word_embeddings=True, use_sliding_window=False, **rope(1000000.0), **common),
        "mistral-sliding": MistralConfig(**small, max_position_embeddings=256, rms_norm_eps=1e-5, tie_word_embeddings=False,
                                         sliding_window=WINDOW, **rope(10000.0), **common),
        "gemma3": Gemma3TextConfig(**small, head_dim=16, max_position_embeddings=256, rms_norm_eps=1e-6,
                                   sliding_window=WINDOW, layer_types=["sliding_attention", "full_attention"],
                                   query_pre_attn_scalar=24, pad_token_id=0,
                                   rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
                                                    "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}},
                                   **common),
    }


def add_bos(path, bos_id):
    """The tokenizer's post-processor prepends BOS to every text, as Llama 3's and Gemma 3's files do."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    data["post_processor"] = {"type": "TemplateProcessing",
                              "single": [{"SpecialToken": {"id": EOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                              "pair": [{"SpecialToken": {"id": EOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                       {"Sequence": {"id": "B", "type_id": 1}}],
                              "special_tokens": {EOS: {"id": EOS, "ids": [bos_id], "tokens": [EOS]}}}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)


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
    logits = out.logits[0].float()  # (T, V)
    lse = logits.logsumexp(-1)
    target = logits[torch.arange(len(ids) - 1), torch.tensor(ids[1:])]
    surprisal = [0.0] + [float(x) for x in lse[:-1] - target]
    assert out.attentions is not None and len(out.attentions) == model.config.num_hidden_layers, "no attention weights"
    rows = [[[[float(w) for w in a[0, h, q]] for q in queries] for h in range(a.shape[1])]
            for a in out.attentions]  # (L, H, Q, T)
    return {"surprisal": surprisal, "target_logit": [float(x) for x in target], "logsumexp": [float(x) for x in lse[:-1]],
            "attention_rows": rows}


def rounded(x):
    return [rounded(v) for v in x] if isinstance(x, list) else round(x, 7)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "hf"))
    ap.add_argument("--only", help="comma-separated fixture names (default: all)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tok_path = os.path.join(args.out, "tokenizer.json")
    tok = write_tokenizer(tok_path)
    vocab = BPE_VOCAB + 1
    with open(os.path.join(ROOT, "samples", "hello.py"), encoding="utf-8") as f:
        ids = tok.encode(f.read())[:TOKENS]
    assert len(ids) == TOKENS, f"samples/hello.py gives only {len(ids)} tokens"
    # The text of exactly those tokens; it must encode back to them, here and in HF tokenizers.
    char_to_byte = {c: b for b, c in bpe.BYTE_TO_CHAR.items()}
    names = {i: s for s, i in tok.vocab.items()}

    def text_of(token_ids):
        return bytes(char_to_byte[c] for i in token_ids for c in names[i]).decode("utf-8")

    text = text_of(ids)
    assert tok.encode(text) == ids, "the text of the first tokens encodes differently"
    hf_ids = tokenizers.Tokenizer.from_file(tok_path).encode(text, add_special_tokens=False).ids
    assert hf_ids == ids, f"Hugging Face tokenizers disagrees with training/bpe.py: {hf_ids} != {ids}"
    queries = [0, 1, TOKENS // 2, TOKENS - 1]
    for name, cfg in configs(vocab, BPE_VOCAB).items():
        if args.only and name not in args.only.split(","):
            continue
        torch.manual_seed(SEED)
        model_ids = ids
        if name in WITH_BOS:
            model_ids = [BPE_VOCAB] + ids[:-1]
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").float().eval()
        randomise(model, torch.Generator().manual_seed(SEED))
        before = reference(model, model_ids, queries)
        folder = os.path.join(args.out, name)
        shutil.rmtree(folder, ignore_errors=True)
        # bfloat16 halves the files; the weights are bfloat16-exact, so the cast loses nothing.
        model.to(torch.bfloat16).save_pretrained(folder)
        with safe_open(os.path.join(folder, "model.safetensors"), framework="pt") as f:
            left_out = set(model.state_dict()) - set(f.keys())
        assert left_out == ({"lm_head.weight"} if cfg.tie_word_embeddings else set()), left_out
        shutil.copyfile(tok_path, os.path.join(folder, "tokenizer.json"))
        if name in WITH_BOS:
            add_bos(os.path.join(folder, "tokenizer.json"), BPE_VOCAB)
            encoded = tokenizers.Tokenizer.from_file(os.path.join(folder, "tokenizer.json")).encode(text_of(ids[:-1])).ids
            assert encoded == model_ids, f"{name}: the tokenizer does not give BOS and the text's tokens: {encoded[:3]}"

        # transformers reads the folder back; the reference is that model's output.
        loaded, info = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", output_loading_info=True,
                                                            dtype=torch.float32)
        loaded.eval()
        problems = {k: v for k, v in info.items() if v}
        assert not problems, f"{name}: from_pretrained reports {problems}"
        assert next(loaded.parameters()).dtype == torch.float32
        assert loaded.config._attn_implementation == "eager", loaded.config._attn_implementation
        ref = reference(loaded, model_ids, queries)
        for key in ref:
            diff = torch.tensor(ref[key]).sub(torch.tensor(before[key])).abs().max().item()
            assert diff == 0.0, f"{name}: {key} differs by {diff} after the round trip through the folder"

        meta = {"transformers": transformers.__version__, "torch": torch.__version__,
                "safetensors": safetensors.__version__, "tokenizers": tokenizers.__version__,
                "architecture": cfg.model_type,
                "model_class": type(loaded).__name__, "attn_implementation": "eager",
                "dtype": "float32 compute, bfloat16-exact weights", "loaded_with": "from_pretrained(folder)",
                "text": text if name not in WITH_BOS else text_of(model_ids[1:]), "ids": model_ids, "queries": queries,
                "bos": name in WITH_BOS}
        with open(os.path.join(folder, "reference.json"), "w") as f:
            json.dump({**meta, **{k: rounded(v) for k, v in ref.items()}}, f, separators=(",", ":"))
        files = sorted(os.listdir(folder))
        size = sum(os.path.getsize(os.path.join(folder, n)) for n in files)
        s = ref["surprisal"][1:]
        print(f"{name} ({type(loaded).__name__}): {', '.join(files)} ({size / 1024:.0f} KB); "
              f"mean surprisal {sum(s) / len(s):.3f}; token {TOKENS - 1}'s top attention weight, mean over heads "
              f"{torch.tensor(ref['attention_rows'])[:, :, -1].max(-1).values.mean():.3f}")
    os.remove(tok_path)


if __name__ == "__main__":
    main()
