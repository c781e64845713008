"""Stepping through backward(), one SVG frame per step, in a page or inline in a notebook.

Frame 0 is the graph before backward (every gradient zero but the output's
seed); frame k shows the gradients after backpropagating through the k-th op
in backward order: that op is outlined, the gradients it changed are marked,
and the caption above the graph writes out the arithmetic (`b.grad += 0.5 × 1 = 0.5`). Prev /
next / play buttons and the arrow keys move between frames. No network: the
SVGs are inlined.
"""

from __future__ import annotations

import html
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GradvizError
from ..graph import topological_order
from . import foreign
from . import labels as L
from .backends import render_source
from .dot import draw
from .names import node_name, op_text
from .svg import inline_svg, with_legible_height

MAX_FRAMES = 200
_ids = itertools.count(1)


@dataclass
class Step:
    """One backward step: the op node processed (None before backward), every gradient after it,
    and one line of arithmetic per input whose gradient it changed."""

    node: Any
    grads: dict
    changed: list
    arithmetic: list[str]


def backward_steps(root: Any, precision: int = 4) -> list[Step]:
    """The gradients before and after each backward step, replayed with each op's own rule."""
    from ..checking.local import node_vjp

    if getattr(root, "foreign", False):
        return _foreign_steps(root, precision)
    order = topological_order(root)
    index = {id(n): i for i, n in enumerate(order)}
    grads = {id(n): np.zeros(np.shape(n.data)) for n in order}
    grads[id(root)] = np.ones(np.shape(root.data))
    steps = [Step(None, dict(grads), [root], [f"{node_name(root, index[id(root)], output=True)}.grad = 1 (the seed)"])]
    for node in reversed(order):
        if node._op is None:
            continue
        inputs = [p.data for p in node._parents]
        scalar = not np.ndim(node.data)
        upstream = float(grads[id(node)]) if scalar else grads[id(node)]
        contributions = node_vjp(node._op, inputs, node._attrs, node.data, upstream)
        local = node_vjp(node._op, inputs, node._attrs, node.data, 1.0) if scalar else [None] * len(inputs)
        changed, lines = [], []
        for parent, contribution, slope in zip(node._parents, contributions, local):
            if contribution is None or not parent.requires_grad:
                continue
            grads[id(parent)] = grads[id(parent)] + contribution
            changed.append(parent)
            lines.append(_arithmetic(node_name(parent, index[id(parent)]), upstream, slope,
                                     grads[id(parent)], precision))
        steps.append(Step(node, dict(grads), changed, lines))
    return steps


def _foreign_steps(root: Any, precision: int) -> list[Step]:
    """A student's engine: their own per-node rules, called one at a time."""
    order = topological_order(root)
    index = {id(n): i for i, n in enumerate(order)}
    steps = []
    for node, grads in foreign.backward_steps(root):
        if node is None:
            steps.append(Step(None, grads, [root], [f"{node_name(root, index[id(root)], output=True)}.grad = 1 (the seed)"]))
            continue
        before = steps[-1].grads
        changed = [p for p in node._parents if grads[id(p)] != before[id(p)]]
        lines = [f"{node_name(p, index[id(p)])}.grad: {L.number(before[id(p)], precision)} -> "
                 f"{L.number(grads[id(p)], precision)}" for p in changed]
        steps.append(Step(node, grads, changed, lines))
    return steps


def _arithmetic(name: str, upstream, slope, total, precision: int) -> str:
    if slope is None:  # arrays: the sum is elementwise, say how big it is
        return f"{name}.grad += upstream gradient through the rule (|{name}.grad| = " \
               f"{L.number(np.linalg.norm(total), precision)})"
    n = lambda v: L.number(float(v), precision)  # noqa: E731
    return f"{name}.grad += {n(upstream)} × {n(slope)} = {n(total)}"


class Animation:
    """The step-through widget: displays inline in Jupyter, `.save(path)` writes a standalone page."""

    def __init__(self, frames: list[tuple[str, str]]):
        self.frames = frames

    def html(self) -> str:
        """An embeddable <div> with its own controls and script (several can share a page)."""
        ident = f"gv-steps-{next(_ids)}"
        blocks = "\n".join(  # the arithmetic above its graph: on screen whatever the graph's height
            f'<figure class="gv-frame" data-step="{k}"{"" if k == 0 else " hidden"}>'
            f'<figcaption>{caption}</figcaption>{with_legible_height(svg)}</figure>'
            for k, (caption, svg) in enumerate(self.frames)
        )
        return _WIDGET.format(ident=ident, last=len(self.frames) - 1, blocks=blocks)

    def _repr_html_(self) -> str:
        return self.html()

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        if not path.parent.exists():
            raise GradvizError(f"cannot write {path}: the folder {path.parent} does not exist")
        path.write_text(_PAGE.format(widget=self.html()), encoding="utf-8")
        return path


