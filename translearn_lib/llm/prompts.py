"""Prompts from a user's history, and reading a free-text answer back into the catalogue.

Taught in notebooks/10_generative_llms.ipynb.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Sequence

import numpy as np
import pandas as pd

#: ranking prompt wordings (``{history}``: the liked titles). Each ends where a title should follow.
RANKING_PROMPTS = {
    "enjoyed": "I watched and enjoyed these movies: {history}.\nAnother movie I will enjoy is",
    "terse": "Movies: {history}\nNext movie:",
    "fan": "As a huge fan of {history}, the one film you must see next is",
}
#: the wording that lists the candidates in the prompt (Hou et al. 2024's setting), ``{candidates}`` in a given order
LISTED_PROMPT = ("I watched and enjoyed these movies: {history}.\nCandidates: {candidates}.\n"
                 "From the candidates, the movie I will enjoy most is")
#: TALLRec-style question (Bao et al. 2023); the answer is the next token, " Yes" or " No"
YES_NO_PROMPT = ("User's liked movies: {liked}.\nUser's disliked movies: {disliked}.\n"
                 "Will the user like the movie \"{target}\"? Answer Yes or No.\nAnswer:")


def item_title(items: pd.DataFrame, with_year: bool = True) -> dict:
    """``item_id -> "Title (year)"`` for MovieLens items (missing titles: ``"Untitled movie"``).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    if not {"item_id", "title", "year"} <= set(items.columns):
        raise ValueError("items needs columns item_id, title, year (MovieLens.items)")
    out = {}
    for i, t, y in zip(items["item_id"], items["title"], items["year"]):
        text = t if isinstance(t, str) and t.strip() else "Untitled movie"
        if with_year and not pd.isna(y):
            text += f" ({int(y)})"
        out[int(i)] = text
    return out


def history(split: Any, user: int, titles: Sequence[str], n: int = 10, min_rating: float | None = 4.0,
            part: str = "train") -> list[str]:
    """The titles of a user's ``n`` most recent items in ``part`` rated at least ``min_rating``, oldest first.

    Args:
        split: a :class:`translearn_lib.splits.Split` (frames with ``user``, ``item``, ``rating``, ``timestamp``).
        user: user index.
        titles: one title per item index (``titles[item]``).
        n: titles kept (the most recent ones).
        min_rating: keep only ratings at least this high (``None``: every interaction).
        part: ``"train"`` (never the test targets).

    Returns:
        list[str]: titles, oldest first.

    Raises:
        ValueError: ``n < 1``, or the user has no such item.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    f = split.frame(part)
    f = f[f["user"] == user]
    if min_rating is not None and "rating" in f:
        f = f[f["rating"] >= min_rating]
    if f.empty:
        raise ValueError(f"user {user} has no {part} item" + (f" rated >= {min_rating}" if min_rating else ""))
    if "timestamp" in f:
        f = f.sort_values(["timestamp", "item"], kind="stable")
    return [titles[i] for i in f["item"].to_numpy()[-n:]]


def join_titles(titles: Sequence[str]) -> str:
    """``"A; B; C"`` (semicolons: titles contain commas).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    titles = [str(t) for t in titles]
    if not titles:
        raise ValueError("no titles to put in the prompt: the history is empty")
    return "; ".join(titles)


def ranking_prompt(history_titles: Sequence[str], variant: str = "enjoyed", candidates: Sequence[str] | None = None) -> str:
    """A prompt that ends where the title of a recommended movie should follow.

    Args:
        history_titles: the liked titles, oldest first.
        variant: a key of :data:`RANKING_PROMPTS`, or ``"listed"`` (needs ``candidates``).
        candidates: for ``"listed"``: the candidate titles in the order they are shown.

    Returns:
        str

    Raises:
        ValueError: an unknown variant, an empty history, or ``"listed"`` without candidates.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    h = join_titles(history_titles)
    if variant == "listed":
        if not candidates:
            raise ValueError("variant 'listed' needs the candidate titles")
        return LISTED_PROMPT.format(history=h, candidates=join_titles(candidates))
    if variant not in RANKING_PROMPTS:
        raise ValueError(f"unknown prompt variant {variant!r}; choose one of {sorted(RANKING_PROMPTS) + ['listed']}")
    return RANKING_PROMPTS[variant].format(history=h)


def yes_no_prompt(liked: Sequence[str], disliked: Sequence[str], target: str) -> str:
    """TALLRec's question: liked and disliked titles, then "Will the user like <target>? ... Answer:".

    An empty list of either kind is written as ``"none"`` (both empty: there is no history to ask about).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    if not str(target).strip():
        raise ValueError("the target title is empty")
    if not len(liked) and not len(disliked):
        raise ValueError("the history is empty: give at least one liked or disliked title")
    return YES_NO_PROMPT.format(liked=join_titles(liked) if len(liked) else "none",
                                disliked=join_titles(disliked) if len(disliked) else "none", target=target)


_YEAR = re.compile(r"\s*\(\d{4}\)\s*$")
_BULLET = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s*")


def _norm(title: str) -> str:
    t = _YEAR.sub("", str(title)).strip().strip('"\'*').lower()
    t = re.sub(r"^(.*), (the|a|an)$", r"\2 \1", t)  # MovieLens writes "Godfather, The"
    return re.sub(r"[^a-z0-9 ]+", "", t).strip()


def mentioned_titles(text: str) -> list[str]:
    """Split a free-text answer into the titles it mentions (lines, bullets, commas, quotes).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    quoted = re.findall(r'"([^"]{2,80})"', text)
    if quoted:
        return [q.strip() for q in quoted]
    parts = []
    for line in re.split(r"[\n;]+", text):
        line = _BULLET.sub("", line).strip()
        line = re.split(r"\s[-–:]\s", line)[0]  # "Title - because ..." keeps the title
        parts += [p.strip() for p in re.split(r",\s+(?:and\s+)?|\sand\s", line) if p.strip()]
    return [p for p in parts if 1 <= len(p.split()) <= 8]


def match_catalogue(text: str, catalogue: Sequence[str], cutoff: float = 0.9) -> list[tuple[str, str | None]]:
    """Each title mentioned in ``text`` with its closest catalogue title (``None``: not in the catalogue).

    Matching ignores the year, case, punctuation and MovieLens' "Title, The" order, and needs a
    ``difflib`` similarity of at least ``cutoff``.

    Args:
        text: a generated answer.
        catalogue: the catalogue's titles.
        cutoff: similarity in (0, 1].

    Returns:
        list: ``(mention, catalogue title or None)`` pairs.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    if not 0 < cutoff <= 1:
        raise ValueError(f"cutoff must be in (0, 1], got {cutoff}")
    keys = {}
    for t in catalogue:
        keys.setdefault(_norm(t), t)
    names = list(keys)
    out = []
    for m in mentioned_titles(text):
        hit = difflib.get_close_matches(_norm(m), names, n=1, cutoff=cutoff)
        out.append((m, keys[hit[0]] if hit else None))
    return out


__all__ = ["RANKING_PROMPTS", "LISTED_PROMPT", "YES_NO_PROMPT", "item_title", "history", "join_titles",
           "ranking_prompt", "yes_no_prompt", "mentioned_titles", "match_catalogue"]
