"""Export trained checkpoints to ONNX graphs that follow models/README.md, and write models.json.

    /usr/bin/python3 training/export.py --softmax training/checkpoints/softmax.pt \
        --ssmax training/checkpoints/ssmax.pt --tokenizer models/tokenizer.json --out models
"""
import argparse
import json
import math
import os
import shutil
import sys

import torch

from model import load_checkpoint

INPUTS = ["input_ids", "query_index", "ssmax_s"]
OUTPUTS = ["focus", "entropy", "distance", "topk_index", "topk_weight", "rows", "pooled", "surprisal", "logits"]


class AnalysisGraph(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, query_index, ssmax_s):
        return self.model.analyse(input_ids, query_index, ssmax_s)


def export_one(model, path):
    cfg = model.cfg
    T = 24
    ids = torch.randint(0, cfg.vocab_size, (1, T))
    q = torch.tensor([0, T - 1])
    s = model.learned_s()
    dyn = {"input_ids": {1: "T"}, "query_index": {0: "Q"}, "focus": {2: "T"}, "entropy": {2: "T"},
           "distance": {2: "T"}, "topk_index": {2: "T"}, "topk_weight": {2: "T"}, "rows": {2: "Q", 3: "T"},
           "surprisal": {0: "T"}, "logits": {0: "Q"}}
    with torch.no_grad():
        torch.onnx.export(AnalysisGraph(model), (ids, q, s), path, input_names=INPUTS, output_names=OUTPUTS,
                          dynamic_axes=dyn, opset_version=17, do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    for key, value in (("attention_lens_contract", "models/README.md v1"), ("attention", cfg.attention)):
        entry = m.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(m, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--softmax", required=True, help="Softmax-trained checkpoint (.pt)")
    ap.add_argument("--ssmax", help="SSMax-trained checkpoint (.pt)")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True, help="model folder to write")
    ap.add_argument("--id", default="attention-lens-code-4x4")
    args = ap.parse_args()
    for p in (args.softmax, args.ssmax, args.tokenizer):
        if p and not os.path.isfile(p):
            sys.exit(f"export: {p} not found")

    os.makedirs(args.out, exist_ok=True)
    soft, _ = load_checkpoint(args.softmax)
    assert soft.cfg.attention == "softmax", f"{args.softmax} was trained with {soft.cfg.attention}, not softmax"
    export_one(soft, os.path.join(args.out, "softmax.onnx"))
    cfg = soft.cfg
    variants = {"softmax": {"file": "softmax.onnx"}}
    if args.ssmax:
        ss, _ = load_checkpoint(args.ssmax)
        assert ss.cfg.attention == "ssmax", f"{args.ssmax} was trained with {ss.cfg.attention}, not ssmax"
        export_one(ss, os.path.join(args.out, "ssmax.onnx"))
        variants["ssmax"] = {"file": "ssmax.onnx", "s": [[round(float(v), 6) for v in row] for row in ss.learned_s()]}
    tok_dest = os.path.join(args.out, "tokenizer.json")
    if os.path.abspath(args.tokenizer) != os.path.abspath(tok_dest):
        shutil.copyfile(args.tokenizer, tok_dest)
    manifest = {"id": args.id, "layers": cfg.n_layer, "heads": cfg.n_head, "trainContext": cfg.block_size,
                "vocabSize": cfg.vocab_size, "topK": cfg.top_k, "pooledSize": cfg.pooled_size,
                "tokenizer": "tokenizer.json", "variants": variants,
                "posthocS": round(1.0 / math.log(cfg.block_size), 6)}
    with open(os.path.join(args.out, "models.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"export: wrote {', '.join(v['file'] for v in variants.values())} and models.json to {args.out}")


if __name__ == "__main__":
    main()
