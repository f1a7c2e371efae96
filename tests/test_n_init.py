"""Several initialisations, the best on the validation split kept."""

import numpy as np
import pytest
from _helpers import tiny
from numpy.testing import assert_allclose
from skorch.callbacks import Callback

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._stopping import best_epoch_key

TINY = tiny(dense_units=6, lstm_units=6, max_epochs=4, n_iter_no_change=2, random_state=3)


def test_the_kept_network_is_the_best_of_those_tried(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, n_init=3).fit(X, y)
    assert len(clf.init_scores_) == 3
    assert best_epoch_key(clf.history_)[0] == max(clf.init_scores_)
    assert clf.n_iter_ == len(clf.history_)


def test_n_init_1_is_an_ordinary_fit_and_the_first_init_uses_the_seed(seq_data):
    X, y, _ = seq_data
    # n_init=3 holds out a split to choose on; n_init=1 gets the same one explicitly.
    one = SeqAttentionClassifier(**TINY, n_init=1, early_stopping=True).fit(X, y)
    three = SeqAttentionClassifier(**TINY, n_init=3).fit(X, y)
    assert one.init_scores_ == [three.init_scores_[0]]
    kept_first = best_epoch_key(three.history_) == best_epoch_key(one.history_)
    same = np.allclose(three.predict_proba(X), one.predict_proba(X))
    # The first initialisation is the n_init=1 network; any other is a different one.
    assert same == kept_first


def test_n_init_is_reproducible(seq_data):
    X, y, _ = seq_data
    a = SeqAttentionClassifier(**TINY, n_init=2).fit(X, y)
    b = SeqAttentionClassifier(**TINY, n_init=2).fit(X, y)
    assert a.init_scores_ == b.init_scores_
    assert_allclose(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.slow
def test_auto_retries_only_a_fit_that_did_not_learn(seq_data):
    import pytest

    from sklearn_seqattn import ChanceLevelWarning

    X, y, _ = seq_data
    with pytest.warns(ChanceLevelWarning):
        # Cannot learn: the dense layers at a rate of 1e-7 stay at their random start (a
        # random convolution stack's features can already score above chance).
        failed = SeqAttentionClassifier(**TINY, lr=1e-7, n_conv_layers=0).fit(X, y)
    assert len(failed.init_scores_) == 3
    learned = SeqAttentionClassifier(
        **tiny(dense_units=8, lstm_units=8, max_epochs=40, class_weight="balanced")
    ).fit(X, y)
    assert learned.fit_diagnosis_.learned
    assert len(learned.init_scores_) == 1


class _Patience(Callback):
    """Records the early-stopping patience of every network trained."""

    def __init__(self, seen):
        self.seen = seen

    def on_train_begin(self, net, **kwargs):
        self.seen.append(dict(net.callbacks_)["early_stopping"].patience)


@pytest.mark.slow
@pytest.mark.parametrize("patience, expected", [("auto", [60, 120, 240]), (5, [5, 5, 5])])
def test_auto_retries_wait_longer_only_with_an_auto_patience(seq_data, patience, expected):
    from sklearn_seqattn import ChanceLevelWarning

    X, y, _ = seq_data
    seen = []
    params = {**TINY, "n_iter_no_change": patience, "early_stopping": True, "n_conv_layers": 0}
    with pytest.warns(ChanceLevelWarning):
        clf = SeqAttentionClassifier(
            **params, lr=1e-7, callbacks=[("patience", _Patience(seen))]
        ).fit(X, y)  # cannot learn: three initialisations
    assert seen == expected
    assert clf.n_iter_no_change_ == expected[0]  # the patience the settings give
