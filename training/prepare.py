"""Build the training corpus and encode its train/val splits.

    /usr/bin/python3 training/prepare.py --install-packages   # apt-get the pinned Debian packages (root), then prepare
    /usr/bin/python3 training/prepare.py                      # corpus -> training/data, encoded with models/tokenizer.json
    /usr/bin/python3 training/prepare.py --tokenize-only      # re-encode training/data/*.jsonl.xz (e.g. on the GPU machine)
    /usr/bin/python3 training/prepare.py --only python-stdlib --max-mb 0.05 --train-tokenizer --vocab-size 400 \\
        --out training/runs/smoke/data --tokenizer training/runs/smoke/model/tokenizer.json   # the CI smoke corpus

Sources are the pinned, permissively licensed code in training/corpus_sources.py: CPython's standard
library, Python libraries, Rust crates, Go modules and C/C++ headers from Debian packages, and npm
package tarballs fetched by `npm pack` into training/cache/npm. Every file passes the same filters
(UTF-8 text, not empty, not minified, at most 1 MB). The validation split is chosen by file (a hash
of source and path), never by line. Exact duplicates (same content after stripping trailing
whitespace from every line) are kept once, and a copy in the training split wins, so no validation
file's content is also trained on. Near-duplicates (for example a library and its vendored copy
with edits) are not detected; caps per source keep any one library small.

Outputs in --out: train.jsonl.xz and val.jsonl.xz (one {"source", "path", "text"} per line; what travels
to a GPU machine), train.bin / val.bin (uint16 token ids, documents concatenated),
*_doc_offsets.bin, and manifest.json (per source: package, version, licence, files, bytes, skips).
"""
import argparse
import hashlib
import json
import lzma
import os
import re
import subprocess
import tarfile

import numpy as np

import bpe
import corpus_sources

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NPM_CACHE = os.path.join(ROOT, "training", "cache", "npm")
MAX_FILE_BYTES = 1_000_000
VALIDATION_RULE = "sha1(source/path)[0] % 20 == 0"


def glob_regex(pattern):
    """`*` and `?` stay inside one path segment; `**/` matches any number of folders."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def selector(globs, exclude):
    inc, exc = [glob_regex(g) for g in globs], [glob_regex(g) for g in exclude]
    return lambda rel: any(r.match(rel) for r in inc) and not any(r.match(rel) for r in exc)


def path_order(rel):
    return hashlib.sha1(rel.encode()).digest()


def dir_files(src):
    root = src["root"]
    if not os.path.isdir(root):
        raise SystemExit(f"prepare: corpus source '{src['name']}' not found: no folder {root}")
    wanted = selector(src["globs"], src.get("exclude", []))
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            if wanted(rel) and os.path.isfile(p) and not os.path.islink(p):
                yield rel, lambda p=p: open(p, "rb").read()


def deb_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}|${Version}", pkg], capture_output=True, text=True)
    status, _, version = r.stdout.partition("|")
    return version if r.returncode == 0 and status.endswith(" installed") else None


def deb_files(src):
    r = subprocess.run(["dpkg-query", "-L", src["package"]], capture_output=True, text=True, check=True)
    wanted = selector(src["globs"], src["exclude"])
    for p in r.stdout.splitlines():
        rel = p.lstrip("/")
        if wanted(rel) and os.path.isfile(p) and not os.path.islink(p):
            yield rel, lambda p=p: open(p, "rb").read()


def npm_tarball(name, version, log):
    """Path of NAME-VERSION's tarball in the cache, fetched with `npm pack` when missing."""
    os.makedirs(NPM_CACHE, exist_ok=True)
    path = os.path.join(NPM_CACHE, f"{name.lstrip('@').replace('/', '-')}-{version}.tgz")
    if not os.path.isfile(path):
        log(f"prepare: npm pack {name}@{version}")
        r = subprocess.run(["npm", "pack", "--silent", f"{name}@{version}", "--pack-destination", NPM_CACHE],
                           capture_output=True, text=True)
        if r.returncode != 0 or not os.path.isfile(path):
            raise SystemExit(f"prepare: cannot fetch npm package {name}@{version} (npm pack failed: "
                             f"{r.stderr.strip().splitlines()[-1] if r.stderr.strip() else 'no tarball'})")
    return path


