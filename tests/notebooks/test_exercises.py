"""Honesty tests for every graded exercise (discovered from solutions/*.ipynb).

For each solution with a grader file tests/graders/<name>.py:
(a) the solution passes every visible and hidden check;
(b) the untouched generated exercise fails every graded question (and the grader exits non-zero);
(c) every planted wrong answer in the grader file fails its question's hidden check;
(d) exercises/<name>.ipynb is exactly the generator's output and leaks no solution marker.
Each notebook is executed once per module (the solution's kernel is reused for (a) and (c)), in the
grader's sandbox (translearn_lib.grading.sandbox), so every exercise is known to work isolated.
A chapter adds an exercise by adding solutions/NN_topic.ipynb and tests/graders/NN_topic.py only.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from translearn_lib.grading import generate as gen
from translearn_lib.grading.grader import GradingSession, canonical_checks, load_grader

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
NAMES = [p.stem for p in SOLUTIONS]
SEED = 20240601  # fixed so a failure reproduces; the CLI draws a fresh seed per run
EXTRA_SEEDS = (1, 7)  # hidden checks and planted wrong answers are also tried on these
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _grader_path(name: str) -> Path:
    return ROOT / "tests" / "graders" / f"{name}.py"


def _planted() -> list:
    cases = []
    for name in NAMES:
        if not _grader_path(name).is_file():
            continue
        for q in load_grader(_grader_path(name)).questions:
            for label in q.wrong:
                cases.append(pytest.param(name, q.id, label, id=f"{name}-{q.id}-{label}"))
    return cases


@pytest.fixture(scope="module")
def sessions():
    """Lazily executed notebooks, shared by all tests of this module, closed at the end."""
    opened: dict[tuple[str, str], GradingSession] = {}

    def get(name: str, kind: str) -> GradingSession:
        key = (name, kind)
        if key not in opened:
            path = ROOT / kind / f"{name}.ipynb"
            session = GradingSession(path, _grader_path(name), ROOT / "solutions" / f"{name}.ipynb",
                                     timeout=300, total_timeout=900, seed=SEED,
                                     cache_writable=kind == "solutions")  # the teacher's own code may fill the cache
            opened[key] = session
            session.run()
        return opened[key]

    yield get
    for session in opened.values():
        session.close()


@pytest.fixture(scope="module")
def reports(sessions):
    cache = {}

    def get(name: str, kind: str):
        if (name, kind) not in cache:
            cache[(name, kind)] = sessions(name, kind).report()
        return cache[(name, kind)]

    return get


def test_every_solution_has_a_grader_and_an_exercise():
    assert SOLUTIONS, "solutions/ holds no NN_topic.ipynb"
    for path in SOLUTIONS:
        assert _grader_path(path.stem).is_file(), f"{path.name}: add tests/graders/{path.stem}.py"
        assert (ROOT / "exercises" / path.name).is_file(), f"{path.name}: run `make exercises`"


@pytest.mark.parametrize("name", NAMES)
def test_grader_file_matches_check_cells(name):
    grader = load_grader(_grader_path(name))
    ids = [q.id for q in grader.questions]
    checks = {qid for qid, _ in canonical_checks(nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4))}
    assert checks <= set(ids), f"check cells {sorted(checks - set(ids))} have no Question in the grader file"
    assert set(ids) <= checks, f"questions {sorted(set(ids) - checks)} have no '# CHECK qN' cell in the solution"
    for q in grader.questions:
        assert q.wrong, f"{q.id}: plant at least one wrong answer in `wrong` (the honesty test needs it)"


@pytest.mark.parametrize("name", NAMES)
def test_exercise_is_generated_and_leaks_nothing(name):
    solution, exercise = ROOT / "solutions" / f"{name}.ipynb", ROOT / "exercises" / f"{name}.ipynb"
    text = gen.render(solution)
    assert gen.render(solution) == text, "the generator is not deterministic"
    assert exercise.read_text(encoding="utf-8") == text, \
        f"exercises/{name}.ipynb drifted from the generator (run `make exercises`):\n{gen.diff(solution, exercise)[:2000]}"
    nb = nbformat.reads(text, as_version=4)
    assert not gen.find_leaks(nb)
    for cell in nb.cells:
        assert "SOLUTION" not in cell.source, f"a solution marker leaked: {cell.source[:80]!r}"


@pytest.mark.notebook
@pytest.mark.parametrize("name", NAMES)
def test_solution_passes_every_check(name, reports, sessions):
    report = reports(name, "solutions")
    assert report.fatal is None, report.table()
    failed = [q.id for q in report.questions if not q.passed]
    assert not failed and report.exit_code == 0, f"the solution fails {failed}:\n{report.table()}"
    assert all(q.visible for q in report.questions), report.table()
    session = sessions(name, "solutions")                     # hidden checks are not seed-lucky
    for q in report.questions:
        for seed in EXTRA_SEEDS:
            outcome = session.hidden(q.id, seed=seed)
            assert outcome.passed, f"{q.id} fails on the solution with seed {seed}: {outcome.message}"


@pytest.mark.notebook
@pytest.mark.parametrize("name", NAMES)
def test_untouched_exercise_fails_every_question(name, reports):
    report = reports(name, "exercises")
    assert report.exit_code != 0 and report.total == 0, report.table()
    for q in report.questions:
        assert not q.passed, f"{q.id} passes on the untouched exercise:\n{report.table()}"
        assert q.hidden is not None and not q.hidden.passed, f"{q.id}: the hidden check passes on the stub"
        assert q.visible and not any(o.passed for o in q.visible), f"{q.id}: the visible check passes on the stub"


@pytest.mark.notebook
@pytest.mark.parametrize("name,qid,label", _planted())
def test_planted_wrong_answer_fails(name, qid, label, sessions):
    session = sessions(name, "solutions")
    grader = load_grader(_grader_path(name))
    for seed in (None, *EXTRA_SEEDS):
        outcome = session.hidden(qid, seed=seed, override=grader.question(qid).wrong[label])
        assert not outcome.passed, \
            f"{name} {qid}: the planted wrong answer {label!r} passes the hidden check (seed {seed})"
        assert outcome.message
