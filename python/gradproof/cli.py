"""`python3 -m gradproof check|serve`: gradproof on a Python function without adapter code.

    python3 -m gradproof check path/to/file.py:function --entry softmax_loss [--precision f64|f32|both|bf16|f16]
                               [any gradproof check option: --domain, --fail-on, --json FILE, ...]
        runs `gradproof check --exec "python3 -m gradproof serve ..."`, prints gradproof's own
        report and exits with its exit code (0 pass, 1 findings of a failing class, 2 usage errors).
    python3 -m gradproof serve path/to/file.py:function --entry softmax_loss [--precision ...]
        the other end: answers gradproof's protocol requests on stdin/stdout.

TARGET is `path/to/file.py:function` or `package.module:function`; precision defaults to f64.
"""
import os
import subprocess
import sys

from . import adapters, target
from .binary import BinaryNotFound, find_binary
from .protocol import serve
from .runner import SERVING_ENV, child_environment, serve_command

USAGE = "usage:\n" + __doc__.split("\n\n", 1)[1].rsplit("\n\nTARGET", 1)[0]


class UsageError(Exception):
    pass


def _take_option(args, name, default, choices):
    """Remove `--name VALUE` / `--name=VALUE` from args (the first occurrence) and return VALUE."""
    for i, a in enumerate(args):
        if a == name:
            if i + 1 >= len(args):
                raise UsageError(f"{name} needs a value")
            value = args[i + 1]
            del args[i:i + 2]
            break
        if a.startswith(name + "="):
            value = a.split("=", 1)[1]
            del args[i]
            break
    else:
        value = default
    if value is None:
        raise UsageError(f"{name} is required ({', '.join(choices)})")
    if value not in choices:
        raise UsageError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value


def _take_target(args):
    """The first word that is not an option and names file.py:function or module:function."""
    for i, a in enumerate(args):
        if not a.startswith("-") and ":" in a:
            return args.pop(i)
    raise UsageError("give the function as path/to/file.py:function or module:function")


def _parse(args):
    args = list(args)
    entry = _take_option(args, "--entry", None, adapters.ENTRIES)
    precision = _take_option(args, "--precision", "f64", tuple(adapters.PRECISIONS))
    return _take_target(args), entry, precision, args


def _load_checked(spec, entry, precision):
    """The function, checked against the entry's signature and formats (errors as UsageError)."""
    try:
        fn = target.load(spec)
        adapters.check_signature(fn, entry)
        adapters.check_precision(entry, precision)
    except (ImportError, OSError, AttributeError, TypeError, ValueError, SyntaxError) as e:
        raise UsageError(f"{spec}: {type(e).__name__}: {e}") from None
    return fn


def run_check(args):
    spec, entry, precision, rest = _parse(args)
    where, _, qualname = spec.rpartition(":")
    if where.endswith(".py") or os.sep in where:
        spec = os.path.abspath(where) + ":" + qualname  # the child may not share our idea of ".."
    _load_checked(spec, entry, precision)
    command = [find_binary(), "check", "--exec", serve_command(spec, entry, precision)]
    if adapters.gradproof_precision(precision):
        command += ["--precision", adapters.gradproof_precision(precision)]
    env, _ = child_environment()
    return subprocess.run(command + rest, env=env).returncode


def run_serve(args):
    spec, entry, precision, rest = _parse(args)
    name = None
    if rest[:1] == ["--name"] and len(rest) == 2:
        name, rest = rest[1], []
    if rest:
        raise UsageError("serve: unexpected " + " ".join(rest))
    os.environ[SERVING_ENV] = "1"
    # Whatever the module prints while it is imported must not reach gradproof's protocol stream.
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        fn = _load_checked(spec, entry, precision)
    finally:
        sys.stdout = real_stdout
    serve(adapters.entry_points(fn, entry, precision), name=name or spec.rpartition(":")[2])
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in ("check", "serve"):
        print(USAGE + "\n\nentries: " + "; ".join(adapters.describe(e) for e in adapters.ENTRIES),
              file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    try:
        return (run_check if argv[0] == "check" else run_serve)(argv[1:])
    except (UsageError, BinaryNotFound) as e:
        print(f"gradproof: {e}", file=sys.stderr)
        return 2
