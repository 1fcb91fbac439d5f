"""Every plot of the course (matplotlib, inline in JupyterLab).

Each function draws on a given ``ax`` (or a new figure) and returns the matplotlib ``Axes``, so a
notebook can adjust titles or save the figure. matplotlib is imported inside the functions:
importing the library never needs it.

Taught in notebooks/02_llm_text_representations.ipynb.
"""

from __future__ import annotations

from collections import Counter
from typing import Mapping, Sequence

import numpy as np

from translearn_lib import config

OTHER = "other"


def main_genres(genre_lists: Sequence[Sequence[str]], keep: int = 8) -> list[str]:
    """One colour label per item: its most specific genre.

    MovieLens lists genres alphabetically, so "the first genre" is mostly "Action" or "Comedy". The
    most specific genre (the item's rarest one in the catalogue) says more: *Toy Story* becomes
    Animation rather than Comedy. Labels outside the ``keep`` most frequent become ``"other"``.

    Args:
        genre_lists: one list of genres per item (``MovieLens.items.genres``).
        keep: number of distinct labels to keep (the rest map to ``"other"``).

    Returns:
        list[str]: one label per item (``"other"`` also for items without genres).

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    freq = Counter(g for gs in genre_lists for g in gs)
    raw = [min(gs, key=lambda g: (freq[g], g)) if len(gs) else OTHER for gs in genre_lists]
    top = {g for g, _ in Counter(r for r in raw if r != OTHER).most_common(keep)}
    return [r if r in top else OTHER for r in raw]


def project_2d(embeddings: np.ndarray, method: str = "pca", seed: int = config.DEFAULT_SEED) -> np.ndarray:
    """Project vectors to 2-D for plotting.

    Args:
        embeddings: ``(n, dim)``.
        method: ``"pca"`` (linear, fast, keeps global distances) or ``"tsne"`` (non-linear, keeps
            local neighbourhoods; seeded, initialised with PCA; a few seconds for 2,000 points).
        seed: random state for t-SNE.

    Returns:
        ``(n, 2)`` float array.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or len(x) < 3:
        raise ValueError(f"need a (n >= 3, dim) array, got shape {x.shape}")
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(x)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, (len(x) - 1) / 3))
        return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(x)
    raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")


