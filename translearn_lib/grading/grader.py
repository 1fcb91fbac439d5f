"""Grade a learner's exercise notebook: execute it in a fresh kernel, run visible and hidden checks.

See :mod:`translearn_lib.grading` for the format and the threat model.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import nbformat

from . import sandbox
from .api import Question
from .generate import check_id

MIME = "application/x-translearn-grading"
_TIMEOUT_ENAME = "TranslearnCellTimeout"
_IOPUB_TIMEOUT = 10  # seconds to wait for a finished cell's outputs (the hidden-check result) on a busy CPU
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_COPY_SUFFIX = re.compile(r"(-Copy\d+| \(\d+\)|_copy\d*)$", re.I)


class GraderSetupError(Exception):
    """The grader itself cannot run (no grader file, bad grader file): a usage error, exit 2."""


# ----------------------------------------------------------------------------------------- results
@dataclass
class Outcome:
    """Result of one check: passed or not, and the message shown to the learner."""

    passed: bool
    message: str = ""


@dataclass
class QuestionResult:
    """Visible and hidden outcomes of one question."""

    id: str
    title: str
    max_points: int
    visible: list[Outcome] = field(default_factory=list)
    hidden: Outcome | None = None
    has_visible: bool = False

    @property
    def passed(self) -> bool:
        return (self.hidden is not None and self.hidden.passed
                and all(o.passed for o in self.visible)
                and (len(self.visible) > 0 or not self.has_visible))

    @property
    def points(self) -> int:
        return self.max_points if self.passed else 0

    @property
    def message(self) -> str:
        if self.passed:
            return "visible and hidden checks passed" if self.visible else "hidden check passed"
        parts = []
        bad = [o for o in self.visible if not o.passed]
        if bad and self.hidden is not None and not self.hidden.passed and _is_stub(self.hidden.message):
            return f"not done yet: {self.hidden.message}"
        if bad:
            parts.append(f"check cell: {bad[0].message}")
        elif self.has_visible and not self.visible:
            parts.append("check cell: did not run")
        if self.hidden is None:
            parts.append("hidden check: did not run")
        elif not self.hidden.passed:
            parts.append(f"hidden check: {self.hidden.message}")
        return " | ".join(parts)


def _is_stub(message: str) -> bool:
    return "not implemented yet" in message or "returned `...`" in message


@dataclass
class Report:
    """Everything the grade table shows."""

    notebook: str
    grader: str | None
    checks_from: str | None
    seed: int | None
    questions: list[QuestionResult]
    notes: list[str] = field(default_factory=list)
    fatal: str | None = None
    seconds: float = 0.0
    isolation: str = ""
    refused: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(q.points for q in self.questions)

    @property
    def max_total(self) -> int:
        return sum(q.max_points for q in self.questions)

    @property
    def all_passed(self) -> bool:
        return bool(self.questions) and all(q.passed for q in self.questions) and self.fatal is None

    @property
    def exit_code(self) -> int:
        return 0 if self.all_passed else 1

    def table(self, width: int = 100) -> str:
        """The per-question table and total, as printed by the CLI."""
        lines = [self.isolation] if self.isolation.startswith("WARNING") else []
        lines.append(f"Grading {self.notebook}")
        if self.isolation and not self.isolation.startswith("WARNING"):
            lines.append(f"  {self.isolation}")
        lines.append(f"  grader: {self.grader or '-'}   checks from: {self.checks_from or '-'}   "
                     f"seed: {self.seed if self.seed is not None else '-'}")
        if self.fatal:
            lines.append(f"  NOT GRADED NORMALLY: {self.fatal}")
        rows = [(f"{q.id} {q.title}", f"{q.points}/{q.max_points}", "passed" if q.passed else "FAILED",
                 q.message) for q in self.questions]
        head = ("question", "points", "result", "message")
        w = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(3)]
        fmt = f"{{:<{w[0]}}}  {{:>{w[1]}}}  {{:<{w[2]}}}  {{}}"
        lines.append("")
        lines.append(fmt.format(*head))
        lines.append(fmt.format("-" * w[0], "-" * w[1], "-" * w[2], "-------"))
        indent = " " * (w[0] + w[1] + w[2] + 6)
        msg_width = max(40, width - len(indent))
        for row in rows:
            wrapped = textwrap.wrap(row[3], msg_width) or [""]
            lines.append(fmt.format(row[0], row[1], row[2], wrapped[0]))
            lines.extend(indent + more for more in wrapped[1:])
        n_pass = sum(q.passed for q in self.questions)
        lines.append("")
        lines.append(f"Total: {self.total}/{self.max_total} points "
                     f"({n_pass} of {len(self.questions)} questions passed) in {self.seconds:.1f} s")
        for title, items in (("Refused by the sandbox:", self.refused), ("Notes:", self.notes)):
            if items:
                lines += ["", title]
                for item in items:
                    wrapped = textwrap.wrap(item, width - 4) or [""]
                    lines.append("  - " + wrapped[0])
                    lines.extend("    " + more for more in wrapped[1:])
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """A JSON-able summary (``--json``)."""
        return {"notebook": self.notebook, "grader": self.grader, "seed": self.seed, "fatal": self.fatal,
                "total": self.total, "max_total": self.max_total, "passed": self.all_passed,
                "questions": [{"id": q.id, "title": q.title, "points": q.points, "max_points": q.max_points,
                               "passed": q.passed, "message": q.message} for q in self.questions],
                "notes": self.notes, "isolation": self.isolation, "refused": self.refused,
                "seconds": round(self.seconds, 2)}


# ------------------------------------------------------------------------------------ grader files
@dataclass
class GraderFile:
    """A loaded ``tests/graders/NN_topic.py``."""

    path: Path
    module: ModuleType
    questions: list[Question]
    source: str

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)


def load_grader(path: str | os.PathLike) -> GraderFile:
    """Import a grader file and validate its ``QUESTIONS``.

    Args:
        path: the ``tests/graders/NN_topic.py`` file.

    Returns:
        GraderFile: the module and its questions.

    Raises:
        GraderSetupError: if it cannot be imported or declares no valid questions.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise GraderSetupError(f"grader file not found: {path}")
    name = "translearn_grader_" + re.sub(r"\W", "_", path.stem)
    source = path.read_text(encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a broken grader file is the teacher's problem: say where
        raise GraderSetupError(f"grader file {path} failed to import: {type(err).__name__}: {err}") from err
    questions = getattr(module, "QUESTIONS", None)
    if not questions or not all(isinstance(q, Question) for q in questions):
        raise GraderSetupError(f"{path}: QUESTIONS must be a non-empty list of translearn_lib.grading.Question")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise GraderSetupError(f"{path}: duplicate question ids in {ids}")
    return GraderFile(path, module, list(questions), source)


def _repo_roots(notebook: Path) -> list[Path]:
    roots = []
    for start in (notebook.resolve().parent, Path.cwd().resolve(), _PACKAGE_ROOT):
        for d in (start, *start.parents):
            if (d / "tests" / "graders").is_dir() and d not in roots:
                roots.append(d)
                break
    return roots


def _stems(notebook: Path, nb: nbformat.NotebookNode | None) -> list[str]:
    stems = [notebook.stem, _COPY_SUFFIX.sub("", notebook.stem)]
    if nb is not None:
        meta = nb.get("metadata", {}).get("translearn", {})
        if isinstance(meta, dict) and isinstance(meta.get("exercise"), str):
            stems.append(meta["exercise"])
    return list(dict.fromkeys(stems))


def find_grader(notebook: Path, nb: nbformat.NotebookNode | None = None) -> Path | None:
    """Find ``tests/graders/<name>.py`` for a notebook (by file name, then by its exercise metadata).
    """
    for root in _repo_roots(notebook):
        for stem in _stems(notebook, nb):
            cand = root / "tests" / "graders" / f"{stem}.py"
            if cand.is_file():
                return cand
    return None


def canonical_checks(solution: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """``[(qid, source), ...]`` of the check cells of a (solution) notebook, in order.
    """
    out = []
    for cell in solution.cells:
        if cell.cell_type == "code":
            qid = check_id(cell.source)
            if qid:
                out.append((qid, cell.source))
    return out


def _norm(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _short(source: str, n: int = 40) -> str:
    first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    return first if len(first) <= n else first[: n - 1] + "…"


def _clip(text: str, n: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _kernel_transport() -> str:
    """IPC (unix sockets) on POSIX: no TCP port is opened, and tests can forbid network sockets."""
    forced = os.environ.get("TRANSLEARN_KERNEL_TRANSPORT")
    if forced in ("ipc", "tcp"):
        return forced
    return "tcp" if os.name == "nt" else "ipc"


@dataclass
class _Exec:
    status: str  # ok | error | timeout | dead
    ename: str = ""
    evalue: str = ""
    outputs: list = field(default_factory=list)

    def outcome(self, timeout: float) -> Outcome:
        if self.status == "ok":
            return Outcome(True)
        if self.status == "timeout":
            return Outcome(False, f"did not finish within {timeout:g} s (an endless loop?)")
        if self.status == "dead":
            return Outcome(False, self.evalue)
        if self.ename == "AssertionError" and self.evalue:
            return Outcome(False, _clip(self.evalue))
        return Outcome(False, _clip(f"{self.ename}: {self.evalue}" if self.evalue else self.ename))


# --------------------------------------------------------------------------------------- session
class GradingSession:
    """Execute one notebook in a fresh kernel and keep the kernel to run hidden checks.

    ``grade()`` is all the CLI needs; the honesty tests also call :meth:`hidden` with planted wrong
    answers on the same executed solution, so each notebook is executed once.

    Args:
        notebook: the notebook to grade.
        grader: the grader file (default: ``tests/graders/<notebook name>.py`` found upwards).
        solution: the notebook whose ``# CHECK`` cells are the original checks (default:
            ``solutions/<name>.ipynb`` next to the grader; else the notebook's own check cells).
        timeout: seconds each notebook cell may run before it is interrupted.
        total_timeout: seconds for the whole notebook; later cells are skipped once it is spent.
        seed: seed for the hidden checks' fresh inputs (default: a new random one per run).
        kernel_name: Jupyter kernel to use.
        isolate: run the kernel in the strongest sandbox available (:mod:`.sandbox`); ``False``
            runs it with the grader's permissions (the report says so).
        require_isolation: raise :class:`GraderSetupError` unless the sandbox blocks both file
            writes outside the scratch folder and the network.
        hide: extra folders the kernel must not see (the class's other submissions).
        cache_writable: let the kernel write the real course cache (only for trusted solutions).
    """

    def __init__(self, notebook: str | os.PathLike, grader: str | os.PathLike | None = None,
                 solution: str | os.PathLike | None = None, *, timeout: float = 120,
                 total_timeout: float = 900, seed: int | None = None, kernel_name: str = "python3",
                 isolate: bool = True, require_isolation: bool = False, hide: tuple = (),
                 cache_writable: bool = False):
        self.path = Path(notebook)
        self.isolation = sandbox.detect() if isolate else sandbox.Isolation("none", False, False, "isolate=False")
        if require_isolation and not self.isolation.full:
            raise GraderSetupError("isolation required but not available: " + self.isolation.describe())
        self._hide, self._cache_writable = tuple(hide), cache_writable
        self.refused: list[str] = []
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.seed = int(seed) if seed is not None else secrets.randbelow(2**31)
        self.kernel_name = kernel_name
        self.notes: list[str] = []
        self.fatal: str | None = None
        self._grader_arg, self._solution_arg = grader, solution
        self._nonce = secrets.token_hex(16)
        self._harness_var = f"_translearn_harness_{secrets.token_hex(6)}"
        self._client = None
        self._dead: str | None = None
        self._harness_ok = False
        self._tmp: str | None = None
        self._reply: dict | None = None
        self._start = time.perf_counter()
        # read everything the kernel will receive *before* the learner's code runs (it could edit files)
        self._kernel_src = Path(__file__).with_name("_kernel.py").read_text(encoding="utf-8")
        self.visible: dict[str, list[Outcome]] = {}
        self.grader: GraderFile | None = None
        self.checks_from: Path | None = None

    # -- lifecycle
    def __enter__(self) -> "GradingSession":
        self.run()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self) -> None:
        """Read the notebook, start the kernel, execute every cell, load the hidden checks."""
        nb = self._read_notebook()
        self._load_grader(nb)
        if nb is None:
            return
        checks = self._load_checks(nb)
        if not self._start_kernel():
            return
        self._execute_notebook(nb, checks)
        self._setup_harness()

    def close(self) -> None:
        """Shut the kernel down and remove its socket files."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client._cleanup_kernel()
            except Exception:
                pass
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # -- steps
    def _read_notebook(self) -> nbformat.NotebookNode | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise GraderSetupError(f"no such notebook: {self.path}") from None
        except (OSError, UnicodeDecodeError) as err:
            self.fatal = f"the notebook could not be read ({type(err).__name__}: {err})"
            return None
        try:
            nb = nbformat.reads(text, as_version=4)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("it has no list of cells")
            for cell in nb.cells:
                if cell.get("cell_type") not in ("code", "markdown", "raw") or not isinstance(cell.get("source"), str):
                    raise ValueError("a cell has no valid type or source")
        except Exception as err:  # nbformat raises several types for broken files
            self.fatal = (f"the file is not a valid notebook ({_clip(err, 160)}); "
                          "restore it from exercises/ or fix the JSON, then grade again")
            return None
        return nb

    def _load_grader(self, nb: nbformat.NotebookNode | None) -> None:
        path = Path(self._grader_arg) if self._grader_arg else find_grader(self.path, nb)
        if path is None:
            raise GraderSetupError(
                f"no grader file for {self.path.name}: expected tests/graders/{self.path.stem}.py "
                "(pass --grader FILE if the notebook was renamed)")
        self.grader = load_grader(path)
        for q in self.grader.questions:
            self.visible.setdefault(q.id, [])

    def _load_checks(self, nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
        sol = Path(self._solution_arg) if self._solution_arg else None
        if sol is None:
            parents = self.grader.path.parents           # <root>/tests/graders/NN.py -> <root>/solutions/NN.ipynb
            cand = parents[2] / "solutions" / f"{self.grader.path.stem}.ipynb" if len(parents) > 2 else None
            sol = cand if cand is not None and cand.is_file() else None
        if sol is not None:
            try:
                self.checks_from = sol
                return canonical_checks(nbformat.read(sol, as_version=4))
            except Exception as err:
                self.notes.append(f"could not read the original checks from {sol} ({err}); "
                                  "using the notebook's own check cells")
        self.checks_from = self.path
        return canonical_checks(nb)

    def _start_kernel(self) -> bool:
        from jupyter_client.manager import AsyncKernelManager
        from nbclient import NotebookClient
        from traitlets.config import Config

        self._tmp = tempfile.mkdtemp(prefix="tlgrade-")
        os.chmod(self._tmp, 0o755)
        roots = [self.grader.path.parents[2]] if len(self.grader.path.parents) > 2 else []
        try:
            box = sandbox.Sandbox(self.isolation, self._tmp, self.path,
                                  hide=(*sandbox.hidden_folders(*roots, _PACKAGE_ROOT), *self._hide),
                                  cache_writable=self._cache_writable, roots=tuple(roots))
        except OSError as err:
            self.fatal = f"could not prepare the kernel's sandbox ({type(err).__name__}: {_clip(err, 200)})"
            return False
        cfg = Config()
        cfg.KernelManager.transport = _kernel_transport()
        if cfg.KernelManager.transport == "ipc":
            cfg.KernelManager.ip = os.path.join(self._tmp, "k")
        cfg.KernelManager.connection_file = os.path.join(self._tmp, "kernel.json")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        class _Client(NotebookClient):
            async def _async_handle_timeout(self, timeout, cell=None):
                self.iopub_timeout = 1  # an interrupted cell's trailing output is not worth waiting for
                return await super()._async_handle_timeout(timeout, cell)

        class _Manager(AsyncKernelManager):
            def format_kernel_cmd(self, extra_arguments=None):
                # interrupt by message: a signal to the sandbox's process group would hit bwrap itself
                self.kernel_spec.interrupt_mode = "message" if box.isolation.method != "none" else "signal"
                return box.wrap(super().format_kernel_cmd(extra_arguments), self.connection_file)

        stub = nbformat.v4.new_notebook()
        client = _Client(
            stub, config=cfg, timeout=int(self.timeout), kernel_name=self.kernel_name, allow_errors=True,
            interrupt_on_timeout=True, startup_timeout=120, shutdown_kernel="immediate", iopub_timeout=_IOPUB_TIMEOUT,
            error_on_timeout={"ename": _TIMEOUT_ENAME, "evalue": "timeout", "traceback": []},
            kernel_manager_class=_Manager, resources={"metadata": {"path": str(box.cwd)}})
        client.on_cell_executed = self._on_executed
        try:
            client.km = client.create_kernel_manager()
            debug = os.environ.get("TRANSLEARN_GRADER_DEBUG")  # =1: show the kernel's (and bwrap's) stderr
            client.start_new_kernel(stdout=subprocess.DEVNULL, stderr=None if debug else subprocess.DEVNULL,
                                    env={**os.environ, **box.env()})
            client.start_new_kernel_client()
        except Exception as err:
            self.fatal = f"could not start a Python kernel ({type(err).__name__}: {_clip(err, 200)})"
            self._client = client
            return False
        self._client = client
        return True

    def _on_executed(self, cell=None, cell_index=None, execute_reply=None) -> None:
        self._reply = execute_reply

    def _execute(self, source: str, timeout: float, recover: bool = True) -> _Exec:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if self._dead:
            return _Exec("dead", "KernelDied", self._dead)
        cell = nbformat.v4.new_code_cell(source)
        self._reply = None
        self._client.timeout = max(1, int(round(timeout)))
        self._client.nb.cells = [cell]
        self._client.iopub_timeout = _IOPUB_TIMEOUT
        try:
            self._client.execute_cell(cell, 0, store_history=False)
        except DeadKernelError:
            self._dead = ("the kernel died (the notebook crashed it, exited, or ran out of memory); "
                          "nothing after that point could run")
            return _Exec("dead", "KernelDied", self._dead)
        except CellTimeoutError:
            return self._after_timeout(cell, recover)
        except Exception as err:  # pragma: no cover - transport trouble
            self._dead = f"lost contact with the kernel ({type(err).__name__}: {_clip(err, 120)})"
            return _Exec("dead", "KernelDied", self._dead)
        content = (self._reply or {}).get("content", {})
        if content.get("ename") == _TIMEOUT_ENAME:
            return self._after_timeout(cell, recover)
        if content.get("status") == "error":
            return _Exec("error", content.get("ename", "Error"), content.get("evalue", ""), cell.outputs)
        return _Exec("ok", outputs=cell.outputs)

    def _after_timeout(self, cell, recover: bool = True) -> _Exec:
        # the kernel was interrupted; if it still does not answer, the notebook swallowed the interrupt
        if not recover:
            return _Exec("timeout", "Timeout", "", cell.outputs)
        probe = self._execute("pass", max(5.0, min(15.0, self.timeout)), recover=False) if not self._dead else None
        if probe is not None and probe.status == "timeout":
            self._dead = ("the kernel stayed busy after a timeout and ignored the interrupt; "
                          "nothing after that point could run")
            try:
                self._client._cleanup_kernel()
            except Exception:
                pass
        return _Exec("timeout", "Timeout", "", cell.outputs)

    def _execute_notebook(self, nb: nbformat.NotebookNode, checks: list[tuple[str, str]]) -> None:
        pending: dict[str, deque[str]] = {}
        for qid, src in checks:
            pending.setdefault(qid, deque()).append(src)
        self._check_ids = {qid for qid, _ in checks}
        deadline = self._start + self.total_timeout
        skipped = 0
        for index, cell in enumerate(nb.cells, 1):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if time.perf_counter() > deadline or self._dead:
                skipped += 1
                continue
            qid = check_id(cell.source)
            if qid and pending.get(qid):
                original = pending[qid].popleft()
                if _norm(original) != _norm(cell.source):
                    self.notes.append(f"the check cell for {qid} (cell {index}) was edited: "
                                      "the original check ran in its place")
                self._visible(qid, original)
                continue
            result = self._execute(cell.source, self.timeout)
            if result.status == "error" and self.isolation.method != "none" and sandbox.REFUSAL.search(result.evalue):
                self.refused.append(f"cell {index} ({_short(cell.source)}): "
                                    f"{_clip(result.ename + ': ' + result.evalue, 200)}")
            elif result.status == "error":
                self.notes.append(f"cell {index} ({_short(cell.source)}) raised "
                                  f"{_clip(result.ename + ': ' + result.evalue, 160)}")
            elif result.status == "timeout":
                self.notes.append(f"cell {index} ({_short(cell.source)}) did not finish within "
                                  f"{self.timeout:g} s and was interrupted")
            elif result.status == "dead":
                self.notes.append(f"cell {index} ({_short(cell.source)}): {self._dead}")
        if skipped and not self._dead:
            self.notes.append(f"the notebook used up the {self.total_timeout:g} s time limit: "
                              f"{skipped} later cell(s) were not run")
        for qid, left in pending.items():
            for original in left:
                if self._dead:
                    self.visible.setdefault(qid, []).append(Outcome(False, "did not run: " + self._dead))
                    continue
                self.notes.append(f"the check cell for {qid} is missing: the original check ran after "
                                  "your code (keep check cells in the notebook)")
                self._visible(qid, original)

    def _visible(self, qid: str, source: str) -> None:
        result = self._execute(source, self.timeout)
        self.visible.setdefault(qid, []).append(result.outcome(self.timeout))

    def _setup_harness(self) -> None:
        if self._dead:
            return
        kernel_src = self._kernel_src
        modname = f"translearn_grader_{self.grader.path.stem}_{self._nonce[:8]}"
        source = (
            "def _translearn_setup(ip):\n"
            "    import types\n"
            f"    harness = types.ModuleType('translearn_grading_kernel_{self._nonce[:8]}')\n"
            f"    exec(compile({kernel_src!r}, '<translearn grading harness>', 'exec'), harness.__dict__)\n"
            f"    return harness.setup(ip, {self.grader.source!r}, {str(self.grader.path)!r}, {modname!r})\n"
            f"{self._harness_var} = _translearn_setup(get_ipython())\n"
            "del _translearn_setup\n")
        result = self._execute(source, 120)
        if result.status == "ok":
            self._harness_ok = True
        else:
            reason = self._dead or _clip(f"{result.ename}: {result.evalue}", 200)
            self._harness_error = f"the hidden checks could not be loaded in the kernel ({reason})"
            self.notes.append(self._harness_error)

    # -- hidden checks
    def hidden(self, qid: str, seed: int | None = None, override: str | None = None) -> Outcome:
        """Run one question's hidden check (probe in the kernel, judge here).

        Args:
            qid: the question id.
            seed: seed for fresh inputs (default: derived from the session seed).
            override: source executed in a copy of the learner's namespace first (a planted wrong
                answer, used by the honesty tests).

        Returns:
            Outcome: passed or not, with the message.
        """
        q = self.grader.question(qid)
        if seed is None:
            seed = self.question_seed(qid)
        if self.fatal:
            return Outcome(False, "did not run: " + self.fatal)
        if self._dead:
            return Outcome(False, "did not run: " + self._dead)
        if not self._harness_ok:
            return Outcome(False, "did not run: " + getattr(self, "_harness_error", "no harness"))
        call = f"{self._harness_var}.run({qid!r}, {int(seed)}, {override!r}, {self._nonce!r})"
        result = self._execute(call, q.timeout)
        if result.status == "timeout":
            return Outcome(False, f"did not finish within {q.timeout:g} s on fresh inputs (an endless loop?)")
        if result.status == "dead":
            return Outcome(False, result.evalue)
        payloads = []
        for out in result.outputs:
            if out.get("output_type") != "display_data" or MIME not in out.get("data", {}):
                continue
            try:
                payload = json.loads(out["data"][MIME])
            except (TypeError, ValueError):
                continue
            if isinstance(payload, dict) and payload.get("nonce") == self._nonce and payload.get("qid") == qid:
                payloads.append(payload)
        if len(payloads) != 1:
            if not payloads:
                why = f" ({result.ename}: {_clip(result.evalue, 120)})" if result.status == "error" else ""
                return Outcome(False, f"no result came back from the hidden check{why}")
            return Outcome(False, "the notebook interfered with the grader (several results came back)")
        payload = payloads[0]
        if payload.get("status") != "ok":
            return Outcome(False, _clip(payload.get("message", "failed")))
        if q.judge is None:
            return Outcome(True)
        try:
            q.judge(int(seed), payload.get("data"))
        except AssertionError as err:
            return Outcome(False, _clip(str(err) or "wrong result on fresh inputs"))
        except Exception as err:  # judge crashed on odd data: still the learner's answer that is odd
            return Outcome(False, _clip(f"unexpected result on fresh inputs ({type(err).__name__}: {err})"))
        return Outcome(True)

    def question_seed(self, qid: str) -> int:
        """The seed of one question's fresh inputs in this run (derived from the session seed)."""
        index = [q.id for q in self.grader.questions].index(qid)
        return (self.seed + 1_000_003 * (index + 1)) % 2**31

    def report(self) -> Report:
        """Run every hidden check and assemble the grade table."""
        results = []
        for q in self.grader.questions:
            r = QuestionResult(q.id, q.title, q.points, visible=list(self.visible.get(q.id, [])),
                               has_visible=q.id in getattr(self, "_check_ids", set()))
            r.hidden = self.hidden(q.id)
            if self.fatal and not r.visible:
                r.has_visible = False
            results.append(r)
        return Report(str(self.path), _rel(self.grader.path), _rel(self.checks_from) if self.checks_from else None,
                      self.seed, results, list(self.notes), self.fatal, time.perf_counter() - self._start,
                      self.isolation.describe(), list(self.refused))


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def grade(notebook: str | os.PathLike, grader: str | os.PathLike | None = None,
          solution: str | os.PathLike | None = None, **kwargs) -> Report:
    """Grade one notebook and return the report (what ``python -m translearn_lib.grading NB`` prints).

    Args:
        notebook: the learner's notebook.
        grader: the grader file (default: found from the notebook name).
        solution: the notebook holding the original check cells (default: solutions/<name>).
        **kwargs: ``timeout``, ``total_timeout``, ``seed``, ``kernel_name`` (see GradingSession).

    Returns:
        Report: the per-question results; ``report.table()`` is the printed table.

    Raises:
        GraderSetupError: when no grader file exists for the notebook (a usage error).
    """
    with GradingSession(notebook, grader, solution, **kwargs) as session:
        return session.report()
