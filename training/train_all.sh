#!/usr/bin/env bash
# `npm run train`: rebuild the corpus and tokenizer, train both variants side by side (one core
# each, about 55 minutes on the 2-core machine), export them to models/, evaluate, and print the
# eval table for the model card. Needs Debian's python3-torch, python3-onnx, python3-numpy,
# python3-regex and libopenblas0-pthread (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
export PYTHONUNBUFFERED=1
mkdir -p training/runs training/checkpoints
$PY training/prepare.py
cp training/data/manifest.json training/corpus-manifest.json  # committed: what the corpus held
for v in softmax ssmax; do
  $PY training/train.py --attention "$v" --out "training/checkpoints/$v.pt" --threads 1 > "training/runs/train-$v.log" 2>&1 &
done
wait
tail -n 3 training/runs/train-*.log
$PY training/export.py --softmax training/checkpoints/softmax.pt --ssmax training/checkpoints/ssmax.pt \
  --tokenizer models/tokenizer.json --out models 2>&1 | grep -v -i warn
$PY training/eval.py
