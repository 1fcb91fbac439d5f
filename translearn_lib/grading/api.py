"""The grader-file API: one :class:`Question` per graded question.

Kept free of heavy imports because this module is imported both by the grader process and inside
the learner's kernel. See :mod:`translearn_lib.grading` for the full description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

_QID = re.compile(r"^q[0-9]+[a-z]?$")

#: ``probe(ns, seed) -> data``: runs in the learner's kernel after their code.
Probe = Callable[[Mapping[str, Any], int], Any]
#: ``judge(seed, data) -> None``: runs in the grader process; raises AssertionError to fail.
Judge = Callable[[int, Any], Any]


@dataclass(frozen=True)
class Question:
    """One graded question of an exercise, declared in ``tests/graders/NN_topic.py``.

    Args:
        id: the question id used by the notebook's check cells (``# CHECK q1`` -> ``"q1"``).
        points: points awarded when every check of the question passes (all or nothing).
        title: a few words shown in the grade table.
        probe: ``probe(ns, seed)``, run inside the learner's kernel *after* their notebook:
            ``ns`` is the learner's namespace (a dict of their globals), ``seed`` an integer the
            grader draws fresh for every grading run. Build fresh inputs from the seed, call the
            learner's function(s) from ``ns`` on them and return what they produced as JSON-able
            data (numbers, strings, lists, dicts, NumPy arrays are converted). Raise
            ``AssertionError("message")`` to fail with a teaching message (e.g. a missing
            function); any other exception fails the question with its type and message.
        judge: ``judge(seed, data)``, run in the grader process, out of the learner's reach:
            rebuild the same inputs from ``seed``, compute the reference answer and raise
            ``AssertionError("message")`` if ``data`` is wrong. ``None`` means the probe alone
            decides (use only for facts that cannot be recomputed outside the kernel).
        wrong: planted wrong answers, ``{"short name": "python source"}``. Each source is
            executed in a copy of the solution's namespace (so it usually redefines the learner's
            function) and the honesty tests require the hidden check to fail on every one.
        timeout: seconds the probe may run before the kernel is interrupted.
    """

    id: str
    points: int
    title: str
    probe: Probe
    judge: Judge | None = None
    wrong: Mapping[str, str] = field(default_factory=dict)
    timeout: int = 60

    def __post_init__(self) -> None:
        if not _QID.match(self.id):
            raise ValueError(f"question id must look like 'q1', got {self.id!r}")
        if not isinstance(self.points, int) or self.points <= 0:
            raise ValueError(f"{self.id}: points must be a positive integer, got {self.points!r}")
        if not callable(self.probe):
            raise TypeError(f"{self.id}: probe must be a function probe(ns, seed)")
        if self.judge is not None and not callable(self.judge):
            raise TypeError(f"{self.id}: judge must be a function judge(seed, data) or None")
