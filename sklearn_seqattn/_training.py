"""Training networks for the estimator: one network, restarts, ensembles, warm starts.

:class:`FitData` carries everything a fit trains and judges on (the
sequences, their targets and loss weights, the split); :func:`train_network`
trains one network on it. :func:`fit_n_init` runs it from several
initialisations, :func:`fit_ensemble` runs that once per ensemble member
and joins the members into one module, and :func:`continue_network` carries
a fitted network on (warm start). Every trained module is left in evaluation
mode: prediction never switches a fitted module's mode, so one fitted model
can serve several threads.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from ._batching import SequenceDataset
from ._diagnosis import FitDiagnosis, diagnose_fit, prior_loss
from ._inference import forward_sequences, merge_fine_proba
from ._module import state_on_meta
from ._net import build_net, set_input_standardization
from ._parallel import n_workers, run_tasks
from ._params import MAX_LAYERS, MAX_WEIGHTS, MAX_WIDTH, is_auto, resolve_autocast
from ._random import isolated_torch_rng
from ._stopping import best_epoch, best_epoch_key, was_interrupted
from ._validation import Sequences

__all__ = [
    "FitData",
    "continue_network",
    "diagnose",
    "fit_ensemble",
    "fit_n_init",
    "forward_fitted",
    "inference_batch_size",
    "label_groups",
    "network_on_meta",
    "new_net",
    "predict_proba_with",
    "train_network",
]

# n_init="auto" tries at most this many initialisations, each retry with this many times the
# patience of the one before (an "auto" patience only).
AUTO_MAX_INIT = 3
AUTO_RETRY_PATIENCE_GROWTH = 2


@dataclasses.dataclass
class FitData:
    """What one fit trains and judges on.

    ``seqs`` holds every sequence (the user's validation set appended, when
    given); ``train_idx`` and ``valid_idx`` (None without a split) index
    into it. ``fine_idx`` is the fine label of each sequence (None without
    ``y_fine``), ``weights`` its loss weight. ``train_ds``/``valid_ds`` are
    the datasets the nets read, sharing one copy of the data; ``stats`` the
    standardisation statistics of the training part (None: none).
    """

    seqs: Sequences
    y_idx: np.ndarray
    fine_idx: np.ndarray | None
    weights: np.ndarray
    train_idx: np.ndarray
    valid_idx: np.ndarray | None
    train_ds: SequenceDataset
    valid_ds: SequenceDataset | None
    stats: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def n_features(self) -> int:
        return int(self.seqs.data.shape[2])

    @property
    def outputs(self) -> np.ndarray:
        """The network's target of each sequence: its fine label, else its class."""
        return self.y_idx if self.fine_idx is None else self.fine_idx


def label_groups(est) -> np.ndarray | None:
    """The fine-to-class index map for the net, or None when outputs are the classes."""
    if len(est.fine_classes_) == len(est.classes_):
        return None
    return est.fine_to_coarse_


def _release_fit_data(net) -> None:
    """Drop what a trained net holds of this fit: its batch generator and validation set.

    The validation set holds rows of the whole training data (one shared
    copy); a fitted net keeps none of it, so it pickles small. Plain
    attributes: skorch's ``set_params`` would re-initialise the net.
    """
    net.iterator_train__generator = None
    net.train_split = None


def network_on_meta(est, n_features: int, n_members: int = 1) -> dict:
    """The ``state_dict`` of the network ``est`` describes, on torch's meta device.

    Shapes only, nothing allocated: a network too large to build (or to
    save) is refused with a ``ValueError`` before any work.
    """
    net = build_net(est, n_features, "cpu", None, None, label_groups(est), n_members)
    kwargs = net.get_params_for("module")
    for name, value in kwargs.items():
        if isinstance(value, int) and not isinstance(value, bool):
            limit = MAX_LAYERS if name.endswith("_layers") else MAX_WIDTH
            if value > limit:
                raise ValueError(f"the network would have {name}={value}; at most {limit:,}.")
    state = state_on_meta(**kwargs)
    total = sum(t.numel() for t in state.values())
    if total > MAX_WEIGHTS:
        raise ValueError(
            f"the network would have {total:,} weights, more than the {MAX_WEIGHTS:,} a model "
            "may hold (and than memory allows); lower its widths (lstm_units, dense_units, "
            "conv_channels, attention_ff_units) or depths."
        )
    return state


