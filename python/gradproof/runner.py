"""`gradproof.check(fn, ...)`: run the C++ `gradproof check --exec` on a Python function.

The function is served by a child Python (`<this python> -m gradproof serve TARGET --entry E
--precision P`) that gradproof starts, talks to over the subprocess protocol and restarts after a
crash or timeout; the results come back as the JSON file `--json` writes. A run that fails (exit
code 1) raises AssertionError carrying the findings, which is what a pytest test wants; any other
failure to run (usage errors, a function the child cannot import: exit code 2) raises
GradproofError with gradproof's own message.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

from . import adapters
from .binary import find_binary
from .results import failure_message, parse
from .target import spec_of

# Set in the serving child: a served module that calls gradproof.check at import time would
# otherwise start gradproof recursively.
SERVING_ENV = "GRADPROOF_SERVING"
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class GradproofError(RuntimeError):
    """gradproof did not complete a run (exit code 2 or a signal): the message is its stderr."""


def serve_command(target_spec, entry, precision, python=None):
    """The --exec command text: gradproof runs it through /bin/sh, so every word is quoted."""
    words = [python or sys.executable, "-m", "gradproof", "serve", target_spec, "--entry", entry,
             "--precision", precision]
    return " ".join(shlex.quote(w) for w in words)


def child_environment(path_entries=()):
    """(environment, prefix for reproduce lines): PYTHONPATH extended so that the child imports
    this very gradproof package and the target's import root."""
    env = dict(os.environ)
    current = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    added = [p for p in (_PACKAGE_ROOT, *path_entries) if p not in current and p not in added_default()]
    if not added:
        return env, ""
    env["PYTHONPATH"] = os.pathsep.join(added + current)
    return env, f"PYTHONPATH={shlex.quote(env['PYTHONPATH'])} "


def added_default():
    """Folders a fresh `python3 -m` finds on its own (the installed package needs no PYTHONPATH)."""
    return [p for p in sys.path if p and ("dist-packages" in p or "site-packages" in p)]


def _options(domain, fail_on, cases, properties, seed, timeout):
    args = []
    if domain is not None:
        args += ["--domain", domain]
    if fail_on is not None:
        args += ["--fail-on", fail_on if isinstance(fail_on, str) else ",".join(fail_on)]
    if cases is not None:
        args += ["--cases", str(int(cases))]
    for p in [properties] if isinstance(properties, str) else (properties or ()):
        args += ["--property", p]
    if seed is not None:
        args += ["--seed", str(int(seed))]
    if timeout is not None:
        args += ["--timeout", str(timeout)]
    return args


def check(fn, entry="softmax_loss", precision="f64", *, domain=None, fail_on=None, cases=None,
          properties=None, seed=None, timeout=None, extra_args=()):
    """Check fn with gradproof's whole catalog (or `properties`) and return a CheckResult, or
    raise AssertionError listing each finding of a failing class with its minimal counterexample
    and reproduce command.

    fn: a module-level function (lambdas and closures raise TypeError: a separate process imports
        fn by name) with the entry's signature, see gradproof.adapters.SIGNATURES:
        softmax_loss(W, X, y, reg) -> (loss, dW), cross_entropy(logits, labels) -> (loss, dlogits),
        softmax(logits) -> probs, log_softmax(logits) -> log_probs, the two backward entries, and
        with options (dict keys as in gradproof.protocol): cross_entropy_ex(logits, labels, dloss,
        options) -> (loss, dlogits), fused_linear_cross_entropy(hidden, weight, bias, labels,
        dloss, options) -> (loss, dhidden, dweight, dbias).
    precision: "f64", "f32" or "both" (arrays of float64/float32 in; results converted); "bf16" or
        "f16" for the entries with options (float32 arrays holding the format's values; results
        rounded to the format once).
    domain: "ordinary", "extreme" or "full" (gradproof's default); fail_on: classes that fail the
    run, a list or comma-separated text; cases, properties, seed, timeout: as gradproof check's
    --cases, --property, --seed, --timeout; extra_args: further gradproof check options.
    """
    if os.environ.get(SERVING_ENV):
        raise GradproofError("gradproof.check called inside the process serving a function (at import time of "
                             "the served module?): guard the call with if __name__ == '__main__'")
    adapters.entry_points(fn, entry, precision)  # TypeError/ValueError now, not in the child
    target = spec_of(fn)
    binary = find_binary()
    env, reproduce_env = child_environment(target.path_entries)
    exec_command = serve_command(target.spec, entry, precision)
    with tempfile.TemporaryDirectory(prefix="gradproof-") as tmp:
        json_path = os.path.join(tmp, "results.json")
        command = [binary, "check", "-q", "--exec", exec_command, "--json", json_path]
        if adapters.gradproof_precision(precision):
            command += ["--precision", adapters.gradproof_precision(precision)]
        command += _options(domain, fail_on, cases, properties, seed, timeout) + [str(a) for a in extra_args]
        proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode not in (0, 1) or not os.path.exists(json_path):
            raise GradproofError(f"gradproof check exited with {proc.returncode}: "
                                 f"{(proc.stderr or proc.stdout).strip()[-4000:]}\ncommand: {shlex.join(command)}")
        with open(json_path, encoding="utf-8") as f:
            doc = json.load(f)
    result = parse(doc, proc.returncode, command, proc.stdout)
    if not result.passed:
        name = getattr(fn, "__qualname__", repr(fn))
        title = f"gradproof check failed for {name} ({entry}, {precision}):"
        raise AssertionError(failure_message(result, title, reproduce_env))
    return result
