#!/usr/bin/env python3
"""ReservoirPy timing of huashi's Mackey-Glass benchmark (optional; no test uses it).

Times fit + one-step predict of exactly the case `huashi esn bench` reports as
"Mackey-Glass one-step", with ReservoirPy on the same data, and (with
--huashi) runs `huashi esn bench --json` in the same session to print the
speed ratio.

The case (huashi_esn::tasks::MackeyGlassTask): Mackey-Glass tau = 17, 10,000
samples exported by huashi, min-max scaled to [-1, 1] on the first 7,001
samples; an ESN with 500 tanh units, leak 0.3, spectral radius 1.25, recurrent
connectivity 0.05 (normal weights), every unit fed the input (Bernoulli
weights scaled by 0.5), Bernoulli bias scaled by 0.2, ridge 1e-6 with an
unpenalised readout bias; fit u(t) -> u(t+1) on the first 7,000 inputs after a
warm-up (washout) of 100 steps, then predict the other 2,999 steps one step
ahead, continuing from the end-of-training state. NRMSE = RMSE / std of the
target, in the original units. "fit" includes drawing the reservoir (and its
spectral radius), as it does in huashi.

ReservoirPy's times depend a lot on OpenBLAS threading: on a busy 2-core
machine its default threads were 2-3x slower than OPENBLAS_NUM_THREADS=1, so
report both (the output records the setting).

Setup and use (ReservoirPy 0.4 from PyPI):

    python3 -m venv /tmp/rpy && /tmp/rpy/bin/pip install 'reservoirpy==0.4.*'
    cargo build --release -p huashi-cli
    target/release/huashi esn bench --export-mackey-glass /tmp/mg.csv > /dev/null
    /tmp/rpy/bin/python crates/huashi-cli/bench/reservoirpy_mackey_glass.py \
        /tmp/mg.csv --runs 5 --huashi target/release/huashi --rounds 5
    OPENBLAS_NUM_THREADS=1 /tmp/rpy/bin/python ...   # the same, single-threaded BLAS
"""

import argparse
import json
import os
import statistics
import subprocess
import time

import numpy as np
import reservoirpy
from reservoirpy import mat_gen
from reservoirpy.nodes import Reservoir, Ridge

TRAIN, WASHOUT, CLOSED_LOOP = 7000, 100, 100


def load(path):
    """The raw series (column `x` of huashi's export)."""
    data = np.genfromtxt(path, delimiter=",", names=True)
    return np.asarray(data["x"], dtype=np.float64)


def scale(raw):
    """Min-max scaling onto [-1, 1] fitted on raw[:TRAIN + 1], and its inverse."""
    lo, hi = raw[: TRAIN + 1].min(), raw[: TRAIN + 1].max()
    fwd = lambda x: -1.0 + 2.0 * (x - lo) / (hi - lo)
    inv = lambda z: lo + (z + 1.0) * (hi - lo) / 2.0
    return fwd(raw), inv


def nrmse(pred, truth):
    return float(np.sqrt(np.mean((pred - truth) ** 2)) / np.std(truth))


def esn(seed):
    reservoir = Reservoir(
        500,
        lr=0.3,
        sr=1.25,
        rc_connectivity=0.05,
        input_scaling=0.5,
        input_connectivity=1.0,
        bias=mat_gen.bernoulli(input_scaling=0.2),
        seed=seed,
    )
    return reservoir >> Ridge(ridge=1e-6)


def one_run(s, seed):
    """Fit + predict once; returns (fit s, predict s, predictions, model)."""
    x_train, y_train = s[:TRAIN, None], s[1 : TRAIN + 1, None]
    x_test = s[TRAIN:-1, None]
    t0 = time.perf_counter()
    model = esn(seed)
    model.fit(x_train, y_train, warmup=WASHOUT)
    t1 = time.perf_counter()
    pred = model.run(x_test)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, pred[:, 0], model


