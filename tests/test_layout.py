"""The package's layout holds (issue #28): no import cycle, no module over 400 lines, imports point down.

Every module of gradviz is parsed with `ast`, never imported, so an import
inside a function or under TYPE_CHECKING counts like any other: a deferred
import still ties two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gradviz"
MAX_LINES = 400

# No module is exempt: a module here could exceed MAX_LINES and hide a cycle through it. Keep it empty.
EXEMPT: set[str] = set()

# The import direction (DESIGN.md), bottom first: a module imports only its own layer or the ones below.
LAYERS = (
    ("op table and graph", ("gradviz.errors", "gradviz.hooks", "gradviz.ops", "gradviz.graph", "gradviz.progress")),
    ("engines", ("gradviz.value", "gradviz.value_backward", "gradviz.tensor", "gradviz.tensor_backward",
                 "gradviz.function", "gradviz.functional", "gradviz.nn", "gradviz.optim", "gradviz.expr", "gradviz.spec")),
    ("checking", ("gradviz.checking",)),
    ("rendering", ("gradviz.rendering",)),
    ("command line and front ends", ("gradviz", "gradviz.__main__", "gradviz.cli", "gradviz.grade",
                                     "gradviz.targets", "gradviz.torch", "gradviz.testing",
                                     "gradviz.pytest_plugin", "gradviz.selftest")),
)
# The report model and its text and HTML views: they read findings, never the checks that make reports.
REPORT = {"gradviz.checking.report", "gradviz.checking.status", "gradviz.checking.text", "gradviz.checking.html",
          "gradviz.checking.prose"}  # prose: the terminal text's wrapping, part of the text view
REPORT_MAY_IMPORT = REPORT | {"gradviz.checking.diagnosis.finding"}


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str, known: dict) -> str | None:
    """The gradviz module `name` is, or is inside of (`gradviz.ops.registry.OpDef` -> gradviz.ops.registry)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str, path: Path, known: dict) -> set[str]:
    """The gradviz modules `module` imports anywhere in its text: top level, in functions, under TYPE_CHECKING."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            # `from pkg import name`: name is a submodule when one of that name exists, else an attribute of pkg
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found.update(t for t in (_resolve(t, known) for t in targets if t.startswith("gradviz")) if t)
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One import cycle per strongly connected component, as a path that returns to its start (iterative Tarjan)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(_a_cycle_in(component, graph))
    return components


def _a_cycle_in(component: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest path from the component's first module back to itself (breadth first)."""
    start = min(component)
    came_from = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while came_from[path[-1]] is not None:
                        path.append(came_from[path[-1]])
                    return path[::-1] + [start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in {component}")  # pragma: no cover - a component always has one


def layer_of(module: str) -> int | None:
    best, level = -1, None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), rank
    return level


# -- the guards ---------------------------------------------------------------------------


def test_no_import_cycles():
    graph = {m: targets - EXEMPT for m, targets in import_graph().items() if m not in EXEMPT}
    found = [" -> ".join(cycle) for cycle in cycles(graph)]
    assert not found, "import cycles (deferred imports count):\n  " + "\n  ".join(found)


def test_no_module_over_400_lines():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    too_long = [f"{name} ({count} lines)" for name, count in sorted(sizes.items())
                if count > MAX_LINES and name not in EXEMPT]
    assert not too_long, f"modules over {MAX_LINES} lines: split them by job:\n  " + "\n  ".join(too_long)


def test_every_module_has_a_layer():
    unplaced = sorted(m for m in modules() if layer_of(m) is None)
    assert not unplaced, f"place these modules in a layer of tests/test_layout.py LAYERS: {unplaced}"


def test_imports_point_down_the_layers():
    upward = []
    for module, targets in sorted(import_graph().items()):
        for target in sorted(targets):
            if layer_of(target) > layer_of(module):
                upward.append(f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
                              f"({LAYERS[layer_of(target)][0]})")
    assert not upward, "imports that point up the layers:\n  " + "\n  ".join(upward)


def test_checking_never_imports_rendering():
    graph = import_graph()
    found = [f"{m} imports {t}" for m in sorted(graph) if m.startswith("gradviz.checking")
             for t in sorted(graph[m]) if t.startswith("gradviz.rendering")]
    assert not found, found


def test_the_report_model_never_imports_the_checks_that_build_reports():
    graph = import_graph()
    found = [f"{m} imports {t}" for m in sorted(REPORT) for t in sorted(graph[m])
             if t.startswith("gradviz.checking") and t not in REPORT_MAY_IMPORT]
    assert not found, found


# -- the analysis itself -------------------------------------------------------------------


def test_deferred_and_type_checking_imports_are_edges():
    graph = import_graph()
    assert "gradviz.grade.cli" in graph["gradviz.cli.commands"]  # imported inside build_parser()
    assert "gradviz.ops.grads" in graph["gradviz.value_backward"]  # imported inside a function
    assert "gradviz.checking.status" in graph["gradviz.checking.text"]
    assert "gradviz.torch.targets" in graph["gradviz.targets.running"]  # `from ..torch import targets`


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c", "a"]]),
    ({"a": {"b"}, "b": set()}, []),
    ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}, [["a", "b", "a"], ["c", "d", "c"]]),
])
def test_the_cycle_finder_names_each_cycle(graph, expected):
    assert sorted(cycles(graph)) == expected
