"""Finding the `gradproof` executable that runs the checks.

The Python package is a front door: the properties, references and tolerances live in the C++
binary. Three places are tried, in order:
1. the GRADPROOF_BINARY environment variable (a build tree, CI, tests); when it is set it must
   name an executable, since silently using another gradproof would test with another version;
2. `<prefix>/bin/gradproof` for the prefix this package is installed under
   (`cmake --install` puts both below one prefix: <prefix>/lib/python3/dist-packages/gradproof and
   <prefix>/bin/gradproof);
3. `gradproof` on PATH.
"""
import os
import shutil

ENV = "GRADPROOF_BINARY"


class BinaryNotFound(FileNotFoundError):
    """No gradproof executable: the message names every place that was tried."""


def _install_prefix(package_dir):
    """<prefix> when package_dir is <prefix>/lib*/python3*/{dist,site}-packages/gradproof."""
    parts = os.path.abspath(package_dir).split(os.sep)
    if (len(parts) >= 5 and parts[-2] in ("dist-packages", "site-packages") and parts[-3].startswith("python")
            and parts[-4].startswith("lib")):
        return os.sep.join(parts[:-4]) or os.sep
    return None


def _executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_binary():
    """The absolute path of the gradproof executable, or BinaryNotFound."""
    configured = os.environ.get(ENV)
    if configured:
        if _executable(configured):
            return os.path.abspath(configured)
        raise BinaryNotFound(f"{ENV}={configured} is not an executable file (unset it to search "
                             "next to this package and on PATH)")
    prefix = _install_prefix(os.path.dirname(os.path.abspath(__file__)))
    beside = os.path.join(prefix, "bin", "gradproof") if prefix else None
    if beside and _executable(beside):
        return beside
    on_path = shutil.which("gradproof")
    if on_path:
        return os.path.abspath(on_path)
    where = (f"{beside} (next to this package's install prefix)" if beside
             else f"no <prefix>/bin/gradproof (this package, at {os.path.dirname(os.path.abspath(__file__))}, "
                  "is not installed below a prefix)")
    raise BinaryNotFound(
        "gradproof executable not found: tried the GRADPROOF_BINARY environment variable (unset), "
        f"{where}, and PATH. Build gradproof (cmake --build) and set GRADPROOF_BINARY=/path/to/gradproof, "
        "or install it (cmake --install build/release --prefix /usr/local).")
