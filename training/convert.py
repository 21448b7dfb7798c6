"""Convert a Hugging Face decoder checkpoint folder into a model folder (contract v3), without the
`transformers` package.

    /usr/bin/python3 training/convert.py HF_DIR OUT_DIR [--id NAME]

HF_DIR holds config.json, tokenizer.json and the weights: model.safetensors, sharded safetensors
(model.safetensors.index.json) or pytorch_model.bin (sharded: pytorch_model.bin.index.json).
Supported model_type: gpt2, llama, mistral (without sliding window), qwen2 (training/hf_adapters.py).
A missing or corrupt file gives one line naming the file and the problem, and exit code 2.
"""
import argparse
import json
import math
import os
import shutil
import sys

import numpy as np
import torch

import rope_rule
from graphs import export_attention, export_variant, write_manifest
from hf_adapters import ADAPTERS, ARCHITECTURES, WeightsError

SUPPORTED = "gpt2 (GPT2LMHeadModel), llama (LlamaForCausalLM: Llama, TinyLlama, SmolLM, SmolLM2), " \
            "mistral (MistralForCausalLM, no sliding window) and qwen2 (Qwen2ForCausalLM: Qwen2, Qwen2.5)"
# Converted models keep their RoPE base beyond the training context (factor 1): they were trained
# with a fixed base, unlike our SSMax checkpoints.
ROPE_FACTOR_BEYOND_TRAIN = 1.0
TOP_K, POOLED_SIZE = 16, 256  # the summaries' sizes, as for the shipped model

# safetensors dtype -> numpy dtype of the stored bytes (bfloat16 is read as its 16 bits)
_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I64": np.int64,
           "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


class ConvertError(Exception):
    """One clear line for the user: which file, what is wrong."""


