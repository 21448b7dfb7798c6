"""Train one attention variant on the prepared corpus.

    /usr/bin/python3 training/train.py --attention softmax --out training/checkpoints/softmax.pt
    /usr/bin/python3 training/train.py --attention ssmax   --out training/checkpoints/ssmax.pt

Both variants use the same seed, data order and hyperparameters; only the attention normalisation
differs. Batches are random windows of the training split drawn from a generator seeded by --seed,
so the two runs see identical tokens in identical order.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

from model import GPT, GPTConfig, save_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def batches(data, block, batch, seed):
    rng = np.random.default_rng(seed)
    while True:
        starts = rng.integers(0, len(data) - block - 1, size=batch)
        x = np.stack([data[s:s + block + 1] for s in starts]).astype(np.int64)
        yield torch.from_numpy(x[:, :-1]), torch.from_numpy(x[:, 1:])


@torch.no_grad()
def val_loss(model, data, block, batch, n_batches):
    model.eval()
    gen = batches(data, block, batch, seed=1234)
    total = 0.0
    for _ in range(n_batches):
        x, y = next(gen)
        total += model(x, y)[1].mean().item()
    model.train()
    return total / n_batches


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attention", choices=["softmax", "ssmax"], required=True)
    ap.add_argument("--data", default=os.path.join(ROOT, "training", "data"))
    ap.add_argument("--out", required=True, help="checkpoint path (.pt)")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--block", type=int, default=256, help="training context, tokens")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--width", type=int, default=192)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=250)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    paths = {s: os.path.join(args.data, f"{s}.bin") for s in ("train", "val")}
    for p in paths.values():
        if not os.path.isfile(p):
            sys.exit(f"train: {p} not found: run `/usr/bin/python3 training/prepare.py` first")
    train_data = np.fromfile(paths["train"], dtype=np.uint16)
    val_data = np.fromfile(paths["val"], dtype=np.uint16)
    with open(os.path.join(args.data, "manifest.json")) as f:
        vocab = json.load(f)["vocab_size"]
    for name, d in (("train", train_data), ("val", val_data)):
        if len(d) <= args.block + 1:
            sys.exit(f"train: the {name} split has {len(d)} tokens, fewer than the context {args.block} + 2")

    cfg = GPTConfig(vocab_size=vocab, n_layer=args.layers, n_head=args.heads, n_embd=args.width,
                    block_size=args.block, attention=args.attention)
    model = GPT(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"train: {args.attention}, {n_params:,} parameters, {args.steps} steps x {args.batch} x {args.block} tokens", flush=True)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    gen = batches(train_data, args.block, args.batch, args.seed)
    log, t0 = [], time.time()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        x, y = next(gen)
        loss = model(x, y)[1].mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % args.eval_every == 0 or step == args.steps - 1:
            vl = val_loss(model, val_data, args.block, args.batch, 8)
            elapsed = time.time() - t0
            log.append(dict(step=step, train_loss=loss.item(), val_loss=vl, seconds=round(elapsed, 1)))
            s_info = ""
            if args.attention == "ssmax":
                s = model.learned_s()
                s_info = f" s mean {s.mean():.3f} [{s.min():.3f}, {s.max():.3f}]"
            print(f"step {step:5d} train {loss.item():.3f} val {vl:.3f} {elapsed / 60:5.1f} min{s_info}", flush=True)

    minutes = (time.time() - t0) / 60
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    save_checkpoint(args.out, model, {"train_args": vars(args), "log": log, "train_minutes": round(minutes, 1),
                                      "parameters": n_params})
    print(f"train: saved {args.out} after {minutes:.1f} min", flush=True)


if __name__ == "__main__":
    main()
