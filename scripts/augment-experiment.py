#!/usr/bin/env python3
"""Issue 31's experiment (docs/experiments.md, "Augmentation against L2 and dropout").

  scripts/augment-experiment.py [LAMINA] [--threads 2] [--cnn-epochs 10] [--only mlp|cnn]

Trains five variants of two settings and prints a Markdown table of each one's final train and
test accuracy, their gap, the best test accuracy of any epoch and the seconds of the run:

  * the seed's overfitting setting: models/overfit.yaml (300 training images, six hidden layers
    of 100 ReLU, SGD 0.01, 200 epochs);
  * the CNN of models/cnn.yaml on all 60,000 training images.

Variants: none (the CNN without its dropout layer), L2, dropout, augmentation (random_crop with
padding 2 and hflip) and augmentation + dropout. Train accuracy is measured on the unaugmented
training set after each epoch (train.train_metrics: eval, the default), so the gap compares
like with like. Runs land in runs/augment/; `lamina plot` draws each setting's test accuracy
into docs/img/augment-mlp.png and docs/img/augment-cnn.png.
"""
import argparse
import copy
import json
import os
import shutil
import subprocess
import yaml

ap = argparse.ArgumentParser()
ap.add_argument("lamina", nargs="?", default="build/bin/lamina")
ap.add_argument("--threads", default="2")
ap.add_argument("--cnn-epochs", type=int, default=10)
ap.add_argument("--only", choices=["mlp", "cnn"])
args = ap.parse_args()

AUGMENT = [{"type": "random_crop", "padding": 2}, {"type": "hflip"}]


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def with_dropout(model, ratio):
    """A dropout layer after each hidden ReLU."""
    m = copy.deepcopy(model)
    layers = []
    for layer in m["layers"]:
        layers.append(layer)
        if layer.get("type") == "relu":
            layers.append({"type": "dropout", "ratio": ratio})
    m["layers"] = layers
    return m


def without_dropout(model):
    m = copy.deepcopy(model)
    m["layers"] = [layer for layer in m["layers"] if layer.get("type") != "dropout"]
    return m


def variants(setting):
    if setting == "mlp":
        base = load("models/overfit.yaml")
        plain, dropped, lam = base, with_dropout(base, 0.15), 0.1
    else:
        cnn = load("models/cnn.yaml")
        cnn["train"]["epochs"] = args.cnn_epochs
        plain, dropped, lam = without_dropout(cnn), cnn, 5e-4
    out = []
    for name, model in [("none", plain), (f"L2 (lambda {lam:g})", plain), ("dropout", dropped),
                        ("augmentation (crop 2 + flip)", plain), ("augmentation + dropout", dropped)]:
        m = copy.deepcopy(model)
        m["name"] = f"{setting}-" + name.split(" ")[0].lower().replace("(", "")
        if name.startswith("L2"):
            m["regularizer"] = {"type": "l2", "lambda": lam}
        if name.startswith("augmentation"):
            m["data"]["augment"] = AUGMENT
            if "+" in name:
                m["name"] += "-dropout"
        out.append((name, m))
    return out


def train(model, out):
    os.makedirs("runs/augment", exist_ok=True)
    path = out + ".yaml"
    with open(path, "w") as f:
        json.dump(model, f)  # JSON is YAML
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([args.lamina, "train", path, "--out", out, "--no-progress", "--threads", args.threads],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "metrics.json")) as f:
        epochs = json.load(f)["epochs"]
    with open(os.path.join(out, "run.json")) as f:
        seconds = json.load(f)["seconds_total"]
    last = epochs[-1]
    return (last["train"]["accuracy"], last["test"]["accuracy"], max(e["test"]["accuracy"] for e in epochs),
            seconds)


for setting in ["mlp", "cnn"]:
    if args.only and setting != args.only:
        continue
    title = ("models/overfit.yaml: 300 training images, 200 epochs" if setting == "mlp" else
             f"models/cnn.yaml: 60,000 training images, {args.cnn_epochs} epochs")
    print(f"\n{title}\n")
    print("| variant | train acc | test acc | gap | best test acc | seconds |")
    print("|---|---|---|---|---|---|")
    runs = []
    for name, model in variants(setting):
        out = f"runs/augment/{model['name']}"
        tr, te, best, sec = train(model, out)
        runs.append(out)
        print(f"| {name} | {tr:.4f} | {te:.4f} | {tr - te:.4f} | {best:.4f} | {sec:.0f} |", flush=True)
    subprocess.run([args.lamina, "plot", *runs, "--out", f"docs/img/augment-{setting}.png", "--title",
                    f"{title}: none, L2, dropout, augmentation, both"], check=True)