def closed_loop(s, seed):
    """NRMSE-ready closed-loop outputs: fit again, then feed outputs back."""
    x_train, y_train = s[:TRAIN, None], s[1 : TRAIN + 1, None]
    model = esn(seed)
    model.fit(x_train, y_train, warmup=WASHOUT)
    y, out = s[TRAIN : TRAIN + 1], []
    for _ in range(CLOSED_LOOP):
        y = np.asarray(model.step(y)).reshape(1)
        out.append(y[0])
    return np.array(out)


def median_ms(v):
    return 1e3 * statistics.median(v)


def reservoirpy_results(raw, runs, seed):
    s, inv = scale(raw)
    one_run(s, seed)  # warm-up
    fits, preds = [], []
    for _ in range(runs):
        f, p, pred, _ = one_run(s, seed)
        fits.append(f)
        preds.append(p)
    totals = [f + p for f, p in zip(fits, preds)]
    gen = inv(closed_loop(s, seed))
    return {
        "tool": f"reservoirpy {reservoirpy.__version__} (numpy {np.__version__})",
        "fit_ms": median_ms(fits),
        "predict_ms": median_ms(preds),
        "total_ms": median_ms(totals),
        "total_min_ms": 1e3 * min(totals),
        "one_step_nrmse": nrmse(inv(pred), raw[TRAIN + 1 :]),
        "closed_loop_nrmse": nrmse(gen, raw[TRAIN + 1 : TRAIN + 1 + CLOSED_LOOP]),
        "runs": runs,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
    }


def huashi_results(binary, runs):
    out = subprocess.run(
        [binary, "esn", "bench", "--json", "--runs", str(runs)],
        check=True, capture_output=True, text=True,
    ).stdout
    cases = {c["name"]: c for c in json.loads(out)["cases"]}
    mg = cases["Mackey-Glass one-step"]
    closed = next(c for n, c in cases.items() if n.startswith("Mackey-Glass closed"))
    return {
        "tool": "huashi esn bench",
        "fit_ms": mg["fit"]["median_ms"],
        "predict_ms": mg["predict"]["median_ms"],
        "total_ms": mg["total"]["median_ms"],
        "total_min_ms": mg["total"]["min_ms"],
        "one_step_nrmse": mg["value"],
        "closed_loop_nrmse": closed["value"],
        "runs": runs,
    }


def ratios(rpy, hs):
    return {
        "speedup_fit_plus_predict": rpy["total_ms"] / hs["total_ms"],
        "speedup_fit": rpy["fit_ms"] / hs["fit_ms"],
        "speedup_predict": rpy["predict_ms"] / hs["predict_ms"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", help="series from `huashi esn bench --export-mackey-glass`")
    ap.add_argument("--runs", type=int, default=5, help="timed runs (median)")
    ap.add_argument("--seed", type=int, default=0, help="ReservoirPy seed")
    ap.add_argument("--huashi", help="path of the huashi binary, to time it too")
    ap.add_argument(
        "--rounds", type=int, default=1,
        help="with --huashi: alternate the two tools this many times and also "
        "print the median of the per-round ratios and the ratio of the fastest "
        "runs of each (a shared machine's speed drifts over seconds to "
        "minutes; noise only ever slows a run down)",
    )
    args = ap.parse_args()
    raw = load(args.csv)
    assert raw.shape == (10000,), raw.shape
    per_round, minima = [], []
    for _ in range(args.rounds if args.huashi else 1):
        results = [reservoirpy_results(raw, args.runs, args.seed)]
        if args.huashi:
            results.append(huashi_results(args.huashi, args.runs))
        for r in results:
            print(json.dumps(r))
        if args.huashi:
            per_round.append(ratios(*results))
            minima.append([r["total_min_ms"] for r in results])
            print(json.dumps(per_round[-1]))
    if len(per_round) > 1:
        total = [r["speedup_fit_plus_predict"] for r in per_round]
        rpy_min, hs_min = (min(m[i] for m in minima) for i in (0, 1))
        print(json.dumps({
            "rounds": len(per_round),
            "speedup_fit_plus_predict_each": [round(t, 2) for t in total],
            "speedup_fit_plus_predict_median": statistics.median(total),
            "fastest_total_ms": {"reservoirpy": rpy_min, "huashi": hs_min},
            "speedup_of_fastest": rpy_min / hs_min,
        }))


if __name__ == "__main__":
    main()
