"""Build the two release bundles: ``dist/student/`` and ``dist/autograder/`` (+ archives).

    python scripts/release.py [--out dist] [--no-archives]      (or: make release)

``student/``     the course a learner gets: notebooks, exercises (generated, stubs only), the library
                 without its grader, benchmarks and their results, the environment files, and
                 ``docs/release/student_README.md`` as ``README.md``. No ``solutions/``, no ``tests/``
                 (``tests/graders/`` holds the hidden checks), no ``translearn_lib/grading/``.
``autograder/``  what a teacher needs to grade: the library with the grader, ``tests/graders/``,
                 ``solutions/`` (the original check cells), ``exercises/`` (to hand out), the grader's
                 own tests, the environment files, the course README and ``AUTOGRADER.md``.

The file list is the repository's (``git ls-files``, tracked and not ignored), so caches and local
runs never end up in a bundle. The student bundle is checked before it is archived: no solution
marker, no hidden check's source and no ``probe_``/``judge_`` function may appear in it
(:func:`find_leaks`; ``tests/unit/test_release.py`` runs the same check).
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMON = ("Makefile", "pyproject.toml", "requirements.txt", "requirements-assets.txt", "constraints.txt",
          "environment.yml", "LICENSE")
STUDENT = COMMON + ("notebooks/", "exercises/", "translearn_lib/", "benchmarks/", "docs/", "scripts/run_notebooks.py")
STUDENT_EXCLUDE = ("translearn_lib/grading/", "docs/exercises.md", "docs/release/autograder_README.md")  # teacher docs
AUTOGRADER = COMMON + ("README.md", "translearn_lib/", "tests/graders/", "solutions/", "exercises/",
                       "benchmarks/results/", "docs/", "scripts/", "tests/conftest.py",
                       "tests/unit/test_grading.py", "tests/unit/test_grading_isolation.py",
                       "tests/unit/test_grading_class.py")
MARKER = re.compile(r"^\s*#\s*(BEGIN|END) SOLUTION\b|#\s*SOLUTION\s*$|<!--\s*(BEGIN|END) SOLUTION")
HIDDEN_NAME = re.compile(r"\b(probe|judge)_q\d")


def tracked_files(root: Path = ROOT) -> list[str]:
    """Repository files, tracked or new but not ignored (``git ls-files``), as POSIX paths."""
    out = subprocess.run(["git", "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    return sorted(p for p in out if p and (root / p).is_file())


def _select(files: list[str], include: tuple, exclude: tuple = ()) -> list[str]:
    def hit(path: str, rules: tuple) -> bool:
        return any(path == r or (r.endswith("/") and path.startswith(r)) for r in rules)

    return [f for f in files if hit(f, include) and not hit(f, exclude) and "/__pycache__/" not in f]


def _copy(root: Path, files: list[str], dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, dest / rel)


def _grader_sources(root: Path) -> list[str]:
    """The source of every function a hidden-check file defines (what must never leak)."""
    out = []
    for path in sorted((root / "tests" / "graders").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef):
                out.append(ast.get_source_segment(text, node))
    return out


def _squash(text: str) -> str:
    return " ".join(text.split())


def find_leaks(bundle: Path, root: Path = ROOT) -> list[str]:
    """Reasons the bundle gives answers away (empty = clean): solution folders or markers, hidden checks.

    Args:
        bundle: the built ``student/`` folder.
        root: the repository holding ``tests/graders/`` (the hidden checks to search for).

    Returns:
        list[str]: one line per leak.
    """
    leaks = []
    sources = [_squash(s) for s in _grader_sources(root) if len(s.splitlines()) > 1]
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        rel = path.relative_to(bundle).as_posix()
        if rel.startswith(("solutions/", "tests/")):
            leaks.append(f"{rel}: a solution or test file is in the bundle")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.suffix == ".ipynb":  # marker lines live in cell sources: read them as lines
            import json

            cells = json.loads(text).get("cells", [])
            lines = [ln for cell in cells for ln in "".join(cell.get("source", "")).splitlines()]
        else:
            lines = text.splitlines()
        leaks += [f"{rel}: solution marker in {ln.strip()[:60]!r}" for ln in lines if MARKER.search(ln)]
        leaks += [f"{rel}: names a hidden check ({m.group(0)})" for m in HIDDEN_NAME.finditer(text)][:1]
        flat = _squash(text)
        leaks += [f"{rel}: holds a hidden check's source ({s[:50]}…)" for s in sources if s in flat][:1]
    return leaks


def build(out: Path, root: Path = ROOT, archives: bool = True) -> dict[str, Path]:
    """Write ``out/student`` and ``out/autograder`` (and their archives); refuse a leaking student bundle.

    Returns:
        dict[str, Path]: the folders and archives written.

    Raises:
        RuntimeError: the student bundle would leak a solution or hidden check.
    """
    files = tracked_files(root)
    out.mkdir(parents=True, exist_ok=True)
    student, grader = out / "student", out / "autograder"
    _copy(root, _select(files, STUDENT, STUDENT_EXCLUDE), student)
    shutil.copy2(root / "docs" / "release" / "student_README.md", student / "README.md")
    _copy(root, _select(files, AUTOGRADER), grader)
    shutil.copy2(root / "docs" / "release" / "autograder_README.md", grader / "AUTOGRADER.md")
    leaks = find_leaks(student, root)
    if leaks:
        shutil.rmtree(student)
        raise RuntimeError("the student bundle would give answers away:\n  " + "\n  ".join(leaks[:20]))
    written = {"student": student, "autograder": grader}
    if archives:
        for name, folder in (("student", student), ("autograder", grader)):
            for fmt, ext in (("gztar", ".tar.gz"), ("zip", ".zip")):
                written[f"{name}{ext}"] = Path(shutil.make_archive(str(out / f"translearn-{name}"), fmt,
                                                                   root_dir=out, base_dir=folder.name))
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default dist/)")
    p.add_argument("--no-archives", action="store_true", help="folders only")
    args = p.parse_args(argv)
    try:
        written = build(args.out, archives=not args.no_archives)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for name, path in written.items():
        n = sum(1 for p in path.rglob("*") if p.is_file()) if path.is_dir() else None
        print(f"{name:>24}: {path}" + (f" ({n} files)" if n is not None else f" ({path.stat().st_size / 1e6:.1f} MB)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
