"""The graded notebook cannot touch the teacher's files or the network (translearn_lib.grading.sandbox).

A planted notebook answers its one question correctly and also tries to write into the repository's
``tests/graders/``, ``solutions/`` and library, into the grading course's own grader file, into
the home folder, and to open a network connection. It is graded; afterwards every file of the
repository is byte-identical (hashed before and after), nothing appeared in the home folder, the
answer still scores, and the report names each refusal. One small kernel, a few seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import textwrap
from pathlib import Path

import nbformat
import pytest

import translearn_lib
from translearn_lib.grading import sandbox
from translearn_lib.grading.__main__ import main
from translearn_lib.grading.grader import GraderSetupError, GradingSession, grade

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".git", "__pycache__", ".pytest_cache", "dist", ".ipynb_checkpoints"}
HOME_TARGET = Path.home() / ".translearn-tamper-test"

GRADER = textwrap.dedent('''
    from translearn_lib.grading import Question, checks

    def probe_q1(ns, seed):
        return checks.call(checks.get_function(ns, "double"), float(seed % 89))

    def judge_q1(seed, data):
        checks.assert_close(data, 2.0 * (seed % 89), "double(x)")

    QUESTIONS = [Question("q1", points=1, title="double", probe=probe_q1, judge=judge_q1,
                          wrong={"constant": "def double(x):\\n    return 4.0"})]
''')


def _tamper_cells(course: Path) -> list[str]:
    grader_file = sorted((ROOT / "tests" / "graders").glob("*.py"))[0]
    return [
        f"open({str(grader_file)!r}, 'a').write('\\nQUESTIONS = []\\n')",                    # edit a hidden check
        f"open({str(ROOT / 'tests' / 'graders' / 'zz_tamper.py')!r}, 'w').write('x')",      # plant a grader
        f"open({str(ROOT / 'solutions' / 'zz_tamper.ipynb')!r}, 'w').write('{{}}')",        # plant a solution
        f"open({str(ROOT / 'translearn_lib' / '__init__.py')!r}, 'a').write('\\nraise SystemExit\\n')",
        f"open({str(course / 'tests' / 'graders' / '99_tamper.py')!r}, 'w').write('QUESTIONS = []')",
        f"open({str(HOME_TARGET)!r}, 'w').write('x')",                                          # home folder
        "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=5)",                # network
    ]


def _course(tmp_path: Path, extra: list[str]) -> Path:
    course = tmp_path / "course"
    (course / "tests" / "graders").mkdir(parents=True)
    (course / "solutions").mkdir()
    (course / "exercises").mkdir()
    (course / "tests" / "graders" / "99_tamper.py").write_text(GRADER)
    cells = ["def double(x):\n    return 2 * x", "# CHECK q1\nassert double(3) == 6, 'double(3) should be 6'"]
    for folder, body in (("solutions", cells), ("exercises", cells[:1] + extra + cells[1:])):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(src) for src in body]
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"c{i}"
        nbformat.write(nb, course / folder / "99_tamper.ipynb")
    return course


def _tree_hash(*roots: Path) -> dict[str, str]:
    out = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not SKIP & set(path.relative_to(root).parts):
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@contextlib.contextmanager
def _guarded(course: Path):
    """Yield the tree hashes before grading; whatever happens, put the teacher's files back after."""
    before = _tree_hash(ROOT, course)
    originals = {p: Path(p).read_bytes() for p in before}
    try:
        yield before
    finally:  # if the sandbox failed, restore before the test fails
        for p, data in originals.items():
            if Path(p).read_bytes() != data:
                Path(p).write_bytes(data)
        for p in (ROOT / "tests" / "graders" / "zz_tamper.py", ROOT / "solutions" / "zz_tamper.ipynb", HOME_TARGET):
            p.unlink(missing_ok=True)


@pytest.mark.skipif(not sandbox.detect().full, reason="no full isolation here: " + sandbox.detect().describe())
def test_planted_notebook_cannot_touch_files_or_network(tmp_path):
    assert not HOME_TARGET.exists()
    attacks = _tamper_cells(tmp_path / "course")
    course = _course(tmp_path, attacks)
    with _guarded(course) as before:
        report = grade(course / "exercises" / "99_tamper.ipynb", seed=5, timeout=30)
        after = _tree_hash(ROOT, course)
        home_written = HOME_TARGET.exists()
    changed = sorted(set(before.items()) ^ set(after.items()))
    assert not changed, f"files changed or appeared during grading: {changed}"
    assert not home_written, "the notebook wrote into the home folder"
    assert report.isolation.startswith("isolation: bubblewrap"), report.table()
    assert report.total == report.max_total == 1, report.table()          # the honest answer still counts
    assert len(report.refused) == len(attacks), report.table()
    text = report.table()
    for needle in ("tests/graders", "solutions/zz_tamper", "translearn_lib/__init__.py", "99_tamper.py",
                   str(HOME_TARGET), "Network is unreachable"):
        assert needle in "\n".join(report.refused), f"{needle!r} is not named as refused:\n{text}"
    assert "Refused by the sandbox:" in text and text.splitlines()[1].startswith("  isolation: bubblewrap")