def read_safetensors(path):
    """{name: float32 or integer torch tensor}. Layout: 8-byte little-endian header length, a JSON
    header {name: {dtype, shape, data_offsets: [begin, end]}} (offsets after the header), raw bytes."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) < 8:
            raise ConvertError(f"{path} is truncated: {size} bytes, not even the 8-byte header length")
        n = int.from_bytes(prefix, "little")
        if n > size - 8:
            raise ConvertError(f"{path} is truncated or not safetensors: header of {n} bytes in a file of {size}")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ConvertError(f"{path} has a corrupt header: {err}") from None
    if not isinstance(header, dict):
        raise ConvertError(f"{path} has a corrupt header: not a JSON object")
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n) if size > 8 + n else np.zeros(0, np.uint8)
    tensors = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = info["dtype"], [int(d) for d in info["shape"]], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise ConvertError(f"{path}: header entry {key} lacks dtype, shape or data_offsets") from None
        if dtype not in _DTYPES:
            raise ConvertError(f"{path}: tensor {key} has dtype {dtype}; supported: {', '.join(_DTYPES)}")
        stored = np.dtype(_DTYPES[dtype])
        count = math.prod(shape)
        if end - begin != count * stored.itemsize or begin < 0:
            raise ConvertError(f"{path}: tensor {key} of shape {shape} and dtype {dtype} needs "
                               f"{count * stored.itemsize} bytes, its offsets span {end - begin}")
        if end > len(data):
            raise ConvertError(f"{path} is truncated: tensor {key} ends at byte {end} of the data, "
                               f"which holds {len(data)}")
        raw = np.frombuffer(data[begin:end], dtype=stored)  # a view: unaligned is fine, astype copies
        if dtype == "BF16":
            array = (raw.astype(np.uint32) << 16).view(np.float32)
        elif stored.kind == "f":
            array = raw.astype(np.float32)
        else:
            array = raw.copy()
        tensors[key] = torch.from_numpy(array.reshape(shape))
    if not tensors:
        raise ConvertError(f"{path} holds no tensors")
    return tensors


def _read_bin(path):
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds for a corrupt pickle or zip
        raise ConvertError(f"{path} cannot be read by torch.load: {str(err).splitlines()[0]}") from None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ConvertError(f"{path} is not a state dict of tensors")
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def _read_sharded(index_path, read):
    try:
        with open(index_path) as f:
            weight_map = json.load(f)["weight_map"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ConvertError(f"{index_path} is not a valid shard index (a JSON object with weight_map): {err}") from None
    folder = os.path.dirname(index_path)
    state = {}
    for shard in sorted(set(weight_map.values())):
        shard_path = os.path.join(folder, shard)
        if not os.path.isfile(shard_path):
            raise ConvertError(f"{shard_path} is missing (named by {os.path.basename(index_path)})")
        state.update(read(shard_path))
    for key, shard in weight_map.items():
        if key not in state:
            raise ConvertError(f"{os.path.join(folder, shard)} lacks tensor {key} (named by {os.path.basename(index_path)})")
    return state


def read_weights(hf_dir):
    """(state dict of the checkpoint, the file it came from)."""
    for name, read in (("model.safetensors", read_safetensors), ("model.safetensors.index.json", None),
                       ("pytorch_model.bin", _read_bin), ("pytorch_model.bin.index.json", None)):
        path = os.path.join(hf_dir, name)
        if os.path.isfile(path):
            if read is None:
                return _read_sharded(path, read_safetensors if name.startswith("model.") else _read_bin), path
            return read(path), path
    raise ConvertError(f"{hf_dir} has no weights: expected model.safetensors, model.safetensors.index.json, "
                       "pytorch_model.bin or pytorch_model.bin.index.json")


def read_config(hf_dir):
    path = os.path.join(hf_dir, "config.json")
    if not os.path.isfile(path):
        raise ConvertError(f"{path} is missing: {hf_dir} is not a Hugging Face checkpoint folder")
    try:
        with open(path) as f:
            cfg = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConvertError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(cfg, dict):
        raise ConvertError(f"{path} must hold a JSON object")
    model_type = cfg.get("model_type") or ARCHITECTURES.get((cfg.get("architectures") or [None])[0])
    if model_type not in ADAPTERS:
        named = cfg.get("model_type") or cfg.get("architectures")
        raise ConvertError(f"{path}: model {named!r} is not supported; supported: {SUPPORTED}")
    if model_type in ("mistral", "qwen2") and cfg.get("sliding_window") and \
            (model_type == "mistral" or cfg.get("use_sliding_window")):
        print(f"convert: {path} sets sliding_window {cfg['sliding_window']}; converted with full attention, "
              f"exact up to {cfg['sliding_window']} tokens", file=sys.stderr)
    return model_type, cfg


def check_tokenizer(hf_dir, vocab_size):
    path = os.path.join(hf_dir, "tokenizer.json")
    if not os.path.isfile(path):
        raise ConvertError(f"{path} is missing (the fast tokenizer file; save the tokenizer with transformers to write it)")
    try:
        with open(path, encoding="utf-8") as f:
            tok = json.load(f)
        ids = list(tok["model"]["vocab"].values()) if isinstance(tok["model"].get("vocab"), dict) else []
        ids += [t["id"] for t in tok.get("added_tokens") or []]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
        raise ConvertError(f"{path} is not a tokenizer.json: {err}") from None
    top = max((i for i in ids if isinstance(i, int)), default=-1)
    if top >= vocab_size:
        raise ConvertError(f"{path} has token id {top}, beyond config.json vocab_size {vocab_size}")
    return path


def load(hf_dir):
    """The adapter for the checkpoint in hf_dir, in eval mode, without gradients."""
    model_type, cfg = read_config(hf_dir)
    state, source = read_weights(hf_dir)
    try:
        adapter = ADAPTERS[model_type].from_state_dict(cfg, state, source)
    except WeightsError as err:
        raise ConvertError(str(err)) from None
    return adapter.eval().requires_grad_(False)


def export(adapter, tokenizer_path, out_dir, model_id):
    """Writes the model folder: the softmax variant's graphs, the attention graphs, tokenizer.json
    and models.json (a converted model has no ssmax variant; ssmax-posthoc runs the softmax one)."""
    os.makedirs(out_dir, exist_ok=True)
    export_variant(adapter, os.path.join(out_dir, "softmax"), {"attention": "softmax", "converted": model_id})
    export_attention(TOP_K, out_dir)
    shutil.copyfile(tokenizer_path, os.path.join(out_dir, "tokenizer.json"))
    write_manifest(out_dir, model_id, adapter, {"softmax": {"dir": "softmax"}}, TOP_K, POOLED_SIZE,
                   rope_rule.fixed(ROPE_FACTOR_BEYOND_TRAIN))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("hf_dir", help="Hugging Face checkpoint folder")
    ap.add_argument("out_dir", help="model folder to write")
    ap.add_argument("--id", help="model id in models.json (default: the checkpoint folder's name)")
    args = ap.parse_args(argv)
    try:
        if not os.path.isdir(args.hf_dir):
            raise ConvertError(f"{args.hf_dir} is not a folder")
        adapter = load(args.hf_dir)
        tokenizer_path = check_tokenizer(args.hf_dir, adapter.vocab_size)
    except ConvertError as err:
        print(f"convert: {err}", file=sys.stderr)
        return 2
    model_id = args.id or os.path.basename(os.path.normpath(os.path.abspath(args.hf_dir)))
    export(adapter, tokenizer_path, args.out_dir, model_id)
    facts = adapter.facts()
    print(f"convert: {facts['architecture']} ({facts['layers']} layers, {facts['heads']} heads, "
          f"{facts['kvHeads']} kv heads, {facts['parameters']:,} parameters) -> {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
