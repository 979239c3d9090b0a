"""Handwritten digits with an MLP: a complete classification run with the fieldgrad.nn trainer.

Run: ``python examples/nn_digits_mlp.py`` (``--epochs 5`` for a shorter run). Needs
scikit-learn for its bundled data set (``pip install fieldgrad[examples]``).

Recipe: scikit-learn's 1797 digit images (8x8 pixels, 10 classes), an 80/20 train/test split
with seed 0, pixels standardised with the training set's statistics, an MLP 64-128-128-10 with
ReLU, cross-entropy, Adam with learning rate 1e-3, batches of 64, 20 epochs. It reaches a test
accuracy of at least 97%.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import fieldgrad as fg
from fieldgrad import nn


def load_data(test_fraction: float = 0.2, seed: int = 0) -> tuple:
    """``((x_train, y_train), (x_test, y_test))``: float32 pixels (N, 64) standardised with the
    training statistics, int32 labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.data.astype(np.float32)
    y = digits.target.astype(np.int32)
    (x_train, y_train), (x_test, y_test) = nn.train_test_split((x, y), test_fraction, seed=seed)
    x_train, mean, std = nn.standardize(x_train)
    x_test, _, _ = nn.standardize(x_test, mean, std)
    return (x_train, y_train), (x_test, y_test)


def build_model(key, hidden: int = 128) -> nn.MLP:
    """The MLP 64-hidden-hidden-10 with ReLU."""
    return nn.MLP([64, hidden, hidden, 10], activation="relu", key=key)


def loss_fn(model, x, y):
    """Mean cross-entropy of the logits ``model(x)`` against the labels ``y``."""
    return nn.losses.cross_entropy(model(x), y)


def main(
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 1e-3,
    hidden: int = 128,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train and evaluate; returns the metrics.

    Returns:
        ``{"test_accuracy", "test_loss", "train_loss_first", "train_loss_last", "epochs",
        "seconds", "parameters"}``.
    """
    (x_train, y_train), test = load_data(seed=seed)
    model = build_model(fg.random.key(seed), hidden)
    trainer = nn.Trainer(
        model,
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
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    metrics = main(args.epochs, args.batch_size, args.lr, seed=args.seed)
    for name, value in metrics.items():
        print(f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}")
