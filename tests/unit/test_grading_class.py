"""Batch grading of a class (translearn_lib.grading.batch) on a tiny one-question course.

Four students: a right answer (folder form), the untouched stub, a file that is not a notebook
(file form), and a notebook that kills its kernel. Checks the gradebook's values, the feedback
reports, that a broken student never stops the batch, and that a rerun grades only what changed.
"""

from __future__ import annotations

import csv
import json

import nbformat
import pytest
from test_grading_isolation import _course  # the tiny course with one question (double)

from translearn_lib.grading.__main__ import main
from translearn_lib.grading.batch import find_submissions, grade_class


def _write(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["translearn"] = {"exercise": "99_tamper"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


CHECK = "# CHECK q1\nassert double(3) == 6, 'double(3) should be 6'"


@pytest.fixture
def klass(tmp_path):
    course = _course(tmp_path, [])
    subs = tmp_path / "submissions"
    _write(subs / "alice" / "99_tamper.ipynb", ["def double(x):\n    return x + x", CHECK])
    _write(subs / "bob" / "99_tamper.ipynb", ["def double(x):\n    raise NotImplementedError('Exercise q1')", CHECK])
    (subs / "carol.ipynb").write_text("{ this is not json")
    _write(subs / "dave" / "99_tamper.ipynb", ["import os\nos._exit(1)", "def double(x):\n    return 2 * x", CHECK])
    return course, subs


def _rows(path):
    with open(path, newline="") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def test_class_gradebook_feedback_and_resume(klass, tmp_path):
    course, subs = klass
    out = tmp_path / "grades.csv"
    rows = grade_class(subs, out, jobs=2, root=course, timeout=30, total_timeout=60, progress=False,
                       exercise="99_tamper")
    assert len(rows) == 4
    book = _rows(out)
    assert list(next(iter(book.values())).keys()) == ["student", "exercise", "q1", "total", "max_total", "status",
                                                       "seconds", "isolation"]
    assert (book["alice"]["q1"], book["alice"]["total"], book["alice"]["status"]) == ("1", "1", "passed")
    assert (book["bob"]["q1"], book["bob"]["total"], book["bob"]["status"]) == ("0", "0", "failed")
    assert book["carol"]["status"] == "invalid" and book["carol"]["total"] == "0"
    assert book["dave"]["status"] == "failed" and book["dave"]["total"] == "0"   # its crash cost only its row
    assert {r["max_total"] for r in book.values()} == {"1"}
    fb = tmp_path / "grades_feedback"
    alice, bob, dave = ((fb / f"{s}.md").read_text() for s in ("alice", "bob", "dave"))
    assert "## 99_tamper: 1/1 points (passed)" in alice and "| q1 double | 1/1 | passed |" in alice
    assert "| q1 double | 0/1 | FAILED |" in bob and "not done yet" in bob
    assert "kernel died" in dave
    assert "not a valid notebook" in (fb / "carol.md").read_text()

    state = fb / ".results"
    stamps = {p.name: p.stat().st_mtime_ns for p in state.glob("*.json")}
    assert len(stamps) == 4
    _write(subs / "bob" / "99_tamper.ipynb", ["def double(x):\n    return 2.0 * x", CHECK])   # bob resubmits
    grade_class(subs, out, jobs=2, root=course, timeout=30, total_timeout=60, progress=False, exercise="99_tamper")
    again = {p.name: p.stat().st_mtime_ns for p in state.glob("*.json")}
    assert [k for k in stamps if again[k] != stamps[k]] == ["bob__99_tamper.json"]   # only bob was graded again
    assert _rows(out)["bob"]["status"] == "passed" and _rows(out)["alice"]["status"] == "passed"
    assert json.loads((state / "alice__99_tamper.json").read_text())["report"]["isolation"]


def test_class_cli_html_and_errors(klass, tmp_path, capsys):
    course, subs = klass
    for p in ("alice", "bob", "dave"):  # only the file that is not a notebook: no kernel to start
        (subs / p / "99_tamper.ipynb").unlink()
    out = tmp_path / "g" / "book.csv"
    assert main(["class", str(subs), "--out", str(out), "--root", str(course), "--format", "html",
                 "--exercise", "99_tamper", "--timeout", "30"]) == 0
    assert "1 notebooks: 1 invalid" in capsys.readouterr().out
    html = (tmp_path / "g" / "book_feedback" / "carol.html").read_text()
    assert "<h1>Feedback for carol</h1>" in html and "<td class='FAILED'>FAILED</td>" in html
    assert "not a valid notebook" in html and "<h2>99_tamper: 0/1 points (invalid)</h2>" in html
    assert main(["class", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "no submissions folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="jobs must be"):
        grade_class(subs, out, jobs=0)


def test_find_submissions_reads_both_layouts(tmp_path):
    _write(tmp_path / "s" / "ann" / "01_transfer_basics.ipynb", ["x = 1"])
    _write(tmp_path / "s" / "ben.ipynb", ["x = 1"])                       # exercise from the metadata
    (tmp_path / "s" / "ann" / ".ipynb_checkpoints").mkdir()
    _write(tmp_path / "s" / "ann" / ".ipynb_checkpoints" / "01_transfer_basics-checkpoint.ipynb", ["x = 1"])
    found = [(s.student, s.exercise) for s in find_submissions(tmp_path / "s")]
    assert found == [("ann", "01_transfer_basics"), ("ben", "99_tamper")]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no .ipynb"):
        find_submissions(tmp_path / "empty")
