"""gradproof.check on cross-entropy with options, and on the fused linear loss, from plain numpy
functions: the correct ones of examples/python/cross_entropy_options.py pass in every format they
exist in, and a reintroduction of PyTorch issue 73205 (label smoothing's uniform term summed over
ignored samples) is a `wrong` finding. As in test_gradproof_check.py, the runs use a few
properties (about 5 s each); the whole catalog on these functions runs in the C++ suite's
protocol tests and by hand (README, From Python).
"""
import os
import sys

import numpy as np
import pytest

import gradproof

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
sys.path.insert(0, os.path.join(REPO, "examples", "python"))
from cross_entropy_options import cross_entropy, fused_linear_cross_entropy  # noqa: E402

PROPERTIES = [
    "cross_entropy_with_options_matches_the_reference",
    "an_ignored_sample_changes_nothing_else_and_gets_a_zero_gradient",
    "label_smoothing_is_the_convex_combination_of_hard_and_uniform_cross_entropy",
]


def cross_entropy_smoothing_counts_ignored_rows(logits, labels, dloss, options):
    """PyTorch issue 73205: the smoothing term ε/C·Σ_c(lse − z_c) also summed over ignored rows."""
    loss, dlogits = cross_entropy(logits, labels, dloss, options)
    if options["ignore_index"] is None or options["soft_targets"] is not None or options["reduction"] == "none":
        return loss, dlogits
    x = np.asarray(logits, np.float64)
    ignored = labels == options["ignore_index"]
    m = x.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    extra = options["label_smoothing"] / x.shape[1] * (lse - x)[ignored].sum()
    if options["reduction"] == "mean":
        extra /= max(1, int((~ignored).sum()))
    return loss + extra, dlogits


@pytest.mark.parametrize("precision", ["f64", "f32", "bf16", "f16"])
def test_a_correct_numpy_cross_entropy_with_options_passes(binary, precision):
    # The half formats have one property of their own (..._matches_the_reference_in_bf16/_f16).
    properties = PROPERTIES if precision in ("f64", "f32") else None
    result = gradproof.check(cross_entropy, "cross_entropy_ex", precision, domain="ordinary", properties=properties)
    assert result.passed and result.findings == []
    assert "correct at ordinary inputs" in result.headlines["cross_entropy"], result.headlines


@pytest.mark.parametrize("precision", ["f64", "bf16", "f16"])
def test_a_correct_numpy_fused_linear_cross_entropy_passes(binary, precision):
    result = gradproof.check(fused_linear_cross_entropy, "fused_linear_cross_entropy", precision, domain="ordinary")
    assert result.passed and result.findings == []
    assert "correct at ordinary inputs" in result.headlines["fused_linear_cross_entropy"], result.headlines


def test_smoothing_over_ignored_rows_is_a_wrong_finding(binary):
    with pytest.raises(AssertionError) as failure:
        gradproof.check(cross_entropy_smoothing_counts_ignored_rows, "cross_entropy_ex", "f64", domain="ordinary",
                        properties=PROPERTIES)
    text = str(failure.value)
    assert "finding #1: wrong" in text, text
    assert "an_ignored_sample_changes_nothing_else_and_gets_a_zero_gradient" in text, text
    assert "reproduce: " in text, text


def test_a_format_the_entry_does_not_have_is_refused_before_running():
    with pytest.raises(ValueError, match="no bf16 form"):
        gradproof.check(lambda logits, labels: (0.0, logits), "cross_entropy", "bf16")
