#!/usr/bin/python3
"""The benchmark's workloads in PyTorch, as a Python user would write them (Debian's
python3-torch). Prints one JSON line like torch_train.cpp.   torch_train.py w1|w2|w3|w4|w6 THREADS [SEED [EPOCHS]]"""
import gzip
import json
import sys
import time

import numpy as np
import torch
from torch import nn

DIR = "/usr/share/datasets/fashion-mnist/"


def load(prefix):
    with gzip.open(f"{DIR}{prefix}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0
    with gzip.open(f"{DIR}{prefix}-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


class LastStep(nn.Module):
    """W6: an image's 28 rows as 28 steps into nn.LSTM (PyTorch's init), the last h into Linear."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])

    def __iter__(self):  # the Linear, for the init loop below
        return iter([self.head])


def main():
    w, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    x, y = load("train")
    tx, ty = load("t10k")
    batch = 1000 if w == "w3" else 100
    epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    if w == "w6":  # bench/w6.yaml, on (N, 28, 28) sequences of rows
        x, tx = x.reshape(-1, 28, 28), tx.reshape(-1, 28, 28)
        net = LastStep()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    elif w == "w4":  # models/cnn.yaml, on (N, 1, 28, 28) images
        x, tx = x.reshape(-1, 1, 28, 28), tx.reshape(-1, 1, 28, 28)
        net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    elif w == "w2":
        net = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 100),
                            nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10))
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
    else:
        net = nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.2),
                            nn.Linear(256, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    # Lamina's `init: he`: weights normal with std sqrt(2 / fan_in), biases zero. PyTorch's default
    # (uniform, a third of that variance) leaves W2 at ~20% after one epoch of SGD 0.01.
    for m in net:
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    n = x.shape[0] // batch * batch
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(x.shape[0])
        for b in range(0, n, batch):
            idx = perm[b:b + batch]
            opt.zero_grad()
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    net.eval()
    with torch.no_grad():
        # In chunks of 1000: W4's activations for all 10,000 images at once would take a gigabyte.
        acc = sum((net(tx[b:b + 1000]).argmax(1) == ty[b:b + 1000]).sum().item() for b in range(0, len(ty), 1000)) / len(ty)
    print(json.dumps({"program": "pytorch", "workload": w, "threads": threads, "samples_per_s": round(epochs * n / seconds, 1),
                      "test_accuracy": round(acc, 4)}))


if __name__ == "__main__":
    main()
