"""gradproof from Python: check numpy softmax / cross-entropy code with gradproof's catalog.

    import gradproof
    gradproof.check(softmax_loss_vectorized, entry="softmax_loss")   # in a pytest test

runs the C++ `gradproof check` on the function (in a child Python, over the subprocess protocol)
and raises AssertionError with each finding, its minimal counterexample and a reproduce command.
`python3 -m gradproof check file.py:function --entry softmax_loss` does the same from a shell,
and `gradproof.serve({...})` is the protocol server for hand-written adapters.
"""
from .adapters import ENTRIES, entry_points
from .binary import BinaryNotFound, find_binary
from .protocol import BadAnswer, Rejected, serve
from .results import CheckResult, Finding
from .runner import GradproofError, check

__all__ = ["check", "CheckResult", "Finding", "GradproofError", "serve", "Rejected", "BadAnswer", "entry_points",
           "ENTRIES", "find_binary", "BinaryNotFound"]
