#!/usr/bin/env python3
"""Issue 30's transfer experiment (docs/experiments.md, "Transfer from classes 0-4 to 5-9").

  scripts/transfer-experiment.py [LAMINA] [--seeds 1,2,3] [--threads 2]   (run from the repository)

Trains models/transfer-features.yaml (a CNN on Fashion-MNIST's classes 0-4) into
runs/transfer-features, then models/transfer-head.yaml (classes 5-9, 1,000 and 100 training
images) five ways with --set: from scratch, the whole network fine-tuned, frozen features with
a new head (the file as written), frozen convolutions with the fc layer fine-tuned, and the
features at lr_mult 0.1. Prints a Markdown table of each variant's final test accuracy (mean
and range over the seeds; the test set chooses nothing) and seconds of the whole run, from each
run's metrics.json and run.json.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("lamina", nargs="?", default="build/bin/lamina")
ap.add_argument("--seeds", default="1,2,3")
ap.add_argument("--threads", default="2")
ap.add_argument("--limits", default="1000,100", help="training images of classes 5-9, one table column each")
args = ap.parse_args()

FEATURES = "runs/transfer-features"
VARIANTS = [
    ("from scratch", ["init_from=null", "train.params=[]"]),
    ("fine-tuned whole (new head)", ["train.params=[]"]),
    ("frozen features + new head", []),
    ("frozen convolutions, fc fine-tuned (new head)",
     ["train.params=[{match: 'layers.conv*', trainable: false}, {match: 'layers.bn*', trainable: false}]"]),
    ("features at lr_mult 0.1 (new head)",
     ["train.params=[{match: 'layers.conv*', lr_mult: 0.1}, {match: 'layers.bn*', lr_mult: 0.1},"
      " {match: 'layers.fc.*', lr_mult: 0.1}]"]),
]


def train(model, out, sets, seed=None):
    cmd = [args.lamina, "train", model, "--out", out, "--no-progress", "--threads", args.threads]
    for s in sets:
        cmd += ["--set", s]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "metrics.json")) as f:
        accuracy = json.load(f)["epochs"][-1]["test"]["accuracy"]
    with open(os.path.join(out, "run.json")) as f:
        seconds = json.load(f)["seconds_total"]
    return accuracy, seconds


if not os.path.exists(os.path.join(FEATURES, "model.safetensors")):
    acc, sec = train("models/transfer-features.yaml", FEATURES, [])
    print(f"features: classes 0-4, test accuracy {acc:.4f} in {sec:.0f} s")
seeds = [int(s) for s in args.seeds.split(",")]
limits = [int(n) for n in args.limits.split(",")]
print(f"\n| variant (classes 5-9, 15 epochs; test accuracy: mean of {len(seeds)} seeds, min-max; seconds) | "
      + " | ".join(f"{n:,} training images" for n in limits) + " |\n|---|" + "---|" * len(limits))
with tempfile.TemporaryDirectory() as d:
    for name, sets in VARIANTS:
        cells = []
        for n in limits:
            results = [train("models/transfer-head.yaml", os.path.join(d, f"{len(name)}-{n}-{seed}"),
                             sets + [f"data.train_limit={n}"], seed) for seed in seeds]
            accs = [a for a, _ in results]
            cells.append(f"{statistics.mean(accs):.4f} ({min(accs):.4f}-{max(accs):.4f}), "
                         f"{statistics.mean(s for _, s in results):.1f} s")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
