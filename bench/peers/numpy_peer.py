"""gradproof bench peer: times the seed's numpy softmax_loss_vectorized (examples/python/seed_numpy.py)
inside Python, so interpreter start-up and imports are excluded. Run with Debian's /usr/bin/python3
(python3-numpy). Prints one JSON object on stdout:
  {"peer": "numpy", "version": …, "results": [{"n", "d", "c", "dtype", "median_seconds", "repetitions"}]}
Usage: numpy_peer.py --shapes 8x16x4,500x3073x10 --repetitions 5 [--dtypes f64,f32] [--threads T]
Data as gradproof bench generates it: X ~ N(0, 1), W ~ 1e-2·N(0, 1), uniform labels (not the same
numbers; timing does not depend on them). numpy's BLAS threads follow OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS, which gradproof bench sets to its own thread count before starting this script."""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python"))
from seed_numpy import softmax_loss_vectorized  # noqa: E402


def parse_shapes(text):
    return [tuple(int(v) for v in s.split("x")) for s in text.split(",") if s]


def time_call(fn, repetitions):
    start = time.perf_counter()
    fn()  # warm-up (allocations, BLAS thread start-up)
    first = time.perf_counter() - start
    if first > 2.0:  # a slow shape: the warm-up run is the one sample
        return first, 1
    inner = max(1, int(0.002 / max(first, 1e-9)))  # ≥ 2 ms per sample for tiny shapes
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples), repetitions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", required=True)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--dtypes", default="f64,f32")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(42)
    results = []
    for n, d, c in parse_shapes(a.shapes):
        for dt in a.dtypes.split(","):
            t = np.float64 if dt == "f64" else np.float32
            X = rng.standard_normal((n, d)).astype(t)
            W = (1e-2 * rng.standard_normal((d, c))).astype(t)
            y = rng.integers(0, c, n).astype(np.int32)
            reg = t(1e-3)
            med, reps = time_call(lambda: softmax_loss_vectorized(W, X, y, reg), a.repetitions)
            results.append({"n": n, "d": d, "c": c, "dtype": dt, "median_seconds": med, "repetitions": reps})
    print(json.dumps({"peer": "numpy", "version": np.__version__, "threads": a.threads, "results": results}))


if __name__ == "__main__":
    main()
