#!/usr/bin/python3
"""Builds an Optuna study from a Lamina search folder, for Optuna's visualizations.

    /usr/bin/python3 scripts/optuna-study.py SEARCH_DIR [--storage URL] [--study-name NAME] [--replace]

Reads SEARCH_DIR/journal.jsonl (every finished trial: its values, the score after each epoch,
its status) and SEARCH_DIR/rounds.json (the space of each round), and writes one Optuna trial
per Lamina trial into a study in `--storage` (default: sqlite:///SEARCH_DIR/optuna.db; the study
is named after the folder). Then, e.g. with python3-plotly or python3-matplotlib installed:

    import optuna
    study = optuna.load_study(study_name="NAME", storage="sqlite:///SEARCH_DIR/optuna.db")
    optuna.visualization.matplotlib.plot_optimization_history(study)

The mapping:
  uniform / log_uniform / int_uniform / choice  ->  FloatDistribution / FloatDistribution(log=True)
                                                    / IntDistribution / CategoricalDistribution
      over round 1's ranges (later rounds narrow inside them, and Optuna wants one distribution
      per parameter); choices are kept as the text Lamina wrote.
  status ok -> COMPLETE (value: the last epoch's score), pruned -> PRUNED, failed and
      diverged -> FAIL; every epoch's score is an intermediate value (step = epoch).
  a search with `objectives:` becomes a multi-objective study (one direction per objective, a
      completed trial's values its objectives; Optuna's study.best_trials is then the front);
  the metric's direction is the journal header's higher_is_better (a minimized metric, such as
  val_loss or val_rmse, is journaled negated).
  user attributes: lamina_trial, round, seconds, status (and error, when there is one).
A killed search's torn last journal line is skipped, as `lamina search` does on resume.
Exit status 2 with a message for a folder that is not a search, or a damaged journal.
"""
import argparse
import json
import pathlib
import sys


def fail(message):
    print(f"optuna-study: error: {message}", file=sys.stderr)
    sys.exit(2)


def read_journal(path):
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as e:
        fail(f"{path}: cannot read: {e.strerror} (is this the folder of a `lamina search`?)")
    complete = lines[:-1]  # the text after the last newline is a torn line, or empty
    if not complete:
        fail(f"{path}: empty journal")
    try:
        header = json.loads(complete[0])
    except json.JSONDecodeError as e:
        fail(f"{path}:1: not a journal header: {e}")
    if not isinstance(header, dict) or "lamina_search" not in header:
        fail(f"{path}:1: not a Lamina search journal (no lamina_search field)")
    trials = {}
    for number, line in enumerate(complete[1:], start=2):
        try:
            t = json.loads(line)
            trials[int(t["trial"])] = t
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            fail(f"{path}:{number}: not a trial line: {e}")
    return header, trials


def metric_of(header):
    if isinstance(header.get("metric"), str):
        return header["metric"]
    # Journals written before the header held the metric: the fingerprint's first line says it.
    for word in header.get("fingerprint", "").split("\n")[0].split():
        if word.startswith("metric="):
            return word[len("metric="):]
    fail("the journal's header names no metric")


