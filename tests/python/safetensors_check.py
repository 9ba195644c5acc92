#!/usr/bin/env python3
"""Reads a run's model.safetensors with the standard library alone (the safetensors format:
8-byte little-endian header length, JSON header, raw little-endian data) and checks every
tensor's bytes against `lamina dump`, proving the file is the standard format.

usage: safetensors_check.py LAMINA_BINARY MODELS_DIR
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

lamina, models = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(ok, what):
    global passed, failed
    print(("PASS " if ok else "FAIL ") + what)
    if ok:
        passed += 1
    else:
        failed += 1


with tempfile.TemporaryDirectory() as tmp:
    run = os.path.join(tmp, "run")
    subprocess.run([lamina, "train", os.path.join(models, "mlp.yaml"), "--set", "data.train_limit=500",
                    "--set", "data.test_limit=100", "--set", "layers.1={type: batchnorm}", "--epochs", "1",
                    "--no-progress", "--out", run], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(run, "model.safetensors"), "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    check(header["__metadata__"]["lamina_version"] != "", "metadata names the Lamina version")
    names = [k for k in header if k != "__metadata__"]
    check("layers.1.running_mean" in names and "layers.0.W" in names, "parameters and state by stable names")
    for name in names:
        info = header[name]
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        values = struct.unpack("<%df" % count, data[begin:end])
        dump = subprocess.run([lamina, "dump", run, name], check=True, capture_output=True, text=True).stdout.split()
        same = len(dump) == count and all(struct.unpack("<f", struct.pack("<f", float(d)))[0] == v
                                          for d, v in zip(dump, values))
        check(info["dtype"] == "F32" and same, "%s %s equals lamina dump" % (name, info["shape"]))

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
