"""PyTorch reference outputs for fixed inputs, computed on the plain training path (full weights,
return_weights=True), for the ONNX parity tests in test/smoke.

    /usr/bin/python3 training/reference.py --softmax A.pt --ssmax B.pt --lengths 1,7,40,300 --out ref.json
"""
import argparse
import json
import math

import numpy as np
import torch

from model import load_checkpoint


def summaries(weights, queries, top_k, pooled_size):
    """weights: list over layers of (1, H, T, T). Plain numpy reductions, independent of model.analyse."""
    W = np.stack([w[0].numpy().astype(np.float64) for w in weights])  # (L, H, T, T)
    L, H, T, _ = W.shape
    i = np.arange(T)
    logw = np.log(np.where(W > 0, W, 1.0))
    out = {
        "focus": W.max(-1),
        "entropy": -(W * logw).sum(-1),
        "distance": (W * (i[:, None] - i[None, :])).sum(-1),
        "rows": W[:, :, queries, :],
    }
    order = np.argsort(-W, axis=-1, kind="stable")[..., :top_k]
    out["topk_weight"] = np.take_along_axis(W, order, -1)
    b = math.ceil(T / pooled_size)
    n = math.ceil(T / b)
    pooled = np.zeros((L, H, n, n))
    for a in range(n):
        for c in range(n):
            pooled[:, :, a, c] = W[:, :, a * b:(a + 1) * b, c * b:(c + 1) * b].max(axis=(-1, -2))
    out["pooled"] = pooled
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softmax", required=True)
    ap.add_argument("--ssmax")
    ap.add_argument("--lengths", default="1,7,40,300")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    soft, _ = load_checkpoint(args.softmax)
    cases = [("softmax", soft, torch.zeros(soft.cfg.n_layer, soft.cfg.n_head)),
             ("ssmax-posthoc", soft, torch.full((soft.cfg.n_layer, soft.cfg.n_head), 1.0 / math.log(soft.cfg.block_size)))]
    if args.ssmax:
        ss, _ = load_checkpoint(args.ssmax)
        cases.append(("ssmax", ss, ss.learned_s()))
    gen = torch.Generator().manual_seed(args.seed)
    results = []
    for T in [int(t) for t in args.lengths.split(",")]:
        ids = torch.randint(0, soft.cfg.vocab_size, (1, T), generator=gen)
        queries = sorted({0, T // 3, T - 1})
        for mode, model, s in cases:
            with torch.no_grad():
                logits, _, weights = model(ids, None, s=s, return_weights=True)
            summ = summaries(weights, queries, model.cfg.top_k, model.cfg.pooled_size)
            logp = torch.log_softmax(logits[0].double(), -1)
            surprisal = [0.0] + [float(-logp[t - 1, ids[0, t]]) for t in range(1, T)]
            results.append({
                "mode": mode, "ids": ids[0].tolist(), "queries": queries, "s": s.tolist(),
                "logits": logits[0, queries].tolist(), "surprisal": surprisal,
                **{k: v.tolist() for k, v in summ.items()},
            })
    with open(args.out, "w") as f:
        json.dump({"cases": results}, f)


if __name__ == "__main__":
    main()
