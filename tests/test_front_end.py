"""Internal standardisation and the masked convolutional front end."""

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_allclose
from sklearn.base import clone

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._module import (
    MaskedBatchNorm,
    MaskedConvFrontEnd,
    SeqAttentionModule,
    real_step_mask,
)

TINY = tiny(dense_units=8, lstm_units=8, max_epochs=3, early_stopping=False)


def _real(X):
    return ~(X == 0).all(axis=-1)


def test_standardisation_buffers_hold_the_real_steps_statistics(seq_data):
    X, y, _ = seq_data
    X = X * 7.0 + np.where(_real(X)[..., None], 3.0, 0.0)
    clf = SeqAttentionClassifier(**TINY).fit(X, y)
    steps = X[_real(X)].astype(np.float64)
    module = clf.net_.module_
    assert_allclose(module.input_shift.numpy(), steps.mean(axis=0), rtol=1e-5)
    assert_allclose(module.input_scale.numpy(), steps.std(axis=0), rtol=1e-4)


def test_standardize_false_leaves_the_identity(seq_data):
    X, y, _ = seq_data
    module = SeqAttentionClassifier(**TINY, standardize=False).fit(X, y).net_.module_
    assert torch.equal(module.input_shift, torch.zeros(X.shape[2]))
    assert torch.equal(module.input_scale, torch.ones(X.shape[2]))


def test_rescaled_input_trains_the_same_model(seq_data, fitted_tiny):
    """Unscaled features cost nothing: an affine change of each feature is undone inside."""
    X, y, _ = seq_data
    real = _real(X)[..., None]
    scale = np.array([1000.0, 0.01, 5.0, 1.0, 300.0, 0.2], dtype=np.float32)
    shift = np.array([50.0, -3.0, 0.0, 7.0, 1e3, 0.5], dtype=np.float32)
    X_raw = np.where(real, X * scale + shift, 0.0).astype(np.float32)
    # Without input dropout: its masks fall on the same values of both inputs, but the
    # stack's path amplifies the float rounding of the two standardisations more.
    model = clone(fitted_tiny).set_params(input_dropout=0.0)
    plain = clone(model).fit(X, y)
    raw = clone(model).fit(X_raw, y)
    # The standardised inputs agree to float rounding, which training amplifies a little.
    assert_allclose(raw.predict_proba(X_raw), plain.predict_proba(X), atol=2e-3)


def test_constant_feature_gets_unit_scale(seq_data):
    X, y, _ = seq_data
    X = X.copy()
    X[..., 0] = np.where(_real(X), 4.0, 0.0)
    module = SeqAttentionClassifier(**TINY).fit(X, y).net_.module_
    assert module.input_scale[0] == 1.0
    assert module.input_shift[0] == pytest.approx(4.0)


def test_standardisation_survives_save_and_load(seq_data, tmp_path):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY).fit(X * 50 + 1, y)
    loaded = SeqAttentionClassifier.load(clf.save(tmp_path / "m"))
    assert torch.equal(loaded.net_.module_.input_shift, clf.net_.module_.input_shift)
    assert_allclose(loaded.predict_proba(X * 50 + 1), clf.predict_proba(X * 50 + 1))


def test_conv_front_end_never_reads_padding():
    torch.manual_seed(0)
    conv = MaskedConvFrontEnd(3, 4, n_layers=2, kernel_size=5, dropout=0.0)
    lengths = torch.tensor([6, 3])
    x = torch.randn(2, 6, 3)
    noisy = x.clone()
    real = real_step_mask(lengths, 6)
    noisy[~real] = 1e3  # garbage on padded steps
    longer = torch.cat([x, torch.randn(2, 4, 3)], dim=1)  # extra padded steps
    out = conv(x, real)
    assert_allclose(conv(noisy, real)[real].detach(), out[real].detach(), atol=1e-5)
    longer_real = real_step_mask(lengths, 10)
    assert_allclose(conv(longer, longer_real)[:, :6][real].detach(), out[real].detach(), atol=1e-5)


