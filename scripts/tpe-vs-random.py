#!/usr/bin/python3
"""TPE against random search on the seed text's search and a harder space (docs/experiments.md).

Runs `lamina search` for each space, sampler and seed (the search files with `seed:` and
`sampler:` replaced), then prints a Markdown table: the median (over seeds) best validation
accuracy after 25, 50 and 100 trials, and the trials TPE needs to reach random's median best.
Writes the median best-so-far curves to OUT/curves.csv and, with gnuplot, OUT/tpe-vs-random.png.

    scripts/tpe-vs-random.py [--lamina build/bin/lamina] [--seeds 10] [--out runs/tpe-vs-random]
                             [--spaces "seed text,harder,conditional optimizer"]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPACES = {"seed text": "models/search-text.yaml", "harder": "models/search-text-hard.yaml",
          "conditional optimizer": "models/search-text-optimizers.yaml"}
SAMPLERS = {"random": "sampler: random", "tpe": "sampler: tpe"}


def best_so_far(journal):
    """The best final validation accuracy after each trial, in trial order."""
    scores = {}
    with open(journal) as f:
        for line in f:
            j = json.loads(line)
            if "trial" in j:
                scores[j["trial"]] = j["score"] if j["status"] in ("ok", "pruned") and j["score"] is not None else -1
    curve, best = [], -1.0
    for t in sorted(scores):
        best = max(best, scores[t])
        curve.append(best)
    return curve


def run(args, space, sampler, seed):
    name = f"{os.path.basename(space)[:-5]}-{sampler}-{seed}"
    out = os.path.join(args.out, name)
    if not os.path.exists(os.path.join(out, "results.csv")):
        text = open(os.path.join(ROOT, space)).read()
        text = re.sub(r"^seed: .*$", f"seed: {seed}", text, flags=re.M)
        text = re.sub(r"^model: (.*)$", lambda m: "model: " + os.path.join(ROOT, "models", m.group(1)), text, flags=re.M)
        text += SAMPLERS[sampler] + "\n"
        spec = os.path.join(args.out, name + ".yaml")
        with open(spec, "w") as f:
            f.write(text)
        subprocess.run([args.lamina, "search", spec, "--no-progress", "--out", out], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"  {name} done", file=sys.stderr)
    return best_so_far(os.path.join(out, "journal.jsonl"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lamina", default=os.path.join(ROOT, "build/bin/lamina"))
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--out", default="runs/tpe-vs-random")
    p.add_argument("--tpe", default="tpe", help="the TPE sampler's spec, e.g. '{type: tpe, gamma: 0.1}'")
    p.add_argument("--spaces", default="seed text,harder",
                   help=f"comma-separated, of: {', '.join(SPACES)}")
    args = p.parse_args()
    for label in list(SPACES):
        if label not in args.spaces.split(","):
            del SPACES[label]
    SAMPLERS["tpe"] = "sampler: " + args.tpe
    os.makedirs(args.out, exist_ok=True)
    rows, columns = [], {}
    for label, space in SPACES.items():
        curves = {s: [run(args, space, s, seed) for seed in range(1, args.seeds + 1)] for s in SAMPLERS}
        n = len(curves["random"][0])
        median = {s: [statistics.median(c[i] for c in curves[s]) for i in range(n)] for s in SAMPLERS}
        target = median["random"][-1]
        needed = []
        for c in curves["tpe"]:
            reached = next((i + 1 for i, v in enumerate(c) if v >= target), None)
            needed.append(reached if reached is not None else float("inf"))
        finals = {s: [c[-1] for c in curves[s]] for s in SAMPLERS}
        rows.append((label, median, target, needed, finals, n))
        for s in SAMPLERS:
            columns[f"{label} {s}"] = median[s]
    print(f"| space | sampler | median best after 25 / 50 / {n} trials | best per seed (min-max) |")
    print("|---|---|---|---|")
    for label, median, target, needed, finals, n in rows:
        for s in SAMPLERS:
            m = median[s]
            print(f"| {label} | {s} | {m[24]:.3f} / {m[49]:.3f} / {m[-1]:.3f} | {min(finals[s]):.2f}-{max(finals[s]):.2f} |")
    print()
    for label, median, target, needed, finals, n in rows:
        shown = ", ".join("never" if x == float("inf") else str(x) for x in needed)
        print(f"- {label}: random's median best after {n} trials is {target:.3f}; TPE reaches it after "
              f"{statistics.median(needed)} trials (median of {len(needed)} seeds; per seed: {shown})")
    csv = os.path.join(args.out, "curves.csv")
    with open(csv, "w") as f:
        f.write("trial," + ",".join(columns) + "\n")
        for i in range(len(next(iter(columns.values())))):
            f.write(f"{i + 1}," + ",".join(f"{v[i]:.4f}" for v in columns.values()) + "\n")
    png = os.path.join(args.out, "tpe-vs-random.png")
    plot = (f"set terminal pngcairo size 900,420 font ',10'; set output '{png}'; set datafile separator ',';"
            f"set multiplot layout 1,{len(SPACES)}; set key bottom right; set xlabel 'trials'; set grid;"
            f"set ylabel 'median best validation accuracy ({args.seeds} seeds)';")
    for k, label in enumerate(SPACES):
        plot += (f"set title '{label} space'; plot '{csv}' using 1:{2 + 2 * k} with lines lw 2 title 'random',"
                 f" '' using 1:{3 + 2 * k} with lines lw 2 title 'TPE';")
    subprocess.run(["gnuplot", "-e", plot + "unset multiplot"], check=True)
    print(f"\n{csv}, {png}", file=sys.stderr)


if __name__ == "__main__":
    main()
