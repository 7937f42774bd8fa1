"""The seed document's CS231n numpy functions, ported to Python 3 (xrange → range, the
`x.T` typo → X.T) and served to gradproof:  gradproof check --exec "/usr/bin/python3 seed_numpy.py vectorized"
The vectorized one takes −log of the rounded probability and is expected to fail
extreme-logit stability."""
import sys

import numpy as np



def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)
        shift_scores = scores - max(scores)
        loss_i = -shift_scores[y[i]] + np.log(sum(np.exp(shift_scores)))
        loss += loss_i
        for j in range(num_classes):
            softmax_output = np.exp(shift_scores[j]) / sum(np.exp(shift_scores))
            if j == y[i]:
                dW[:, j] += (-1 + softmax_output) * X[i]
            else:
                dW[:, j] += softmax_output * X[i]
    loss /= num_train
    loss += 0.5 * reg * np.sum(W * W)
    dW = dW / num_train + reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_train = X.shape[0]
    scores = X.dot(W)
    shift_scores = scores - np.max(scores, axis=1).reshape(-1, 1)
    softmax_output = np.exp(shift_scores) / np.sum(np.exp(shift_scores), axis=1).reshape(-1, 1)
    loss = -np.sum(np.log(softmax_output[range(num_train), list(y)]))
    loss /= num_train
    loss += 0.5 * reg * np.sum(W * W)
    dS = softmax_output.copy()
    dS[range(num_train), list(y)] += -1
    dW = (X.T).dot(dS)
    dW = dW / num_train + reg * W
    return loss, dW


if __name__ == "__main__":
    # Imported here: `gradproof bench`'s numpy peer imports the functions alone, beside it in
    # share/gradproof/peers, where the protocol module is not.
    from gradproof_protocol import serve

    variant = sys.argv[1] if len(sys.argv) > 1 else "vectorized"
    fn = {"naive": softmax_loss_naive, "vectorized": softmax_loss_vectorized}[variant]
    serve({"softmax_loss_f64": fn, "softmax_loss_f32": fn}, name="seed_numpy_" + variant)
