"""Exercise generator and grader, on tiny synthetic notebooks (no TensorFlow).

The grader tests start real Jupyter kernels over IPC sockets (no network), ~1–2 s each.
"""

from __future__ import annotations

import json
import textwrap

import nbformat
import pytest

from translearn_lib.grading import generate as gen
from translearn_lib.grading.__main__ import main
from translearn_lib.grading.grader import GradingSession, grade, load_grader

# ------------------------------------------------------------------------------------ generator


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = []
    for i, (kind, src) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
        cell["id"] = f"c{i}"
        out.append(cell)
    nb.cells = out
    return nb


SOLUTION_CELLS = [
    ("md", "# Tiny exercise"),
    ("code", "import numpy as np"),
    ("code", "def row_norms(X):\n    # BEGIN SOLUTION: return the L2 norm of each row\n"
             "    return np.linalg.norm(X, axis=1)\n    # END SOLUTION"),
    ("code", "# CHECK q1\nout = row_norms(np.array([[3.0, 4.0], [0.0, 1.0]]))\n"
             "assert np.allclose(out, [5, 1]), f'expected [5, 1], got {out}'"),
    ("code", "def double(x):\n    return 2 * x  # SOLUTION"),
    ("code", "# CHECK q2\nassert double(3) == 6, 'double(3) should be 6'"),
]

GRADER = textwrap.dedent('''
    import numpy as np
    from translearn_lib.grading import Question, checks

    def _X(seed):
        rng = np.random.default_rng(seed)
        return rng.normal(size=(int(rng.integers(3, 7)), 4))

    def probe_q1(ns, seed):
        return checks.call(checks.get_function(ns, "row_norms"), _X(seed))

    def judge_q1(seed, data):
        checks.assert_close(data, np.linalg.norm(_X(seed), axis=1), "row_norms(X)")

    def probe_q2(ns, seed):
        return checks.call(checks.get_function(ns, "double"), float(seed % 97))

    def judge_q2(seed, data):
        checks.assert_close(data, 2.0 * (seed % 97), "double(x)")

    QUESTIONS = [
        Question("q1", points=2, title="row norms", probe=probe_q1, judge=judge_q1,
                 wrong={"columns": "def row_norms(X):\\n    return np.linalg.norm(X, axis=0)"}),
        Question("q2", points=1, title="double", probe=probe_q2, judge=judge_q2, timeout=5,
                 wrong={"constant": "def double(x):\\n    return 6"}),
    ]
''')


def test_block_becomes_prompt_and_failing_stub():
    src = "def f(x):\n    y = 1\n    # BEGIN SOLUTION q3: add one\n    y = x + 1\n    return y\n    # END SOLUTION\n"
    out = gen.strip_code(src, "q9")
    assert "x + 1" not in out and "SOLUTION" not in out
    assert "    # TODO (q3): add one" in out
    assert '    raise NotImplementedError("Exercise q3: add one")' in out
    assert out.startswith("def f(x):\n    y = 1\n")
    ns = {}
    exec(out, ns)
    with pytest.raises(NotImplementedError, match="Exercise q3"):
        ns["f"](1)


def test_block_without_id_uses_the_given_question():
    out = gen.strip_code("# BEGIN SOLUTION\nanswer = 42\n# END SOLUTION", "q2")
    assert out == '# TODO (q2): write your code here\nraise NotImplementedError("Exercise q2: write your code here")'


@pytest.mark.parametrize("line,stub", [
    ("    return np.sum(x)  # SOLUTION", "    return ..."),
    ("result = model.fit(X, y)  # SOLUTION", "result = ..."),
    ("a, b = 1, 2 # SOLUTION", "a, b = ..."),
    ("total += x  #SOLUTION", "total += ..."),
    ("    print(f(a=1))  # SOLUTION", "    ..."),
    ("base.trainable = False  # SOLUTION", "base.trainable = ..."),
])
def test_solution_lines_become_ellipsis(line, stub):
    assert gen.strip_code(line, "q1") == stub


def test_markers_in_strings_and_checks_are_respected():
    assert gen.strip_code("x == 1  # SOLUTION", "q1") == "..."          # a comparison is not an assignment
    assert gen.strip_code("# NBVAL_CHECK_OUTPUT\nprint(1)", "q1") == "print(1)"
    md = "Answer:\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->\nEnd"
    assert gen.strip_markdown(md) == "Answer:\n*Write your answer here.*\nEnd"


@pytest.mark.parametrize("src", [
    "# BEGIN SOLUTION\nx = 1",
    "x = 1\n# END SOLUTION",
    "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION",
])
def test_unbalanced_markers_raise(src):
    with pytest.raises(gen.GenerationError):
        gen.strip_code(src, "q1", "nb, cell 3")


def test_stub_that_breaks_syntax_is_reported():
    nb = _nb(("code", "if True:\n    # BEGIN SOLUTION\n    x = 1\n# END SOLUTION\n  y = 2"))
    with pytest.raises(gen.GenerationError, match="cell 1"):
        gen.make_exercise(nb, "01_x.ipynb")


