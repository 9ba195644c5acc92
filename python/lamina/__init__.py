"""Lamina from Python: train, load, predict and search with the same code paths as the `lamina`
command, NumPy arrays in and out.

    import lamina
    run = lamina.train("models/mlp.yaml", epochs=2)          # or a dict: the model file's mapping
    run.metrics["val_accuracy"]                              # a NumPy array per metrics.csv column
    model = lamina.load_run(run.folder)
    p = model.predict(x)                                     # x: N x 784 raw pixels (0..255)

Errors are lamina.InputError (bad input: a model file, a run folder, an array's shape) or
lamina.Error, with the message the command prints. docs/python.md is the tutorial.
"""
import csv
import json
import os
import pathlib

import numpy as np

from . import _lamina
from ._lamina import Error, InputError

__all__ = ["train", "load_run", "search", "plugins", "check", "Check", "Run", "Model", "Error", "InputError"]

_host = None


def _the_host():
    # One host (registry and plugins) per process, made on first use: loading the plugins reads
    # their folder once.
    global _host
    if _host is None:
        _host = _lamina.Host()
    return _host


def _read_metrics(folder):
    path = pathlib.Path(folder) / "metrics.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    columns = {}
    for i, name in enumerate(rows[0]):
        values = []
        for r in rows[1:]:
            try:
                values.append(float(r[i]) if i < len(r) and r[i] != "" else float("nan"))
            except ValueError:
                values.append(float("nan"))
        columns[name] = np.array(values)
    return columns


class Run:
    """A run folder: `folder`, `status` ("finished", "interrupted", "diverged", from run.json),
    `metrics` (metrics.csv as {column: array}; `frame()` as a pandas DataFrame if pandas is
    installed)."""

    def __init__(self, folder):
        self.folder = pathlib.Path(folder)
        self.metrics = _read_metrics(self.folder)
        info = self.folder / "run.json"
        self.status = json.loads(info.read_text()).get("status") if info.exists() else None

    def frame(self):
        """metrics.csv as a pandas DataFrame (pandas is optional: only this method needs it)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Run.frame() needs pandas (Debian: apt install python3-pandas); "
                              "Run.metrics has the same columns as NumPy arrays") from None
        return pandas.DataFrame(self.metrics)

    def __repr__(self):
        return f"lamina.Run('{self.folder}', status={self.status!r}, epochs={len(self.metrics.get('epoch', []))})"


class Model:
    """A trained run's network in inference form. `predict(x)` and `scores(x)` take raw values
    (pixels 0..255, as the training files hold them), scale them by `input_scale` as
    `lamina predict` does, and return N x classes probabilities or raw scores."""

    def __init__(self, folder):
        self.folder = pathlib.Path(folder)
        self._m = _the_host().load_run(str(self.folder))

    @property
    def input_scale(self):
        return self._m.input_scale

    @property
    def sample_shape(self):
        return tuple(self._m.sample_shape)

    def _batch(self, x):
        x = np.asarray(x, dtype=np.float32)
        if x.shape == self.sample_shape:
            x = x[np.newaxis]
        elif x.ndim == 2 and len(self.sample_shape) > 1 and x.shape[1] == int(np.prod(self.sample_shape)):
            x = x.reshape((x.shape[0],) + self.sample_shape)  # flat rows for an image model
        return x

    def predict(self, x):
        return self._m.predict(self._batch(x))

    def scores(self, x):
        return self._m.scores(self._batch(x))

    def weights(self, best=False):
        """The checkpoint's tensors by name (as `lamina dump` lists them)."""
        return _lamina.read_weights(str(self.folder / ("model-best.safetensors" if best else "model.safetensors")))


def _overrides(keys):
    """{"units": 3, "init": {"type": "normal"}} -> ["units=3", 'init={"type": "normal"}'] (JSON is YAML)."""
    return [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in keys.items()]