@pytest.mark.skipif(not sandbox.detect().full, reason="no full isolation here")
def test_kernel_sees_no_solutions_or_hidden_checks_and_keeps_the_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "results").mkdir(parents=True)
    (cache / "results" / "entry-abc.json").write_text('{"v": 1}')
    monkeypatch.setenv("TRANSLEARN_CACHE", str(cache))
    probe = ("import json, os\nfrom pathlib import Path\nfrom translearn_lib import cache, config\n"
             f"seen = sorted(os.listdir({str(ROOT / 'solutions')!r}))\n"
             f"seen += sorted(os.listdir({str(ROOT / 'tests' / 'graders')!r}))\n"
             "old = cache.load_json(config.cache_dir('results') / 'entry-abc.json')\n"
             "cache.save_json(config.cache_dir('results') / 'entry-abc.json', {'v': 666})\n"
             "cache.save_json(config.cache_dir('results') / 'new-1.json', {'v': 2})\n"
             "again = cache.load_json(config.cache_dir('results') / 'entry-abc.json')\n"
             "import translearn_lib\nlib, up = translearn_lib.__file__, sorted(os.listdir('..'))\n"
             "print(json.dumps([seen, old, again]))")
    course = _course(tmp_path, [probe])
    with GradingSession(course / "exercises" / "99_tamper.ipynb", seed=1, timeout=30) as session:
        out = session._execute("print(json.dumps([seen, old, again, lib, up]))", 30).outputs
        report = session.report()
    seen, old, again, lib, up = json.loads(out[0]["text"])
    assert lib == translearn_lib.__file__                   # the kernel imports the grader's library copy
    assert up == ["exercises", "solutions", "tests"]        # the course under /tmp stays visible, read-only
    assert seen == [], "solutions/ or tests/graders/ is visible to the learner's kernel"
    assert old == {"v": 1} and again == {"v": 666}          # the kernel reads the cache and writes its own view
    assert json.loads((cache / "results" / "entry-abc.json").read_text()) == {"v": 1}   # the real one is intact
    assert sorted(p.name for p in (cache / "results").iterdir()) == ["entry-abc.json"]
    assert report.total == 1, report.table()


def test_without_isolation_the_report_warns_and_require_isolation_refuses(tmp_path, monkeypatch, capsys):
    course = _course(tmp_path, [])
    nb = course / "exercises" / "99_tamper.ipynb"
    report = grade(nb, seed=2, isolate=False)
    assert report.table().splitlines()[0].startswith("WARNING: NOT ISOLATED"), report.table()
    assert report.total == 1 and report.to_dict()["isolation"].startswith("WARNING")
    with pytest.raises(GraderSetupError, match="isolation required"):
        GradingSession(nb, isolate=False, require_isolation=True)
    monkeypatch.setenv("TRANSLEARN_SANDBOX", "none")
    assert main([str(nb), "--require-isolation"]) == 2
    assert "isolation required but not available" in capsys.readouterr().err


@pytest.mark.skipif(not sandbox.detect("user").files,
                    reason="no unprivileged-user fallback here (needs root and setpriv)")
def test_fallback_user_protects_files_and_says_the_network_is_open(tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSLEARN_SANDBOX", "user")
    attacks = _tamper_cells(tmp_path / "course")[:-1]          # the network is not blocked in this mode
    course = _course(tmp_path, attacks)
    with _guarded(course) as before:
        report = grade(course / "exercises" / "99_tamper.ipynb", seed=4, timeout=30)
        assert _tree_hash(ROOT, course) == before and not HOME_TARGET.exists()
    assert report.table().startswith("WARNING: PARTLY ISOLATED (unprivileged user)"), report.table()
    assert len(report.refused) == len(attacks) and report.total == 1, report.table()
    with pytest.raises(GraderSetupError, match="isolation required"):
        GradingSession(course / "exercises" / "99_tamper.ipynb", require_isolation=True)
