"""Cross-entropy with PyTorch's options (and Liger-Kernel's z-loss and soft-capping) in numpy,
written to the semantics include/gradproof/plugin.h states, so that gradproof can check it:

    python3 -m gradproof check examples/python/cross_entropy_options.py:cross_entropy --entry cross_entropy_ex
    python3 -m gradproof check examples/python/cross_entropy_options.py:fused_linear_cross_entropy \\
        --entry fused_linear_cross_entropy --precision bf16

Both functions take the arrays gradproof sends (float64 for f64; float32 for f32, bf16 and f16,
holding the format's values exactly) and compute in float64, so the result is accurate in every
format; gradproof.adapters rounds it to the requested one. Inputs outside the contract raise
ValueError, which declines them.
"""
import numpy as np


def _validated(logits, labels, options):
    n, c = logits.shape
    if n == 0 or c == 0:
        raise ValueError("empty batch or no classes")
    if np.isnan(logits).any() or np.isposinf(logits).any():
        raise ValueError("NaN or +inf logit")
    if not np.isfinite(logits.max(axis=1)).all():
        raise ValueError("a row without a finite logit")
    if options["soft_targets"] is None:
        ignored = labels == options["ignore_index"] if options["ignore_index"] is not None else np.zeros(n, bool)
        if ((labels[~ignored] < 0) | (labels[~ignored] >= c)).any():
            raise ValueError("label outside [0, C)")
    elif options["ignore_index"] is not None:
        raise ValueError("ignore_index with soft targets")
    else:
        ignored = np.zeros(n, bool)
    return ignored


def cross_entropy(logits, labels, dloss, options):
    """(loss, dlogits) of cross-entropy with every option of gradproof's cross_entropy_ex."""
    x = np.asarray(logits, dtype=np.float64)
    ignored = _validated(x, labels, options)
    n, c = x.shape
    eps = options["label_smoothing"]
    s = options["lse_square_scale"]
    cap = options["softcap"]
    w = np.ones(c) if options["class_weights"] is None else np.asarray(options["class_weights"], np.float64)
    z = cap * np.tanh(x / cap) if cap > 0 else x
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    total = e.sum(axis=1, keepdims=True)
    p = e / total
    lse = (m + np.log(total))[:, 0]
    nll = np.log(total) - (z - m)  # lse_i − z_ic, accurate where z_ic is near the row maximum

    if options["soft_targets"] is None:
        kept = ~ignored
        rows = np.flatnonzero(kept)
        y = labels[rows]
        q = np.zeros((n, c))
        q[rows, y] = 1.0 - eps
        q[rows] += eps / c
        weight_sum = w[y].sum()  # W of the weighted mean
    else:
        kept = np.ones(n, bool)
        q = (1.0 - eps) * np.asarray(options["soft_targets"], np.float64) + eps / c
        weight_sum = float(n)
    wq = w * q  # per class: w_c · q'_ic (0 on ignored rows)
    ce = np.where(wq != 0, wq * nll, 0.0).sum(axis=1)  # a masked (−inf) class with q' = 0 adds 0, not 0·inf
    zl = np.where(kept, s * lse * lse, 0.0)
    count = int(kept.sum())

    reduction = options["reduction"]
    upstream = np.asarray(dloss, np.float64).reshape(-1)
    if reduction == "none":
        loss = ce + zl
        g_ce = g_zl = upstream
    elif reduction == "sum":
        loss = np.array([ce.sum() + zl.sum()])
        g_ce = g_zl = np.full(n, upstream[0])
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            loss = np.array([ce.sum() / weight_sum + zl.sum() / count])  # 0/0 = NaN when every row is ignored
        g_ce = np.full(n, upstream[0] / weight_sum if weight_sum > 0 else 0.0)
        g_zl = np.full(n, upstream[0] / count if count > 0 else 0.0)
    g_ce = np.where(kept, g_ce, 0.0)
    g_zl = np.where(kept, g_zl, 0.0)
    # ∂ce_i/∂z_ic = (Σ_k w_k q'_ik)·p_ic − w_c q'_ic;  ∂zl_i/∂z_ic = 2·s·lse_i·p_ic
    dz = g_ce[:, None] * (wq.sum(axis=1, keepdims=True) * p - wq) + (g_zl * 2.0 * s * lse)[:, None] * p
    if cap > 0:
        t = np.tanh(x / cap)
        dz = dz * (1.0 - t * t)
    return loss, dz


def fused_linear_cross_entropy(hidden, weight, bias, labels, dloss, options):
    """(loss, dhidden, dweight, dbias): cross-entropy of hidden·weightᵀ + bias, weight v×d."""
    if options["soft_targets"] is not None:
        raise ValueError("the fused loss takes hard labels only")
    h = np.asarray(hidden, np.float64)
    wt = np.asarray(weight, np.float64)
    logits = h @ wt.T
    if bias is not None:
        logits += np.asarray(bias, np.float64)
    loss, dz = cross_entropy(logits, labels, dloss, options)
    return loss, dz @ wt, dz.T @ h, (dz.sum(axis=0) if bias is not None else None)