def _model_file(model):
    """(the name, None) for a path; ("<dict>", its JSON text) for a dict. JSON is YAML; relative
    paths in a dict are relative to the working folder."""
    if isinstance(model, (str, os.PathLike)):
        return str(model), None
    if not isinstance(model, dict):
        raise TypeError(f"model must be a path or a dict, not {type(model).__name__}")
    return "<dict>", json.dumps(model, indent=2) + "\n"


def train(model, overrides=None, out=None, epochs=None, seed=None, threads=None, on_epoch=None, resume=None,
          quiet=True):
    """Trains `model` (a model file's path, or its mapping as a dict) into a run folder and
    returns its Run. `overrides`: {"optimizer.lr": 0.01} or ["optimizer.lr=0.01"] (as --set).
    `on_epoch(measures)`: called after each epoch with a dict (epoch, train_loss, val_accuracy,
    ...); return True to stop. `resume`: a run folder to continue (as --resume). Ctrl-C stops at
    the last finished epoch and raises KeyboardInterrupt; `lamina.train(resume=...)` continues."""
    if overrides is None:
        overrides = []
    elif isinstance(overrides, dict):
        overrides = _overrides(overrides)
    path, text = (None, None) if resume else _model_file(model)
    r = _lamina.train(path or "", text, list(overrides), None if out is None else str(out), epochs, seed, threads,
                      None if resume is None else str(resume), on_epoch, quiet)
    run = Run(r["run_dir"])
    if r["interrupted"] and not r["stopped"]:
        raise KeyboardInterrupt(f"training stopped after its last finished epoch; "
                                f"lamina.train(resume='{run.folder}') continues")
    return run


def load_run(folder):
    """A trained run folder as a Model."""
    return Model(folder)


def search(spec, out=None, workers=None, quiet=True):
    """Runs (or resumes) the search file `spec`; returns {"dir", "trials": results.csv's rows as
    dicts, "best": the first row, "summary": summary.json}."""
    r = _lamina.search(str(spec), None if out is None else str(out), workers, quiet)
    folder = pathlib.Path(r["dir"])
    trials = []
    results = folder / "results.csv"
    if results.exists():
        with open(results, newline="") as f:
            trials = list(csv.DictReader(f))
    summary_file = folder / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    if r["interrupted"]:
        raise KeyboardInterrupt(f"search stopped; run lamina.search('{spec}') again to resume it")
    return {"dir": folder, "trials": trials, "best": trials[0] if trials else None, "summary": summary}


def plugins():
    """Every registered type: {kind, name, summary, plugin}."""
    return _the_host().types()


class Check:
    """What `lamina check` found: `passed`, `report` (the command's text), `results` as
    [(passed, name, detail)], true when every check passed."""

    def __init__(self, passed, report):
        self.passed = passed
        self.report = report
        self.results = []
        for line in report.splitlines():
            if line.startswith(("PASS ", "FAIL ")):
                # "PASS name-padded-to-28 detail" (core/src/check_report.hpp)
                rest = line[5:]
                if len(rest) > 28 and rest[28] == " ":
                    name, detail = rest[:28], rest[29:]
                else:
                    name, _, detail = rest.partition("  ")
                self.results.append((line.startswith("PASS"), name.strip(), detail.strip()))

    def __bool__(self):
        return self.passed

    def __repr__(self):
        failed = [n for ok, n, _ in self.results if not ok]
        return f"<lamina.Check {'passed' if self.passed else 'failed: ' + ', '.join(failed)}>"


def check(type, keys=None, input_shape=(5,), batch=4, seed=1):
    """Runs `lamina check` on a registered type: gradients against finite differences, modes,
    determinism, save and reload. `keys`: the type's keys as a dict ({"units": 3}; for a python
    layer {"module": "my_layers", "class": "Swish", "beta": 1.5}, relative paths from the
    working folder). Returns a Check; an unknown type or bad key raises InputError."""
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    passed, report = _lamina.check(str(type), _overrides(keys or {}), [int(d) for d in input_shape], int(batch),
                                   int(seed))
    return Check(passed, report)
