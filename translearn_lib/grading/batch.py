"""Grade a whole class: every submitted notebook, a CSV gradebook and one feedback report per student.

``python -m translearn_lib.grading class SUBMISSIONS/ --out grades.csv [--jobs N]`` (or
``make grade-class SUBMISSIONS=... OUT=...``). ``SUBMISSIONS/`` holds one folder per student
(``alice/01_transfer_basics.ipynb``, any number of exercises each) or one notebook per student
(``alice.ipynb``; the exercise comes from the notebook's metadata, or ``--exercise NAME``).

``--jobs N`` worker processes grade N notebooks at once, each in its own sandboxed kernel (see
:mod:`.sandbox`; the whole submissions folder is hidden from it). A notebook that crashes, hangs or
kills its kernel costs only its own row (cell timeouts and the per-notebook time limit bound it),
and a grader worker that dies is replaced: the batch goes on. Every finished grading is saved at
once under ``<feedback>/.results/`` with the notebook's SHA-256; a rerun (after a crash or Ctrl-C,
or with more submissions) grades only what is new or changed and rebuilds the gradebook and reports
from all saved results. Workers are started with ``spawn``: call :func:`grade_class` from a script
with an ``if __name__ == "__main__":`` guard, a notebook, or the command line.

Gradebook columns: ``student, exercise, q1 .. qK`` (points; empty where an exercise has fewer
questions), ``total, max_total, status`` (``passed`` all questions, ``partial``, ``failed`` no
points, ``invalid`` the file is not a readable notebook, ``error`` the grader could not
finish), ``seconds, isolation``. Rows with status ``error`` are graded again on a rerun.

Used by every notebook in exercises/ (teacher side): ``make grade-class SUBMISSIONS=... OUT=...``.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import re
import time
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Submission:
    """One notebook of one student."""

    student: str
    exercise: str
    path: Path

    @property
    def key(self) -> str:
        return f"{_SAFE.sub('_', self.student)}__{_SAFE.sub('_', self.exercise)}"


def _exercise_of(path: Path) -> str | None:
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("translearn", {})
    except (OSError, ValueError, AttributeError):
        return None
    name = meta.get("exercise") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and name else None


def find_submissions(folder: str | os.PathLike, exercise: str | None = None) -> list[Submission]:
    """Every ``.ipynb`` under ``folder``: ``student/NN_topic.ipynb`` or ``student.ipynb``.

    Args:
        folder: the class's submissions.
        exercise: grade every notebook as this exercise (e.g. ``01_transfer_basics``).

    Returns:
        list[Submission]: sorted by student, then exercise.

    Raises:
        FileNotFoundError: the folder does not exist.
        ValueError: it holds no notebook.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no submissions folder {folder}: pass the folder holding one folder or "
                                "notebook per student")
    subs = []
    for path in sorted(folder.rglob("*.ipynb")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):  # checkpoints, our own state
            continue
        if len(rel.parts) == 1:                                # alice.ipynb
            student = path.stem
            name = exercise or _exercise_of(path) or path.stem
        else:                                                  # alice/01_x.ipynb (or deeper)
            student = rel.parts[0]
            name = exercise or path.stem
        subs.append(Submission(student, name, path))
    if not subs:
        raise ValueError(f"{folder} holds no .ipynb file (expected STUDENT/NN_topic.ipynb or STUDENT.ipynb)")
    return sorted(subs, key=lambda s: (s.student, s.exercise, str(s.path)))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _grader_for(sub: Submission, root: Path) -> Path | None:
    cand = root / "tests" / "graders" / f"{sub.exercise}.py"
    return cand if cand.is_file() else None


def grade_one(sub: Submission, root: Path, hide: Path, timeout: float, total_timeout: float,
              require_isolation: bool) -> dict:
    """Grade one submission (in a worker process); always returns a result row, never raises."""
    from .grader import grade

    start = time.perf_counter()
    row = {"student": sub.student, "exercise": sub.exercise, "notebook": str(sub.path)}
    try:
        row["sha256"] = _sha(sub.path)
        grader = root / "tests" / "graders" / f"{sub.exercise}.py"
        solution = root / "solutions" / f"{sub.exercise}.ipynb"
        report = grade(sub.path, grader if grader.is_file() else None, solution if solution.is_file() else None,
                       timeout=timeout, total_timeout=total_timeout, require_isolation=require_isolation,
                       hide=(hide,)).to_dict()
    except Exception as err:  # noqa: BLE001 - no grader file, a grader bug: this row only
        return {**row, "status": "error", "message": f"{type(err).__name__}: {err}",
                "seconds": time.perf_counter() - start}
    row["seconds"] = time.perf_counter() - start
    total, max_total = report.get("total", 0), report.get("max_total", 0)
    if report.get("fatal"):
        status = "invalid"
    elif report.get("passed") and total == max_total:
        status = "passed"
    else:
        status = "partial" if total > 0 else "failed"
    return {**row, "status": status, "report": report}


