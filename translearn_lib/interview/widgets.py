"""Quiz widgets (ipywidgets 8) over the question bank, with an English / 中文 switch and a text fallback.

* :class:`Quiz` — multiple-choice questions, immediate feedback, a running score (first answer counts);
* :class:`Flashcards` — any question: reveal the model answer, then mark "I knew it" / "Not yet";
* :class:`MockInterview` — a random, timed set (seeded), answers revealed when the time is up;
* :func:`check_yourself` — a chapter's questions, as the "Check yourself" section of each notebook.

Each is a :class:`Deck`: the state and the logic (``choose``, ``reveal``, ``grade_self``, ``next``,
``set_language``, ``score``) are plain Python, so they work and are tested without a browser; the
widget is built on first display. Without a widget front end (a terminal, nbviewer, a notebook opened
without its kernel) a deck shows readable text: every question, then every answer.

Button descriptions never change with the language (they are bilingual, e.g. "Next ▶ · 下一题"),
and every control carries a CSS class ``translearn-…`` so a browser test can find it.

Taught in notebooks/11_interview_prep.ipynb.
"""

from __future__ import annotations

import html
import os
import re
import threading
import time

import numpy as np

from .bank import DIFFICULTY_NAMES, TYPE_NAMES, Question, check_chapter, check_language, load_bank, select

LABELS = {
    "en": {"question": "Question", "of": "of", "score": "Score", "answered": "answered", "questions": "questions",
           "correct": "Correct.", "wrong": "Not quite: the answer is", "answer": "Model answer",
           "knew": "marked as known", "not_yet": "marked for review", "time_left": "Time left",
           "time_up": "Time is up: every answer is shown below.", "answers": "Answers", "choose": "Choose an option.",
           "reveal_first": "Think of your answer, then press “Show answer”."},
    "zh": {"question": "第", "of": "题 / 共", "score": "得分", "answered": "已答", "questions": "题",
           "correct": "回答正确。", "wrong": "不对，正确答案是", "answer": "参考答案",
           "knew": "已标记为“会了”", "not_yet": "已标记为“再复习”", "time_left": "剩余时间",
           "time_up": "时间到：下面列出了所有答案。", "answers": "答案", "choose": "请选择一个选项。",
           "reveal_first": "先想好你的答案，再点“显示答案”。"},
}
#: the bilingual, never-changing button descriptions (a browser test clicks them by these)
BUTTONS = {"previous": "◀ Previous · 上一题", "next": "Next ▶ · 下一题", "reveal": "Show answer · 显示答案",
           "knew": "I knew it · 会了", "not_yet": "Not yet · 再复习"}


def widgets_available() -> bool:
    """True inside a Jupyter kernel with ipywidgets importable (and ``TRANSLEARN_WIDGETS`` not ``0``).

    Taught in notebooks/11_interview_prep.ipynb.
    """
    if os.environ.get("TRANSLEARN_WIDGETS", "1") == "0":
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def markdown_to_html(text: str) -> str:
    """The bank's small Markdown subset as HTML: `code`, **bold**, *italic*, line breaks; $math$ kept.

    Taught in notebooks/11_interview_prep.ipynb.
    """
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", r"<i>\1</i>", out)
    return out.replace("\n", "<br>")


