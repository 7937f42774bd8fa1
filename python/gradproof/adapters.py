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
reg a numpy scalar of the dtype; they are fresh copies, so fn may modify them. The entries with
options (cross_entropy_ex, fused_linear_cross_entropy) also come in bf16 and f16: fn then gets float32 arrays holding the format's values exactly, and its results are rounded to
the format once, to nearest. Raising NotImplementedError for an option skips that case.
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
    "cross_entropy_ex": (("logits", "labels", "dloss", "options"), ("loss", "dlogits")),
    "fused_linear_cross_entropy": (("hidden", "weight", "bias", "labels", "dloss", "options"),
                                   ("loss", "dhidden", "dweight", "dbias")),
}
ENTRIES = tuple(SIGNATURES)
PRECISIONS = {"f64": ("f64",), "f32": ("f32",), "both": ("f64", "f32"), "bf16": ("bf16",), "f16": ("f16",)}
# The storage formats each entry exists in (plugin.h): the half formats only with options.
_FORMATS = {e: ("f64", "f32") for e in SIGNATURES}
_FORMATS["cross_entropy_ex"] = ("f64", "f32", "bf16", "f16")
_FORMATS["fused_linear_cross_entropy"] = ("f64", "f32", "bf16", "f16")
# The numpy dtype fn's results are converted to. Half results stay float64 here: the protocol
# rounds them to the format once (converting to float32 first would round twice).
_DTYPES = {"f64": np.float64, "f32": np.float32, "bf16": np.float64, "f16": np.float64}


def check_precision(entry, precision):
    """Raise ValueError unless every format `precision` names exists for the entry."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    missing = [p for p in PRECISIONS[precision] if p not in _FORMATS.get(entry, ())]
    if missing:
        raise ValueError(f"{entry} has no {'/'.join(missing)} form (it exists in {', '.join(_FORMATS[entry])})")


def gradproof_precision(precision):
    """gradproof check's --precision for a Python precision (None: both). gradproof runs the bf16
    and f16 forms with its f32 properties."""
    return None if precision == "both" else ("f32" if precision in ("bf16", "f16") else precision)


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


def _losses(value, dtype, count):
    """A loss for reduction none has one value per row; a scalar reduction's may be a scalar."""
    if count == 1:
        return _loss(value, "loss", dtype)
    return _array(value, "loss", dtype, (count,))


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
    elif entry == "cross_entropy_ex":
        def call(logits, labels, dloss, options):
            loss, dlogits = _results(fn(logits, labels, dloss, options), entry)
            return _losses(loss, dtype, dloss.size), _array(dlogits, "dlogits", dtype, logits.shape)
    elif entry == "fused_linear_cross_entropy":
        def call(hidden, weight, bias, labels, dloss, options):
            loss, dh, dw, db = _results(fn(hidden, weight, bias, labels, dloss, options), entry)
            return (_losses(loss, dtype, dloss.size), _array(dh, "dhidden", dtype, hidden.shape),
                    _array(dw, "dweight", dtype, weight.shape),
                    None if bias is None else _array(db, "dbias", dtype, bias.shape))
    else:  # softmax_backward, log_softmax_backward
        def call(forward, upstream):
            (out,) = _results(fn(forward, upstream), entry)
            return _array(out, "dlogits", dtype, forward.shape)
    call.__name__ = f"{entry}_adapter"
    call.__doc__ = f"{describe(entry)} with results checked and converted to {np.dtype(dtype).name}"
    return call


def entry_points(fn, entry, precision="f64"):
    """The dict serve() takes: {"softmax_loss_f64": adapter, ...} for precision "f64", "f32",
    "both" (f64 and f32), or "bf16"/"f16" for the entries with options."""
    check_signature(fn, entry)
    check_precision(entry, precision)
    return {f"{entry}_{p}": _adapter(fn, entry, _DTYPES[p]) for p in PRECISIONS[precision]}
