"""The course as a learner sees it: JupyterLab in Chromium.

Opens the welcome notebook and every course notebook through the JupyterLab UI, and asserts that
each one renders its title and cells without a front-end error in the browser console.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, screenshot

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# Messages Chromium prints for reasons outside the course (no GPU, no network by design).
_BENIGN = re.compile(r"favicon|net::ERR_INTERNET_DISCONNECTED|net::ERR_NAME_NOT_RESOLVED|WebGL|GPU")


def _title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return nb.cells[0].source.splitlines()[0].lstrip("# ").strip()


def open_notebook(page, lab, rel: str, workspace: str):
    """Open `rel` in a fresh workspace; return the console errors collected while it loaded."""
    base, token = lab
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{rel}?reset&token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", state="visible")
    page.wait_for_selector(".jp-NotebookPanel .jp-RenderedMarkdown h1", state="visible")
    # the kernel is started by the UI when a notebook opens: wait until it reports idle
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle'], "
                           "[data-status='idle']", state="attached", timeout=90_000)
    return [e for e in errors if not _BENIGN.search(e)]


def _shutdown_kernels(lab):
    """Each opened notebook starts a kernel; stop them so 13 notebooks do not hold 13 kernels."""
    base, token = lab
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=10) as r:
        sessions = json.load(r)
    for s in sessions:
        req = urllib.request.Request(f"{base}/api/sessions/{s['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(req, timeout=10).close()


def test_welcome_notebook_renders(page, lab):
    errors = open_notebook(page, lab, "notebooks/00_welcome.ipynb", "welcome")
    heading = page.inner_text(".jp-NotebookPanel .jp-RenderedMarkdown h1").replace("¶", "").strip()
    assert heading == _title(ROOT / "notebooks" / "00_welcome.ipynb")
    # stored outputs are shown: the environment report and at least one figure
    assert page.locator(".jp-NotebookPanel .jp-OutputArea-output").count() > 3
    shot = screenshot(page, "00_welcome")
    assert shot.stat().st_size > 10_000
    assert not errors, f"front-end errors while opening 00_welcome: {errors}"


_CJK = re.compile(r"[\u4e00-\u9fff]")


def test_quiz_widget_reacts_in_the_browser(page, lab):
    """Run chapter 11's quiz cell, answer, see the feedback and score, switch to Chinese."""
    path = ROOT / "notebooks" / "11_interview_prep.ipynb"
    nb = nbformat.read(path, as_version=4)
    quiz_cell = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "interview.Quiz(" in c.source)
    open_notebook(page, lab, f"notebooks/{path.name}", "quiz")
    page.locator(".jp-NotebookPanel .jp-Cell").first.click()
    for _ in range(quiz_cell + 1):  # run every cell up to the quiz (setup, bank, parameters), in order
        page.keyboard.press("Shift+Enter")
        page.wait_for_timeout(150)
    quiz = page.locator(".translearn-quiz").first
    quiz.wait_for(state="visible", timeout=120_000)
    quiz.scroll_into_view_if_needed()
    question_en = quiz.locator(".translearn-question").inner_text()
    assert question_en.strip() and not _CJK.search(question_en), question_en
    before = quiz.locator(".translearn-feedback").inner_text().strip()
    quiz.locator(".translearn-option").first.click()
    # wait for the kernel's answer: the feedback starts as a prompt ("Choose an option."), so wait for a change
    page.wait_for_function(
        "([el, before]) => el.innerText.trim().length > 0 && el.innerText.trim() !== before",
        arg=[quiz.locator(".translearn-feedback").element_handle(), before])
    feedback = quiz.locator(".translearn-feedback").inner_text().strip()
    assert feedback and feedback != before
    assert re.search(r"\d+\s*/\s*\d+", quiz.locator(".translearn-score").inner_text()), "no score shown"
    screenshot(page, "11_quiz_answered")
    quiz.locator(".translearn-lang button", has_text="中文").click()
    page.wait_for_function("el => /[\u4e00-\u9fff]/.test(el.innerText)",
                           arg=quiz.locator(".translearn-question").element_handle())
    assert _CJK.search(quiz.locator(".translearn-question").inner_text())
    screenshot(page, "11_quiz_chinese")
    _shutdown_kernels(lab)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_opens_without_console_errors(page, lab, path):
    errors = open_notebook(page, lab, f"notebooks/{path.name}", f"nb{path.stem[:2]}")
    heading = page.inner_text(".jp-NotebookPanel .jp-RenderedMarkdown h1").replace("¶", "").strip()
    assert heading == _title(path)
    screenshot(page, path.stem)
    assert not errors, f"front-end errors while opening {path.name}: {errors}"
    # a notebook that opens "modified" (e.g. another kernel name) asks the learner to save on close
    page.wait_for_timeout(1000)
    assert page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() == 0, \
        f"{path.name} opens as modified in JupyterLab; re-run scripts/run_notebooks.py on it"
    _shutdown_kernels(lab)
