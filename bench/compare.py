#!/usr/bin/env python3
"""Two Lamina builds side by side on W1-W3: has a change made training slower?

    /usr/bin/python3 bench/compare.py OLD/bin/lamina build/bin/lamina [--reps 5] [--threads 1,2]

Each round runs every workload with A, then with B (then B first in the next round), at each
thread count, with the round's seed for both; the table gives each side's median samples/s of
the training loop (train_seconds_per_epoch, as bench/run.py) and B/A. Build A from an older
commit with `git worktree add /tmp/old REV && cmake -S /tmp/old -B /tmp/old/build -G Ninja
-DLAMINA_BUILD_TESTS=OFF && cmake --build /tmp/old/build`.
"""
import argparse
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from run import lamina  # noqa: E402  (the same measurement as the benchmark's)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--workloads", default="w1,w2,w3")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    workloads = args.workloads.split(",")
    samples = {}
    for rep in range(1, args.reps + 1):
        order = [("A", args.a), ("B", args.b)] if rep % 2 else [("B", args.b), ("A", args.a)]
        for w in workloads:
            for t in threads:
                for side, binary in order:
                    r = lamina(pathlib.Path(binary), w, t, rep)
                    samples.setdefault((w, t, side), []).append(r["samples_per_s"])
                    print(f"rep {rep} {w} threads {t} {side}: {r['samples_per_s']:.0f} samples/s", flush=True)
    print(f"\nA = {args.a}\nB = {args.b}\n{args.reps} alternated rounds, medians of samples/s\n")
    print("| workload | threads | A | B | B / A |")
    print("|---|---|---|---|---|")
    for w in workloads:
        for t in threads:
            a = statistics.median(samples[(w, t, "A")])
            b = statistics.median(samples[(w, t, "B")])
            print(f"| {w} | {t} | {a:,.0f} | {b:,.0f} | {b / a:.3f} |")


if __name__ == "__main__":
    main()
