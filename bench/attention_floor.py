"""Floor attention graphs: attention.onnx and attention-split.onnx with the shipped graphs' inputs
that return the attention output y alone (no focus, top k, pooled map, entropy, distance or fading
outputs). They cannot drive an inspection; `node dist/attention-cost.js DIR` times them against the
shipped graphs on the same feeds, which gives what every summary adds to a run and the run's floor
in this runtime (bench/README.md, "The floor of a run").

    /usr/bin/python3 bench/attention_floor.py DIR
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "training"))
from graphs import OPSET, mask_bias  # noqa: E402


class FloorAttention(nn.Module):
    """AttentionGraph's block (past keys, then the masked diagonal keys) down to y."""

    def forward(self, q, q_pos, k_past, k_diag, vkp, pool_template):
        G, B, hs = q.shape
        P = k_past.shape[0]
        rows = q.reshape(-1, hs)
        z_diag = (rows @ k_diag.t()).reshape(G, B, -1) + mask_bias(q_pos, torch.arange(k_diag.shape[0], dtype=torch.int64) + P)
        w = torch.cat([rows @ k_past.t(), z_diag.reshape(G * B, -1)], dim=-1).softmax(dim=-1)
        return (w @ vkp[:, :hs]).reshape(G, B, hs)


class FloorSplitAttention(nn.Module):
    """SplitAttentionGraph's two parts, each normalised on its own and merged by their log-normalisers, down to y."""

    def forward(self, q, q_pos, k_past, vkp_past, k_diag, vkp_diag, pool_template):
        G, B, hs = q.shape
        P = k_past.shape[0]
        rows = q.reshape(-1, hs)
        bias = mask_bias(q_pos, torch.arange(k_diag.shape[0], dtype=torch.int64) + P)

        def part(k, vkp, bias=None):
            z = rows @ k.t()
            if bias is not None:
                z = (z.reshape(-1, bias.shape[0], z.shape[-1]) + bias).reshape(rows.shape[0], -1)
            top = z.amax(dim=-1, keepdim=True)
            e = torch.exp(z - top)
            total = e.sum(dim=-1, keepdim=True)
            return top + torch.log(total), (e @ vkp[:, :hs]) / total

        lse_p, y_p = part(k_past, vkp_past)
        lse_d, y_d = part(k_diag, vkp_diag, bias)
        share_p = torch.sigmoid(lse_p - lse_d)  # exp(lse_p - lse) of the merged row
        return (share_p * y_p + (1 - share_p) * y_d).reshape(G, B, hs)


def main(folder):
    os.makedirs(folder, exist_ok=True)
    G, hs, B, P, D = 2, 8, 6, 10, 8  # example sizes only: every axis is dynamic
    q, q_pos = torch.randn(G, B, hs), torch.arange(P, P + B)
    dyn = {"q": {0: "G", 1: "B", 2: "hs"}, "q_pos": {0: "B"}, "k_past": {0: "P", 1: "hs"}, "k_diag": {0: "D", 1: "hs"},
           "vkp": {0: "Tk", 1: "vkp_width"}, "vkp_past": {0: "P", 1: "vkp_width"}, "vkp_diag": {0: "D", 1: "vkp_width"},
           "pool_template": {0: "bin"}, "y": {0: "G", 1: "B", 2: "hs"}}
    with torch.no_grad():
        names = ["q", "q_pos", "k_past", "k_diag", "vkp", "pool_template"]
        torch.onnx.export(FloorAttention(), (q, q_pos, torch.randn(P, hs), torch.randn(D, hs), torch.randn(P + D, 2 * hs + 1), torch.zeros(2)),
                          os.path.join(folder, "attention.onnx"), input_names=names, output_names=["y"],
                          dynamic_axes={n: dyn[n] for n in names + ["y"]}, opset_version=OPSET)
        names = ["q", "q_pos", "k_past", "vkp_past", "k_diag", "vkp_diag", "pool_template"]
        torch.onnx.export(FloorSplitAttention(), (q, q_pos, torch.randn(P, hs), torch.randn(P, 2 * hs + 1), torch.randn(D, hs), torch.randn(D, 2 * hs + 1), torch.zeros(2)),
                          os.path.join(folder, "attention-split.onnx"), input_names=names, output_names=["y"],
                          dynamic_axes={n: dyn[n] for n in names + ["y"]}, opset_version=OPSET)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bench/attention_floor.py DIR")
    main(sys.argv[1])
