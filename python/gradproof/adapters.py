"""Entry points from plain user functions, so that nobody writes protocol adapters by hand.

A user has, say, a CS231n `softmax_loss_vectorized(W, X, y, reg) -> (loss, dW)`. gradproof's
protocol wants entry points named `<op>_<precision>` whose results are numpy arrays of exactly
the request's dtype and shape. `entry_points(fn, "softmax_loss", "both")` builds them: it checks
once that fn can be called with the entry's arguments, and on every call that the result has the
entry's arity and shapes, converting loss scalars, Python floats and arrays of another dtype to the
request's dtype. A result that cannot be converted raises BadAnswer, which gradproof reports as a
broken implementation (not as a declined input). Any exception fn raises itself declines that input,
as the C ABI's non-zero return does (e.g. an IndexError for a label outside [0, C)).

Inputs are numpy arrays of the request's dtype (float64 for f64, float32 for f32), labels int32,
reg a numpy scalar of the dtype; they are fresh copies, so fn may modify them.
"""
import inspect

import numpy as np

from .protocol import BadAnswer

# entry -> (arguments fn receives, what it returns): the signatures users write.
SIGNATURES = {
    "softmax_loss": (("W", "X", "y", "reg"), ("loss", "dW")),
    "cross_entropy": (("logits", "labels"), ("loss", "dlogits")),
    "softmax": (("logits",), ("probs",)),
    "log_softmax": (("logits",), ("log_probs",)),
    "softmax_backward": (("probs", "dprobs"), ("dlogits",)),
    "log_softmax_backward": (("log_probs", "dlog_probs"), ("dlogits",)),
}
ENTRIES = tuple(SIGNATURES)
PRECISIONS = {"f64": ("f64",), "f32": ("f32",), "both": ("f64", "f32")}
_DTYPES = {"f64": np.float64, "f32": np.float32}


def describe(entry):
    """`softmax_loss(W, X, y, reg) -> (loss, dW)`: for error messages and --help."""
    args, results = SIGNATURES[entry]
    out = results[0] if len(results) == 1 else "(" + ", ".join(results) + ")"
    return f"{entry}({', '.join(args)}) -> {out}"


def check_signature(fn, entry):
    """Raise TypeError now, rather than have every call rejected later, when fn cannot take the
    entry's arguments positionally."""
    if entry not in SIGNATURES:
        raise ValueError(f"unknown entry {entry!r}: expected one of {', '.join(ENTRIES)}")
    if not callable(fn):
        raise TypeError(f"{fn!r} is not callable")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # builtins and C functions: nothing to check in advance
    args = SIGNATURES[entry][0]
    try:
        sig.bind(*args)
    except TypeError as e:
        name = getattr(fn, "__qualname__", repr(fn))
        raise TypeError(f"{name}{sig} cannot be called as {describe(entry)}: {e}") from None


def _array(value, what, dtype, shape):
    try:
        a = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise BadAnswer(f"{what} is not numeric ({type(value).__name__}): {e}") from None
    if a.shape != shape:
        raise BadAnswer(f"{what} has shape {a.shape}, expected {shape}")
    return a


def _loss(value, what, dtype):
    """A loss may come back as a Python float, a numpy scalar or a one-element array."""
    try:
        a = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise BadAnswer(f"{what} is not a number ({type(value).__name__}): {e}") from None
    if a.size != 1:
        raise BadAnswer(f"{what} has {a.size} values, expected a scalar")
    return a.reshape(1)


def _results(value, entry):
    """Split fn's result into the entry's outputs, complaining clearly when the arity is wrong."""
    names = SIGNATURES[entry][1]
    if len(names) == 1:
        return (value,)
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        got = f"a {type(value).__name__}" if not isinstance(value, (tuple, list)) else f"{len(value)} values"
        raise BadAnswer(f"{entry} must return ({', '.join(names)}), got {got}")
    return tuple(value)


def _adapter(fn, entry, dtype):
    if entry == "softmax_loss":
        def call(W, X, y, reg):
            loss, dW = _results(fn(W, X, y, reg), entry)
            return _loss(loss, "loss", dtype), _array(dW, "dW", dtype, W.shape)
    elif entry == "cross_entropy":
        def call(logits, labels):
            loss, dlogits = _results(fn(logits, labels), entry)
            return _loss(loss, "loss", dtype), _array(dlogits, "dlogits", dtype, logits.shape)
    elif entry in ("softmax", "log_softmax"):
        def call(logits):
            (out,) = _results(fn(logits), entry)
            return _array(out, entry + " output", dtype, logits.shape)
    else:  # softmax_backward, log_softmax_backward
        def call(forward, upstream):
            (out,) = _results(fn(forward, upstream), entry)
            return _array(out, "dlogits", dtype, forward.shape)
    call.__name__ = f"{entry}_adapter"
    call.__doc__ = f"{describe(entry)} with results checked and converted to {np.dtype(dtype).name}"
    return call


def entry_points(fn, entry, precision="f64"):
    """The dict serve() takes: {"softmax_loss_f64": adapter, ...} for precision "f64", "f32" or
    "both"."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: expected f64, f32 or both")
    check_signature(fn, entry)
    return {f"{entry}_{p}": _adapter(fn, entry, _DTYPES[p]) for p in PRECISIONS[precision]}
