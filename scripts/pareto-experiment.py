#!/usr/bin/env python3
"""Accuracy against size: models/search-cnn-widths.yaml searched by TPE (MOTPE's split, as
Lamina's `objectives:` gives it) and by random search with the same budget and seed, both on
two objectives (validation accuracy, parameter count). Prints each search's front and the
smallest model that reaches a few accuracy levels, and draws both fronts over all trials with
gnuplot (log x axis) into OUT/pareto-cnn.png.

    /usr/bin/python3 scripts/pareto-experiment.py [--out /tmp/pareto] [--lamina build/bin/lamina]
"""
import argparse
import csv
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def search(lamina, model_text, name, out, reuse):
    folder = os.path.join(out, name)
    if reuse and os.path.exists(os.path.join(folder, "results.csv")):
        with open(os.path.join(folder, "results.csv")) as f:
            return [r for r in csv.DictReader(f) if r["status"] == "ok"]
    path = os.path.join(out, name + ".yaml")
    with open(path, "w") as f:
        f.write(model_text)
    subprocess.run([lamina, "search", path, "--no-progress", "--out", folder], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(folder, "results.csv")) as f:
        return [r for r in csv.DictReader(f) if r["status"] == "ok"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/pareto")
    ap.add_argument("--lamina", default=os.path.join(ROOT, "build", "bin", "lamina"))
    ap.add_argument("--image", default=None, help="where the plot goes (default OUT/pareto-cnn.png)")
    ap.add_argument("--reuse", action="store_true", help="read searches already in OUT instead of running them")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(ROOT, "models", "search-cnn-widths.yaml")) as f:
        text = f.read()  # the base model is inline: the copy runs from OUT
    runs = {
        "tpe": search(a.lamina, text, "tpe", a.out, a.reuse),
        "random": search(a.lamina, text.replace("sampler: {type: tpe, startup_trials: 10}", "sampler: random"),
                         "random", a.out, a.reuse),
    }
    data = []
    for name, rows in runs.items():
        front = sorted((int(r["parameters"]), float(r["val_accuracy"])) for r in rows if r["front"] == "true")
        print(f"{name}: {len(rows)} trials, {len(front)} on the front")
        for p, acc in front:
            print(f"  {p:>8} parameters  val_accuracy {acc:.4f}")
        # The area the front dominates above accuracy 0.5 and below 10^6 parameters, on the log
        # axis: one number for "better front" (larger is better).
        hv = 0.0
        best_below = []
        for p, acc in front:  # ascending size, ascending accuracy
            best_below.append((math.log10(p), acc))
        for i, (lp, acc) in enumerate(best_below):
            right = best_below[i + 1][0] if i + 1 < len(best_below) else 6.0
            hv += (right - lp) * max(0.0, acc - 0.5)
        print(f"  hypervolume (accuracy above 0.5 x decades below 1e6 parameters): {hv:.4f}")
        for level in (0.75, 0.80, 0.83, 0.85):
            ok = [int(r["parameters"]) for r in rows if float(r["val_accuracy"]) >= level]
            print(f"  smallest reaching {level:.2f}: {min(ok) if ok else '-'}")
        pts = os.path.join(a.out, name + "-all.dat")
        with open(pts, "w") as f:
            for r in rows:
                f.write(f"{r['parameters']} {r['val_accuracy']}\n")
        fr = os.path.join(a.out, name + "-front.dat")
        with open(fr, "w") as f:
            for p, acc in front:
                f.write(f"{p} {acc}\n")
        data.append((name, pts, fr))
    image = a.image or os.path.join(a.out, "pareto-cnn.png")
    plot = (f"set terminal pngcairo size 900,560 font 'DejaVu Sans,11'; set output '{image}';"
            "set logscale x; set format x '10^{%L}'; set xlabel 'parameters';"
            "set ylabel 'validation accuracy (3 epochs, 8,000 images)'; set key bottom right;"
            "set grid; set title 'CNN widths: the Pareto front of accuracy and size (30 trials each)';"
            "plot ")
    styles = {"tpe": ("#1f77b4", 7), "random": ("#d62728", 6)}
    parts = []
    for name, pts, fr in data:
        color, pt = styles[name]
        parts.append(f"'{pts}' using 1:2 with points pt {pt} ps 0.9 lc rgb '{color}' title '{name}: trials'")
        parts.append(f"'{fr}' using 1:2 with steps lw 2 lc rgb '{color}' title '{name}: front'")
    subprocess.run(["gnuplot", "-e", plot + ", ".join(parts)], check=True)
    print("plot:", image)


if __name__ == "__main__":
    sys.exit(main())
