#!/usr/bin/env bash
# The GPU recipe: both variants side by side on one CUDA GPU, in commands of at most 10 minutes.
# Run the same command again until it prints "gpu: both variants done", then once more: that call
# evaluates the pair. Each run resumes from the last checkpoint (the full state while the machine
# stays warm, else the weights that came back).
#
# With the device tool (see models/README.md, "Training"): from this repository, once
#   /usr/bin/python3 training/prepare.py           # here, on CPU: writes training/data/*.jsonl.xz (26 MB)
# then run, carrying the corpus (and, from the second call on, what came back):
#   run(command="bash training/train_gpu.sh", timeout_s=600,
#       carry=["training/data/train.jsonl.xz", "training/data/val.jsonl.xz", "training/data/manifest.json",
#              "training/runs/gpu"])
# and copy the returned files (files_at) into training/runs/gpu/ before the next call. The eval call
# returns eval-results.json and eval-table.md (then: training/eval.py --render eval-results.json).
# Needs PyTorch >= 2.0 (fused attention) and, for fast tokenising, HF `tokenizers`.
#
# VARIANTS picks what trains (default "softmax ssmax"); "screening" is the Multiscreen twin (Psi = 11,
# training/screening.py) on the same data, steps and schedule, with its own learning rate (SCREENING_LR)
# and no weight decay. With VARIANTS="screening" alone the eval call sets it beside the shipped Softmax
# checkpoint (training/checkpoints/softmax.pt: 317 M tokens, the default STEPS here) unless a Softmax
# twin was trained in this run. Each log line prints tokens/s: size STEPS from the first call's rate.
# A dry run on CPU at toy size: see models/README.md or
#   VARIANTS="softmax screening" STEPS=4 MINUTES=1 TRAIN_ARGS="--batch 2 --block 64 --psi 2 --layers 1 --width 16 \
#     --eval-every 2 --save-every 2 --threads 1" EVAL_ARGS="--windows 1 --selection-windows 1 --trials 1 --factors 5 \
#     --formats py-dict" PY=/usr/bin/python3 RUN_DIR=/tmp/gpu-dry bash training/train_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
RUN=${RUN_DIR:-training/runs/gpu}  # weights and logs: carried to the next call
STATE=$RUN-state                   # optimiser state, never carried (a carried folder replaces the one there)
OUT_DIR=${OUT:-$RUN/out}
STEPS=${STEPS:-6000}      # x 64 x 512 = 197 M tokens per variant
MINUTES=${MINUTES:-7.5}   # training time per command (both variants at once); + startup, tokenising < 10 min
VARIANTS=${VARIANTS:-softmax ssmax}
SCREENING_LR=${SCREENING_LR:-1.6e-2}
TRAIN_ARGS=${TRAIN_ARGS:-} EVAL_ARGS=${EVAL_ARGS:-}  # appended (last wins): for a dry run on CPU
export PYTHONUNBUFFERED=1
mkdir -p "$RUN" "$STATE" "$OUT_DIR"
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader || true
if [ ! -f training/data/train.bin ]; then
  $PY training/prepare.py --tokenize-only
fi
# The fused kernel must match the full-weights path (the check that torch 1.13 skips on CPU).
$PY -m unittest training.test_training.Model 2>&1 | tail -n 1
done_training() { [ -f "$RUN/train-$1.log" ] && tail -n 1 "$RUN/train-$1.log" | grep -q "done$"; }
all_done() { for v in $VARIANTS; do done_training "$v" || return 1; done; }
has() { [[ " $VARIANTS " == *" $1 "* ]]; }
if all_done; then
  # A call of its own: training and the eval together would not fit in 10 minutes.
  echo "gpu: all variants done ($VARIANTS); evaluating (the shipped pair in training/checkpoints/ gives the baseline rows)"
  if has ssmax; then
    pair=(--softmax "$RUN/softmax.pt" --ssmax "$RUN/ssmax.pt" --baseline-softmax training/checkpoints/softmax.pt
          --baseline-ssmax training/checkpoints/ssmax.pt)
  else
    pair=(--softmax "$(has softmax && echo "$RUN/softmax.pt" || echo training/checkpoints/softmax.pt)" --modes softmax)
  fi
  has screening && pair+=(--screening "$RUN/screening.pt")
  $PY training/eval.py "${pair[@]}" --batch 16 --card '' \
    --out "$OUT_DIR/eval-results.json" --table "$OUT_DIR/eval-table.md" $EVAL_ARGS 2>&1 | tail -n 80
  exit 0
fi
for v in $VARIANTS; do
  if [ "$v" = screening ]; then shape=(--psi 11 --lr "$SCREENING_LR"); else shape=(--layers 6 --heads 4 --width 192 --lr 1.5e-3); fi
  $PY training/train.py --attention "$v" --out "$RUN/$v.pt" --state "$STATE/$v.pt" --resume --max-minutes "$MINUTES" \
    --steps "$STEPS" --batch 64 --block 512 "${shape[@]}" --warmup 200 --repeat-share 0.25 \
    --save-every 250 --eval-every 250 --threads 4 $TRAIN_ARGS >> "$RUN/train-$v.log" 2>&1 &
done
wait
tail -n 3 "$RUN"/train-*.log
for v in $VARIANTS; do cp "$RUN/$v.pt" "$OUT_DIR"/; done
cp "$RUN"/train-*.log "$OUT_DIR"/
if all_done; then
  echo "gpu: all variants done; run the same command once more to evaluate"
else
  echo "gpu: not done yet; run the same command again"
fi
