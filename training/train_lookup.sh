#!/usr/bin/env bash
# Fine-tunes the shipped pair (training/checkpoints/) on the corpus with key lookup episodes
# (training/lookup_data.py) in LOOKUP_SHARE of the windows, both variants side by side with the same
# seed, data order and hyperparameters. The log reports lookup accuracy on validation windows for the
# syntax pairs trained on and for held-out pairs. CPU: one thread per variant; STEPS x 8 x 512 tokens.
#   PY=<python with torch> STEPS=400 bash training/train_lookup.sh
# Output: training/runs/lookup/{softmax,ssmax}.pt and train-*.log (copy the logs next to this file
# to commit them). Needs the prepared corpus (training/prepare.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
STEPS=${STEPS:-400}
LOOKUP_SHARE=${LOOKUP_SHARE:-0.5}
MAX_MINUTES=${MAX_MINUTES:-60}
OUT=training/runs/lookup
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
for v in softmax ssmax; do
  $PY training/train.py --attention "$v" --init "training/checkpoints/$v.pt" --out "$OUT/$v.pt" --steps "$STEPS" \
    --batch 8 --block 512 --layers 6 --heads 4 --width 192 --lr 3e-4 --warmup 50 --repeat-share 0.25 \
    --lookup-share "$LOOKUP_SHARE" --eval-every 50 --save-every 50 --threads 1 --max-minutes "$MAX_MINUTES" \
    > "$OUT/train-$v.log" 2>&1 &
done
wait
tail -n 2 "$OUT"/train-*.log