class Deck:
    """A list of questions shown one at a time, with a score and a language switch.

    Args:
        questions: the :class:`~translearn_lib.interview.bank.Question` objects to show (≥ 1).
        lang: ``"en"`` or ``"zh"`` at the start (the switch changes it).
        title: a heading above the questions.
        reveal_only: ``True`` treats every question as a flashcard (multiple choice too).
        time_limit: seconds for the whole deck (``None``: untimed); when it runs out every answer is shown.
        clock: a function returning seconds (tests pass a fake one).
        live_clock: update the remaining time every second in a background thread (widget only).

    Taught in notebooks/11_interview_prep.ipynb.
    """

    kind = "deck"

    def __init__(self, questions, lang: str = "en", title: str = "", reveal_only: bool = False,
                 time_limit: float | None = None, clock=time.monotonic, live_clock: bool = True):
        self.questions = list(questions)
        if not self.questions:
            raise ValueError(f"a {self.kind} needs at least one question: the selection was empty "
                             "(check the chapter, type or tags you asked for)")
        if not all(isinstance(q, Question) for q in self.questions):
            raise TypeError("questions must be bank Question objects (use interview.select(...) or load_bank())")
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit must be a positive number of seconds or None, got {time_limit!r}")
        self.lang = check_language(lang)
        self.title = title
        self.reveal_only = reveal_only
        self.time_limit = time_limit
        self._clock = clock
        self._start = clock()
        self._live_clock = live_clock
        self.index = 0
        self.choices: dict[str, str] = {}     # question id -> first option chosen
        self.results: dict[str, bool] = {}    # question id -> counted as correct / known
        self.revealed: set[str] = set()
        self.message = ""                     # the feedback line for the current question
        self._widget = None
        self._ui = {}

    # ------------------------------------------------------------------ logic (no widgets needed)
    @property
    def current(self) -> Question:
        return self.questions[self.index]

    def _flash(self, q: Question) -> bool:
        return self.reveal_only or q.type != "multiple_choice"

    @property
    def finished(self) -> bool:
        """True once every question is answered or the time is up."""
        return self.time_up or len(self.results) == len(self.questions)

    @property
    def time_up(self) -> bool:
        return self.time_limit is not None and self.remaining() <= 0

    def remaining(self) -> float | None:
        """Seconds left (never below 0), or ``None`` when untimed."""
        if self.time_limit is None:
            return None
        return max(0.0, self.time_limit - (self._clock() - self._start))

    @property
    def score(self) -> tuple[int, int, int]:
        """(correct or known, answered, total)."""
        return sum(self.results.values()), len(self.results), len(self.questions)

    def score_text(self) -> str:
        right, done, total = self.score
        if self.lang == "zh":
            return f"得分 {right} / 已答 {done} · 共 {total} 题"
        return f"Score {right} / {done} answered · {total} questions"

    def choose(self, key: str) -> bool:
        """Answer the current multiple-choice question with option ``key``; returns whether it is right.

        The first answer counts for the score; later clicks only show the feedback again.
        """
        q = self.current
        if self._flash(q):
            raise ValueError(f"question {q.id} is answered by revealing it (reveal(), grade_self()), not by choosing")
        if self.time_up:
            self.message = LABELS[self.lang]["time_up"]
            self._refresh()
            return False
        right = q.is_correct(key)
        if q.id not in self.results:
            self.choices[q.id] = key
            self.results[q.id] = right
        self.revealed.add(q.id)
        self.message = self._feedback(q)
        self._refresh()
        return right

    def reveal(self) -> str:
        """Show the model answer of the current question; returns it in the current language."""
        q = self.current
        self.revealed.add(q.id)
        self.message = self._feedback(q)
        self._refresh()
        return q.answer(self.lang)

    def grade_self(self, knew: bool) -> None:
        """After revealing a flashcard: count it as known (``True``) or to review (``False``)."""
        q = self.current
        if q.id not in self.revealed:
            raise ValueError(f"reveal question {q.id} before grading yourself (press 'Show answer' first)")
        if not self.time_up and q.id not in self.results:
            self.results[q.id] = bool(knew)
        self.message = self._feedback(q)
        self._refresh()

    def go(self, index: int) -> None:
        """Move to question ``index`` (clipped to the deck)."""
        self.index = int(np.clip(index, 0, len(self.questions) - 1))
        q = self.current
        self.message = self._feedback(q) if (q.id in self.revealed or self.time_up) else ""
        self._refresh()

    def next(self) -> None:
        self.go(self.index + 1)

    def previous(self) -> None:
        self.go(self.index - 1)

    def set_language(self, lang: str) -> None:
        """Switch every text (question, options, feedback, score) to ``"en"`` or ``"zh"``."""
        self.lang = check_language(lang)
        q = self.current
        if q.id in self.revealed or self.time_up:
            self.message = self._feedback(q)
        self._refresh()

    def _feedback(self, q: Question) -> str:
        L = LABELS[self.lang]
        parts = []
        if self.time_up and q.id not in self.results:
            parts.append(L["time_up"])
        if not self._flash(q) and q.id in self.choices:
            chosen = self.choices[q.id]
            parts.append(L["correct"] if chosen == q.key else f"{L['wrong']} {q.key}.")
        elif not self._flash(q):
            parts.append(f"{q.key}.")
        elif q.id in self.results:
            parts.append(f"({L['knew'] if self.results[q.id] else L['not_yet']})")
        parts.append(f"{L['answer']}: {q.answer(self.lang)}")
        parts.append(f"({q.link(self.lang)})")
        return " ".join(parts)

    def header(self, q: Question | None = None) -> str:
        """'Question 2 of 8 · ch03 · medium · multiple choice' in the current language."""
        q = q or self.current
        L = LABELS[self.lang]
        pos = (f"{L['question']} {self.index + 1} {L['of']} {len(self.questions)}" if self.lang == "en"
               else f"{L['question']} {self.index + 1} {L['of']} {len(self.questions)} {L['questions']}")
        return (f"{pos} · ch{q.chapter} · {DIFFICULTY_NAMES[self.lang][q.difficulty]} · "
                f"{TYPE_NAMES[self.lang][q.type]}")

    def as_text(self, lang: str | None = None) -> str:
        """Every question, then every answer, as plain text (the fallback without widgets)."""
        lang = check_language(lang or self.lang)
        lines = [self.title, ""] if self.title else []
        for i, q in enumerate(self.questions, 1):
            lines.append(q.as_text(lang, with_answer=False, number=i))
        lines += ["", f"{LABELS[lang]['answers']}:"]
        for i, q in enumerate(self.questions, 1):
            key = f"{q.key}. " if q.type == "multiple_choice" else ""
            lines.append(f"{i}. {key}{q.answer(lang)} ({q.link(lang)})")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        right, done, total = self.score
        return f"<{type(self).__name__}: {total} questions, {right}/{done} answered correctly, lang={self.lang!r}>"

    # ------------------------------------------------------------------ the widget
    @property
    def widget(self):
        """The ipywidgets view (built on first access)."""
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _build(self):
        import ipywidgets as w

        ui = self._ui
        ui["title"] = w.HTML(f"<b>{html.escape(self.title)}</b>" if self.title else "")
        ui["lang"] = w.ToggleButtons(options=[("English", "en"), ("中文", "zh")], value=self.lang,
                                     tooltips=["Show the questions in English", "用中文显示题目"])
        ui["lang"].style.button_width = "6em"
        ui["lang"].add_class("translearn-lang")
        ui["score"] = w.HTML()
        ui["score"].add_class("translearn-score")
        ui["timer"] = w.HTML()
        ui["timer"].add_class("translearn-timer")
        ui["header"] = w.HTML()
        ui["question"] = w.HTMLMath()
        ui["question"].add_class("translearn-question")
        ui["option_buttons"], ui["option_texts"], rows = {}, {}, []
        keys = sorted({k for q in self.questions for k in q.option_texts("en")})
        for k in keys:
            b = w.Button(description=k, tooltip=f"answer {k} · 选 {k}", layout=w.Layout(width="3.5em"))
            b.add_class("translearn-option")
            b.add_class(f"translearn-option-{k}")
            b.on_click(lambda _b, k=k: self.choose(k))
            t = w.HTMLMath()
            ui["option_buttons"][k], ui["option_texts"][k] = b, t
            rows.append(w.HBox([b, t]))
        ui["options"] = w.VBox(rows)
        buttons = {}
        for name, handler in (("reveal", lambda _b: self.reveal()), ("knew", lambda _b: self.grade_self(True)),
                              ("not_yet", lambda _b: self.grade_self(False)),
                              ("previous", lambda _b: self.previous()), ("next", lambda _b: self.next())):
            b = w.Button(description=BUTTONS[name], layout=w.Layout(width="auto"))
            b.add_class(f"translearn-{name.replace('_', '-')}")
            b.on_click(handler)
            buttons[name] = b
        ui.update(buttons)
        ui["feedback"] = w.HTMLMath()
        ui["feedback"].add_class("translearn-feedback")
        ui["flash"] = w.HBox([buttons["reveal"], buttons["knew"], buttons["not_yet"]])
        ui["lang"].observe(lambda change: self.set_language(change["new"]), names="value")
        box = w.VBox([w.HBox([ui["title"]]), w.HBox([ui["lang"], ui["score"], ui["timer"]]), ui["header"],
                      ui["question"], ui["options"], ui["flash"], ui["feedback"],
                      w.HBox([buttons["previous"], buttons["next"]])])
        box.add_class(f"translearn-{self.kind}")
        self._widget = box
        self._refresh()
        if self.time_limit is not None and self._live_clock:
            threading.Thread(target=self._tick_forever, daemon=True).start()
        return box

    def _tick_forever(self):
        while not self.finished:
            time.sleep(1.0)
            self._refresh_timer()
        self._refresh()

    def _refresh_timer(self):
        if not self._ui:
            return
        left = self.remaining()
        if left is None:
            self._ui["timer"].value = ""
            return
        m, s = divmod(int(round(left)), 60)
        self._ui["timer"].value = f"&nbsp; ⏱ {LABELS[self.lang]['time_left']} {m:02d}:{s:02d}"

    def _refresh(self):
        if not self._ui:
            return
        ui, q, lang = self._ui, self.current, self.lang
        if ui["lang"].value != lang:
            ui["lang"].value = lang           # the observer calls set_language, which is idempotent
        ui["score"].value = f"&nbsp; {html.escape(self.score_text())}"
        self._refresh_timer()
        ui["header"].value = f"<small>{html.escape(self.header())}</small>"
        ui["question"].value = markdown_to_html(q.text(lang))
        flash = self._flash(q)
        opts = {} if flash and not q.type == "multiple_choice" else q.option_texts(lang)
        for k, b in ui["option_buttons"].items():
            shown = k in opts
            b.layout.display = None if shown else "none"
            ui["option_texts"][k].layout.display = None if shown else "none"
            ui["option_texts"][k].value = markdown_to_html(opts.get(k, ""))
            answered = q.id in self.choices
            b.disabled = flash or answered or self.time_up
            b.button_style = ""
            if shown and (answered or self.time_up or (flash and q.id in self.revealed)):
                if k == q.key:
                    b.button_style = "success"
                elif k == self.choices.get(q.id):
                    b.button_style = "danger"
        ui["flash"].layout.display = None if flash else "none"
        ui["knew"].disabled = ui["not_yet"].disabled = (q.id not in self.revealed or q.id in self.results
                                                        or self.time_up)
        hint = LABELS[lang]["reveal_first"] if flash else LABELS[lang]["choose"]
        ui["feedback"].value = markdown_to_html(self.message) if self.message else f"<i>{html.escape(hint)}</i>"
        ui["previous"].disabled = self.index == 0
        ui["next"].disabled = self.index == len(self.questions) - 1

    def _repr_mimebundle_(self, include=None, exclude=None):
        text = self.as_text()
        if not widgets_available():
            return {"text/plain": text}
        data = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
        data = dict(data)
        data["text/plain"] = text   # what a front end without the widget model shows instead
        return data


