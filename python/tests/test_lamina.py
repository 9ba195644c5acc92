"""`import lamina` against the `lamina` command it wraps: the same run folders, predictions,
weights, errors and search results (issue 34). Run by ctest as python_module (PYTHONPATH points
at the build's python/ folder, LAMINA at the command)."""
import csv
import os
import pathlib
import signal
import subprocess
import threading

import numpy as np
import pytest

import lamina

LAMINA = os.environ.get("LAMINA", "lamina")
MODEL = {
    "name": "tiny",
    "data": {"source": "fashion_mnist", "train_limit": 600, "test_limit": 200, "validation_split": 0.2},
    "layers": [{"type": "affine", "units": 24}, {"type": "relu"}, {"type": "affine", "units": 10}],
    "loss": "softmax_cross_entropy",
    "optimizer": {"type": "sgd", "lr": 0.1},
    "train": {"epochs": 2, "batch_size": 50, "seed": 3},
}


def cli(*args):
    r = subprocess.run([LAMINA, *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    seen = []
    run = lamina.train(MODEL, out=out, threads=1, on_epoch=seen.append)
    return run, seen


def test_train_from_a_dict_writes_the_run_folder_the_command_writes(trained, tmp_path):
    run, seen = trained
    assert run.status == "finished"
    with open(run.folder / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and len(seen) == 2
    for name, values in run.metrics.items():
        assert np.allclose(values, [float(r[name]) for r in rows]), name
    # on_epoch saw each epoch's measures, as metrics.csv prints them.
    for r, m in zip(rows, seen):
        assert int(r["epoch"]) == m["epoch"]
        assert abs(float(r["val_accuracy"]) - m["val_accuracy"]) < 1e-6
    # The frame (pandas is in the test set of install-deps.sh); without pandas the error says
    # what to install.
    frame = run.frame()
    assert list(frame.columns) == list(rows[0].keys()) and len(frame) == 2
    assert np.allclose(frame["val_accuracy"], run.metrics["val_accuracy"])
    import sys
    saved = sys.modules.get("pandas")
    sys.modules["pandas"] = None  # `import pandas` now raises ImportError
    try:
        with pytest.raises(ImportError, match="python3-pandas"):
            run.frame()
    finally:
        sys.modules["pandas"] = saved
    # The command, from the same model as a file, trains to the same weights.
    path = tmp_path / "tiny.yaml"
    import json
    path.write_text(json.dumps(MODEL))
    cli("train", path, "--threads", "1", "--no-progress", "--out", tmp_path / "cli")
    ours = lamina.load_run(run.folder).weights()
    theirs = lamina.load_run(tmp_path / "cli").weights()
    assert ours.keys() == theirs.keys()
    for k in ours:
        assert np.array_equal(ours[k], theirs[k]), k


def test_weights_equal_lamina_dump(trained):
    run, _ = trained
    w = lamina.load_run(run.folder).weights()
    assert set(w) >= {"layers.0.W", "layers.0.b", "layers.2.W"}
    printed = cli("dump", run.folder, "layers.2.b").split()
    values = [float(v) for v in printed if _is_number(v)]
    assert np.allclose(w["layers.2.b"].ravel(), values[-w["layers.2.b"].size:], atol=1e-6), printed


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def test_predict_equals_lamina_predict(trained, tmp_path):
    run, _ = trained
    model = lamina.load_run(run.folder)
    assert model.sample_shape == (1, 28, 28)  # fashion_mnist gives images; flat rows are reshaped
    assert abs(model.input_scale - 1 / 255) < 1e-7
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(7, 784)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    cli("predict", run.folder, "--input", tmp_path / "x.npy", "--out", tmp_path / "p.csv")
    with open(tmp_path / "p.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    ours = model.predict(x)
    assert ours.shape == (7, 10)
    for i, r in enumerate(rows):
        printed = [float(r[c]) for c in r if c.startswith("p")]
        assert np.allclose(ours[i], printed, atol=1e-6), (ours[i], printed)
        assert int(r["class"]) == int(np.argmax(ours[i]))
    s = model.scores(x)
    e = np.exp(s - s.max(axis=1, keepdims=True))
    assert np.allclose(e / e.sum(axis=1, keepdims=True), ours, atol=1e-6)
    with pytest.raises(lamina.InputError, match="does not fit the model"):
        model.predict(np.zeros((2, 783), dtype=np.float32))


def test_errors_raise_with_the_place(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {source: fashion_mnist}\nlayers:\n  - {type: afine, units: 3}\nloss: softmax_cross_entropy\n"
                   "optimizer: sgd\n")
    with pytest.raises(lamina.InputError, match=r"bad\.yaml:3:12: layers\.0\.type: .*afine.*did you mean 'affine'"):
        lamina.train(bad, out=tmp_path / "never")
    assert not (tmp_path / "never").exists()
    with pytest.raises(lamina.InputError, match="not a run folder|no model.yaml|cannot"):
        lamina.load_run(tmp_path)
    assert issubclass(lamina.InputError, lamina.Error)


def test_a_search_returns_results_csv(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("model:\n  data: {source: fashion_mnist, train_limit: 300, test_limit: 100, validation_split: 0.2}\n"
                    "  layers: [{type: affine, units: 10}]\n  loss: softmax_cross_entropy\n  optimizer: {type: sgd, lr: 0.1}\n"
                    "  train: {batch_size: 50}\nspace:\n  optimizer.lr: {log_uniform: [1.0e-3, 1.0]}\ntrials: 4\nepochs: 1\n")
    r = lamina.search(spec, out=tmp_path / "out")
    with open(tmp_path / "out" / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert r["trials"] == rows and len(rows) == 4
    assert r["best"] == rows[0]
    assert r["summary"]["trials"] == 4


def test_ctrl_c_stops_at_an_epoch_and_the_run_resumes(tmp_path):
    model = dict(MODEL, train=dict(MODEL["train"], epochs=40))
    model["data"] = dict(MODEL["data"], train_limit=6000)
    epochs = []

    def on_epoch(m):
        epochs.append(m["epoch"])
        if m["epoch"] == 2:  # Ctrl-C, as the terminal sends it, mid-run
            threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()

    with pytest.raises(KeyboardInterrupt, match="resume="):
        lamina.train(model, out=tmp_path / "r", threads=1, on_epoch=on_epoch)
    run = lamina.Run(tmp_path / "r")
    assert run.status == "interrupted"
    done = len(run.metrics["epoch"])
    assert 2 <= done < 40
    more = lamina.train(None, resume=tmp_path / "r", epochs=done + 1, threads=1)
    assert len(more.metrics["epoch"]) == done + 1 and more.status == "finished"


def test_on_epoch_returning_true_stops_and_its_exception_is_raised(tmp_path):
    run = lamina.train(MODEL, out=tmp_path / "s", on_epoch=lambda m: True)
    assert len(run.metrics["epoch"]) == 1

    def boom(m):
        raise ValueError("from the callback")

    with pytest.raises(ValueError, match="from the callback"):
        lamina.train(MODEL, out=tmp_path / "b", on_epoch=boom)


def test_two_models_predict_in_two_threads(trained, tmp_path):
    run, _ = trained
    x = np.random.default_rng(1).integers(0, 256, size=(64, 784)).astype(np.float32)
    serial = lamina.load_run(run.folder).predict(x)
    results = [None, None]

    def work(i):
        m = lamina.load_run(run.folder)
        for _ in range(20):
            results[i] = m.predict(x)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(r, serial) for r in results)


def test_plugins_lists_every_kind():
    types = lamina.plugins()
    names = {(t["kind"], t["name"]) for t in types}
    assert ("layer", "affine") in names and ("optimizer", "adam") in names and ("sampler", "tpe") in names


LAYERS = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "python_layers"


def test_check_passes_a_python_layer_and_fails_a_wrong_backward():
    keys = {"module": "lamina_test_layers", "path": str(LAYERS)}
    good = lamina.check("python", {**keys, "class": "Scale"}, input_shape=(2, 3, 3))
    assert good and good.passed, good.report
    assert ("save/reload params and state" in [name for _, name, _ in good.results])
    wrong = lamina.check("python", {**keys, "class": "WrongSwish", "beta": 1.0})
    assert not wrong
    failed = [name for ok, name, _ in wrong.results if not ok]
    assert failed == ["gradients (train)", "gradients (eval)"], wrong.report
    assert lamina.check("affine", {"units": 3}).passed
    with pytest.raises(lamina.InputError, match="no type named 'afine'"):
        lamina.check("afine")


def test_a_python_layer_trains_inside_python_as_inside_the_command(tmp_path, monkeypatch):
    # The same model from a dict (its relative `path` read from the working folder) and from a
    # file by the command: the interpreter this test runs in is the layer's, and the run's
    # numbers are the command's, where the plugin starts its own.
    monkeypatch.chdir(LAYERS.parent)
    model = {**MODEL, "layers": [
        {"type": "affine", "units": 8},
        {"type": "python", "module": "lamina_test_layers", "class": "Swish", "path": "python_layers", "beta": 1.5},
        {"type": "python", "module": "lamina_test_layers", "class": "Scale", "path": "python_layers"},
        {"type": "affine", "units": 10}]}
    run = lamina.train(model, out=tmp_path / "py", threads=1)
    assert run.status == "finished"
    assert np.all(run.metrics["val_accuracy"] > 0.2)
    w = lamina.load_run(run.folder).weights()
    assert w["layers.2.b"].shape == (8,) and np.all(w["layers.2.b"] != 0)
    (tmp_path / "m.yaml").write_text((run.folder / "model.yaml").read_text())
    cli("train", tmp_path / "m.yaml", "--threads", 1, "--no-progress", "--out", tmp_path / "cli")
    assert (tmp_path / "cli" / "model.safetensors").read_bytes() == (run.folder / "model.safetensors").read_bytes()
    # and predicts here, with the class running in this interpreter
    x = np.random.default_rng(2).integers(0, 256, size=(16, 784)).astype(np.float32)
    p = lamina.load_run(run.folder).predict(x)
    assert p.shape == (16, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
