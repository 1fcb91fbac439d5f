"""The library's layout rules (docs/library.md), checked on the source so they cannot drift.

* ``config`` imports nothing of the library; ``metrics`` stays pure (NumPy/SciPy only);
* nothing outside ``grading`` imports the grader, and nothing imports a notebook or a benchmark;
* importing any module never starts TensorFlow (Keras is imported inside the functions that train);
* a module teaches one chapter: every "Taught in" line of a module names the same notebook, except
  the shared modules listed in ``SHARED`` (used by several chapters by design);
* only ``encoders/_kerashub.py`` touches KerasHub's private attributes.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "translearn_lib"
MODULES = sorted(p for p in LIB.rglob("*.py") if "__pycache__" not in p.parts)
#: modules that serve several chapters on purpose (see docs/library.md)
SHARED = {"config.py", "cache.py", "embeddings.py", "plots.py", "metrics.py", "splits.py", "envcheck.py",
          "experiments/curves.py", "datasets/movielens.py", "encoders/_kerashub.py"}
TAUGHT = re.compile(r"Taught in (notebooks/\d\d_[a-z0-9_]+\.ipynb)")


def _rel(path: Path) -> str:
    return path.relative_to(LIB).as_posix()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    package = ".".join(("translearn_lib",) + path.relative_to(LIB).parent.parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            else:
                names.add(node.module or "")
    return names


def test_every_module_parses_and_is_listed():
    assert MODULES and all(ast.parse(p.read_text()) for p in MODULES)


def test_config_and_metrics_import_nothing_of_the_library():
    for name in ("config.py", "metrics.py"):
        inner = {m for m in _imports(LIB / name) if m.startswith("translearn_lib")}
        assert not inner, f"{name} must not import the library, imports {sorted(inner)}"


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_no_module_imports_grader_notebooks_or_benchmarks(path):
    imports = _imports(path)
    if not _rel(path).startswith("grading/"):
        assert not any(m.startswith("translearn_lib.grading") for m in imports), \
            f"{_rel(path)} imports the grader"
    assert not any(m.split(".")[0] in {"benchmarks", "notebooks", "tests"} for m in imports)


@pytest.mark.parametrize("path", [p for p in MODULES if _rel(p) not in SHARED and TAUGHT.search(p.read_text())],
                         ids=_rel)
def test_a_module_teaches_one_chapter(path):
    chapters = set(TAUGHT.findall(path.read_text()))
    assert len(chapters) == 1, (f"{_rel(path)} mixes chapters {sorted(chapters)}: split it by concept, or "
                                "list it in SHARED and docs/library.md if it serves several chapters on purpose")


def test_kerashub_internals_live_in_one_module():
    private = re.compile(r"\._(self_attention|feedforward)_\w+")
    offenders = [_rel(p) for p in MODULES if private.search(p.read_text()) and _rel(p) != "encoders/_kerashub.py"]
    assert not offenders, f"KerasHub internals used outside encoders/_kerashub.py: {offenders}"


def test_importing_the_library_does_not_start_tensorflow():
    names = [".".join(("translearn_lib",) + p.relative_to(LIB).with_suffix("").parts).removesuffix(".__init__")
             for p in MODULES if p.name != "__main__.py"]
    code = ("import importlib, sys\n"
            f"for n in {names!r}:\n    importlib.import_module(n)\n"
            "heavy = sorted(m for m in ('tensorflow', 'keras', 'keras_hub') if m in sys.modules)\n"
            "print(','.join(heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"importing the library started {out.stdout.strip()}"


def test_package_imports_cleanly():
    assert importlib.import_module("translearn_lib").__version__