def new_net(est, n_features: int, device, generator, valid_ds=None, n_members: int = 1):
    """An initialised net for ``est`` (fitted-in-progress): the one network factory."""
    net = build_net(est, n_features, device, generator, valid_ds, label_groups(est), n_members)
    net.initialize()
    return net


def train_network(est, data: FitData, device, seed: int):
    """Train one fresh network on ``data`` from ``seed``; returns its skorch net.

    Torch's global generators are seeded inside and restored after; the
    batch order has its own generator. The module ends in evaluation mode.
    """
    with isolated_torch_rng(seed, device) as generator:
        net = new_net(est, data.n_features, device, generator, data.valid_ds)
        if data.stats is not None:
            set_input_standardization(net.module_, *data.stats)
        net.partial_fit(data.train_ds, None)
    _release_fit_data(net)
    net.module_.eval()
    return net


def fit_n_init(
    est, data: FitData, device, seed: int, workers: int = 1
) -> tuple[Any, list, FitDiagnosis]:
    """Train fresh nets; keep the best on the validation split.

    ``est.n_init`` nets, or with "auto" up to ``AUTO_MAX_INIT`` until one is
    judged to have learned. The first uses ``seed`` itself, so ``n_init=1``
    is one ordinary fit. An int ``n_init`` trains its nets over ``workers``
    processes ("auto" decides after each net whether to train another, so
    its nets train one after the other). Returns the kept net, each net's
    best validation score, and the kept net's diagnosis.
    """
    auto = est.n_init == "auto"
    n_init = AUTO_MAX_INIT if auto else est.n_init
    seeds = [int(s) for s in (seed, *np.random.SeedSequence(seed).generate_state(n_init - 1))]
    nets: Iterator[Any]
    if auto or workers <= 1:
        nets = (  # lazily: "auto" may stop
            train_network(_retry(est, attempt) if auto else est, data, device, s)
            for attempt, s in enumerate(seeds)
        )
    else:
        tasks = [(est, data, device, s) for s in seeds]
        nets = iter(run_tasks(train_network, tasks, workers, deterministic=est.deterministic))
    best, best_key, scores, verdicts = None, None, [], {}
    for net in nets:
        key = best_epoch_key(net.history)
        scores.append(key[0])
        if best_key is None or key > best_key:
            best, best_key = net, key
        if was_interrupted(net, len(net.history)):
            break  # the user stopped training: no further initialisations
        if auto:
            verdict = verdicts[id(net)] = diagnose(est, net, data)
            # A mismatch comes from the settings, not the initialisation: no retry.
            if not verdict.failed or verdict.verdict == "mismatch":
                break
    return best, scores, verdicts.get(id(best)) or diagnose(est, best, data)


def _retry(est, attempt: int):
    """``est`` for the ``attempt``-th initialisation of ``n_init="auto"`` (0: the first).

    With early stopping and an "auto" patience, each retry of a failed fit
    waits twice as long as the one before (patience 10, 20, 40 where the
    first has 10): weak patterns can take longer than one patience to
    appear, most of all where per-series scaling removes each series'
    level, and only a fit that has failed pays for the wait.
    """
    if attempt == 0 or not (est.early_stopping_ and is_auto(est.n_iter_no_change)):
        return est
    retry = copy.copy(est)  # shallow: the fit's own copy, with one setting changed
    retry.n_iter_no_change_ = est.n_iter_no_change_ * AUTO_RETRY_PATIENCE_GROWTH**attempt
    return retry


def member_seeds(seed: int, n_members: int) -> list[int]:
    """The seed of each ensemble member: ``seed`` itself first, so one member is a plain fit."""
    rest = np.random.SeedSequence([seed, 1]).generate_state(n_members - 1)
    return [seed, *(int(s) for s in rest)]