def distributions(optuna, rounds_file):
    try:
        rounds = json.loads(rounds_file.read_text(encoding="utf-8"))
        space = rounds[0]["space"]
    except (OSError, json.JSONDecodeError, KeyError, IndexError, TypeError) as e:
        fail(f"{rounds_file}: cannot read round 1's space: {e}")
    out = {}
    for name, d in space.items():
        kind, lo_hi = d["type"], d["range"]
        if kind == "uniform":
            out[name] = optuna.distributions.FloatDistribution(lo_hi[0], lo_hi[1])
        elif kind == "log_uniform":
            out[name] = optuna.distributions.FloatDistribution(lo_hi[0], lo_hi[1], log=True)
        elif kind == "int_uniform":
            out[name] = optuna.distributions.IntDistribution(int(lo_hi[0]), int(lo_hi[1]))
        elif kind == "choice":
            out[name] = optuna.distributions.CategoricalDistribution([str(c) for c in lo_hi])
        else:
            fail(f"{rounds_file}: {name}: unknown dimension type '{kind}'")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("search_dir", type=pathlib.Path)
    ap.add_argument("--storage", help="an Optuna storage URL (default: sqlite:///SEARCH_DIR/optuna.db)")
    ap.add_argument("--study-name", help="default: the search folder's name")
    ap.add_argument("--replace", action="store_true", help="delete a study of that name first")
    args = ap.parse_args()
    try:
        import optuna
    except ImportError:
        fail("Optuna is not installed: apt-get install python3-optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    folder = args.search_dir.resolve()
    header, trials = read_journal(folder / "journal.jsonl")
    metric = metric_of(header)
    # The journal keeps higher-is-better scores; its header says the metric's direction (older
    # journals: only val_loss was minimized).
    higher = header.get("higher_is_better", metric != "val_loss")
    sign = 1.0 if higher else -1.0
    dists = distributions(optuna, folder / "rounds.json")
    storage = args.storage or f"sqlite:///{folder / 'optuna.db'}"
    name = args.study_name or folder.name
    if args.replace:
        try:
            optuna.delete_study(study_name=name, storage=storage)
        except KeyError:
            pass
    # `objectives:`: a multi-objective study, one value per objective in the header's order.
    objectives = header.get("objectives") or None
    try:
        if objectives:
            study = optuna.create_study(study_name=name, storage=storage, directions=[
                "maximize" if o.get("higher_is_better", True) else "minimize" for o in objectives])
        else:
            study = optuna.create_study(study_name=name, storage=storage,
                                        direction="minimize" if sign < 0 else "maximize")
    except optuna.exceptions.DuplicatedStudyError:
        fail(f"{storage} already has a study named '{name}' (--replace overwrites it)")
    states = {"ok": optuna.trial.TrialState.COMPLETE, "pruned": optuna.trial.TrialState.PRUNED,
              "failed": optuna.trial.TrialState.FAIL, "diverged": optuna.trial.TrialState.FAIL}
    for number in sorted(trials):
        t = trials[number]
        status = t.get("status")
        if status not in states:
            fail(f"trial {number}: unknown status '{status}'")
        params = {}
        for key, value in t["values"].items():
            d = dists.get(key)
            if d is None:
                fail(f"trial {number}: '{key}' is not in round 1's space")
            if isinstance(d, optuna.distributions.CategoricalDistribution):
                params[key] = value["text"]
            elif isinstance(d, optuna.distributions.IntDistribution):
                params[key] = int(round(value["number"]))
            else:
                params[key] = float(value["number"])
        scores = [sign * s for s in t.get("scores", [])]
        attrs = {"lamina_trial": number, "round": t.get("round"), "seconds": t.get("seconds"), "status": status}
        if t.get("error"):
            attrs["error"] = t["error"]
        complete = states[status] == optuna.trial.TrialState.COMPLETE
        value = scores[-1] if complete and scores else None
        values = None
        if objectives:
            value = None
            measured = t.get("objectives") or {}
            if complete:
                values = [measured.get(o["name"]) for o in objectives]
                if any(v is None for v in values):
                    fail(f"trial {number}: no value for each of the header's objectives")
        study.add_trial(optuna.trial.create_trial(
            state=states[status], value=value, values=values, params=params,
            distributions={k: dists[k] for k in params},
            intermediate_values={epoch: s for epoch, s in enumerate(scores, start=1)}, user_attrs=attrs))
    what = (", ".join(o["name"] for o in objectives) if objectives
            else f"{metric}, {'minimize' if sign < 0 else 'maximize'}")
    print(f"study '{name}' in {storage}: {len(trials)} trials ({what})")


if __name__ == "__main__":
    main()
