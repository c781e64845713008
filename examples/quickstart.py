"""The Quickstart's main job: record a tiny graph, backpropagate, draw it, check the gradients."""

from pathlib import Path

import gradviz as gv

# A neuron: tanh(w1*x1 + w2*x2 + b), recorded as you compute it.
x1, x2 = gv.Value(2.0, label="x1"), gv.Value(0.0, label="x2")
w1, w2 = gv.Value(-3.0, label="w1"), gv.Value(1.0, label="w2")
b = gv.Value(6.8813735870195432, label="b")
with gv.scope("neuron"):
    out = (x1 * w1 + x2 * w2 + b).tanh()
out.label = "out"
out.backward()

print(f"out = {out.data:.4f}")
for leaf in (x1, w1, x2, w2, b):
    print(f"  d out / d {leaf.label:<2} = {leaf.grad:+.4f}")

# Draw it: values, gradients, backward order and each edge's local derivative.
folder = Path("out")
folder.mkdir(exist_ok=True)
image = gv.render(out, folder / "neuron.svg", show_order=True, show_formulas=True)
print(f"\ngraph drawn to {image}")

# Check every gradient against finite differences and SymPy, and draw the verdict.
report = gv.check(lambda x1, w1, x2, w2, b: (x1 * w1 + x2 * w2 + b).tanh(), x1, w1, x2, w2, b)
print()
print(report)
print(f"\nverdict drawn to {gv.render(report.root, folder / 'neuron_checked.svg', report=report)}")
