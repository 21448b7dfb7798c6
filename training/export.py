"""Export trained checkpoints to a model folder that follows models/README.md (contract 3): the
layered graphs of each variant, the shared attention graphs, tokenizer.json and models.json.

    /usr/bin/python3 training/export.py --softmax training/checkpoints/softmax.pt \
        --ssmax training/checkpoints/ssmax.pt --tokenizer models/tokenizer.json --out models

A screening twin (training/screening.py) joins with --screening CKPT: its graphs go to
OUT/screening/ and OUT/screening*.onnx. Without --softmax it is added to the folder OUT already holds
(its models.json gains variants.screening; nothing else changes):

    /usr/bin/python3 training/export.py --screening training/checkpoints/screening.pt --out models
"""
import argparse
import json
import os
import shutil
import sys

from graphs import GPTAdapter, export_attention, export_variant, write_manifest
from model import load_checkpoint
from screening_graphs import export_screening_graphs, export_screening_variant

import rope_rule

# Without --rope-rule, the base is multiplied by this factor beyond the training length (the SSMax
# paper's recipe). At and below it the training base is used.
ROPE_FACTOR_BEYOND_TRAIN = 50.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--softmax", help="Softmax-trained checkpoint (.pt); without it, --screening is added to the folder --out holds")
    ap.add_argument("--ssmax", help="SSMax-trained checkpoint (.pt)")
    ap.add_argument("--screening", help="Multiscreen checkpoint (.pt, training/screening.py)")
    ap.add_argument("--tokenizer", help="tokenizer.json (required with --softmax)")
    ap.add_argument("--out", required=True, help="model folder to write")
    ap.add_argument("--id", default="attention-lens-code-4x4")
    ap.add_argument("--rope-factor", type=float, default=ROPE_FACTOR_BEYOND_TRAIN, help="a fixed factor beyond the training context")
    ap.add_argument("--rope-rule", metavar="EVAL_JSON", help="ship the per-length rule that training/eval.py chose (its results JSON)")
    args = ap.parse_args()
    for p in (args.softmax, args.ssmax, args.screening, args.tokenizer):
        if p and not os.path.isfile(p):
            sys.exit(f"export: {p} not found")
    if not args.softmax:
        if not args.screening:
            sys.exit("export: --softmax (a new folder) or --screening (added to the folder --out holds) is required")
        add_screening(args.screening, args.out)
        return
    if not args.tokenizer:
        sys.exit("export: --tokenizer is required with --softmax")

    os.makedirs(args.out, exist_ok=True)
    soft, _ = load_checkpoint(args.softmax)
    assert soft.cfg.attention == "softmax", f"{args.softmax} was trained with {soft.cfg.attention}, not softmax"
    adapter = GPTAdapter(soft)
    export_variant(adapter, os.path.join(args.out, "softmax"), {"attention": "softmax"})
    export_attention(soft.cfg.top_k, args.out)
    variants = {"softmax": {"dir": "softmax"}}
    if args.ssmax:
        ss, _ = load_checkpoint(args.ssmax)
        assert ss.cfg.attention == "ssmax", f"{args.ssmax} was trained with {ss.cfg.attention}, not ssmax"
        export_variant(GPTAdapter(ss), os.path.join(args.out, "ssmax"), {"attention": "ssmax"})
        variants["ssmax"] = {"dir": "ssmax", "s": [[round(float(v), 6) for v in row] for row in ss.learned_s()]}
    if args.screening:
        variants["screening"] = screening_variant(args.screening, args.out, soft.cfg.top_k, soft.cfg.vocab_size)
    tok_dest = os.path.join(args.out, "tokenizer.json")
    if os.path.abspath(args.tokenizer) != os.path.abspath(tok_dest):
        shutil.copyfile(args.tokenizer, tok_dest)
    rule = rope_rule.fixed(args.rope_factor)
    if args.rope_rule:
        with open(args.rope_rule) as f:
            meta = json.load(f)["meta"]
        assert meta["train_context"] == soft.cfg.block_size, f"{args.rope_rule} was chosen at context {meta['train_context']}"
        rule = meta["rope_rule"]
    write_manifest(args.out, args.id, adapter, variants, soft.cfg.top_k, soft.cfg.pooled_size, rule)
    print(f"export: wrote {', '.join(variants)} and models.json to {args.out}")


def screening_variant(path, out, top_k, vocab_size):
    """Writes a Multiscreen checkpoint's graphs into out; returns its models.json variant entry."""
    model, _ = load_checkpoint(path)
    assert model.cfg.attention == "screening", f"{path} was trained with {model.cfg.attention}, not screening"
    assert model.cfg.vocab_size == vocab_size, f"{path} has {model.cfg.vocab_size} tokens, the folder {vocab_size}: another tokenizer"
    adapter = export_screening_variant(model, os.path.join(out, "screening"))
    export_screening_graphs(top_k, out)
    return adapter.variant("screening")


def add_screening(path, out):
    """--screening without --softmax: the variant joins the folder out already holds."""
    manifest_path = os.path.join(out, "models.json")
    if not os.path.isfile(manifest_path):
        sys.exit(f"export: {manifest_path} not found; export the Softmax variant first (--softmax)")
    with open(manifest_path) as f:
        manifest = json.load(f)
    manifest["variants"]["screening"] = screening_variant(path, out, manifest["topK"], manifest["vocabSize"])
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"export: added screening to {manifest_path}")


if __name__ == "__main__":
    main()