def test_conv_front_end_matches_a_per_sample_convolution():
    """Against a reference: each sequence convolved alone, with zero 'same' padding."""
    torch.manual_seed(1)
    conv = MaskedConvFrontEnd(2, 3, n_layers=1, kernel_size=3, dropout=0.0)
    lengths = torch.tensor([5, 2, 4])
    x = torch.randn(3, 5, 2)
    out = conv(x, real_step_mask(lengths, 5))
    layer = conv.convs[0]
    for i, n in enumerate(lengths.tolist()):
        alone = torch.relu(layer(x[i : i + 1, :n].transpose(1, 2))).transpose(1, 2)
        assert_allclose(out[i, :n].detach(), alone[0].detach(), atol=1e-6)


def test_masked_batch_norm_uses_the_real_steps_only():
    """Training statistics are those of the real steps; padding garbage changes nothing."""
    torch.manual_seed(2)
    norm = MaskedBatchNorm(3, momentum=1.0)  # running estimates = the last batch's
    lengths = torch.tensor([7, 2, 5])
    real = real_step_mask(lengths, 7)
    z = torch.randn(3, 3, 7)  # (batch, channels, time)
    z[~real[:, None, :].expand_as(z)] = 1e4
    out = norm(z, real[:, None, :].float())
    steps = z.transpose(1, 2)[real]  # (real steps, channels)
    assert_allclose(norm.running_mean, steps.mean(0), rtol=1e-5, atol=1e-6)
    assert_allclose(norm.running_var, steps.var(0), rtol=1e-4)  # unbiased, like BatchNorm1d
    normalised = out.transpose(1, 2)[real].detach()
    assert_allclose(normalised.mean(0), torch.zeros(3), atol=1e-5)
    assert_allclose(normalised.std(0, unbiased=False), torch.ones(3), rtol=1e-3)
    norm.eval()
    reference = torch.nn.functional.batch_norm(
        steps[:, :, None], norm.running_mean, norm.running_var, norm.weight, norm.bias
    )[:, :, 0]
    evaluated = norm(z, real[:, None, :].float()).transpose(1, 2)[real]
    assert_allclose(evaluated.detach(), reference.detach(), atol=1e-5)


def test_module_rejects_an_even_kernel():
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        SeqAttentionModule(3, 2, n_conv_layers=1, kernel_size=4)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"kernel_size": 4}, "kernel_size must be odd, got 4"),
        ({"n_conv_layers": -1}, r"n_conv_layers must be in \[0, 128\], got -1"),
        ({"n_conv_layers": "many"}, "n_conv_layers must be 'auto' or an int"),
        ({"conv_channels": 0}, r"conv_channels must be in \[1, 1048576\], got 0"),
        ({"label_smoothing": 1.0}, "label_smoothing must be in"),
        ({"standardize": "yes"}, "standardize must be 'auto', True, False or 'per_series'"),
        ({"conv_batch_norm": 1}, "conv_batch_norm must be True or False"),
        ({"conv_skip": "yes"}, "conv_skip must be True, False or 'auto'"),
        ({"n_init": 0}, r"n_init must be in \[1, 1000\], got 0"),
        ({"n_init": 2, "early_stopping": False}, "needs early_stopping=True"),
        ({"n_init": 2, "early_stopping": np.False_}, "needs early_stopping=True"),
        ({"downsample": 0}, r"downsample must be in \[1, 1048576\], got 0"),
        ({"downsample": "half"}, "downsample must be 'auto' or an int"),
        ({"recurrent_stride": 0}, r"recurrent_stride must be in \[1, 1048576\], got 0"),
        ({"recurrent_stride": "auto"}, "recurrent_stride must be an int, got 'auto'"),
        ({"input_noise": -1.0}, "input_noise must be in"),
        ({"input_dropout": 1.0}, "input_dropout must be in"),
        ({"input_dropout": "some"}, "input_dropout must be a real number"),
    ],
)
def test_new_parameters_are_validated(seq_data, params, match):
    X, y, _ = seq_data
    with pytest.raises((ValueError, TypeError), match=match):
        SeqAttentionClassifier(**params).fit(X, y)