def plot_projection(
    points: np.ndarray,
    labels: Sequence[str],
    annotate: dict[int, str] | None = None,
    title: str | None = None,
    ax=None,
    point_size: float = 8.0,
):
    """Scatter 2-D points coloured by label, with optional text labels on chosen points.

    Args:
        points: ``(n, 2)`` from :func:`project_2d`.
        labels: ``n`` labels (e.g. from :func:`main_genres`); ``"other"`` is drawn in light grey
            underneath the rest.
        annotate: ``{row index: text}`` points to label (e.g. a few famous films).
        title: axes title.
        ax: an existing matplotlib Axes (a new 7x6 figure otherwise).
        point_size: marker size.

    Returns:
        matplotlib Axes.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    import matplotlib.pyplot as plt

    pts = np.asarray(points)
    labels = np.asarray(labels)
    if pts.shape != (len(labels), 2):
        raise ValueError(f"points {pts.shape} do not match {len(labels)} labels")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 6))
    names = [n for n, _ in Counter(labels[labels != OTHER]).most_common()]
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    if (labels == OTHER).any():
        m = labels == OTHER
        ax.scatter(pts[m, 0], pts[m, 1], s=point_size, c="#d0d0d0", label=OTHER, linewidths=0)
    for i, name in enumerate(names):
        m = labels == name
        ax.scatter(pts[m, 0], pts[m, 1], s=point_size, color=cmap(i % cmap.N), label=name, linewidths=0)
    for idx, txt in (annotate or {}).items():
        ax.annotate(txt, pts[idx], fontsize=8, xytext=(3, 3), textcoords="offset points")
        ax.scatter(*pts[idx], s=point_size * 4, facecolors="none", edgecolors="black", linewidths=0.8)
    ax.legend(markerscale=2, fontsize=8, loc="best", frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def plot_learning_curve(curve, metric: str, ax=None, title: str | None = None,
                        styles: Mapping[str, str] | None = None, xlabel: str = "share of the target training data",
                        ylabel: str | None = None, band: bool = False):
    """Mean ``metric`` against the share of target data (log scale), error bars = std over seeds.

    With ``band=True`` the spread over seeds is drawn as a shaded band (mean ± std) around each
    line instead of error bars, which stays readable when many strategies overlap.

    Args:
        curve: output of :func:`translearn_lib.experiments.curves.learning_curve`.
        metric: the column to plot (``"accuracy"``, ``"ndcg"``, ...).
        ax: matplotlib axes (a new figure if ``None``).
        title: axes title.
        styles: optional matplotlib format string per strategy, e.g. ``{"target-only": "k--o"}``.
        xlabel: x-axis label.
        ylabel: y-axis label (default: the metric's name).
        band: shade mean ± std over seeds instead of drawing error bars (the std is 0, and the
            band invisible, when the curve holds one seed).

    Returns:
        matplotlib.axes.Axes: the axes.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    import matplotlib.pyplot as plt

    from translearn_lib.experiments.curves import summarize_curve

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    s = summarize_curve(curve, metric)
    styles = dict(styles or {})
    for name, part in s.groupby("strategy", sort=False):
        x, mean, std = part["share"] * 100, part["mean"], part["std"].fillna(0.0)
        if band:
            (line,) = ax.plot(x, mean, styles.get(name, "-o"), ms=4, label=name)
            ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.15, linewidth=0)
        else:
            ax.errorbar(x, mean, yerr=std, fmt=styles.get(name, "-o"), capsize=3, ms=4, label=name)
    ax.set_xscale("log")
    ticks = sorted(s["share"].unique() * 100)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g} %" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_comparison(results, metric: str = "ndcg", k: int = 10, ax=None,
                    text_models: Sequence[str] = ("TextOnly", "TextEASE", "Hybrid")):
    """Horizontal bars of one metric per model (mean over seeds, ± std when several seeds).

    Models that read the BERT features are drawn in a second colour; the best ID-only baseline is
    marked with a dashed line, so "does text beat the strongest baseline?" is visible at a glance.

    Args:
        results: output of :func:`translearn_lib.experiments.comparison.run_comparison`.
        metric: ``"recall"``, ``"ndcg"``, ``"hit"`` or ``"mrr"``.
        k: cut-off, for the axis label.
        ax: a matplotlib axis (default: a new figure).
        text_models: row names to colour as text-based.

    Returns:
        matplotlib.axes.Axes: the axis.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    import matplotlib.pyplot as plt

    from translearn_lib.experiments.comparison import summarize

    s = summarize(results)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 0.45 * len(s) + 1.2))
    colours = ["tab:orange" if name in text_models else "tab:blue" for name in s.index]
    y = np.arange(len(s))[::-1]
    ax.barh(y, s[f"{metric}_mean"], xerr=s[f"{metric}_std"].fillna(0.0), color=colours, capsize=3)
    ax.set_yticks(y, s.index)
    ids = [n for n in s.index if n not in text_models]
    if ids:
        best = s.loc[ids, f"{metric}_mean"].max()
        ax.axvline(best, color="grey", linestyle="--", linewidth=1, label="best ID-only baseline")
        ax.legend(loc="upper right", fontsize=8)
    for yi, value in zip(y, s[f"{metric}_mean"]):
        ax.text(value + 0.003, yi, f"{value:.3f}", va="center", fontsize=8)
    ax.set_xlabel(f"{metric.upper() if metric != 'ndcg' else 'NDCG'}@{k} (test; blue = IDs only, orange = uses BERT text)")
    ax.set_xlim(0, s[f"{metric}_mean"].max() * 1.15)
    return ax


def plot_method_summary(summary, ax=None, title: str | None = None, baseline: str = "source-only",
                        xlabel: str = "target test accuracy"):
    """Horizontal bars of mean accuracy per method, ± std over seeds, the baseline as a dashed line.

    Args:
        summary: output of :func:`translearn_lib.adaptation.training.summarize_methods` (index =
            method, columns ``mean``, ``std``, ``gain``).
        ax: matplotlib axes (a new figure if ``None``).
        title: axes title.
        baseline: the row drawn as the reference line (skipped if absent).
        xlabel: x-axis label.

    Returns:
        matplotlib.axes.Axes: the axes.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 0.45 * len(summary) + 1.2))
    y = np.arange(len(summary))[::-1]
    colours = ["tab:grey" if str(name).startswith(baseline) else "tab:blue" for name in summary.index]
    ax.barh(y, summary["mean"], xerr=summary["std"], color=colours, capsize=3)
    ax.set_yticks(y, list(summary.index))
    if baseline in summary.index:
        ax.axvline(summary.loc[baseline, "mean"], color="black", ls="--", lw=1, label=baseline)
        ax.legend(loc="lower right", fontsize=8)
    for yi, m, sd, g in zip(y, summary["mean"], summary["std"], summary["gain"]):
        ax.text(m + sd + 0.005, yi, f"{m:.3f} ({g:+.1f})", va="center", fontsize=8)
    lo = max(0.0, float((summary["mean"] - summary["std"]).min()) - 0.1)
    ax.set_xlim(lo, min(1.05, float((summary["mean"] + summary["std"]).max()) + 0.1))
    ax.set_xlabel(xlabel + " (gain vs baseline in points)")
    if title:
        ax.set_title(title)
    return ax


