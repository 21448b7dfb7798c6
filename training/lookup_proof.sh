#!/usr/bin/env bash
# Does the lookup data teach lookup? A small model (2 layers x 4 heads, width 128, context 256) trained
# from scratch on windows that all carry a lookup episode (training/lookup_data.py) over real code,
# on CPU for a few minutes. train.py's log reports, on validation windows, the share of first queries
# whose value's first token is the argmax: for syntax pairs seen in training and for held-out pairs
# (new names and values in both). Output: training/runs/lookup-proof/train.log (committed as
# training/logs/lookup-proof.log). Needs the prepared corpus.
#   PY=<python with torch> STEPS=3000 bash training/lookup_proof.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
OUT=training/runs/lookup-proof
mkdir -p "$OUT"
PYTHONUNBUFFERED=1 $PY training/train.py --attention softmax --out "$OUT/softmax.pt" --steps "${STEPS:-3000}" \
  --batch 16 --block 256 --layers 2 --heads 4 --width 128 --lr 1e-3 --warmup 100 --repeat-share 0 \
  --lookup-share 1.0 --eval-every 250 --save-every 1000 --threads 1 --max-minutes "${MAX_MINUTES:-45}" | tee "$OUT/train.log"
