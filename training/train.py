"""Train one attention variant on the prepared corpus (CPU or one CUDA GPU).

    /usr/bin/python3 training/train.py --attention softmax --out training/checkpoints/softmax.pt
    /usr/bin/python3 training/train.py --attention ssmax   --out training/checkpoints/ssmax.pt
    /usr/bin/python3 training/train.py --attention screening --psi 11 --out training/runs/screening.pt

The screening twin (training/screening.py, Multiscreen) replaces attention and the MLP; its size is
set by --psi (layers = tiles per layer = psi, width = psi^2) and it follows the paper in having no
weight decay (--weight-decay); the data, schedule, logging and checkpoints are the pair's.

Both variants use the same seed, data order and hyperparameters; only the attention normalisation
differs. Batches are random windows of the training split drawn from a generator seeded by --seed,
so the two runs see identical tokens in identical order. A share of the windows (--repeat-share,
25% by default) carries a repeated span: a random span of 8-64 tokens of the window is copied to a
later position in it, so that copying from far back is rewarded; retrieval needs those induction
heads and plain code taught them slowly. Another share (--lookup-share, 0 by default) carries a key
lookup episode (training/lookup_data.py): names bound to values in one syntax and read later in
another, which copying alone cannot answer; the log then reports lookup accuracy on validation
windows, for the syntax pairs trained on and for held-out pairs.

On CUDA the forward runs under bf16 autocast with fused causal attention (model.py). --state keeps
the full training state (weights, optimiser, data generator, log) for --resume; --max-minutes ends a
run cleanly so that a time-limited command can be continued by the next one (training/train_gpu.sh).
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch

import bpe
import lookup_data
from model import GPT, GPTConfig, save_checkpoint
from screening import Multiscreen, ScreenConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_repeated_spans(x, rng, share):
    """In place: in each row of x (B, n) with probability `share`, copy a random span of 8-64 tokens
    (at most n // 4) to a random later, non-overlapping position. Returns [(row, src, dst, length)]."""
    n = x.shape[1]
    longest = max(2, min(64, n // 4))
    chosen = rng.random(len(x)) < share
    lengths = rng.integers(min(8, longest), longest + 1, size=len(x))
    spans = []
    for row in np.flatnonzero(chosen):
        length = int(lengths[row])
        src = int(rng.integers(0, n - 2 * length + 1))
        dst = int(rng.integers(src + length, n - length + 1))
        x[row, dst:dst + length] = x[row, src:src + length]
        spans.append((int(row), src, dst, length))
    return spans


def batches(data, block, batch, rng, repeat_share=0.0, lookup_share=0.0, tok=None):
    """Endless (inputs, targets) of random windows; rng is a numpy Generator (its state is the data order)."""
    while True:
        starts = rng.integers(0, len(data) - block - 1, size=batch)
        x = np.stack([data[s:s + block + 1] for s in starts]).astype(np.int64)
        if repeat_share > 0:
            add_repeated_spans(x, rng, repeat_share)
        if lookup_share > 0:
            lookup_data.add_lookups(x, rng, lookup_share, tok)
        yield torch.from_numpy(x[:, :-1]), torch.from_numpy(x[:, 1:])


@torch.no_grad()
def val_loss(model, data, block, batch, n_batches, device):
    model.eval()
    gen = batches(data, block, batch, np.random.default_rng(1234))
    total = 0.0
    for _ in range(n_batches):
        x, y = next(gen)
        with autocast(device):
            total += model(x.to(device), y.to(device))[1].float().mean().item()
    model.train()
    return total / n_batches


@torch.no_grad()
def copy_ratio(model, data, block, batch, device):
    """Loss on the tokens of a repeated span's second copy over the loss on the same tokens' first
    occurrence, on validation windows that all carry one: 1 = no copying, near 0 = exact copying."""
    model.eval()
    rng = np.random.default_rng(4321)
    starts = rng.integers(0, len(data) - block - 1, size=batch)
    w = np.stack([data[s:s + block + 1] for s in starts]).astype(np.int64)
    spans = add_repeated_spans(w, rng, 1.0)
    w = torch.from_numpy(w).to(device)
    with autocast(device):
        loss = model(w[:, :-1], w[:, 1:])[1].float()
    # target index j predicts token j + 1: a span's tokens after its first are predictable by copying
    second = torch.cat([loss[r, d:d + n - 1] for r, _, d, n in spans])
    first = torch.cat([loss[r, s:s + n - 1] for r, s, _, n in spans])
    model.train()
    return (second.mean() / first.mean()).item()


@torch.no_grad()
def lookup_accuracy(model, data, block, tok, split, n, device, batch=16):
    """Share of n validation lookup windows (seeded, so every call sees the same) whose first query's
    value has its first token as the argmax."""
    import random
    model.eval()
    rng = np.random.default_rng(999 if split == "train" else 998)
    hits = 0
    for i in range(0, n, batch):
        rows, answers = [], []
        for _ in range(min(batch, n - i)):
            s = int(rng.integers(0, len(data) - block - 1))
            rnd = random.Random(int(rng.integers(1 << 62)))
            bindings, queries, _ = lookup_data.episode(tok, rnd, split, max_tokens=block // 2)
            ids, at = lookup_data.splice(data[s:s + block + 1].astype(np.int64), bindings, queries, rnd)
            rows.append(ids)
            answers.append(at[0])
        w = torch.from_numpy(np.stack(rows)).to(device)
        with autocast(device):
            logits = model(w[:, :-1])[0]
        # the value's first token sits at index a; the logits at a - 1 predict it
        hits += sum(int(logits[b, a - 1].argmax().item() == int(w[b, a])) for b, a in enumerate(answers))
    model.train()
    return hits / n


def autocast(device):
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attention", choices=["softmax", "ssmax", "screening"], required=True)
    ap.add_argument("--data", default=os.path.join(ROOT, "training", "data"))
    ap.add_argument("--out", required=True, help="checkpoint path (.pt), weights only; rewritten at every save")
    ap.add_argument("--state", default=None, help="full training state for --resume (default: OUT with .state.pt)")
    ap.add_argument("--resume", action="store_true", help="continue from --state when it exists")
    ap.add_argument("--init", default=None,
                    help="start from this checkpoint's weights (same shape; its context may differ), fresh optimiser")
    ap.add_argument("--max-minutes", type=float, default=None, help="save and stop after this much time in this run")
    ap.add_argument("--save-every", type=int, default=500)
    ap.add_argument("--keep-every", type=int, default=None,
                    help="also keep the weights at every multiple of this many steps (OUT-stepN.pt): twins compared at equal tokens")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--block", type=int, default=512, help="training context, tokens")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--width", type=int, default=192)
    ap.add_argument("--psi", type=int, default=None, help="screening: layers = heads = psi, width = psi^2 (the paper's rule)")
    ap.add_argument("--weight-decay", type=float, default=None,
                    help="on matrices; default 0.1, and 0 for screening (the paper trains without it)")
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--repeat-share", type=float, default=0.25, help="share of windows that carry a repeated span")
    ap.add_argument("--lookup-share", type=float, default=0.0, help="share of windows that carry a key lookup episode")
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "tokenizer.json"), help="for --lookup-share")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    state_path = args.state or os.path.splitext(args.out)[0] + ".state.pt"

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
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

    if args.attention == "screening":
        if args.psi:
            args.layers, args.heads, args.width = args.psi, args.psi, args.psi * args.psi
        cfg = ScreenConfig(vocab_size=vocab, n_layer=args.layers, n_head=args.heads, n_embd=args.width,
                           block_size=args.block)
        model = Multiscreen(cfg).to(device)
    else:
        cfg = GPTConfig(vocab_size=vocab, n_layer=args.layers, n_head=args.heads, n_embd=args.width,
                        block_size=args.block, attention=args.attention)
        model = GPT(cfg).to(device)
    if args.weight_decay is None:
        args.weight_decay = 0.0 if args.attention == "screening" else 0.1
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    rng = np.random.default_rng(args.seed)
    n_params = sum(p.numel() for p in model.parameters())
    start, log, seconds_before = 0, [], 0.0
    # Resume from the full state; without it (a fresh GPU machine that got only the weights back), from
    # the weights-only checkpoint with fresh optimiser moments.
    resume_from = next((p for p in (state_path, args.out) if args.resume and os.path.isfile(p)), None)
    if args.init and not resume_from:
        st = torch.load(args.init, map_location=device, weights_only=False)
        if {**st["config"], "block_size": cfg.block_size} != cfg.__dict__:
            sys.exit(f"train: --init {args.init} has another shape or attention ({st['config']}); expected {cfg.__dict__}")
        model.load_state_dict(st["model"])
        a = st["train_args"]
        print(f"train: starting from the weights of {args.init} ({a['steps'] * a['batch'] * a['block']:,} tokens trained)",
              flush=True)
    if resume_from:
        st = torch.load(resume_from, map_location=device, weights_only=False)  # our own file; holds numpy rng state
        if st["train_args"]["steps"] != args.steps or st["config"] != cfg.__dict__:
            sys.exit(f"train: {resume_from} was made with other settings; remove it or pass the same arguments")
        model.load_state_dict(st["model"])
        if "optimizer" in st:
            opt.load_state_dict(st["optimizer"])
        rng.bit_generator.state = st["rng"]
        start, log, seconds_before = st["step"], st["log"], st["seconds"]
        print(f"train: resumed {resume_from} at step {start}"
              + ("" if "optimizer" in st else " (weights only: optimiser moments start afresh)"), flush=True)
    print(f"train: {args.attention}, {n_params:,} parameters, {args.steps} steps x {args.batch} x {args.block} tokens "
          f"on {device}, repeated spans in {args.repeat_share:.0%} and lookups in {args.lookup_share:.0%} of windows",
          flush=True)
    tok = bpe.Tokenizer.load(args.tokenizer) if args.lookup_share > 0 else None

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    def save(step):
        seconds = seconds_before + time.time() - t0
        extra = {"train_args": vars(args), "log": log, "train_minutes": round(seconds / 60, 1), "parameters": n_params,
                 "step": step, "tokens": step * args.batch * args.block, "rng": rng.bit_generator.state, "seconds": seconds}
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        save_checkpoint(args.out + ".tmp", model, extra)
        if args.keep_every and step % args.keep_every == 0:
            shutil.copyfile(args.out + ".tmp", f"{os.path.splitext(args.out)[0]}-step{step}.pt")
        os.replace(args.out + ".tmp", args.out)
        torch.save({"config": cfg.__dict__, "model": model.state_dict(), "optimizer": opt.state_dict(), **extra},
                   state_path + ".tmp")
        os.replace(state_path + ".tmp", state_path)

    gen = batches(train_data, args.block, args.batch, rng, args.repeat_share, args.lookup_share, tok)
    t0 = time.time()
    step = start
    while step < args.steps:
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        x, y = next(gen)
        with autocast(device):
            loss = model(x.to(device, non_blocking=True), y.to(device, non_blocking=True))[1].float().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % args.eval_every == 0 or step == args.steps or step == start + 1:
            vl = val_loss(model, val_data, args.block, args.batch, 8, device)
            cr = copy_ratio(model, val_data, args.block, args.batch, device)
            elapsed = seconds_before + time.time() - t0
            rate = (step - start) * args.batch * args.block / max(1e-9, time.time() - t0)
            log.append(dict(step=step, train_loss=round(loss.item(), 4), val_loss=round(vl, 4), copy_ratio=round(cr, 3),
                            seconds=round(elapsed, 1)))
            lk = ""
            if tok is not None:
                log[-1]["lookup"] = {split: round(lookup_accuracy(model, val_data, args.block, tok, split, 64, device), 3)
                                     for split in ("train", "heldout")}
                lk = f" lookup {log[-1]['lookup']['train']:.2f} held-out pairs {log[-1]['lookup']['heldout']:.2f}"
            s_info = ""
            if args.attention == "ssmax":
                s = model.learned_s()
                s_info = f" s mean {s.mean():.3f} [{s.min():.3f}, {s.max():.3f}]"
            elif args.attention == "screening":
                w, r = model.learned_windows(), model.learned_acceptance()
                s_info = (f" w median {w.median():.1f} [{w.min():.1f}, {w.max():.1f}]"
                          f" r median {r.median():.3f} [{r.min():.3f}, {r.max():.3f}]")
            print(f"step {step:5d} train {loss.item():.3f} val {vl:.3f} copy {cr:.2f}{lk} {elapsed / 60:5.1f} min "
                  f"{rate:,.0f} tok/s{s_info}",
                  flush=True)
        if step % args.save_every == 0:
            save(step)
        if args.max_minutes is not None and time.time() - t0 > args.max_minutes * 60:
            break
    save(step)
    minutes = (seconds_before + time.time() - t0) / 60
    done = "done" if step >= args.steps else f"stopped at step {step} of {args.steps} (continue with --resume)"
    print(f"train: saved {args.out} after {minutes:.1f} min in all, {done}", flush=True)


if __name__ == "__main__":
    main()
