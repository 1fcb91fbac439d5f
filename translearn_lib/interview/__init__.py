"""Interview preparation: the bilingual question bank, the glossary and the quiz widgets.

* :mod:`.bank` — questions stored as JSON inside the package (``bank/outline.json`` for the Chinese
  interview outline the course comes from, ``bank/chNN.json`` per chapter), loaded and validated;
* :mod:`.glossary` — English ↔ 中文 terms (``glossary.json``; ``docs/glossary.md`` is generated from it);
* :mod:`.widgets` — ipywidgets 8 quiz, flashcards and timed mock interview with a language switch and
  a plain-text fallback, and :func:`check_yourself`, the "Check yourself" section of every chapter.

``python -m translearn_lib.interview glossary`` prints docs/glossary.md; ``... interview text 03 zh``
prints chapter 03's questions in Chinese.

Taught in notebooks/11_interview_prep.ipynb.
"""

from .bank import (CHAPTERS, DIFFICULTIES, LANGUAGES, TYPES, BankError, Question, as_text, check_chapter,
                   get, load_bank, select)
from .glossary import glossary_markdown, load_glossary, translate
from .widgets import BUTTONS, Deck, Flashcards, MockInterview, Quiz, chapter_deck, check_yourself, widgets_available

__all__ = [
    "CHAPTERS", "DIFFICULTIES", "LANGUAGES", "TYPES", "BankError", "Question", "as_text", "check_chapter", "get",
    "load_bank", "select", "glossary_markdown", "load_glossary", "translate", "BUTTONS", "Deck", "Flashcards",
    "MockInterview", "Quiz", "chapter_deck", "check_yourself", "widgets_available",
]
