#!/usr/bin/env bash
# `npm run train` on a CPU-only machine: install the pinned corpus packages (apt-get, as root, only when
# missing), build the corpus (training/prepare.py, a few minutes), train both variants side by side
# (one core each) with the same seed, data order and hyperparameters, export them to models/, and
# evaluate. CPU budget: STEPS (default 1800) x 8 x 512 = 7.4 M tokens per variant.
#
# The shipped pair's stage 2 ran train.py with these arguments on the 2-core machine; this reproduces it
# (models/README.md, "Training"):
#   INIT=<folder with the first pair's softmax.pt and ssmax.pt> PY=<python with torch 2.13> npm run train
# INIT continues from an earlier pair (its weights; fresh optimiser; its context may be shorter); without
# it the variants start from scratch. PY runs training and eval (prepare and export use Debian's python3);
# it defaults to Debian's python3 (torch 1.13, OpenBLAS), about 1.6x slower than torch 2.13's CPU build.
# A model that copies and retrieves well needs far more tokens: the GPU recipe is training/train_gpu.sh.
# Rerunning continues an interrupted run (--resume).
# Needs python3-torch, python3-onnx, python3-numpy, python3-regex and libopenblas0-pthread
# (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
STEPS=${STEPS:-1800}
INIT=${INIT:-}
export PYTHONUNBUFFERED=1
mkdir -p training/runs training/checkpoints
if [ ! -f training/data/train.bin ]; then
  /usr/bin/python3 training/prepare.py --install-packages
fi
cp training/data/manifest.json training/corpus-manifest.json  # committed: what the corpus held
for v in softmax ssmax; do
  $PY training/train.py --attention "$v" --out "training/checkpoints/$v.pt" --state "training/runs/$v.state.pt" --resume \
    ${INIT:+--init "$INIT/$v.pt"} --steps "$STEPS" --batch 8 --block 512 --layers 4 --heads 4 --width 192 \
    --lr 1e-3 --warmup 100 --repeat-share 0.5 --eval-every 100 --save-every 100 --threads 1 \
    >> "training/runs/train-$v.log" 2>&1 &
done
wait
tail -n 3 training/runs/train-*.log
/usr/bin/python3 training/export.py --softmax training/checkpoints/softmax.pt --ssmax training/checkpoints/ssmax.pt \
  --tokenizer models/tokenizer.json --out models 2>&1 | grep -v -i warn
# On CPU the 16x retrieval cells get 40 trials, not 200 (models/README.md); a GPU runs 200 everywhere.
$PY training/eval.py --loss-tokens 32768 --trials 200,200,200,40 --retrieval-settings rule \
  ${INIT:+--baseline-softmax "$INIT/softmax.pt" --baseline-ssmax "$INIT/ssmax.pt"}
