"""Token ids from training/bpe.py for fixed texts, so test/smoke can check src/core/model/tokenizer.ts agrees."""
import argparse
import glob
import json
import os

import bpe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXTS = [
    "def f(x):\r\n\treturn x  # café 😀 中文 é\n",
    "const s = `${a}` + 'it''s' don't we'll I've;\n\n\n    indented\u00a0nbsp\u2003em\u3000ideo",
    "e\u0301 combining, ZWJ 👩\u200d💻, flags 🇫🇷, tabs\t\t\tend",
    "x" * 5000 + " " + "=" * 3000,
    "",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    tok = bpe.Tokenizer.load(args.tokenizer)
    texts = list(TEXTS)
    for pattern in ("samples/*", "src/core/*.ts", "training/*.py", "README.md"):
        for p in sorted(glob.glob(os.path.join(ROOT, pattern))):
            if os.path.isfile(p):
                with open(p, encoding="utf-8") as f:
                    texts.append(f.read())
    with open(args.out, "w") as f:
        json.dump({"cases": [{"text": t, "ids": tok.encode(t)} for t in texts]}, f)


if __name__ == "__main__":
    main()
