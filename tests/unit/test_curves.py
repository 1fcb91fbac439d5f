"""translearn_lib.experiments.curves: the learning-curve runner and its analysis helpers."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from translearn_lib import plots  # noqa: E402
from translearn_lib.experiments import curves  # noqa: E402


def _toy_curve():
    # "good" learns faster than "target-only"; "bad" is worse at small shares only
    calls = []

    def subsample(share, seed):
        calls.append(("cut", share, seed))
        return {"n": int(share * 100), "seed": seed}

    def fit_evaluate(name, strategy, data, seed):
        calls.append((name, data["n"], seed))
        return {"n_train": data["n"], "accuracy": strategy(data["n"]) + 0.01 * seed}

    strategies = {"target-only": lambda n: n / 100, "good": lambda n: min(1.0, n / 50),
                  "bad": lambda n: n / 100 - (0.2 if n < 50 else 0.0)}
    curve = curves.learning_curve(strategies, (0.1, 0.5, 1.0), seeds=(0, 1), subsample=subsample,
                                  fit_evaluate=fit_evaluate, progress=False)
    return curve, calls


def test_runner_cuts_once_per_seed_and_share_and_records_every_run():
    curve, calls = _toy_curve()
    assert list(curve.columns) == ["strategy", "share", "seed", "n_train", "accuracy", "seconds"]
    assert len(curve) == 3 * 3 * 2
    assert [c for c in calls if c[0] == "cut"] == [("cut", s, seed) for seed in (0, 1) for s in (0.1, 0.5, 1.0)]
    row = curve[(curve.strategy == "good") & (curve.share == 0.1) & (curve.seed == 1)].iloc[0]
    assert row.n_train == 10 and row.accuracy == pytest.approx(0.2 + 0.01)
    assert (curve.seconds >= 0).all()


def test_summary_table_gain_and_negative_transfer():
    curve, _ = _toy_curve()
    s = curves.summarize_curve(curve, "accuracy")
    good10 = s[(s.strategy == "good") & (s.share == 0.1)].iloc[0]
    assert good10["mean"] == pytest.approx(0.205) and good10["std"] == pytest.approx(np.std([0.2, 0.21], ddof=1))
    table = curves.curve_table(curve, "accuracy")
    assert list(table.columns) == ["target-only", "good", "bad"]
    assert table.index.names == ["share", "n_train"]
    gain = curves.transfer_gain(curve, "accuracy")
    assert gain.loc[(0.1, 10), "good"] == pytest.approx(0.1)
    assert gain.loc[(1.0, 100), "good"] == pytest.approx(0.0)
    assert curves.negative_transfer(curve, "accuracy", margin=0.05) == {"good": [], "bad": [0.1]}
    with pytest.raises(ValueError, match="baseline"):
        curves.transfer_gain(curve, "accuracy", baseline="nobody")
    with pytest.raises(ValueError, match="no column"):
        curves.summarize_curve(curve, "ndcg")


def test_runner_rejects_bad_arguments():
    ok = dict(subsample=lambda s, seed: None, fit_evaluate=lambda *a: {"ndcg": 0.0})
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        curves.learning_curve({"a": 1}, (0.0, 0.5), (0,), **ok)
    with pytest.raises(ValueError, match="empty"):
        curves.learning_curve({"a": 1}, (), (0,), **ok)
    with pytest.raises(ValueError, match="no strategies"):
        curves.learning_curve({}, (0.5,), (0,), **ok)
    with pytest.raises(ValueError, match="no seeds"):
        curves.learning_curve({"a": 1}, (0.5,), (), **ok)
    with pytest.raises(ValueError, match="empty learning curve"):
        curves.summarize_curve(pd.DataFrame(), "ndcg")


def test_plot_learning_curve_draws_one_line_per_strategy():
    curve, _ = _toy_curve()
    ax = plots.plot_learning_curve(curve, "accuracy", title="toy", styles={"target-only": "k--o"})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["target-only", "good", "bad"]
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "accuracy" and ax.get_title() == "toy"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10 %", "50 %", "100 %"]


def test_plot_learning_curve_band_shades_mean_plus_minus_std():
    curve, _ = _toy_curve()
    ax = plots.plot_learning_curve(curve, "accuracy", band=True)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["target-only", "good", "bad"]
    assert len(ax.collections) == 3 and not ax.containers  # one band per strategy, no error bars
    s = curves.summarize_curve(curve, "accuracy")
    row = s[s.strategy == "good"]
    ys = ax.collections[1].get_paths()[0].vertices[:, 1]
    np.testing.assert_allclose([ys.min(), ys.max()], [(row["mean"] - row["std"]).min(), (row["mean"] + row["std"]).max()])
    line = ax.get_lines()[1]
    np.testing.assert_allclose(line.get_ydata(), row["mean"])
