"""Write ``exercises/NN_topic.ipynb`` from ``solutions/NN_topic.ipynb``.

Markers in the solution (code cells):

* ``# BEGIN SOLUTION [qN] [: prompt]`` ... ``# END SOLUTION`` - the block is replaced, at the
  same indentation, by ``# TODO (qN): prompt`` and ``raise NotImplementedError("Exercise qN: ...")``.
  Without an explicit ``qN`` the id of the next ``# CHECK qN`` cell is used.
* ``<line>  # SOLUTION`` - the line becomes a ``...`` stub: ``x = expr  # SOLUTION`` -> ``x = ...``,
  ``return expr  # SOLUTION`` -> ``return ...``, anything else -> ``...``.
* Markdown cells: ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->`` becomes
  ``*Write your answer here.*``.

Everything else is copied: check cells (first line ``# CHECK qN``) verbatim, prose, tags. Outputs
and execution counts are dropped, ``# NBVAL_CHECK_OUTPUT`` lines are removed (an exercise has no
saved outputs to compare with), and a short "how to do this exercise" cell follows the title. The
output is byte-for-byte deterministic.
"""

from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN = re.compile(r"^(?P<indent>[ \t]*)#\s*BEGIN SOLUTION\b[ \t]*(?P<rest>.*?)\s*$")
END = re.compile(r"^[ \t]*#\s*END SOLUTION\b.*$")
LINE = re.compile(r"^(?P<body>.*?)[ \t]*#[ \t]*SOLUTION[ \t]*$")
MD_BEGIN = re.compile(r"^\s*<!--\s*BEGIN SOLUTION\s*-->\s*$")
MD_END = re.compile(r"^\s*<!--\s*END SOLUTION\s*-->\s*$")
CHECK = re.compile(r"^#[ \t]*CHECK[ \t]+(?P<qid>q[0-9]+[a-z]?)\b")
_QID_PREFIX = re.compile(r"^(?P<qid>q[0-9]+[a-z]?)\b[ \t]*[:\-]?[ \t]*(?P<prompt>.*)$")
_ASSIGN = re.compile(r"^(?P<target>[ \t]*[A-Za-z_][\w.]*(?:\[[^\]]*\])?(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*)"
                     r"[ \t]*(?P<op>[-+*/@%|&^]?=)(?!=)")
_RETURN = re.compile(r"^(?P<indent>[ \t]*)return\b")
_NBVAL = re.compile(r"^[ \t]*#[ \t]*NBVAL_CHECK_OUTPUT[ \t]*\n?", re.M)
#: Strings that must never appear in a generated exercise.
LEAK_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "# SOLUTION", "#SOLUTION")
HOWTO_ID = "exercise-how-to"


class GenerationError(ValueError):
    """A solution notebook whose markers cannot be turned into an exercise."""


def check_id(source: str) -> str | None:
    """Return ``"qN"`` if the cell is a check cell (first line ``# CHECK qN``), else ``None``.
    """
    first = source.lstrip("\n").split("\n", 1)[0].strip()
    m = CHECK.match(first)
    return m.group("qid") if m else None


def _strip_line(line: str) -> str:
    body = LINE.match(line).group("body")
    if not body.strip():
        return ""
    m = _RETURN.match(body)
    if m:
        return f"{m.group('indent')}return ..."
    m = _ASSIGN.match(body)
    if m:
        return f"{m.group('target').rstrip()} {m.group('op')} ..."
    indent = body[: len(body) - len(body.lstrip())]
    return f"{indent}..."


def _stub(indent: str, qid: str, prompt: str) -> list[str]:
    what = prompt or "write your code here"
    msg = f"Exercise {qid}: {what}".replace("\\", "\\\\").replace('"', '\\"')
    lines = [f"{indent}# TODO ({qid}): {what}"]
    lines.append(f'{indent}raise NotImplementedError("{msg}")')
    return lines


