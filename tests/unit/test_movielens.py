import numpy as np
import pandas as pd
import pytest

from translearn_lib import datasets
from translearn_lib.datasets import movielens


@pytest.fixture(scope="module")
def ml():
    return datasets.load_movielens_100k()


def test_sizes_and_columns(ml):
    assert ml.ratings.shape == (100_000, 4)
    assert list(ml.ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert len(ml.items) == 1_682 and len(ml.users) == 943
    assert ml.ratings["user_id"].nunique() == 943 and ml.ratings["item_id"].nunique() == 1_682
    assert set(ml.ratings["rating"].unique()) == {1, 2, 3, 4, 5}
    assert list(ml.users.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]


def test_known_items_and_glitches_are_cleaned(ml):
    items = ml.items.set_index("item_id")
    assert items.loc[1, "title"] == "Toy Story" and items.loc[1, "year"] == 1995
    assert items.loc[1, "genres"] == ["Animation", "Children's", "Comedy"]
    assert items.loc[50, "title"] == "Star Wars" and items.loc[50, "year"] == 1977
    assert pd.isna(items.loc[267, "title"]) and pd.isna(items.loc[267, "year"])  # "unkonwn" upstream
    assert items.loc[1412, "year"] == 1995 and "(1995)" not in items.loc[1412, "title"]  # year was "V"
    assert ml.users.set_index("user_id").loc[1, "occupation"] == "technician"


def test_fingerprint_matches(ml):
    assert movielens.ratings_fingerprint(ml.ratings) == movielens.RATINGS_SHA256


def test_item_texts(ml):
    texts = datasets.item_texts(ml.items)
    assert len(texts) == 1_682
    assert texts[0] == "Toy Story (1995). Genres: Animation, Children's, Comedy"
    assert texts[266] == "Untitled movie"
    assert datasets.item_texts(ml.items.head(1), with_genres=False) == ["Toy Story (1995)"]
    with pytest.raises(ValueError, match="lacks columns"):
        datasets.item_texts(ml.ratings)


def test_grouplens_files_in_cache_are_read(tmp_cache, ml):
    """A GroupLens-format folder in the cache takes precedence and parses to the same tables."""
    folder = tmp_cache / "data" / "ml-100k"
    folder.mkdir(parents=True)
    ml.ratings.to_csv(folder / "u.data", sep="\t", header=False, index=False)
    flags = np.zeros((len(ml.items), 19), dtype=int)
    for row, genres in enumerate(ml.items["genres"]):
        for g in genres:
            flags[row, 1 + movielens.GENRES.index(g)] = 1
    lines = []
    for (iid, title, year), f in zip(ml.items[["item_id", "title", "year"]].itertuples(index=False), flags):
        t = "unknown" if pd.isna(title) else f"{title} ({year})"
        date = "" if pd.isna(year) else f"01-Jan-{year}"
        lines.append("|".join([str(iid), t, date, "", "url"] + [str(x) for x in f]))
    (folder / "u.item").write_text("\n".join(lines) + "\n", encoding="latin-1")
    ml.users.to_csv(folder / "u.user", sep="|", header=False, index=False)
    loaded = datasets.load_movielens_100k()
    assert loaded.source.startswith("cache")
    pd.testing.assert_frame_equal(loaded.ratings, ml.ratings)
    assert loaded.items["title"].iloc[0] == "Toy Story"
    assert loaded.items["genres"].iloc[0] == ["Animation", "Children's", "Comedy"]


def test_corrupted_cache_is_reported_not_used(tmp_cache, ml):
    folder = tmp_cache / "data" / "ml-100k"
    folder.mkdir(parents=True)
    ml.ratings.head(10).to_csv(folder / "u.data", sep="\t", header=False, index=False)
    (folder / "u.item").write_text("1|A (1995)|01-Jan-1995||u" + "|0" * 19 + "\n", encoding="latin-1")
    ml.users.to_csv(folder / "u.user", sep="|", header=False, index=False)
    before = (folder / "u.data").read_bytes()
    with pytest.raises(ValueError, match="corrupted"):
        datasets.load_movielens_100k()
    assert (folder / "u.data").read_bytes() == before  # nothing overwritten


def test_missing_everywhere_offline(tmp_cache, monkeypatch):
    monkeypatch.setattr(movielens, "_recbole_folder", lambda: None)
    monkeypatch.setenv("TRANSLEARN_OFFLINE", "1")
    with pytest.raises(movielens.DatasetNotFoundError, match="recbole==1.2.1"):
        datasets.load_movielens_100k()


def test_unknown_source():
    with pytest.raises(ValueError, match="unknown source"):
        datasets.load_movielens_100k(source="kaggle")
