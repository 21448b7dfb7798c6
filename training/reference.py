"""Reference outputs for fixed inputs, for the ONNX parity tests in test/smoke: plain full
attention through the model's adapter (graphs.reference: every T x T weight materialised, reduced
in float64), never the exported graphs.

    /usr/bin/python3 training/reference.py --softmax A.pt --ssmax B.pt --lengths 1,7,40,300 \
        [--long 700,1100 --rope-rule models/models.json] --out ref.json

Beyond the training context the RoPE base is scaled by the rule of --rope-rule's models.json
(training/rope_rule.py), as the engine runs it; --long only names more lengths.

A converted Hugging Face checkpoint instead, on given token ids, with the facts of the folder
training/convert.py wrote from it (posthocS, llama4Scaling, the RoPE rule and "layerTypes": a test
may add sliding windows there, and the reference masks the same):

    /usr/bin/python3 training/reference.py --hf HF_DIR --model-dir CONVERTED --ids 5,17,... --queries 0,40 --out ref.json

A screening twin (training/screening.py) on given token ids, with the engine's window rule for their
length (screening_graphs.run_windows) and the folder's topK and pooledSize:

    /usr/bin/python3 training/reference.py --screening CKPT --model-dir FOLDER --ids 5,17,... --queries 0,40 --out ref.json
"""
import argparse
import json
import math
import os

import torch

import rope_rule
from graphs import GPTAdapter, reference
from model import load_checkpoint
from screening_graphs import screening_reference


