"""Command line: ``python -m translearn_lib.grading generate [--check]`` or ``... NOTEBOOK``.

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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "generate":
        return main_generate(argv[1:])
    if argv and argv[0] == "grade":
        argv = argv[1:]
    return main_grade(argv)


if __name__ == "__main__":
    sys.exit(main())
