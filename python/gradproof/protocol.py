"""The server side of `gradproof check --exec`: answer gradproof's requests with numpy code.

Moved here from examples/python/gradproof_protocol.py (which now re-exports it) so that Python
users import it from an installed package instead of copying a file.

Protocol (version 1): every message is one JSON header line followed by exactly header["bytes"]
bytes of raw little-endian payload. Requests carry "op", "dtype" ("f64"/"f32", and "bf16"/"f16"
for cross_entropy_ex and fused_linear_cross_entropy), "n", "c" (and "d" for softmax_loss; "d", "v"
instead of "c" for fused_linear_cross_entropy); the payload holds the input arrays in order
(labels as int32, reg as one value, bf16/f16 as uint16 bit patterns). Answer {"status": "ok"} with
the outputs, {"status": "rejected", "message": ...} to decline an input, {"status":
"unsupported", ...} for an option the implementation does not implement, or {"status": "error",
"message": ...}. The first request is "hello", answered with the list of entry points served,
e.g. ["softmax_f64", "softmax_f32"]. The README's section on the protocol lists every op.

Usage:
    from gradproof import serve, Rejected
    serve({"softmax_f64": lambda logits: my_softmax(logits)}, name="mine")
(gradproof.adapters builds such a dict from one plain function; `python3 -m gradproof serve`
serves a function of a file or module without any code.)
Entry-point signatures (numpy arrays of the request's dtype, shaped n×c, d×c, n×d):
    softmax(logits) -> probs; log_softmax(logits) -> out
    softmax_backward(probs, dprobs) -> dlogits; log_softmax_backward(logprobs, dlogprobs) -> dlogits
    cross_entropy(logits, labels) -> (loss, dlogits); softmax_loss(W, X, y, reg) -> (loss, dW)
    cross_entropy_ex(logits, labels, dloss, options) -> (loss, dlogits)
    fused_linear_cross_entropy(hidden, weight, bias, labels, dloss, options)
        -> (loss, dhidden, dweight, dbias)    (hidden n×d, weight v×d, bias v or None, dbias None then)
options is a dict: "reduction" ("none"/"mean"/"sum"), "ignore_index" (int or None),
"label_smoothing", "lse_square_scale", "softcap" (floats), "class_weights" (c values or None),
"soft_targets" (n×c or None; labels is None then). dloss and loss hold n values for reduction
"none", else 1 (a scalar loss is fine). Entry points "cross_entropy_ex_bf16", "_f16",
"fused_linear_cross_entropy_bf16" and "_f16" get float32 arrays holding the format's values exactly; their
outputs are rounded to the format here, to nearest (ties to even). Raise NotImplementedError for
an option the implementation does not implement: the case is skipped.

Any other exception of an entry point declines that input (a rejection, as the C ABI's non-zero
return), except BadAnswer, which says the answer itself is malformed (an adapter's complaint
about what the function returned) and is reported to gradproof as an error.
"""
import json
import sys

import numpy as np


class Rejected(Exception):
    """Raise from an entry point to decline an input (the C ABI's non-zero return)."""


class BadAnswer(Exception):
    """Raise from an entry point when the implementation's result cannot be an answer (wrong
    arity, shape or type): answered as an error, so gradproof reports a broken implementation
    rather than counting a declined input."""


_DTYPES = {"f64": np.dtype("<f8"), "f32": np.dtype("<f4")}
_LABEL = np.dtype("<i4")
_HALF = np.dtype("<u2")
_WITH_OPTIONS = ("cross_entropy_ex", "fused_linear_cross_entropy")


def _widen(bits, fmt):
    """bf16/f16 bit patterns -> float32 (exact)."""
    if fmt == "f16":
        return bits.view("<f2").astype(np.float32)
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _narrow(x, fmt):
    """Values -> bf16/f16 bit patterns, rounded once to nearest, ties to even."""
    x = np.asarray(x)
    if fmt == "f16":
        return x.astype("<f2").view(_HALF)  # numpy rounds float64 and float32 to half correctly
    if x.dtype != np.float32:
        # float64 -> float32 rounded to odd, then to nearest-even bf16: one correct rounding
        # (float32 keeps more than 8 + 2 bits).
        x = x.astype(np.float64)
        t = x.astype(np.float32)
        inexact = (t.astype(np.float64) != x) & ~np.isnan(x)
        toward_zero = inexact & (np.abs(t.astype(np.float64)) > np.abs(x))
        t[toward_zero] = np.nextafter(t[toward_zero], np.float32(0))
        tb = t.view(np.uint32)
        tb[inexact] |= np.uint32(1)
        x = t
    b = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    out = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(x)
    out[nan] = ((b[nan] >> 16) | 0x40).astype(np.uint16)  # stays a quiet NaN
    return out


