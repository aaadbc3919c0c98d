#!/usr/bin/env python3
"""PyTorch timing of huashi's convolution benchmark (optional; no test uses it).

Runs `huashi bench conv --json` and the same convolutions in PyTorch
alternately, `--rounds` times on the same machine, and prints one table:
huashi's median, PyTorch's median for each variant, huashi / fastest peer and
the issue's target (huashi at most as slow as the fastest peer, <= 1.0x).

The cases are exactly those of `huashi bench conv` (bench_cases.rs), f32,
stride 1, cross-correlation:
  (a) 3x3 conv, x (8, 64, 56, 56), w (64, 64, 3, 3), pad 1
  (b) depthwise 3x3, x (8, 256, 56, 56), w (256, 1, 3, 3), pad 1, groups 256
  (c) 1x1 conv, x (8, 256, 56, 56), w (256, 256, 1, 1)
each as "forward" (no autograd) and "forward+backward": the gradients of
sum(conv(x, w)) with respect to x and w, as huashi's forward+backward (candle
autograd, output gradient all ones). PyTorch variants: NCHW contiguous
("torch NCHW") and channels_last ("torch channels_last"; x and w converted
outside the timed region). Every PyTorch figure is the median of --runs after
--warmup untimed runs; huashi's are its own medians (at least 5 runs). Each
round reports medians; over several rounds the table shows the median of the
per-round medians (a shared machine's speed drifts; noise only slows runs).

Setup and use (PyTorch CPU build from PyPI):

    python3 -m venv ~/.cache/huashi-torch && ~/.cache/huashi-torch/bin/pip install torch numpy
    cargo build --release -p huashi-cli
    ~/.cache/huashi-torch/bin/python crates/huashi-cli/bench/pytorch_conv.py \\
        --huashi target/release/huashi --rounds 3
    ... --quick        # one case, fewer runs: a smoke test of the script
"""

import argparse
import json
import statistics
import subprocess

import torch
import torch.nn.functional as F

from peer_common import add_common_arguments, median_ms, print_table

# id: (N, C_in, size, C_out, kernel, pad, groups), as in bench_cases.rs.
CASES = {
    "a": ("3x3 conv 64->64", (8, 64, 56, 64, 3, 1, 1)),
    "b": ("depthwise 3x3 C=256", (8, 256, 56, 256, 3, 1, 256)),
    "c": ("1x1 conv 256->256", (8, 256, 56, 256, 1, 0, 1)),
}
VARIANTS = {"torch NCHW": torch.contiguous_format, "torch channels_last": torch.channels_last}
TARGET = 1.0


def torch_case(geometry, layout, runs, warmup, seed):
    """(forward ms, forward+backward ms) of one case in one memory layout."""
    n, c_in, size, c_out, k, pad, groups = geometry
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, c_in, size, size, generator=gen) * 2 - 1
    w = (torch.rand(c_out, c_in // groups, k, k, generator=gen) * 2 - 1) / (c_in // groups * k * k) ** 0.5
    x, w = x.contiguous(memory_format=layout), w.contiguous(memory_format=layout)

    def forward():
        with torch.no_grad():
            return F.conv2d(x, w, padding=pad, groups=groups)

    xg, wg = x.clone().requires_grad_(True), w.clone().requires_grad_(True)

    def forward_backward():
        gx, gw = torch.autograd.grad(F.conv2d(xg, wg, padding=pad, groups=groups).sum(), (xg, wg))
        return gx, gw

    return median_ms(forward, runs, warmup), median_ms(forward_backward, runs, warmup)


def torch_round(ids, runs, warmup, seed):
    """{(case id, "forward"|"forward+backward"): {variant: ms}}."""
    out = {}
    for cid in ids:
        for variant, layout in VARIANTS.items():
            f, fb = torch_case(CASES[cid][1], layout, runs, warmup, seed)
            out.setdefault((cid, "forward"), {})[variant] = f
            out.setdefault((cid, "forward+backward"), {})[variant] = fb
    return out


def huashi_round(binary, ids, runs):
    """huashi's medians keyed like torch_round's, and its floors."""
    cmd = [binary, "bench", "conv", "--json", "--no-candle-backward",
           "--runs", str(max(runs, 5)), "--case", ",".join(ids)]
    report = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    out, floors = {}, {"fma_peak_gflops": report["fma_peak_gflops"]}
    for case in report["cases"]:
        cid = case["case"]["id"]
        out[(cid, "forward")] = case["huashi_forward"]["median_ms"]
        out[(cid, "forward+backward")] = case["huashi_forward_backward"]["median_ms"]
        best = case["gemm"]["orientations"][case["gemm"]["best"]]
        floors[cid] = {"best_gemm": f"{best['shape']} {best['layout']}",
                       "best_gemm_gflops": best["gflops"]}
    return out, floors


def summarise(rounds):
    """Median over rounds of huashi's and each variant's per-round medians."""
    rows = []
    for key in rounds[0]["huashi"]:
        hs = statistics.median(r["huashi"][key] for r in rounds)
        peers = {v: statistics.median(r["torch"][key][v] for r in rounds) for v in VARIANTS}
        fastest = min(peers.values())
        cid, what = key
        rows.append({
            "case": f"({cid}) {CASES[cid][0]} {what}",
            "huashi_ms": hs,
            **{f"{v}_ms": ms for v, ms in peers.items()},
            "huashi_over_fastest_peer": hs / fastest,
            "target": TARGET,
            "met": hs / fastest <= TARGET,
        })
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(ap)
    ap.add_argument("--runs", type=int, default=5,
                    help="timed runs per measurement (huashi needs at least 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed PyTorch runs first")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--case", default="a,b,c", help="cases, comma-separated (a, b, c)")
    ap.add_argument("--seed", type=int, default=0, help="seed of PyTorch's random inputs")
    ap.add_argument("--quick", action="store_true",
                    help="case (a) only, 5 runs after 1 warm-up: checks that the script works")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args()
    ids = ["a"] if args.quick else [c for c in args.case.split(",") if c]
    unknown = [c for c in ids if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; the cases are a, b and c")
    runs, warmup = (5, 1) if args.quick else (args.runs, args.warmup)
    torch.set_num_threads(args.threads)
    rounds = []
    for _ in range(max(args.rounds, 1)):
        hs, floors = huashi_round(args.huashi, ids, runs)
        rounds.append({"huashi": hs, "floors": floors,
                       "torch": torch_round(ids, runs, warmup, args.seed)})
    rows = summarise(rounds)
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "rounds": len(rounds), "runs": runs, "huashi_floors": [r["floors"] for r in rounds]}
    if args.json:
        print(json.dumps({**meta, "rows": rows}, indent=1))
    else:
        print_table(rows, f"torch {meta['torch']}, {meta['threads']} threads, "
                    f"median of {runs} runs, {len(rounds)} round(s)", list(VARIANTS))


if __name__ == "__main__":
    main()
