"""Helpers shared by the displays: the lazy matplotlib import, unwrapping pipelines."""

from __future__ import annotations

from sklearn.utils.validation import check_is_fitted

__all__ = ["find_classifier", "import_pyplot"]


def import_pyplot():
    """Return ``matplotlib.pyplot``, or raise an ImportError that names the extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "Plotting needs matplotlib, which is not installed; install it with "
            "'pip install \"sklearn-seqattn[plot]\"' (or 'pip install matplotlib')."
        ) from exc
    return plt


def find_classifier(estimator, X=None):
    """Find the fitted classifier inside ``estimator``.

    Parameters
    ----------
    estimator : estimator instance
        A fitted :class:`~sklearn_seqattn.SeqAttentionClassifier`, a pipeline
        ending in one (scikit-learn or imbalanced-learn), or a meta-estimator
        holding one as ``best_estimator_`` (searches) or ``estimator_``
        (e.g. ``TunedThresholdClassifierCV``).
    X : array-like or list, default=None
        When given, passed through the pipeline's transformers as at
        prediction time (samplers are skipped) and returned.

    Returns
    -------
    classifier : SeqAttentionClassifier
    X : array-like, list or None
    """
    given = estimator
    for _ in range(20):
        if hasattr(estimator, "attention_weights"):
            break
        if hasattr(estimator, "steps"):
            for _, step in estimator.steps[:-1]:
                if X is None or step in (None, "passthrough") or hasattr(step, "fit_resample"):
                    continue
                X = step.transform(X)
            estimator = estimator.steps[-1][1]
        elif hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        elif hasattr(estimator, "estimator_"):
            estimator = estimator.estimator_
        else:
            break
    if not hasattr(estimator, "attention_weights"):
        raise TypeError(
            "Expected a fitted SeqAttentionClassifier, or a fitted pipeline, search or "
            f"meta-estimator holding one; got {type(given).__name__}."
        )
    check_is_fitted(estimator, "net_")
    return estimator, X
