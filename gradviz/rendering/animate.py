"""A self-contained HTML page that steps through backward(), one SVG frame per step.

Frame 0 is the graph before backward (every gradient zero but the output's
seed); frame k shows the gradients after backpropagating through the k-th op
in backward order, with that op outlined. Prev / next / play buttons and the
arrow keys move between frames. No network: the SVGs are inlined.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GradvizError
from ..graph import topological_order
from .backends import render_source
from .dot import draw, op_text

MAX_FRAMES = 200


def backward_steps(root: Any) -> list[tuple[Any, dict]]:
    """(node just processed or None, gradient of every node) before and after each backward step.

    Replays backward with each op's own rule, the same rule backward() uses.
    """
    from ..checking.local import node_vjp

    order = topological_order(root)
    grads = {id(n): np.zeros(np.shape(n.data)) for n in order}
    grads[id(root)] = np.ones(np.shape(root.data))
    steps = [(None, dict(grads))]
    for node in reversed(order):
        if node._op is None:
            continue
        inputs = [p.data for p in node._parents]
        g = grads[id(node)] if np.ndim(node.data) else float(grads[id(node)])
        for parent, contribution in zip(node._parents, node_vjp(node._op, inputs, node._attrs, node.data, g)):
            if contribution is not None and parent.requires_grad:
                grads[id(parent)] = grads[id(parent)] + contribution
        steps.append((node, dict(grads)))
    return steps


def animate_backward(root: Any, path: str | Path, *, renderer: str | None = None, **draw_options: Any) -> Path:
    """Write the step-through page for the graph behind `root` (a scalar output) to `path`."""
    path = Path(path)
    if not path.parent.exists():
        raise GradvizError(f"cannot write {path}: the folder {path.parent} does not exist")
    if np.size(root.data) != 1:
        raise GradvizError("animate_backward needs a scalar output (reduce it with .sum() or .mean() first)")
    steps = backward_steps(root)
    if len(steps) > MAX_FRAMES:
        raise GradvizError(f"the graph has {len(steps) - 1} backward steps; animations are limited to "
                           f"{MAX_FRAMES - 1} (animate a smaller graph)")
    order = topological_order(root)
    saved = [n.grad for n in order]
    frames = []
    try:
        for k, (node, grads) in enumerate(steps):
            for n in order:
                n.grad = grads[id(n)] if np.ndim(n.data) else float(grads[id(n)])
            drawing = draw(root, highlight=node, warn_no_grad=False, legend=False, **draw_options)
            svg = render_source(drawing.source, "svg", renderer).decode()
            svg = svg[svg.index("<svg"):]  # drop the XML prologue so it can be inlined
            caption = ("before backward: the output's gradient is seeded with 1" if node is None else
                       f"step {k}: backprop through {op_text(node)}"
                       + (f" ({node.label})" if node.label else "") + ", adding to its inputs' gradients")
            frames.append((caption, svg))
    finally:
        for n, g in zip(order, saved):
            n.grad = g
    path.write_text(_page(frames), encoding="utf-8")
    return path


def _page(frames: list[tuple[str, str]]) -> str:
    blocks = "\n".join(
        f'<figure class="frame" data-step="{k}"{"" if k == 0 else " hidden"}>{svg}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for k, (caption, svg) in enumerate(frames)
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gradviz: backward, step by step</title>
<style>
 body {{ font-family: Helvetica, Arial, sans-serif; margin: 1em; }}
 .controls button {{ font-size: 1em; margin-right: .4em; }}
 figure {{ margin: 1em 0; }} figure svg {{ max-width: 100%; height: auto; }}
 figcaption {{ color: #333; margin-top: .5em; }}
</style></head>
<body>
<div class="controls">
 <button id="prev">&#9664; prev</button><button id="play">&#9654; play</button><button id="next">next &#9654;</button>
 <span id="counter">step 0 of {len(frames) - 1}</span>
</div>
{blocks}
<script>
(function () {{
  var frames = document.querySelectorAll('.frame');
  var current = 0, timer = null;
  function show(k) {{
    current = Math.max(0, Math.min(frames.length - 1, k));
    frames.forEach(function (f, i) {{ f.hidden = i !== current; }});
    document.getElementById('counter').textContent = 'step ' + current + ' of ' + (frames.length - 1);
    document.body.setAttribute('data-current', current);
  }}
  function stop() {{ clearInterval(timer); timer = null; document.getElementById('play').innerHTML = '&#9654; play'; }}
  document.getElementById('prev').onclick = function () {{ stop(); show(current - 1); }};
  document.getElementById('next').onclick = function () {{ stop(); show(current + 1); }};
  document.getElementById('play').onclick = function () {{
    if (timer) {{ stop(); return; }}
    if (current === frames.length - 1) show(0);
    this.innerHTML = '&#10074;&#10074; pause';
    timer = setInterval(function () {{ if (current >= frames.length - 1) stop(); else show(current + 1); }}, 900);
  }};
  document.addEventListener('keydown', function (e) {{
    if (e.key === 'ArrowRight') {{ stop(); show(current + 1); }}
    if (e.key === 'ArrowLeft') {{ stop(); show(current - 1); }}
  }});
  show(0);
}})();
</script>
</body></html>
"""
