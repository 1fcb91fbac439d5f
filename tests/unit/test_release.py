"""``make release``: the student bundle gives no answer away; the autograder bundle has what grading needs.

Builds both bundles (and archives) into a temporary folder from the repository's files, then
searches the student bundle independently of the script's own check: no solutions/ or tests/,
no solution marker, no solution block's text, no hidden check's function name or source.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("translearn_release", ROOT / "scripts" / "release.py")
release = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(release)

BLOCK = re.compile(r"#\s*BEGIN SOLUTION[^\n]*\n(.*?)\n\s*#\s*END SOLUTION", re.S)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _solution_blocks() -> list[str]:
    blocks = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            src = "".join(cell["source"])
            blocks += [m.group(1) for m in BLOCK.finditer(src)]
            blocks += [ln.split("#")[0] for ln in src.splitlines() if re.search(r"#\s*SOLUTION\s*$", ln)]
    return blocks


def _grader_functions() -> list[str]:
    names = []
    for path in sorted((ROOT / "tests" / "graders").glob("*.py")):
        names += [n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)]
    return names


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    return out, release.build(out)


def test_student_bundle_holds_the_course_and_no_answers(built):
    out, written = built
    student = written["student"]
    files = {p.relative_to(student).as_posix(): p for p in student.rglob("*") if p.is_file()}
    assert not [f for f in files if f.startswith(("solutions/", "tests/", "translearn_lib/grading/"))]
    exercises = sorted(p.name for p in (ROOT / "exercises").glob("*.ipynb"))
    assert exercises and sorted(p.name for p in (student / "exercises").glob("*.ipynb")) == exercises
    assert (student / "notebooks" / "00_welcome.ipynb").is_file()
    assert (student / "translearn_lib" / "cache.py").is_file()
    assert (student / "README.md").read_text().startswith("# translearn") and \
        "no solutions and no grader" in (student / "README.md").read_text()

    texts = {f: p.read_text(encoding="utf-8", errors="ignore") for f, p in files.items()}
    exercise_text = _squash("".join(t for f, t in texts.items() if f.startswith("exercises/")))
    blocks = [_squash(b) for b in _solution_blocks() if len(_squash(b)) >= 12]
    assert len(blocks) >= len(exercises)                      # every exercise has marked answers
    leaked = [b[:60] for b in blocks if b in exercise_text]
    assert not leaked, f"solution text in the student's exercises: {leaked}"
    names = [n for n in _grader_functions() if n.startswith(("probe_", "judge_"))]
    assert len(names) >= 2 * len(exercises)
    for f, text in texts.items():
        assert "SOLUTION -->" not in text and not re.search(r"(?m)^\s*#\s*(BEGIN|END) SOLUTION", text), f
        assert not [n for n in names if re.search(rf"\b{n}\b", text)], f"{f} names a hidden check"
    assert release.find_leaks(student, ROOT) == []


def test_autograder_bundle_and_archives(built):
    out, written = built
    grader = written["autograder"]
    for name in ("exercises", "solutions"):
        assert sorted(p.name for p in (grader / name).glob("*.ipynb")) == \
            sorted(p.name for p in (ROOT / name).glob("*.ipynb"))
    assert sorted(p.name for p in (grader / "tests" / "graders").glob("*.py")) == \
        sorted(p.name for p in (ROOT / "tests" / "graders").glob("*.py"))
    assert (grader / "translearn_lib" / "grading" / "sandbox.py").is_file() and (grader / "AUTOGRADER.md").is_file()
    with tarfile.open(written["student.tar.gz"]) as tar:
        members = tar.getnames()
    assert "student/exercises/01_transfer_basics.ipynb" in members
    assert not [m for m in members if "/solutions/" in m or "/tests/" in m]
    with zipfile.ZipFile(written["autograder.zip"]) as z:
        assert "autograder/tests/graders/01_transfer_basics.py" in z.namelist()


def test_leak_finder_catches_a_planted_answer(tmp_path):
    grader_fn = next(iter(release._grader_sources(ROOT)))
    (tmp_path / "exercises").mkdir()
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1  # SOLUTION\n"], "metadata": {}}]}
    (tmp_path / "exercises" / "01.ipynb").write_text(json.dumps(nb))
    (tmp_path / "notes.py").write_text("# copied from the teacher\n" + grader_fn + "\n")
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "01.ipynb").write_text("{}")
    leaks = release.find_leaks(tmp_path, ROOT)
    assert any("solution marker" in x for x in leaks) and any("solutions/01.ipynb" in x for x in leaks)
    assert any("notes.py" in x for x in leaks), leaks
