"""The textbook CS231n softmax classifier loss (assignment 1, softmax.py), as students write it:
plain numpy, no gradproof import. Check it without adapter code:

    python3 -m gradproof check examples/python/cs231n_softmax.py:softmax_loss_vectorized --entry softmax_loss

Both functions shift the scores by the row maximum and are right at ordinary inputs; gradproof
reports extreme-input findings (−log of a probability that underflows when the label's score is
≈ 717 below the row maximum; ½·reg·ΣW² overflowing from |W| ≈ 1.34e154) and contract findings
(a negative label is accepted through numpy's negative indexing; an empty batch divides by N = 0).
"""
import numpy as np


def softmax_loss_naive(W, X, y, reg):
    """Softmax loss with explicit loops. W: D×C weights, X: N×D data, y: N labels, reg: L2 strength.
    Returns (loss, dW)."""
    loss = 0.0
    dW = np.zeros_like(W)
    num_train = X.shape[0]
    num_classes = W.shape[1]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)
        p = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(p[y[i]])
        for j in range(num_classes):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
    loss /= num_train
    dW /= num_train
    loss += 0.5 * reg * np.sum(W * W)
    dW += reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    """Softmax loss without loops; same inputs and outputs as softmax_loss_naive."""
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    p = np.exp(scores)
    p /= np.sum(p, axis=1, keepdims=True)
    loss = np.sum(-np.log(p[np.arange(num_train), y])) / num_train
    loss += 0.5 * reg * np.sum(W * W)
    dscores = p
    dscores[np.arange(num_train), y] -= 1
    dW = X.T.dot(dscores) / num_train + reg * W
    return loss, dW
