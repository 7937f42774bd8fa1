"""Serve softmax implementations to `gradproof check --exec` over the subprocess protocol.

Protocol (version 1): every message is one JSON header line followed by exactly header["bytes"]
bytes of raw little-endian payload. Requests carry "op", "dtype" ("f64"/"f32"), "n", "c" (and
"d" for softmax_loss); the payload holds the input arrays in order (labels as int32, reg as one
value). Answer {"status": "ok"} with the outputs, {"status": "rejected", "message": ...} to
decline an input, or {"status": "error", "message": ...}. The first request is "hello", answered
with the list of entry points served, e.g. ["softmax_f64", "softmax_f32"].

Usage:
    from gradproof_protocol import serve, Rejected
    serve({"softmax_f64": lambda logits: my_softmax(logits)}, name="mine")
Entry-point signatures (numpy arrays of the request's dtype, shaped n×c, d×c, n×d):
    softmax(logits) -> probs; log_softmax(logits) -> out
    softmax_backward(probs, dprobs) -> dlogits; log_softmax_backward(logprobs, dlogprobs) -> dlogits
    cross_entropy(logits, labels) -> (loss, dlogits); softmax_loss(W, X, y, reg) -> (loss, dW)
"""
import json
import sys

import numpy as np


class Rejected(Exception):
    """Raise from an entry point to decline an input (the C ABI's non-zero return)."""


_DTYPES = {"f64": np.dtype("<f8"), "f32": np.dtype("<f4")}
_LABEL = np.dtype("<i4")


def _read_exact(stream, count):
    data = stream.read(count)
    if data is None or len(data) != count:
        raise EOFError("truncated payload")
    return data


def _take(payload, offset, dtype, count):
    size = dtype.itemsize * count
    if offset + size > len(payload):
        raise ValueError("payload too short")
    return np.frombuffer(payload, dtype=dtype, count=count, offset=offset).copy(), offset + size


def _answer(out, header, payload=b""):
    header = dict(header)
    header["bytes"] = len(payload)
    out.write(json.dumps(header).encode() + b"\n")
    out.write(payload)
    out.flush()


def _call(entry, fn, header, payload):
    op = header["op"]
    dt = _DTYPES[header["dtype"]]
    n, c = int(header["n"]), int(header["c"])
    if n < 0 or c < 0:
        raise Rejected("negative size")
    off = 0
    if op in ("softmax", "log_softmax"):
        z, off = _take(payload, off, dt, n * c)
        outs = [np.asarray(fn(z.reshape(n, c)), dtype=dt)]
        shapes = [(n, c)]
    elif op in ("softmax_backward", "log_softmax_backward"):
        a, off = _take(payload, off, dt, n * c)
        g, off = _take(payload, off, dt, n * c)
        outs = [np.asarray(fn(a.reshape(n, c), g.reshape(n, c)), dtype=dt)]
        shapes = [(n, c)]
    elif op == "cross_entropy":
        z, off = _take(payload, off, dt, n * c)
        y, off = _take(payload, off, _LABEL, n)
        loss, dz = fn(z.reshape(n, c), y)
        outs = [np.asarray([loss], dtype=dt), np.asarray(dz, dtype=dt)]
        shapes = [(1,), (n, c)]
    elif op == "softmax_loss":
        d = int(header["d"])
        W, off = _take(payload, off, dt, d * c)
        X, off = _take(payload, off, dt, n * d)
        y, off = _take(payload, off, _LABEL, n)
        reg, off = _take(payload, off, dt, 1)
        loss, dW = fn(W.reshape(d, c), X.reshape(n, d), y, reg[0])
        outs = [np.asarray([loss], dtype=dt), np.asarray(dW, dtype=dt)]
        shapes = [(1,), (d, c)]
    else:
        return {"status": "error", "message": "unknown op " + op}, b""
    for o, s in zip(outs, shapes):
        if o.size != int(np.prod(s)):
            return {"status": "error", "message": f"{entry} returned {o.shape}, expected {s}"}, b""
    return {"status": "ok"}, b"".join(np.ascontiguousarray(o).astype(dt, copy=False).tobytes() for o in outs)


def serve(entry_points, name=None):
    """Answer requests on stdin/stdout until end of input."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    # Anything the implementation prints must not corrupt the protocol stream.
    sys.stdout = sys.stderr
    while True:
        line = inp.readline()
        if not line:
            return
        try:
            header = json.loads(line)
            payload = _read_exact(inp, int(header.get("bytes", 0)))
        except (ValueError, EOFError) as e:
            _answer(out, {"status": "error", "message": str(e)})
            return
        if header.get("op") == "hello":
            reply = {"status": "ok", "protocol": 1, "entry_points": sorted(entry_points)}
            if name:
                reply["name"] = name
            _answer(out, reply)
            continue
        entry = f'{header.get("op")}_{header.get("dtype")}'
        fn = entry_points.get(entry)
        if fn is None:
            _answer(out, {"status": "error", "message": "not served: " + entry})
            continue
        try:
            with np.errstate(all="ignore"):
                reply, data = _call(entry, fn, header, payload)
        except Rejected as e:
            reply, data = {"status": "rejected", "message": str(e)}, b""
        except Exception as e:  # an implementation's exception is a rejection of that input
            reply, data = {"status": "rejected", "message": f"{type(e).__name__}: {e}"}, b""
        _answer(out, reply, data)
