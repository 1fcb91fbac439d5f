"""Structure checks for every course notebook.

The notebooks themselves are executed by nbval (`pytest --nbval-lax notebooks solutions`, see the
Makefile's `test` target): each cell must run without error, and the cells marked
`# NBVAL_CHECK_OUTPUT` must reproduce their saved outputs (the measured numbers). This file checks
what nbval does not: the course skeleton, saved outputs, and consistent names across folders.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NAME = re.compile(r"^\d{2}_[a-z0-9_]+\.ipynb$")


def _read(path):
    return nbformat.read(path, as_version=4)


def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_course_has_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no NN_topic.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_skeleton(path):
    nb = _read(path)
    assert NAME.match(path.name), f"{path.name}: use NN_snake_case.ipynb"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), \
        f"{path.name}: the first cell must be the title (a '# ' markdown heading)"
    text = _markdown(nb)
    for heading in ("Learning goals", "Summary"):
        assert heading in text, f"{path.name}: missing the '{heading}' section"
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code", \
        f"{path.name}: needs exactly one code cell tagged 'parameters' (found {len(tagged)})"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_with_results_and_no_errors(path):
    """Notebooks ship executed, so a reader sees the measured numbers without running anything."""
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert all(c.execution_count is not None for c in code), f"{path.name}: not fully executed (make course)"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: saved outputs contain an error: {errors[0].get('ename')}"
    checked = [c for c in code if c.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked, f"{path.name}: no cell is marked '# NBVAL_CHECK_OUTPUT', so no result is checked"
    assert all(c.outputs for c in checked), f"{path.name}: a checked cell has no saved output"
    for cell in code:  # progress bars and timings must not be checked (they change run to run)
        if cell in checked:
            joined = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert "ms/step" not in joined and "\x1b[" not in joined, \
                f"{path.name}: a checked cell prints a Keras progress bar; use verbose=0"


def test_same_names_in_solutions_and_exercises():
    solutions = {p.name for p in (ROOT / "solutions").glob("*.ipynb")}
    exercises = {p.name for p in (ROOT / "exercises").glob("*.ipynb")}
    chapters = {p.name for p in NOTEBOOKS}
    assert solutions == exercises, "exercises/ must hold one generated notebook per solution"
    assert solutions <= chapters, f"solutions without a chapter notebook: {sorted(solutions - chapters)}"


def test_readme_course_map_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    missing = [p.name for p in NOTEBOOKS if p.name not in readme]
    assert not missing, f"README course map does not link {missing}"