def animate_backward(root: Any, path: str | Path | None = None, *, renderer: str | None = None,
                     precision: int = 4, **draw_options: Any) -> Animation | Path:
    """Step through backward() for the graph behind `root` (a scalar output).

    Without `path` the result displays inline in Jupyter (and `.save(path)`
    writes it); with `path` the standalone page is written there and its
    Path returned. draw_options (show_order, show_formulas, rankdir, ...)
    are passed to every frame's drawing.
    """
    if path is not None and not Path(path).parent.exists():
        raise GradvizError(f"cannot write {path}: the folder {Path(path).parent} does not exist")
    root = foreign.adapt_root(root)
    if np.size(root.data) != 1:
        raise GradvizError("animate_backward needs a scalar output (reduce it with .sum() or .mean() first)")
    steps = backward_steps(root, precision)
    if len(steps) > MAX_FRAMES:
        raise GradvizError(f"the graph has {len(steps) - 1} backward steps; animations are limited to "
                           f"{MAX_FRAMES - 1} (animate a smaller graph)")
    order = [n for n in topological_order(root) if n.requires_grad or n._op is not None]  # not constants (`x * 2`)
    saved = [n.grad for n in order]
    frames = []
    try:
        for k, step in enumerate(steps):
            for n in order:
                n.grad = step.grads[id(n)] if np.ndim(n.data) else float(step.grads[id(n)])
            drawing = draw(root, highlight=step.node, changed=step.changed, warn_no_grad=False, legend=False,
                           precision=precision, **draw_options)
            svg = inline_svg(render_source(drawing.source, "svg", renderer).decode())
            frames.append((_caption(k, step), svg))
    finally:
        for n, g in zip(order, saved):
            n.grad = g
    animation = Animation(frames)
    return animation if path is None else animation.save(path)


def _caption(k: int, step: Step) -> str:
    if step.node is None:
        head = "before backward: the output's gradient is seeded with 1"
    else:
        head = (f"step {k}: backprop through {op_text(step.node)}" + (f" ({step.node.label})" if step.node.label else "")
                + ", adding to its inputs' gradients (marked)")
    lines = "".join(f"<br><code>{html.escape(line)}</code>" for line in step.arithmetic)
    return html.escape(head) + lines


_WIDGET = """<div class="gv-steps" id="{ident}" tabindex="0" data-current="0">
<style>
 /* The arithmetic sits above the graph; the graph shrinks to the screen's height less the controls and a
    three-line caption (12em), so a step and its graph are seen together on a 1280x800 screen, but never below
    the height that keeps its text at 10 CSS px (--gv-legible-height, set on each frame's SVG). */
 #{ident} .gv-controls button {{ font-size: 1em; margin-right: .4em; }}
 #{ident} .gv-frame {{ margin: .6em 0; display: block; }} #{ident} .gv-frame[hidden] {{ display: none !important; }}
 #{ident} .gv-frame svg {{ height: auto; max-height: max(calc(100vh - 12em), var(--gv-legible-height, 0px)); }}
 #{ident} figcaption {{ color: #333; margin-bottom: .4em; line-height: 1.5; min-height: 4.5em; }}
</style>
<div class="gv-controls">
 <button class="gv-prev">&#9664; prev</button><button class="gv-play">&#9654; play</button><button class="gv-next">next &#9654;</button>
 <span class="gv-counter">step 0 of {last}</span>
</div>
{blocks}
<script>
(function (root) {{
  var frames = root.querySelectorAll('.gv-frame'), current = 0, timer = null;
  var play = root.querySelector('.gv-play');
  function show(k) {{
    current = Math.max(0, Math.min(frames.length - 1, k));
    frames.forEach(function (f, i) {{ f.hidden = i !== current; }});
    root.querySelector('.gv-counter').textContent = 'step ' + current + ' of ' + (frames.length - 1);
    root.setAttribute('data-current', current);
  }}
  function stop() {{ clearInterval(timer); timer = null; play.innerHTML = '&#9654; play'; }}
  root.querySelector('.gv-prev').onclick = function () {{ stop(); show(current - 1); }};
  root.querySelector('.gv-next').onclick = function () {{ stop(); show(current + 1); }};
  play.onclick = function () {{
    if (timer) {{ stop(); return; }}
    if (current === frames.length - 1) show(0);
    play.innerHTML = '&#10074;&#10074; pause';
    timer = setInterval(function () {{ if (current >= frames.length - 1) stop(); else show(current + 1); }}, 1200);
  }};
  root.gvKey = function (e) {{
    if (e.key === 'ArrowRight') {{ stop(); show(current + 1); }}
    if (e.key === 'ArrowLeft') {{ stop(); show(current - 1); }}
  }};
  root.addEventListener('keydown', root.gvKey);
  show(0);
}})(document.getElementById('{ident}'));
</script>
</div>"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gradviz: backward, step by step</title>
<style> body {{ font-family: Helvetica, Arial, sans-serif; margin: 1em; }} </style></head>
<body>
{widget}
<script>
// On its own page the arrow keys work without focusing the widget first.
document.addEventListener('keydown', function (e) {{
  var root = document.querySelector('.gv-steps');
  if (e.target === root) return;
  root.gvKey(e);
}});
</script>
</body></html>
"""