def strip_code(source: str, default_qid: str, where: str = "cell") -> str:
    """Replace the solution markers of one code cell by exercise stubs.

    Args:
        source: the cell source.
        default_qid: the question id used when a ``BEGIN SOLUTION`` line names none.
        where: a label for error messages.

    Returns:
        str: the exercise source.

    Raises:
        GenerationError: on an unclosed, unopened or nested block.
    """
    out: list[str] = []
    in_block = False
    for lineno, line in enumerate(source.split("\n"), 1):
        m = BEGIN.match(line)
        if m:
            if in_block:
                raise GenerationError(f"{where}, line {lineno}: nested '# BEGIN SOLUTION'")
            in_block = True
            rest = m.group("rest").lstrip(":- \t")
            qid, prompt = default_qid, rest
            pm = _QID_PREFIX.match(rest)
            if pm:
                qid, prompt = pm.group("qid"), pm.group("prompt")
            out.extend(_stub(m.group("indent"), qid, prompt.strip()))
            continue
        if END.match(line):
            if not in_block:
                raise GenerationError(f"{where}, line {lineno}: '# END SOLUTION' without a BEGIN")
            in_block = False
            continue
        if in_block:
            continue
        if LINE.match(line):
            stub = _strip_line(line)
            if stub:
                out.append(stub)
            continue
        out.append(line)
    if in_block:
        raise GenerationError(f"{where}: '# BEGIN SOLUTION' is never closed by '# END SOLUTION'")
    return _NBVAL.sub("", "\n".join(out))


def strip_markdown(source: str, where: str = "cell") -> str:
    """Replace ``<!-- BEGIN SOLUTION -->`` blocks of a markdown cell by an answer prompt.
    """
    out: list[str] = []
    in_block = False
    for line in source.split("\n"):
        if MD_BEGIN.match(line):
            if in_block:
                raise GenerationError(f"{where}: nested '<!-- BEGIN SOLUTION -->'")
            in_block = True
            out.append("*Write your answer here.*")
        elif MD_END.match(line):
            if not in_block:
                raise GenerationError(f"{where}: '<!-- END SOLUTION -->' without a BEGIN")
            in_block = False
        elif not in_block:
            out.append(line)
    if in_block:
        raise GenerationError(f"{where}: '<!-- BEGIN SOLUTION -->' is never closed")
    return "\n".join(out)


def _howto(name: str) -> str:
    return (
        "> **Exercise notebook.** Generated from `solutions/{n}` by `make exercises`; do not edit the\n"
        "> generator's output in the repository, work on it (or on a copy) in JupyterLab.\n"
        "> Replace every `raise NotImplementedError(...)` and every `...` placeholder with your code,\n"
        "> run the `# CHECK` cells (they explain what is wrong), then grade the whole notebook:\n"
        "> `make grade NB=exercises/{n}` (or `python -m translearn_lib.grading exercises/{n}`).\n"
        "> The grader also runs hidden checks on fresh inputs, so hard-coded answers do not pass.\n"
        "> Keep the `# CHECK` cells as they are: the grader runs the original checks anyway."
    ).format(n=name)


