"""Helpers shared by pytorch_conv.py and pytorch_meta.py: where the huashi
binary is, a median timer, and the comparison table."""

import os
import statistics
import time


def default_huashi():
    """target/release/huashi under $CARGO_TARGET_DIR or the repository."""
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "target")
    return os.path.normpath(os.path.join(target, "release", "huashi"))


def add_common_arguments(ap):
    """--huashi and --rounds, the options both comparison scripts share."""
    ap.add_argument("--huashi", default=default_huashi(),
                    help="path of the huashi binary [default: target/release/huashi "
                    "under $CARGO_TARGET_DIR or the repository]")
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate huashi and PyTorch this many times; the table "
                    "shows the median of the per-round medians")


def median_ms(fn, runs, warmup):
    """Median wall time of `runs` calls of `fn` after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(samples)


def print_table(rows, header, peers):
    """One line per case: huashi, each peer (`peers`: the row keys without
    the `_ms` suffix), huashi / fastest peer and the target."""
    cols = ["case", "huashi ms"] + [f"{p} ms" for p in peers] + ["huashi / fastest", "target"]
    body = [[r["case"], f"{r['huashi_ms']:.2f}"]
            + [f"{r[p + '_ms']:.2f}" for p in peers]
            + [f"{r['huashi_over_fastest_peer']:.2f}x",
               f"<= {r['target']:.1f}x {'met' if r['met'] else 'missed'}"] for r in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(cols, *body)]
    print(header)
    for line in [cols] + body:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())