def plot_k_curve(runs, metric: str = "ndcg", x: str = "k", by: str = "method", ax=None, title: str | None = None,
                 xlabel: str = "known interactions of the new user (k)"):
    """Mean ``metric`` against an integer setting (e.g. a new user's ``k`` known items), band = ± std over seeds.

    Args:
        runs: long frame (or list of dicts) with columns ``by``, ``x``, ``metric`` and one row per seed.
        metric: the column to plot.
        x: the integer x-axis column (linear scale, so ``k = 0`` is drawn).
        by: one line per value of this column.
        ax: matplotlib axes (a new figure if ``None``).
        title: axes title.
        xlabel: x-axis label.

    Returns:
        matplotlib.axes.Axes: the axes.

    Raises:
        ValueError: a column is missing.

    Taught in notebooks/06_cold_start.ipynb.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    frame = pd.DataFrame(runs)
    missing = {x, by, metric} - set(frame.columns)
    if missing:
        raise ValueError(f"runs lacks columns {sorted(missing)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    stats = frame.groupby([by, x], sort=False)[metric].agg(["mean", "std"]).reset_index()
    for name, part in stats.groupby(by, sort=False):
        part = part.sort_values(x)
        std = part["std"].fillna(0.0)
        (line,) = ax.plot(part[x], part["mean"], "-o", ms=4, label=name)
        ax.fill_between(part[x], part["mean"] - std, part["mean"] + std, color=line.get_color(), alpha=0.15, linewidth=0)
    ax.set_xticks(sorted(stats[x].unique()))
    ax.set_xlabel(xlabel)
    ax.set_ylabel({"ndcg": "NDCG@10", "recall": "Recall@10"}.get(metric, metric))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_regret_curves(runs, policy: str, ax=None, title: str | None = None):
    """Cumulative regret against rounds, one line per feature set, band = ± std over seeds.

    Args:
        runs: rows of ``bandits.regret_runs`` (``policy``, ``features``, ``seed``, ``curve_t``, ``curve``).
        policy: which policy's runs to draw.
        ax: matplotlib axes (a new figure if ``None``).
        title: axes title (default: the policy name).

    Returns:
        matplotlib.axes.Axes: the axes.

    Raises:
        ValueError: no run of ``policy``.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    import matplotlib.pyplot as plt

    rows = [r for r in runs if r["policy"] == policy]
    if not rows:
        raise ValueError(f"no run of policy {policy!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4))
    for name in dict.fromkeys(r["features"] for r in rows):
        part = [r for r in rows if r["features"] == name]
        t = np.asarray(part[0]["curve_t"])
        curves = np.array([r["curve"] for r in part])
        mean, std = curves.mean(axis=0), curves.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros(len(t))
        (line,) = ax.plot(t, mean, label=f"{name} ({len(curves)} seeds)")
        ax.fill_between(t, mean - std, mean + std, color=line.get_color(), alpha=0.15, linewidth=0)
    ax.set_xlabel("round t")
    ax.set_ylabel("cumulative regret (clicks lost per user)")
    ax.set_title(title or policy)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_privacy_curve(runs, no_dp: Mapping[str, float], baselines: Mapping[str, float] | None = None, axes=None):
    """Two panels against ε (log scale): NDCG@10 and membership-inference AUC, band = ± std over seeds.

    Args:
        runs: frame (or list of dicts) of DP runs with ``target_epsilon``, ``ndcg``, ``attack_auc``
            (one row per seed and ε).
        no_dp: ``{"ndcg": …, "attack_auc": …}`` of the model trained without DP (dashed lines).
        baselines: optional ``{name: ndcg}`` drawn as dotted lines on the NDCG panel.
        axes: two matplotlib axes (a new figure if ``None``).

    Returns:
        np.ndarray: the two axes.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    frame = pd.DataFrame(runs)
    missing = {"target_epsilon", "ndcg", "attack_auc"} - set(frame.columns)
    if missing:
        raise ValueError(f"runs lacks columns {sorted(missing)}")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    stats = frame.groupby("target_epsilon")[["ndcg", "attack_auc"]].agg(["mean", "std"])
    eps = stats.index.to_numpy(dtype=float)
    for ax, metric, label in zip(axes, ("ndcg", "attack_auc"), ("NDCG@10 (non-members' test items)", "attack AUC")):
        mean, std = stats[(metric, "mean")].to_numpy(), stats[(metric, "std")].fillna(0.0).to_numpy()
        ax.plot(eps, mean, "-o", ms=4, label="DP-SGD")
        ax.fill_between(eps, mean - std, mean + std, alpha=0.2, linewidth=0)
        ax.axhline(no_dp[metric], color="k", ls="--", lw=1, label="no DP")
        ax.set_xscale("log")
        ax.set_xticks(eps, [f"{e:g}" for e in eps])
        ax.set_xlabel("ε (user-level, δ = 1e-5)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    for name, value in (baselines or {}).items():
        axes[0].axhline(value, ls=":", lw=1, color="gray")
        axes[0].annotate(name, (eps[0], value), fontsize=8, va="bottom", color="gray")
    axes[1].axhline(0.5, ls=":", lw=1, color="gray")
    axes[1].annotate("guessing", (eps[0], 0.5), fontsize=8, va="bottom", color="gray")
    for ax in axes:
        ax.legend(fontsize=8)
    return axes
