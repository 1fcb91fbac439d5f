"""Keep the learner's code away from the teacher's files and the network while it is graded.

The kernel that runs a learner's notebook is started inside an operating-system sandbox, chosen
once per process (:func:`detect`):

``bubblewrap`` (full isolation)
    ``bwrap`` with the whole file system bound read-only, fresh ``/tmp``, ``/dev`` and ``/proc``,
    every namespace unshared (no network: only a private loopback; no signals to the grader) and
    the kernel dying with the grader. Writable are only: a private scratch folder mounted where the
    notebook's folder was (it holds a copy of the notebook; ``..`` still finds the course; if that
    folder holds the library, the environment, the cache or the home folder, the scratch is the
    working folder instead), the
    kernel's runtime folder (connection file and the unix sockets of the ZMQ ``ipc`` transport,
    which work across network namespaces) and a copy-on-write view of the course cache (a folder
    of symlinks to the read-only entries: new entries land in the scratch, old ones cannot be
    overwritten). ``solutions/``, ``tests/graders/`` and any extra folder (the other students'
    submissions) are hidden behind empty folders.
``unprivileged user`` (files only)
    when bwrap cannot run but the grader runs as root: the kernel runs as ``nobody`` through
    ``setpriv``, so the teacher's root-owned files are not writable; the network is NOT blocked.
``none``
    the kernel runs with the teacher's permissions; the report says so at the top and
    ``--require-isolation`` turns it into an error.

``TRANSLEARN_SANDBOX=bwrap|user|none`` forces a method (used by the tests of the fallbacks).

Used by every notebook in exercises/: ``make grade NB=...`` runs its kernel in this sandbox.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_ENV = "TRANSLEARN_SANDBOX"
_LIB_ROOT = Path(__file__).resolve().parents[2]  # the folder holding translearn_lib/
#: errors a cell gets when the sandbox refuses a write or a connection
REFUSAL = re.compile(r"Read-only file system|Permission denied|Operation not permitted|Network is unreachable|"
                     r"Temporary failure in name resolution|Name or service not known|No address associated|"
                     r"Cannot assign requested address|\[Errno (30|13|1|101|99|-2|-3)\]")


@dataclass(frozen=True)
class Isolation:
    """What protects the teacher's machine from the graded notebook."""

    method: str          # "bubblewrap" | "unprivileged user" | "none"
    files: bool          # writes outside the scratch folder are refused
    network: bool        # network connections are refused
    reason: str = ""     # why a stronger method was not available

    @property
    def full(self) -> bool:
        return self.files and self.network

    def describe(self) -> str:
        """One line for the top of the report."""
        if self.full:
            return (f"isolation: {self.method} (the notebook could write only to its scratch folder "
                    "and had no network)")
        if self.files:
            return (f"WARNING: PARTLY ISOLATED ({self.method}): the teacher's files were protected but the "
                    f"network was NOT blocked{'; ' + self.reason if self.reason else ''}")
        return ("WARNING: NOT ISOLATED: the notebook ran with the grader's own permissions and network"
                f"{' (' + self.reason + ')' if self.reason else ''}; install bubblewrap (Debian package "
                "`bubblewrap`) to grade untrusted notebooks")


def _bwrap_base() -> list[str]:
    return ["bwrap", "--die-with-parent", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev",
            "--proc", "/proc", "--tmpfs", "/tmp"]


def _runs(cmd: list[str]) -> str:
    """'' if the command succeeds, else a short reason."""
    try:
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{cmd[0]} failed: {err}"
    if res.returncode != 0:
        return f"{cmd[0]} failed: {' '.join(res.stderr.split())[:160] or 'exit ' + str(res.returncode)}"
    return ""


def _nobody() -> tuple[int, int] | None:
    try:
        import pwd  # POSIX only
    except ImportError:
        return None
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return pw.pw_uid, pw.pw_gid


def detect(force: str | None = None) -> Isolation:
    """The strongest isolation this machine offers (tried once per process).

    Args:
        force: ``"bwrap"``, ``"user"`` or ``"none"`` (default: ``$TRANSLEARN_SANDBOX`` or the best).

    Returns:
        Isolation: the method and what it protects.
    """
    force = force or os.environ.get(_ENV) or None
    if force not in (None, "bwrap", "user", "none"):
        raise ValueError(f"{_ENV} must be bwrap, user or none, got {force!r}")
    return _detect(force)


@functools.lru_cache(maxsize=None)
def _detect(force: str | None) -> Isolation:
    if force == "none":
        return Isolation("none", False, False, f"{_ENV}=none")
    why = []
    if force in (None, "bwrap"):
        if shutil.which("bwrap") is None:
            why.append("bwrap is not installed")
        else:
            err = _runs(_bwrap_base() + ["true"])
            if not err:
                return Isolation("bubblewrap", True, True)
            why.append(err + " (user namespaces unavailable?)")
    if force in (None, "user"):
        ids = _nobody()
        if os.name != "posix" or os.geteuid() != 0:
            why.append("not root, so no unprivileged user to switch to")
        elif shutil.which("setpriv") is None or ids is None:
            why.append("no setpriv or no user nobody")
        else:
            err = _runs(_setpriv(ids) + [sys.executable, "-c", "import ipykernel"])  # can it run a kernel?
            if not err:
                return Isolation("unprivileged user", True, False, "; ".join(why))
            why.append(err)
    return Isolation("none", False, False, "; ".join(why))


def _setpriv(ids: tuple[int, int]) -> list[str]:
    return ["setpriv", f"--reuid={ids[0]}", f"--regid={ids[1]}", "--clear-groups", "--inh-caps=-all"]


