"""The chapter's three networks and their training recipes, shared by the book and the benchmarks.

Each recipe is plain minibatch SGD at a constant learning rate (the optimizers chapter comes
later), found by a small sweep over batch size and learning rate on three seeds; the book
reports what it reaches. Weights are re-drawn with He's uniform initialisation,
U(-sqrt(6/fan_in), sqrt(6/fan_in)), biases zero: PyTorch's default bound, 1/sqrt(fan_in),
is 2.4 times smaller, and with plain SGD the ReLU networks below then needed about twice the
epochs to reach the same accuracy.
"""
from __future__ import annotations

import numpy as np

from ..backprop import Linear, ReLU, Sequential, Sigmoid
from .layers import Conv2d, ConvTranspose2d, Flatten, MaxPool2d

RECIPES = {
    # digits (1438 training images): all three seeds tried reach 97.2-97.8% by epoch 20.
    "lenet_digits": dict(epochs=20, batch_size=16, lr=0.2),
    # MNIST-1D (4000 training signals), trained with random shifts and stretches (augmentation);
    # the learning rate steps down 5x for the last 10 epochs, which steadied the final accuracy
    # (at a constant 0.05 it swung by 2-4 points from epoch to epoch). Measured: 60 epochs gave
    # 92.9-93.7% on three seeds, 90 epochs 95.0% on the worst of them.
    "cnn1d_mnist1d": dict(epochs=90, batch_size=32, lr=0.05, lr_last_10=0.01, translate=0.1, scale=(0.9, 1.1)),
    # denoising digits: Gaussian noise of this sigma, clipped to [0, 1]
    "denoising_autoencoder": dict(epochs=30, batch_size=32, lr=3.0, sigma=0.4),
}


def step_schedule(recipe: dict):
    """The recipe's learning rate as a function of the epoch, for ``train(lr=...)``: ``lr``,
    then ``lr_last_10`` for the last ten epochs if the recipe has one."""
    last = recipe.get("lr_last_10", recipe["lr"])
    return lambda epoch: recipe["lr"] if epoch <= recipe["epochs"] - 10 else last


def he_uniform(model: Sequential, seed: int = 0) -> Sequential:
    """Re-draw every weight of ``model`` from U(-sqrt(6/fan_in), sqrt(6/fan_in)); zero the biases.

    fan_in is what one output sums over: C_in*kh*kw for a convolution, D_in for a Linear layer,
    and C_in*kh*kw/(sh*sw) for a transposed convolution (each output pixel of a stride-s
    transpose receives about 1/s^2 of the kernel's taps).
    """
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if "w" not in layer.params:
            continue
        w = layer.state_dict()["w"]
        if isinstance(layer, ConvTranspose2d):
            sh, sw = layer.geometry["stride"]
            fan_in = w.shape[0] * w.shape[2] * w.shape[3] / (sh * sw)
        else:
            fan_in = w[0].size
        bound = np.sqrt(6.0 / fan_in)
        state = {"w": rng.uniform(-bound, bound, w.shape).astype(w.dtype)}
        if "b" in layer.params:
            state["b"] = np.zeros(w.shape[0] if not isinstance(layer, ConvTranspose2d) else w.shape[1], w.dtype)
        layer.load_state_dict(state)
    return model


def prepare_digits(x):
    """Digits in [0, 1] -> centred at zero (x - 0.5), which the CNN trains faster on."""
    return x - np.asarray(0.5, dtype=x.dtype)


def lenet_digits(backend=None, seed: int = 0) -> Sequential:
    """A LeNet for 8x8 digits.   x: (N, 1, 8, 8), centred  ->  logits: (N, 10)

    conv 3x3 (16) - ReLU - maxpool 2 -> (16, 4, 4); conv 3x3 (32) - ReLU - maxpool 2 -> (32, 2, 2);
    flatten -> 128 -> Linear -> 10.
    """
    model = Sequential(Conv2d(1, 16, 3, padding=1), ReLU(), MaxPool2d(2),
                       Conv2d(16, 32, 3, padding=1), ReLU(), MaxPool2d(2),
                       Flatten(), Linear(32 * 2 * 2, 10), backend=backend)
    return he_uniform(model, seed)


def cnn1d_mnist1d(backend=None, seed: int = 0, channels: int = 32) -> Sequential:
    """The MNIST-1D paper's CNN shape: three stride-2 convolutions, then a Linear layer.

    x: (N, 1, 1, 40)  ->  (C, 1, 20)  ->  (C, 1, 10)  ->  (C, 1, 5)  ->  logits: (N, 10)
    """
    c = channels
    model = Sequential(Conv2d(1, c, (1, 5), stride=(1, 2), padding=(0, 2)), ReLU(),
                       Conv2d(c, c, (1, 3), stride=(1, 2), padding=(0, 1)), ReLU(),
                       Conv2d(c, c, (1, 3), stride=(1, 2), padding=(0, 1)), ReLU(),
                       Flatten(), Linear(c * 5, 10), backend=backend)
    return he_uniform(model, seed)


def denoising_autoencoder(backend=None, seed: int = 0) -> Sequential:
    """A convolutional autoencoder for 8x8 digits in [0, 1].

    encoder: conv 3x3 stride 2 (16) -> (16, 4, 4); conv 3x3 stride 2 (32) -> (32, 2, 2)
    decoder: transposed conv 2x2 stride 2 (16) -> (16, 4, 4); transposed conv 2x2 stride 2 (1)
    -> (1, 8, 8); sigmoid, so the output is a picture in [0, 1].
    """
    model = Sequential(Conv2d(1, 16, 3, stride=2, padding=1), ReLU(),
                       Conv2d(16, 32, 3, stride=2, padding=1), ReLU(),
                       ConvTranspose2d(32, 16, 2, stride=2), ReLU(),
                       ConvTranspose2d(16, 1, 2, stride=2), Sigmoid(), backend=backend)
    return he_uniform(model, seed)
