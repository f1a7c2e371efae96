"""AttentionDisplay: where the model looked, step by step, for a few sequences."""

from __future__ import annotations

import numpy as np

from .._data import take_rows
from .._layout import padded_like_input
from .._validation import check_sequences
from ._base import find_classifier, import_pyplot

__all__ = ["AttentionDisplay"]

_VIEWS = ("heatmap", "input", "relevance")


class AttentionDisplay:
    """Attention weights over time for a few sequences.

    Build it with :meth:`from_estimator`, or from precomputed weights with the
    constructor followed by :meth:`plot`. Three views are available:

    * ``"heatmap"``: one row per sequence, one column per time step, colour
      the pooling weight; planted or annotated events are marked with dots.
    * ``"input"``: one panel per sequence showing its input features
      (features x time, padding blank) with the attention weight drawn over
      it as a line.
    * ``"relevance"``: one panel per sequence showing
      ``weight[t] * |x[t, f]|``, the share of attention a step receives spread
      over the magnitude of its features.

    Parameters
    ----------
    weights : ndarray of shape (n_shown, n_timesteps)
        Attention weights, e.g. from
        :meth:`~sklearn_seqattn.SeqAttentionClassifier.attention_weights`:
        zero on padded steps, summing to one over each sequence's real steps.
    X : ndarray of shape (n_shown, n_timesteps, n_features), default=None
        The sequences the weights belong to; needed by the ``"input"`` and
        ``"relevance"`` views.
    padding : ndarray of bool, shape (n_shown, n_timesteps), default=None
        True on padded steps (drawn blank in the feature views).
    events : ndarray of bool, shape (n_shown, n_timesteps), default=None
        Steps to mark, e.g. where a class-defining event happened.
    sample_labels : list of str, default=None
        Name of each sequence, shown on the y axis.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        Figure holding the plot.
    ax_ : matplotlib.axes.Axes or ndarray of Axes
        The heat map's axes, or one axes per sequence for the feature views.
    images_ : list of matplotlib.image.AxesImage
        The heat map, or one image per sequence.
    lines_ : list of matplotlib.lines.Line2D
        Attention curves (``"input"`` view); empty otherwise.
    events_ : list of matplotlib artists
        Event markers; empty without ``events``.
    colorbar_ : matplotlib.colorbar.Colorbar or None
        Colour bar of the heat map.

    See Also
    --------
    HistoryDisplay : Training and validation curves of a fitted classifier.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_seqattn import SeqAttentionClassifier
    >>> from sklearn_seqattn.datasets import make_sequence_classification
    >>> from sklearn_seqattn.plotting import AttentionDisplay
    >>> X, y, events = make_sequence_classification(
    ...     n_samples=80, n_timesteps=20, n_features=4, return_events=True, random_state=0)
    >>> clf = SeqAttentionClassifier(lstm_units=4, dense_units=4, max_epochs=2,
    ...                              early_stopping=False, random_state=0).fit(X, y)
    >>> disp = AttentionDisplay.from_estimator(clf, X, sample_indices=[0, 1, 2], events=events)
    >>> disp.images_[0].get_array().shape
    (3, 20)
    """

    def __init__(self, weights, *, X=None, padding=None, events=None, sample_labels=None):
        self.weights = weights
        self.X = X
        self.padding = padding
        self.events = events
        self.sample_labels = sample_labels

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        sample_indices=None,
        y=None,
        events=None,
        view: str = "heatmap",
        ax=None,
        cmap: str | None = None,
        colorbar: bool = True,
    ) -> AttentionDisplay:
        """Compute attention weights for some sequences of ``X`` and plot them.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~sklearn_seqattn.SeqAttentionClassifier`, or a
            fitted pipeline, search or ``TunedThresholdClassifierCV`` holding
            one (``X`` then goes through the pipeline's transformers first).
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Sequences, as accepted by the classifier.
        sample_indices : array-like of int, default=None
            Which sequences to show; None shows the first five.
        y : array-like of shape (n_samples,), default=None
            Labels of ``X``; when given, each row is labelled with its class.
        events : ndarray of bool, shape (n_samples, n_timesteps), default=None
            Steps of ``X`` to mark (e.g. the ``events`` returned by
            :func:`~sklearn_seqattn.datasets.make_sequence_classification`).
        view : {"heatmap", "input", "relevance"}, default="heatmap"
            What to draw; see the class description.
        ax : matplotlib Axes, or sequence of Axes for the feature views, default=None
            Where to draw; None creates a figure.
        cmap : str, default=None
            Colour map; None means "viridis" for the heat map and the
            relevance view, "Greys" for the input view.
        colorbar : bool, default=True
            Draw a colour bar next to the heat map.

        Returns
        -------
        display : AttentionDisplay
        """
        if view not in _VIEWS:
            raise ValueError(f"view must be one of {_VIEWS}, got {view!r}.")
        clf, Xt = find_classifier(estimator, X)
        n_samples = len(Xt)
        if sample_indices is None:
            sample_indices = np.arange(min(5, n_samples))
        sample_indices = np.atleast_1d(np.asarray(sample_indices))
        if sample_indices.dtype.kind not in "iu" or sample_indices.ndim != 1:
            raise TypeError(
                f"sample_indices must be a sequence of integer indices, got {sample_indices!r}."
            )
        if (
            len(sample_indices) == 0
            or not (-n_samples <= sample_indices).all()
            or not (sample_indices < n_samples).all()
        ):
            raise ValueError(
                f"sample_indices must hold at least one index in [0, {n_samples}), "
                f"got {sample_indices.tolist()}."
            )
        X_shown = take_rows(Xt, sample_indices)
        weights = clf.attention_weights(X_shown)
        # The shown sequences on the time axis of their weights, parsed as fit parses X.
        X_shown, padding = padded_like_input(check_sequences(X_shown, mask_value=clf.mask_value))
        if events is not None:
            events = np.asarray(events)
            if events.ndim != 2 or len(events) != n_samples:
                raise ValueError(
                    f"events must have shape (n_samples, n_timesteps) = ({n_samples}, "
                    f"{weights.shape[1]}) like X, got shape {events.shape}."
                )
            events = events.astype(bool)[sample_indices][:, : weights.shape[1]]
        labels = [f"#{i}" for i in sample_indices]
        if y is not None:
            y_shown = np.asarray(y)[sample_indices]
            labels = [f"{name} (y={label})" for name, label in zip(labels, y_shown, strict=True)]
        display = cls(weights, X=X_shown, padding=padding, events=events, sample_labels=labels)
        return display.plot(view=view, ax=ax, cmap=cmap, colorbar=colorbar)

    def plot(
        self,
        *,
        view: str = "heatmap",
        ax=None,
        cmap: str | None = None,
        colorbar: bool = True,
    ) -> AttentionDisplay:
        """Draw the weights.

        Parameters
        ----------
        view : {"heatmap", "input", "relevance"}, default="heatmap"
            What to draw; see the class description.
        ax : matplotlib Axes, or sequence of Axes for the feature views, default=None
            Where to draw; None creates a figure.
        cmap : str, default=None
            Colour map; None means "viridis" ("Greys" for the input view).
        colorbar : bool, default=True
            Draw a colour bar next to the heat map.

        Returns
        -------
        display : AttentionDisplay
            With ``figure_``, ``ax_``, ``images_``, ``lines_``, ``events_``.
        """
        if view not in _VIEWS:
            raise ValueError(f"view must be one of {_VIEWS}, got {view!r}.")
        weights = np.asarray(self.weights, dtype=float)
        if weights.ndim != 2:
            raise ValueError(
                f"weights must be a 2-D (n_samples, n_timesteps) array, got shape {weights.shape}."
            )
        if view != "heatmap" and self.X is None:
            raise ValueError(f"view={view!r} needs the input sequences X.")
        if self.events is not None and np.shape(self.events) != weights.shape:
            # Marks on other steps than the weights' would point at the wrong steps.
            raise ValueError(
                f"events must have the shape of weights, {weights.shape}, got "
                f"{np.shape(self.events)}."
            )
        labels = self.sample_labels or [f"#{i}" for i in range(len(weights))]
        plt = import_pyplot()
        self.images_: list = []
        self.lines_: list = []
        self.events_: list = []
        self.colorbar_ = None
        if view == "heatmap":
            self._plot_heatmap(plt, weights, labels, ax, cmap or "viridis", colorbar)
        else:
            self._plot_panels(plt, weights, labels, ax, cmap, view)
        return self

    def _event_points(self, row: int | None = None):
        events = np.asarray(self.events, dtype=bool)
        if row is not None:
            events = events[row : row + 1]
        rows, steps = np.nonzero(events)
        return steps, rows

    def _plot_heatmap(self, plt, weights, labels, ax, cmap, colorbar):
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 0.45 * len(weights) + 1.4))
        image = ax.imshow(weights, aspect="auto", interpolation="nearest", cmap=cmap, vmin=0.0)
        self.images_.append(image)
        if self.events is not None:
            steps, rows = self._event_points()
            self.events_.append(
                ax.scatter(
                    steps, rows, s=9, c="white", edgecolors="black", linewidths=0.4, label="event"
                )
            )
            ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
        ax.set_yticks(np.arange(len(weights)), labels)
        ax.set_xlabel("time step")
        ax.set_title("Attention weight per step (zero on padding)")
        if colorbar:
            self.colorbar_ = ax.figure.colorbar(image, ax=ax, label="weight")
        self.ax_, self.figure_ = ax, ax.figure

    def _plot_panels(self, plt, weights, labels, ax, cmap, view):
        n = len(weights)
        if ax is None:
            _, ax = plt.subplots(n, 1, figsize=(8, 1.9 * n + 0.6), sharex=True, squeeze=False)
            ax = ax[:, 0]
        axes = np.atleast_1d(np.asarray(ax, dtype=object))
        if len(axes) != n:
            raise ValueError(f"ax must hold one Axes per shown sequence ({n}), got {len(axes)}.")
        X = np.asarray(self.X, dtype=float)
        padding = (
            np.zeros(weights.shape, dtype=bool)
            if self.padding is None
            else np.asarray(self.padding, dtype=bool)
        )
        for i, axis in enumerate(axes):
            if view == "input":
                background = np.where(padding[i][:, None], np.nan, X[i])  # (time, features)
                image = axis.imshow(
                    background.T, aspect="auto", interpolation="nearest", cmap=cmap or "Greys"
                )
                curve_ax = axis.twinx()
                (line,) = curve_ax.plot(
                    np.arange(weights.shape[1]), weights[i], color="tab:red", lw=1.5
                )
                curve_ax.set_ylim(0, max(float(weights[i].max()) * 1.1, 1e-12))
                curve_ax.set_ylabel("weight", color="tab:red")
                self.lines_.append(line)
            else:
                relevance = weights[i][:, None] * np.abs(np.nan_to_num(X[i]))
                image = axis.imshow(
                    relevance.T,
                    aspect="auto",
                    interpolation="nearest",
                    cmap=cmap or "viridis",
                    vmin=0.0,
                )
            self.images_.append(image)
            if self.events is not None:
                steps, _ = self._event_points(i)
                for step in steps:
                    self.events_.append(
                        axis.axvspan(step - 0.5, step + 0.5, color="tab:orange", alpha=0.25, lw=0)
                    )
            axis.set_ylabel(f"{labels[i]}\nfeature")
        axes[-1].set_xlabel("time step")
        title = "Input (grey) and attention (red)" if view == "input" else "weight x |feature|"
        axes[0].set_title(title)
        self.ax_, self.figure_ = axes, axes[0].figure
