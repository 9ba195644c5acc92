#!/usr/bin/env python3
"""Writes the data of the regression and multi-label experiments (docs/experiments.md).

  scripts/task-data.py diabetes OUT_DIR   scikit-learn's diabetes set (Debian's python3-sklearn)
      -> OUT_DIR/train.csv, test.csv: 10 features then the target, a header row; 353 / 89
         rows; test_x.csv the test features alone (for `lamina predict`)
         (train_test_split, random_state 0). Features and target are standardized with the
         training rows' mean and deviation, so that one learning rate fits; R^2 does not change
         under that scaling. OUT_DIR/target.json keeps the target's mean and deviation.
  scripts/task-data.py fashion-multilabel OUT_DIR [DATA_DIR]
      -> OUT_DIR/{train,test}_{x,y}.npy: Fashion-MNIST images (uint8, N x 28 x 28) and four
         labels per image derived from its class (float32 N x 4 of 0 and 1):
         footwear (sandal, sneaker, ankle boot), upper body (t-shirt, pullover, coat, shirt),
         long sleeves (pullover, coat, shirt), worn (every class but bag).
"""
import gzip
import json
import os
import sys

import numpy as np

LABELS = ["footwear", "upper_body", "long_sleeves", "worn"]
MEMBERS = [{5, 7, 9}, {0, 2, 4, 6}, {2, 4, 6}, set(range(10)) - {8}]


def diabetes(out):
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    x, y = load_diabetes(return_X_y=True, scaled=False)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=0)
    mx, sx = xtr.mean(0), xtr.std(0)
    my, sy = ytr.mean(), ytr.std()
    os.makedirs(out, exist_ok=True)
    header = ",".join([f"x{i}" for i in range(x.shape[1])] + ["target"])
    for name, a, b in (("train", xtr, ytr), ("test", xte, yte)):
        rows = np.column_stack([(a - mx) / sx, (b - my) / sy])
        np.savetxt(os.path.join(out, f"{name}.csv"), rows, delimiter=",", header=header, comments="", fmt="%.9g")
    # The test features alone, as `lamina predict --input` reads them.
    np.savetxt(os.path.join(out, "test_x.csv"), (xte - mx) / sx, delimiter=",", fmt="%.9g")
    with open(os.path.join(out, "target.json"), "w") as f:
        json.dump({"mean": my, "std": sy}, f)
    print(f"wrote {out}/train.csv ({len(ytr)} rows) and test.csv ({len(yte)} rows)")


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_multilabel(out, data_dir):
    os.makedirs(out, exist_ok=True)
    for split, stem in (("train", "train"), ("test", "t10k")):
        x = idx(os.path.join(data_dir, f"{stem}-images-idx3-ubyte.gz"))
        c = idx(os.path.join(data_dir, f"{stem}-labels-idx1-ubyte.gz"))
        y = np.stack([np.isin(c, list(m)) for m in MEMBERS], axis=1).astype(np.float32)
        np.save(os.path.join(out, f"{split}_x.npy"), x)
        np.save(os.path.join(out, f"{split}_y.npy"), y)
    print(f"wrote {out}/{{train,test}}_{{x,y}}.npy: labels {', '.join(LABELS)}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "diabetes":
        diabetes(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "fashion-multilabel":
        fashion_multilabel(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "/usr/share/datasets/fashion-mnist")
    else:
        sys.exit(__doc__)