def _cache_root() -> Path:
    from translearn_lib import config

    return config.cache_dir()


def _mirror(src: Path, dst: Path) -> None:
    """Folders copied, files as symlinks: reads see the cache, writes replace links in ``dst`` only."""
    dst.mkdir(parents=True, exist_ok=True)
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        for d in dirs:
            (dst / rel / d).mkdir(exist_ok=True)
        for f in files:
            if not f.startswith(".tmp-"):
                os.symlink(Path(root) / f, dst / rel / f)


def _mpl_cache() -> Path:
    if os.environ.get("MPLCONFIGDIR"):
        return Path(os.environ["MPLCONFIGDIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib"


class Sandbox:
    """The command prefix and environment of one sandboxed kernel.

    Args:
        isolation: from :func:`detect`.
        runtime: the kernel's private folder (connection file, sockets, scratch, cache view).
        notebook: the notebook being graded (its folder becomes the scratch inside bwrap).
        hide: folders the kernel must not see (``solutions/``, ``tests/graders/``, other students).
        cache_writable: bind the real course cache writable (only for the teacher's own solutions).
        roots: course folders the kernel must see read-only even under ``/tmp`` (which it gets fresh).
    """

    def __init__(self, isolation: Isolation, runtime: str | os.PathLike, notebook: str | os.PathLike,
                 hide: tuple = (), cache_writable: bool = False, roots: tuple = ()):
        self.isolation = isolation
        self.runtime = Path(runtime).resolve()
        self.notebook = Path(notebook).resolve()
        self.hide = [Path(h).resolve() for h in dict.fromkeys(hide) if Path(h).is_dir()]
        self.cache_writable = cache_writable
        paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        self.keep = [p for p in dict.fromkeys(Path(x).resolve() for x in (_LIB_ROOT, sys.prefix, *paths, *roots))
                     if p.exists() and p.is_relative_to("/tmp")]
        self.scratch = self.runtime / "scratch"
        self.scratch.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.notebook, self.scratch / self.notebook.name)
        self.cache = _cache_root().resolve()
        # the scratch replaces the notebook's folder unless that folder holds what the kernel needs
        needed = (self.cache, Path.home(), Path(sys.prefix), _LIB_ROOT)
        self.at_notebook = not any(p.resolve().is_relative_to(self.notebook.parent) for p in needed)
        self._env: dict[str, str] = {"PYTHONDONTWRITEBYTECODE": "1"}
        if isolation.method == "none":
            return
        (self.runtime / "ipython").mkdir(exist_ok=True)
        mpl = self.runtime / "matplotlib"
        mpl.mkdir(exist_ok=True)
        for f in _mpl_cache().glob("fontlist*.json"):  # keep matplotlib from rebuilding its font list
            shutil.copy2(f, mpl / f.name)
        self._env.update(IPYTHONDIR=str(self.runtime / "ipython"), MPLCONFIGDIR=str(mpl), TMPDIR="/tmp")
        if not cache_writable:
            view = self.runtime / "cache"
            _mirror(self.cache, view)
            self._env["TRANSLEARN_CACHE"] = str(view)
        if isolation.method == "unprivileged user":
            self._env["TMPDIR"] = str(self.runtime / "tmp")
            (self.runtime / "tmp").mkdir(exist_ok=True)
            ids = _nobody()
            for root, dirs, files in os.walk(self.runtime):
                for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.lchown(name, *ids)

    @property
    def cwd(self) -> Path:
        """The kernel's working folder as the kernel sees it."""
        return self.notebook.parent if self.isolation.method == "bubblewrap" and self.at_notebook else self.scratch

    def env(self) -> dict[str, str]:
        """Variables set for the kernel (on top of the grader's environment)."""
        return dict(self._env)

    def wrap(self, cmd: list[str], connection_file: str | None = None) -> list[str]:
        """The kernel command run inside the sandbox."""
        if self.isolation.method == "none":
            return list(cmd)
        if self.isolation.method == "unprivileged user":
            if connection_file:
                os.chown(connection_file, *_nobody())
            return _setpriv(_nobody()) + list(cmd)
        args = _bwrap_base()
        for path in self.keep:  # the library, environment or course living under /tmp stay visible
            args += ["--ro-bind", str(path), str(path)]
        for folder in self.hide:  # an empty read-only folder in its place: writes there are refused too
            args += ["--tmpfs", str(folder)]
            if folder not in self.notebook.parent.parents:  # else the scratch's mount point is made in it
                args += ["--remount-ro", str(folder)]
        # the cache view links into the real cache (visible read-only even when it lies under /tmp)
        args += ["--bind" if self.cache_writable else "--ro-bind", str(self.cache), str(self.cache)]
        args += ["--bind", str(self.runtime), str(self.runtime)]
        if self.at_notebook:
            args += ["--bind", str(self.scratch), str(self.notebook.parent)]
        args += ["--chdir", str(self.cwd)]
        # in its own pid namespace the kernel's parent is bwrap's pid 1: tell ipykernel that is expected
        for key, value in {**self._env, "JPY_PARENT_PID": "1"}.items():
            args += ["--setenv", key, value]
        return args + ["--"] + list(cmd)


def hidden_folders(*roots: Path) -> list[Path]:
    """``solutions/`` and ``tests/graders/`` of every course root given (those that exist)."""
    out = []
    for root in roots:
        for sub in ("solutions", Path("tests") / "graders"):
            if (Path(root) / sub).is_dir():
                out.append(Path(root) / sub)
    return out
