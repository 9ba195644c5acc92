"""Swish (Ramachandran, Zoph & Le 2017), y = x * sigmoid(beta * x), as a Lamina layer written in
Python: the class `type: python` loads (docs/python.md, "Layers in Python"). Its C++ port is
examples/plugins/swish."""
import numpy as np


class Swish:
    def __init__(self, beta=1.0):  # the layer's own YAML keys: {type: python, ..., beta: 1.5}
        self.beta = float(beta)

    def forward(self, x, train):  # x: a batch, N x the sample's shape, float32
        self.x = x
        self.s = 1.0 / (1.0 + np.exp(-self.beta * x))
        return x * self.s

    def backward(self, dy):  # dL/dy -> dL/dx
        s = self.s
        return dy * (s + self.beta * self.x * s * (1.0 - s))
