"""RelevanceDisplay: which steps and features moved the decision, for a few sequences."""

from __future__ import annotations

import numpy as np

from .._data import take_rows
from .._layout import padded_like_input
from .._validation import check_sequences
from ._base import find_classifier, import_pyplot

__all__ = ["RelevanceDisplay"]

_VIEWS = ("steps", "features")


def _check_indices(sample_indices, n_samples: int) -> np.ndarray:
    if sample_indices is None:
        return np.arange(min(5, n_samples))
    indices = np.atleast_1d(np.asarray(sample_indices))
    if indices.dtype.kind not in "iu" or indices.ndim != 1:
        raise TypeError(f"sample_indices must be a sequence of integer indices, got {indices!r}.")
    if len(indices) == 0 or not ((-n_samples <= indices) & (indices < n_samples)).all():
        raise ValueError(
            f"sample_indices must hold at least one index in [0, {n_samples}), got "
            f"{indices.tolist()}."
        )
    return indices


class RelevanceDisplay:
    """Integrated-gradients relevance of steps and features for a few sequences.

    The input-level counterpart of
    :class:`~sklearn_seqattn.plotting.AttentionDisplay`: where attention
    weights say where the pooling read the recurrent outputs, relevance (from
    :func:`~sklearn_seqattn.inspection.relevance`) says which input values
    moved the class score. Build it with :meth:`from_estimator` (needs
    captum, the ``explain`` extra), or from precomputed relevance with the
    constructor followed by :meth:`plot`. Two views:

    * ``"steps"``: one row per sequence, one column per time step, colour the
      step's share of the sequence's absolute relevance (zero on padding);
      events are marked with dots, as in the attention heat map.
    * ``"features"``: one panel per sequence, features x time, the signed
      relevance in a diverging colour map (red raised the score, blue lowered
      it), padding blank and events shaded.

    Parameters
    ----------
    relevance : ndarray of shape (n_shown, n_timesteps, n_features)
        Relevance of each value, zero on padded steps.
    padding : ndarray of bool, shape (n_shown, n_timesteps), default=None
        True on padded steps (drawn blank in the ``"features"`` view).
    events : ndarray of bool, shape (n_shown, n_timesteps), default=None
        Steps to mark, e.g. where a class-defining event happened.
    sample_labels : list of str, default=None
        Name of each sequence.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        Figure holding the plot.
    ax_ : matplotlib.axes.Axes or ndarray of Axes
        The heat map's axes, or one axes per sequence for ``"features"``.
    images_ : list of matplotlib.image.AxesImage
        The heat map, or one image per sequence.
    events_ : list of matplotlib artists
        Event markers; empty without ``events``.
    colorbar_ : matplotlib.colorbar.Colorbar or None
        Colour bar of the heat map.

    See Also
    --------
    AttentionDisplay : Attention weights over time.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_seqattn import SeqAttentionClassifier
    >>> from sklearn_seqattn.datasets import make_sequence_classification
    >>> from sklearn_seqattn.plotting import RelevanceDisplay
    >>> X, y, events = make_sequence_classification(
    ...     n_samples=60, n_timesteps=12, n_features=3, event_length=2, return_events=True,
    ...     random_state=0)
    >>> clf = SeqAttentionClassifier(lstm_units=4, dense_units=4, max_epochs=2,
    ...                              random_state=0).fit(X, y)
    >>> disp = RelevanceDisplay.from_estimator(clf, X, sample_indices=[0, 1], events=events,
    ...                                        n_steps=8)
    >>> disp.images_[0].get_array().shape
    (2, 12)
    """

    def __init__(self, relevance, *, padding=None, events=None, sample_labels=None):
        self.relevance = relevance
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
        target=None,
        n_steps: int = 32,
        view: str = "steps",
        ax=None,
        cmap: str | None = None,
        colorbar: bool = True,
    ) -> RelevanceDisplay:
        """Compute the relevance of some sequences of ``X`` and plot it.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~sklearn_seqattn.SeqAttentionClassifier`, or a
            fitted pipeline, search or meta-estimator holding one (``X`` then
            goes through the pipeline's transformers first).
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Sequences, as accepted by the classifier.
        sample_indices : array-like of int, default=None
            Which sequences to show; None shows the first five.
        y : array-like of shape (n_samples,), default=None
            Labels of ``X``; when given, each row is labelled with its class.
        events : ndarray of bool, shape (n_samples, n_timesteps), default=None
            Steps of ``X`` to mark.
        target : class label, array-like of shape (n_samples,) or None, default=None
            Class whose score is attributed; None: each sequence's prediction.
        n_steps : int, default=32
            Points of the integrated-gradients path.
        view : {"steps", "features"}, default="steps"
            What to draw; see the class description.
        ax : matplotlib Axes, or sequence of Axes for ``"features"``, default=None
            Where to draw; None creates a figure.
        cmap : str, default=None
            Colour map; None means "viridis" ("RdBu_r" for ``"features"``).
        colorbar : bool, default=True
            Draw a colour bar next to the heat map.

        Returns
        -------
        display : RelevanceDisplay
        """
        from ..inspection._relevance import relevance

        if view not in _VIEWS:
            raise ValueError(f"view must be one of {_VIEWS}, got {view!r}.")
        clf, Xt = find_classifier(estimator, X)
        n_samples = len(Xt)
        indices = _check_indices(sample_indices, n_samples)
        if target is not None and np.ndim(target) == 1:
            target = np.asarray(target)[indices]
        X_shown = take_rows(Xt, indices)
        values = relevance(clf, X_shown, n_steps=n_steps, target=target)
        _, padding = padded_like_input(check_sequences(X_shown, mask_value=clf.mask_value))
        if events is not None:
            events = np.asarray(events)
            if events.ndim != 2 or len(events) != n_samples:
                raise ValueError(
                    f"events must have shape (n_samples, n_timesteps) = ({n_samples}, "
                    f"{values.shape[1]}) like X, got shape {events.shape}."
                )
            events = events.astype(bool)[indices][:, : values.shape[1]]
        labels = [f"#{i}" for i in indices]
        if y is not None:
            shown = np.asarray(y)[indices]
            labels = [f"{name} (y={label})" for name, label in zip(labels, shown, strict=True)]
        display = cls(values, padding=padding, events=events, sample_labels=labels)
        return display.plot(view=view, ax=ax, cmap=cmap, colorbar=colorbar)

    def plot(
        self, *, view: str = "steps", ax=None, cmap: str | None = None, colorbar: bool = True
    ) -> RelevanceDisplay:
        """Draw the relevance.

        Parameters
        ----------
        view : {"steps", "features"}, default="steps"
            What to draw; see the class description.
        ax : matplotlib Axes, or sequence of Axes for ``"features"``, default=None
            Where to draw; None creates a figure.
        cmap : str, default=None
            Colour map; None means "viridis" ("RdBu_r" for ``"features"``).
        colorbar : bool, default=True
            Draw a colour bar next to the heat map.

        Returns
        -------
        display : RelevanceDisplay
            With ``figure_``, ``ax_``, ``images_``, ``events_``, ``colorbar_``.
        """
        from ..inspection._relevance import relevance_by_step

        if view not in _VIEWS:
            raise ValueError(f"view must be one of {_VIEWS}, got {view!r}.")
        values = np.asarray(self.relevance, dtype=float)
        if values.ndim != 3:
            raise ValueError(
                "relevance must be a 3-D (n_samples, n_timesteps, n_features) array, got "
                f"shape {values.shape}."
            )
        if self.events is not None and np.shape(self.events) != values.shape[:2]:
            raise ValueError(
                f"events must have shape {values.shape[:2]} (samples, steps of relevance), got "
                f"{np.shape(self.events)}."
            )
        labels = self.sample_labels or [f"#{i}" for i in range(len(values))]
        plt = import_pyplot()
        self.images_: list = []
        self.events_: list = []
        self.colorbar_ = None
        if view == "steps":
            shares = relevance_by_step(values)
            self._plot_steps(plt, shares, labels, ax, cmap or "viridis", colorbar)
        else:
            self._plot_features(plt, values, labels, ax, cmap or "RdBu_r")
        return self

    def _plot_steps(self, plt, shares, labels, ax, cmap, colorbar):
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 0.45 * len(shares) + 1.4))
        image = ax.imshow(shares, aspect="auto", interpolation="nearest", cmap=cmap, vmin=0.0)
        self.images_.append(image)
        if self.events is not None:
            rows, steps = np.nonzero(np.asarray(self.events, dtype=bool))
            self.events_.append(
                ax.scatter(
                    steps, rows, s=9, c="white", edgecolors="black", linewidths=0.4, label="event"
                )
            )
            ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
        ax.set_yticks(np.arange(len(shares)), labels)
        ax.set_xlabel("time step")
        ax.set_title("Share of |relevance| per step (zero on padding)")
        if colorbar:
            self.colorbar_ = ax.figure.colorbar(image, ax=ax, label="share")
        self.ax_, self.figure_ = ax, ax.figure

    def _plot_features(self, plt, values, labels, ax, cmap):
        n = len(values)
        if ax is None:
            _, ax = plt.subplots(n, 1, figsize=(8, 1.9 * n + 0.6), sharex=True, squeeze=False)
            ax = ax[:, 0]
        axes = np.atleast_1d(np.asarray(ax, dtype=object))
        if len(axes) != n:
            raise ValueError(f"ax must hold one Axes per shown sequence ({n}), got {len(axes)}.")
        padding = (
            np.zeros(values.shape[:2], dtype=bool)
            if self.padding is None
            else np.asarray(self.padding, dtype=bool)
        )
        for i, axis in enumerate(axes):
            shown = np.where(padding[i][:, None], np.nan, values[i])  # (time, features)
            limit = max(float(np.nanmax(np.abs(shown), initial=0.0)), 1e-12)
            image = axis.imshow(
                shown.T,
                aspect="auto",
                interpolation="nearest",
                cmap=cmap,
                vmin=-limit,
                vmax=limit,
            )
            self.images_.append(image)
            if self.events is not None:
                for step in np.flatnonzero(np.asarray(self.events, dtype=bool)[i]):
                    self.events_.append(
                        axis.axvspan(step - 0.5, step + 0.5, color="tab:orange", alpha=0.25, lw=0)
                    )
            axis.set_ylabel(f"{labels[i]}\nfeature")
        axes[-1].set_xlabel("time step")
        axes[0].set_title("Relevance (integrated gradients; red raised the score)")
        self.ax_, self.figure_ = axes, axes[0].figure
