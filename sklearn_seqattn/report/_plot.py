"""The report's figure: learning curves beside the network's and the baselines' scores."""

from __future__ import annotations

import numpy as np

from ..plotting._base import import_pyplot
from ..plotting._history import HistoryDisplay

__all__ = ["plot_report"]


def plot_report(report, ax=None):
    """Draw ``report`` (a FitReport) on two axes; see :meth:`FitReport.plot`."""
    plt = import_pyplot()
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    axes = np.asarray(ax, dtype=object).ravel()
    if len(axes) != 2:
        raise ValueError(f"ax must hold two Axes (the curves and the scores), got {len(axes)}.")
    history = report.history
    if history["train_loss"] is not None:
        # The best epoch is the estimator's decision, read from the report, not recomputed.
        HistoryDisplay(
            np.asarray(history["epoch"]),
            np.asarray(history["train_loss"]),
            valid_loss=None if history["valid_loss"] is None else np.asarray(history["valid_loss"]),
            valid_score=None
            if history["valid_score"] is None
            else np.asarray(history["valid_score"]),
            best_epoch=report.curves.best_epoch,
        ).plot(ax=axes[0])
    axes[0].set_title(f"Learning curves (verdict: {report.verdict})")
    _plot_scores(report, axes[1])
    return axes


def _plot_scores(report, ax) -> None:
    names = ["network", *(b.name for b in report.baselines)]
    val = [report.balanced_accuracy, *(b.balanced_accuracy for b in report.baselines)]
    train = [report.train_balanced_accuracy, *(b.train_balanced_accuracy for b in report.baselines)]
    x = np.arange(len(names))
    colors = ["tab:blue"] + ["tab:gray"] * len(report.baselines)
    bars = ax.bar(x, val, color=colors, label="validation")
    ax.bar_label(bars, fmt="%.3f", fontsize="small")
    known = [i for i, t in enumerate(train) if t is not None]
    if known:
        ax.scatter(
            x[known],
            [train[i] for i in known],
            marker="D",
            color="black",
            zorder=3,
            label="training",
        )
    ax.axhline(report.chance_level, color="tab:red", ls="--", lw=1, label="chance")
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("balanced accuracy")
    ax.set_title("Network against cheap baselines")
    ax.legend(fontsize="small", loc="lower right")