def converted_cases(hf_dir, model_dir, ids, queries):
    """Every mode of a converted model (softmax, ssmax-posthoc and the length rules) on ids."""
    import convert

    adapter = convert.load(hf_dir)
    with open(os.path.join(model_dir, "models.json")) as f:
        manifest = json.load(f)
    L, H, T, ctx = adapter.layers, adapter.heads, ids.shape[0], manifest["trainContext"]
    windows = [t["window"] for t in manifest["layerTypes"]] if "layerTypes" in manifest else None
    scaling = manifest.get("llama4Scaling", {"beta": 0.1, "length": ctx})
    pos = torch.arange(T, dtype=torch.float64)
    modes = [("softmax", torch.zeros(L, H), None), ("ssmax-posthoc", torch.full((L, H), manifest["posthocS"]), None),
             ("ministral3-scaling", torch.zeros(L, H), 1 + scaling["beta"] * torch.log1p(torch.floor(pos / scaling["length"]))),
             ("logn-scaling", torch.zeros(L, H), torch.clamp(torch.log(pos + 1) / math.log(ctx), min=1.0))]
    rope_scale = rope_rule.scale_for(T, ctx, manifest["rope"]["beyondTrainContext"]) if manifest["rope"] else 1.0
    results = []
    for mode, s, q_scale in modes:
        # The converter's qkv graphs scale SSMax by ln(n), n = the keys a query sees (min(i + 1, w) in a sliding layer).
        ref = reference(adapter, ids, s, rope_scale, queries, manifest["topK"], manifest["pooledSize"], q_scale, windows,
                        ssmax_keys_seen=True)
        results.append({"mode": mode, "ids": ids.tolist(), "queries": queries, "ropeScale": rope_scale, **{k: v.tolist() for k, v in ref.items()}})
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--softmax")
    ap.add_argument("--hf", help="a Hugging Face checkpoint folder instead of --softmax (with --model-dir, --ids, --queries)")
    ap.add_argument("--model-dir", help="the folder `attention-lens convert` wrote from --hf")
    ap.add_argument("--ids", help="comma-separated token ids")
    ap.add_argument("--queries", help="comma-separated query tokens whose full rows are written")
    ap.add_argument("--ssmax")
    ap.add_argument("--screening", help="a Multiscreen checkpoint instead of --softmax (with --model-dir, --ids, --queries)")
    ap.add_argument("--lengths", default="1,7,40,300")
    ap.add_argument("--long", default="", help="more lengths, beyond the training context, run with the RoPE rule")
    ap.add_argument("--rope-rule", metavar="MODELS_JSON", help="the models.json whose RoPE rule lengths beyond the training context use")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.hf:
        ids = torch.tensor([int(t) for t in args.ids.split(",")], dtype=torch.int64)
        results = converted_cases(args.hf, args.model_dir, ids, [int(t) for t in args.queries.split(",")])
        with open(args.out, "w") as f:
            json.dump({"cases": results}, f)
        return
    if args.screening:
        model, _ = load_checkpoint(args.screening)
        with open(os.path.join(args.model_dir, "models.json")) as f:
            manifest = json.load(f)
        ids = torch.tensor([int(t) for t in args.ids.split(",")], dtype=torch.int64)
        queries = [int(t) for t in args.queries.split(",")]
        ref = {k: v.tolist() for k, v in screening_reference(model, ids, queries, manifest["topK"], manifest["pooledSize"]).items()}
        ref["windows"] = [[None if math.isinf(w) else w for w in row] for row in ref["windows"]]  # JSON has no Infinity: null
        with open(args.out, "w") as f:
            json.dump({"cases": [{"mode": "screening", "ids": ids.tolist(), "queries": queries, **ref}]}, f)
        return
    if not args.softmax:
        ap.error("--softmax, --hf or --screening is required")

    soft, _ = load_checkpoint(args.softmax)
    cfg = soft.cfg
    L, H = cfg.n_layer, cfg.n_head
    cases = [("softmax", soft, torch.zeros(L, H)), ("ssmax-posthoc", soft, torch.full((L, H), round(1.0 / math.log(cfg.block_size), 6)))]
    # The length-rule modes scale the Softmax model's queries by position, written here from the
    # production formulas (Ministral 3's query scaling, Qwen-1's log-n) with the engine's defaults:
    # beta 0.1 and L the training context.
    ctx = cfg.block_size
    length_rules = {
        "ministral3-scaling": lambda pos: 1 + 0.1 * torch.log1p(torch.floor(pos / ctx)),
        "logn-scaling": lambda pos: torch.clamp(torch.log(pos + 1) / math.log(ctx), min=1.0),
    }
    if args.ssmax:
        ss, _ = load_checkpoint(args.ssmax)
        cases.append(("ssmax", ss, torch.tensor([[round(float(v), 6) for v in row] for row in ss.learned_s()])))
    gen = torch.Generator().manual_seed(args.seed)
    lengths = [int(t) for t in args.lengths.split(",")] + [int(t) for t in args.long.split(",") if t]
    assert max(lengths) <= ctx or args.rope_rule, "lengths beyond the training context need --rope-rule"
    rule = rope_rule.fixed(1.0)
    if args.rope_rule:
        with open(args.rope_rule) as f:
            rule = json.load(f)["rope"]["beyondTrainContext"]
    results = []
    for T in lengths:
        ids = torch.randint(0, cfg.vocab_size, (T,), generator=gen)
        queries = sorted({0, T // 3, T - 1})
        rope_scale = rope_rule.scale_for(T, cfg.block_size, rule)
        for mode, model, s in cases:
            ref = reference(GPTAdapter(model), ids, s, rope_scale, queries, cfg.top_k, cfg.pooled_size)
            results.append({"mode": mode, "ids": ids.tolist(), "queries": queries, "ropeScale": rope_scale,
                            **{k: v.tolist() for k, v in ref.items()}})
        pos = torch.arange(T, dtype=torch.float64)
        for mode, factor_of in length_rules.items():
            ref = reference(GPTAdapter(soft), ids, torch.zeros(L, H), rope_scale, queries, cfg.top_k, cfg.pooled_size, factor_of(pos))
            results.append({"mode": mode, "ids": ids.tolist(), "queries": queries, "ropeScale": rope_scale,
                            **{k: v.tolist() for k, v in ref.items()}})
    with open(args.out, "w") as f:
        json.dump({"cases": results}, f)


if __name__ == "__main__":
    main()
