#!/usr/bin/python3
"""scripts/optuna-study.py against a real search: a small `lamina search` (every kind of
dimension, ASHA pruning, val_loss) is turned into an Optuna study, which Optuna itself then
reads back: one trial per journal line with its state, parameters, per-epoch values and the
search's best score. Usage: optuna_study_check.py LAMINA SCRIPT"""
import csv
import json
import pathlib
import subprocess
import sys
import tempfile

import optuna

lamina, script = sys.argv[1], sys.argv[2]
SEARCH = """model:
  data: {source: fashion-mnist, train_limit: 300, test_limit: 100, validation_split: 0.2}
  layers: [{type: affine, units: 16}, {type: relu}, {type: affine, units: 10}]
  loss: softmax_cross_entropy
  optimizer: {type: sgd, lr: 0.01}
  train: {batch_size: 50}
space:
  optimizer.lr: {log_uniform: [1.0e-3, 3.0]}
  optimizer.type: {choice: [sgd, momentum]}
  layers.0.units: {int_uniform: [8, 24]}
  regularizer.lambda: {uniform: [0.0, 1.0e-3]}
trials: 10
epochs: 4
metric: val_loss
pruning: {type: asha, min_epochs: 1, reduction: 2}
"""

with tempfile.TemporaryDirectory() as d:
    d = pathlib.Path(d)
    (d / "s.yaml").write_text(SEARCH.replace("  train:", "  regularizer: {type: l2, lambda: 1.0e-4}\n  train:"))
    r = subprocess.run([lamina, "search", str(d / "s.yaml"), "--no-progress", "--out", str(d / "s")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    journal = [json.loads(line) for line in (d / "s" / "journal.jsonl").read_text().splitlines()[1:]]
    summary = json.loads((d / "s" / "summary.json").read_text())

    r = subprocess.run([sys.executable, script, str(d / "s")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{d / 's' / 'optuna.db'}")
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    assert len(study.trials) == len(journal) == 10, (len(study.trials), len(journal))
    state = {"ok": "COMPLETE", "pruned": "PRUNED", "failed": "FAIL", "diverged": "FAIL"}
    by_id = {t.user_attrs["lamina_trial"]: t for t in study.trials}
    for j in journal:
        t = by_id[j["trial"]]
        assert t.state.name == state[j["status"]], (j, t.state)
        assert t.intermediate_values == {e + 1: -s for e, s in enumerate(j["scores"])}, (j, t.intermediate_values)
        assert t.params["optimizer.type"] == j["values"]["optimizer.type"]["text"]
        assert t.params["layers.0.units"] == int(j["values"]["layers.0.units"]["text"])
        assert abs(t.params["optimizer.lr"] - j["values"]["optimizer.lr"]["number"]) < 1e-12
        if j["status"] == "ok":
            assert t.value == -j["scores"][-1]
    assert any(t.state.name == "PRUNED" for t in study.trials), "ASHA pruned nothing: the check proves less"
    assert study.trials[0].distributions["optimizer.lr"].log is True
    # The lowest final val_loss of the finished trials is Optuna's best value.
    best = min(-j["scores"][-1] for j in journal if j["status"] == "ok")
    assert abs(study.best_value - best) < 1e-12, (study.best_value, best)
    assert summary["best_score"] <= best + 1e-12  # Lamina's ranking also counts pruned trials

    # A second run refuses to overwrite the study unless told to.
    again = subprocess.run([sys.executable, script, str(d / "s")], capture_output=True, text=True)
    assert again.returncode == 2 and "already has a study named 's'" in again.stderr, again.stderr
    assert subprocess.run([sys.executable, script, str(d / "s"), "--replace"], capture_output=True).returncode == 0
    # Not a search folder: one message, status 2.
    bad = subprocess.run([sys.executable, script, str(d)], capture_output=True, text=True)
    assert bad.returncode == 2 and "journal.jsonl: cannot read" in bad.stderr, bad.stderr
    # A conditional space: each Optuna trial holds the parameters its branch made active, and no
    # other (Optuna's own model of such a study: a trial suggests only what its branch asks for).
    cond = SEARCH.split("space:")[0] + """space:
  optimizer:
    choice:
      - {type: sgd, lr: {log_uniform: [1.0e-3, 1.0]}}
      - {type: momentum, lr: {log_uniform: [1.0e-3, 1.0e-1]}, momentum: {uniform: [0.8, 0.99]}}
trials: 8
epochs: 2
"""
    (d / "c.yaml").write_text(cond)
    r = subprocess.run([lamina, "search", str(d / "c.yaml"), "--no-progress", "--out", str(d / "c")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    journal = [json.loads(line) for line in (d / "c" / "journal.jsonl").read_text().splitlines()[1:]]
    r = subprocess.run([sys.executable, script, str(d / "c")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    study = optuna.load_study(study_name="c", storage=f"sqlite:///{d / 'c' / 'optuna.db'}")
    by_id = {t.user_attrs["lamina_trial"]: t for t in study.trials}
    branches = set()
    for j in journal:
        t = by_id[j["trial"]]
        assert set(t.params) == set(j["values"]), (t.params, j["values"])
        momentum = "momentum" in j["values"]["optimizer"]["text"]
        branches.add(momentum)
        assert ("optimizer@momentum.momentum" in t.params) == momentum, t.params
        assert ("optimizer@sgd.lr" in t.params) == (not momentum), t.params
    assert branches == {True, False}, "one branch was never tried: the check proves less"

    # Two objectives: a multi-objective study whose Pareto front (study.best_trials, Optuna's own
    # dominance) is results.csv's.
    multi = SEARCH.split("space:")[0] + """space:
  optimizer.lr: {log_uniform: [1.0e-3, 1.0]}
  layers.0.units: {int_uniform: [2, 40]}
trials: 8
epochs: 2
objectives: [{metric: val_accuracy}, {measure: parameters, direction: minimize}]
"""
    (d / "m.yaml").write_text(multi)
    r = subprocess.run([lamina, "search", str(d / "m.yaml"), "--no-progress", "--out", str(d / "m")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([sys.executable, script, str(d / "m")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    study = optuna.load_study(study_name="m", storage=f"sqlite:///{d / 'm' / 'optuna.db'}")
    assert [x.name for x in study.directions] == ["MAXIMIZE", "MINIMIZE"], study.directions
    with open(d / "m" / "results.csv") as f:
        front = {int(row["trial"]) for row in csv.DictReader(f) if row["front"] == "true"}
    theirs = {t.user_attrs["lamina_trial"] for t in study.best_trials}
    assert front and theirs == front, (theirs, front)
print("optuna study check passed")
