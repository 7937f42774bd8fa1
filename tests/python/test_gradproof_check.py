"""The Python front door: gradproof.check and `python3 -m gradproof check` on numpy code.

These run the real gradproof binary (GRADPROOF_BINARY, set by ctest to the one just built; the
tests that need it skip when none is found). The implementations under test are defined at
module level here, because gradproof serves them from a separate Python process that imports
this file by path.

To keep the suite short, the check runs use a handful of properties and the ordinary domain
(finite inputs, logits within ±30): that is where a wrong formula shows, and the expensive parts
of the catalog (hazard searches with bisection, 256-bit finite differences over many cases) are
covered by the C++ tests of the same protocol (tests/plugin/test_exec_adapters.cpp).
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import gradproof
import gradproof.binary

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
CS231N = os.path.join(REPO, "examples", "python", "cs231n_softmax.py")

# Accuracy against the references, self-consistency (its own finite differences), the
# regularisation identity and the two input contracts: about 4 s per run.
PROPERTIES = [
    "loss_and_gradient_match_the_reference",
    "gradient_matches_finite_differences_of_its_own_loss",
    "regularization_adds_reg_times_w_to_the_gradient",
    "labels_outside_the_class_range_are_rejected",
    "an_empty_batch_is_handled_per_contract",
]


def _validated(W, X, y, reg):
    if X.shape[0] == 0 or W.shape[1] == 0:
        raise ValueError("empty batch or no classes")
    if np.any(y < 0) or np.any(y >= W.shape[1]):
        raise ValueError("label outside [0, C)")
    return X.dot(W)


def softmax_loss_correct(W, X, y, reg):
    """Max-shifted, −log p_y as lse − z_y; rejects what the contract says it must."""
    n = X.shape[0]
    z = _validated(W, X, y, reg)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - z[np.arange(n), y]) + 0.5 * reg * np.sum(W * W)
    dS = e / s
    dS[np.arange(n), y] -= 1
    return loss, X.T.dot(dS) / n + reg * W


def softmax_loss_double_reg_gradient(W, X, y, reg):
    """A classic slip: the loss has ½·reg·‖W‖², the gradient 2·reg·W instead of reg·W."""
    loss, dW = softmax_loss_correct(W, X, y, reg)
    return loss, dW + reg * W


def softmax_loss_wrong_shape(W, X, y, reg):
    """Returns dW transposed: the adapter must say so rather than gradproof seeing garbage."""
    loss, dW = softmax_loss_correct(W, X, y, reg)
    return loss, dW.T


def test_a_correct_implementation_passes(binary):
    result = gradproof.check(softmax_loss_correct, "softmax_loss", "f64", domain="ordinary",
                             properties=PROPERTIES)
    assert result.passed and result.returncode == 0
    assert result.findings == []
    assert "correct at ordinary inputs" in result.headlines["softmax_loss_correct"]


def test_a_wrong_regularisation_gradient_raises_with_the_finding_and_a_reproduce_command(binary):
    with pytest.raises(AssertionError) as failure:
        gradproof.check(softmax_loss_double_reg_gradient, "softmax_loss", "f64", domain="ordinary",
                        properties=PROPERTIES)
    text = str(failure.value)
    assert "finding #1: wrong" in text, text
    assert "regularization_adds_reg_times_w_to_the_gradient" in text, text
    assert "minimal counterexample:" in text and "W (" in text, text
    assert "reproduce: " in text and "gradproof check --exec" in text, text
    assert "softmax_loss_double_reg_gradient" in text, text


def test_a_result_of_the_wrong_shape_is_reported_not_silently_accepted(binary):
    with pytest.raises(AssertionError) as failure:
        gradproof.check(softmax_loss_wrong_shape, "softmax_loss", "f64", domain="ordinary",
                        properties=PROPERTIES[:1])
    assert "dW has shape" in str(failure.value), str(failure.value)


def test_the_command_line_reports_the_textbook_cs231n_findings(binary):
    # The command as given, whole catalog (about 10 s): the textbook loss is right at
    # ordinary inputs; −log p_y underflows far from the row max (extreme_inputs) and it accepts a
    # negative label and an empty batch (contract).
    proc = subprocess.run(
        [sys.executable, "-m", "gradproof", "check", f"{CS231N}:softmax_loss_vectorized", "--entry", "softmax_loss",
         "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=240)
    assert proc.returncode == 1, proc.stdout
    assert "=== finding #1: extreme_inputs — softmax_loss_vectorized f64" in proc.stdout, proc.stdout
    assert "hazard: label's logit" in proc.stdout, proc.stdout
    assert "contract — softmax_loss_vectorized f64" in proc.stdout, proc.stdout
    assert ": wrong —" not in proc.stdout, proc.stdout
    assert "correct at ordinary inputs" in proc.stdout, proc.stdout


def test_a_lambda_is_refused_with_a_type_error():
    with pytest.raises(TypeError, match="lambda"):
        gradproof.check(lambda W, X, y, reg: (0.0, W), "softmax_loss")


def test_a_closure_is_refused_with_a_type_error():
    def inner(W, X, y, reg):
        return 0.0, W

    with pytest.raises(TypeError, match="closure"):
        gradproof.check(inner, "softmax_loss")


def test_a_function_with_the_wrong_signature_is_refused_before_running():
    with pytest.raises(TypeError, match=r"cannot be called as cross_entropy\(logits, labels\)"):
        gradproof.check(softmax_loss_correct, "cross_entropy")


def test_a_missing_binary_names_every_place_tried(monkeypatch, tmp_path):
    monkeypatch.delenv("GRADPROOF_BINARY", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    # As if installed below tmp_path, which has no bin/gradproof.
    fake = tmp_path / "lib" / "python3" / "dist-packages" / "gradproof" / "binary.py"
    monkeypatch.setattr(gradproof.binary, "__file__", str(fake))
    with pytest.raises(gradproof.BinaryNotFound) as missing:
        gradproof.check(softmax_loss_correct, "softmax_loss")
    text = str(missing.value)
    assert "GRADPROOF_BINARY" in text and str(tmp_path / "bin" / "gradproof") in text and "PATH" in text, text


def test_an_installed_copy_finds_the_binary_below_its_prefix(tmp_path):
    # The layout `cmake --install` makes: <prefix>/lib/python3/dist-packages/gradproof, <prefix>/bin.
    site = tmp_path / "lib" / "python3" / "dist-packages"
    shutil.copytree(os.path.dirname(gradproof.__file__), site / "gradproof",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "bin").mkdir()
    exe = tmp_path / "bin" / "gradproof"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "GRADPROOF_BINARY"}
    env.update(PYTHONPATH=str(site), PATH="/usr/bin:/bin", PYTHONDONTWRITEBYTECODE="1")
    found = subprocess.run([sys.executable, "-c", "import gradproof; print(gradproof.__file__); print(gradproof.find_binary())"],
                           env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True, check=True).stdout.split()
    assert found == [str(site / "gradproof" / "__init__.py"), str(exe)]


def test_a_binary_variable_naming_nothing_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADPROOF_BINARY", str(tmp_path / "nowhere"))
    with pytest.raises(gradproof.BinaryNotFound, match="GRADPROOF_BINARY="):
        gradproof.find_binary()


def test_a_run_gradproof_refuses_raises_gradproof_error_with_its_message(binary):
    with pytest.raises(gradproof.GradproofError, match="no_such_property"):
        gradproof.check(softmax_loss_correct, "softmax_loss", properties=["no_such_property"])
