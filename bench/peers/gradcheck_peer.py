"""gradproof bench peer: the cost of PyTorch's torch.autograd.gradcheck on the softmax loss
L(W) = cross_entropy(X·W, y) + ½·reg·‖W‖² in float64, the function gradproof certifies. Run with
Debian's /usr/bin/python3 (python3-torch). Prints one JSON object on stdout.

Full gradcheck perturbs every input element by ±eps (2·D·C forward evaluations for the numerical
Jacobian of the scalar output) plus one backward for the analytical one, so its time is estimated
from one timed evaluation: 2·D·C·t_forward + t_backward (running it at (500, 3073, 10) would take
tens of minutes). fast_mode=True (one random projection) is timed directly. Its resolution is
its default tolerances atol = 1e-5, rtol = 1e-3 (torch.autograd.gradcheck documentation).
Usage: gradcheck_peer.py --shape 500x3073x10 [--threads T] [--repetitions R]"""
import argparse
import json
import statistics
import time

import torch


def median_time(fn, repetitions):
    fn()  # warm-up
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="500x3073x10")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repetitions", type=int, default=5)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    n, d, c = (int(v) for v in a.shape.split("x"))
    g = torch.Generator().manual_seed(42)
    X = torch.randn(n, d, dtype=torch.float64, generator=g)
    W = (1e-2 * torch.randn(d, c, dtype=torch.float64, generator=g)).requires_grad_(True)
    y = torch.randint(0, c, (n,), generator=g)
    reg = 1e-3

    def loss(w):
        return torch.nn.functional.cross_entropy(X.mm(w), y) + 0.5 * reg * (w * w).sum()

    with torch.no_grad():
        t_forward = median_time(lambda: loss(W), a.repetitions)

    def backward():
        W.grad = None
        loss(W).backward()

    t_backward = median_time(backward, a.repetitions)
    start = time.perf_counter()
    ok_fast = torch.autograd.gradcheck(loss, (W,), fast_mode=True)
    t_fast = time.perf_counter() - start
    print(json.dumps({
        "peer": "gradcheck", "version": torch.__version__, "threads": torch.get_num_threads(),
        "n": n, "d": d, "c": c, "forward_seconds": t_forward, "forward_backward_seconds": t_backward,
        "full_evaluations": 2 * d * c, "full_estimate_seconds": 2 * d * c * t_forward + t_backward,
        "fast_mode_seconds": t_fast, "fast_mode_passed": bool(ok_fast), "atol": 1e-5, "rtol": 1e-3, "eps": 1e-6}))


if __name__ == "__main__":
    main()