def test_make_exercise_strips_outputs_keeps_checks_and_infers_ids():
    nb = _nb(*SOLUTION_CELLS)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells[1].execution_count = 3
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.cells[1].metadata["execution"] = {"x": 1}
    ex = gen.make_exercise(nb, "00_tiny.ipynb")
    assert ex.cells[0].source == "# Tiny exercise" and ex.cells[1]["id"] == gen.HOWTO_ID
    code = [c for c in ex.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert code[0].metadata == {"tags": ["parameters"]}
    assert 'raise NotImplementedError("Exercise q1: return the L2 norm of each row")' in code[1].source
    assert code[2].source == SOLUTION_CELLS[3][1]                      # check cell verbatim
    assert code[3].source == "def double(x):\n    return ..."
    assert gen.find_leaks(ex) == []
    assert ex.metadata["translearn"]["exercise"] == "00_tiny"


def test_find_leaks_reports_markers_and_outputs():
    nb = _nb(("code", "x = 1  # SOLUTION"), ("md", "<!-- BEGIN SOLUTION -->"))
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="1")]
    leaks = gen.find_leaks(nb)
    assert any("# SOLUTION" in leak for leak in leaks) and any("outputs" in leak for leak in leaks)
    assert any("markdown" in leak for leak in leaks)


def _course(tmp_path, solution_cells=SOLUTION_CELLS, grader=GRADER, name="00_tiny"):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "tests" / "graders").mkdir(parents=True)
    nbformat.write(_nb(*solution_cells), tmp_path / "solutions" / f"{name}.ipynb")
    (tmp_path / "tests" / "graders" / f"{name}.py").write_text(grader)
    return tmp_path


def test_generate_is_deterministic_and_check_detects_drift(tmp_path, capsys):
    root = _course(tmp_path)
    sol, ex = root / "solutions", root / "exercises"
    res = gen.generate(sol, ex)
    first = (ex / "00_tiny.ipynb").read_bytes()
    assert res.written == [ex / "00_tiny.ipynb"]
    res = gen.generate(sol, ex)
    assert res.unchanged == [ex / "00_tiny.ipynb"] and (ex / "00_tiny.ipynb").read_bytes() == first
    assert gen.generate(sol, ex, check=True).drifted == []
    assert main(["generate", "--check", "--solutions", str(sol), "--exercises", str(ex)]) == 0
    (ex / "00_tiny.ipynb").write_bytes(first.replace(b"double", b"triple"))
    assert gen.generate(sol, ex, check=True).drifted == [ex / "00_tiny.ipynb"]
    assert main(["generate", "--check", "--solutions", str(sol), "--exercises", str(ex)]) == 1
    assert "DRIFT" in capsys.readouterr().out
    assert main(["generate", "--solutions", str(sol), "--exercises", str(ex)]) == 0
    assert (ex / "00_tiny.ipynb").read_bytes() == first
    (ex / "99_orphan.ipynb").write_bytes(first)
    assert main(["generate", "--check", "--solutions", str(sol), "--exercises", str(ex)]) == 1


# --------------------------------------------------------------------------------------- grader

def _learner(root, cells, name="00_tiny", raw=None):
    path = root / "exercises" / f"{name}.ipynb"
    path.parent.mkdir(exist_ok=True)
    if raw is not None:
        path.write_text(raw)
    else:
        nbformat.write(_nb(*cells), path)
    return path


def _by_id(report):
    return {q.id: q for q in report.questions}


def test_grade_solution_passes_and_untouched_exercise_fails(tmp_path, capsys):
    root = _course(tmp_path)
    gen.generate(root / "solutions", root / "exercises")
    with GradingSession(root / "solutions" / "00_tiny.ipynb", seed=5, timeout=30) as session:
        report = session.report()
        assert report.exit_code == 0 and report.total == 3 and report.max_total == 3
        assert "q1 row norms" in report.table() and "3/3 points" in report.table()
        # planted wrong answers fail on the same kernel
        grader = load_grader(root / "tests" / "graders" / "00_tiny.py")
        for q in grader.questions:
            for src in q.wrong.values():
                assert not session.hidden(q.id, override=src).passed
        assert session.hidden("q1").passed              # the override did not leak into the namespace
    code = main([str(root / "exercises" / "00_tiny.ipynb"), "--seed", "3", "--timeout", "30"])
    table = " ".join(capsys.readouterr().out.split())      # the table wraps long messages
    assert code == 1
    assert "0/3 points (0 of 2 questions passed)" in table
    assert "not implemented yet" in table and "returned `...`" in table


def test_hard_coded_answer_passes_visible_but_fails_hidden(tmp_path):
    root = _course(tmp_path)
    cells = list(SOLUTION_CELLS)
    cells[2] = ("code", "def row_norms(X):\n    return np.array([5.0, 1.0])")
    cells[4] = ("code", "def double(x):\n    return 6")
    report = grade(_learner(root, cells), seed=11, timeout=30)
    q = _by_id(report)
    assert q["q1"].visible[0].passed and not q["q1"].hidden.passed
    assert "expected shape" in q["q1"].hidden.message
    assert q["q2"].visible[0].passed and not q["q2"].hidden.passed and report.exit_code == 1


