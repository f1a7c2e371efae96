"""Next steps after a verdict: parameter changes whose effect this package has measured.

Every entry of :data:`SUGGESTIONS` quotes what a change gained and what it
cost in the package's own measurements (``docs/benchmarks.md``, section
numbers given, and the worked guide ``docs/user_guide/plateau.rst``), never
generic advice. Update the table, and only the table, when new measurements
come in. A change with no measurement yet has no entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._params import AUTO_CONV_MAX_FEATURES

__all__ = ["SUGGESTIONS", "Facts", "Suggestion", "facts_of", "suggest"]

# Settings that "auto" resolves at fit time; the resolved value (attribute name + "_")
# says what the fit actually used.
_RESOLVED = (
    "n_conv_layers",
    "front_end",
    "conv_skip",
    "fixed_filters",
    "input_dropout",
    "standardize",
    "early_stopping",
    "restore_best_weights",
    "lr_schedule",
    "n_init",
    "n_estimators",
)
# Sequences of at least this many steps count as long for conv_skip: OSULeaf (427 steps)
# gained from it, ArrowHead (251) lost.
LONG_SEQUENCE = 300
# Steps of up to this many features were measured with the plain stack: real frames of 18-36
# features gained, weak events on a few of 24-36 features lost (docs/benchmarks.md, sections
# 19 and 20); on 136 features it memorised faster.
STACK_MEASURED_MAX_FEATURES = 40
# A smallest class at most this share of the training data is imbalanced (the imbalance
# benchmark's minority was 10%, the package's generators' 28%).
MINORITY_SHARE = 0.3


@dataclass(frozen=True)
class Facts:
    """What the suggestions may depend on: the data and the fitted settings.

    Attributes
    ----------
    n_features : int
        Features per step.
    max_length : int
        Longest real sequence seen by the report.
    n_train : int or None
        Training sequences given to the report.
    minority_share : float
        Share of the smallest class in the training (else validation) labels.
    best_baseline : str or None
        Name of the best-scoring baseline, if any ran.
    settings : dict
        The classifier's parameters, "auto" values replaced by what the fit used.
    """

    n_features: int
    max_length: int
    n_train: int | None
    minority_share: float
    best_baseline: str | None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def few_features(self) -> bool:
        """Steps of at most 3 features (univariate-like series), the width rule of
        ``front_end="auto"``."""
        return self.n_features <= AUTO_CONV_MAX_FEATURES

    @property
    def has_convolutions(self) -> bool:
        return self.settings.get("front_end") not in (None, "none")


@dataclass(frozen=True)
class Suggestion:
    """One measured change of parameters, and for which verdicts it is a next step.

    Attributes
    ----------
    change : str
        The change, as constructor arguments (``"n_init=3"``).
    params : dict
        The same as a dict, for ``set_params``.
    verdicts : tuple of str
        Verdicts for which the change is suggested.
    gain : str
        What it gained where it was measured, with the numbers.
    cost : str
        What it cost (time, or losses elsewhere).
    source : str
        Where the measurement is documented.
    applies : callable
        ``applies(facts) -> bool``: whether it fits these data and is not
        already in effect.
    """

    change: str
    params: dict[str, Any]
    verdicts: tuple[str, ...]
    gain: str
    cost: str
    source: str
    applies: Callable[[Facts], bool] = field(default=lambda facts: True, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The suggestion without its predicate, for JSON."""
        return {
            "change": self.change,
            "params": dict(self.params),
            "gain": self.gain,
            "cost": self.cost,
            "source": self.source,
        }


def _setting(facts: Facts, name: str, default=None):
    return facts.settings.get(name, default)


def _fewer_inits(facts: Facts) -> bool:
    """Fewer than 3 initialisations per network were trained."""
    inits = _setting(facts, "n_init", 1)
    if not isinstance(inits, int):  # "auto" of a model saved before n_init_ existed
        return True
    return inits // max(1, int(_setting(facts, "n_estimators", 1))) < 3


def _regularised(facts: Facts) -> bool:
    """Dropout or weight decay above the defaults."""
    return _setting(facts, "dropout", 0.1) > 0.1 or _setting(facts, "weight_decay", 0.0) > 1e-4


