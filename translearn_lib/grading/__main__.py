"""Command line: ``python -m translearn_lib.grading generate [--check]``, ``... NOTEBOOK`` or
``... class SUBMISSIONS/ --out grades.csv``.

Used by every notebook in exercises/: ``make grade NB=exercises/NN_topic.ipynb``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]


def _default_base() -> Path:
    """The current folder if it has solutions/, else the repository the package lives in."""
    return Path.cwd() if (Path.cwd() / "solutions").is_dir() else _ROOT


def main_generate(argv: list[str]) -> int:
    from .generate import GenerationError, diff, generate

    p = argparse.ArgumentParser(prog="python -m translearn_lib.grading generate",
                                description="Write exercises/NN.ipynb from solutions/NN.ipynb.")
    p.add_argument("names", nargs="*", help="solution notebooks to convert (default: all)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if exercises/ drifted")
    p.add_argument("--solutions", type=Path, default=None, help="solutions folder (default: solutions/)")
    p.add_argument("--exercises", type=Path, default=None, help="exercises folder (default: exercises/)")
    args = p.parse_args(argv)
    sol = args.solutions or _default_base() / "solutions"
    ex = args.exercises or _default_base() / "exercises"
    try:
        res = generate(sol, ex, names=args.names or None, check=args.check)
    except GenerationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path in res.written:
        print(f"wrote {path}")
    for path in res.drifted:
        print(f"DRIFT {path}: differs from the generator's output (run `make exercises`)")
        print(diff(sol / path.name, path, n=1)[:3000])
    for path in res.orphans:
        print(f"{'DRIFT' if args.check else 'warning'} {path}: no solutions/{path.name} to generate it from")
    print(f"{len(res.written)} written, {len(res.unchanged)} unchanged, {len(res.drifted)} drifted, "
          f"{len(res.orphans)} without a solution")
    return 1 if args.check and (res.drifted or res.orphans) else 0


def _isolation_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--require-isolation", action="store_true",
                   help="refuse to grade unless the notebook's kernel can be sandboxed (files and network)")
    p.add_argument("--no-isolation", action="store_true",
                   help="run the kernel with your own permissions (only for notebooks you trust)")
    p.add_argument("--hide", type=Path, action="append", default=[], metavar="DIR",
                   help="a folder the notebook must not see while it runs (repeatable)")


def main_grade(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m translearn_lib.grading",
                                description="Grade an exercise notebook (exit 0 only if every question passes).",
                                epilog="Use `python -m translearn_lib.grading generate --help` for the generator.")
    p.add_argument("notebook", type=Path)
    p.add_argument("--grader", type=Path, help="grader file (default: tests/graders/<notebook name>.py)")
    p.add_argument("--solution", type=Path, help="notebook with the original check cells (default: solutions/<name>)")
    p.add_argument("--timeout", type=float, default=120, help="seconds per cell (default 120)")
    p.add_argument("--total-timeout", type=float, default=900, help="seconds for the whole notebook (default 900)")
    p.add_argument("--seed", type=int, help="seed of the hidden checks' fresh inputs (default: random)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    _isolation_args(p)
    args = p.parse_args(argv)
    from .grader import GraderSetupError, grade

    try:
        report = grade(args.notebook, args.grader, args.solution, timeout=args.timeout,
                       total_timeout=args.total_timeout, seed=args.seed, isolate=not args.no_isolation,
                       require_isolation=args.require_isolation, hide=tuple(args.hide))
    except GraderSetupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # never show the learner a grader traceback
        print(f"error: the grader failed unexpectedly ({type(err).__name__}: {err}); "
              "please report this with the notebook attached", file=sys.stderr)
        return 3
    print(json.dumps(report.to_dict(), indent=1) if args.json else report.table())
    return report.exit_code


def main_class(argv: list[str]) -> int:
    from .batch import grade_class

    p = argparse.ArgumentParser(prog="python -m translearn_lib.grading class",
                                description="Grade every notebook of a class: CSV gradebook + one feedback "
                                            "report per student. Rerun to resume (only new or changed "
                                            "notebooks are graded again).")
    p.add_argument("submissions", type=Path, help="folder with one folder (or one notebook) per student")
    p.add_argument("--out", type=Path, default=Path("grades.csv"), help="the CSV gradebook (default grades.csv)")
    p.add_argument("--feedback", type=Path, help="folder of the feedback reports (default <out>_feedback/)")
    p.add_argument("--format", choices=("md", "html"), default="md", help="feedback format (default md)")
    p.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (about one core each)")
    p.add_argument("--exercise", help="grade every notebook as this exercise, e.g. 01_transfer_basics")
    p.add_argument("--root", type=Path, help="course folder with tests/graders/ and solutions/ (default: this one)")
    p.add_argument("--timeout", type=float, default=120, help="seconds per cell (default 120)")
    p.add_argument("--total-timeout", type=float, default=900, help="seconds per notebook (default 900)")
    p.add_argument("--require-isolation", action="store_true",
                   help="grade nothing unless the kernels can be sandboxed (files and network)")
    args = p.parse_args(argv)
    from .sandbox import detect

    iso = detect()
    if args.require_isolation and not iso.full:
        print(f"error: isolation required but not available: {iso.describe()}", file=sys.stderr)
        return 2
    if not iso.full:
        print(iso.describe(), file=sys.stderr)
    try:
        rows = grade_class(args.submissions, args.out, feedback=args.feedback, jobs=args.jobs, fmt=args.format,
                           exercise=args.exercise, root=args.root, timeout=args.timeout,
                           total_timeout=args.total_timeout, require_isolation=args.require_isolation)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(f"{len(rows)} notebooks: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    print(f"gradebook: {args.out}   feedback: {args.feedback or args.out.with_name(args.out.stem + '_feedback')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "generate":
        return main_generate(argv[1:])
    if argv and argv[0] == "class":
        return main_class(argv[1:])
    if argv and argv[0] == "grade":
        argv = argv[1:]
    return main_grade(argv)


if __name__ == "__main__":
    sys.exit(main())
