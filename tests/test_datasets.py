"""The synthetic sequence generator."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_seqattn.datasets import make_sequence_classification


def test_shapes_class_counts_and_lengths():
    X, y, events = make_sequence_classification(
        n_samples=200,
        n_timesteps=40,
        n_features=5,
        weights=[0.28, 0.72],
        return_events=True,
        random_state=0,
    )
    assert X.shape == (200, 40, 5) and X.dtype == np.float32
    assert_array_equal(np.bincount(y), [56, 144])
    real = ~(X == 0).all(axis=-1)
    lengths = real.sum(axis=1)
    assert lengths.min() >= 16 and lengths.max() <= 40 and len(set(lengths)) > 5
    # Post-padding: real steps form a prefix; events lie inside them.
    assert_array_equal(real, np.arange(40)[None, :] < lengths[:, None])
    assert not (events & ~real).any()
    assert_array_equal(events.sum(axis=1), 10)  # two motifs of five steps


def test_pre_padding_and_nan_mask():
    kwargs = dict(n_samples=30, n_timesteps=30, n_features=3, random_state=1)
    X_post, y_post = make_sequence_classification(**kwargs)
    X_pre, y_pre = make_sequence_classification(**kwargs, padding="pre", mask_value=np.nan)
    assert_array_equal(y_pre, y_post)
    real_pre = ~np.isnan(X_pre).all(axis=-1)
    real_post = ~(X_post == 0).all(axis=-1)
    assert_array_equal(X_pre[real_pre], X_post[real_post])
    assert real_pre[:, -1].all()


def test_time_averages_carry_no_class_signal_but_order_does():
    X, y, events = make_sequence_classification(
        n_samples=600,
        n_timesteps=30,
        n_features=4,
        n_informative=4,
        signal=2.0,
        return_events=True,
        random_state=0,
    )
    # Same motifs in every class: their summed contribution is equal across classes.
    sums = X.sum(axis=1)
    gap = np.abs(sums[y == 0].mean(0) - sums[y == 1].mean(0))
    assert gap.max() < 4 * sums.std(0).max() / np.sqrt(300)
    first_event = np.argmax(events, axis=1)
    # ...but what comes first differs by class.
    first_values = X[np.arange(600), first_event].mean(axis=1)
    assert abs(first_values[y == 0].mean() - first_values[y == 1].mean()) > 1.0


def test_multiclass_uses_more_motifs_and_is_reproducible():
    a = make_sequence_classification(
        n_samples=60, n_timesteps=40, n_classes=5, random_state=3, return_events=True
    )
    b = make_sequence_classification(
        n_samples=60, n_timesteps=40, n_classes=5, random_state=3, return_events=True
    )
    assert_array_equal(a[0], b[0])
    assert set(a[1]) == set(range(5))
    assert_array_equal(a[2].sum(axis=1), 15)  # 3! >= 5 classes: three motifs


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"weights": [0.5, 0.6]}, "weights must hold 2"),
        ({"n_timesteps": 10}, "too short"),
        ({"padding": "middle"}, "padding must be"),
        ({"n_classes": 1}, "n_classes must be"),
        ({"min_length": 5}, "min_length must be"),
        ({"n_informative": 99}, "n_informative must be"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_sequence_classification(**{"n_samples": 20, "n_timesteps": 30, **kwargs})


def test_event_order_generator_plants_two_ordered_events():
    from sklearn_seqattn.datasets import make_event_order_classification

    X, y, events = make_event_order_classification(
        n_samples=200,
        n_timesteps=50,
        n_features=20,
        min_length=20,
        return_events=True,
        random_state=0,
    )
    assert X.shape == (200, 50, 20) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [56, 144]  # 28% / 72%
    assert (events.sum(axis=1) == 6).all()  # two events of 3 steps
    lengths = (~(X == 0).all(axis=2)).sum(axis=1)
    assert lengths.min() >= 20 and lengths.max() <= 50
    assert not (events & (np.arange(50)[None, :] >= lengths[:, None])).any()
    # Time averages carry no class information: both classes hold both events.
    means = X.sum(axis=1) / lengths[:, None]
    assert abs(means[y == 0].mean() - means[y == 1].mean()) < 0.05


def test_event_order_generator_rejects_impossible_settings():
    from sklearn_seqattn.datasets import make_event_order_classification

    with pytest.raises(ValueError, match="too few for two events"):
        make_event_order_classification(n_features=6, n_event_features=4)
    with pytest.raises(ValueError, match="min_length must be in"):
        make_event_order_classification(min_length=4)


def test_contour_classes_differ_in_shape_not_in_mean():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score

    from sklearn_seqattn.datasets import make_contour_classification

    X, y, groups = make_contour_classification(
        n_samples=600, n_features=12, amplitude=0.5, return_groups=True, random_state=0
    )
    assert X.shape == (600, 100, 12) and X.dtype == np.float32
    assert set(np.unique(groups)) <= set(range(30))
    lengths = (X != 0).any(axis=2).sum(axis=1)
    assert lengths.min() >= 60
    assert all((X[i, n:] == 0).all() for i, n in enumerate(lengths))
    means = np.array([x[:n].mean(axis=0) for x, n in zip(X, lengths, strict=True)])
    halves = np.array(
        [
            np.r_[x[: n // 2].mean(axis=0), x[n // 2 : n].mean(axis=0)]
            for x, n in zip(X, lengths, strict=True)
        ]
    )

    def score(features):
        model = LogisticRegression(max_iter=2000).fit(features[:400], y[:400])
        return balanced_accuracy_score(y[400:], model.predict(features[400:]))

    assert score(means) < 0.65  # order-blind: near chance
    assert score(halves) > 0.9  # the shape over time tells the classes apart
