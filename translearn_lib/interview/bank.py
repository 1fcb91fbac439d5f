"""The interview question bank: bilingual questions stored as JSON files inside the package.

``bank/chNN.json`` holds chapter NN's questions (its "Check yourself" plus interview-depth ones),
``bank/outline.json`` the questions of the Chinese interview outline the course was written from,
each rewritten with a model answer that links to the chapter demonstrating it. Every record is
validated when it is loaded, so a broken file fails loudly with the file, the id and the fix.

Record format (one JSON object per question)::

    {"id": "ch03-masking", "chapter": "03", "difficulty": "easy" | "medium" | "hard",
     "tags": ["evaluation", ...], "type": "multiple_choice" | "short_answer" | "coding" | "system_design",
     "see": {"notebook": "03_bert_recommender", "section": "6 Why sampled ..."},
     "en": {"text": "...", "answer": "...", "options": {"A": "...", ...}},   # options: multiple choice only
     "zh": {"text": "...", "answer": "...", "options": {"A": "...", ...}},
     "key": "B",                        # multiple choice only: the correct option
     "outline": "O3"}                   # outline questions only: which outline question it rewrites

Taught in notebooks/11_interview_prep.ipynb.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

#: chapter number -> notebook name (without .ipynb); a question's "see" link must name one of these
CHAPTERS = {
    "00": "00_welcome", "01": "01_transfer_basics", "02": "02_llm_text_representations",
    "03": "03_bert_recommender", "04": "04_cross_domain_recommendation", "05": "05_domain_adaptation",
    "06": "06_cold_start", "07": "07_vgg16_image_transfer", "08": "08_transfer_and_bandits",
    "09": "09_privacy_and_augmentation", "10": "10_generative_llms", "11": "11_interview_prep",
    "12": "12_at_scale",
}
TYPES = ("multiple_choice", "short_answer", "coding", "system_design")
DIFFICULTIES = ("easy", "medium", "hard")
LANGUAGES = ("en", "zh")
TYPE_NAMES = {
    "en": {"multiple_choice": "multiple choice", "short_answer": "short answer", "coding": "coding",
           "system_design": "system design"},
    "zh": {"multiple_choice": "选择题", "short_answer": "简答题", "coding": "编程题", "system_design": "系统设计题"},
}
DIFFICULTY_NAMES = {"en": {d: d for d in DIFFICULTIES}, "zh": {"easy": "简单", "medium": "中等", "hard": "困难"}}


class BankError(ValueError):
    """A question file is malformed; the message names the file, the question and the fix."""


def check_language(lang) -> str:
    """Return ``lang`` if it is ``"en"`` or ``"zh"``, else raise a ValueError saying so.

    Taught in notebooks/11_interview_prep.ipynb.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use 'en' (English) or 'zh' (中文)")
    return lang


def check_chapter(chapter) -> str:
    """Normalise a chapter given as ``3``, ``"3"``, ``"03"`` or ``"ch03"`` to ``"03"``.

    Raises:
        ValueError: not one of the course's chapters 00-12.

    Taught in notebooks/11_interview_prep.ipynb.
    """
    text = str(chapter).strip().lower().removeprefix("ch")
    if text.isdigit():
        text = f"{int(text):02d}"
    if text not in CHAPTERS:
        raise ValueError(f"unknown chapter {chapter!r}: use one of {', '.join(CHAPTERS)} (e.g. check_yourself('03'))")
    return text


