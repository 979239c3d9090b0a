"""Handwritten digits with a small convolutional network, trained with the fieldgrad.nn trainer.

Run: ``python examples/nn_digits_cnn.py`` (``--epochs 3`` for a shorter run). Needs
scikit-learn for its bundled data set (``pip install fieldgrad[examples]``).

Recipe: scikit-learn's 1797 digit images as (N, 1, 8, 8), an 80/20 train/test split with
seed 0, pixels standardised with the training set's mean and spread, then

    Conv2d 1->16 3x3 (padding 1), ReLU, MaxPool2d 2      -> (N, 16, 4, 4)
    Conv2d 16->32 3x3 (padding 1), ReLU, MaxPool2d 2     -> (N, 32, 2, 2)
    Flatten, Linear 128->10

with cross-entropy, Adam (learning rate 3e-3), batches of 64, 15 epochs. It reaches a test
accuracy of at least 97%.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import fieldgrad as fg
from fieldgrad import nn


def load_data(test_fraction: float = 0.2, seed: int = 0) -> tuple:
    """``((x_train, y_train), (x_test, y_test))``: float32 images (N, 1, 8, 8) standardised with
    the training set's overall mean and standard deviation, int32 labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.images.astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int32)
    (x_train, y_train), (x_test, y_test) = nn.train_test_split((x, y), test_fraction, seed=seed)
    axes = (0, 1, 2, 3)  # one mean and spread for all pixels: a convolution shares weights
    x_train, mean, std = nn.standardize(x_train, axis=axes)
    x_test, _, _ = nn.standardize(x_test, mean, std, axis=axes)
    return (x_train, y_train), (x_test, y_test)


def build_model(key, channels: tuple = (16, 32)) -> nn.Sequential:
    """The convolutional network of the recipe."""
    k1, k2, k3 = fg.random.split(key, 3)
    c1, c2 = channels
    return nn.Sequential(
        [
            nn.Conv2d(1, c1, 3, padding=1, key=k1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, key=k2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(c2 * 2 * 2, 10, key=k3),
        ]
    )


def loss_fn(model, x, y):
    """Mean cross-entropy of the logits ``model(x)`` against the labels ``y``."""
    return nn.losses.cross_entropy(model(x), y)


def main(
    epochs: int = 15,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train and evaluate; returns the metrics.

    Returns:
        ``{"test_accuracy", "test_loss", "train_loss_first", "train_loss_last", "epochs",
        "seconds", "parameters"}``.
    """
    (x_train, y_train), test = load_data(seed=seed)
    trainer = nn.Trainer(
        build_model(fg.random.key(seed)),
        nn.optim.adam(lr),
        loss_fn,
        metrics={"accuracy": nn.metrics.accuracy},
        seed=seed,
    )
    t0 = time.perf_counter()
    history = trainer.fit(
        (x_train, y_train), epochs, batch_size=batch_size, validation=test, verbose=verbose
    )
    seconds = time.perf_counter() - t0
    result = trainer.evaluate(test)
    return {
        "test_accuracy": result["accuracy"],
        "test_loss": result["loss"],
        "train_loss_first": history["loss"][0],
        "train_loss_last": history["loss"][-1],
        "epochs": len(history),
        "seconds": seconds,
        "parameters": nn.count_parameters(trainer.model),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    metrics = main(args.epochs, args.batch_size, args.lr, seed=args.seed)
    for name, value in metrics.items():
        print(f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}")
