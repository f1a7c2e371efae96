"""HistoryDisplay: training and validation curves, epoch by epoch."""

from __future__ import annotations

import weakref

import numpy as np

from ._base import find_classifier, import_pyplot

__all__ = ["HistoryDisplay"]

# Score axes already twinned to a loss axes, so that several runs drawn on one axes share it.
_SCORE_AXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _column(history, key: str) -> np.ndarray | None:
    values = [epoch.get(key) for epoch in history]
    if not values or any(v is None for v in values):
        return None
    return np.asarray(values, dtype=float)


class HistoryDisplay:
    """Training loss, validation loss and validation score per epoch.

    The curves answer "is the model over-fitting, under-fitting or stuck?":
    a validation loss that rises while the training loss falls is
    over-fitting; both losses flat and close together is a plateau (see the
    user guide's plateau page); a training loss stuck at ``ln(n_classes)``
    is a collapsed, constant predictor.

    Parameters
    ----------
    epochs : ndarray of shape (n_epochs,)
        Epoch numbers (starting at 1).
    train_loss : ndarray of shape (n_epochs,)
        Training loss per epoch.
    valid_loss : ndarray of shape (n_epochs,), default=None
        Validation loss per epoch (present with ``early_stopping=True``).
    valid_score : ndarray of shape (n_epochs,), default=None
        Validation score per epoch (the classifier's ``scoring``).
    score_name : str, default="valid score"
        Label of the score axis.
    name : str, default=None
        Prefix of the legend entries, to tell several runs apart on one axes.
    best_epoch : int, default=None
        Epoch whose weights the model kept (the classifier's ``best_epoch_``);
        None draws no best-epoch line.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        Figure holding the plot.
    ax_ : matplotlib.axes.Axes
        Axes of the loss curves.
    score_ax_ : matplotlib.axes.Axes or None
        Twin axes of the score curve.
    lines_ : dict of str to matplotlib.lines.Line2D
        ``"train_loss"``, ``"valid_loss"``, ``"valid_score"`` and
        ``"best_epoch"`` (vertical line at the epoch whose weights early
        stopping restored: the best validation score, ties broken by the
        lower validation loss), where available.

    See Also
    --------
    AttentionDisplay : Attention weights over time.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_seqattn import SeqAttentionClassifier
    >>> from sklearn_seqattn.datasets import make_sequence_classification
    >>> from sklearn_seqattn.plotting import HistoryDisplay
    >>> X, y = make_sequence_classification(n_samples=80, n_timesteps=20, n_features=4,
    ...                                     random_state=0)
    >>> clf = SeqAttentionClassifier(lstm_units=4, dense_units=4, max_epochs=3,
    ...                              early_stopping=True, random_state=0).fit(X, y)
    >>> disp = HistoryDisplay.from_estimator(clf)
    >>> sorted(disp.lines_)
    ['best_epoch', 'train_loss', 'valid_loss', 'valid_score']
    """

    def __init__(
        self,
        epochs,
        train_loss,
        *,
        valid_loss=None,
        valid_score=None,
        score_name: str = "valid score",
        name: str | None = None,
        best_epoch: int | None = None,
    ):
        self.best_epoch = best_epoch
        self.epochs = epochs
        self.train_loss = train_loss
        self.valid_loss = valid_loss
        self.valid_score = valid_score
        self.score_name = score_name
        self.name = name

    @classmethod
    def from_history(
        cls,
        history,
        *,
        name: str | None = None,
        score_name=None,
        best_epoch: int | None = None,
        **plot_kwargs,
    ):
        """Plot a skorch ``History`` (or a list of per-epoch dicts).

        Parameters
        ----------
        history : skorch.History or list of dict
            Per-epoch records with ``train_loss`` and optionally
            ``valid_loss`` and ``valid_score``.
        name : str, default=None
            Prefix of the legend entries.
        score_name : str, default=None
            Label of the score axis; None means "valid score".
        best_epoch : int, default=None
            Epoch to mark as the one whose weights were kept; None marks none.
        **plot_kwargs
            Passed to :meth:`plot` (``ax``, ``show_score``, ``mark_best``).

        Returns
        -------
        display : HistoryDisplay
        """
        history = list(history)
        train_loss = _column(history, "train_loss")
        if train_loss is None:
            raise ValueError("history has no 'train_loss' record for every epoch.")
        epochs = _column(history, "epoch")
        if epochs is None:
            epochs = np.arange(1, len(history) + 1, dtype=float)
        display = cls(
            epochs,
            train_loss,
            valid_loss=_column(history, "valid_loss"),
            valid_score=_column(history, "valid_score"),
            score_name=score_name or "valid score",
            name=name,
            best_epoch=best_epoch,
        )
        return display.plot(**plot_kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        name: str | None = None,
        ax=None,
        show_score: bool = True,
        mark_best: bool = True,
    ) -> HistoryDisplay:
        """Plot the training history of a fitted classifier.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~sklearn_seqattn.SeqAttentionClassifier`, or a
            fitted pipeline, search or meta-estimator holding one.
        name : str, default=None
            Prefix of the legend entries, to tell several runs apart on one
            axes.
        ax : matplotlib Axes, default=None
            Where to draw; None creates a figure.
        show_score : bool, default=True
            Draw the validation score on a second y axis.
        mark_best : bool, default=True
            Draw a vertical line at the epoch whose weights were kept.

        Returns
        -------
        display : HistoryDisplay
        """
        clf, _ = find_classifier(estimator)
        scoring = clf.scoring if isinstance(clf.scoring, str) else "score"
        return cls.from_history(
            clf.history_,
            name=name,
            score_name=f"valid {scoring}",
            best_epoch=getattr(clf, "best_epoch_", None),
            ax=ax,
            show_score=show_score,
            mark_best=mark_best,
        )

    def plot(self, *, ax=None, show_score: bool = True, mark_best: bool = True) -> HistoryDisplay:
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None creates a figure. When ``ax`` already has a
            score twin axes from an earlier display, it is reused.
        show_score : bool, default=True
            Draw the validation score on a second y axis.
        mark_best : bool, default=True
            Draw a vertical line at the epoch whose weights were kept.

        Returns
        -------
        display : HistoryDisplay
            With ``figure_``, ``ax_``, ``score_ax_`` and ``lines_``.
        """
        plt = import_pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        prefix = f"{self.name}: " if self.name else ""
        epochs = np.asarray(self.epochs, dtype=float)
        self.lines_ = {}
        (self.lines_["train_loss"],) = ax.plot(
            epochs, self.train_loss, label=f"{prefix}train loss", lw=1.8
        )
        color = self.lines_["train_loss"].get_color()
        if self.valid_loss is not None:
            (self.lines_["valid_loss"],) = ax.plot(
                epochs, self.valid_loss, "--", color=color, label=f"{prefix}valid loss", lw=1.8
            )
            if mark_best and self.best_epoch is not None:
                # The estimator decided which epoch it kept; the display only shows it.
                self.lines_["best_epoch"] = ax.axvline(
                    self.best_epoch, color=color, ls=":", lw=1, label=f"{prefix}best epoch"
                )
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        self.score_ax_ = None
        handles, labels = ax.get_legend_handles_labels()
        if show_score and self.valid_score is not None:
            score_ax = _SCORE_AXES.get(ax)
            if score_ax is None:
                score_ax = _SCORE_AXES[ax] = ax.twinx()
            (self.lines_["valid_score"],) = score_ax.plot(
                epochs,
                self.valid_score,
                "-.",
                color=color,
                alpha=0.6,
                label=f"{prefix}{self.score_name}",
            )
            score_ax.set_ylabel(self.score_name)
            more_handles, more_labels = score_ax.get_legend_handles_labels()
            handles, labels = handles + more_handles, labels + more_labels
            self.score_ax_ = score_ax
        ax.legend(handles, labels, fontsize="small", loc="center right")
        self.ax_, self.figure_ = ax, ax.figure
        return self
