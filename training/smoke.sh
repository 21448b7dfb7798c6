#!/usr/bin/env bash
# Smoke pipeline for `npm test`: prepare a tiny corpus (0.3 MB of sources every machine has), train
# both variants for a few steps, export them to ONNX, and write PyTorch reference outputs (smoke and shipped models) for test/smoke.
# About a minute on 2 cores. Output: training/runs/smoke/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
OUT=training/runs/smoke
rm -rf "$OUT" && mkdir -p "$OUT/model"
export PYTHONUNBUFFERED=1
$PY training/prepare.py --only python-stdlib,node-headers --max-mb 0.3 --train-tokenizer --vocab-size 400 \
  --out "$OUT/data" --tokenizer "$OUT/model/tokenizer.json" | tail -n 3
for v in softmax ssmax; do
  $PY training/train.py --attention "$v" --data "$OUT/data" --out "$OUT/$v.pt" --steps 30 --batch 4 \
    --block 32 --layers 2 --heads 2 --width 32 --eval-every 10 | tail -n 1
done
$PY training/export.py --softmax "$OUT/softmax.pt" --ssmax "$OUT/ssmax.pt" --tokenizer "$OUT/model/tokenizer.json" \
  --out "$OUT/model" --id smoke 2>&1 | grep -v -i warn | tail -n 1
$PY training/reference.py --softmax "$OUT/softmax.pt" --ssmax "$OUT/ssmax.pt" --lengths 1,7,40,300 \
  --rope-rule "$OUT/model/models.json" --out "$OUT/reference.json"
if [ -f training/checkpoints/softmax.pt ] && [ -f training/checkpoints/ssmax.pt ]; then
  # beyond the training context at two lengths, with the RoPE rule that models/models.json ships
  $PY training/reference.py --softmax training/checkpoints/softmax.pt --ssmax training/checkpoints/ssmax.pt \
    --lengths 1,5,100 --long 700,1100 --rope-rule models/models.json --out "$OUT/shipped-reference.json"
fi
$PY training/tokenizer_reference.py --tokenizer models/tokenizer.json --out "$OUT/tokenizer-reference.json"
echo "smoke: ready in $OUT"
