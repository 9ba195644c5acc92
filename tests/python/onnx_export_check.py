#!/usr/bin/python3
"""`lamina export` checked by an independent runtime. For each model file: a short training
(1 epoch on a few hundred Fashion-MNIST images: the weights, BatchNorm's running statistics
included, are what any training leaves), `lamina export`, then
  - onnx.checker.check_model (full check, Debian's python3-onnx),
  - OpenCV's DNN module (cv2.dnn.readNetFromONNX, Debian's python3-opencv) runs the file on
    test images and gives the same class probabilities as `lamina predict` on the same images:
    max |difference| <= 1e-4 (predict prints 6 decimals).
Usage: onnx_export_check.py LAMINA MODEL.yaml... [--plugin-dir DIR] [--samples N] [--docs docs/exporting.md]
With --docs, the NumPy reader of docs/exporting.md is run on the first model's weights too.
Prints the largest difference per model (the figures of docs/exporting.md)."""
import argparse
import gzip
import pathlib
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import onnx
import onnx.numpy_helper

parser = argparse.ArgumentParser()
parser.add_argument("lamina")
parser.add_argument("models", nargs="+")
parser.add_argument("--plugin-dir", action="append", default=[])
parser.add_argument("--samples", type=int, default=200)
parser.add_argument("--train-limit", type=int, default=300)
parser.add_argument("--docs", help="docs/exporting.md: run its NumPy reader on the first model (models/mlp.yaml)")
args = parser.parse_args()
plugin_flags = [f for d in args.plugin_dir for f in ("--plugin-dir", d)]


def run(*cmd):
    r = subprocess.run([args.lamina, *cmd, *plugin_flags], capture_output=True, text=True)
    assert r.returncode == 0, f"lamina {' '.join(cmd)}: exit {r.returncode}\n{r.stdout}{r.stderr}"
    return r.stdout


with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)[: args.samples]

def numpy_gru_graph(proto, batch):
    """The graph of tests/python/export-gru.yaml (Transpose, GRU, Gather, Reshape, Gemm, Softmax)
    evaluated from ONNX's operator definitions, which OpenCV 4.6 cannot run for GRU: gates in
    the order z, r, h, linear_before_reset = 1:  h' = (1 - z) n + z h,
    z = s(x Wz + h Rz + Wbz + Rbz), r likewise, n = tanh(x Wh + Wbh + r (h Rh + Rbh))."""
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["Reshape", "Transpose", "GRU", "Gather", "Reshape", "Gemm", "Softmax"], ops
    init = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    gru = proto.graph.node[2]
    assert {a.name: a.i for a in gru.attribute}["linear_before_reset"] == 1
    W, R, B = (init[name][0] for name in gru.input[1:4])
    hidden = R.shape[1]
    Wz, Wr, Wh = np.split(W, 3)
    Rz, Rr, Rh = np.split(R, 3)
    Wbz, Wbr, Wbh, Rbz, Rbr, Rbh = np.split(B, 6)
    x = batch.reshape(len(batch), 28, 28).astype(np.float64)
    h = np.zeros((len(batch), hidden))
    sig = lambda v: 1 / (1 + np.exp(-v))
    for t in range(x.shape[1]):
        z = sig(x[:, t] @ Wz.T + h @ Rz.T + Wbz + Rbz)
        r = sig(x[:, t] @ Wr.T + h @ Rr.T + Wbr + Rbr)
        n = np.tanh(x[:, t] @ Wh.T + Wbh + r * (h @ Rh.T + Rbh))
        h = (1 - z) * n + z * h
    gemm = proto.graph.node[5]
    assert {a.name: a.i for a in gemm.attribute}.get("transB") == 1
    scores = h @ init[gemm.input[1]].T + init[gemm.input[2]]
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def run_one(net, batch):
    net.setInput(batch)
    return net.forward("probabilities").reshape(len(batch), -1)