def npm_files(src):
    wanted = selector(src["globs"] + ["README.md", "Readme.md", "readme.md"], src["exclude"])
    with tarfile.open(src["tarball"]) as tf:
        members = [m for m in tf.getmembers() if m.isfile()]
        for m in members:
            rel = m.name.split("/", 1)[1] if "/" in m.name else m.name  # first folder is "package" (or the name)
            if wanted(rel):
                data = tf.extractfile(m).read()
                yield rel, lambda data=data: data


def spdx_permissive(expr):
    ids = [t for t in re.split(r"[\s()]+", expr or "") if t and t not in ("OR", "AND", "WITH")]
    return bool(ids) and all(i in corpus_sources.PERMISSIVE_SPDX for i in ids)


def npm_license(tarball):
    with tarfile.open(tarball) as tf:
        for m in tf.getmembers():
            if m.isfile() and m.name.count("/") == 1 and m.name.endswith("/package.json"):
                return json.load(tf.extractfile(m)).get("license")
    return None


def default_sources():
    sources = [dict(d, kind="dir") for d in corpus_sources.DIRS]
    for pkg, lic, max_mb, globs, exclude in corpus_sources.DEBS:
        sources.append(dict(name=f"deb:{pkg}", kind="deb", package=pkg, license=lic, max_mb=max_mb, globs=globs,
                            exclude=exclude))
    for name, version, max_mb, globs, exclude in corpus_sources.NPMS:
        sources.append(dict(name=f"npm:{name}", kind="npm", package=name, version=version, max_mb=max_mb, globs=globs,
                            exclude=exclude))
    return sources


def resolve(src, log):
    """Fill in what is read from the machine: Debian version, npm tarball and licence. Fails clearly."""
    if src["kind"] == "deb":
        src["version"] = deb_version(src["package"])
        if src["version"] is None:
            raise SystemExit(f"prepare: corpus source '{src['name']}' not found: Debian package {src['package']} is not "
                             "installed (run `/usr/bin/python3 training/prepare.py --install-packages` as root)")
    elif src["kind"] == "npm":
        src["tarball"] = npm_tarball(src["package"], src["version"], log)
        with open(src["tarball"], "rb") as f:
            src["tarball_sha256"] = hashlib.sha256(f.read()).hexdigest()
        src["license"] = npm_license(src["tarball"])
        if not spdx_permissive(src["license"]):
            raise SystemExit(f"prepare: npm package {src['package']}@{src['version']} has licence {src['license']!r}, "
                             "not in the permissive list (training/corpus_sources.py)")


def read_source(src, log):
    """Yield (relative path, text) for a source's usable files, in hash order, until its budget is spent."""
    files = {"dir": dir_files, "deb": deb_files, "npm": npm_files}[src["kind"]](src)
    budget = src["max_mb"] * 1_000_000
    used = 0
    skipped = dict(empty=0, not_utf8_or_binary=0, minified=0, too_large=0)
    for rel, read in sorted(files, key=lambda f: path_order(f[0])):
        if used >= budget:
            break
        raw = read()
        if not raw.strip():
            skipped["empty"] += 1
            continue
        if len(raw) > MAX_FILE_BYTES:
            skipped["too_large"] += 1
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            skipped["not_utf8_or_binary"] += 1
            log(f"prepare: skipping {src['name']}/{rel}: not UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start})")
            continue
        if "\x00" in text:
            skipped["not_utf8_or_binary"] += 1
            log(f"prepare: skipping {src['name']}/{rel}: contains NUL bytes (binary)")
            continue
        if len(text) / (text.count("\n") + 1) > 300:
            skipped["minified"] += 1
            continue
        used += len(raw)
        yield rel, text
    src["skipped"] = skipped


def is_validation(source_name, rel):
    h = hashlib.sha1(f"{source_name}/{rel}".encode()).digest()
    return h[0] % 20 == 0  # 5% of files


