"""Trains XGBoost `hist` on a dataset written by make_datasets.py and prints one JSON line.

Usage: xgb_train.py DATA_DIR NAME --rounds R --depth D --eta E --threads T [--max-bin B]
Reports wall time of training only, peak RSS of the process, and test AUC (binary)
or RMSE (regression).
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import mean_squared_error, roc_auc_score


def load(d, name, part, cols=None):
    arr = np.fromfile(os.path.join(d, f"{name}.{part}.f32"), dtype="<f4")
    return arr.reshape(-1, cols) if cols else arr


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("name")
    p.add_argument("--rounds", type=int, default=100)
    p.add_argument("--depth", type=int, default=6)
    p.add_argument("--eta", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-bin", type=int, default=256)
    a = p.parse_args()
    with open(os.path.join(a.dir, f"{a.name}.json")) as f:
        meta = json.load(f)
    cols = meta["features"]
    x, y = load(a.dir, a.name, "train.x", cols), load(a.dir, a.name, "train.y")
    tx, ty = load(a.dir, a.name, "test.x", cols), load(a.dir, a.name, "test.y")
    binary = a.name == "classification"
    params = {
        "tree_method": "hist",
        "max_depth": a.depth,
        "eta": a.eta,
        "nthread": a.threads,
        "max_bin": a.max_bin,
        "objective": "binary:logistic" if binary else "reg:squarederror",
        "verbosity": 0,
    }
    start = time.perf_counter()
    dtrain = xgb.DMatrix(x, label=y, nthread=a.threads)
    booster = xgb.train(params, dtrain, num_boost_round=a.rounds)
    seconds = time.perf_counter() - start
    pred = booster.predict(xgb.DMatrix(tx, nthread=a.threads))
    quality = roc_auc_score(ty, pred) if binary else float(np.sqrt(mean_squared_error(ty, pred)))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "seconds": seconds, "peakMB": peak_mb, "metric": "auc" if binary else "rmse", "value": quality,
        "xgboost": xgb.__version__,
    }))


if __name__ == "__main__":
    main()
