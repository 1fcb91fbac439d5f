"""translearn_lib.plots: genre labels, 2-D projections and the projection scatter plot."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from translearn_lib import plots  # noqa: E402


def test_main_genres_picks_rarest_and_groups_the_rest():
    genres = [["Comedy", "Drama"], ["Animation", "Comedy"], ["Drama"], ["Drama"], [], ["War", "Drama"]]
    # Comedy (2) is rarer than Drama (4); Animation and War are rarest (1)
    assert plots.main_genres(genres, keep=10) == ["Comedy", "Animation", "Drama", "Drama", "other", "War"]
    # keep=1 keeps the most common main label only
    assert plots.main_genres(genres, keep=1) == ["other", "other", "Drama", "Drama", "other", "other"]


def test_project_2d_pca_is_deterministic_and_tsne_shape():
    x = np.random.default_rng(0).normal(size=(40, 6))
    a, b = plots.project_2d(x, "pca"), plots.project_2d(x, "pca")
    assert a.shape == (40, 2)
    np.testing.assert_allclose(a, b)
    # the first PCA axis carries the largest variance
    assert a[:, 0].var() >= a[:, 1].var()
    t = plots.project_2d(x, "tsne", seed=1)
    assert t.shape == (40, 2) and np.isfinite(t).all()
    with pytest.raises(ValueError):
        plots.project_2d(x, "umap")
    with pytest.raises(ValueError):
        plots.project_2d(x[:2], "pca")


def test_plot_projection_draws_one_series_per_label():
    pts = np.arange(12, dtype=float).reshape(6, 2)
    ax = plots.plot_projection(pts, ["a", "a", "b", "other", "b", "a"], annotate={0: "first"}, title="t")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["other", "a", "b"]
    assert ax.get_title() == "t" and [t.get_text() for t in ax.texts] == ["first"]
    with pytest.raises(ValueError):
        plots.plot_projection(pts, ["a"])
