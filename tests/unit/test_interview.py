"""The interview question bank, the glossary and the quiz widgets (translearn_lib.interview)."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import nbformat
import pytest

from translearn_lib import interview as iv
from translearn_lib.interview import bank as bank_mod
from translearn_lib.interview import widgets as wmod

ROOT = Path(__file__).resolve().parents[2]
BANK_DIR = ROOT / "translearn_lib" / "interview" / "bank"
CJK = re.compile(r"[\u4e00-\u9fff]")
#: chapters whose notebooks exist with the sections the bank links to; chapters 07-10 and 12 link to the
#: sections their issues plan (add them here once those notebooks are merged and the names are checked)
SECTIONS_CHECKED = {"00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"}


@pytest.fixture(scope="module")
def bank():
    return iv.load_bank()


def _headings(notebook: str) -> set[str]:
    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    out = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            out |= {m.group(1).strip() for m in re.finditer(r"^#{2,4} (.+)$", cell.source, re.M)}
    return out


# ------------------------------------------------------------------------------------- the bank
def test_bank_size_and_coverage(bank):
    outline = [q for q in bank if q.outline]
    others = [q for q in bank if not q.outline]
    assert len(outline) == 13, "the outline has 5 topic questions, 6 interview-list questions and 2 coding tasks"
    assert len(others) >= 50
    per_chapter = collections.Counter(q.chapter for q in others)
    assert set(per_chapter) == set(iv.CHAPTERS), f"chapters without questions: {set(iv.CHAPTERS) - set(per_chapter)}"
    assert min(per_chapter.values()) >= 4
    assert {q.type for q in bank} == set(iv.TYPES)
    assert len({q.id for q in bank}) == len(bank)


def test_every_question_has_both_languages_written_for_the_reader(bank):
    for q in bank:
        for part in (q.texts, q.answers):
            assert part["en"].strip() and part["zh"].strip(), q.id
            assert not CJK.search(part["en"]), f"{q.id}: Chinese characters in the English text"
            assert CJK.search(part["zh"]), f"{q.id}: the Chinese text has no Chinese characters"
        for opts in q.options.values():
            assert all(v.strip() for v in opts.values())
        if q.options:
            assert all(CJK.search(v) or not re.search(r"[A-Za-z]{4,} [a-z]{4,} [a-z]{4,}", v)
                       for v in q.options["zh"].values()), f"{q.id}: an untranslated Chinese option"


def test_chapter_links_are_valid(bank):
    for q in bank:
        assert q.see["notebook"] == iv.CHAPTERS[q.see["notebook"][:2]], q.id
        assert q.notebook.startswith("notebooks/") and q.notebook.endswith(".ipynb")
        if q.see["notebook"][:2] in SECTIONS_CHECKED:
            assert (ROOT / q.notebook).exists(), f"{q.id}: {q.notebook} does not exist"
            assert q.see["section"] in _headings(q.see["notebook"]), \
                f"{q.id}: section {q.see['section']!r} is not a heading of {q.notebook}"
        if not q.outline:
            assert q.source == f"ch{q.chapter}.json", f"{q.id} sits in {q.source}, not ch{q.chapter}.json"


def test_types_difficulties_and_multiple_choice_keys(bank):
    for q in bank:
        assert q.type in iv.TYPES and q.difficulty in iv.DIFFICULTIES and q.tags
        if q.type == "multiple_choice":
            assert list(q.options["en"]) == list(q.options["zh"]) and len(q.options["en"]) >= 3
            assert q.key in q.options["en"]
            assert q.is_correct(q.key) and not any(q.is_correct(k) for k in q.options["en"] if k != q.key)
        else:
            assert q.key is None and not q.options


def test_answers_do_not_repeat_the_key(bank):
    # the widgets and the text fallback put "B." in front of the answer themselves
    for q in bank:
        if q.type == "multiple_choice":
            assert not re.match(r"^[A-D][.。]", q.answer("en")) and not re.match(r"^[A-D][.。]", q.answer("zh")), q.id


def test_packaged_bank_equals_the_source_folder():
    assert [q.id for q in iv.load_bank()] == [q.id for q in iv.load_bank(BANK_DIR)]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"translearn_lib.interview" = ["glossary.json", "bank/*.json"]' in pyproject, \
        "the bank must be package data (pyproject [tool.setuptools.package-data])"


def _write(tmp_path, records, name="ch01.json"):
    (tmp_path / name).write_text(records if isinstance(records, str) else json.dumps(records, ensure_ascii=False))
    return tmp_path


def _good():
    return {"id": "t-1", "chapter": "01", "difficulty": "easy", "tags": ["x"], "type": "multiple_choice",
            "see": {"notebook": "01_transfer_basics", "section": "x"},
            "en": {"text": "q?", "answer": "a", "options": {"A": "one", "B": "two"}},
            "zh": {"text": "问？", "answer": "答", "options": {"A": "一", "B": "二"}}, "key": "A"}


@pytest.mark.parametrize("change, message", [
    (lambda r: r["zh"].pop("answer"), "zh.answer is missing"),
    (lambda r: r.update(key="C"), "key 'C' is not one of the options"),
    (lambda r: r.update(type="essay"), "type 'essay' must be one of"),
    (lambda r: r.update(chapter="13"), "chapter '13' is not one of"),
    (lambda r: r["see"].update(notebook="99_nothing"), "see.notebook must name a course notebook"),
    (lambda r: r["zh"]["options"].pop("B"), "keys ['A', 'B'] and zh.options keys ['A']"),
    (lambda r: r.pop("tags"), "missing field 'tags'"),
    (lambda r: r.update(type="short_answer"), "only multiple-choice questions have options"),
])
def test_validation_names_the_problem(tmp_path, change, message):
    rec = _good()
    change(rec)
    with pytest.raises(iv.BankError, match=re.escape(message)):
        iv.load_bank(_write(tmp_path, [rec]))


def test_validation_of_files(tmp_path):
    with pytest.raises(iv.BankError, match="not valid JSON"):
        iv.load_bank(_write(tmp_path, "[{"))
    with pytest.raises(iv.BankError, match="used twice"):
        iv.load_bank(_write(tmp_path, [_good(), _good()]))
    with pytest.raises(FileNotFoundError):
        iv.load_bank(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(iv.BankError, match="no question files"):
        iv.load_bank(empty)
    assert [q.id for q in iv.load_bank(_write(tmp_path, [_good()]))] == ["t-1"]


def test_select_get_and_bad_arguments(bank):
    assert {q.chapter for q in iv.select(chapter=3)} == {"03"}
    assert iv.select(chapter="ch03") == iv.select(chapter="03")
    assert all(q.type == "coding" for q in iv.select(type="coding"))
    assert all(q.outline for q in iv.select(outline=True)) and len(iv.select(outline=True)) == 13
    assert all("dann" in q.tags for q in iv.select(tags="dann"))
    assert iv.get("ch03-ease-diagonal").chapter == "03"
    with pytest.raises(ValueError, match="unknown chapter"):
        iv.select(chapter="13")
    with pytest.raises(ValueError, match="unknown question type"):
        iv.select(type="essay")
    with pytest.raises(KeyError, match="similar ids"):
        iv.get("ch03-nothing")
    with pytest.raises(ValueError, match="unknown language"):
        bank[0].text("fr")


def test_plain_text_lists_questions_then_answers(bank):
    q = iv.get("ch05-coral-objective")
    text = q.as_text("zh", number=2)
    assert text.startswith("2. ") and "答案: B. " in text and "参见 notebooks/05_domain_adaptation.ipynb" in text
    deck = iv.Deck(iv.select(chapter="05"), title="ch05")
    out = deck.as_text()
    first_answer = out.index("Answers:")
    assert all(q.text("en") in out[:first_answer] for q in deck.questions)
    assert all(q.answer("en") in out[first_answer:] for q in deck.questions)


# ---------------------------------------------------------------------------------- the glossary
def test_glossary_complete_both_ways():
    entries = iv.load_glossary()
    assert len(entries) >= 30
    for e in entries:
        assert iv.translate(e["en"]) == e["zh"] and iv.translate(e["zh"]) == e["en"]
        assert CJK.search(e["zh"]) and CJK.search(e["zh_note"]) and not CJK.search(e["en"] + e["en_note"])
    for en, zh in [("transfer learning", "迁移学习"), ("negative transfer", "负迁移"), ("fine-tuning", "微调"),
                   ("cold start", "冷启动"), ("domain adaptation", "域自适应"), ("retrieval", "召回"), ("ranking", "排序")]:
        assert iv.translate(en) == zh and iv.translate(zh) == en
    assert iv.translate("  Cold Start ") == "冷启动"
    with pytest.raises(KeyError, match="not in the glossary"):
        iv.translate("quantum recommender")


def test_docs_glossary_is_generated():
    assert (ROOT / "docs" / "glossary.md").read_text() == iv.glossary_markdown(), \
        "docs/glossary.md drifted: python -m translearn_lib.interview glossary > docs/glossary.md"


# ----------------------------------------------------------------------------------- the widgets
def _mc(n=3):
    return iv.select(type="multiple_choice")[:n]


def test_quiz_click_gives_feedback_and_score():
    quiz = iv.Quiz(_mc(), title="t", live_clock=False)
    quiz.widget  # build the widget
    ui = quiz._ui
    q0 = quiz.current
    wrong = next(k for k in q0.options["en"] if k != q0.key)
    assert "Score 0 / 0 answered · 3 questions" in ui["score"].value
    ui["option_buttons"][wrong].click()
    assert f"Not quite: the answer is {q0.key}." in ui["feedback"].value
    assert q0.answer("en")[:30] in ui["feedback"].value.replace("<br>", "\n")
    assert "Score 0 / 1 answered" in ui["score"].value
    assert ui["option_buttons"][q0.key].button_style == "success"
    assert ui["option_buttons"][wrong].button_style == "danger"
    assert ui["option_buttons"][q0.key].disabled, "the first answer counts: options lock after it"
    ui["option_buttons"][q0.key].click()           # a locked button's click changes nothing
    assert quiz.score == (0, 1, 3)
    ui["next"].click()
    assert quiz.index == 1 and not ui["option_buttons"][quiz.current.key].disabled
    ui["option_buttons"][quiz.current.key].click()
    assert "Correct." in ui["feedback"].value and "Score 1 / 2 answered" in ui["score"].value
    ui["previous"].click()
    assert quiz.index == 0 and "Not quite" in ui["feedback"].value


def test_language_switch_changes_text_not_button_descriptions():
    quiz = iv.Quiz(_mc(), live_clock=False)
    quiz.widget  # build the widget
    ui = quiz._ui
    descriptions = {name: ui[name].description for name in ("next", "previous", "reveal", "knew", "not_yet")}
    q = quiz.current
    en_html = ui["question"].value
    ui["lang"].value = "zh"
    assert quiz.lang == "zh" and ui["question"].value != en_html
    assert CJK.search(ui["question"].value) and "得分 0 / 已答 0 · 共 3 题" in ui["score"].value
    assert ui["option_texts"][q.key].value == wmod.markdown_to_html(q.option_texts("zh")[q.key])
    ui["option_buttons"][q.key].click()
    assert "回答正确" in ui["feedback"].value
    ui["lang"].value = "en"
    assert "Correct." in ui["feedback"].value
    assert {name: ui[name].description for name in descriptions} == descriptions == \
        {k: iv.BUTTONS[k] for k in descriptions}
    assert sorted(b.description for b in ui["option_buttons"].values())[:2] == ["A", "B"]


def test_flashcards_reveal_then_mark():
    cards = iv.Flashcards(iv.select(chapter="03")[:2], live_clock=False)
    cards.widget
    ui = cards._ui
    assert ui["knew"].disabled, "marking is only possible after revealing"
    with pytest.raises(ValueError, match="reveal question"):
        cards.grade_self(True)
    ui["reveal"].click()
    assert cards.current.answer("en")[:25] in ui["feedback"].value
    ui["knew"].click()
    assert cards.score == (1, 1, 2) and "(marked as known)" in ui["feedback"].value
    ui["next"].click()
    ui["reveal"].click()
    ui["not_yet"].click()
    assert cards.score == (1, 2, 2) and cards.finished


def test_mock_interview_is_seeded_and_timed():
    now = [100.0]
    mock = iv.MockInterview(n=4, seed=3, minutes_per_question=0.5, clock=lambda: now[0], live_clock=False)
    again = iv.MockInterview(n=4, seed=3, live_clock=False)
    assert [q.id for q in mock.questions] == [q.id for q in again.questions]
    assert mock.time_limit == 120.0 and mock.remaining() == 120.0
    mock.widget
    now[0] += 60
    mock._refresh()
    assert "01:00" in mock._ui["timer"].value
    now[0] += 61
    assert mock.time_up and mock.finished and mock.remaining() == 0.0
    q = mock.current
    if q.type == "multiple_choice":
        assert mock.choose(q.key) is False
    else:
        mock.reveal()
        mock.grade_self(True)
    assert mock.score == (0, 0, 4), "answers after the time is up do not count"
    mock.go(1)
    assert "Time is up" in mock.message
    with pytest.raises(ValueError, match="n must be between 1"):
        iv.MockInterview(n=0)
    with pytest.raises(ValueError, match="at least one question"):
        iv.Quiz(iv.select(chapter="00", type="short_answer"))
    with pytest.raises(ValueError, match="time_limit must be"):
        iv.Deck(_mc(), time_limit=0)


def test_text_fallback_without_a_widget_front_end(capsys):
    assert not iv.widgets_available()
    deck = iv.check_yourself("02")
    printed = capsys.readouterr().out
    assert printed.startswith("Check yourself · 自测 — chapter 02") and "Answers:" in printed
    assert [q.chapter for q in deck.questions] == ["02"] * len(deck.questions)
    assert not any(q.outline for q in deck.questions)
    assert deck._repr_mimebundle_() == {"text/plain": deck.as_text()}
    with pytest.raises(ValueError, match="unknown chapter"):
        iv.check_yourself("13")


def test_markdown_subset():
    assert wmod.markdown_to_html("use `a<b` and *this* or **that**\nnext") == \
        "use <code>a&lt;b</code> and <i>this</i> or <b>that</b><br>next"
    assert wmod.markdown_to_html("2 * 3 * 4") == "2 * 3 * 4"


# --------------------------------------------------------------------- one source: notebooks use it
@pytest.mark.parametrize("nn", ["00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "12"])
def test_notebook_check_yourself_comes_from_the_bank(nn):
    path = next((ROOT / "notebooks").glob(f"{nn}_*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## Check yourself"))
    assert "<details>" not in nb.cells[i].source, "answers belong in the bank, not in the notebook"
    assert nb.cells[i + 1].cell_type == "code" and f'check_yourself("{nn}")' in nb.cells[i + 1].source


def test_readme_maps_every_outline_question():
    readme = (ROOT / "README.md").read_text()
    for q in iv.select(outline=True):
        assert q.id in readme, f"README's outline map misses {q.id}"


@pytest.mark.parametrize("nn", ["01", "02", "03", "04", "05", "06", "08", "09", "10"])
def test_solution_check_yourself_comes_from_the_bank(nn):
    path = next((ROOT / "solutions").glob(f"{nn}_*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## Check yourself"))
    assert "<details>" not in nb.cells[i].source
    assert f'check_yourself("{nn}", exercise=True)' in nb.cells[i + 1].source
    exercise = iv.chapter_deck(nn, exercise=True).questions
    chapter = iv.chapter_deck(nn).questions
    assert exercise and all("exercise" in q.tags for q in exercise)
    assert not any("exercise" in q.tags for q in chapter), "the chapter's deck leaves the exercise's questions out"
