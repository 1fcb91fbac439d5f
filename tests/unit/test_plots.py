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


def test_plot_comparison_draws_mean_bars_and_the_best_id_baseline():
    import pandas as pd

    from translearn_lib.experiments.comparison import summarize

    results = pd.DataFrame({
        "model": ["Pop", "EASE", "TextEASE", "Pop", "EASE", "TextEASE"],
        "seed": [1, 1, 1, 2, 2, 2],
        **{m: [0.1, 0.3, 0.32, 0.12, 0.28, 0.3] for m in ("recall", "ndcg", "hit", "mrr")},
        "fit_s": [0.0, 0.2, 0.3, 0.0, 0.2, 0.3],
    })
    s = summarize(results)
    ax = plots.plot_comparison(results, "ndcg", k=10)
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx(list(s["ndcg_mean"]))  # one bar per model, table order, top to bottom
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == ["EASE", "Pop", "TextEASE"]
    colours = [tuple(p.get_facecolor()) for p in ax.patches]
    assert colours[0] == colours[1] != colours[2]  # ID-only models blue, the text model orange
    baseline = [line for line in ax.lines if line.get_label() == "best ID-only baseline"]
    assert len(baseline) == 1 and baseline[0].get_xdata()[0] == pytest.approx(s.loc["EASE", "ndcg_mean"])
    assert ax.get_xlabel().startswith("NDCG@10")


def test_plot_k_curve_draws_one_line_per_method_with_mean_values():
    runs = [{"method": m, "k": k, "ndcg": v + s, "seed": s} for m, v in (("a", 0.1), ("b", 0.2))
            for k in (0, 1, 3) for s in (0, 1)]
    ax = plots.plot_k_curve(runs, "ndcg")
    assert len(ax.get_lines()) == 2
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [0.7, 0.7, 0.7])
    with pytest.raises(ValueError, match="lacks"):
        plots.plot_k_curve(runs, "recall")
