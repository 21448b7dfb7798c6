"""Evaluate a Softmax/SSMax pair on held-out files, with and without the long-context RoPE rule.

    /usr/bin/python3 training/eval.py        # writes training/eval-results.json, training/eval-table.md, models/README.md's eval

Everything runs on windows of the validation split (files chosen by hash in prepare.py, never trained on).
Modes: softmax, ssmax, and ssmax-posthoc (Softmax weights, s = 1 / ln(training context) for every head).

1. RoPE rule: the base is kept at its training value up to the training context and multiplied by a
   factor beyond it (the SSMax paper uses 50). Each candidate factor (--factors) is scored by the
   validation loss at 2x-16x, mean over all modes, on *selection* windows (their own seed). The
   fixed rule is the factor with the best mean over 2x-16x; the per-length rule (training/rope_rule.py)
   takes the best factor at each length for the band that ends there ((1x, 2x] uses 2x's, ...,
   beyond 8x uses 16x's). The reported numbers use other windows.
2. Validation loss (nats/token) at 1x-16x the training context: base at training value, the fixed
   rule, and the per-length rule (which the model folder ships and the retrieval and focus use).
3. Key retrieval (--trials per cell, 95% Wilson interval) at 1x/4x/8x/16x in formats that bind a
   4-digit value to a random key early in a window of held-out code and ask for it at the end:
     py-dict    CODES = {"key_abcdef": 4821} ... assert CODES["key_abcdef"] ==
     js-object  const LIMITS = { key_abcdef: 4821 }; ... assert.equal(LIMITS.key_abcdef,
     assign     key_abcdef = 4821 ... key_abcdef =            (the format of the earlier GPU runs)
   Accuracy = the value's first token is the argmax; needle mass = attention from the last token to
   the value's tokens (max over heads, best layer, mean over trials).
4. Mean focus (max attention weight) by query position, per layer, on 8x windows.

--screening adds the screening twin (training/screening.py) on the same windows and trials. It has no
RoPE; its two settings are its learned windows and the paper's long-context rule (w = inf for every
tile whose learned w exceeds the training context). Its needle number is the relevance alpha * m that
the last token gives the value's tokens (summed over them, max over tiles, best layer; per tile in the
JSON): absolute, not a share of a row, and its focus is the largest relevance of each query.
--modes picks the pair's modes (e.g. only softmax, for a screening twin beside its softmax twin).
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
import rope_rule
from model import load_checkpoint, rope_tables
from screening import Multiscreen

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MULTS = [1, 2, 4, 8, 16]
RETRIEVAL_MULTS = [1, 4, 8, 16]
SCREENING_SETTINGS = {"learned-w": False, "inf-w": True}  # setting -> infinite_windows
FORMATS = {
    "py-dict": lambda var, key: (f'{var} = {{"{key}":', "}\n", f'\nassert {var}["{key}"] =='),
    "js-object": lambda var, key: (f"const {var} = {{ {key}:", " };\n", f"\nassert.equal({var}.{key},"),
    "assign": lambda var, key: (f"{key} =", "\n", f"\n{key} ="),
}
VARS = ["CODES", "LIMITS", "PORTS", "TABLE", "IDS", "config", "options", "settings"]


def wilson(k, n, z=1.96):
    if n == 0:
        return [0.0, 0.0]
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def windows(data, length, n, seed):
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(data) - length - 1, size=n)
    return torch.from_numpy(np.stack([data[s:s + length + 1] for s in starts]).astype(np.int64))


@torch.no_grad()
def mean_loss(model, s, data, T, n, seed, scale, device, batch, focus=None):
    """Mean loss over n windows of T tokens; focus: a dict that receives the (L, T) mean focus curve.
    For the screening twin s is infinite_windows and scale is unused."""
    w = windows(data, T, n, seed).to(device)
    total, curves = 0.0, []
    for i in range(0, n, batch):
        x = w[i:i + batch]
        if isinstance(model, Multiscreen):
            total += model(x[:, :-1], x[:, 1:], infinite_windows=s)[1].mean(dim=1).sum().item()
            if focus is not None:
                curves.append(torch.stack(model.focus(x[:, :-1], s)).sum(1))
            continue
        _, loss, weights = model(x[:, :-1], x[:, 1:], s=s, rope_scale=scale, return_weights=focus is not None)
        total += loss.mean(dim=1).sum().item()
        if focus is not None:
            curves.append(torch.stack([a.amax(-1).mean(1).sum(0) for a in weights]))  # (L, T) summed over windows
    if focus is not None:
        focus["curve"] = (sum(curves) / n).cpu().numpy()
    return total / n


@torch.no_grad()
def last_query_weights(model, ids, s, scale):
    """Logits of the last position and, per layer, the last query's attention weights (B, H, T)."""
    B, T = ids.shape
    cfg = model.cfg
    cos, sin = rope_tables(T, cfg.n_embd // cfg.n_head, cfg.rope_base, ids.device, scale)
    x = model.wte(ids)
    rows = []
    for l, block in enumerate(model.blocks):
        att = block.attn
        q, k, _ = att._qkv(block.ln1(x), cos, sin)
        z = (q[:, :, -1:] @ k.transpose(-2, -1))[:, :, 0] / math.sqrt(att.hs)  # (B, H, T)
        sl = s[l]
        factor = torch.where(sl > 0, sl * math.log(T), torch.ones_like(sl))
        rows.append((z * factor[None, :, None]).softmax(-1))
        x, _ = block(x, cos, sin, sl)
    logits = model.ln_f(x[:, -1]) @ model.wte.weight.t()
    return logits, rows


def make_trial(tok, fmt, filler, T, rnd):
    key = "key_" + "".join(rnd.choice(string.ascii_lowercase) for _ in range(6))
    value = str(rnd.randint(1000, 9999))
    pre, post, tail = FORMATS[fmt](rnd.choice(VARS), key)
    head, val, post_ids, tail_ids = tok.encode(pre), tok.encode(" " + value), tok.encode(post), tok.encode(tail)
    n_fill = T - len(head) - len(val) - len(post_ids) - len(tail_ids)
    start = rnd.randint(0, len(filler) - n_fill - 1)
    ids = head + val + post_ids + filler[start:start + n_fill] + tail_ids
    return ids, val[0], list(range(len(head), len(head) + len(val)))


@torch.no_grad()
def retrieval(model, s, tok, filler, T, scale, fmt, trials, seed, device, batch):
    rnd = random.Random(seed)
    cases = [make_trial(tok, fmt, filler, T, rnd) for _ in range(trials)]
    hits, mass, tiles = 0, [], []
    screening = isinstance(model, Multiscreen)
    for i in range(0, trials, batch):
        chunk = cases[i:i + batch]
        ids = torch.tensor([c[0] for c in chunk], device=device)
        logits, rows = model.last_query(ids, s) if screening else last_query_weights(model, ids, s, scale)
        for b, (_, first, pos) in enumerate(chunk):
            hits += int(logits[b].argmax().item() == first)
            mass.append(max(r[b][:, pos].sum(-1).max().item() for r in rows))
            if screening:
                tiles.append(torch.stack([r[b][:, pos].sum(-1) for r in rows]))  # (L, H)
    out = {"accuracy": round(hits / trials, 4), "hits": hits, "trials": trials, "ci95": wilson(hits, trials),
           "needle_mass": round(float(np.mean(mass)), 4)}
    if screening:
        out["needle_relevance_per_tile"] = torch.stack(tiles).mean(0).round(decimals=4).tolist()
    return out


def buckets(T):
    edges = [0, 32, 128]
    while edges[-1] < T:
        edges.append(edges[-1] * 2)
    edges[-1] = T
    return list(zip(edges, edges[1:]))


def fmt_ci(r):
    return f"{r['accuracy'] * 100:.1f}% [{r['ci95'][0] * 100:.0f}-{r['ci95'][1] * 100:.0f}] / {r['needle_mass']:.3f}"


def card(res):
    m = res["meta"]
    ctx, fixed, rule = m["train_context"], m["rope_fixed"], m["rope_rule"]
    label = {"base": "base", "fixed": rope_rule.describe(fixed), "rule": "per-length",
             "learned-w": "none (learned w)", "inf-w": f"none (w = inf beyond {ctx})"}
    per = lambda d: ", ".join(f"{v} at {k}" for k, v in d.items())  # noqa: E731
    lengths = list(res["selection"][str(m["factors"][0])])
    best = {k: min(m["factors"], key=lambda c: res["selection"][str(c)][k]) for k in lengths}
    L = [f"Held-out files only ({m['val_files']} validation files, {m['val_tokens']:,} tokens). Loss windows per length: "
         f"{per(m['windows'])}" + (f"; retrieval trials per cell: {per(m['trials'])}" if m["formats"] else "; no retrieval") + f". Measured {m['date']} on {m['machine']} in "
         f"{m['minutes']:.1f} min by `training/eval.py`; checkpoints: {m['checkpoints']}.", "",
         f"**RoPE rule**: base x1 up to the training context ({ctx}); beyond it the per-length rule "
         f"{rope_rule.describe(rule)} (models.json). Candidates {', '.join(f'x{c:g}' for c in m['factors'])} were scored "
         "by validation loss, mean over all modes, on separate selection windows (lower is better); the per-length rule "
         "takes the best factor at each length (bold) for the band that ends there, the fixed rule "
         f"({label['fixed']}) the best mean:", "",
         "| factor | " + " | ".join(lengths) + " | mean |", "|---|" + "---|" * (len(lengths) + 1)]
    for c in m["factors"]:
        row = res["selection"][str(c)]
        cells = [f"**{v:.3f}**" if best[k] == c else f"{v:.3f}" for k, v in row.items()]
        L.append(f"| x{c:g} | " + " | ".join(cells) + f" | {np.mean(list(row.values())):.3f} |")
    L += ["", "Validation loss, nats/token (lower is better); RoPE: `base` = the training base at every length, "
          f"`{label['fixed']}` = the fixed rule, `per-length` = the rule shipped (all identical at 1x):", "",
          "| mode | RoPE | " + " | ".join(f"{k} ({k2 * ctx:,})" for k, k2 in ((f"{x}x", x) for x in MULTS)) + " |",
          "|---|---|" + "---|" * len(MULTS)]
    rows = list(res["results"].items()) + [(f"baseline: {n}", r) for n, r in res.get("baseline", {}).items()]
    for mode, r in rows:
        for setting in r["loss"]:
            L.append(f"| {mode} | {label[setting]} | " + " | ".join(f"{r['loss'][setting][f'{x}x']:.3f}" for x in MULTS) + " |")
    if m["formats"]:
        L += ["", "Key retrieval: accuracy of the value's first token [95% Wilson interval] / attention mass on the needle "
              "(the value's tokens, from the last token; max over heads, best layer):", ""]
        if "screening" in res["results"]:
            L[-2] = L[-2][:-1] + ("; for screening the number after the slash is the relevance alpha * m on the needle "
                                  "(summed over its tokens, max over tiles, best layer), absolute rather than a share:")
    for fmt in m["formats"]:
        L += [f"Format `{fmt}`:", "", "| mode | RoPE | " + " | ".join(f"{x}x" for x in RETRIEVAL_MULTS) + " |",
              "|---|---|" + "---|" * len(RETRIEVAL_MULTS)]
        for mode, r in res["results"].items():
            for setting in r["retrieval"]:
                cells = r["retrieval"][setting][fmt]
                L.append(f"| {mode} | {label[setting]} | " + " | ".join(fmt_ci(cells[f"{x}x"]) for x in RETRIEVAL_MULTS) + " |")
        L.append("")
    edges = m["focus_buckets"]
    if L[-1]:
        L.append("")
    L += [f"Mean focus (max attention weight, mean over heads and queries) by query position, per layer, on "
          f"{8 * ctx:,}-token windows with the per-length rule; Softmax fades with position, SSMax holds:", "",
          "| mode | layer | " + " | ".join(f"{a}-{b}" for a, b in edges) + " |", "|---|---|" + "---|" * len(edges)]
    if "screening" in res["results"]:
        L[-4] = L[-4][:-1] + " (screening: the largest relevance of each query, mean over tiles, w = inf beyond the training context):"
    for mode, r in res["results"].items():
        for l, row in enumerate(r["focus"]):
            L.append(f"| {mode} | {l} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    return "\n".join(L)


def write_tables(res, table_path, card_path):
    """The tables as Markdown into table_path and between the eval markers of the model card."""
    table = card(res)
    with open(table_path, "w") as f:
        f.write(table + "\n")
    if card_path:
        with open(card_path, encoding="utf-8") as f:
            text = f.read()
        start, end = "<!-- eval:start -->", "<!-- eval:end -->"
        if start in text and end in text:
            text = text[:text.index(start) + len(start)] + "\n" + table + "\n" + text[text.index(end):]
            with open(card_path, "w", encoding="utf-8") as f:
                f.write(text)
    return table


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--softmax", default=os.path.join(ROOT, "training", "checkpoints", "softmax.pt"))
    ap.add_argument("--ssmax", default=os.path.join(ROOT, "training", "checkpoints", "ssmax.pt"))
    ap.add_argument("--modes", default="softmax,ssmax,ssmax-posthoc", help="the pair's modes to evaluate")
    ap.add_argument("--screening", default=None, help="a screening twin's checkpoint (same training context)")
    ap.add_argument("--data", default=os.path.join(ROOT, "training", "data"))
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "tokenizer.json"))
    ap.add_argument("--windows", type=int, default=16, help="loss windows per length")
    ap.add_argument("--selection-windows", type=int, default=4, help="loss windows per length for the RoPE rule")
    ap.add_argument("--loss-tokens", type=int, default=None, help="cap on tokens per loss cell (fewer windows when long)")
    ap.add_argument("--trials", default="200",
                    help="retrieval trials per cell: one number, or one per length 1x,4x,8x,16x (a CPU cannot run 200 at 16x)")
    ap.add_argument("--retrieval-settings", default="base,rule", help="RoPE settings for retrieval beyond 1x")
    ap.add_argument("--baseline-softmax", default=None, help="an older pair's Softmax checkpoint: loss rows as a baseline")
    ap.add_argument("--baseline-ssmax", default=None, help="an older pair's SSMax checkpoint")
    ap.add_argument("--factors", default="5,10,20,50,100", help="RoPE base factors to choose from beyond the training context")
    ap.add_argument("--formats", default="py-dict,js-object", help="retrieval formats; '' skips retrieval")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", default=os.path.join(ROOT, "training", "eval-results.json"))
    ap.add_argument("--table", default=os.path.join(ROOT, "training", "eval-table.md"), help="the tables as Markdown")
    ap.add_argument("--card", default=os.path.join(ROOT, "models", "README.md"), help="model card to update ('' = none)")
    ap.add_argument("--render", default=None, metavar="RESULTS_JSON",
                    help="only write --table and --card from an earlier run's results (e.g. from the GPU machine)")
    args = ap.parse_args()
    if args.render:
        with open(args.render) as f:
            write_tables(json.load(f), args.table, args.card)
        return
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    t0 = time.time()

    val = np.fromfile(os.path.join(args.data, "val.bin"), dtype=np.uint16)
    with open(os.path.join(args.data, "manifest.json")) as f:
        val_files = json.load(f)["splits"]["val"]["files"]
    tok = bpe.Tokenizer.load(args.tokenizer)
    modes = args.modes.split(",")
    soft, _ = load_checkpoint(args.softmax)
    soft.to(device)
    ss = load_checkpoint(args.ssmax)[0].to(device) if "ssmax" in modes else None
    L, H, ctx = soft.cfg.n_layer, soft.cfg.n_head, soft.cfg.block_size
    cases = {"softmax": (soft, torch.zeros(L, H, device=device))}
    if ss is not None:
        cases["ssmax"] = (ss, ss.learned_s().to(device))
    cases["ssmax-posthoc"] = (soft, torch.full((L, H), 1.0 / math.log(ctx), device=device))
    cases = {m: cases[m] for m in modes}
    scr = load_checkpoint(args.screening)[0].to(device) if args.screening else None
    if scr is not None and scr.cfg.block_size != ctx:
        ap.error(f"--screening was trained at context {scr.cfg.block_size}, the pair at {ctx}")
    factors = [float(x) for x in args.factors.split(",")]
    settings = args.retrieval_settings.split(",")

    def n_windows(n, T):
        return n if args.loss_tokens is None else max(1, min(n, args.loss_tokens // T))

    trials = [int(n) for n in args.trials.split(",")]
    if len(trials) == 1:
        trials *= len(RETRIEVAL_MULTS)
    if len(trials) != len(RETRIEVAL_MULTS) or min(trials) < 1:
        ap.error(f"--trials: one number or {len(RETRIEVAL_MULTS)} (for {', '.join(f'{m}x' for m in RETRIEVAL_MULTS)})")

    def n_trials(T):
        return trials[RETRIEVAL_MULTS.index(T // ctx)]

    formats = [f for f in args.formats.split(",") if f]  # none: loss and focus only
    filler = val.astype(np.int64).tolist()

    def log(msg):
        print(f"[{(time.time() - t0) / 60:5.1f} min] {msg}", flush=True)

    selection = {}
    for c in factors:
        selection[str(c)] = {}
        for mult in MULTS[1:]:
            T = ctx * mult
            selection[str(c)][f"{mult}x"] = round(float(np.mean([
                mean_loss(model, s, val, T, n_windows(args.selection_windows, T), 1000 + mult, c, device, args.batch)
                for model, s in cases.values()])), 4)
        log(f"selection x{c:g}: {selection[str(c)]}")
    fixed = rope_rule.fixed(min(factors, key=lambda c: np.mean(list(selection[str(c)].values()))))
    rule = rope_rule.per_length([(None if mult == MULTS[-1] else ctx * mult,
                                  min(factors, key=lambda c: selection[str(c)][f"{mult}x"])) for mult in MULTS[1:]])
    rules = {"base": rope_rule.fixed(1.0), "fixed": fixed, "rule": rule}
    log(f"fixed rule: {rope_rule.describe(fixed)}; per-length rule: {rope_rule.describe(rule)} (beyond {ctx} tokens)")

    results = {}
    edges = buckets(8 * ctx)
    for mode, (model, s) in cases.items():
        r = {"loss": {k: {} for k in rules}, "retrieval": {k: {} for k in settings}}
        for mult in MULTS:
            T = ctx * mult
            done = {}  # scale -> loss: settings that agree at this length share one measurement
            for setting, rl in rules.items():
                scale = rope_rule.scale_for(T, ctx, rl)
                focus = {} if (mult == 8 and setting == "rule") else None
                if scale not in done or focus is not None:
                    done[scale] = round(mean_loss(model, s, val, T, n_windows(args.windows, T), mult, scale, device,
                                                  max(1, args.batch // mult), focus), 4)
                r["loss"][setting][f"{mult}x"] = done[scale]
                if focus is not None:
                    r["focus"] = [[round(float(row[a:b].mean()), 4) for a, b in edges] for row in focus["curve"]]
        log(f"{mode} loss {r['loss']}")
        for setting in settings:
            for fmt in formats:
                r["retrieval"][setting][fmt] = {}
                for mult in RETRIEVAL_MULTS:
                    T = ctx * mult
                    scale = rope_rule.scale_for(T, ctx, rules[setting])
                    r["retrieval"][setting][fmt][f"{mult}x"] = retrieval(
                        model, s, tok, filler, T, scale, fmt, n_trials(T), 99 + mult, device, max(1, args.batch // mult))
                log(f"{mode} {setting} {fmt}: " + ", ".join(f"{k} {v['accuracy']:.3f}" for k, v in
                                                             r["retrieval"][setting][fmt].items()))
        results[mode] = r

    if scr is not None:  # no RoPE: its settings are the learned windows and the paper's w = inf rule
        r = {"loss": {k: {} for k in SCREENING_SETTINGS}, "retrieval": {k: {} for k in SCREENING_SETTINGS}}
        for mult in MULTS:
            T = ctx * mult
            for setting, inf in SCREENING_SETTINGS.items():
                focus = {} if (mult == 8 and inf) else None
                r["loss"][setting][f"{mult}x"] = round(mean_loss(scr, inf, val, T, n_windows(args.windows, T), mult, None,
                                                                 device, max(1, args.batch // mult), focus), 4)
                if focus is not None:
                    r["focus"] = [[round(float(row[a:b].mean()), 4) for a, b in edges] for row in focus["curve"]]
        log(f"screening loss {r['loss']}")
        for setting, inf in SCREENING_SETTINGS.items():
            for fmt in formats:
                r["retrieval"][setting][fmt] = {
                    f"{mult}x": retrieval(scr, inf, tok, filler, ctx * mult, None, fmt, n_trials(ctx * mult), 99 + mult,
                                          device, max(1, args.batch // mult)) for mult in RETRIEVAL_MULTS}
                log(f"screening {setting} {fmt}: " + ", ".join(f"{k} {v['accuracy']:.3f}" for k, v in
                                                                r["retrieval"][setting][fmt].items()))
        results["screening"] = r

    # An older pair on the same windows (same token lengths), its own context deciding where the rule starts.
    baseline = {}
    for mode, path in (("softmax", args.baseline_softmax), ("ssmax", args.baseline_ssmax)):
        if path is None:
            continue
        old, _ = load_checkpoint(path)
        old.to(device)
        s_old = old.learned_s().to(device) if mode == "ssmax" else torch.zeros(old.cfg.n_layer, old.cfg.n_head, device=device)
        loss = {k: {} for k in rules}
        for mult in MULTS:
            T = ctx * mult
            for setting, rl in rules.items():
                loss[setting][f"{mult}x"] = round(mean_loss(old, s_old, val, T, n_windows(args.windows, T), mult,
                                                            rope_rule.scale_for(T, old.cfg.block_size, rl), device,
                                                            max(1, args.batch // mult)), 4)
        baseline[f"{mode} ({os.path.relpath(path, ROOT)}, context {old.cfg.block_size})"] = {"loss": loss}
        log(f"baseline {mode} loss {loss}")

    meta = {"windows": {f"{m}x": n_windows(args.windows, ctx * m) for m in MULTS},
            "trials": {f"{m}x": n_trials(ctx * m) for m in RETRIEVAL_MULTS}, "date": time.strftime("%Y-%m-%d"), "factors": factors,
            "rope_fixed": fixed, "rope_rule": rule, "train_context": ctx, "formats": formats, "focus_buckets": edges,
            "val_files": val_files, "val_tokens": int(val.size),
            "checkpoints": ", ".join(os.path.relpath(p, ROOT) for p in
                                     [args.softmax] + ([args.ssmax] if ss is not None else []) + ([args.screening] if scr else [])),
            "machine": f"{os.cpu_count()}-core CPU, {args.threads} threads" if device.type == "cpu"
            else torch.cuda.get_device_name(device), "minutes": (time.time() - t0) / 60}
    res = {"meta": meta, "selection": selection, "results": results, "baseline": baseline}
    if ss is not None:
        res["learned_s"] = ss.learned_s().tolist()
    if scr is not None:
        res["screening"] = {"w": scr.learned_windows().tolist(), "r": scr.learned_acceptance().tolist()}
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    print(write_tables(res, args.table, args.card))


if __name__ == "__main__":
    main()