def _option_number(v):
    # JSON has no non-finite numbers: they travel as "nan", "inf", "-inf".
    return float(v) if v is not None else 0.0


class _Unsupported(Exception):
    pass


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


def _call_with_options(entry, fn, header, payload):
    """cross_entropy_ex and fused_linear_cross_entropy: options from the header, arrays in the
    payload in the README's order."""
    op, dtype = header["op"], header["dtype"]
    half = dtype in ("bf16", "f16")
    wire = _HALF if half else _DTYPES[dtype]
    fused = op == "fused_linear_cross_entropy"
    n = int(header["n"])
    c = int(header["v" if fused else "c"])
    d = int(header["d"]) if fused else 0
    if n < 0 or c < 0 or d < 0:
        raise Rejected("negative size")
    reduction = header.get("reduction", "mean")
    if reduction not in ("none", "mean", "sum"):
        return {"status": "error", "message": "unknown reduction " + str(reduction)}, b""
    has_weights = bool(header.get("has_class_weights", False))
    soft = bool(header.get("has_soft_targets", False))
    has_bias = bool(header.get("has_bias", False))
    loss_count = n if reduction == "none" else 1
    off = 0

    def take(count, shape):
        nonlocal off
        a, off = _take(payload, off, wire, count)
        return (_widen(a, dtype) if half else a).reshape(shape)

    if fused:
        hidden = take(n * d, (n, d))
        weight = take(c * d, (c, d))
        bias = take(c, (c,)) if has_bias else None
    else:
        logits = take(n * c, (n, c))
    labels = None
    if not soft:
        labels, off = _take(payload, off, _LABEL, n)
    options = {
        "reduction": reduction,
        "ignore_index": int(header["ignore_index"]) if "ignore_index" in header else None,
        "label_smoothing": _option_number(header.get("label_smoothing")),
        "lse_square_scale": _option_number(header.get("lse_square_scale")),
        "softcap": _option_number(header.get("softcap")),
        "class_weights": take(c, (c,)) if has_weights else None,
        "soft_targets": take(n * c, (n, c)) if soft else None,
    }
    dloss = take(loss_count, (loss_count,))
    if off != len(payload):
        return {"status": "error", "message": "payload longer than the header describes"}, b""
    try:
        if fused:
            loss, dh, dw, db = fn(hidden, weight, bias, labels, dloss, options)
            outs = [loss, dh, dw] + ([db] if has_bias else [])
            shapes = [(loss_count,), (n, d), (c, d)] + ([(c,)] if has_bias else [])
        else:
            loss, dz = fn(logits, labels, dloss, options)
            outs, shapes = [loss, dz], [(loss_count,), (n, c)]
    except NotImplementedError as e:
        raise _Unsupported(str(e) or "not implemented") from e
    data = []
    for o, s in zip(outs, shapes):
        o = np.asarray(o).reshape(-1)
        if o.size != int(np.prod(s)):
            return {"status": "error", "message": f"{entry} returned {o.size} values, expected shape {s}"}, b""
        data.append(_narrow(o, dtype) if half else o.astype(wire))
    return {"status": "ok"}, b"".join(np.ascontiguousarray(a).tobytes() for a in data)


def _call(entry, fn, header, payload):
    op = header["op"]
    if op in _WITH_OPTIONS:
        return _call_with_options(entry, fn, header, payload)
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
        except _Unsupported as e:  # NotImplementedError: an option it does not implement
            reply, data = {"status": "unsupported", "message": str(e)}, b""
        except BadAnswer as e:
            reply, data = {"status": "error", "message": str(e)}, b""
        except Exception as e:  # an implementation's exception is a rejection of that input
            reply, data = {"status": "rejected", "message": f"{type(e).__name__}: {e}"}, b""
        _answer(out, reply, data)