SUGGESTIONS: tuple[Suggestion, ...] = (
    Suggestion(
        change="dropout=0.1, weight_decay=1e-4",
        params={"dropout": 0.1, "weight_decay": 1e-4},
        verdicts=("collapsed", "chance", "underfitting"),
        gain="heavy regularisation (dropout 0.5, weight decay 1.0) kept a small network at the "
        "ln 2 loss and 0.51 test balanced accuracy; the same network with these (default) "
        "values reached 1.00",
        cost="none in time; watch the gap between training and validation scores",
        source="docs/user_guide/plateau.rst, step 1 (plot_plateau_capacity)",
        applies=_regularised,
    ),
    Suggestion(
        change="standardize=True (or a SequenceScaler first in a pipeline)",
        params={"standardize": True},
        verdicts=("collapsed", "chance", "underfitting"),
        gain="with features at scales from 0.01 to 100, test balanced accuracy 0.65 with "
        "standardize=False and 1.00 with the internal standardisation or a SequenceScaler",
        cost="none: the statistics are computed once, from the real training steps",
        source="docs/user_guide/plateau.rst, step 2 (plot_plateau_feature_scaling)",
        applies=lambda f: _setting(f, "standardize", True) is False,
    ),
    Suggestion(
        change="standardize=True",
        params={"standardize": True},
        verdicts=("collapsed", "chance", "underfitting"),
        gain="where a level shift of the whole series on 4 of 40 features is the class, "
        "held-out balanced accuracy 0.49 with per-series scaling and 1.00 with the data "
        "set's statistics (5 seeds)",
        cost="none in time; offsets that a speaker or a recording puts on every feature then "
        "reach the network (a speaker-disjoint slow contour fell from 0.91 to 0.66)",
        source="docs/benchmarks.md, section 13",
        applies=lambda f: _setting(f, "standardize") == "per_series",
    ),
    Suggestion(
        change='standardize="per_series"',
        params={"standardize": "per_series"},
        verdicts=("chance", "underfitting", "plateau"),
        gain="on a slow contour over 4 of 136 features with per-speaker offsets, tested on "
        "other speakers: held-out balanced accuracy 0.66 -> 0.91 (binned means 0.73); over 4 "
        "of 8-16 features 0.66-0.81 -> 0.90-0.96",
        cost="each series' level and scale are discarded; learning starts later (event order "
        "0.952 -> 0.940 at 1,000 sequences; at 4,917 the first fit ended at chance with the "
        "10-epoch patience there and n_init='auto''s retry, waiting 20, reached 0.990 at 2.2x "
        "the time of the defaults): keep n_init and n_iter_no_change at 'auto', or raise "
        "n_iter_no_change",
        source="docs/benchmarks.md, sections 13, 15 and 20",
        applies=lambda f: not f.few_features and _setting(f, "standardize") is True,
    ),
    Suggestion(
        change="n_init=3",
        params={"n_init": 3},
        verdicts=("collapsed", "chance", "plateau"),
        gain="on the event-order task (strength 1.5, 5 seeds) the worst seed rose from 0.692 "
        "to 0.861 and the mean from 0.829 +/- 0.093 to 0.893 +/- 0.026",
        cost="three trainings: fit CPU 101 s -> 289 s there",
        source="docs/benchmarks.md, section 9 (Several initialisations)",
        applies=_fewer_inits,
    ),
    Suggestion(
        change="early_stopping=False, max_epochs=60",
        params={"early_stopping": False, "max_epochs": 60},
        verdicts=("chance",),
        gain="networks often memorise for 25-50 epochs before they find an order: on the "
        "seed-shaped task at signal 1.0 a fixed 60 epochs reached 0.908 where early stopping "
        "on the validation loss kept a constant predictor (0.500); the current rule (loss or "
        "score, patience 20) still stopped one seed of two too early (0.471)",
        cost="fit CPU 11 s -> 42 s there",
        source="docs/benchmarks.md, sections 6 and 8",
        applies=lambda f: bool(_setting(f, "early_stopping", False)),
    ),
    Suggestion(
        change="input_dropout=0.2",
        params={"input_dropout": 0.2},
        verdicts=("overfitting", "chance"),
        gain="on the event-order task (strength 1.5) 0.617 / 0.611 -> 0.858 / 0.882 "
        "(seeds 0 / 1); BasicMotions 1.000 / 1.000",
        cost="part of the new defaults' 1.21x epoch time; not before batch-normalised "
        "convolutions (GunPoint stayed at 0.65 with it, 0.97 without)",
        source="docs/benchmarks.md, section 9",
        applies=lambda f: not f.has_convolutions and _setting(f, "input_dropout", 0.0) < 0.2,
    ),
    Suggestion(
        change="input_noise=0.5",
        params={"input_noise": 0.5},
        verdicts=("overfitting",),
        gain="on the event-order task (strength 1.5) 0.617 / 0.611 -> 0.885 / 0.873",
        cost="no extra time, but it hurt small real sets: BasicMotions 0.98 / 1.00 -> "
        "0.90 / 0.80, and ArrowHead",
        source="docs/benchmarks.md, section 9",
        applies=lambda f: _setting(f, "input_noise", 0.0) == 0.0,
    ),
    Suggestion(
        change="max_epochs=200",
        params={"max_epochs": 200},
        verdicts=("collapsed", "chance", "underfitting"),
        gain="halving the budget to 100 epochs cost GunPoint 0.958 -> 0.928 and ArrowHead "
        "0.806 -> 0.681 (cross-validation on the training splits)",
        cost="about 2x the fit: 21 s -> 41 s (GunPoint), 24 s -> 51 s (ArrowHead)",
        source="docs/benchmarks.md, section 9 (Probes that did not change a default)",
        applies=lambda f: _setting(f, "max_epochs", 200) < 200,
    ),
    Suggestion(
        change="lstm_units=64, dense_units=64",
        params={"lstm_units": 64, "dense_units": 64},
        verdicts=("underfitting",),
        gain="JapaneseVowels 0.963 with 32 units -> 0.972 with 64 (128: 0.970)",
        cost="epoch CPU 0.285 s (16 units), 0.437 s (32), 0.93 s (64) at 512 x 100 steps",
        source="docs/benchmarks.md, sections 4 and 6",
        applies=lambda f: _setting(f, "lstm_units", 64) < 64,
    ),
    Suggestion(
        change="front_end='multiscale'",
        params={"front_end": "multiscale"},
        verdicts=("chance", "underfitting", "plateau"),
        gain="a slow contour on 4 of 136 features (1,000 training sequences, speaker-disjoint "
        "test, 2 seeds): 0.500 with the dense front end, 0.918 / 0.930 with it (a binned-means "
        "logistic regression 0.719, MiniRocket 0.68); on six univariate sets, cross-validated "
        "on their training splits, 0.761 -> 0.803 on average (Pickup 0.650 -> 0.733, OSULeaf "
        "0.733 -> 0.845)",
        cost="about 2x the fit CPU on 12-feature JapaneseVowels (25 s -> 57 s); on univariate "
        "sets about the plain convolutions' cost",
        source="docs/benchmarks.md, section 11",
        applies=lambda f: _setting(f, "front_end") != "multiscale",
    ),
    Suggestion(
        change="front_end='conv'",
        params={"front_end": "conv"},
        verdicts=("underfitting", "plateau"),
        gain="real frames widened by their deltas over time, cross-validated on their training "
        "splits over two seed pairs (dense layers -> the plain stack with its input dropout): "
        "BasicMotions at 18 features 0.986 / 0.976 -> 1.000 / 1.000, JapaneseVowels at 24 "
        "features 0.978 / 0.980 -> 0.991 / 0.983 and at 36 features 0.970 / 0.974 -> "
        "0.983 / 0.983",
        cost="1.6-2x the fit CPU; on weak 3-step events on 4 of many features it trails the "
        "dense layers, more the wider the steps (two seeds): 0.979 / 0.963 against 0.999 / "
        "0.985 at 24 features, 0.948 / 0.933 against 0.994 / 0.996 at 36: compare by "
        "cross-validation",
        source="docs/benchmarks.md, sections 19 and 20",
        applies=lambda f: (
            _setting(f, "front_end") == "none"
            and not f.few_features
            and f.n_features <= STACK_MEASURED_MAX_FEATURES
        ),
    ),
    Suggestion(
        change="conv_skip=True",
        params={"conv_skip": True},
        verdicts=("underfitting", "plateau"),
        gain="OSULeaf (427 steps) 0.757 -> 0.824 on its test split (0.749 -> 0.810 in "
        "cross-validation over four seeds)",
        cost="no extra time, but ArrowHead lost 0.047 and GunPoint 0.025: compare by "
        "cross-validation",
        source="docs/benchmarks.md, section 9",
        applies=lambda f: (
            f.few_features
            and f.has_convolutions
            and f.max_length >= LONG_SEQUENCE
            and _setting(f, "front_end") == "conv"
            and not _setting(f, "conv_skip", False)
        ),
    ),
    Suggestion(
        change="n_attention_layers=1",
        params={"n_attention_layers": 1},
        verdicts=("underfitting", "plateau"),
        gain="weak events in a fixed 25 epochs: 0.92 -> 0.99 balanced accuracy; no gain on "
        "the learning-quality benchmark's tasks",
        cost="4.4x the epoch time at 100 steps x 136 features (grows with length squared)",
        source="docs/user_guide/plateau.rst, step 5; docs/benchmarks.md, section 9",
        applies=lambda f: _setting(f, "n_attention_layers", 0) == 0,
    ),
    Suggestion(
        change="class_weight='balanced', loss='focal'",
        params={"class_weight": "balanced", "loss": "focal"},
        verdicts=("collapsed", "underfitting", "plateau"),
        gain="on a 10% / 90% task (5 seeds) 0.888 -> 0.904 with class weights, 0.933 with "
        "both; minority recall 0.793 -> 0.887",
        cost="none: fit CPU 13 s -> 11 s",
        source="docs/benchmarks.md, section 9 (Imbalance inside the estimator)",
        applies=lambda f: (
            f.minority_share <= MINORITY_SHARE and _setting(f, "class_weight") is None
        ),
    ),
    Suggestion(
        change="n_estimators=3",
        params={"n_estimators": 3},
        verdicts=("plateau", "learned"),
        gain="three networks averaged: in cross-validation +0.010 on six aeon sets (11 of 12 "
        "seed pairs) and +0.026 on ACSF1; on the test splits +0.013 (PickupGestureWiimoteZ "
        "+0.044, ArrowHead +0.023)",
        cost="three trainings (about 3x the CPU; n_jobs=2 trains them side by side)",
        source="docs/benchmarks.md, section 14",
        applies=lambda f: _setting(f, "n_estimators", 1) < 3,
    ),
    Suggestion(
        change="lr_schedule='cosine'",
        params={"lr_schedule": "cosine"},
        verdicts=("plateau",),
        gain="on fits without a validation split, over four seeds of six sets: "
        "PickupGestureWiimoteZ 0.646 -> 0.683, BasicMotions 0.988 -> 0.995, ArrowHead "
        "0.764 -> 0.715; +0.001 on average",
        cost="none in time; a gain on some sets and a loss on others: compare by "
        "cross-validation with several seeds",
        source="docs/benchmarks.md, section 9",
        applies=lambda f: (
            not _setting(f, "early_stopping", True) and _setting(f, "lr_schedule") is None
        ),
    ),
    Suggestion(
        change="MiniRocket (aeon) instead of, or beside, the network",
        params={},
        verdicts=("underfitting", "plateau"),
        gain="MiniRocket stayed ahead of every configuration measured on univariate shape "
        "data (ours at 0.68x-0.96x of it on ACSF1, OSULeaf, ArrowHead, GunPoint), and it "
        "scored best of the baselines here",
        cost="it fit in a fraction of the network's time there (0.14-0.81 s against 27-190 s "
        "of CPU)",
        source="docs/benchmarks.md, section 9",
        applies=lambda f: f.best_baseline == "minirocket" and f.few_features,
    ),
)


def facts_of(
    clf,
    n_features: int,
    max_length: int,
    n_train: int | None,
    minority_share: float,
    best_baseline: str | None,
) -> Facts:
    """Facts of a fitted classifier and the report's data."""
    settings = dict(clf.get_params(deep=False))
    for name in _RESOLVED:
        if hasattr(clf, f"{name}_"):
            settings[name] = getattr(clf, f"{name}_")
    return Facts(
        n_features=n_features,
        max_length=max_length,
        n_train=n_train,
        minority_share=minority_share,
        best_baseline=best_baseline,
        settings=settings,
    )


def suggest(verdict: str, facts: Facts, table=SUGGESTIONS) -> tuple[Suggestion, ...]:
    """The entries of ``table`` for ``verdict`` that apply to ``facts``, in table order."""
    return tuple(s for s in table if verdict in s.verdicts and s.applies(facts))