class Quiz(Deck):
    """Multiple-choice questions with immediate feedback and a score (see :class:`Deck`).

    Taught in notebooks/11_interview_prep.ipynb.
    """

    kind = "quiz"

    def __init__(self, questions, **kwargs):
        questions = [q for q in questions if q.type == "multiple_choice"]
        super().__init__(questions, **kwargs)


class Flashcards(Deck):
    """Flashcards: think, reveal the model answer, mark yourself (see :class:`Deck`).

    Taught in notebooks/11_interview_prep.ipynb.
    """

    kind = "flashcards"

    def __init__(self, questions, **kwargs):
        kwargs.setdefault("reveal_only", True)
        super().__init__(questions, **kwargs)


class MockInterview(Deck):
    """A random timed set: ``n`` questions drawn with ``seed``, ``minutes_per_question`` each.

    Multiple-choice questions are answered by clicking, the others by revealing and marking yourself,
    as in a real interview where you answer aloud first. Every answer is shown when the time is up.

    Taught in notebooks/11_interview_prep.ipynb.
    """

    kind = "mock"

    def __init__(self, questions=None, n: int = 5, seed: int = 0, minutes_per_question: float = 3.0, **kwargs):
        pool = load_bank() if questions is None else list(questions)
        if not 1 <= int(n) <= len(pool):
            raise ValueError(f"n must be between 1 and the {len(pool)} questions available, got {n}")
        if not minutes_per_question > 0:
            raise ValueError(f"minutes_per_question must be positive, got {minutes_per_question}")
        picked = np.random.default_rng(seed).choice(len(pool), size=int(n), replace=False)
        kwargs.setdefault("time_limit", float(n) * 60.0 * minutes_per_question)
        kwargs.setdefault("title", f"Mock interview · 模拟面试 ({n} questions, seed {seed})")
        super().__init__([pool[i] for i in picked], **kwargs)