@dataclass(frozen=True)
class Question:
    """One bilingual question of the bank (see the module docstring for the stored format).

    Taught in notebooks/11_interview_prep.ipynb.
    """

    id: str
    chapter: str
    difficulty: str
    tags: tuple
    type: str
    see: dict
    texts: dict            # lang -> question text (Markdown, $math$ allowed)
    answers: dict          # lang -> model answer
    options: dict = field(default_factory=dict)   # lang -> {key: option text} (multiple choice only)
    key: str | None = None
    outline: str | None = None
    source: str = ""       # the file it came from

    def text(self, lang: str = "en") -> str:
        return self.texts[check_language(lang)]

    def answer(self, lang: str = "en") -> str:
        return self.answers[check_language(lang)]

    def option_texts(self, lang: str = "en") -> dict:
        """``{key: text}`` in the order stored (empty unless multiple choice)."""
        return dict(self.options.get(check_language(lang), {}))

    @property
    def notebook(self) -> str:
        """The path of the notebook that demonstrates the answer, e.g. ``notebooks/03_bert_recommender.ipynb``."""
        return f"notebooks/{self.see['notebook']}.ipynb"

    def link(self, lang: str = "en") -> str:
        """'see notebooks/NN_x.ipynb, section …' in the reader's language."""
        section = self.see.get("section", "")
        if check_language(lang) == "zh":
            return f"参见 {self.notebook}" + (f"，“{section}”一节" if section else "")
        return f"see {self.notebook}" + (f", section “{section}”" if section else "")

    def is_correct(self, choice) -> bool:
        """True if ``choice`` is the key of the correct option (multiple choice only)."""
        if self.type != "multiple_choice":
            raise ValueError(f"question {self.id} is {self.type}, not multiple choice: it has no key to compare")
        if choice not in self.options["en"]:
            raise ValueError(f"question {self.id} has options {list(self.options['en'])}, not {choice!r}")
        return choice == self.key

    def as_text(self, lang: str = "en", with_answer: bool = True, number: int | None = None) -> str:
        """Readable plain text: the fallback when no widget front end is available."""
        lang = check_language(lang)
        head = f"{number}. " if number is not None else ""
        meta = f"[{self.id} · {TYPE_NAMES[lang][self.type]} · {DIFFICULTY_NAMES[lang][self.difficulty]}]"
        lines = [f"{head}{self.text(lang)}  {meta}"]
        for k, opt in self.option_texts(lang).items():
            lines.append(f"   {k}) {opt}")
        if with_answer:
            label = "答案" if lang == "zh" else "Answer"
            key = f"{self.key}. " if self.key else ""
            lines.append(f"   {label}: {key}{self.answer(lang)} ({self.link(lang)})")
        return "\n".join(lines)


def _problems(rec, where: str) -> list[str]:
    """Every problem of one raw record, as messages that say how to fix it."""
    out = []
    if not isinstance(rec, dict):
        return [f"{where}: each question must be a JSON object, got {type(rec).__name__}"]
    qid = rec.get("id", "?")
    at = f"{where}, question {qid!r}"
    for name in ("id", "chapter", "difficulty", "tags", "type", "see", "en", "zh"):
        if name not in rec:
            out.append(f"{at}: missing field {name!r}")
    if out:
        return out
    if rec["chapter"] not in CHAPTERS:
        out.append(f"{at}: chapter {rec['chapter']!r} is not one of {list(CHAPTERS)}")
    if rec["difficulty"] not in DIFFICULTIES:
        out.append(f"{at}: difficulty {rec['difficulty']!r} must be one of {DIFFICULTIES}")
    if rec["type"] not in TYPES:
        out.append(f"{at}: type {rec['type']!r} must be one of {TYPES}")
    if not (isinstance(rec["tags"], list) and rec["tags"] and all(isinstance(t, str) and t for t in rec["tags"])):
        out.append(f"{at}: tags must be a non-empty list of strings")
    see = rec["see"]
    if not isinstance(see, dict) or see.get("notebook") not in CHAPTERS.values():
        out.append(f"{at}: see.notebook must name a course notebook, one of {sorted(CHAPTERS.values())}")
    for lang in LANGUAGES:
        block = rec[lang]
        for part in ("text", "answer"):
            if not isinstance(block, dict) or not str(block.get(part, "")).strip():
                out.append(f"{at}: {lang}.{part} is missing or empty (write it for the reader in both languages)")
    if rec["type"] == "multiple_choice":
        en, zh = rec["en"].get("options"), rec["zh"].get("options")
        if not (isinstance(en, dict) and isinstance(zh, dict) and len(en) >= 2):
            out.append(f"{at}: a multiple-choice question needs en.options and zh.options ({{key: text}}, ≥ 2)")
        else:
            if list(en) != list(zh):
                out.append(f"{at}: en.options keys {list(en)} and zh.options keys {list(zh)} must be the same, in order")
            if rec.get("key") not in en:
                out.append(f"{at}: key {rec.get('key')!r} is not one of the options {list(en)}")
            if any(not str(v).strip() for v in list(en.values()) + list(zh.values())):
                out.append(f"{at}: an option text is empty")
    elif "key" in rec or "options" in rec["en"] or "options" in rec["zh"]:
        out.append(f"{at}: only multiple-choice questions have options and a key (type is {rec['type']!r})")
    return out


def _from_record(rec: dict, source: str) -> Question:
    opts = {lang: dict(rec[lang]["options"]) for lang in LANGUAGES} if rec["type"] == "multiple_choice" else {}
    return Question(id=rec["id"], chapter=rec["chapter"], difficulty=rec["difficulty"], tags=tuple(rec["tags"]),
                    type=rec["type"], see=dict(rec["see"]), texts={lang: rec[lang]["text"] for lang in LANGUAGES},
                    answers={lang: rec[lang]["answer"] for lang in LANGUAGES}, options=opts, key=rec.get("key"),
                    outline=rec.get("outline"), source=source)


