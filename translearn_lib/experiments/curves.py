"""Learning curves: how each transfer strategy scores as the share of target data grows.

One runner serves every chapter. It knows nothing about models: the chapter passes how to cut the
target data for a share and a seed (``subsample``) and how to fit and score one strategy on that
cut (``fit_evaluate``). Chapter 01 plugs in Keras classifiers and accuracy, chapter 04 cross-domain
recommenders and NDCG@10. The analysis helpers below read the runner's long table.

Taught in notebooks/01_transfer_basics.ipynb and notebooks/04_cross_domain_recommendation.ipynb.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from translearn_lib import config


def check_shares(shares: Sequence[float]) -> tuple[float, ...]:
    """Validate target shares: a non-empty sequence of numbers in (0, 1].

    Raises:
        ValueError: empty, or a share outside (0, 1].

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    shares = tuple(float(s) for s in shares)
    if not shares:
        raise ValueError("shares is empty: give at least one share of the target data, e.g. (0.1, 1.0)")
    bad = [s for s in shares if not 0.0 < s <= 1.0]
    if bad:
        raise ValueError(f"every share must be in (0, 1], got {bad}")
    return shares


def learning_curve(strategies: Mapping[str, Any], shares: Sequence[float], seeds: Sequence[int],
                   subsample: Callable[[float, int], Any],
                   fit_evaluate: Callable[[str, Any, Any, int], Mapping[str, float]],
                   progress: bool | None = None) -> pd.DataFrame:
    """Fit and score every strategy on every (seed, share) cut of the target data.

    For each seed and share the target data is cut once (``subsample(share, seed)``) and every
    strategy is fitted and scored on that same cut, so the strategies are compared on identical
    data. What is measured on which held-out data is decided by ``fit_evaluate``.

    Args:
        strategies: name -> strategy (any object ``fit_evaluate`` understands).
        shares: shares of the target training data, each in (0, 1].
        seeds: one cut per seed (and whatever else ``fit_evaluate`` seeds with it).
        subsample: ``(share, seed) -> data`` for one cut.
        fit_evaluate: ``(name, strategy, data, seed) -> {column: value}``, e.g.
            ``{"ndcg": 0.11}`` or ``{"n_train": 13, "accuracy": 0.7}``.
        progress: show a progress bar (``None``: only interactively, see
            ``config.progress_bars_enabled``).

    Returns:
        pd.DataFrame: one row per run with ``strategy, share, seed``, the returned columns and
        ``seconds`` (wall time of the fit and the evaluation).

    Raises:
        ValueError: no strategies or seeds, or a share outside (0, 1].

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    shares = check_shares(shares)
    names = list(strategies)
    if not names:
        raise ValueError("no strategies given")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("no seeds given")
    runs = [(seed, share) for seed in seeds for share in shares]
    show = config.progress_bars_enabled() if progress is None else bool(progress)
    if show:
        from tqdm.auto import tqdm

        runs = tqdm(runs, desc="learning curve", unit="cut", leave=False)
    rows = []
    for seed, share in runs:
        data = subsample(share, seed)
        for name in names:
            start = time.perf_counter()
            measured = dict(fit_evaluate(name, strategies[name], data, seed))
            rows.append({"strategy": name, "share": share, "seed": seed, **measured,
                         "seconds": time.perf_counter() - start})
    return pd.DataFrame(rows)


def _check_curve(curve: pd.DataFrame, metric: str) -> None:
    if curve.empty:
        raise ValueError("empty learning curve")
    missing = {"strategy", "share", metric} - set(curve.columns)
    if missing:
        raise ValueError(f"the curve has no column(s) {sorted(missing)}; columns are {list(curve.columns)}")


def summarize_curve(curve: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean and standard deviation of ``metric`` over seeds: one row per (strategy, share).

    Args:
        curve: output of :func:`learning_curve`.
        metric: the column to summarise, e.g. ``"accuracy"`` or ``"ndcg"``.

    Returns:
        pd.DataFrame: columns ``strategy, share``, ``n_train`` (when the curve has it), ``mean``,
        ``std`` (0 for one seed).

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    _check_curve(curve, metric)
    g = curve.groupby(["strategy", "share"], sort=False)
    agg = {"mean": (metric, "mean"), "std": (metric, "std")}
    if "n_train" in curve.columns:
        agg = {"n_train": ("n_train", "mean"), **agg}
    out = g.agg(**agg).reset_index()
    out["std"] = out["std"].fillna(0.0)
    if "n_train" in out.columns:
        out["n_train"] = out["n_train"].round().astype(int)
    return out


def curve_table(curve: pd.DataFrame, metric: str, decimals: int = 3) -> pd.DataFrame:
    """Wide table of the mean ``metric``: rows are shares (with ``n_train`` when known), columns strategies.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    s = summarize_curve(curve, metric)
    order = list(dict.fromkeys(s["strategy"]))
    index = ["share", "n_train"] if "n_train" in s.columns else "share"
    wide = s.pivot(index=index, columns="strategy", values="mean")[order]
    wide.columns.name = None
    return wide.round(decimals)


def transfer_gain(curve: pd.DataFrame, metric: str, baseline: str = "target-only", decimals: int = 3) -> pd.DataFrame:
    """Mean ``metric`` of each strategy minus the baseline's, per share; negative means negative transfer.

    Raises:
        ValueError: if the baseline is not in the curve.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    wide = curve_table(curve, metric, decimals=12)
    if baseline not in wide.columns:
        raise ValueError(f"baseline {baseline!r} not in the curve's strategies {list(wide.columns)}")
    return wide.drop(columns=baseline).sub(wide[baseline], axis=0).round(decimals)


def negative_transfer(curve: pd.DataFrame, metric: str, baseline: str = "target-only",
                      margin: float = 0.0) -> dict[str, list[float]]:
    """For each strategy, the shares at which it is worse than the baseline by more than ``margin``.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    gain = transfer_gain(curve, metric, baseline, decimals=12)
    shares = gain.index.get_level_values("share")
    return {name: [float(s) for s, g in zip(shares, gain[name]) if g < -margin] for name in gain.columns}


__all__ = ["check_shares", "learning_curve", "summarize_curve", "curve_table", "transfer_gain", "negative_transfer"]
