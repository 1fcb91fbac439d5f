"""The bilingual glossary (English ↔ 中文) shipped as ``glossary.json`` in the package.

Each entry: ``{"en": "negative transfer", "zh": "负迁移", "chapter": "01", "en_note": "...",
"zh_note": "..."}``. ``docs/glossary.md`` is generated from it by :func:`glossary_markdown`
(``python -m translearn_lib.interview glossary > docs/glossary.md``); a unit test fails when they drift.

Taught in notebooks/11_interview_prep.ipynb.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from .bank import CHAPTERS, BankError


@lru_cache(maxsize=1)
def _entries() -> tuple:
    raw = json.loads((resources.files("translearn_lib.interview") / "glossary.json").read_text(encoding="utf-8"))
    problems = []
    for i, e in enumerate(raw):
        for name in ("en", "zh", "chapter", "en_note", "zh_note"):
            if not str(e.get(name, "")).strip():
                problems.append(f"glossary.json[{i}] ({e.get('en', '?')}): field {name!r} is missing or empty")
        if e.get("chapter") not in CHAPTERS:
            problems.append(f"glossary.json[{i}] ({e.get('en', '?')}): chapter {e.get('chapter')!r} is not a course chapter")
    for lang in ("en", "zh"):
        terms = [str(e.get(lang, "")).lower() for e in raw]
        dup = sorted({t for t in terms if terms.count(t) > 1})
        if dup:
            problems.append(f"glossary.json: {lang} terms used twice {dup}: each term must translate one way")
    if problems:
        raise BankError("\n".join(problems))
    return tuple(dict(e) for e in raw)


def load_glossary() -> list[dict]:
    """Every glossary entry, validated (both languages present, unique both ways).

    Taught in notebooks/11_interview_prep.ipynb.
    """
    return [dict(e) for e in _entries()]


def translate(term: str) -> str:
    """English → Chinese or Chinese → English, e.g. ``translate("cold start") == "冷启动"``.

    Raises:
        KeyError: the term is not in the glossary (the message lists terms that contain it).

    Taught in notebooks/11_interview_prep.ipynb.
    """
    key = term.strip().lower()
    for e in _entries():
        if e["en"].lower() == key:
            return e["zh"]
        if e["zh"] == term.strip():
            return e["en"]
    near = [e["en"] for e in _entries() if key and (key in e["en"].lower() or term.strip() in e["zh"])][:5]
    raise KeyError(f"{term!r} is not in the glossary" + (f"; did you mean {near}?" if near else ""))


def glossary_markdown() -> str:
    """The glossary as the Markdown page ``docs/glossary.md`` (sorted by English term).

    Taught in notebooks/11_interview_prep.ipynb.
    """
    rows = sorted(_entries(), key=lambda e: e["en"].lower())
    lines = [
        "# Glossary · 术语表",
        "",
        "English ↔ 中文 terms used across the course, with the chapter that introduces each. Generated from",
        "`translearn_lib/interview/glossary.json` by `python -m translearn_lib.interview glossary`; do not edit by hand.",
        "",
        "| English | 中文 | chapter | meaning | 含义 |",
        "|---|---|---|---|---|",
    ]
    for e in rows:
        lines.append(f"| {e['en']} | {e['zh']} | [{e['chapter']}](../notebooks/{CHAPTERS[e['chapter']]}.ipynb) "
                     f"| {e['en_note']} | {e['zh_note']} |")
    return "\n".join(lines) + "\n"
