"""Grading benchmark: seconds per submission, and a class of 30 graded with ``--jobs 2``.

A synthetic class for one light exercise (default ``06_cold_start``) is written to a temporary
folder, one folder per student, cycling through what real submissions look like:
``solution`` (a copy of solutions/NN.ipynb), ``stub`` (the untouched exercise), ``wrong`` (the
solution plus, at its end, a planted wrong answer from the grader file, so only the hidden check
can catch it), ``invalid`` (not JSON) and ``crash`` (the first cell kills the kernel).

1. single: one solution and one stub, graded alone (``jobs=1``) — seconds per submission including
   the sandboxed kernel's start-up and the worker's imports;
2. class: 30 submissions with ``jobs=2`` — wall seconds, seconds per submission (wall / 30) and
   each submission's own grading time by kind; a submission that does not get its kind's expected
   status is listed under ``unexpected`` with its messages;
3. resume: the same command again — nothing is graded twice.

Run:  HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/grading.py [--exercise 06_cold_start] [--n 30]
      (≈ 5 min on 2 cores; writes benchmarks/results/grading.json)
The machine's load is recorded next to the timings: on a shared machine wall times are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from translearn_lib.grading.batch import grade_class  # noqa: E402
from translearn_lib.grading.grader import load_grader  # noqa: E402
from translearn_lib.grading.sandbox import detect  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("solution", "stub", "wrong", "solution", "invalid", "solution", "crash", "wrong", "solution", "stub")
EXPECTED = {"solution": {"passed"}, "stub": {"failed"}, "wrong": {"partial"}, "invalid": {"invalid"},
            "crash": {"failed"}}


def _variant(kind: str, exercise: str) -> str:
    sol = json.loads((ROOT / "solutions" / f"{exercise}.ipynb").read_text())
    if kind == "stub":
        return (ROOT / "exercises" / f"{exercise}.ipynb").read_text()
    if kind == "invalid":
        return '{"cells": [ this is not JSON'
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "id": f"bench-{kind}"}
    if kind == "wrong":
        q = load_grader(ROOT / "tests" / "graders" / f"{exercise}.py").questions[0]
        sol["cells"].append({**cell, "source": next(iter(q.wrong.values()))})
    elif kind == "crash":
        sol["cells"].insert(1, {**cell, "source": "import os\nos._exit(1)"})
    return json.dumps(sol)


def make_class(folder: Path, exercise: str, n: int) -> dict[str, str]:
    kinds = {}
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        student = f"student{i:02d}_{kind}"
        (folder / student).mkdir(parents=True)
        (folder / student / f"{exercise}.ipynb").write_text(_variant(kind, exercise))
        kinds[student] = kind
    return kinds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--exercise", default="06_cold_start")
    p.add_argument("--n", type=int, default=30)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "grading.json")
    args = p.parse_args(argv)
    result = {"exercise": args.exercise, "isolation": detect().describe(), "cpus": os.cpu_count(),
              "python": platform.python_version(), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="tlbench-") as tmp:
        tmp = Path(tmp)
        single = {}
        for kind in ("solution", "stub"):
            folder = tmp / f"single-{kind}" / kind
            folder.mkdir(parents=True)
            (folder / f"{args.exercise}.ipynb").write_text(_variant(kind, args.exercise))
            t0 = time.perf_counter()
            rows = grade_class(tmp / f"single-{kind}", tmp / f"single-{kind}.csv", jobs=1, progress=False)
            single[kind] = {"wall_s": round(time.perf_counter() - t0, 1), "grading_s": round(rows[0]["seconds"], 1),
                            "status": rows[0]["status"]}
            print(f"single {kind}: {single[kind]}")
        result["single"] = single

        kinds = make_class(tmp / "class", args.exercise, args.n)
        t0 = time.perf_counter()
        rows = grade_class(tmp / "class", tmp / "grades.csv", jobs=args.jobs)
        wall = time.perf_counter() - t0
        bad = [{"student": r["student"], "status": r["status"], "message": r.get("message"),
                "questions": [f"{q['id']}: {q['message']}" for q in r.get("report", {}).get("questions", [])
                              if not q["passed"]],
                "notes": r.get("report", {}).get("notes")}
               for r in rows if r["status"] not in EXPECTED[kinds[r["student"]]]]
        if bad:  # recorded, not hidden: a grading that went wrong is part of the measurement
            print("UNEXPECTED:", json.dumps(bad, indent=1))
        per_kind = {}
        for kind in EXPECTED:
            secs = [r["seconds"] for r in rows if kinds[r["student"]] == kind]
            if secs:
                per_kind[kind] = {"n": len(secs), "median_s": round(statistics.median(secs), 1)}
        t1 = time.perf_counter()
        grade_class(tmp / "class", tmp / "grades.csv", jobs=args.jobs, progress=False)
        result["class"] = {"n": args.n, "jobs": args.jobs, "wall_s": round(wall, 1), "unexpected": bad,
                           "wall_per_submission_s": round(wall / args.n, 2),
                           "by_kind": per_kind, "resume_wall_s": round(time.perf_counter() - t1, 1)}
        result["gradebook_head"] = (tmp / "grades.csv").read_text().splitlines()[:6]
    result["load_after"] = os.getloadavg()[0]
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