def _run_pool(todo: list[Submission], jobs: int, args: tuple, on_done) -> None:
    """Grade ``todo`` in ``jobs`` worker processes (each imports the grader once); survive a dead worker."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    tries: dict[str, int] = {}
    queue = list(todo)
    while queue:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(grade_one, sub, *args): sub for sub in queue}
            queue = []
            for fut in as_completed(futures):
                sub = futures[fut]
                try:
                    on_done(sub, fut.result())
                except BrokenProcessPool:  # a worker died: retry its notebooks once in a new pool
                    tries[sub.key] = tries.get(sub.key, 0) + 1
                    if tries[sub.key] > 1:
                        on_done(sub, {"student": sub.student, "exercise": sub.exercise, "notebook": str(sub.path),
                                      "status": "error", "seconds": 0.0,
                                      "message": "the grader process died while grading this notebook"})
                    else:
                        queue.append(sub)


def _save(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _load_results(state: Path) -> dict[str, dict]:
    out = {}
    for f in sorted(state.glob("*.json")):
        try:
            out[f.stem] = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a torn file from a crash: that submission is graded again
    return out


def write_gradebook(rows: list[dict], out: Path) -> None:
    """The CSV gradebook (one row per submission)."""
    qmax = max((len(r.get("report", {}).get("questions", [])) for r in rows), default=0)
    head = ["student", "exercise", *[f"q{i}" for i in range(1, qmax + 1)], "total", "max_total", "status",
            "seconds", "isolation"]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(head)
        for r in sorted(rows, key=lambda r: (r["student"], r["exercise"])):
            rep = r.get("report", {})
            by_id = {q["id"]: q["points"] for q in rep.get("questions", [])}
            points = [by_id.get(f"q{i}", "") for i in range(1, qmax + 1)]
            iso = rep.get("isolation", "")
            w.writerow([r["student"], r["exercise"], *points, rep.get("total", 0), rep.get("max_total", ""),
                        r["status"], f"{r.get('seconds', 0):.1f}",
                        "full" if iso.startswith("isolation:") else ("-" if not iso else "NOT FULL")])
    os.replace(tmp, out)


def _feedback_md(student: str, rows: list[dict]) -> str:
    lines = [f"# Feedback for {student}", ""]
    for r in sorted(rows, key=lambda r: r["exercise"]):
        rep = r.get("report", {})
        lines.append(f"## {r['exercise']}: {rep.get('total', 0)}/{rep.get('max_total', '?')} points ({r['status']})")
        lines.append("")
        if rep.get("isolation"):
            lines += [f"*{rep['isolation']}*", ""]
        if r.get("message"):
            lines += [f"The grader could not finish: {r['message']}", ""]
        if rep.get("fatal"):
            lines += [f"Not graded normally: {rep['fatal']}", ""]
        if rep.get("questions"):
            lines += ["| question | points | result | reason |", "|---|---|---|---|"]
            for q in rep["questions"]:
                reason = (q.get("message") or "").replace("|", "\\|").replace("\n", " ")
                lines.append(f"| {q['id']} {q['title']} | {q['points']}/{q['max_points']} | "
                             f"{'passed' if q['passed'] else 'FAILED'} | {reason} |")
            lines.append("")
        for title, key in (("Refused by the sandbox", "refused"), ("Notes", "notes")):
            if rep.get(key):
                lines += [f"{title}:", ""] + [f"- {n}" for n in rep[key]] + [""]
    return "\n".join(lines)


def _feedback_html(student: str, rows: list[dict]) -> str:
    esc = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>Feedback for {esc(student)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em}td,th{border:1px solid #ccc;padding:4px}"
             "table{border-collapse:collapse}.FAILED{color:#b00}.passed{color:#070}</style>",
             f"<h1>Feedback for {esc(student)}</h1>"]
    for r in sorted(rows, key=lambda r: r["exercise"]):
        rep = r.get("report", {})
        parts.append(f"<h2>{esc(r['exercise'])}: {rep.get('total', 0)}/{rep.get('max_total', '?')} points "
                     f"({esc(r['status'])})</h2>")
        for text in (rep.get("isolation"), r.get("message") and "The grader could not finish: " + r["message"],
                     rep.get("fatal") and "Not graded normally: " + rep["fatal"]):
            if text:
                parts.append(f"<p><em>{esc(text)}</em></p>")
        if rep.get("questions"):
            parts.append("<table><tr><th>question</th><th>points</th><th>result</th><th>reason</th></tr>")
            for q in rep["questions"]:
                res = "passed" if q["passed"] else "FAILED"
                parts.append(f"<tr><td>{esc(q['id'] + ' ' + q['title'])}</td><td>{q['points']}/{q['max_points']}</td>"
                             f"<td class='{res}'>{res}</td><td>{esc(q.get('message') or '')}</td></tr>")
            parts.append("</table>")
        for title, key in (("Refused by the sandbox", "refused"), ("Notes", "notes")):
            if rep.get(key):
                parts.append(f"<p>{title}:</p><ul>" + "".join(f"<li>{esc(n)}</li>" for n in rep[key]) + "</ul>")
    return "\n".join(parts) + "\n"


def grade_class(submissions: str | os.PathLike, out: str | os.PathLike, *, feedback: str | os.PathLike | None = None,
                jobs: int = 1, fmt: str = "md", exercise: str | None = None, root: str | os.PathLike | None = None,
                timeout: float = 120, total_timeout: float = 900, require_isolation: bool = False,
                progress: bool = True) -> list[dict]:
    """Grade every submission, write the gradebook and the feedback reports; resumable.

    Args:
        submissions: the class folder (see the module docstring).
        out: the CSV gradebook to write.
        feedback: folder of the per-student reports (default: ``<out without .csv>_feedback/``).
        jobs: submissions graded at once (each runs its own kernel: about one CPU core each).
        fmt: ``"md"`` or ``"html"`` feedback.
        exercise: grade every notebook as this exercise.
        root: the course (its ``tests/graders/`` and ``solutions/``; default: this repository).
        timeout, total_timeout: seconds per cell and per notebook.
        require_isolation: fail every submission unless the kernel can be fully sandboxed.
        progress: show a progress bar.

    Returns:
        list[dict]: one result per submission (``student, exercise, status, report, seconds``).

    Raises:
        FileNotFoundError, ValueError: no such folder, no notebook in it, bad ``jobs``/``fmt``.

    Used by every notebook in exercises/ (teacher side): ``make grade-class SUBMISSIONS=...``.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if fmt not in ("md", "html"):
        raise ValueError(f"feedback format must be md or html, got {fmt!r}")
    folder = Path(submissions).resolve()
    out = Path(out)
    root = Path(root).resolve() if root else Path(__file__).resolve().parents[2]
    subs = find_submissions(folder, exercise)
    feedback = Path(feedback) if feedback else out.with_name(out.stem + "_feedback")
    state = feedback / ".results"
    state.mkdir(parents=True, exist_ok=True)
    done = _load_results(state)
    todo = [s for s in subs if done.get(s.key, {}).get("sha256") != _sha(s.path)
            or done[s.key].get("status") == "error"]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(subs), initial=len(subs) - len(todo), desc="grading", unit="notebook")
    def on_done(sub: Submission, row: dict) -> None:
        _save(state / f"{sub.key}.json", row)
        done[sub.key] = row
        if bar is not None:
            bar.set_postfix_str(f"{sub.student}: {row['status']}")
            bar.update()

    _run_pool(todo, jobs, (root, folder, timeout, total_timeout, require_isolation), on_done)
    if bar is not None:
        bar.close()
    rows = [done[s.key] for s in subs]
    write_gradebook(rows, out)
    by_student: dict[str, list[dict]] = {}
    for r in rows:
        by_student.setdefault(r["student"], []).append(r)
    for student, srows in by_student.items():
        text = _feedback_md(student, srows) if fmt == "md" else _feedback_html(student, srows)
        (feedback / f"{_SAFE.sub('_', student)}.{fmt}").write_text(text, encoding="utf-8")
    return rows
