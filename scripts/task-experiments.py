#!/usr/bin/env python3
"""The regression and multi-label experiments of docs/experiments.md, side by side.

  scripts/task-experiments.py [LAMINA]    (default: build/bin/lamina; run from the repository)

Writes the data (scripts/task-data.py) into data/, trains models/diabetes-mlp.yaml and
models/fashion-multilabel.yaml, predicts their test sets with `lamina predict`, and scores the
predictions here: R^2 on diabetes against scikit-learn's Ridge and MLPRegressor fitted on the
same rows; macro F1 (threshold 0.5) on the four Fashion-MNIST labels against a per-label
logistic regression on the same pixels. Needs python3-sklearn.
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import f1_score, r2_score
from sklearn.neural_network import MLPRegressor

LAMINA = sys.argv[1] if len(sys.argv) > 1 else "build/bin/lamina"


def run(*args):
    subprocess.run(list(args), check=True, stdout=subprocess.DEVNULL)


def lamina_predictions(model, inputs, out):
    start = time.time()
    run(LAMINA, "train", model, "--out", os.path.join(out, "run"), "--no-progress")
    seconds = time.time() - start
    run(LAMINA, "predict", os.path.join(out, "run"), "--input", inputs, "--out", os.path.join(out, "p.csv"))
    with open(os.path.join(out, "p.csv")) as f:
        header = f.readline().strip().split(",")
    table = np.genfromtxt(os.path.join(out, "p.csv"), delimiter=",", skip_header=1, dtype=str)
    return header, table, seconds


def diabetes(tmp):
    run(sys.executable, "scripts/task-data.py", "diabetes", "data/diabetes")
    train = np.loadtxt("data/diabetes/train.csv", delimiter=",", skiprows=1)
    test = np.loadtxt("data/diabetes/test.csv", delimiter=",", skiprows=1)
    header, table, seconds = lamina_predictions("models/diabetes-mlp.yaml", "data/diabetes/test_x.csv", tmp)
    predicted = table[:, header.index("y0")].astype(float)
    rows = [("lamina (models/diabetes-mlp.yaml)", r2_score(test[:, -1], predicted), seconds)]
    for name, est in (("scikit-learn Ridge(alpha=1)", Ridge(alpha=1.0)),
                      ("scikit-learn MLPRegressor(32, adam, early_stopping)",
                       MLPRegressor(hidden_layer_sizes=(32,), alpha=1e-3, learning_rate_init=3e-3, max_iter=2000,
                                    early_stopping=True, random_state=1))):
        start = time.time()
        est.fit(train[:, :-1], train[:, -1])
        rows.append((name, r2_score(test[:, -1], est.predict(test[:, :-1])), time.time() - start))
    print("diabetes (353 train / 89 test rows): test R^2")
    for name, r2, s in rows:
        print(f"  {name:55s} R^2 {r2:.4f}   {s:.1f} s")


def fashion_multilabel(tmp):
    run(sys.executable, "scripts/task-data.py", "fashion-multilabel", "data/fashion-multilabel")
    y = np.load("data/fashion-multilabel/test_y.npy")
    header, table, seconds = lamina_predictions("models/fashion-multilabel.yaml", "data/fashion-multilabel/test_x.npy",
                                                tmp)
    probs = table[:, [header.index(f"p{j}") for j in range(y.shape[1])]].astype(float)
    lamina_f1 = f1_score(y, probs >= 0.5, average="macro")
    per_label = f1_score(y, probs >= 0.5, average=None)
    x = np.load("data/fashion-multilabel/train_x.npy").reshape(60000, -1)[:10000] / 255.0
    yt = np.load("data/fashion-multilabel/train_y.npy")[:10000]
    xt = np.load("data/fashion-multilabel/test_x.npy").reshape(10000, -1) / 255.0
    start = time.time()
    base = np.stack([LogisticRegression(max_iter=200).fit(x, yt[:, j]).predict(xt) for j in range(y.shape[1])], 1)
    base_s = time.time() - start
    print("Fashion-MNIST, four labels (footwear, upper body, long sleeves, worn): test macro F1")
    print(f"  {'lamina (models/fashion-multilabel.yaml)':55s} F1 {lamina_f1:.4f}   {seconds:.1f} s   "
          f"per label {', '.join(f'{v:.3f}' for v in per_label)}")
    print(f"  {'scikit-learn LogisticRegression per label (10k rows)':55s} F1 "
          f"{f1_score(y, base, average='macro'):.4f}   {base_s:.1f} s")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "d"))
        os.makedirs(os.path.join(tmp, "f"))
        diabetes(os.path.join(tmp, "d"))
        fashion_multilabel(os.path.join(tmp, "f"))
