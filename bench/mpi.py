#!/usr/bin/env python3
"""The MPI scaling figures of docs/cluster.md, on this machine (loopback, oversubscribed past
its cores):
  - search: trials per minute of bench/mpi-search.yaml at mpirun -np 1, 2, 3 (one worker per
    rank), and the one-process search with 1 and 2 worker threads for reference;
  - data-parallel training: samples/s of one epoch of Fashion-MNIST (the batches alone, from
    run.json) at -np 1 and 2 with one thread per rank, and the share of each step spent in the
    gradient allreduce.
Runs alternate (every setting once per round, --reps rounds) and medians are reported.
   python3 bench/mpi.py [--reps 3] [--out bench/results/mpi.md]"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAMINA = ROOT / "build" / "bin" / "lamina"
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]
CORES = os.cpu_count()


def run(cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{r.stdout}{r.stderr}")
    return r


def search(ranks, workers):
    with tempfile.TemporaryDirectory() as d:
        cmd = [LAMINA, "search", "bench/mpi-search.yaml", "--no-progress", "--out", f"{d}/s", "--workers", workers]
        start = time.monotonic()
        run([*MPIRUN, "-np", ranks, *cmd] if ranks else cmd)
        seconds = time.monotonic() - start
        trials = len(pathlib.Path(f"{d}/s/journal.jsonl").read_text().splitlines()) - 1
    return trials / seconds * 60


def train(model, ranks):
    with tempfile.TemporaryDirectory() as d:
        cmd = [LAMINA, "train", model, "--threads", "1", "--no-progress", "--out", f"{d}/r", "--epochs", "1"]
        run([*MPIRUN, "-np", ranks, *cmd] if ranks else cmd)
        info = json.loads(pathlib.Path(f"{d}/r/run.json").read_text())
        accuracy = json.loads(pathlib.Path(f"{d}/r/metrics.json").read_text())["epochs"][0]["test"]["accuracy"]
    seconds = info["train_seconds_per_epoch"][0]
    share = info.get("allreduce_seconds_per_epoch", [0.0])[0] / seconds
    return 60000 / seconds, share, accuracy


def fmt_range(values, digits=0):
    return f"{statistics.median(values):,.{digits}f} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "mpi.md"))
    args = ap.parse_args()
    searches = {"1 process, 1 worker": (0, 1), "1 process, 2 workers": (0, 2), "-np 1": (1, 1), "-np 2": (2, 1),
                "-np 3": (3, 1)}
    trainings = {(m, n): [] for m in ("bench/w2.yaml", "bench/w1.yaml") for n in (0, 1, 2)}
    found = {k: [] for k in searches}
    for rep in range(args.reps):
        for name, (ranks, workers) in searches.items():
            found[name].append(search(ranks, workers))
        for (model, ranks), results in trainings.items():
            results.append(train(model, ranks))
        print(f"round {rep + 1}/{args.reps} done", flush=True)

    lines = [f"# MPI scaling on this machine ({CORES} cores, loopback), medians of {args.reps} alternated runs", "",
             "## Search: bench/mpi-search.yaml (40 trials x 50 epochs, one worker per rank)", "",
             "| setting | processes | trials/min (min–max) | per core |", "|---|---|---|---|"]
    for name, (ranks, workers) in searches.items():
        busy = min(max(ranks, 1) * workers, CORES)
        v = found[name]
        lines.append(f"| {name} | {max(ranks, 1)} | {fmt_range(v, 1)} | {statistics.median(v) / busy:.1f} |")
    lines += ["", "## Data-parallel training: one epoch of Fashion-MNIST, one thread per rank", "",
              "| model | setting | samples/s (min–max) | allreduce share of the step | test accuracy |",
              "|---|---|---|---|---|"]
    for (model, ranks), results in trainings.items():
        rate = [r[0] for r in results]
        share = statistics.median(r[1] for r in results)
        acc = statistics.median(r[2] for r in results)
        setting = f"-np {ranks}" if ranks else "1 process"
        lines.append(f"| {model} | {setting} | {fmt_range(rate)} | {share:.1%} | {acc:.4f} |")
    text = "\n".join(lines) + "\n"
    pathlib.Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
