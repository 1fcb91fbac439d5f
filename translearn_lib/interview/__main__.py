"""Command line: ``python -m translearn_lib.interview glossary`` (prints docs/glossary.md) or
``python -m translearn_lib.interview text CHAPTER [en|zh]`` (a chapter's questions as text).

Taught in notebooks/11_interview_prep.ipynb.
"""

import sys

from . import chapter_deck, glossary_markdown


def main(argv):
    if argv[:1] == ["glossary"]:
        sys.stdout.write(glossary_markdown())
        return 0
    if argv[:1] == ["text"] and len(argv) in (2, 3):
        sys.stdout.write(chapter_deck(argv[1], lang=argv[2] if len(argv) == 3 else "en").as_text())
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