def fit_ensemble(est, data: FitData, device, seed: int):
    """Train ``est.n_estimators_`` members (each with its own ``n_init`` restarts) and join them.

    Members train in parallel over ``est.n_jobs`` processes (on a CPU); a
    single member's int ``n_init`` restarts do instead. Returns the net
    holding the joined module (the first member's history), every member's
    restart scores, every member's diagnosis, and the ensemble's diagnosis.
    With one member, the member's own net.
    """
    seeds = member_seeds(seed, est.n_estimators_)
    if len(seeds) == 1:
        restarts = 1 if est.n_init == "auto" else est.n_init
        workers = n_workers(est.n_jobs, restarts, device)
        net, scores, verdict = fit_n_init(est, data, device, seed, workers)
        return net, [scores], [verdict], verdict
    workers = n_workers(est.n_jobs, len(seeds), device)
    tasks = [(est, data, device, s) for s in seeds]
    members = run_tasks(fit_n_init, tasks, workers, deterministic=est.deterministic)
    # The joined module: a fresh net of n_members, each member's weights loaded in.
    with isolated_torch_rng(seed, device):
        net = new_net(est, data.n_features, device, None, n_members=len(members))
    accelerator = getattr(net, "accelerator", None)
    if accelerator is not None:
        # The joined net only predicts: it holds the network itself, as a trained net
        # does once the accelerator unwraps it (a distributed wrapper hides `members`).
        net.module_ = accelerator.unwrap_model(net.module_, keep_fp32_wrapper=False)
    for target, (member, _, _) in zip(net.module_.members, members, strict=True):
        target.load_state_dict(member.module_.state_dict())
    net.history = members[0][0].history
    _release_fit_data(net)
    net.module_.eval()
    return (
        net,
        [m[1] for m in members],
        [m[2] for m in members],
        diagnose(est, net, data),
    )


def continue_network(est, data: FitData, device, seed: int):
    """Carry the fitted network on for ``max_epochs`` more epochs (warm start).

    Callbacks, schedules, early stopping and every training setting are
    built afresh from the parameters; the weights, the optimizer's state
    (same optimizer class) and a copy of the history carry over. The
    architecture cannot change. Returns the new net; the fitted one is left
    as it was.
    """
    old = est.net_
    fitted = old.get_params_for("module")
    wanted = build_net(est, data.n_features, device, None, None).get_params_for("module")
    changed = [
        f"{name} from {fitted[name]!r} to {wanted[name]!r}"
        for name in sorted(set(fitted) | set(wanted))
        if fitted.get(name) != wanted.get(name)
    ]
    module = old.module_
    standardized = not bool((module.input_shift == 0).all() and (module.input_scale == 1).all())
    if standardized != (est.standardize_ is True):
        changed.append(f"standardize to {est.standardize_!r}")
    if changed:
        raise ValueError(
            "warm_start=True continues the fitted network, whose architecture and input "
            f"scaling cannot change; got {', '.join(changed)}. Set warm_start=False to train "
            "a new one."
        )
    with isolated_torch_rng(seed, device) as generator:
        net = new_net(est, data.n_features, device, generator, data.valid_ds)
        net.module_.load_state_dict(old.module_.state_dict())
        if type(net.optimizer_) is type(old.optimizer_):
            # A copy: loading shares the tensors, which the new steps update in place.
            net.optimizer_.load_state_dict(copy.deepcopy(old.optimizer_.state_dict()))
            # The saved state holds the old settings; this fit's own apply.
            for group in net.optimizer_.param_groups:
                group["lr"], group["initial_lr"] = est.lr, est.lr
                if "weight_decay" in group:
                    group["weight_decay"] = est.weight_decay
        net.history = old.history.__class__(list(old.history))
        net.partial_fit(data.train_ds, None)
    _release_fit_data(net)
    net.module_.eval()
    return net


def inference_batch_size(est) -> int:
    """Batch size of predictions: ``batch_size``, or the size the fit resolved "auto" to."""
    return est.batch_size_ if is_auto(est.batch_size) else int(est.batch_size)


def forward_fitted(est, module, seqs: Sequences, **flags):
    """Run ``module`` (trained for ``est``) over ``seqs``: every output of every prediction.

    The batch size, autocast and deterministic flags are ``est``'s; see
    :func:`~sklearn_seqattn._inference.forward_sequences` for ``flags``.
    """
    device = next(module.parameters()).device
    out = forward_sequences(
        module,
        seqs,
        inference_batch_size(est),
        autocast=resolve_autocast(est.autocast, device),
        deterministic=est.deterministic,
        **flags,
    )
    first = out[0] if isinstance(out, tuple) else out  # logits or embeddings: (n, width)
    bad = ~np.isfinite(first).all(axis=1)
    if bad.any():
        # Finite input can still overflow float32 inside the network (e.g. values near
        # 3e38 standardised by a small scale): refuse rather than return NaN.
        index = np.flatnonzero(bad)
        rows = index if flags.get("index") is None else np.asarray(flags["index"])[index]
        largest = float(np.nanmax(np.abs(seqs.data[rows])))
        weight = max(float(p.detach().abs().max()) for p in module.parameters())
        raise ValueError(
            f"The network's outputs are not finite for {len(index)} of {len(first)} "
            f"sequence(s) (the first: sequence {int(index[0])}), whose values reach "
            f"{largest:.3g} in magnitude, with weights up to {weight:.3g}: the arithmetic "
            "overflows float32. Rescale X (e.g. to the range of the training data), or, if "
            "the weights are extreme, refit with a lower lr or weight_decay."
        )
    return out


