"""Naming a function so that another Python process can import it, and importing it there.

gradproof runs the implementation in a child process (`python3 -m gradproof serve TARGET`), so
the function must be reachable by name from a fresh interpreter. TARGET is either
`path/to/file.py:function` (the file is imported as a module, with its folder first on sys.path,
as when it is run as a script) or `package.module:function` (imported normally; its import root
must be on the child's sys.path, which gradproof.check arranges through PYTHONPATH).

Lambdas, closures (functions defined inside another function) and functions typed at an
interactive prompt have no such name: spec_of() raises TypeError for them. Wrap them in a
module-level function instead.
"""
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """What the child needs: the TARGET text and the folders to put on its PYTHONPATH."""

    spec: str
    path_entries: tuple = field(default=())


def _resolve(obj, qualname):
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _import_root(module):
    """The sys.path folder a dotted module was imported from: its file minus the dotted path."""
    path = os.path.abspath(module.__file__)
    depth = module.__name__.count(".") + 1
    if os.path.basename(path) == "__init__.py":
        depth += 1
    for _ in range(depth):
        path = os.path.dirname(path)
    return path


def spec_of(fn):
    """The Target for a module-level function (or a static attribute path such as Class.method)."""
    qualname = getattr(fn, "__qualname__", None)
    module_name = getattr(fn, "__module__", None)
    if not callable(fn) or qualname is None or module_name is None:
        raise TypeError(f"gradproof needs a module-level function, got {fn!r}")
    if "<lambda>" in qualname or "<locals>" in qualname:
        kind = "a lambda" if "<lambda>" in qualname else "a closure (defined inside another function)"
        raise TypeError(
            f"{qualname} is {kind}: gradproof runs the function in a separate Python process, which "
            "imports it by module and name; define it at module level (def ... in a .py file)")
    module = sys.modules.get(module_name)
    try:
        found = _resolve(module, qualname) if module is not None else None
    except AttributeError:
        found = None
    if found is not fn and getattr(found, "__wrapped__", None) is not fn:
        raise TypeError(f"{module_name}.{qualname} does not name {fn!r}: gradproof imports the function "
                        "by module and name in a separate process, so it must be reachable that way")
    file = getattr(module, "__file__", None)
    if "." in module_name and file:
        return Target(f"{module_name}:{qualname}", (_import_root(module),))
    if not file:
        raise TypeError(f"{qualname} is defined in {module_name}, which has no file (an interactive session?): "
                        "gradproof runs it in a separate process, which imports it from a .py file")
    return Target(f"{os.path.abspath(file)}:{qualname}")


def _load_file(path):
    """Import a .py file the way running it as a script would see its neighbours (its folder
    first on sys.path), under its own stem as module name so that `if __name__ == "__main__"`
    blocks do not run."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load(spec):
    """The callable a TARGET text names: `file.py:function` or `module:function`."""
    where, sep, qualname = spec.rpartition(":")
    if not sep or not where or not qualname:
        raise ValueError(f"{spec!r}: expected path/to/file.py:function or module:function")
    if where.endswith(".py") or os.sep in where:
        module = _load_file(where)
    else:
        module = importlib.import_module(where)
    try:
        return _resolve(module, qualname)
    except AttributeError:
        raise AttributeError(f"{where} has no attribute {qualname!r}") from None
