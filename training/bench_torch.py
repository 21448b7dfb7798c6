"""PyTorch-eager baseline for `npm run bench`: the training model in eval mode returning every
layer's attention weights (what BertViz-style tools run), on the same weights and lengths.

    /usr/bin/python3 training/bench_torch.py --variant softmax --lengths 256,1000,4000,8000 --runs 5

Prints one JSON line. Each length runs in a fresh process so its peak memory is its own.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_length(ckpt, T, runs, threads):
    from model import load_checkpoint

    torch.set_num_threads(threads)
    model, _ = load_checkpoint(ckpt)
    ids = torch.randint(0, model.cfg.vocab_size, (1, T), generator=torch.Generator().manual_seed(0))
    base = rss_mb()
    times = []
    with torch.no_grad():
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            model(ids, return_weights=True)
            times.append((time.perf_counter() - t0) * 1000)
    warm = sorted(times[1:])
    return {"tokens": T, "coldMs": round(times[0], 1), "medianMs": round(warm[len(warm) // 2], 1),
            "peakRssMB": round(rss_mb() - base, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=["softmax", "ssmax"], default="softmax")
    ap.add_argument("--checkpoint", help="defaults to training/checkpoints/<variant>.pt")
    ap.add_argument("--lengths", default="256,1000,4000,8000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--single", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    ckpt = args.checkpoint or os.path.join(ROOT, "training", "checkpoints", f"{args.variant}.pt")
    if not os.path.isfile(ckpt):
        sys.exit(f"bench_torch: checkpoint {ckpt} not found")
    if args.single:
        print(json.dumps(one_length(ckpt, args.single, args.runs, args.threads)))
        return
    results = []
    for T in [int(t) for t in args.lengths.split(",")]:
        runs = args.runs if T <= 4000 else max(1, args.runs // 2)
        out = subprocess.run([sys.executable, __file__, "--checkpoint", ckpt, "--single", str(T), "--runs", str(runs),
                              "--threads", str(args.threads)], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"bench_torch: length {T} failed: {out.stderr.strip().splitlines()[-1:]}")
        results.append({**json.loads(out.stdout), "variant": args.variant})
    print(json.dumps({"threads": args.threads, "torch": torch.__version__, "results": results}))


if __name__ == "__main__":
    main()
