"""Evaluate the trained variants on the held-out split and write the eval table into the model card.

    /usr/bin/python3 training/eval.py            # writes training/eval-results.json and models/README.md's card

1. validation loss (nats/token) at 1x, 2x, 4x and 8x the training context;
2. mean focus (max attention weight) by query position, per layer: the "attention fading" curve;
3. key retrieval: `name = value` early in a file, `name =` again near the end; accuracy of predicting
   the value's first token, and the attention from the final `=` to that token (max over heads,
   best layer).
Modes: softmax, ssmax, and ssmax-posthoc (Softmax weights with s = 1 / ln(training context)).
"""
import argparse
import json
import math
import os
import random
import string
import time

import numpy as np
import torch

import bpe
from model import load_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUCKETS = [(0, 32), (32, 128), (128, 256), (256, 512), (512, 1024), (1024, 2048)]


def windows(data, length, n, seed):
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(data) - length - 1, size=n)
    return [torch.from_numpy(data[s:s + length + 1].astype(np.int64))[None] for s in starts]


@torch.no_grad()
def loss_and_focus(model, s, data, ctx, n_windows):
    losses, focus_sum, focus_n = {}, None, None
    for mult in (1, 2, 4, 8):
        T = ctx * mult
        vals = []
        for w in windows(data, T, n_windows, seed=mult):
            _, loss, weights = model(w[:, :-1], w[:, 1:], s=s, return_weights=mult == 8)
            vals.append(loss.mean().item())
            if mult == 8:
                f = torch.stack([a[0].amax(-1) for a in weights])  # (L, H, T)
                f = f.mean(1)  # (L, T): mean over heads
                focus_sum = f if focus_sum is None else focus_sum + f
                focus_n = 1 if focus_n is None else focus_n + 1
        losses[f"{mult}x"] = round(float(np.mean(vals)), 4)
    mean_focus = (focus_sum / focus_n).numpy()
    curve = {f"{a}-{b}": [round(float(mean_focus[l, a:b].mean()), 4) for l in range(mean_focus.shape[0])] for a, b in BUCKETS}
    return losses, curve


@torch.no_grad()
def key_retrieval(model, s, tok, filler_ids, ctx, trials, seed):
    out = {}
    for mult in (1, 4, 8):
        T = ctx * mult
        rnd = random.Random(seed + mult)
        hits, att = 0, []
        for _ in range(trials):
            name = "key_" + "".join(rnd.choice(string.ascii_lowercase) for _ in range(6))
            value = str(rnd.randint(1000, 9999))
            head = tok.encode(f"{name} = {value}\n")
            value_first = tok.encode(f" {value}")[0]
            value_pos = len(tok.encode(f"{name} =")) if head[len(tok.encode(f'{name} ='))] == value_first else None
            assert value_pos is not None, "value must start a token after 'name ='"
            tail = tok.encode(f"\n{name} =")
            n_fill = T - len(head) - len(tail)
            start = rnd.randint(0, len(filler_ids) - n_fill - 1)
            ids = torch.tensor(head + filler_ids[start:start + n_fill] + tail)[None]
            logits, _, weights = model(ids, s=s, return_weights=True)
            hits += int(logits[0, -1].argmax().item() == value_first)
            per_layer = [w[0, :, -1, value_pos].max().item() for w in weights]
            att.append(max(per_layer))
        out[f"{mult}x"] = {"accuracy": round(hits / trials, 3), "attention": round(float(np.mean(att)), 4)}
    return out


def card(results, meta):
    modes = list(results)
    lines = ["### Evaluation (held-out files)", "",
             f"{meta['windows']} random windows of the validation split per length; {meta['trials']} key-retrieval trials per length. "
             f"Measured {meta['date']} on {meta['machine']} in {meta['minutes']:.1f} min by `training/eval.py`.", "",
             "Validation loss, nats/token (lower is better):", "",
             "| mode | 1x (256) | 2x (512) | 4x (1,024) | 8x (2,048) |", "|---|---|---|---|---|"]
    for m in modes:
        l = results[m]["loss"]
        lines.append(f"| {m} | {l['1x']:.3f} | {l['2x']:.3f} | {l['4x']:.3f} | {l['8x']:.3f} |")
    lines += ["", "Key retrieval: accuracy of the value's first token / attention from the final `=` to it "
              "(max over heads, best layer, mean over trials):", "",
              "| mode | 1x | 4x | 8x |", "|---|---|---|---|"]
    for m in modes:
        k = results[m]["retrieval"]
        lines.append("| " + m + " | " + " | ".join(f"{k[x]['accuracy']:.2f} / {k[x]['attention']:.3f}" for x in ("1x", "4x", "8x")) + " |")
    lines += ["", "Mean focus (max attention weight, mean over heads and queries) by query position, per layer, "
              "on 2,048-token windows: Softmax's fading against SSMax:", "",
              "| mode | layer | " + " | ".join(f"{a}-{b}" for a, b in BUCKETS) + " |",
              "|---|---|" + "---|" * len(BUCKETS)]
    for m in modes:
        f = results[m]["focus"]
        n_layers = len(next(iter(f.values())))
        for l in range(n_layers):
            lines.append(f"| {m} | {l} | " + " | ".join(f"{f[f'{a}-{b}'][l]:.3f}" for a, b in BUCKETS) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--softmax", default=os.path.join(ROOT, "training", "checkpoints", "softmax.pt"))
    ap.add_argument("--ssmax", default=os.path.join(ROOT, "training", "checkpoints", "ssmax.pt"))
    ap.add_argument("--data", default=os.path.join(ROOT, "training", "data"))
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "tokenizer.json"))
    ap.add_argument("--windows", type=int, default=16)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "training", "eval-results.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()

    val = np.fromfile(os.path.join(args.data, "val.bin"), dtype=np.uint16)
    tok = bpe.Tokenizer.load(args.tokenizer)
    soft, _ = load_checkpoint(args.softmax)
    ss, _ = load_checkpoint(args.ssmax)
    L, H, ctx = soft.cfg.n_layer, soft.cfg.n_head, soft.cfg.block_size
    cases = {"softmax": (soft, torch.zeros(L, H)), "ssmax": (ss, ss.learned_s()),
             "ssmax-posthoc": (soft, torch.full((L, H), 1.0 / math.log(ctx)))}
    filler = val.astype(np.int64).tolist()
    results = {}
    for mode, (model, s) in cases.items():
        loss, focus = loss_and_focus(model, s, val, ctx, args.windows)
        retrieval = key_retrieval(model, s, tok, filler, ctx, args.trials, seed=99)
        results[mode] = {"loss": loss, "focus": focus, "retrieval": retrieval}
        print(mode, json.dumps(results[mode]), flush=True)

    meta = {"windows": args.windows, "trials": args.trials, "date": time.strftime("%Y-%m-%d"),
            "machine": f"{os.cpu_count()}-core CPU, {args.threads} threads", "minutes": (time.time() - t0) / 60}
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "results": results, "learned_s": ss.learned_s().tolist()}, f, indent=1)
    with open(os.path.join(ROOT, "training", "eval-table.md"), "w") as f:
        f.write(card(results, meta) + "\n")
    print(card(results, meta))


if __name__ == "__main__":
    main()