def make_exercise(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """Build the exercise notebook (in memory) from a solution notebook.

    Args:
        solution: the solution notebook (nbformat v4).
        name: its file name, e.g. ``"01_transfer_basics.ipynb"``.

    Returns:
        nbformat.NotebookNode: the exercise.

    Raises:
        GenerationError: on bad markers or if a stub leaves invalid Python.
    """
    src_cells = solution.cells
    # the question each cell belongs to by default: the next check cell's id
    next_qid: list[str] = ["exercise"] * len(src_cells)
    current = "exercise"
    for i in range(len(src_cells) - 1, -1, -1):
        cell = src_cells[i]
        if cell.cell_type == "code":
            qid = check_id(cell.source)
            if qid:
                current = qid
        next_qid[i] = current
    cells = []
    for i, cell in enumerate(src_cells):
        where = f"{name}, cell {i + 1}"
        source = cell.source
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(strip_code(source, next_qid[i], where))
            _check_syntax(new.source, where)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(strip_markdown(source, where))
        else:
            new = nbformat.v4.new_raw_cell(source)
        tags = list(cell.get("metadata", {}).get("tags", []))
        new.metadata = {"tags": tags} if tags else {}
        new["id"] = cell.get("id") or f"cell-{i}"
        cells.append(new)
    howto = nbformat.v4.new_markdown_cell(_howto(name))
    howto["id"] = HOWTO_ID
    at = 1 if cells and cells[0].cell_type == "markdown" else 0
    cells.insert(at, howto)
    nb = nbformat.v4.new_notebook()
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.cells = cells
    meta = {"kernelspec": copy.deepcopy(solution.metadata.get(
        "kernelspec", {"name": "python3", "display_name": "Python 3 (translearn)", "language": "python"}))}
    meta["language_info"] = {"name": "python"}
    meta["translearn"] = {"exercise": Path(name).stem, "generated_from": f"solutions/{name}"}
    nb.metadata = meta
    leaks = find_leaks(nb)
    if leaks:
        raise GenerationError(f"{name}: solution markers left in the exercise: {leaks}")
    return nb


def _check_syntax(source: str, where: str) -> None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        python = TransformerManager().transform_cell(source)
    except Exception:  # pragma: no cover - IPython missing: check the raw source
        python = source
    try:
        compile(python, where, "exec")
    except SyntaxError as err:
        raise GenerationError(f"{where}: the exercise stub is not valid Python ({err.msg}, line {err.lineno})."
                              " Put '# BEGIN/END SOLUTION' around whole statements.") from None


def find_leaks(nb: nbformat.NotebookNode) -> list[str]:
    """List ``"cell N: marker"`` for every solution marker or output left in a notebook.
    """
    leaks = []
    for i, cell in enumerate(nb.cells, 1):
        for marker in LEAK_MARKERS:
            if marker in cell.source:
                leaks.append(f"cell {i}: {marker!r}")
        if MD_BEGIN.search(cell.source) or "<!-- END SOLUTION" in cell.source:
            leaks.append(f"cell {i}: markdown solution marker")
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            leaks.append(f"cell {i}: outputs")
    return leaks


def render(solution_path: Path) -> str:
    """Return the exercise file content (the exact text written to exercises/) for one solution.
    """
    solution = nbformat.read(solution_path, as_version=4)
    nb = make_exercise(solution, solution_path.name)
    nbformat.validate(nb)
    return nbformat.writes(nb, version=4) + "\n"


@dataclass
class GenerateResult:
    """What :func:`generate` did: files written, unchanged, drifted (check mode) and orphans."""

    written: list[Path]
    unchanged: list[Path]
    drifted: list[Path]
    orphans: list[Path]


def generate(solutions_dir: Path, exercises_dir: Path, names: list[str] | None = None,
             check: bool = False) -> GenerateResult:
    """Generate (or, with ``check=True``, only compare) every exercise.

    Args:
        solutions_dir: folder of ``NN_topic.ipynb`` solutions.
        exercises_dir: folder to write exercises to.
        names: only these solution file names (default: all ``[0-9][0-9]_*.ipynb``).
        check: do not write; report exercises that differ from the generator's output.

    Returns:
        GenerateResult: the files written/unchanged/drifted, and exercises without a solution.
    """
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    paths = sorted(solutions_dir.glob("[0-9][0-9]_*.ipynb"))
    if names:
        wanted = {Path(n).name for n in names}
        missing = wanted - {p.name for p in paths}
        if missing:
            raise GenerationError(f"no such solution notebook(s) in {solutions_dir}: {sorted(missing)}")
        paths = [p for p in paths if p.name in wanted]
    result = GenerateResult([], [], [], [])
    for path in paths:
        text = render(path)
        target = exercises_dir / path.name
        old = target.read_text(encoding="utf-8") if target.exists() else None
        if old == text:
            result.unchanged.append(target)
        elif check:
            result.drifted.append(target)
        else:
            exercises_dir.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
            result.written.append(target)
    if not names:
        known = {p.name for p in paths}
        result.orphans = sorted(p for p in exercises_dir.glob("*.ipynb") if p.name not in known)
    return result


def diff(solution_path: Path, exercise_path: Path, n: int = 3) -> str:
    """A unified diff between an exercise on disk and what the generator writes (for messages)."""
    want = render(solution_path).splitlines(keepends=True)
    have = exercise_path.read_text(encoding="utf-8").splitlines(keepends=True) if exercise_path.exists() else []
    return "".join(difflib.unified_diff(have, want, str(exercise_path), "generated", n=n))