def predict_proba_with(est, module, seqs: Sequences, index=None) -> np.ndarray:
    """Class probabilities of ``module`` on ``seqs`` (``seqs[index]``): the one softmax and merge.

    The fine labels' probabilities are summed into their classes.
    """
    return _class_proba(est, forward_fitted(est, module, seqs, index=index))


def diagnose(est, net, data: FitData, start: int = 0) -> FitDiagnosis:
    """Verdict on ``net``, from the validation split (else the training data).

    ``start`` is the first epoch of ``net.history`` that this fit trained.
    """
    train_idx, weights, y_idx = data.train_idx, data.weights, data.y_idx
    basis, index = (
        ("validation", data.valid_idx)
        if data.valid_idx is not None
        else ("training", data.train_idx)
    )
    logits = forward_fitted(est, net.module_, data.seqs, index=index)
    proba = _class_proba(est, logits)
    # The loss is over the network's outputs (the fine labels, when given).
    prior = prior_loss(
        data.outputs[train_idx], weights[train_idx], len(est.fine_classes_), est.label_smoothing
    )
    losses = [row.get("train_loss", np.nan) for row in net.history]
    # Log-loss of the model and of the (weighted) training class prior on these samples.
    shares = np.bincount(y_idx[train_idx], weights[train_idx], len(est.classes_))
    shares = np.clip(shares / shares.sum(), 1e-12, None)
    w, y_true = weights[index], y_idx[index]
    picked = np.clip(proba[np.arange(len(index)), y_true], 1e-12, None)
    model_ll = float(np.sum(w * -np.log(picked)) / max(w.sum(), 1e-12))
    prior_ll = float(np.sum(w * -np.log(shares[y_true])) / max(w.sum(), 1e-12))
    at_prediction = float("nan")
    if est.sampler is None:  # else training read resampled rows: no like-for-like loss
        if basis != "training":
            logits = forward_fitted(est, net.module_, data.seqs, index=train_idx)
        at_prediction = _training_loss(net, logits, data)
    return diagnose_fit(
        y_true,
        proba.argmax(axis=1),
        len(est.classes_),
        basis,
        losses,
        prior,
        (model_ll, prior_ll),
        (kept_train_loss(est, net.history, start), at_prediction),
    )


def _training_loss(net, train_logits: np.ndarray, data: FitData) -> float:
    """The training loop's own loss (``SequenceNet.get_loss``) of these outputs."""
    rows = data.train_idx
    batch = {"targets": data.outputs[rows], "weights": data.weights[rows]}
    with torch.no_grad():
        return float(net.get_loss(torch.from_numpy(train_logits), None, X=batch))


def _class_proba(est, logits: np.ndarray) -> np.ndarray:
    """Class probabilities from the network's outputs: the one softmax and merge."""
    proba = torch.softmax(torch.from_numpy(logits).double(), dim=1).numpy()
    return merge_fine_proba(proba, est.fine_to_coarse_, len(est.classes_))


def kept_train_loss(est, history, start: int = 0) -> float:
    """Training loss of the epoch whose weights the fit kept (epochs ``start`` on).

    With the best weights restored, the epoch early stopping restored or,
    without validation, the one of the lowest training loss; else the last.
    """
    rows = list(history)[start:]
    losses = [float(row.get("train_loss", np.nan)) for row in rows]
    finite = [v for v in losses if np.isfinite(v)]
    if not finite:
        return float("nan")
    if not est.restore_best_weights_:
        return losses[-1]
    restored = best_epoch(history, start)
    if restored is None:
        return min(finite)
    return next(loss for row, loss in zip(rows, losses, strict=True) if row["epoch"] == restored)