worst = {}
predicted = {}
with tempfile.TemporaryDirectory() as d:
    d = pathlib.Path(d)
    np.save(d / "x.npy", images)
    for model in args.models:
        name = pathlib.Path(model).stem
        out = d / name
        run("train", model, "--out", str(out), "--threads", "2", "--set", "train.epochs=1",
            "--set", f"data.train_limit={args.train_limit}", "--set", "data.test_limit=100")
        printed = run("export", str(out), "--out", str(d / f"{name}.onnx"))
        assert "wrote" in printed, printed
        proto = onnx.load(str(d / f"{name}.onnx"))
        onnx.checker.check_model(proto, full_check=True)
        meta = {p.key: p.value for p in proto.metadata_props}
        assert [i.name for i in proto.graph.input] == ["input"], proto.graph.input
        assert [o.name for o in proto.graph.output] == ["probabilities"], proto.graph.output
        scale = np.float32(float(meta["lamina.input_scale"]))
        assert abs(scale - np.float32(1 / 255)) < 1e-9, scale

        run("predict", str(out), "--input", str(d / "x.npy"), "--out", str(d / f"{name}.csv"))
        lines = (d / f"{name}.csv").read_text().splitlines()
        assert lines[0].startswith("row,class,p0"), lines[0]
        expected = np.array([[float(v) for v in line.split(",")[2:]] for line in lines[1:]])
        assert expected.shape == (args.samples, int(meta["lamina.classes"])), expected.shape

        # The input as Lamina feeds it: the bytes as float32 times the float32 scale.
        batch = images.astype(np.float32)[:, None, :, :] * scale
        onnx_path = d / f"{name}.onnx"
        runner = "OpenCV"
        if any(n.op_type == "GRU" for n in proto.graph.node):
            got, runner = numpy_gru_graph(proto, batch), "NumPy's GRU"
        elif any(n.op_type == "LSTM" for n in proto.graph.node):
            net = cv2.dnn.readNetFromONNX(str(onnx_path))
            # OpenCV 4.6 reads an LSTM node with its batch fixed at 1 (its importer reshapes Y
            # for the batch it sees at import, 1 for the symbolic N): one image at a time.
            got = np.concatenate([run_one(net, batch[i:i + 1]) for i in range(args.samples)])
        else:
            got = run_one(cv2.dnn.readNetFromONNX(str(onnx_path)), batch)
        assert got.shape == expected.shape, (got.shape, expected.shape)
        diff = float(np.abs(got - expected).max())
        assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5), got.sum(axis=1)
        # Not a constant model: the probabilities vary from image to image.
        assert float(expected.std(axis=0).max()) > 1e-3, expected.std(axis=0)
        assert diff <= 1e-4, f"{model}: {runner}'s probabilities differ from lamina predict's by {diff:.3g}"
        worst[model] = diff
        predicted[model] = expected
        print(f"{model}: {len(proto.graph.node)} ONNX nodes, max |{runner} - lamina predict| = {diff:.2e} "
              f"over {args.samples} images x {expected.shape[1]} classes; argmax agrees on "
              f"{int((got.argmax(1) == expected.argmax(1)).sum())}/{args.samples}")

    if args.docs:
        # The page's NumPy code, as a reader would paste it, gives predict's probabilities.
        text = pathlib.Path(args.docs).read_text()
        block = next(b.split("```")[0] for b in text.split("```python\n") if "def load_safetensors" in b)
        first = args.models[0]
        scope = {"run_dir": str(d / pathlib.Path(first).stem), "images": images}
        exec(compile(block, args.docs, "exec"), scope)
        diff = float(np.abs(scope["probabilities"] - predicted[first]).max())
        assert diff <= 1e-4, f"{args.docs}: the NumPy reader's probabilities differ from predict's by {diff}"
        print(f"{args.docs}: the NumPy reader on {first}: max |NumPy - lamina predict| = {diff:.2e}")

    # --best: the weights a keep_best callback kept, not the last epoch's.
    model = args.models[0]
    run("train", model, "--out", str(d / "best"), "--set", "train.epochs=3", "--set",
        f"data.train_limit={args.train_limit}", "--set", "data.test_limit=100", "--set",
        "data.validation_split=0.5", "--set", "train.callbacks=[{type: keep_best, metric: val_accuracy}]")
    assert (d / "best" / "model-best.safetensors").exists()
    run("export", str(d / "best"), "--best")
    proto = onnx.load(str(d / "best" / "model-best.onnx"))
    assert {p.key: p.value for p in proto.metadata_props}["lamina.weights"] == "model-best.safetensors"
    run("predict", str(d / "best"), "--best", "--input", str(d / "x.npy"), "--out", str(d / "best.csv"))
    expected = np.array([[float(v) for v in line.split(",")[2:]]
                         for line in (d / "best.csv").read_text().splitlines()[1:]])
    net = cv2.dnn.readNetFromONNX(str(d / "best" / "model-best.onnx"))
    net.setInput(images.astype(np.float32)[:, None, :, :] * np.float32(1 / 255))
    diff = float(np.abs(net.forward("probabilities").reshape(args.samples, -1) - expected).max())
    assert diff <= 1e-4, f"--best: {diff}"
    print(f"{model} --best: max |OpenCV - lamina predict --best| = {diff:.2e}")
print("ok")
