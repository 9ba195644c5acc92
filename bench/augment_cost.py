#!/usr/bin/env python3
"""What augmentation costs a training step: W4 and W4 with crop + flip (bench/w4a.yaml), one
binary, alternated in each round (the other first in the next), at each thread count.

    /usr/bin/python3 bench/augment_cost.py [build/bin/lamina] [--reps 3] [--threads 1,2]

Prints each side's median samples/s of the training loop and w4a / w4 (the issue's target: the
augmented run within 10% of the plain one). Allocations per augmented batch: bench/extras.sh.
"""
import argparse
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from run import ROOT, lamina  # noqa: E402  (the same measurement as the benchmark's)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=str(ROOT / "build/bin/lamina"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    samples = {}
    for rep in range(1, args.reps + 1):
        order = ["w4", "w4a"] if rep % 2 else ["w4a", "w4"]
        for t in threads:
            for w in order:
                r = lamina(pathlib.Path(args.binary), w, t, rep)
                samples.setdefault((w, t), []).append(r["samples_per_s"])
                print(f"rep {rep} {w} threads {t}: {r['samples_per_s']:.0f} samples/s", flush=True)
    print(f"\n{args.binary}, {args.reps} alternated rounds, medians of samples/s\n")
    print("| threads | w4 | w4a (crop + flip) | w4a / w4 |")
    print("|---|---|---|---|")
    for t in threads:
        a, b = statistics.median(samples[("w4", t)]), statistics.median(samples[("w4a", t)])
        print(f"| {t} | {a:,.0f} | {b:,.0f} | {b / a:.3f} |")


if __name__ == "__main__":
    main()
