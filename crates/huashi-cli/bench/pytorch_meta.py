#!/usr/bin/env python3
"""PyTorch timing of huashi's meta-learning benchmark (optional; no test uses it).

Runs `huashi bench meta --json` and the same meta-training iterations in
PyTorch alternately, `--rounds` times on the same machine, and prints one
table: huashi's median ms per meta-iteration, PyTorch's for each variant,
huashi / fastest peer and the issue's target (<= 1.0x).

The cases are those of `huashi bench meta` (bench_meta.rs, with the CLI's
defaults and huashi-meta's models), f32:
  sinusoid MAML (2nd order): MLP 1-40-40-1 with ReLU, MSE, meta-batch 25,
      K = 10 support and 10 query points, one inner step, alpha = 0.01.
  Omniglot 5-way 1-shot: 28x28 1-channel images, 4 blocks of 3x3 conv
      (64 filters, stride 2, pad 1, no bias) -> batch norm with the batch's
      statistics per task (no running stats, eps 1e-5) -> ReLU; global
      average pool; linear head to 5 ways; cross-entropy; meta-batch 32, one
      query per class, one inner step, alpha = 0.4:
      MAML (2nd order), first-order MAML (inner gradients detached), and
      Prototypical Networks (the CNN without head as embedding; support and
      query embedded together per task; logits = -squared distance).
Each meta-iteration includes the outer Adam step (lr 1e-3) on the mean query
loss over the tasks. The data are random tensors of the right shapes (the
time does not depend on the values), drawn once per case.

PyTorch variants:
  loop:  learn2learn style: a Python loop over the tasks; per task the inner
         step with torch.autograd.grad(create_graph=True) (False for first
         order), the query loss through torch.func.functional_call on the fast
         weights, and .backward() accumulating the meta-gradient.
  func:  torch.func: functional_call + grad for the inner step, vmap over the
         tasks, one .backward() of the mean.
Each PyTorch figure is the median of --runs meta-iterations after --warmup
untimed ones; huashi's are its own medians over the same --runs.

Setup and use (PyTorch CPU build from PyPI):

    python3 -m venv ~/.cache/huashi-torch && ~/.cache/huashi-torch/bin/pip install torch numpy
    cargo build --release -p huashi-cli
    ~/.cache/huashi-torch/bin/python crates/huashi-cli/bench/pytorch_meta.py \\
        --huashi target/release/huashi --rounds 3
    ... --quick        # 2 runs after 1 warm-up: a smoke test of the script
"""

import argparse
import json
import math
import statistics
import subprocess

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

from peer_common import add_common_arguments, median_ms, print_table

TARGET = 1.0
# key: (huashi's case name, algorithm, task)
CASES = {
    "sinusoid_maml": ("sinusoid MAML (2nd order)", "maml", "sinusoid"),
    "omniglot_maml": ("Omniglot 5-way 1-shot MAML (2nd order)", "maml", "omniglot"),
    "omniglot_fomaml": ("Omniglot 5-way 1-shot first-order MAML", "fomaml", "omniglot"),
    "omniglot_protonet": ("Omniglot 5-way 1-shot ProtoNet", "protonet", "omniglot"),
}
WAYS, SHOTS, QUERIES, SIDE = 5, 1, 1, 28
SETTINGS = {  # task: (meta-batch, inner lr)
    "sinusoid": (25, 0.01),
    "omniglot": (32, 0.4),
}
OUTER_LR = 1e-3
VARIANTS = ("loop", "func")


class Mlp(torch.nn.Module):
    """1-40-40-1 with ReLU between layers (huashi_meta::Mlp)."""

    def __init__(self, sizes=(1, 40, 40, 1)):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = F.relu(x)
        return x