def _bank_files(folder: Path | None):
    if folder is not None:
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"question bank folder {folder} does not exist")
        return sorted(folder.glob("*.json"))
    root = resources.files("translearn_lib.interview") / "bank"
    return sorted((p for p in root.iterdir() if p.name.endswith(".json")), key=lambda p: p.name)


def load_bank(folder: str | Path | None = None) -> list[Question]:
    """Load and validate every question file (the packaged bank by default).

    Args:
        folder: a folder of ``*.json`` question files; ``None`` reads the bank shipped in the package.

    Returns:
        list[Question]: outline questions first, then chapters 00-12, in file order.

    Raises:
        BankError: a file is not valid JSON or a record breaks the format (all problems are listed),
            or two questions share an id.

    Taught in notebooks/11_interview_prep.ipynb.
    """
    if folder is None:
        return list(_packaged_bank())
    return _load(_bank_files(folder))


@lru_cache(maxsize=1)
def _packaged_bank() -> tuple:
    return tuple(_load(_bank_files(None)))


def _load(files) -> list[Question]:
    files = list(files)
    if not files:
        raise BankError("no question files (*.json) found: the bank needs bank/outline.json and bank/chNN.json")
    files.sort(key=lambda p: (p.name != "outline.json", p.name))
    problems, out, seen = [], [], {}
    for path in files:
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            problems.append(f"{path.name}: not valid JSON ({err}); fix the file")
            continue
        if not isinstance(records, list):
            problems.append(f"{path.name}: the file must hold a JSON list of questions")
            continue
        for i, rec in enumerate(records):
            found = _problems(rec, f"{path.name}[{i}]")
            if found:
                problems += found
                continue
            if rec["id"] in seen:
                problems.append(f"{path.name}: id {rec['id']!r} is used twice (also in {seen[rec['id']]}); ids must be unique")
                continue
            seen[rec["id"]] = path.name
            out.append(_from_record(rec, path.name))
    if problems:
        raise BankError(f"{len(problems)} problem(s) in the question bank:\n  " + "\n  ".join(problems))
    return out


def select(questions=None, chapter=None, type=None, tags=None, outline: bool | None = None) -> list[Question]:
    """Filter questions by chapter, type, tags (any of them) or outline membership.

    Args:
        questions: the questions to filter (default: the packaged bank).
        chapter: ``"03"``, ``3`` or ``"ch03"``; ``None`` keeps every chapter.
        type: one of :data:`TYPES`, or a tuple of them.
        tags: keep questions carrying at least one of these tags.
        outline: ``True`` only the outline's questions, ``False`` only the others.

    Taught in notebooks/11_interview_prep.ipynb.
    """
    qs = load_bank() if questions is None else list(questions)
    if chapter is not None:
        chapter = check_chapter(chapter)
        qs = [q for q in qs if q.chapter == chapter]
    if type is not None:
        types = (type,) if isinstance(type, str) else tuple(type)
        bad = [t for t in types if t not in TYPES]
        if bad:
            raise ValueError(f"unknown question type(s) {bad}: use {TYPES}")
        qs = [q for q in qs if q.type in types]
    if tags is not None:
        wanted = {tags} if isinstance(tags, str) else set(tags)
        qs = [q for q in qs if wanted & set(q.tags)]
    if outline is not None:
        qs = [q for q in qs if (q.outline is not None) == outline]
    return qs


def get(question_id: str, questions=None) -> Question:
    """The question with this id; a KeyError names close ids when it does not exist.

    Taught in notebooks/11_interview_prep.ipynb.
    """
    qs = load_bank() if questions is None else questions
    for q in qs:
        if q.id == question_id:
            return q
    near = [q.id for q in qs if question_id.split("-")[0] in q.id][:5]
    raise KeyError(f"no question {question_id!r} in the bank" + (f"; similar ids: {near}" if near else ""))


def as_text(questions, lang: str = "en", with_answers: bool = True, title: str | None = None) -> str:
    """All questions as numbered plain text (answers after each question when ``with_answers``).

    Taught in notebooks/11_interview_prep.ipynb.
    """
    lines = [title, ""] if title else []
    for i, q in enumerate(questions, 1):
        lines += [q.as_text(lang, with_answer=with_answers, number=i), ""]
    return "\n".join(lines).rstrip() + "\n"
