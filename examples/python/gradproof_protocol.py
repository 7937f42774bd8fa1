"""Compatibility shim: the protocol server now lives in the `gradproof` Python package
(python/gradproof/protocol.py, installed to lib/python3/dist-packages). Scripts that say
`from gradproof_protocol import serve, Rejected` keep working, with or without the package
installed: when it is not importable, the copy in this source tree (../../python) is used.
"""
import os
import sys

try:
    from gradproof import protocol as _protocol
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "python"))
    from gradproof import protocol as _protocol

serve = _protocol.serve
Rejected = _protocol.Rejected
BadAnswer = _protocol.BadAnswer

__all__ = ["serve", "Rejected", "BadAnswer"]
