"""What a reader sees in the stored notebooks: figures present, nothing private leaked.

Notebooks ship executed. A figure that was drawn must be stored with its cell; stored outputs and
sources must not carry absolute paths of the machine that ran them, user names or access tokens.
The README's figures must be the notebooks' own (scripts/make_figures.py --check).
"""

from __future__ import annotations

import getpass
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SHIPPED = NOTEBOOKS + sorted((ROOT / "solutions").glob("*.ipynb")) + sorted((ROOT / "exercises").glob("*.ipynb"))

_PRIVATE = [
    re.compile(r"(?<![\w.])/(?:home|root|work|tmp|Users|private/var)/[\w.-]"),  # absolute paths on a machine
    re.compile(r"[A-Za-z]:\\\\?Users\\\\?"),                                      # Windows home folders
    re.compile(r"site-packages/"),                                                # an installed package's path
    re.compile(r"token=[0-9a-f]{16,}"),                                           # a Jupyter token
]
_USER = getpass.getuser()


def _output_text(output) -> str:
    if output.output_type == "stream":
        return output.get("text", "")
    if output.output_type == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    return "\n".join(str(v) for k, v in data.items() if k.startswith("text/") or k == "application/json")


def _leaks(text: str) -> list[str]:
    found = [m.group(0) for p in _PRIVATE for m in p.finditer(text)]
    if _USER not in {"root", "jovyan", "user", "runner"} and re.search(rf"\b{re.escape(_USER)}\b", text):
        found.append(f"user name {_USER!r}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_drawn_figures_are_stored(path):
    nb = nbformat.read(path, as_version=4)
    missing = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
               and re.search(r"^\s*plt\.show\(\)", c.source, re.M)
               and not any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
                           for o in c.outputs)]
    assert not missing, f"{path.name}: cells {missing} draw a figure but store none (run `make course`)"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_private_paths_or_tokens(path):
    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        for leak in _leaks(cell.source):
            problems.append(f"cell {i} source: {leak}")
        for output in cell.get("outputs", []):
            for leak in _leaks(_output_text(output)):
                problems.append(f"cell {i} output: {leak}")
    assert not problems, f"{path.name}: " + "; ".join(problems[:10])


def test_leak_patterns_catch_what_they_should():
    assert _leaks("saved to /home/alice/x.npy") and _leaks("/root/.cache/translearn")
    assert _leaks("http://127.0.0.1:8888/lab?token=0123456789abcdef0123")
    assert _leaks("File /work/main/.venv/lib/python3.11/site-packages/keras/x.py")
    assert not _leaks("notebooks/04_cross_domain_recommendation.ipynb and 1/2 of the data")


def test_readme_figures_match_the_notebooks():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_figures.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or result.stdout
    readme = (ROOT / "README.md").read_text()
    for png in (ROOT / "docs" / "figures").glob("*.png"):
        assert f"docs/figures/{png.name}" in readme, f"README does not show docs/figures/{png.name}"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_kernelspec_is_the_course_kernel(path):
    """`make setup` installs the kernel "Python 3 (translearn)"; another display name makes JupyterLab
    mark the notebook modified as soon as it opens."""
    spec = nbformat.read(path, as_version=4).metadata.get("kernelspec", {})
    assert spec.get("name") == "python3" and spec.get("display_name") == "Python 3 (translearn)", \
        f"{path.name}: kernelspec {spec}; run scripts/run_notebooks.py on it"
