"""Packaging: the sdist and wheel build without warnings, pass `twine check`, install, and import by path."""

import email
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """`python -m build` of this checkout: (sdist, wheel, build output)."""
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # that one makes setuptools warn
    run = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    (sdist,), (wheel,) = out.glob("*.tar.gz"), out.glob("*.whl")
    return sdist, wheel, run.stdout + run.stderr


def test_build_has_no_warnings_and_twine_check_passes(dist):
    sdist, wheel, log = dist
    warnings = [line for line in log.splitlines() if "warning" in line.lower()]
    assert warnings == [] and "no previously-included" not in log and "no files found" not in log
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)],
                           capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count("PASSED") == 2, check.stdout + check.stderr


def test_wheel_metadata_licence_classifiers_entry_points(dist):
    _, wheel, _ = dist
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_string(zf.read(info).decode())
        entry_points = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert meta["License-Expression"] == "MIT" and meta["License-File"] == "LICENSE"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "gradviz/py.typed" in names
    classifiers = meta.get_all("Classifier")
    assert "Typing :: Typed" in classifiers and "Framework :: Pytest" in classifiers
    assert not any(c.startswith("License ::") for c in classifiers)  # the SPDX expression replaces them
    assert "gradcheck" in meta["Keywords"]
    assert "[pytest11]\ngradviz = gradviz.pytest_plugin" in entry_points
    assert "gradviz = gradviz.cli:main" in entry_points


def test_sdist_ships_what_its_tests_need(dist):
    sdist, _, _ = dist
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for needed in ("LICENSE", "tests/oracles.py", "tests/golden/neuron.dot", "docs/index.md", "mkdocs.yml",
                   "examples/quickstart.py", "benchmarks/run.py", "gradviz/py.typed"):
        assert needed in names, needed
    # every file the tests, docs, examples and benchmarks have here is in it (MANIFEST.in lists them by kind)
    present = {str(p.relative_to(ROOT)) for folder in ("tests", "docs", "examples", "benchmarks")
               for p in (ROOT / folder).rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
               and not any(part.startswith(".") for part in p.parts)}
    assert present - names == set()
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def extract_safely(archive: Path, into: Path) -> None:
    """extractall with the "data" filter's guarantees, also on Pythons before it (Debian 12's 3.11.2)."""
    with tarfile.open(archive) as tf:
        if hasattr(tarfile, "data_filter"):
            tf.extractall(into, filter="data")
            return
        for member in tf.getmembers():
            target = (into / member.name).resolve()
            assert target.is_relative_to(into.resolve()) and (member.isfile() or member.isdir()), member.name
        tf.extractall(into)


def test_distribution_name_is_ours_and_no_page_says_pip_install_gradviz(dist):
    """`gradviz` on PyPI is someone else's project: we are gradviz-check, and nothing tells users otherwise."""
    sdist, wheel, _ = dist
    assert wheel.name.startswith("gradviz_check-") and sdist.name.startswith("gradviz_check-")
    offenders = []
    for path in [ROOT / "README.md", ROOT / "dev.py", *ROOT.glob("docs/**/*"), *ROOT.glob("gradviz/**/*.py"),
                 *ROOT.glob("benchmarks/*.py"), *ROOT.glob("examples/*.py")]:
        if path.is_file() and path.suffix in (".md", ".py"):
            text = path.read_text(encoding="utf-8")
            for bad in ("pip install gradviz", "pip install 'gradviz", 'pip install "gradviz', "gradviz[torch]"):
                if bad in text:
                    offenders.append(f"{path.relative_to(ROOT)}: {bad}")
    assert offenders == []


def test_extract_safely_refuses_a_path_outside_the_target(tmp_path):
    import io

    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 2
        tf.addfile(info, io.BytesIO(b"hi"))
    (tmp_path / "into").mkdir()
    with pytest.raises((AssertionError, tarfile.TarError)):
        extract_safely(archive, tmp_path / "into")
    assert not (tmp_path / "outside.txt").exists()


@pytest.mark.slow
def test_unpacked_sdist_collects_and_runs_its_data_driven_tests(dist, tmp_path):
    """The unpacked sdist's suite collects without errors; the tests reading golden files and oracles pass."""
    sdist, _, _ = dist
    extract_safely(sdist, tmp_path)
    unpacked = tmp_path / sdist.name[: -len(".tar.gz")]
    env = dict(os.environ, PYTHONPATH=str(unpacked))
    collect = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                             cwd=unpacked, capture_output=True, text=True, env=env)
    summary = collect.stdout.strip().splitlines()[-1]
    assert collect.returncode == 0 and " collected in " in summary, summary
    assert "error" not in summary, collect.stdout[-2000:]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "golden or wrong",
                          "tests/test_render.py", "tests/test_check.py"],
                         cwd=unpacked, capture_output=True, text=True, env=env)
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-2000:]
    # the code under test is the unpacked copy, not this checkout
    where = subprocess.run([sys.executable, "-c", "import gradviz; print(gradviz.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, env=env).stdout
    assert where.startswith(str(unpacked))


def test_installed_wheel_imports_every_module_by_its_path(dist, tmp_path):
    """pip-install the wheel into a directory, then import each gradviz module by its dotted path."""
    _, wheel, _ = dist
    target = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                          "--target", str(target), str(wheel)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    script = """
import importlib, importlib.util, pkgutil, sys, types
import gradviz
assert gradviz.__file__.startswith(sys.argv[1]), gradviz.__file__
names = [m.name for m in pkgutil.walk_packages(gradviz.__path__, "gradviz.") if m.name != "gradviz.__main__"]
optional = {"gradviz.torch": "torch"}  # modules of an extra: without it, one clear ImportError naming the extra
for name in names:
    extra = next((e for m, e in optional.items() if name == m or name.startswith(m + ".")), None)
    if extra and importlib.util.find_spec(extra) is None:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            assert f"pip install {extra}" in str(exc), (name, exc)
            continue
    module = importlib.import_module(name)
    parent, _, leaf = name.rpartition(".")
    # the attribute path names the module too: no function of the same name shadows it
    assert getattr(sys.modules[parent], leaf) is module, name
import gradviz.rendering.backends, gradviz.checking.report
assert callable(gradviz.check) and callable(gradviz.render)
assert isinstance(gradviz.checking, types.ModuleType) and isinstance(gradviz.rendering, types.ModuleType)
from importlib.resources import files
assert files("gradviz").joinpath("py.typed").is_file()
print(len(names))
"""
    run = subprocess.run([sys.executable, "-c", script, str(target)], cwd=tmp_path, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(target)))
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) >= 30  # every subpackage and module was walked
