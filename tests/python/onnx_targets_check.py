#!/usr/bin/python3
"""`lamina export` for targets other than a class, checked by OpenCV's DNN module as
onnx_export_check.py checks classifiers: a regression MLP (output `outputs`, the scores as they
are) and a multi-label MLP (output `probabilities`, a sigmoid per label), each trained briefly
on a seeded CSV, give what `lamina predict` gives on the same rows to 1e-4 (predict prints 6
decimals), and onnx.checker accepts the files.
Usage: onnx_targets_check.py LAMINA"""
import pathlib
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import onnx

lamina = sys.argv[1]


def run(*cmd):
    r = subprocess.run([lamina, *cmd], capture_output=True, text=True)
    assert r.returncode == 0, f"lamina {' '.join(cmd)}: exit {r.returncode}\n{r.stdout}{r.stderr}"
    return r.stdout


rng = np.random.default_rng(7)
x = rng.normal(size=(300, 4)).astype(np.float32)
tasks = {
    # Two outputs, one of them nonlinear: the hidden layer's ReLU matters.
    "regression": ("outputs", "y", np.stack([2 * x[:, 0] - x[:, 1], np.abs(x[:, 2])], axis=1), "mse"),
    "multilabel": ("probabilities", "p", (np.stack([x[:, 0] > 0, x[:, 1] * x[:, 3] > 0, x[:, 2] > 1], axis=1))
                   .astype(np.float32), "bce_with_logits"),
}
with tempfile.TemporaryDirectory() as d:
    d = pathlib.Path(d)
    features = ",".join(f"x{j}" for j in range(x.shape[1]))
    np.savetxt(d / "x.csv", x[:50], delimiter=",", fmt="%.6g")
    rows = np.loadtxt(d / "x.csv", delimiter=",", dtype=np.float32)  # what predict reads
    for task, (output, prefix, y, loss) in tasks.items():
        names = [f"t{k}" for k in range(y.shape[1])]
        table = np.concatenate([y, x], axis=1)
        header = ",".join(names) + "," + features
        np.savetxt(d / f"{task}.csv", table, delimiter=",", fmt="%.6g", header=header, comments="")
        (d / f"{task}.yaml").write_text(
            f"data: {{source: csv, train: {task}.csv, test: {task}.csv, task: {task}, "
            f"target_columns: [{', '.join(names)}]}}\n"
            f"layers: [{{type: affine, units: 16}}, {{type: relu}}, {{type: affine, units: {y.shape[1]}}}]\n"
            f"loss: {loss}\noptimizer: {{type: sgd, lr: 0.05}}\ntrain: {{epochs: 5, batch_size: 20}}\n")
        out = d / f"{task}-run"
        run("train", str(d / f"{task}.yaml"), "--no-progress", "--out", str(out))
        assert "wrote" in run("export", str(out), "--out", str(d / f"{task}.onnx"))
        proto = onnx.load(str(d / f"{task}.onnx"))
        onnx.checker.check_model(proto, full_check=True)
        assert [o.name for o in proto.graph.output] == [output], proto.graph.output
        meta = {p.key: p.value for p in proto.metadata_props}
        assert ("lamina.classes" in meta) == (task == "multilabel"), meta

        run("predict", str(out), "--input", str(d / "x.csv"), "--out", str(d / f"{task}-p.csv"))
        lines = (d / f"{task}-p.csv").read_text().splitlines()
        columns = lines[0].split(",")
        at = [i for i, c in enumerate(columns) if c[:1] == prefix and c[1:].isdigit()]
        assert len(at) == y.shape[1], lines[0]
        expected = np.array([[float(line.split(",")[i]) for i in at] for line in lines[1:]])

        net = cv2.dnn.readNetFromONNX(str(d / f"{task}.onnx"))
        net.setInput(rows * np.float32(float(meta["lamina.input_scale"])))
        got = net.forward(output).reshape(len(rows), -1)
        assert got.shape == expected.shape, (got.shape, expected.shape)
        # Not a constant model: the outputs vary from row to row.
        assert float(expected.std(axis=0).min()) > 1e-3, expected.std(axis=0)
        if task == "multilabel":
            assert ((got > 0) & (got < 1)).all(), "a sigmoid's outputs lie in (0, 1)"
        diff = float(np.abs(got - expected).max())
        assert diff <= 1e-4, f"{task}: OpenCV's {output} differ from lamina predict's by {diff:.3g}"
        print(f"{task}: {len(proto.graph.node)} ONNX nodes, max |OpenCV - lamina predict| = {diff:.2e} "
              f"over {len(rows)} rows x {y.shape[1]} {output}")
