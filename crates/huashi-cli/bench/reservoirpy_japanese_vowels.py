#!/usr/bin/env python3
"""ReservoirPy timing and accuracy of huashi's Japanese Vowels classifier (optional; no test uses it).

Runs exactly the setting `huashi esn classify` uses by default, with
ReservoirPy on the same files, and (with --huashi) runs `huashi esn classify
--json` in the same session to print both side by side.

The case (huashi_esn::classify::ClassifyConfig::default): the UCI Japanese
Vowels data (sktime .ts files, 270 training and 370 test utterances of 7-29
frames, 12 LPC channels, 9 speakers), each channel standardised with the mean
and standard deviation of all training frames; an ESN with UNITS tanh units,
leak LR, spectral radius SR, recurrent connectivity 0.1 (normal weights),
every unit fed every channel (Bernoulli weights scaled by INPUT_SCALING),
Bernoulli bias scaled by 0.2; each utterance runs from the zero state and its
last state is the readout's input; ridge RIDGE on one-hot targets with an
unpenalised bias; the class is the argmax. "fit" includes drawing the
reservoir, running the training utterances and solving the readout; "test"
runs the test utterances and classifies them. Accuracy is over 10 seeds.

ReservoirPy's times depend on OpenBLAS threading (see
reservoirpy_mackey_glass.py); the output records the setting.

Setup and use (ReservoirPy 0.4 from PyPI; no network needed once installed):

    bash /work/shared/bench/peers-setup.sh       # or: python3 -m venv ... && pip install 'reservoirpy==0.4.*'
    cargo build --release -p huashi-cli
    ~/.cache/huashi-peers/bin/python crates/huashi-cli/bench/reservoirpy_japanese_vowels.py \
        crates/huashi-esn/data/japanese_vowels --runs 5 --huashi target/release/huashi
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

UNITS, LR, SR, INPUT_SCALING, RIDGE = 500, 0.3, 0.9, 0.05, 1.0


def load_ts(path):
    """(sequences T x 12, labels) of an sktime .ts file."""
    seqs, labels, data = [], [], False
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not data:
                data = line.lower().startswith("@data")
                continue
            *channels, label = line.split(":")
            seqs.append(np.array([[float(v) for v in c.split(",")] for c in channels]).T)
            labels.append(label)
    return seqs, labels


def standardise(train, test):
    frames = np.concatenate(train)
    mean, std = frames.mean(axis=0), frames.std(axis=0)
    return [(s - mean) / std for s in train], [(s - mean) / std for s in test]


def last_states(reservoir, seqs):
    # ReservoirPy 0.4 runs every sequence of a list from the node's current
    # state, which is the end state of the previous run: reset it, or the
    # test utterances start where the last training utterance ended (97.6 %
    # instead of 99.7 % over 10 seeds).
    if reservoir.initialized:
        reservoir.reset()
    states = reservoir.run(seqs)
    return np.stack([s[-1] for s in states])


def one_run(train, y_train, test, classes, seed, args):
    t0 = time.perf_counter()
    reservoir = Reservoir(
        args.units, lr=args.lr, sr=args.sr, rc_connectivity=0.1,
        input_scaling=args.input_scaling, input_connectivity=1.0,
        bias=mat_gen.bernoulli(input_scaling=0.2), seed=seed,
    )
    onehot = np.eye(len(classes))[y_train]
    readout = Ridge(ridge=args.ridge)
    readout.fit(last_states(reservoir, train), onehot)
    t1 = time.perf_counter()
    predicted = np.argmax(readout.run(last_states(reservoir, test)), axis=1)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, predicted


def reservoirpy_results(folder, args):
    train, train_labels = load_ts(os.path.join(folder, "JapaneseVowels_TRAIN.ts"))
    test, test_labels = load_ts(os.path.join(folder, "JapaneseVowels_TEST.ts"))
    train, test = standardise(train, test)
    classes = sorted(set(train_labels), key=float)
    y_train = np.array([classes.index(c) for c in train_labels])
    y_test = np.array([classes.index(c) for c in test_labels])
    one_run(train, y_train, test, classes, 0, args)  # warm-up
    fits, tests, accuracies = [], [], []
    for seed in range(args.seeds):
        for _ in range(args.runs if seed == 0 else 1):
            f, t, predicted = one_run(train, y_train, test, classes, seed, args)
            if seed == 0:
                fits.append(f)
                tests.append(t)
        accuracies.append(float(np.mean(predicted == y_test)))
    return {
        "tool": f"reservoirpy {reservoirpy.__version__} (numpy {np.__version__})",
        "fit_ms": 1e3 * statistics.median(fits),
        "test_ms": 1e3 * statistics.median(tests),
        "accuracy_mean": statistics.mean(accuracies),
        "accuracy_each": accuracies,
        "runs": args.runs,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
    }


def huashi_results(binary, args):
    times = []
    for _ in range(args.runs):
        out = subprocess.run(
            [binary, "esn", "classify", "--json", "--seeds", str(args.seeds)],
            check=True, capture_output=True, text=True,
        ).stdout
        summary = json.loads(out)["summary"]
        times.append((summary["runs"][0]["fit_seconds"], summary["runs"][0]["test_seconds"]))
    return {
        "tool": "huashi esn classify",
        "fit_ms": 1e3 * statistics.median(t[0] for t in times),
        "test_ms": 1e3 * statistics.median(t[1] for t in times),
        "accuracy_mean": summary["mean"],
        "accuracy_each": [r["accuracy"] for r in summary["runs"]],
        "runs": args.runs,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", help="folder holding JapaneseVowels_{TRAIN,TEST}.ts")
    ap.add_argument("--runs", type=int, default=5, help="timed runs of seed 0 (median)")
    ap.add_argument("--seeds", type=int, default=10, help="reservoir seeds for the accuracy")
    ap.add_argument("--units", type=int, default=UNITS)
    ap.add_argument("--lr", type=float, default=LR)
    ap.add_argument("--sr", type=float, default=SR)
    ap.add_argument("--input-scaling", type=float, default=INPUT_SCALING)
    ap.add_argument("--ridge", type=float, default=RIDGE)
    ap.add_argument("--huashi", help="path of the huashi binary, to run it too")
    args = ap.parse_args()
    results = [reservoirpy_results(args.folder, args)]
    if args.huashi:
        results.append(huashi_results(args.huashi, args))
    for r in results:
        print(json.dumps(r))
    if args.huashi:
        rpy, hs = results
        print(json.dumps({
            "speedup_fit": rpy["fit_ms"] / hs["fit_ms"],
            "speedup_test": rpy["test_ms"] / hs["test_ms"],
        }))


if __name__ == "__main__":
    main()
