"""A synthetic class of submissions for `gradviz grade`, written the way students write them.

Every student hands in layers.py (a Dense layer in the cache-free course style, forward(x) /
backward(dZ, x) -> (dx, [dW, db]), an MSE loss class and a ReLU layer) and ops.py (a custom
gradviz Function, Sigmoid, used by a one-neuron model). Each submission is the correct code
with one planted bug or one misbehaviour. Shared by tests/test_grade.py and benchmarks/bench_grade.py.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

LAYERS = textwrap.dedent('''
    import numpy as np


    class Dense:
        """A fully connected layer: Z = x @ W + b."""

        def __init__(self):
            rng = np.random.default_rng(0)
            self.W = rng.normal(size=(3, 2))
            self.b = np.zeros(2)

        def forward(self, x):
            return x @ self.W + self.b

        def backward(self, dZ, x):
            dx = dZ @ self.W.T
            dW = x.T @ dZ
            db = dZ.sum(axis=0)
            return dx, [dW, db]


    class ReLU:
        def forward(self, x):
            return np.maximum(x, 0)

        def backward(self, dZ, x):
            return dZ * (x > 0)


    class MSELoss:
        def compute(self, y_hat, y):
            return np.mean((y_hat - y) ** 2)

        def backward(self, y_hat, y):
            return 2 * (y_hat - y) / y.size
''')

OPS = textwrap.dedent('''
    import numpy as np
    import sympy

    import gradviz as gv


    class Sigmoid(gv.Function):
        elementwise = True

        @staticmethod
        def forward(x):
            return 1 / (1 + np.exp(-x))

        @staticmethod
        def backward(grad, x, out):
            return (grad * out * (1 - out),)

        @staticmethod
        def symbolic(x):
            return 1 / (1 + sympy.exp(-x))


    def neuron(w=0.5, x=1.5, b=-0.2):
        return Sigmoid.apply(w * x + b)
''')

# (file, the correct line, the student's line): one planted bug each
BUGS = {
    "bob": ("layers.py", "dW = x.T @ dZ", "dW = 2 * x.T @ dZ"),
    "cara": ("layers.py", "dW = x.T @ dZ", "dW = x.T @ dZ / x.shape[0]"),
    "olga": ("layers.py", "dW = x.T @ dZ", "dW = (x.T @ dZ) / len(x)"),  # cara's mistake, written her way
    "dan": ("layers.py", "dW = x.T @ dZ", "dW = x[:4].T @ dZ[:4]"),  # only right for a batch of 4
    "nia": ("ops.py", "grad * out * (1 - out)", "grad * out"),
    "relu_bug": ("layers.py", "dZ * (x > 0)", "dZ * np.maximum(x, 0)"),
    "mse_bug": ("layers.py", "2 * (y_hat - y) / y.size", "2 * (y_hat - y)"),
}

# (file, a line of the correct code, what replaces it): one misbehaviour each
MISBEHAVIOURS = {
    "eve": ("layers.py", "dx = dZ @ self.W.T", "while True:\n                pass"),  # an endless loop
    "fay": ("layers.py", "return x @ self.W + self.b",  # a memory bomb
            "hog = []\n        while True:\n            hog.append(np.ones(10 ** 7))"),
    "gus": ("layers.py", "return x @ self.W + self.b", "import os\n        os._exit(3)"),
    "hal": ("layers.py", "return x @ self.W + self.b",  # prints without end
            "while True:\n            print('debugging forward: x =', '0.5 ' * 1000)"),
    "ivy": ("layers.py", "import numpy as np", "import numpy as np\nimport autograd_helpers"),
    "jon": ("layers.py", "def forward(self, x):", "def forward(self, x)"),
}


def write_submission(folder: Path, layers: str = LAYERS, ops: str = OPS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "layers.py").write_text(layers)
    (folder / "ops.py").write_text(ops)
    return folder


def planted(kind: str) -> dict[str, str]:
    """The files of the submission with bug or misbehaviour `kind`."""
    files = {"layers.py": LAYERS, "ops.py": OPS}
    file, old, new = {**BUGS, **MISBEHAVIOURS}[kind]
    assert old in files[file], (kind, old)
    files[file] = files[file].replace(old, new, 1)
    return files


def write_planted(folder: Path, kind: str) -> Path:
    files = planted(kind)
    return write_submission(folder, files["layers.py"], files["ops.py"])


def with_prelude(prelude: str) -> str:
    """The correct layers.py with some code run when it is imported."""
    return LAYERS.replace("import numpy as np\n", "import numpy as np\n" + textwrap.dedent(prelude), 1)


SPEC = textwrap.dedent('''
    [assignment]
    title = "Homework 2: backprop by hand"
    timeout = {timeout}
    memory = 100
    output = 1

    [[target]]
    name = "Dense"
    check = "layers.py:Dense"
    points = 3
    input-shape = "4,3"

    [[target.variant]]
    name = "a batch of 7"
    input-shape = "7,3"
    seed = 3

    [[target]]
    name = "Sigmoid"
    check = "ops.py:neuron"
    points = 2
''')

EXTRA_TARGETS = textwrap.dedent('''
    [[target]]
    name = "ReLU"
    check = "layers.py:ReLU"
    points = 1
    input-shape = "5,4"

    [[target]]
    name = "MSE"
    check = "layers.py:MSELoss"
    points = 1
    input-shape = "8,1"
''')


def write_spec(path: Path, timeout: float = 3, four_targets: bool = False) -> Path:
    path.write_text(SPEC.format(timeout=timeout) + (EXTRA_TARGETS if four_targets else ""))
    return path
