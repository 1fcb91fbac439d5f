"""Graded exercises: generate exercises from solutions, and grade a learner's notebook.

Commands::

    python -m translearn_lib.grading generate            # solutions/*.ipynb -> exercises/*.ipynb
    python -m translearn_lib.grading generate --check    # exit 1 if exercises/ drifted
    python -m translearn_lib.grading exercises/01_transfer_basics.ipynb   # grade (exit 0 = all passed)
    python -m translearn_lib.grading class SUBMISSIONS/ --out grades.csv --jobs 2   # a class (batch)

(also ``make exercises``, ``make grade NB=...`` and ``make grade-class SUBMISSIONS=...``).

An exercise is three files with the same name
============================================

``solutions/NN_topic.ipynb`` (the single source, executed, outputs kept)
    Answers sit between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (optionally
    ``# BEGIN SOLUTION q2: return the accuracy per size`` - the text becomes the learner's TODO and
    the stub's message; the question id defaults to that of the next check cell), or on single
    lines ending in ``# SOLUTION`` (``x = f(a)  # SOLUTION`` becomes ``x = ...``). Visible check
    cells have the first line ``# CHECK qN`` and assert with teaching messages ("expected shape
    (n, 16), got ..."). Keep check cells independent of later cells.

``exercises/NN_topic.ipynb`` (generated, never edited by hand)
    Written by ``generate``: markers replaced by ``# TODO (qN): ...`` plus
    ``raise NotImplementedError("Exercise qN: ...")`` (blocks) or ``...`` (lines), outputs and
    execution counts stripped, ``# NBVAL_CHECK_OUTPUT`` lines dropped, check cells kept verbatim, a
    how-to cell after the title. Byte-for-byte deterministic; ``generate --check`` fails on drift.

``tests/graders/NN_topic.py`` (hidden checks, plain Python)
    Declares ``QUESTIONS``, a list of :class:`Question`::

        import numpy as np
        from translearn_lib.grading import Question, checks

        def _inputs(seed):                      # the same fresh inputs on both sides
            rng = np.random.default_rng(seed)
            return rng.normal(size=(int(rng.integers(5, 9)), 3))

        def probe_q1(ns, seed):                 # runs IN THE LEARNER'S KERNEL, after their code
            f = checks.get_function(ns, "row_norms")
            return checks.call(f, _inputs(seed))        # returned data must be JSON-able

        def judge_q1(seed, data):               # runs IN THE GRADER PROCESS
            expected = np.linalg.norm(_inputs(seed), axis=1)
            checks.assert_close(data, expected, "row_norms(X)")

        QUESTIONS = [
            Question("q1", points=2, title="row norms", probe=probe_q1, judge=judge_q1,
                     wrong={"column norms": "def row_norms(X):\\n    return np.linalg.norm(X, axis=0)",
                            "constant": "def row_norms(X):\\n    return np.ones(len(X))"}),
        ]

    Rules: keep top-level imports light (NumPy, the helpers in :mod:`translearn_lib.grading.checks`);
    import TensorFlow/Keras inside a probe. The file is imported in the grader process and executed
    (as source) in the learner's kernel, so it must not rely on its folder being importable. Every
    question needs at least one planted wrong answer in ``wrong`` (a constant, a transposed result,
    the classic mistake): the honesty tests prove the hidden check rejects each one.

How grading works (and why it is hard to fool)
==============================================

1. The notebook is read; invalid JSON is a score of 0 with the reason, not a crash.
2. It runs in a fresh kernel (nbclient; per-cell timeout with interrupt; errors do not stop it).
   Each ``# CHECK qN`` cell is replaced by the *original* check from ``solutions/`` (an edited check
   still runs as written by the teacher); a deleted check cell runs after the learner's code.
3. The grader then sends its harness and the grader file into the same kernel, clears IPython
   hooks the notebook may have registered, and runs each question's ``probe`` on inputs built from a
   seed drawn fresh for this run, so hard-coded answers fail. Results come back as one display
   output tagged with a per-run nonce (printed look-alikes are ignored), and the ``judge`` decides in
   the grader process, where the learner's monkeypatches (``np.allclose = lambda *a: True``, a
   redefined ``AssertionError``) cannot reach. Only JSON crosses the boundary (never pickle).
4. A question scores its points only if its visible check(s) and hidden check pass. The table lists
   question, points, result and message, then the total and notes (cells that raised, timeouts,
   edited or deleted checks). Exit status 0 only if every question passed; 2 on usage errors.

Isolation (:mod:`.sandbox`): the kernel runs under bubblewrap - the file system read-only except a
private scratch folder at the notebook's place, ``solutions/`` and ``tests/graders/`` hidden, no
network - so a notebook cannot rewrite the hidden checks for later students or read the solutions;
the report's first line says which isolation was in force (``--require-isolation`` demands it).

Threat model: this stops hard-coded answers, deleted or edited checks, faked printouts and patched
assertion helpers. Code written to walk the grader's own stack frames inside the kernel could still
forge a probe's *facts*; judges that recompute the answer from the seed are immune, so prefer them.

Used by every notebook in exercises/: ``make grade NB=exercises/NN_topic.ipynb``.
"""

from __future__ import annotations

from . import checks
from .api import Question

__all__ = ["Question", "checks", "grade", "GradingSession", "Report", "load_grader", "make_exercise", "render"]


def __getattr__(name):  # lazy: the kernel imports Question/checks without nbclient
    if name in ("grade", "GradingSession", "Report", "load_grader", "GraderSetupError"):
        from . import grader

        return getattr(grader, name)
    if name in ("make_exercise", "render", "find_leaks", "GenerationError"):
        import importlib

        return getattr(importlib.import_module(".generate", __name__), name)
    raise AttributeError(name)