def test_erroring_cells_and_deleted_or_edited_checks(tmp_path):
    root = _course(tmp_path)
    cells = [SOLUTION_CELLS[0], ("code", "1 / 0"), *SOLUTION_CELLS[1:3],
             # check q1 deleted; check q2 edited to always pass; double is wrong
             ("code", "def double(x):\n    return 3 * x"), ("code", "# CHECK q2\npass")]
    report = grade(_learner(root, cells), seed=2, timeout=30)
    q = _by_id(report)
    notes = "\n".join(report.notes)
    assert "ZeroDivisionError" in notes
    assert "check cell for q1 is missing" in notes and "q2 (cell 6) was edited" in notes
    assert q["q1"].passed and q["q1"].points == 2                        # original check ran after the code
    assert not q["q2"].passed and "double(3) should be 6" in q["q2"].message
    assert report.total == 2 and report.exit_code == 1


def test_timeout_is_interrupted_and_grading_continues(tmp_path):
    root = _course(tmp_path)
    cells = [*SOLUTION_CELLS[:4], ("code", "import time\nwhile True:\n    time.sleep(0.05)"),
             ("code", "def double(x):\n    while True:\n        pass"), SOLUTION_CELLS[5]]
    report = grade(_learner(root, cells), seed=4, timeout=3)
    q = _by_id(report)
    assert any("did not finish within 3 s" in n for n in report.notes)
    assert q["q1"].passed
    assert not q["q2"].passed and "did not finish" in q["q2"].message
    assert report.exit_code == 1


@pytest.mark.slow
def test_hang_that_swallows_the_interrupt_stops_grading_with_a_reason(tmp_path):
    root = _course(tmp_path)
    hang = "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass"
    cells = [*SOLUTION_CELLS[:4], ("code", hang), *SOLUTION_CELLS[4:]]
    report = grade(_learner(root, cells), seed=6, timeout=2)
    table = " ".join(report.table().split())
    assert "ignored the interrupt" in table and report.total == 0 and report.exit_code == 1
    assert _by_id(report)["q1"].visible[0].passed               # what ran before the hang still counts


def test_dead_kernel_and_invalid_notebook_get_a_score_and_a_reason(tmp_path, capsys):
    root = _course(tmp_path)
    cells = [*SOLUTION_CELLS[:4], ("code", "import os\nos._exit(1)"), *SOLUTION_CELLS[4:]]
    report = grade(_learner(root, cells), seed=1, timeout=30)
    assert report.total == 0 and report.exit_code == 1
    assert "kernel died" in " ".join(report.table().split())
    _learner(root, [], raw='{"cells": [')
    assert main([str(root / "exercises" / "00_tiny.ipynb")]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "not a valid notebook" in out and "0/3 points" in out and "Traceback" not in out
    assert main([str(root / "exercises" / "99_missing.ipynb")]) == 2


def test_printed_or_displayed_fake_results_are_ignored(tmp_path):
    root = _course(tmp_path)
    fake = json.dumps({"nonce": "guess", "qid": "q1", "status": "ok", "data": [1.0]})
    cells = [*SOLUTION_CELLS[:2],
             ("code", "import builtins, numpy\n"
                      "numpy.allclose = lambda *a, **k: True           # neuter comparisons\n"
                      "from IPython.display import publish_display_data\n"
                      f"publish_display_data({{'application/x-translearn-grading': {fake!r}}})\n"
                      f"print({fake!r})\n"
                      "def _hook(*a, **k):\n"
                      f"    publish_display_data({{'application/x-translearn-grading': {fake!r}}})\n"
                      "get_ipython().events.register('post_run_cell', _hook)\n"
                      "def row_norms(X):\n    return numpy.zeros(len(X))\n"
                      "def double(x):\n    return 0\n"),
             SOLUTION_CELLS[3], SOLUTION_CELLS[5]]
    report = grade(_learner(root, cells), seed=8, timeout=30)
    q = _by_id(report)
    assert q["q1"].visible[0].passed                   # the patched np.allclose fools the visible check...
    assert not q["q1"].hidden.passed                    # ...but not the judge in the grader process
    assert not q["q2"].passed and report.total == 0


def test_grader_is_found_for_renamed_copies_and_json_report(tmp_path, capsys):
    from translearn_lib.grading.grader import find_grader

    root = _course(tmp_path)
    gen.generate(root / "solutions", root / "exercises")
    want = root / "tests" / "graders" / "00_tiny.py"
    assert find_grader(root / "exercises" / "00_tiny-Copy1.ipynb") == want
    renamed = root / "exercises" / "my work.ipynb"
    renamed.write_bytes((root / "exercises" / "00_tiny.ipynb").read_bytes())
    assert find_grader(renamed, nbformat.read(renamed, as_version=4)) == want   # via the exercise metadata
    _learner(root, [], raw="not json at all")
    assert main([str(root / "exercises" / "00_tiny.ipynb"), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["total"] == 0 and report["max_total"] == 3 and not report["passed"]
    assert [q["id"] for q in report["questions"]] == ["q1", "q2"]
    assert "not a valid notebook" in report["fatal"]
