"""Surprisal of a text under a Hugging Face checkpoint, read by training/convert.py's adapter in
PyTorch (the converter's source of truth), tokenized by the Python reading of models/tokenizer.json;
with --posthoc-s S, every head's logits scaled as post-hoc SSMax does. Prints a JSON list.

    /usr/bin/python3 training/hf_surprisal.py HF_DIR TEXT_FILE [--posthoc-s S]
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import convert  # noqa: E402
from test_convert import adapter_forward  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("hf_dir")
ap.add_argument("text_file")
ap.add_argument("--posthoc-s", type=float)
args = ap.parse_args()
with open(args.text_file, encoding="utf-8") as f:
    ids = bpe.Tokenizer.load(os.path.join(HERE, "..", "models", "tokenizer.json")).encode(f.read())
adapter = convert.load(args.hf_dir)
s = None if args.posthoc_s is None else torch.full((adapter.layers, adapter.heads), args.posthoc_s)
surprisal, _, _ = adapter_forward(adapter, ids, ssmax_s=s)
print(json.dumps([float(x) for x in surprisal]))
