"""The model family: the multi-scale front end, ensembles, the recipe, per-series scaling."""

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._module import SeqAttentionModule, standardize_per_series
from sklearn_seqattn._multiscale import (
    MaskedMultiScaleFrontEnd,
    depthwise_conv1d,
    fixed_filter_bank,
    receptive_field,
)
from sklearn_seqattn.datasets import make_sequence_classification

TINY = tiny(dense_units=8, lstm_units=8, front_end_filters=4, max_epochs=3)


def _padded_batch(n_features, lengths, width, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(len(lengths), width, n_features, generator=gen)
    for i, n in enumerate(lengths):
        x[i, n:] = 0
    return x, torch.tensor(lengths)


@pytest.mark.parametrize("n_features, fixed", [(1, True), (2, False), (6, False), (6, True)])
def test_multiscale_front_end_is_padding_invariant(n_features, fixed):
    torch.manual_seed(0)
    front = MaskedMultiScaleFrontEnd(n_features, n_filters=4, fixed_filters=fixed)
    x, lengths = _padded_batch(n_features, [40, 25, 9, 1], 40)
    real = torch.arange(40)[None, :] < lengths[:, None]
    front.train()
    front(x, real)  # running statistics away from their initial values
    front.eval()
    with torch.no_grad():
        out = front(x, real)
        longer = torch.cat([x, torch.zeros(4, 60, n_features)], dim=1)
        real_longer = torch.arange(100)[None, :] < lengths[:, None]
        out_longer = front(longer, real_longer)
        for i, n in enumerate(lengths.tolist()):
            alone = front(x[i : i + 1, :n], real[i : i + 1, :n])
            assert_allclose(out[i, :n], alone[0], atol=1e-5)
    assert_allclose(out, out_longer[:, :40], atol=1e-6)


def test_receptive_field_is_what_the_docs_say():
    """An impulse moves outputs within the receptive field only."""
    torch.manual_seed(0)
    front = MaskedMultiScaleFrontEnd(1, n_filters=4).eval()
    n, centre, half = 801, 400, receptive_field() // 2
    assert receptive_field() == 291
    real = torch.ones(1, n, dtype=torch.bool)
    base = torch.zeros(1, n, 1)
    impulse = base.clone()
    impulse[0, centre] = 5.0
    with torch.no_grad():
        changed = (front(impulse, real) - front(base, real)).abs().amax(dim=2)[0] > 0
    steps = torch.nonzero(changed)[:, 0]
    assert steps.min() >= centre - half and steps.max() <= centre + half
    assert steps.max() - steps.min() > 200  # the dilated layers do widen it


@pytest.mark.parametrize("dilation", [1, 2, 8])
def test_depthwise_convolution_has_torchs_gradients(dilation):
    """The hand-written backward pass gives what autograd gives for ``nn.Conv1d``."""
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(5, 5, 7, dilation=dilation, groups=5, bias=False)
    x = torch.randn(3, 5, 40 + 6 * dilation, requires_grad=True)
    grad_out = torch.randn(3, 5, 40)
    ours = depthwise_conv1d(x, conv)
    ours_grads = torch.autograd.grad((ours * grad_out).sum(), (x, conv.weight))
    theirs = conv(x)
    theirs_grads = torch.autograd.grad((theirs * grad_out).sum(), (x, conv.weight))
    assert_allclose(ours.detach(), theirs.detach(), atol=1e-6)
    for mine, reference in zip(ours_grads, theirs_grads, strict=True):
        assert_allclose(mine, reference, rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # inference takes torch's own path
        assert_allclose(depthwise_conv1d(x, conv), theirs.detach(), atol=1e-6)


def test_fixed_filters_are_the_seventeen_detectors():
    bank = fixed_filter_bank()
    assert len(bank) == 17
    assert [len(f) for f in bank[:6]] == [2, 4, 8, 16, 32, 64]
    assert_array_equal(bank[0], [-1, 1])  # increasing detector of length 2
    assert_array_equal(bank[6], [1, -1])  # decreasing detector of length 2
    assert_array_equal(bank[12], [-1, -1, 2, 2, -1, -1])  # peak detector of length 4 (6 taps)
    front = MaskedMultiScaleFrontEnd(1, n_filters=4, fixed_filters=True)
    assert not any(p.shape == front.fixed.kernels.shape for p in front.parameters())


def test_multiscale_front_end_costs_a_fraction_of_the_plain_stack():
    """Multiply-adds per step: the weights applied at every step, fixed filters included."""
    plain = SeqAttentionModule(1, 2, n_conv_layers=3, conv_channels=128, kernel_size=7)
    multi = SeqAttentionModule(1, 2, front_end="multiscale", fixed_filters=True)

    def per_step(module):
        convs = sum(p.numel() for p in module.conv.parameters() if p.dim() == 3)
        fixed = getattr(getattr(module.conv, "fixed", None), "kernels", None)
        return convs + (0 if fixed is None else fixed.numel())

    assert per_step(multi) <= per_step(plain) / 4


def test_per_series_standardisation_reads_real_steps_only():
    x, lengths = _padded_batch(3, [10, 4], 10)
    real = torch.arange(10)[None, :] < lengths[:, None]
    z = standardize_per_series(x * 7 + 3, real)
    for i, n in enumerate(lengths.tolist()):
        assert_allclose(z[i, :n].mean(0), 0, atol=1e-5)
        assert_allclose(z[i, :n].std(0, unbiased=False), 1, atol=1e-4)
        assert (z[i, n:] == 0).all()


@pytest.fixture(scope="module")
def univariate():
    X, y = make_sequence_classification(
        n_samples=80, n_timesteps=24, n_features=1, event_length=3, signal=3.0, random_state=0
    )
    return X, y


def test_per_series_scaling_ignores_each_series_level_and_scale(univariate):
    X, y = univariate
    clf = SeqAttentionClassifier(**TINY, front_end="multiscale", standardize="per_series")
    clf.fit(X, y)
    rng = np.random.default_rng(0)
    lengths = (X != 0).any(axis=2).sum(axis=1)
    items = [X[i, :n] for i, n in enumerate(lengths)]
    moved = [x * rng.uniform(0.5, 4) + rng.uniform(-3, 3) for x in items]
    assert_allclose(clf.predict_proba(moved), clf.predict_proba(items), atol=1e-4)


def test_auto_front_end_honours_an_explicit_conv_count(univariate):
    X, y = univariate
    fitted = SeqAttentionClassifier(**TINY, n_conv_layers=0).fit(X, y)
    assert (fitted.front_end_, fitted.n_conv_layers_) == ("none", 0)
    fitted = SeqAttentionClassifier(**TINY, front_end="multiscale").fit(X, y)
    assert (fitted.front_end_, fitted.n_conv_layers_, fitted.fixed_filters_) == (
        "multiscale",
        0,
        True,
    )


@pytest.fixture(scope="module")
def ensemble(univariate):
    X, y = univariate
    clf = SeqAttentionClassifier(
        **{**TINY, "n_estimators": 3}, front_end="multiscale", conv_skip=True, n_init=1
    )
    return clf.fit(X, y)


def test_ensemble_averages_its_members_probabilities(ensemble, univariate):
    X, _ = univariate
    members = ensemble.net_.module_.members
    assert len(members) == 3
    x = torch.as_tensor(X[:10])
    lengths = torch.as_tensor((X[:10] != 0).any(axis=2).sum(axis=1))
    with torch.no_grad():
        each = [torch.softmax(m(x, lengths), dim=1).double().numpy() for m in members]
    assert_allclose(ensemble.predict_proba(X[:10]), np.mean(each, axis=0), atol=1e-5)
    # Members differ: they were trained from different seeds.
    assert np.abs(each[0] - each[1]).max() > 1e-3


def test_ensemble_attention_and_embeddings(ensemble, univariate):
    X, _ = univariate
    weights = ensemble.attention_weights(X[:5])
    lengths = (X[:5] != 0).any(axis=2).sum(axis=1)
    assert_allclose(weights.sum(axis=1), 1, atol=1e-5)
    for i, n in enumerate(lengths):
        assert (weights[i, n:] == 0).all()
    width = ensemble.net_.module_.members[0].pooled_size
    assert ensemble.transform(X[:5]).shape == (5, 3 * width)
    assert len(ensemble.get_feature_names_out()) == 3 * width
    assert len(ensemble.member_diagnoses_) == 3
    assert len(ensemble.init_scores_) == 3


def test_ensemble_round_trips_through_save_and_load(ensemble, univariate, tmp_path):
    X, _ = univariate
    loaded = SeqAttentionClassifier.load(ensemble.save(tmp_path / "ensemble"))
    assert_array_equal(loaded.predict_proba(X), ensemble.predict_proba(X))
    assert_array_equal(loaded.attention_weights(X), ensemble.attention_weights(X))


def test_one_member_ensemble_is_the_plain_fit(univariate):
    X, y = univariate
    plain = SeqAttentionClassifier(**TINY, n_init=1).fit(X, y)
    one = SeqAttentionClassifier(**{**TINY, "n_estimators": 1}, n_init=1).fit(X, y)
    assert_array_equal(plain.predict_proba(X), one.predict_proba(X))


def test_ensemble_refuses_warm_start_before_training(univariate):
    X, y = univariate
    with pytest.raises(ValueError, match="n_estimators=2"):
        SeqAttentionClassifier(**{**TINY, "n_estimators": 2}, warm_start=True).fit(X, y)


def test_auto_ensemble_size_follows_the_real_steps_of_the_training_split():
    from sklearn_seqattn._params import AUTO_ENSEMBLE, AUTO_ENSEMBLE_STEPS, resolve_n_estimators

    assert AUTO_ENSEMBLE == 3
    at_most = np.full(AUTO_ENSEMBLE_STEPS // 64, 64)  # exactly the budget
    assert resolve_n_estimators("auto", False, at_most, 1) == 3
    assert resolve_n_estimators("auto", False, np.append(at_most, 1), 1) == 1
    # Downsampling shortens every sequence (ceil): 2 x 65 steps become 2 x 33.
    assert resolve_n_estimators("auto", False, np.append(at_most, 1), 2) == 3
    assert resolve_n_estimators("auto", True, at_most, 1) == 1  # warm-startable: one network
    assert resolve_n_estimators(5, False, np.append(at_most, 1), 1) == 5


def test_auto_ensemble_on_a_small_training_set(univariate):
    X, y = univariate  # 80 sequences of 24 steps: three networks
    clf = SeqAttentionClassifier(**{**TINY, "n_estimators": "auto"}, n_init=1).fit(X, y)
    assert clf.n_estimators_ == 3 and len(clf.net_.module_.members) == 3
    assert len(clf.init_scores_) == len(clf.member_diagnoses_) == 3
    warm = SeqAttentionClassifier(**{**TINY, "n_estimators": "auto"}, n_init=1, warm_start=True)
    warm.fit(X, y)
    assert warm.n_estimators_ == 1
    assert warm.fit(X, y).n_iter_ == TINY["max_epochs"]  # continues the one network


def test_warm_start_refuses_a_fitted_ensemble_and_keeps_it(univariate):
    X, y = univariate
    clf = SeqAttentionClassifier(**{**TINY, "n_estimators": "auto"}, n_init=1).fit(X, y)
    proba = clf.predict_proba(X)
    clf.set_params(warm_start=True)
    with pytest.raises(ValueError, match="ensemble of 3"):
        clf.fit(X, y)
    assert clf.n_estimators_ == 3
    assert_array_equal(clf.predict_proba(X), proba)


def test_lowest_training_loss_weights_are_restored(univariate):
    X, y = univariate
    clf = SeqAttentionClassifier(
        **{**TINY, "max_epochs": 6}, restore_best_weights=True, early_stopping=False, lr=0.05
    )
    clf.fit(X, y)
    assert clf.restore_best_weights_ and not clf.early_stopping_
    callback = dict(clf.net_.callbacks_)["restore_best_weights"]
    losses = clf.history_[:, "train_loss"]
    assert callback.best_epoch_ == int(np.argmin(losses)) + 1
    state = clf.net_.module_.state_dict()
    for name, value in callback.best_model_weights_.items():
        assert torch.equal(state[name], value)


def test_auto_recipe_is_every_front_ends_without_a_split(univariate, tmp_path):
    """The deep-TSC recipe (each front end's chosen by cross-validation) on fits without a
    split; fits with a split keep a constant rate and early stopping."""
    X, y = univariate
    for params in ({}, {"n_conv_layers": 0}, {"front_end": "conv", "conv_channels": 4}):
        recipe = SeqAttentionClassifier(**TINY, **params, early_stopping=False).fit(X, y)
        assert recipe.front_end_ == (params.get("front_end", "none") if params else "multiscale")
        assert recipe.restore_best_weights_ and recipe.lr_schedule_ == "plateau"
        assert "restore_best_weights" in dict(recipe.net_.callbacks_)
        assert "event_lr" in recipe.history_[-1]
    split = SeqAttentionClassifier(**TINY, early_stopping=True).fit(X, y)
    assert split.restore_best_weights_ and split.lr_schedule_ is None
    constant = SeqAttentionClassifier(
        **TINY, early_stopping=False, restore_best_weights=False, lr_schedule=None
    ).fit(X, y)
    assert not constant.restore_best_weights_ and constant.lr_schedule_ is None
    assert "restore_best_weights" not in dict(constant.net_.callbacks_)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(front_end="inception"), "front_end must be one of"),
        (dict(front_end_filters=0), "front_end_filters must be"),
        (dict(n_estimators=0), "n_estimators must be"),
        (dict(n_estimators="many"), "n_estimators must be 'auto' or an int"),
        (dict(standardize="series"), "standardize must be 'auto', True, False or 'per_series'"),
        (dict(fixed_filters="yes"), "fixed_filters must be True, False or 'auto'"),
        (dict(restore_best_weights=None), "restore_best_weights must be True, False or 'auto'"),
    ],
)
def test_new_parameters_are_checked(univariate, params, match):
    X, y = univariate
    with pytest.raises((ValueError, TypeError), match=match):
        SeqAttentionClassifier(**{**TINY, **params}).fit(X, y)


def test_multiscale_predictions_do_not_depend_on_the_batch(univariate):
    """Subsets and batch sizes change float32 sums only (sklearn's check wants 1e-7)."""
    X, y = univariate
    clf = SeqAttentionClassifier(**TINY, front_end="multiscale").fit(X, y)
    whole = clf.decision_function(X)
    assert_allclose(clf.decision_function(X[:7]), whole[:7], atol=1e-5)
    clf.set_params(batch_size=3)
    assert_allclose(clf.decision_function(X), whole, atol=1e-5)
