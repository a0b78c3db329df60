"""Writes the benchmark datasets as raw little-endian float32 files.

Usage: make_datasets.py OUT_DIR [--train N] [--test N] [--seed S]

For each of `classification` (sklearn make_classification) and `regression`
(sklearn make_regression + a non-linear term) it writes
  <name>.train.x.f32, <name>.train.y.f32, <name>.test.x.f32, <name>.test.y.f32
and <name>.json with the shapes. 20 features; a few cells set to NaN so that
missing-value handling is exercised.
"""
import argparse
import json
import os

import numpy as np
from sklearn.datasets import make_classification, make_regression


def write(out, name, x_train, y_train, x_test, y_test):
    for part, arr in (("train.x", x_train), ("train.y", y_train), ("test.x", x_test), ("test.y", y_test)):
        np.ascontiguousarray(arr, dtype="<f4").tofile(os.path.join(out, f"{name}.{part}.f32"))
    meta = {"features": x_train.shape[1], "train": x_train.shape[0], "test": x_test.shape[0]}
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(meta, f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--train", type=int, default=200_000)
    p.add_argument("--test", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    n = a.train + a.test
    rng = np.random.default_rng(a.seed)

    x, y = make_classification(
        n_samples=n, n_features=20, n_informative=10, n_redundant=4, n_clusters_per_class=3,
        flip_y=0.03, class_sep=0.8, random_state=a.seed,
    )
    x[rng.random(x.shape) < 0.01] = np.nan
    write(a.out, "classification", x[: a.train], y[: a.train], x[a.train :], y[a.train :])

    x, y = make_regression(n_samples=n, n_features=20, n_informative=12, noise=10.0, random_state=a.seed)
    y = y + 30 * np.sin(x[:, 0] * 2) + 20 * (x[:, 1] > 0.5) * x[:, 2]
    x[rng.random(x.shape) < 0.01] = np.nan
    write(a.out, "regression", x[: a.train], y[: a.train], x[a.train :], y[a.train :])


if __name__ == "__main__":
    main()