def chapter_deck(chapter, lang: str = "en", exercise: bool = False, **kwargs) -> Deck:
    """The deck of one chapter's questions (multiple choice answered by clicking, others by revealing).

    Args:
        chapter: ``"03"``, ``3`` or ``"ch03"``.
        lang: ``"en"`` or ``"zh"``.
        exercise: ``False`` the chapter notebook's questions; ``True`` only those about its graded
            exercise (tagged ``"exercise"``, shown by the solution notebook).

    Taught in notebooks/11_interview_prep.ipynb.
    """
    chapter = check_chapter(chapter)
    qs = [q for q in select(chapter=chapter, outline=False) if ("exercise" in q.tags) == bool(exercise)]
    kwargs.setdefault("title", f"Check yourself · 自测 — {'exercise' if exercise else 'chapter'} {chapter}")
    return Deck(qs, lang=lang, **kwargs)


def check_yourself(chapter, lang: str = "en", exercise: bool = False, **kwargs) -> Deck:
    """Show a chapter's questions from the bank: the "Check yourself" section of every notebook.

    In JupyterLab this is a widget (click an option, or reveal and mark yourself; switch English /
    中文); elsewhere it prints the questions, then the answers.

    Args:
        chapter: ``"03"``, ``3`` or ``"ch03"``.
        lang: ``"en"`` or ``"zh"`` at the start.
        exercise: ``True`` shows the questions about the chapter's graded exercise instead.

    Returns:
        Deck: display it (the last expression of a cell) or call its methods.

    Taught in notebooks/11_interview_prep.ipynb.
    """
    deck = chapter_deck(chapter, lang=lang, exercise=exercise, **kwargs)
    if not widgets_available():
        try:
            from IPython import get_ipython
            interactive = get_ipython() is not None
        except ImportError:
            interactive = False
        if not interactive:
            print(deck.as_text())
    return deck
