"""Train a two-layer CNN with NumPy and jitconv.nn's gradients (no autograd).

The network learns a horizontal Sobel edge filter from random 16x16 images:
conv(1->4, 3x3, padding 1) -> ReLU -> conv(4->1, 3x3, padding 1), mean squared
error, plain gradient descent with momentum. Run: ``python examples/train_tiny_cnn.py``.
"""
import numpy as np

from jitconv import nn


def train(steps=300, seed=0, verbose=True):
    rng = np.random.default_rng(seed)
    sobel = np.array([[[[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]]])
    w1 = rng.standard_normal((4, 1, 3, 3)) * 0.3
    b1 = np.zeros(4)
    w2 = rng.standard_normal((1, 4, 3, 3)) * 0.3
    b2 = np.zeros(1)
    params = [w1, b1, w2, b2]
    velocity = [np.zeros_like(p) for p in params]
    losses = []
    for step in range(steps):
        x = rng.standard_normal((16, 1, 16, 16))
        target = nn.conv2d(x, sobel, padding=1)            # what the network must learn
        # forward
        h = nn.conv2d(x, w1, b1, padding=1)
        a = np.maximum(h, 0.0)
        y = nn.conv2d(a, w2, b2, padding=1)
        err = y - target
        losses.append(float(np.mean(err ** 2)))
        # backward: the input gradient is the transposed convolution
        gy = 2.0 * err / err.size
        gw2 = nn.conv2d_weight_grad(a, gy, w2.shape, padding=1)
        gb2 = gy.sum(axis=(0, 2, 3))
        ga = nn.conv2d_input_grad(gy, w2, a.shape, padding=1)
        gh = ga * (h > 0)
        gw1 = nn.conv2d_weight_grad(x, gh, w1.shape, padding=1)
        gb1 = gh.sum(axis=(0, 2, 3))
        for p, v, g in zip(params, velocity, [gw1, gb1, gw2, gb2]):
            v *= 0.9
            v -= 0.05 * g
            p += v
        if verbose and step % 50 == 0:
            print(f"step {step:4d}  loss {losses[-1]:.4f}")
    return losses


if __name__ == "__main__":
    losses = train()
    print(f"loss: {losses[0]:.3f} -> {losses[-1]:.4f}")
