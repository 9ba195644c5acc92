#!/usr/bin/env python3
"""What `import lamina` costs the training loop: W1 (bench/w1.yaml) trained by the command and by
lamina.train() in a fresh python3, alternated in each round (the other first in the next), at
each thread count. Both read the training loop's own clock (run.json train_seconds_per_epoch),
so the interpreter's start and the import are not counted, as the command's start is not.

    /usr/bin/python3 bench/python_cost.py [--reps 3] [--threads 1,2]

Prints each side's median samples/s and python / command (the issue's target: unchanged).
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from run import N_TRAIN, ROOT, lamina  # noqa: E402  (the same measurement as the benchmark's)

PYTHON_RUN = """
import json, sys
import lamina
run = lamina.train(sys.argv[1], overrides={"train.seed": int(sys.argv[3])}, out=sys.argv[2], threads=int(sys.argv[4]))
print(json.dumps(json.loads((run.folder / "run.json").read_text())["train_seconds_per_epoch"]))
"""


def from_python(threads, seed):
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(["/usr/bin/python3", "-c", PYTHON_RUN, str(ROOT / "bench" / "w1.yaml"), f"{d}/run",
                            str(seed), str(threads)], capture_output=True, text=True,
                           env={"PYTHONPATH": str(ROOT / "build" / "python"), "PATH": "/usr/bin:/bin"})
        if r.returncode != 0:
            sys.exit(f"python3 failed: {r.stderr}")
        seconds = json.loads(r.stdout.strip().splitlines()[-1])[0]
    return {"samples_per_s": N_TRAIN / seconds}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    sides = {"command": lambda t, s: lamina(ROOT / "build/bin/lamina", "w1", t, s), "python": from_python}
    samples = {}
    for rep in range(1, args.reps + 1):
        order = ["command", "python"] if rep % 2 else ["python", "command"]
        for t in threads:
            for side in order:
                r = sides[side](t, rep)
                samples.setdefault((side, t), []).append(r["samples_per_s"])
                print(f"rep {rep} {side} threads {t}: {r['samples_per_s']:.0f} samples/s", flush=True)
    print(f"\nW1, {args.reps} alternated rounds, medians of samples/s\n")
    print("| threads | `lamina train` | `lamina.train()` | python / command |")
    print("|---|---|---|---|")
    for t in threads:
        a, b = statistics.median(samples[("command", t)]), statistics.median(samples[("python", t)])
        print(f"| {t} | {a:,.0f} | {b:,.0f} | {b / a:.3f} |")


if __name__ == "__main__":
    main()
