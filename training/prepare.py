"""Build the training corpus, train the byte-level BPE tokenizer, and encode train/val splits.

    /usr/bin/python3 training/prepare.py                     # full corpus -> training/data, models/tokenizer.json
    /usr/bin/python3 training/prepare.py --max-mb 1 --out training/runs/smoke/data --tokenizer-out ...

Sources are permissively licensed files present on a fresh machine: the Python standard library,
Node's C/C++ headers, and JavaScript, TypeScript and Markdown from the project's pinned npm
packages (node_modules, versions from package-lock.json). The validation split is chosen by file,
never by line. A manifest records every source's version, licence, files and bytes.
"""
import argparse
import glob
import hashlib
import json
import os
import sys

import numpy as np

import bpe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NM = os.path.join(ROOT, "node_modules")


def npm_version(pkg):
    try:
        with open(os.path.join(NM, pkg, "package.json"), encoding="utf-8") as f:
            data = json.load(f)
        return data.get("version", "?"), data.get("license", "see package")
    except OSError:
        return None, None


def default_sources():
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    sources = [
        dict(name="python-stdlib", root=f"/usr/lib/python{py}", globs=["*.py", "*/*.py"],
             version=f"CPython {py} (Debian)", license="PSF-2.0", max_mb=9),
        dict(name="node-headers", root="/usr/include/node", globs=["*.h", "*/*.h", "*/*/*.h"],
             version="Node.js headers (Debian/nodesource)", license="MIT, BSD-3-Clause (V8), Apache-2.0 (OpenSSL)", max_mb=4),
    ]
    for pkg, globs, max_mb in [
        ("typescript", ["lib/lib.*.d.ts", "lib/typescript.d.ts"], 4),
        ("mocha", ["lib/*.js", "lib/*/*.js", "lib/*/*/*.js"], 1),
        ("fast-check", ["lib/cjs/*.js", "lib/cjs/*/*.js", "lib/cjs/*/*/*.js", "lib/cjs/*/*/*/*.js"], 2),
        ("playwright-core", ["lib/*/*.js", "lib/*/*/*.js"], 4),
        ("eslint", ["lib/*.js", "lib/*/*.js", "lib/rules/*.js"], 3),
        ("@vscode/vsce", ["out/*.js"], 1),
    ]:
        version, lic = npm_version(pkg)
        sources.append(dict(name=f"npm:{pkg}", root=os.path.join(NM, pkg), globs=globs,
                            version=version or "missing", license=lic or "?", max_mb=max_mb))
    sources.append(dict(name="npm-markdown", root=NM, globs=["*/README.md", "*/*/README.md", "*/CHANGELOG.md", "*/docs/*.md"],
                        version="node_modules per package-lock.json", license="each package's own (MIT, ISC, Apache-2.0, BSD)", max_mb=3))
    return sources


def read_source(src, log):
    """Yield (relative path, text) for a source's files, skipping what cannot be used, with reasons."""
    root = src["root"]
    if not os.path.isdir(root):
        raise SystemExit(f"prepare: corpus source '{src['name']}' not found: no folder {root}"
                         + (" (run `npm install` first)" if NM in root else ""))
    paths = sorted({p for g in src["globs"] for p in glob.glob(os.path.join(root, g), recursive=True)})
    budget = src["max_mb"] * 1_000_000
    used = skipped_empty = skipped_binary = skipped_minified = 0
    for p in paths:
        if used >= budget:
            break
        if not os.path.isfile(p):
            continue
        with open(p, "rb") as f:
            raw = f.read()
        rel = os.path.relpath(p, root)
        if not raw.strip():
            skipped_empty += 1
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            skipped_binary += 1
            log(f"prepare: skipping {p}: not UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start})")
            continue
        if "\x00" in text:
            skipped_binary += 1
            log(f"prepare: skipping {p}: contains NUL bytes (binary)")
            continue
        lines = text.count("\n") + 1
        if len(text) / lines > 300:
            skipped_minified += 1
            continue
        used += len(raw)
        yield rel, text
    src["skipped"] = dict(empty=skipped_empty, not_utf8_or_binary=skipped_binary, minified=skipped_minified)