@pytest.mark.parametrize(
    "batch_norm, skip", [(False, False), (True, False), (True, True)], ids=["plain", "bn", "skip"]
)
def test_conv_model_learns_the_order_task(seq_data, tmp_path, batch_norm, skip):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(
        **tiny(
            n_conv_layers=2,
            conv_channels=8,
            conv_batch_norm=batch_norm,
            conv_skip=skip,
            dense_units=8,
            lstm_units=8,
            max_epochs=30,
            class_weight="balanced",
        )
    ).fit(X[:280], y[:280])
    assert clf.net_.module_.conv_skip is skip
    assert clf.score(X[280:], y[280:]) > 0.85
    loaded = SeqAttentionClassifier.load(clf.save(tmp_path / "m"))
    assert loaded.conv_skip is skip
    assert_allclose(loaded.predict_proba(X[280:]), clf.predict_proba(X[280:]))


def test_downsample_averages_windows_of_real_steps():
    from sklearn_seqattn._module import downsample_steps

    x = torch.arange(2 * 7 * 1, dtype=torch.float32).reshape(2, 7, 1)
    real = real_step_mask(torch.tensor([7, 4]), 7)
    out, out_real = downsample_steps(x, real, 3)
    assert_allclose(out[0, :, 0], [1.0, 4.0, 6.0])  # windows [0,1,2] [3,4,5] [6]
    assert_allclose(out[1, :2, 0], [8.0, 10.0])  # windows [7,8,9] [10]; the rest is padding
    assert out_real.tolist() == [[True, True, True], [True, True, False]]


def test_auto_downsample_keeps_at_most_512_steps():
    from sklearn_seqattn._params import resolve_downsample

    assert resolve_downsample("auto", np.array([30, 512])) == 1
    assert resolve_downsample("auto", np.array([513, 12])) == 2
    assert resolve_downsample("auto", np.array([1460])) == 3
    assert resolve_downsample(4, np.array([10])) == 4


def test_downsampled_model_reports_attention_per_original_step(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 300, 2)).astype(np.float32)
    X[:20, 250:] = 0.0  # shorter sequences
    y = np.repeat([0, 1], 20)
    clf = SeqAttentionClassifier(**TINY, downsample=2).fit(X, y)
    assert clf.downsample_ == 2
    weights = clf.attention_weights(X)
    assert weights.shape == (40, 300)
    assert_allclose(weights.sum(axis=1), 1, atol=1e-5)
    assert (weights[:20, 250:] == 0).all()
    # The two steps of a window share its weight.
    assert_allclose(weights[:, 0:250:2], weights[:, 1:250:2], atol=1e-7)
    loaded = SeqAttentionClassifier.load(clf.save(tmp_path / "m"))
    assert loaded.downsample_ == 2
    assert_allclose(loaded.predict_proba(X), clf.predict_proba(X))


