"""The first answer comes fast: a lean `import gradviz`, and compiled SymPy derivatives cached on disk.

Each case is a fresh Python process, as a user meets gradviz; the symbolic column is compared with the
closed-form derivative of softplus (the logistic sigmoid), written here.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv

ROOT = Path(__file__).resolve().parent.parent

OP = textwrap.dedent('''
    import sys
    import numpy as np
    import gradviz as gv


    class Softplus(gv.Function):
        elementwise = True

        @staticmethod
        def forward(x):
            return np.log1p(np.exp(x))

        @staticmethod
        def backward(grad, x, out):
            return (grad / (1 + np.exp(-x)),)

        @staticmethod
        def symbolic(x):
            import sympy
            return TWIN


    x = gv.Tensor(np.array([0.3, -1.2, 2.0]), label="x")
    report = gv.check(lambda x: Softplus.apply(x).sum(), x)
    rows = sorted((row.index, row.symbolic) for row in report.rows())
    print(json.dumps({"status": report.status, "symbolic": [s for _, s in rows],
                      "sympy_imported": "sympy" in sys.modules}))
''').replace("import sys\n", "import json, sys\n", 1)


def run_op(folder: Path, env: dict, twin: str = "sympy.log(1 + sympy.exp(x))") -> dict:
    (folder / "softplus_op.py").write_text(OP.replace("TWIN", twin))
    base = {k: v for k, v in os.environ.items() if k != "GRADVIZ_CACHE_DIR"}  # where XDG_CACHE_HOME decides
    done = subprocess.run([sys.executable, "softplus_op.py"], cwd=folder, capture_output=True, text=True,
                          env={**base, "PYTHONPATH": str(ROOT), **env}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def sigmoid(values):
    import math

    return [1 / (1 + math.exp(-v)) for v in values]


@pytest.fixture
def cache_env(tmp_path):
    return {"XDG_CACHE_HOME": str(tmp_path / "xdg")}


def test_only_the_first_process_pays_for_sympy(tmp_path, cache_env):
    first = run_op(tmp_path, cache_env)
    entries = list((tmp_path / "xdg" / "gradviz" / "sympy").glob("*.json"))
    assert first["status"] == "PASS" and first["sympy_imported"] and entries
    second = run_op(tmp_path, cache_env)
    assert second["status"] == "PASS" and not second["sympy_imported"]  # compiled derivative read from disk
    assert second["symbolic"] == pytest.approx(sigmoid([0.3, -1.2, 2.0]), rel=1e-12)
    assert second["symbolic"] == first["symbolic"]


def test_an_edited_twin_is_a_new_entry_not_a_stale_one(tmp_path, cache_env):
    run_op(tmp_path, cache_env)
    folder = tmp_path / "xdg" / "gradviz" / "sympy"
    before = set(folder.glob("*.json"))
    # the same function written another way: a new definition, so a new entry, and SymPy runs again
    edited = run_op(tmp_path, cache_env, twin="sympy.log(sympy.exp(x) + 1)")
    assert edited["sympy_imported"] and set(folder.glob("*.json")) > before
    # another twin gets its own derivative, not the cached one: d/dx log(1 + e^(2x)) = 2 sigmoid(2x)
    other = run_op(tmp_path, cache_env, twin="sympy.log(1 + sympy.exp(2 * x))")
    assert other["symbolic"] == pytest.approx([2 * s for s in sigmoid([0.6, -2.4, 4.0])], rel=1e-12)


def test_a_missing_unwritable_or_damaged_cache_never_breaks_a_check(tmp_path, cache_env):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    unwritable = run_op(tmp_path, {"XDG_CACHE_HOME": str(blocker)})  # the cache folder cannot be made
    assert unwritable["status"] == "PASS"
    assert unwritable["symbolic"] == pytest.approx(sigmoid([0.3, -1.2, 2.0]), rel=1e-12)
    run_op(tmp_path, cache_env)
    for entry in (tmp_path / "xdg" / "gradviz" / "sympy").glob("*.json"):
        entry.write_text("{ damaged")
    damaged = run_op(tmp_path, cache_env)
    assert damaged["status"] == "PASS" and damaged["sympy_imported"]  # compiled again, as without a cache
    off = run_op(tmp_path, {"GRADVIZ_CACHE_DIR": ""})
    assert off["status"] == "PASS" and off["sympy_imported"]


def test_import_gradviz_loads_no_sympy_networkx_renderer_or_torch():
    code = ("import sys, gradviz as gv; heavy = ('sympy', 'networkx', 'graphviz', 'torch', 'gradviz.rendering', "
            "'gradviz.checking.pipeline'); print([m for m in heavy if m in sys.modules]); "
            "gv.Value(2.0).tanh(); print([m for m in heavy if m in sys.modules]); "
            "print(callable(gv.check) and callable(gv.draw) and gv.Report.__name__ == 'Report')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.split("\n")[:3] == ["[]", "[]", "True"], done.stdout + done.stderr


def test_gradviz_help_does_not_load_the_checker_or_sympy():
    code = ("import sys; from gradviz import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print([m for m in ('sympy', 'networkx', 'graphviz', 'gradviz.checking.pipeline') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-500:] + done.stderr


def test_twins_from_one_factory_are_told_apart():
    """sum, mean and max share one twin factory (one source): their entries must not collide."""
    from gradviz.checking import symbolic_cache
    from gradviz.ops import registry

    ops = [registry.get(name) for name in ("sum", "mean", "max")]
    prints = {symbolic_cache.twin_fingerprint(op) for op in ops}
    assert None not in prints and len(prints) == 3


class _Scaled(gv.Function):
    """x * x * k with a constant k: gv.Function wraps its twin to put k back in its place."""

    @staticmethod
    def forward(x, k):
        return x * x * k

    @staticmethod
    def backward(grad, x, k, out):
        return 2 * x * k * grad, None

    @staticmethod
    def symbolic(x, k):
        return x * x * k


def test_the_cache_key_holds_sympys_installed_version_and_each_twins_source():
    import inspect
    from importlib import metadata

    from gradviz.checking import symbolic_cache
    from gradviz.ops import all_ops

    assert symbolic_cache._sympy_version() == metadata.version("sympy")  # read without importing SymPy
    gv.check(lambda t: _Scaled.apply(t, 3.0).sum(), gv.Tensor(np.ones(3)))  # a user op whose twin gradviz wraps
    twins = [getattr(op.symbolic, "__func__", op.symbolic) for op in all_ops() if op.symbolic]
    assert any(t.__qualname__.startswith("_Scaled.") or "_Scaled" in inspect.getsource(t) for t in twins)
    assert twins and all(symbolic_cache._source(t) == inspect.getsource(t) for t in twins)