def content_key(text):
    return hashlib.sha1("\n".join(line.rstrip() for line in text.split("\n")).encode()).digest()


def deduplicate(docs):
    """docs: [(source, rel, text, is_val)]. Keeps one copy per content; a training copy wins over validation
    copies, so validation never repeats training text. Returns kept docs and the dropped count per source."""
    keep = {}
    for i, (_, _, text, is_val) in enumerate(docs):
        k = content_key(text)
        if k not in keep or (docs[keep[k]][3] and not is_val):
            keep[k] = i
    kept_idx = set(keep.values())
    dropped = {}
    for i, (name, _, _, _) in enumerate(docs):
        if i not in kept_idx:
            dropped[name] = dropped.get(name, 0) + 1
    return [d for i, d in enumerate(docs) if i in kept_idx], dropped


def install_packages():
    missing = [pkg for pkg, *_ in corpus_sources.DEBS if deb_version(pkg) is None]
    if not missing:
        print("prepare: all corpus Debian packages are installed")
        return
    print(f"prepare: installing {len(missing)} Debian packages: {' '.join(missing)}", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env)


def write_jsonl_xz(path, docs):
    with lzma.open(path, "wt", encoding="utf-8", preset=6) as f:
        for name, rel, text, _ in docs:
            f.write(json.dumps({"source": name, "path": rel, "text": text}, ensure_ascii=False) + "\n")


def read_jsonl_xz(path):
    with lzma.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def encoder(tokenizer_path):
    """Hugging Face `tokenizers` when installed (the GPU machine: fast, same ids), else training/bpe.py."""
    try:
        from tokenizers import Tokenizer as HFTokenizer
    except ImportError:
        tok = bpe.Tokenizer.load(tokenizer_path)
        return lambda texts: [tok.encode(t) for t in texts]
    hf = HFTokenizer.from_file(tokenizer_path)
    return lambda texts: [e.ids for e in hf.encode_batch(texts)]