class Block(torch.nn.Module):
    """3x3 conv stride 2 pad 1 (no bias), batch-statistics batch norm, ReLU."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = torch.nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False)
        self.bn_weight = torch.nn.Parameter(torch.ones(c_out))
        self.bn_bias = torch.nn.Parameter(torch.zeros(c_out))

    def forward(self, x):
        y = self.conv(x)
        mean = y.mean(dim=(0, 2, 3), keepdim=True)
        centred = y - mean
        var = (centred * centred).mean(dim=(0, 2, 3), keepdim=True)
        scale = self.bn_weight.view(1, -1, 1, 1) / torch.sqrt(var + 1e-5)
        return F.relu(centred * scale + self.bn_bias.view(1, -1, 1, 1))


class ConvNet(torch.nn.Module):
    """huashi_meta::ConvNet: 4 blocks, average pool, optional linear head."""

    def __init__(self, head=True, hidden=64):
        super().__init__()
        chans = [1] + [hidden] * 4
        self.blocks = torch.nn.ModuleList(Block(a, b) for a, b in zip(chans[:-1], chans[1:]))
        self.head = torch.nn.Linear(hidden, WAYS) if head else None

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        x = x.mean(dim=(2, 3))
        return self.head(x) if self.head is not None else x


def sinusoid_batch(tasks, gen):
    """(xs, ys, xq, yq), each (T, 10, 1): A sin(x - phase), x in [-5, 5]."""
    amp = torch.rand(tasks, 1, 1, generator=gen) * 4.9 + 0.1
    phase = torch.rand(tasks, 1, 1, generator=gen) * math.pi
    xs, xq = (torch.rand(tasks, 10, 1, generator=gen) * 10 - 5 for _ in range(2))
    return xs, amp * torch.sin(xs - phase), xq, amp * torch.sin(xq - phase)


def omniglot_batch(tasks, gen):
    """(xs, ys, xq, yq): images (T, ways·shots, 1, 28, 28), labels (T, ways·shots)."""
    def images(per_class):
        return torch.rand(tasks, WAYS * per_class, 1, SIDE, SIDE, generator=gen)

    def labels(per_class):
        return torch.arange(WAYS).repeat_interleave(per_class).expand(tasks, -1).contiguous()

    return images(SHOTS), labels(SHOTS), images(QUERIES), labels(QUERIES)


def maml_task_loss(model, params, batch, t, alpha, loss_fn, first_order):
    """Query loss of task t after one inner step, graph kept to `params`."""
    xs, ys, xq, yq = batch
    inner = loss_fn(functional_call(model, params, (xs[t],)), ys[t])
    grads = torch.autograd.grad(inner, list(params.values()), create_graph=not first_order)
    fast = {n: p - alpha * g for (n, p), g in zip(params.items(), grads)}
    return loss_fn(functional_call(model, fast, (xq[t],)), yq[t])


def protonet_task_loss(model, params, xs, ys, xq, yq):
    """Support and query embedded together (one batch-norm batch per task)."""
    emb = functional_call(model, params, (torch.cat([xs, xq]),))
    support, query = emb[: xs.shape[0]], emb[xs.shape[0]:]
    onehot = F.one_hot(ys, WAYS).to(support.dtype)
    protos = onehot.t() @ support / onehot.sum(0).unsqueeze(1)
    logits = -((query.unsqueeze(1) - protos.unsqueeze(0)) ** 2).sum(-1)
    return F.cross_entropy(logits, yq)


def loop_step(model, algo, batch, alpha, loss_fn):
    params = dict(model.named_parameters())
    tasks = batch[0].shape[0]
    for t in range(tasks):
        if algo == "protonet":
            loss = protonet_task_loss(model, params, *(b[t] for b in batch))
        else:
            loss = maml_task_loss(model, params, batch, t, alpha, loss_fn, algo == "fomaml")
        (loss / tasks).backward()


def func_step(model, algo, batch, alpha, loss_fn):
    params = dict(model.named_parameters())

    def inner_loss(p, x, y):
        return loss_fn(functional_call(model, p, (x,)), y)

    def task_loss(p, xs, ys, xq, yq):
        if algo == "protonet":
            return protonet_task_loss(model, p, xs, ys, xq, yq)
        g = grad(inner_loss)(p, xs, ys)
        if algo == "fomaml":
            g = {k: v.detach() for k, v in g.items()}
        return inner_loss({k: p[k] - alpha * g[k] for k in p}, xq, yq)

    vmap(task_loss, in_dims=(None, 0, 0, 0, 0))(params, *batch).mean().backward()


def torch_case(key, variant, runs, warmup, seed):
    """Median ms of one meta-iteration (forward, backward, Adam step)."""
    _, algo, task = CASES[key]
    tasks, alpha = SETTINGS[task]
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    if task == "sinusoid":
        model, batch, loss_fn = Mlp(), sinusoid_batch(tasks, gen), F.mse_loss
    else:
        model, batch, loss_fn = ConvNet(head=algo != "protonet"), omniglot_batch(tasks, gen), F.cross_entropy
    opt = torch.optim.Adam(model.parameters(), lr=OUTER_LR)
    step = loop_step if variant == "loop" else func_step

    def iteration():
        opt.zero_grad()
        step(model, algo, batch, alpha, loss_fn)
        opt.step()

    return median_ms(iteration, runs, warmup)


def huashi_round(binary, runs):
    cmd = [binary, "bench", "meta", "--json", "--runs", str(runs)]
    rows = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    by_name = {r["case"]: r["timing"]["median_ms"] for r in rows}
    return {key: by_name[name] for key, (name, _, _) in CASES.items()}


def summarise(rounds):
    rows = []
    for key, (name, _, _) in CASES.items():
        hs = statistics.median(r["huashi"][key] for r in rounds)
        peers = {v: statistics.median(r["torch"][key][v] for r in rounds) for v in VARIANTS}
        ratio = hs / min(peers.values())
        rows.append({"case": name, "huashi_ms": hs, **{f"torch {v}_ms": ms for v, ms in peers.items()},
                     "huashi_over_fastest_peer": ratio, "target": TARGET, "met": ratio <= TARGET})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(ap)
    ap.add_argument("--runs", type=int, default=5, help="timed meta-iterations per case")
    ap.add_argument("--warmup", type=int, default=1, help="untimed PyTorch meta-iterations first")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--seed", type=int, default=0, help="seed of PyTorch's data and weights")
    ap.add_argument("--quick", action="store_true",
                    help="2 runs after 1 warm-up: checks that the script works")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args()
    runs, warmup = (2, 1) if args.quick else (args.runs, args.warmup)
    torch.set_num_threads(args.threads)
    rounds = []
    for _ in range(max(args.rounds, 1)):
        hs = huashi_round(args.huashi, runs)
        peers = {key: {v: torch_case(key, v, runs, warmup, args.seed) for v in VARIANTS}
                 for key in CASES}
        rounds.append({"huashi": hs, "torch": peers})
    rows = summarise(rounds)
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "rounds": len(rounds), "runs": runs}
    if args.json:
        print(json.dumps({**meta, "rows": rows}, indent=1))
    else:
        print_table(rows, f"torch {meta['torch']}, {meta['threads']} threads, median of "
                    f"{runs} meta-iterations, {len(rounds)} round(s)", [f"torch {v}" for v in VARIANTS])


if __name__ == "__main__":
    main()