def is_validation(source_name, rel):
    h = hashlib.sha1(f"{source_name}/{rel}".encode()).digest()
    return h[0] % 20 == 0  # 5% of files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "training", "data"), help="folder for train.bin, val.bin, manifest")
    ap.add_argument("--tokenizer-out", default=os.path.join(ROOT, "models", "tokenizer.json"))
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--max-mb", type=float, default=None, help="scale every source's budget down to at most this many MB")
    ap.add_argument("--source", action="append", default=[], metavar="NAME=DIR",
                    help="use this folder (all files, recursively) instead of the default sources; repeatable")
    args = ap.parse_args()

    if args.source:
        sources = []
        for spec in args.source:
            name, _, root = spec.partition("=")
            if not root:
                raise SystemExit(f"prepare: --source expects NAME=DIR, got '{spec}'")
            sources.append(dict(name=name, root=root, globs=["**/*"], version="local", license="local", max_mb=1000))
    else:
        sources = default_sources()
    if args.max_mb is not None:
        for s in sources:
            s["max_mb"] = min(s["max_mb"], args.max_mb)

    train_docs, val_docs = [], []
    for src in sources:
        n = nbytes = 0
        for rel, text in read_source(src, print):
            (val_docs if is_validation(src["name"], rel) else train_docs).append((src["name"], rel, text))
            n += 1
            nbytes += len(text.encode("utf-8"))
        src.update(files=n, bytes=nbytes)
        print(f"prepare: {src['name']:<22} {n:>5} files {nbytes / 1e6:7.2f} MB  skipped {src['skipped']}")
    if not train_docs or not val_docs:
        raise SystemExit(f"prepare: corpus too small: {len(train_docs)} training and {len(val_docs)} validation files "
                         "(need at least one of each; every file may have been empty or not UTF-8)")

    # Tokenizer on every other training file: enough text for stable merges, half the time.
    tok_texts = [t for i, (_, _, t) in enumerate(train_docs) if i % 2 == 0] or [train_docs[0][2]]
    merges = bpe.train(tok_texts, args.vocab_size)
    tok = bpe.Tokenizer.from_merges(merges)
    os.makedirs(os.path.dirname(args.tokenizer_out), exist_ok=True)
    tok.save(args.tokenizer_out)
    print(f"prepare: tokenizer with {len(tok.vocab)} tokens -> {args.tokenizer_out}")

    os.makedirs(args.out, exist_ok=True)
    split_info = {}
    for split, docs in (("train", train_docs), ("val", val_docs)):
        ids, offsets = [], []
        for _, _, text in docs:
            offsets.append(len(ids))
            ids.extend(tok.encode(text))
        arr = np.array(ids, dtype=np.uint16)
        arr.tofile(os.path.join(args.out, f"{split}.bin"))
        np.array(offsets, dtype=np.int64).tofile(os.path.join(args.out, f"{split}_doc_offsets.bin"))
        split_info[split] = dict(files=len(docs), tokens=int(arr.size), bytes=sum(len(t.encode()) for _, _, t in docs))
        print(f"prepare: {split}: {len(docs)} files, {arr.size:,} tokens")

    digest = hashlib.sha256()
    for name, rel, text in train_docs + val_docs:
        digest.update(f"{name}/{rel}\n".encode())
        digest.update(text.encode())
    manifest = dict(
        sources=[{k: s[k] for k in ("name", "root", "version", "license", "files", "bytes", "skipped")} for s in sources],
        splits=split_info, vocab_size=len(tok.vocab), corpus_sha256=digest.hexdigest(),
        validation_rule="sha1(source/path)[0] % 20 == 0",
    )
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


if __name__ == "__main__":
    main()