def tokenize(out, tokenizer_path):
    encode = encoder(tokenizer_path)
    info = {}
    for split in ("train", "val"):
        texts = read_jsonl_xz(os.path.join(out, f"{split}.jsonl.xz"))
        ids, offsets = [], []
        for doc in encode(texts):
            offsets.append(len(ids))
            ids.extend(doc)
        arr = np.array(ids, dtype=np.uint16)
        arr.tofile(os.path.join(out, f"{split}.bin"))
        np.array(offsets, dtype=np.int64).tofile(os.path.join(out, f"{split}_doc_offsets.bin"))
        info[split] = dict(files=len(texts), tokens=int(arr.size), bytes=sum(len(t.encode()) for t in texts))
        print(f"prepare: {split}: {len(texts):,} files, {arr.size:,} tokens", flush=True)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "training", "data"), help="folder for the corpus, token ids, manifest")
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "tokenizer.json"),
                    help="tokenizer to encode with (written there with --train-tokenizer)")
    ap.add_argument("--train-tokenizer", action="store_true", help="train a new BPE tokenizer on the training split")
    ap.add_argument("--vocab-size", type=int, default=4096, help="with --train-tokenizer")
    ap.add_argument("--max-mb", type=float, default=None, help="scale every source's budget down to at most this many MB")
    ap.add_argument("--only", default=None, help="comma-separated source names to keep (e.g. python-stdlib)")
    ap.add_argument("--source", action="append", default=[], metavar="NAME=DIR",
                    help="use this folder (all files, recursively) instead of the pinned sources; repeatable")
    ap.add_argument("--install-packages", action="store_true", help="apt-get install the pinned Debian packages first")
    ap.add_argument("--tokenize-only", action="store_true", help="only encode --out's *.jsonl.xz again")
    args = ap.parse_args()

    if args.tokenize_only:
        info = tokenize(args.out, args.tokenizer)
        path = os.path.join(args.out, "manifest.json")
        with open(path) as f:
            manifest = json.load(f)
        manifest["splits"] = info
        with open(path, "w") as f:
            json.dump(manifest, f, indent=2)
        return
    if args.install_packages:
        install_packages()

    if args.source:
        sources = []
        for spec in args.source:
            name, _, root = spec.partition("=")
            if not root:
                raise SystemExit(f"prepare: --source expects NAME=DIR, got '{spec}'")
            sources.append(dict(name=name, kind="dir", root=root, globs=["**/*"], version="local", license="local",
                                max_mb=1000))
    else:
        sources = default_sources()
    if args.only:
        names = set(args.only.split(","))
        sources = [s for s in sources if s["name"] in names]
        if not sources:
            raise SystemExit(f"prepare: --only {args.only}: no such source (see training/corpus_sources.py)")
    if args.max_mb is not None:
        for s in sources:
            s["max_mb"] = min(s["max_mb"], args.max_mb)

    docs = []
    for src in sources:
        resolve(src, print)
        n = nbytes = 0
        for rel, text in read_source(src, print):
            docs.append((src["name"], rel, text, is_validation(src["name"], rel)))
            n += 1
            nbytes += len(text.encode("utf-8"))
        src.update(files=n, bytes=nbytes)
    docs, dropped = deduplicate(docs)
    for src in sources:
        src["skipped"]["duplicate"] = dropped.get(src["name"], 0)
        src["files"] -= src["skipped"]["duplicate"]
        src["bytes"] = sum(len(t.encode("utf-8")) for name, _, t, _ in docs if name == src["name"])
        print(f"prepare: {src['name']:<45} {src['files']:>5} files {src['bytes'] / 1e6:7.2f} MB  skipped {src['skipped']}")
    train_docs = [d for d in docs if not d[3]]
    val_docs = [d for d in docs if d[3]]
    if not train_docs or not val_docs:
        raise SystemExit(f"prepare: corpus too small: {len(train_docs)} training and {len(val_docs)} validation files "
                         "(need at least one of each; every file may have been empty or not UTF-8)")

    if args.train_tokenizer:
        # Every other training file: enough text for stable merges, half the time.
        tok_texts = [t for i, (_, _, t, _) in enumerate(train_docs) if i % 2 == 0] or [train_docs[0][2]]
        tok = bpe.Tokenizer.from_merges(bpe.train(tok_texts, args.vocab_size))
        os.makedirs(os.path.dirname(os.path.abspath(args.tokenizer)), exist_ok=True)
        tok.save(args.tokenizer)
        print(f"prepare: tokenizer with {len(tok.vocab)} tokens -> {args.tokenizer}")
    elif not os.path.isfile(args.tokenizer):
        raise SystemExit(f"prepare: tokenizer {args.tokenizer} not found (pass --train-tokenizer to train one)")

    os.makedirs(args.out, exist_ok=True)
    write_jsonl_xz(os.path.join(args.out, "train.jsonl.xz"), train_docs)
    write_jsonl_xz(os.path.join(args.out, "val.jsonl.xz"), val_docs)
    split_info = tokenize(args.out, args.tokenizer)

    digest = hashlib.sha256()
    for name, rel, text, _ in train_docs + val_docs:
        digest.update(f"{name}/{rel}\n".encode())
        digest.update(text.encode())
    with open(args.tokenizer, "rb") as f:
        tok_data = f.read()
    keys = ("name", "kind", "package", "version", "license", "root", "tarball_sha256", "max_mb", "files", "bytes", "skipped")
    manifest = dict(
        sources=[{k: s[k] for k in keys if k in s} for s in sources],
        total=dict(files=len(docs), bytes=sum(s["bytes"] for s in sources)),
        splits=split_info, vocab_size=len(json.loads(tok_data)["model"]["vocab"]),
        tokenizer_sha256=hashlib.sha256(tok_data).hexdigest(), corpus_sha256=digest.hexdigest(),
        validation_rule=VALIDATION_RULE,
        deduplication="exact, after stripping trailing whitespace per line; a training copy wins; no near-duplicate detection",
        filters=f"UTF-8 without NUL, not empty, at most {MAX_FILE_BYTES:,} bytes, mean line length at most 300",
    )
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"prepare: {manifest['total']['files']:,} files, {manifest['total']['bytes'] / 1e6:.1f} MB -> {args.out}")


if __name__ == "__main__":
    main()