def test_strided_recurrent_layers_report_attention_per_original_step(tmp_path):
    """The LSTM reads windows of 3 front-end outputs after a downsampling by 2."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 61, 1)).astype(np.float32)
    X[:20, 41:] = 0.0  # shorter sequences
    y = np.repeat([0, 1], 20)
    clf = SeqAttentionClassifier(
        **tiny(front_end="multiscale", front_end_filters=4, n_attention_layers=1, n_heads=2),
        downsample=2,
        recurrent_stride=3,
    ).fit(X, y)
    assert clf.downsample_ == 2 and clf.net_.module_.recurrent_stride == 3
    weights = clf.attention_weights(X)
    assert weights.shape == (40, 61)
    assert_allclose(weights.sum(axis=1), 1, atol=1e-5)
    assert (weights[:20, 41:] == 0).all()
    # The six steps of a window (3 windows of 2 steps) share its weight.
    full = weights[20:, :60].reshape(20, 10, 6)
    assert_allclose(full, full[:, :, :1].repeat(6, axis=2), atol=1e-7)
    _, (layer_map,) = clf.attention_weights(X[:3], return_layer_maps=True)
    assert layer_map.shape == (3, 61, 61)
    assert_allclose(layer_map[0].sum(axis=1)[:41], 1, atol=1e-5)  # each real query's row
    assert (layer_map[0, 41:] == 0).all() and (layer_map[0, :, 41:] == 0).all()
    loaded = SeqAttentionClassifier.load(clf.save(tmp_path / "m"))
    assert loaded.recurrent_stride == loaded.net_.module_.recurrent_stride == 3
    assert_allclose(loaded.predict_proba(X), clf.predict_proba(X))


def test_recurrent_stride_runs_the_lstm_over_fewer_steps():
    module = SeqAttentionModule(1, 2, front_end="multiscale", recurrent_stride=4).eval()
    seen = []
    module.lstm.register_forward_hook(lambda mod, args, out: seen.append(out.shape[1]))
    with torch.no_grad():
        module(torch.randn(2, 41, 1), torch.tensor([41, 30]))
    assert seen == [11]  # ceil(41 / 4)


def test_auto_front_end_follows_the_width_of_the_steps(tmp_path):
    """Multi-scale up to 3 features, the plain stack (its mean reaching the head) up to 16,
    the dense layers alone above."""
    from sklearn_seqattn._multiscale import MaskedMultiScaleFrontEnd
    from sklearn_seqattn._params import (
        AUTO_CONV_LAYERS,
        AUTO_CONV_MAX_FEATURES,
        AUTO_STACK_MAX_FEATURES,
    )

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 12)
    narrow = rng.normal(size=(24, 20, AUTO_CONV_MAX_FEATURES)).astype(np.float32)
    mid = rng.normal(size=(24, 20, AUTO_CONV_MAX_FEATURES + 1)).astype(np.float32)
    wide = rng.normal(size=(24, 20, AUTO_STACK_MAX_FEATURES + 1)).astype(np.float32)
    clf = SeqAttentionClassifier(**TINY, front_end_filters=4).fit(narrow, y)
    assert (clf.front_end_, clf.n_conv_layers_, clf.conv_skip_) == ("multiscale", 0, True)
    assert isinstance(clf.net_.module_.conv, MaskedMultiScaleFrontEnd)
    assert clf.get_params()["front_end"] == "auto"  # the parameter is left as given
    loaded = SeqAttentionClassifier.load(clf.save(tmp_path / "m"))
    assert (loaded.front_end_, loaded.conv_skip_) == ("multiscale", True)
    assert_allclose(loaded.predict_proba(narrow), clf.predict_proba(narrow))
    stack = SeqAttentionClassifier(**TINY, conv_channels=4).fit(mid, y)
    assert (stack.front_end_, stack.n_conv_layers_, stack.conv_skip_) == (
        "conv",
        AUTO_CONV_LAYERS,
        True,
    )
    assert len(stack.net_.module_.conv.convs) == AUTO_CONV_LAYERS
    loaded = SeqAttentionClassifier.load(stack.save(tmp_path / "stack"))
    assert (loaded.front_end_, loaded.conv_skip_) == ("conv", True)
    assert_allclose(loaded.predict_proba(mid), stack.predict_proba(mid))
    widest = wide[:, :, :AUTO_STACK_MAX_FEATURES]
    below = SeqAttentionClassifier(**TINY, conv_channels=4).fit(widest, y)
    assert below.front_end_ == "conv"
    dense = SeqAttentionClassifier(**TINY).fit(wide, y)
    assert (dense.front_end_, dense.n_conv_layers_, dense.conv_skip_) == ("none", 0, False)
    explicit = SeqAttentionClassifier(**TINY, n_conv_layers=1, conv_channels=4).fit(wide, y)
    assert len(explicit.net_.module_.conv.convs) == explicit.n_conv_layers_ == 1
    plain = SeqAttentionClassifier(**TINY, front_end="conv", conv_channels=4).fit(narrow, y)
    assert (plain.front_end_, plain.n_conv_layers_) == ("conv", AUTO_CONV_LAYERS)


def test_auto_input_dropout_is_off_only_before_narrow_convolutions_and_wider_on_wide_steps():
    from sklearn_seqattn._params import (
        AUTO_CONV_DROPOUT_MIN_FEATURES,
        AUTO_INPUT_DROPOUT,
        AUTO_WIDE_FEATURES,
        AUTO_WIDE_INPUT_DROPOUT,
        resolve_input_dropout,
    )

    assert resolve_input_dropout("auto", 0, True, 4) == AUTO_INPUT_DROPOUT
    assert resolve_input_dropout("auto", 3, False, 4) == AUTO_INPUT_DROPOUT
    # Off before batch-normalised convolutions of steps of 1-7 features only.
    assert resolve_input_dropout("auto", 3, True, 1) == 0.0
    assert resolve_input_dropout("auto", 3, True, 4) == 0.0
    assert resolve_input_dropout("auto", 3, True, AUTO_CONV_DROPOUT_MIN_FEATURES - 1) == 0.0
    assert (
        resolve_input_dropout("auto", 3, True, AUTO_CONV_DROPOUT_MIN_FEATURES) == AUTO_INPUT_DROPOUT
    )
    assert resolve_input_dropout("auto", 0, False, AUTO_WIDE_FEATURES - 1) == AUTO_INPUT_DROPOUT
    assert resolve_input_dropout("auto", 0, False, AUTO_WIDE_FEATURES) == AUTO_WIDE_INPUT_DROPOUT
    assert resolve_input_dropout("auto", 3, True, 136) == AUTO_WIDE_INPUT_DROPOUT
    assert resolve_input_dropout(0.3, 3, True, 4) == 0.3
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 20, 1)).astype(np.float32)
    y = np.repeat([0, 1], 12)
    clf = SeqAttentionClassifier(**TINY, conv_channels=4).fit(X, y)
    assert clf.net_.module_.input_dropout.p == 0.0
    # The plain stack: without input dropout on six features, with it on eight.
    six = SeqAttentionClassifier(**TINY, conv_channels=4).fit(np.repeat(X, 6, axis=2), y)
    assert six.front_end_ == "conv" and six.net_.module_.input_dropout.p == 0.0
    eight = SeqAttentionClassifier(**TINY, conv_channels=4).fit(np.repeat(X, 8, axis=2), y)
    assert eight.front_end_ == "conv" and eight.input_dropout_ == AUTO_INPUT_DROPOUT
    assert eight.net_.module_.input_dropout.p == AUTO_INPUT_DROPOUT
    dense = SeqAttentionClassifier(**TINY, n_conv_layers=0).fit(np.repeat(X, 4, axis=2), y)
    assert dense.net_.module_.input_dropout.p == AUTO_INPUT_DROPOUT


def test_conv_skip_feeds_the_head_the_convolutions_mean_over_real_steps():
    """Against a reference: the pooled vector ends with each sequence's conv mean."""
    torch.manual_seed(3)
    kwargs = dict(n_conv_layers=2, conv_channels=5, kernel_size=3, dropout=0.0)
    module = SeqAttentionModule(2, 3, conv_skip=True, **kwargs).eval()
    assert module.head[1].in_features == 2 * 64 + 5
    lengths = torch.tensor([6, 4])
    x = torch.randn(2, 6, 2)
    pooled = module(x, lengths, return_pooled=True)
    features = module.conv(x, real_step_mask(lengths, 6))
    for i, n in enumerate(lengths.tolist()):
        assert_allclose(pooled[i, -5:].detach(), features[i, :n].mean(0).detach(), atol=1e-6)
    # Without convolutions there is nothing to skip: the head reads the LSTM alone.
    plain = SeqAttentionModule(2, 3, conv_skip=True, n_conv_layers=0)
    assert not plain.conv_skip and plain.head[1].in_features == 2 * 64
