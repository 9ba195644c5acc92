#!/usr/bin/env python3
"""Issue 32's language-model task (docs/experiments.md, "A character-level language model").

  scripts/char-lm-experiment.py [LAMINA] [--threads 2] [--epochs 3]   (run from the repository, as root
                                                                        if Debian's `fortunes` is missing)

Writes runs/fortunes.txt, the text of every fortune file of Debian's `fortunes` package in name
order (installed with apt-get when missing), trains models/char-transformer.yaml and
models/char-lstm.yaml on it, and prints a Markdown table of bits per byte on the held-out text
(the file's last 10%, as the `text` source's test_fraction takes it) next to two baselines
counted on the training text: a unigram and a bigram model of bytes, each with add-one
smoothing over the 256 byte values. A model's bits are its test loss (nats per position) / ln 2.
Then samples 300 bytes from each trained run with `lamina generate`.
"""
import argparse
import json
import math
import os
import pathlib
import re
import subprocess

ap = argparse.ArgumentParser()
ap.add_argument("lamina", nargs="?", default="build/bin/lamina")
ap.add_argument("--threads", default="2")
ap.add_argument("--epochs", default="3")
args = ap.parse_args()

FORTUNES = pathlib.Path("/usr/share/games/fortunes")
if not FORTUNES.is_dir():
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "fortunes"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
files = sorted(p for p in FORTUNES.iterdir() if p.is_file() and not p.is_symlink() and p.suffix != ".dat")
text = b"".join(p.read_bytes() for p in files)
pathlib.Path("runs").mkdir(exist_ok=True)
pathlib.Path("runs/fortunes.txt").write_bytes(text)
cut = len(text) - int(len(text) * 0.1)  # the text source's test_fraction 0.1: the last 10% of the tokens
train, test = text[:cut], text[cut:]
print(f"runs/fortunes.txt: {len(text):,} bytes from {len(files)} files; training {len(train):,}, test {len(test):,}")

# Baselines from the training text's counts, add-one smoothing over the 256 byte values.
uni = [1] * 256
for b in train:
    uni[b] += 1
total = sum(uni)
unigram_bits = -sum(math.log2(uni[b] / total) for b in test[1:]) / (len(test) - 1)
pairs = [[1] * 256 for _ in range(256)]
for a, b in zip(train, train[1:]):
    pairs[a][b] += 1
rows = [sum(r) for r in pairs]
bigram_bits = -sum(math.log2(pairs[a][b] / rows[a]) for a, b in zip(test, test[1:])) / (len(test) - 1)

results = [("unigram (add-one)", 256, unigram_bits, None), ("bigram (add-one)", 256 * 256, bigram_bits, None)]
for model in ("char-transformer", "char-lstm"):
    out = pathlib.Path("runs") / model
    subprocess.run(["rm", "-rf", str(out)], check=True)
    printed = subprocess.run([args.lamina, "train", f"models/{model}.yaml", "--threads", args.threads, "--no-progress",
                              "--epochs", args.epochs, "--out", str(out)], check=True, capture_output=True,
                             text=True).stdout
    print(printed, end="", flush=True)
    metrics = json.loads((out / "metrics.json").read_text())
    info = json.loads((out / "run.json").read_text())
    losses = [e["test"]["loss"] / math.log(2) for e in metrics["epochs"]]
    params = int(re.search(r"\(([0-9]+) parameters\)", printed).group(1))
    results.append((model, params, losses[-1], (losses, sum(info["train_seconds_per_epoch"]))))

print("\n| model | parameters | test bits per byte | per epoch | training seconds |\n|---|---|---|---|---|")
for name, params, bits, extra in results:
    per_epoch = " / ".join(f"{b:.3f}" for b in extra[0]) if extra else ""
    seconds = f"{extra[1]:.0f}" if extra else ""
    print(f"| {name} | {params:,} | {bits:.3f} | {per_epoch} | {seconds} |")
for model in ("char-transformer", "char-lstm"):
    sample = subprocess.run([args.lamina, "generate", f"runs/{model}", "--prompt", "The ", "--tokens", "300",
                             "--temperature", "0.8", "--seed", "1"], capture_output=True, text=True, check=True,
                            errors="replace")
    print(f"\n{model}, `lamina generate runs/{model} --prompt 'The ' --tokens 300 --temperature 0.8 --seed 1`:\n")
    print("```\n" + sample.stdout.rstrip() + "\n```")
