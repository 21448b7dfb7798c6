"""A small randomly initialised Multiscreen checkpoint for tests (test/engine/screening.test.ts): Psi = 4,
training length 64, the shipped tokenizer's 4,096 tokens. Layer 0's windows all lie within the
training length (its blocks skip key bins at any length); the other layers reach past it (w = inf
beyond 64 tokens, the paper's rule). Weights are random, scaled so that every layer moves the logits.

    /usr/bin/python3 training/screening_fixture.py OUT.pt
"""
import math
import sys

import torch

from model import save_checkpoint
from screening import Multiscreen, ScreenConfig

WINDOWS = [[1.5, 5.0, 20.0, 60.0], [2.0, 12.0, 40.0, 100.0], [3.0, 30.0, 90.0, 300.0], [1.2, 8.0, 70.0, 2000.0]]


def fixture(seed=11):
    torch.manual_seed(seed)
    model = Multiscreen(ScreenConfig.from_psi(4, vocab_size=4096, block_size=64))
    with torch.no_grad():
        for layer, w in zip(model.layers, WINDOWS):
            layer.s_w.copy_(torch.log(torch.tensor(w) - 1))
            layer.s_r.normal_(0.0, 1.0)
            layer.s_o.normal_()
            layer.out.weight.mul_(20)
    return model.eval()


if __name__ == "__main__":
    assert len(sys.argv) == 2, __doc__
    m = fixture()
    save_checkpoint(sys.argv[1], m, {"step": 0})
    print(f"screening fixture: {sys.argv[1]}, windows {[[round(float(v), 2) for v in row] for row in m.learned_windows()]}, "
          f"trained length {m.cfg.block_size}, w = inf beyond it for {int((m.learned_windows() > 64).sum())} tiles; "
          f"{math.fsum(p.numel() for p in m.parameters()):.0f} parameters")
