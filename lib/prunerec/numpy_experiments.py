"""Pruning experiments with the NumPy recommenders: train, evaluate, prune on a schedule,
reconstruct, and allocate sparsity from a sensitivity scan.

Chapter 04 runs every experiment through these functions, so that each of its cells is
a few lines and every method is trained the same way:

* :func:`evaluate` -- HR@K / NDCG@K of a model on the validation or test items;
* :func:`fit` -- train for some epochs (Adam, fresh negatives every epoch, progress bar);
* :func:`prune_on_schedule` -- the prune/retrain loop of one-shot, iterative and gradual
  pruning: before each *update* (a slice of an epoch) the schedule gives the target
  sparsity, the pruner prunes up to it, and training continues;
* :func:`run_method` -- one named method at one sparsity, from a trained model: the
  unit of the chapter's trade-off curves;
* :func:`global_prune_to`, :func:`layerwise_prune_to`, :func:`random_prune_to` --
  prune *up to* an overall (or per-layer) sparsity, counting what is pruned already;
* :func:`sensitivity_allocation` -- per-layer sparsities from a sensitivity scan that
  meet a parameter budget;
* :func:`gradient_check` -- finite differences against the hand-written backward pass.

Reproducibility: the training data of epoch ``e`` (its sampled negatives and its
shuffling) depends only on ``(config.seed, e)``. Every method fine-tuned from the same
trained model with the same ``first_epoch`` therefore sees exactly the same batches,
so differences between methods come from the methods, not from the data order.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from tqdm.auto import tqdm

from prunerec import numpy_prune as P
from prunerec import schedules
from prunerec.data import LeaveOneOut, sample_train_negatives
from prunerec.metrics import evaluate_ranking
from prunerec.numpy_nn import Adam, Model, bce_with_logits, train_epoch

__all__ = [
    "TrainConfig",
    "METHODS",
    "prunable_names",
    "clone",
    "evaluate",
    "fit",
    "pruned_fraction",
    "global_prune_to",
    "layerwise_prune_to",
    "random_prune_to",
    "layer_sparsities",
    "prune_on_schedule",
    "run_method",
    "sensitivity_allocation",
    "gradient_check",
]

#: The methods :func:`run_method` knows, in the order the chapter plots them.
METHODS = (
    "no retraining",
    "one-shot",
    "iterative",
    "gradual",
    "random",
    "rewind",
    "re-init",
)


@dataclass(frozen=True)
class TrainConfig:
    """How every model of an experiment is trained.

    Attributes
    ----------
    lr : Adam's learning rate (constant).
    batch_size : samples per step.
    n_negatives : sampled negatives per training positive, afresh every epoch.
    seed : seed of the data order; epoch ``e`` uses the seeds ``(seed, e)``.
    """

    lr: float = 0.005
    batch_size: int = 1024
    n_negatives: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.lr, bool) or not isinstance(self.lr, numbers.Real):
            raise TypeError(f"lr must be a real number, got {self.lr!r}")
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        _check_int(self.batch_size, "batch_size", 1)
        _check_int(self.n_negatives, "n_negatives", 0)
        _check_int(self.seed, "seed", 0)


# --------------------------------------------------------------------------- validation


def _check_model(model: Model) -> Model:
    if not isinstance(model, Model):
        raise TypeError(f"model must be a prunerec.numpy_nn.Model, got {type(model).__name__}")
    return model


def _check_split(split: LeaveOneOut) -> LeaveOneOut:
    if not isinstance(split, LeaveOneOut):
        raise TypeError(f"split must be a prunerec.data.LeaveOneOut, got {type(split).__name__}")
    return split


def _check_int(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_sparsity(value: float, name: str = "sparsity") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    x = float(value)
    if not (np.isfinite(x) and 0.0 <= x < 1.0):
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return x


def _check_config(config: TrainConfig) -> TrainConfig:
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    return config


def _sizes(model: Model, names: Sequence[str]) -> dict[str, int]:
    weights = model.weights()
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise ValueError(f"names must be a non-empty list of parameter names, got {names!r}")
    unknown = [n for n in names if n not in weights]
    if unknown:
        raise ValueError(f"names has unknown parameters {unknown}; known: {list(weights)}")
    if len(set(names)) != len(names):
        raise ValueError(f"names has duplicates: {list(names)}")
    return {n: int(weights[n].size) for n in names}


# --------------------------------------------------------------------------- basics


def prunable_names(model: Model) -> list[str]:
    """The parameters that pruning targets: the embedding tables and Linear weights, not
    the biases (Linear biases and :class:`~prunerec.numpy_nn.NumpyMF`'s ``item_bias``),
    as in most pruning papers and tutorials.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF, NumpyNeuMF
    >>> prunable_names(NumpyNeuMF(5, 6, gmf_dim=2, mlp_dims=(2, 1)))  # doctest: +NORMALIZE_WHITESPACE
    ['gmf_user_embedding.weight', 'gmf_item_embedding.weight', 'mlp_user_embedding.weight',
     'mlp_item_embedding.weight', 'mlp.0.weight', 'predict.weight']
    >>> prunable_names(NumpyMF(5, 6, dim=2))
    ['user_embedding.weight', 'item_embedding.weight']
    """
    _check_model(model)
    return [
        f"{ln}.{pn}"
        for ln, layer in model.layers.items()
        for pn in layer.params
        if pn != "bias" and not ln.endswith("bias")  # Linear biases, NumpyMF's item_bias
    ]


def clone(model: Model) -> Model:
    """An independent deep copy of a model, its pruning state included.

    Parameters
    ----------
    model : the model.

    Returns
    -------
    a new :class:`~prunerec.numpy_nn.Model` sharing no array with ``model``.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> a = NumpyMF(3, 3, dim=2); b = clone(a)
    >>> b.parameters()["user_embedding.weight"][:] = 0.0
    >>> bool((a.weights()["user_embedding.weight"] != 0).all())
    True
    """
    return copy.deepcopy(_check_model(model))


def evaluate(model: Model, split: LeaveOneOut, which: str = "test", k: int = 10) -> dict:
    """HR@K and NDCG@K of ``model`` on the held-out items of ``split``.

    Each user's held-out item is ranked among its sampled negatives (ties pessimistic,
    see :mod:`prunerec.metrics`). Use ``which="val"`` for every decision (choosing
    hyper-parameters, a sensitivity scan) and ``"test"`` only to report.

    Parameters
    ----------
    model : a trained :class:`~prunerec.numpy_nn.Model`.
    split : the :class:`~prunerec.data.LeaveOneOut` split it was trained on.
    which : ``"val"`` or ``"test"``.
    k : the cut-off.

    Returns
    -------
    dict with keys ``"hr"`` and ``"ndcg"``.

    Examples
    --------
    >>> from prunerec.data import leave_one_out, synthetic_interactions
    >>> from prunerec.numpy_nn import NumpyMF
    >>> split = leave_one_out(synthetic_interactions(seed=0), n_negatives=20)
    >>> sorted(evaluate(NumpyMF(split.n_users, split.n_items, dim=4), split, "val"))
    ['hr', 'ndcg']
    """
    _check_model(model)
    _check_split(split)
    if which not in ("val", "test"):
        raise ValueError(f"which must be 'val' or 'test', got {which!r}")
    cand = split.val_candidates if which == "val" else split.test_candidates

    def score(users: NDArray, items: NDArray) -> NDArray:
        return model.score(users.ravel(), items.ravel()).reshape(users.shape)

    return evaluate_ranking(score, cand, k=k, batch_size=cand.shape[0])


def _epoch_data(split: LeaveOneOut, config: TrainConfig, epoch: int) -> tuple:
    """The training samples of epoch ``epoch``, shuffled; they depend on (seed, epoch) only."""
    users, items, labels = sample_train_negatives(
        split, config.n_negatives, seed=np.random.default_rng([config.seed, epoch, 0])
    )
    order = np.random.default_rng([config.seed, epoch, 1]).permutation(users.size)
    return users[order], items[order], labels[order]


def _train(
    model: Model,
    split: LeaveOneOut,
    config: TrainConfig,
    epochs: int,
    first_epoch: int,
    updates_per_epoch: int = 1,
    before_update: Callable[[int], None] | None = None,
    after_epoch: Callable[[int], None] | None = None,
    progress: bool = False,
    desc: str = "epochs",
) -> list[dict]:
    """The one training loop: every epoch is cut into ``updates_per_epoch`` slices of
    consecutive batches; ``before_update(u)`` runs before slice ``u`` (counted from 0
    over all epochs), e.g. to prune. One Adam for the whole run."""
    opt = Adam(model.parameters(), lr=config.lr)
    history = []
    quiet = {} if progress else {"disable": True}  # progress=True: TQDM_DISABLE=1 still silences
    for e in tqdm(range(epochs), desc=desc, leave=False, **quiet):
        epoch = first_epoch + e
        users, items, labels = _epoch_data(split, config, epoch)
        losses, sizes = [], []
        for j, idx in enumerate(np.array_split(np.arange(users.size), updates_per_epoch)):
            if before_update is not None:
                before_update(e * updates_per_epoch + j)
            if idx.size == 0:
                continue
            rng = np.random.default_rng([config.seed, epoch, 2, j])
            loss = train_epoch(
                model, opt, users[idx], items[idx], labels[idx], config.batch_size, rng=rng
            )
            losses.append(loss)
            sizes.append(idx.size)
        val = evaluate(model, split, "val")
        history.append(
            {
                "epoch": epoch + 1,
                "loss": float(np.average(losses, weights=sizes)),
                "val_hr": val["hr"],
                "val_ndcg": val["ndcg"],
            }
        )
        if after_epoch is not None:
            after_epoch(e + 1)
    return history


def fit(
    model: Model,
    split: LeaveOneOut,
    epochs: int,
    config: TrainConfig | None = None,
    *,
    first_epoch: int = 0,
    snapshot_at: int | None = None,
    progress: bool = False,
) -> tuple[list[dict], dict | None]:
    """Train ``model`` with a fresh Adam for ``epochs`` epochs, recording validation metrics.

    A pruned model keeps its masks (its forward reads ``orig * mask`` and its gradients
    are masked), so ``fit`` also fine-tunes a pruned model.

    Parameters
    ----------
    model : the model, trained in place.
    split : the data.
    epochs : number of epochs, >= 0.
    config : learning rate, batch size, negatives, seed (default ``TrainConfig()``).
    first_epoch : number of the first epoch, which picks its training data (see the module
        docstring); fine-tuning after ``T`` epochs of training starts at ``T``.
    snapshot_at : if given, a copy of the weights (:func:`prunerec.numpy_prune.snapshot`)
        is taken after that many epochs of this call (0 = before training), for rewinding.
    progress : show a progress bar over the epochs.

    Returns
    -------
    ``(history, snapshot)``: one dict per epoch (``epoch``, ``loss``, ``val_hr``,
    ``val_ndcg``; ``epoch`` counts from 1 and includes ``first_epoch``) and the
    snapshot (None without ``snapshot_at``).

    Examples
    --------
    >>> from prunerec.data import leave_one_out, synthetic_interactions
    >>> from prunerec.numpy_nn import NumpyMF
    >>> split = leave_one_out(synthetic_interactions(seed=0), n_negatives=20)
    >>> mf = NumpyMF(split.n_users, split.n_items, dim=4)
    >>> history, early = fit(mf, split, 3, TrainConfig(batch_size=64), snapshot_at=1)
    >>> [h["epoch"] for h in history], sorted(early)[0]
    ([1, 2, 3], 'item_bias.weight')
    """
    _check_model(model)
    _check_split(split)
    config = TrainConfig() if config is None else _check_config(config)
    epochs = _check_int(epochs, "epochs", 0)
    first_epoch = _check_int(first_epoch, "first_epoch", 0)
    if snapshot_at is not None:
        snapshot_at = _check_int(snapshot_at, "snapshot_at", 0)
        if snapshot_at > epochs:
            raise ValueError(f"snapshot_at={snapshot_at} is after the last epoch ({epochs})")
    snap: list[dict] = []
    if snapshot_at == 0:
        snap.append(P.snapshot(model))

    def after_epoch(done: int) -> None:
        if done == snapshot_at:
            snap.append(P.snapshot(model))

    history = _train(
        model, split, config, epochs, first_epoch, after_epoch=after_epoch, progress=progress
    )
    return history, (snap[0] if snap else None)


# --------------------------------------------------------------------------- pruning up to a target


def _pruned_counts(model: Model, names: Sequence[str]) -> dict[str, int]:
    current = P.masks(model)
    return {n: int((~current[n]).sum()) if n in current else 0 for n in names}


def pruned_fraction(model: Model, names: Sequence[str]) -> float:
    """Fraction of the weights of ``names`` that are pruned (by their masks).

    Parameters
    ----------
    model : the model.
    names : parameter names; an unpruned parameter counts as 0 pruned.

    Returns
    -------
    float in [0, 1]: pruned weights / all weights of ``names``.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(4, 4, dim=4)
    >>> P.magnitude_prune(mf, "user_embedding.weight", 0.5)
    >>> pruned_fraction(mf, ["user_embedding.weight", "item_embedding.weight"])
    0.25
    """
    sizes = _sizes(_check_model(model), names)
    return sum(_pruned_counts(model, names).values()) / sum(sizes.values())


def global_prune_to(model: Model, names: Sequence[str], sparsity: float) -> None:
    """Global magnitude pruning *up to* an overall sparsity of the weights of ``names``.

    Prunes ``round(sparsity * n) - (already pruned)`` more weights, the smallest in
    magnitude among all survivors of all ``names`` ranked together
    (:func:`prunerec.numpy_prune.global_magnitude_prune`). Never un-prunes.

    Parameters
    ----------
    model : the model, pruned in place.
    names : the parameters ranked together.
    sparsity : the overall target, in [0, 1).

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(10, 10, dim=10)
    >>> names = ["user_embedding.weight", "item_embedding.weight"]
    >>> global_prune_to(mf, names, 0.5); global_prune_to(mf, names, 0.8)
    >>> pruned_fraction(mf, names)
    0.8
    """
    sizes = _sizes(_check_model(model), names)
    target = round(_check_sparsity(sparsity) * sum(sizes.values()))
    extra = target - sum(_pruned_counts(model, names).values())
    if extra > 0:
        P.global_magnitude_prune(model, list(names), extra)


def layerwise_prune_to(model: Model, sparsities: Mapping[str, float]) -> None:
    """Magnitude pruning of each parameter *up to* its own sparsity (layer-wise).

    Parameters
    ----------
    model : the model.
    sparsities : dict name -> target sparsity of that parameter, in [0, 1); each
        parameter ends with ``round(s * size)`` pruned weights (or more, if it had more).

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(10, 10, dim=10)
    >>> layerwise_prune_to(mf, {"user_embedding.weight": 0.3, "item_embedding.weight": 0.9})
    >>> pruned_fraction(mf, ["item_embedding.weight"])
    0.9
    """
    if not isinstance(sparsities, Mapping):
        raise TypeError(f"sparsities must be a dict name -> sparsity, got {sparsities!r}")
    sizes = _sizes(_check_model(model), list(sparsities))
    already = _pruned_counts(model, list(sparsities))
    for name, s in sparsities.items():
        extra = round(_check_sparsity(s, f"sparsities[{name!r}]") * sizes[name]) - already[name]
        if extra > 0:
            P.magnitude_prune(model, name, extra)


def random_prune_to(
    model: Model, sparsities: Mapping[str, float], rng: np.random.Generator | int
) -> None:
    """Random pruning of each parameter *up to* its own sparsity: the baseline that a
    criterion must beat (:func:`prunerec.numpy_prune.random_prune`, layer by layer).

    Give it the per-layer sparsities of another method (:func:`layer_sparsities`) to
    compare the *criterion* alone: the same number of weights goes in every layer, only
    which ones differs.

    Parameters
    ----------
    model : the model, pruned in place.
    sparsities : dict name -> target sparsity of that parameter, in [0, 1).
    rng : numpy Generator or seed.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(10, 10, dim=10)
    >>> random_prune_to(mf, {"user_embedding.weight": 0.7}, rng=0)
    >>> pruned_fraction(mf, ["user_embedding.weight"])
    0.7
    """
    if not isinstance(sparsities, Mapping):
        raise TypeError(f"sparsities must be a dict name -> sparsity, got {sparsities!r}")
    sizes = _sizes(_check_model(model), list(sparsities))
    gen = np.random.default_rng(rng)
    already = _pruned_counts(model, list(sparsities))
    for name, s in sparsities.items():
        extra = round(_check_sparsity(s, f"sparsities[{name!r}]") * sizes[name]) - already[name]
        if extra > 0:
            P.random_prune(model, name, extra, rng=gen)


def layer_sparsities(model: Model, names: Sequence[str]) -> dict[str, float]:
    """Fraction pruned (by mask) of each parameter of ``names``: the allocation a method chose.

    Parameters
    ----------
    model : the model.
    names : parameter names.

    Returns
    -------
    dict name -> pruned count / size (exact, so :func:`layerwise_prune_to` and
    :func:`random_prune_to` reproduce the counts).

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(10, 10, dim=10)
    >>> global_prune_to(mf, ["user_embedding.weight", "item_embedding.weight"], 0.5)
    >>> sum(layer_sparsities(mf, ["user_embedding.weight", "item_embedding.weight"]).values())
    1.0
    """
    sizes = _sizes(_check_model(model), names)
    return {n: c / sizes[n] for n, c in _pruned_counts(model, names).items()}


# --------------------------------------------------------------------------- prune / retrain loops


def prune_on_schedule(
    model: Model,
    split: LeaveOneOut,
    schedule: Callable[[int], float],
    pruner: Callable[[Model, float], None],
    *,
    epochs: int,
    updates_per_epoch: int = 1,
    config: TrainConfig | None = None,
    first_epoch: int = 0,
    progress: bool = False,
) -> list[dict]:
    """Prune and retrain on a schedule: the loop behind one-shot, iterative and gradual pruning.

    Each epoch is cut into ``updates_per_epoch`` slices of consecutive mini-batches.
    Before slice ``u`` (counted from 0 over the whole run) the target is
    ``schedule(u)``; ``pruner(model, target)`` prunes up to it (it must never
    un-prune), then the slice is trained. One Adam optimiser serves the whole run.

    * one-shot: ``schedule = lambda u: s`` (everything pruned before the first slice);
    * iterative: :func:`prunerec.schedules.iterative` of ``u + 1``, one round per slice;
    * gradual: :func:`prunerec.schedules.cubic` of ``u + 1`` over the first slices.

    Parameters
    ----------
    model : a trained model, pruned and retrained in place.
    split : the data.
    schedule : function slice index -> target sparsity in [0, 1).
    pruner : function ``(model, target) -> None``, e.g.
        ``lambda m, s: global_prune_to(m, names, s)``.
    epochs : epochs of retraining, >= 1.
    updates_per_epoch : slices per epoch, >= 1 (the schedule's time unit).
    config : training settings (default ``TrainConfig()``).
    first_epoch : number of the first epoch (picks its data, see :func:`fit`).
    progress : progress bar over the epochs.

    Returns
    -------
    list of per-epoch dicts, as :func:`fit`.

    Examples
    --------
    >>> from functools import partial
    >>> from prunerec.data import leave_one_out, synthetic_interactions
    >>> from prunerec.numpy_nn import NumpyMF
    >>> split = leave_one_out(synthetic_interactions(seed=0), n_negatives=20)
    >>> mf = NumpyMF(split.n_users, split.n_items, dim=8)
    >>> names = prunable_names(mf)
    >>> seen = []
    >>> def pruner(m, s):
    ...     global_prune_to(m, names, s); seen.append(round(s, 4))
    >>> cubic = partial(schedules.cubic, final=0.8, begin=0, end=4)
    >>> _ = prune_on_schedule(mf, split, lambda u: cubic(u + 1), pruner, epochs=2,
    ...                       updates_per_epoch=3, config=TrainConfig(batch_size=64))
    >>> seen        # 0.8 (1 - (1 - t/4)^3): big steps first, then small ones, then flat
    [0.4625, 0.7, 0.7875, 0.8, 0.8, 0.8]
    >>> pruned_fraction(mf, names)
    0.8
    """
    _check_model(model)
    _check_split(split)
    config = TrainConfig() if config is None else _check_config(config)
    epochs = _check_int(epochs, "epochs", 1)
    upe = _check_int(updates_per_epoch, "updates_per_epoch", 1)
    if not callable(schedule) or not callable(pruner):
        raise TypeError("schedule and pruner must be callables")

    def before_update(u: int) -> None:
        target = _check_sparsity(schedule(u), f"schedule({u})")
        pruner(model, target)

    return _train(
        model,
        split,
        config,
        epochs,
        _check_int(first_epoch, "first_epoch", 0),
        updates_per_epoch=upe,
        before_update=before_update,
        progress=progress,
        desc="retrain",
    )


def run_method(
    trained: Model,
    split: LeaveOneOut,
    method: str,
    sparsity: float,
    *,
    epochs: int,
    first_epoch: int,
    config: TrainConfig | None = None,
    names: Sequence[str] | None = None,
    pruner: Callable[[Model, float], None] | None = None,
    early: Mapping[str, ArrayLike] | None = None,
    rounds: int = 4,
    gradual_updates: int = 16,
    ramp: float = 0.75,
    seed: int = 0,
) -> tuple[Model, dict]:
    """Prune a copy of ``trained`` to ``sparsity`` with one of :data:`METHODS`, then retrain
    it for ``epochs`` epochs: the same retraining budget and the same batches for every method.

    ===================  ======================================================================
    ``"no retraining"``  prune in one shot, evaluate (``epochs`` is ignored)
    ``"one-shot"``       prune in one shot, then fine-tune
    ``"iterative"``      ``rounds`` rounds, each prunes the same fraction of the survivors
                         (:func:`~prunerec.schedules.per_round_for`), then fine-tunes
                         ``epochs / rounds`` epochs
    ``"gradual"``        the cubic schedule of Zhu & Gupta (2017): ``gradual_updates`` mask
                         updates per epoch over the first ``ramp`` of the run, then
                         fine-tuning at the final sparsity
    ``"random"``         random weights, as many per layer as global magnitude prunes there
                         (:func:`layer_sparsities`), then fine-tune
    ``"rewind"``         the one-shot mask; survivors reset to ``early`` (lottery ticket
                         with rewinding, Frankle et al. 2020), then train
    ``"re-init"``        the one-shot mask; survivors re-initialised at random (seed
                         ``seed``), then train
    ===================  ======================================================================

    Parameters
    ----------
    trained : the trained dense model (not modified).
    split : the data.
    method : one of :data:`METHODS`.
    sparsity : final fraction of the weights of ``names`` pruned, in [0, 1).
    epochs : retraining epochs, >= 1; for ``"iterative"``, ``rounds`` must be a multiple.
    first_epoch : number of the first retraining epoch (the dense training's length).
    config : training settings.
    names : the pruned parameters (default :func:`prunable_names`).
    pruner : ``(model, target) -> None``, prunes up to an overall target (default: global
        magnitude, :func:`global_prune_to`); used by every method but ``"random"``.
    early : weights to rewind to (:func:`fit`'s snapshot); required for ``"rewind"``.
    rounds : rounds of ``"iterative"``.
    gradual_updates : mask updates per epoch of ``"gradual"``.
    ramp : fraction of the run over which ``"gradual"`` ramps up, in (0, 1].
    seed : seed of ``"random"`` and ``"re-init"``.

    Returns
    -------
    ``(model, result)``: the pruned, retrained copy and a dict with ``method``,
    ``sparsity``, ``hr``, ``ndcg`` (test), ``val_hr`` and ``history``.

    Examples
    --------
    >>> from prunerec.data import leave_one_out, synthetic_interactions
    >>> from prunerec.numpy_nn import NumpyMF
    >>> split = leave_one_out(synthetic_interactions(seed=0), n_negatives=20)
    >>> cfg = TrainConfig(batch_size=64)
    >>> mf = NumpyMF(split.n_users, split.n_items, dim=8)
    >>> _, early = fit(mf, split, 2, cfg, snapshot_at=1)
    >>> for method in METHODS:
    ...     m, r = run_method(mf, split, method, 0.75, epochs=1, first_epoch=2, config=cfg,
    ...                       early=early)
    ...     print(f"{method:<14} {pruned_fraction(m, prunable_names(m)):.2f}")
    no retraining  0.75
    one-shot       0.75
    iterative      0.75
    gradual        0.75
    random         0.75
    rewind         0.75
    re-init        0.75
    """
    _check_model(trained)
    _check_split(split)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    s = _check_sparsity(sparsity)
    epochs = _check_int(epochs, "epochs", 1)
    rounds = _check_int(rounds, "rounds", 1)
    gradual_updates = _check_int(gradual_updates, "gradual_updates", 1)
    if isinstance(ramp, bool) or not isinstance(ramp, numbers.Real) or not 0 < ramp <= 1:
        raise ValueError(f"ramp must lie in (0, 1], got {ramp!r}")
    if method == "iterative" and rounds % epochs:
        raise ValueError(f"rounds={rounds} must be a multiple of epochs={epochs}")
    if method == "rewind" and early is None:
        raise ValueError("method='rewind' needs early= (the weights to rewind to)")
    model = clone(trained)
    names = prunable_names(model) if names is None else list(names)
    _sizes(model, names)
    if pruner is None:

        def pruner(m: Model, target: float) -> None:
            global_prune_to(m, names, target)

    elif not callable(pruner):
        raise TypeError(f"pruner must be a callable (model, target) -> None, got {pruner!r}")

    retrain = dict(epochs=epochs, config=config, first_epoch=first_epoch)
    history: list[dict] = []
    if method == "no retraining":
        pruner(model, s)
    elif method == "one-shot":
        history = prune_on_schedule(model, split, lambda u: s, pruner, **retrain)
    elif method == "iterative":
        p = schedules.per_round_for(s, rounds)

        def iterative(u: int) -> float:
            # the last round targets s exactly (1 - (1 - p)^rounds may differ by rounding)
            return s if u + 1 >= rounds else schedules.iterative(u + 1, per_round=p, rounds=rounds)

        history = prune_on_schedule(
            model, split, iterative, pruner, updates_per_epoch=rounds // epochs, **retrain
        )
    elif method == "gradual":
        end = max(1, round(ramp * gradual_updates * epochs))

        def cubic(u: int) -> float:
            return schedules.cubic(u + 1, final=s, begin=0, end=end)

        history = prune_on_schedule(
            model, split, cubic, pruner, updates_per_epoch=gradual_updates, **retrain
        )
    elif method == "random":
        reference = clone(trained)
        pruner(reference, s)
        counts = layer_sparsities(reference, names)
        gen = np.random.default_rng(seed)
        history = prune_on_schedule(
            model, split, lambda u: s, lambda m, t: random_prune_to(m, counts, gen), **retrain
        )
    else:  # rewind / re-init: the mask of one-shot pruning, new starting values
        pruner(model, s)
        if method == "rewind":
            P.rewind(model, early)
        else:
            P.reinitialize(model, seed=seed)
        history = prune_on_schedule(model, split, lambda u: s, pruner, **retrain)
    test, val = evaluate(model, split, "test"), evaluate(model, split, "val")
    return model, {
        "method": method,
        "sparsity": s,
        "hr": test["hr"],
        "ndcg": test["ndcg"],
        "val_hr": val["hr"],
        "history": history,
    }


# --------------------------------------------------------------------------- allocation


def _tolerated(points: list[tuple[float, float]], baseline: float, delta: float) -> float:
    """Largest sparsity whose (running-minimum) metric drop is <= delta, interpolated."""
    prev_s, prev_d, worst = 0.0, 0.0, baseline
    for s, metric in points:
        worst = min(worst, metric)  # the envelope: a drop never shrinks with more pruning
        d = baseline - worst
        if d > delta:
            return prev_s + (delta - prev_d) / (d - prev_d) * (s - prev_s)
        prev_s, prev_d = s, d
    return prev_s


def sensitivity_allocation(
    scan: Mapping[str, Sequence[tuple[float, float]]],
    sizes: Mapping[str, int],
    baseline: float,
    sparsity: float,
) -> dict[str, float]:
    """Per-layer sparsities guided by a sensitivity scan, meeting a global budget exactly.

    For a tolerance δ every layer is pruned as far as its scan says it can go while
    losing at most δ of the metric *on its own* (the scan's curve is made monotone by a
    running minimum and interpolated linearly between the scanned amounts); δ is then
    found by bisection so that the layers together prune ``round(sparsity * n)`` weights.
    Counts are rounded per layer by the largest-remainder rule, so the total is exact.
    This is the sensitivity analysis of Han et al. (2015) turned into an allocation.

    Parameters
    ----------
    scan : dict name -> list of ``(amount, metric)`` from
        :func:`prunerec.numpy_prune.sensitivity_scan` (amounts as fractions).
    sizes : dict name -> number of weights (every name of ``scan``).
    baseline : the metric of the unpruned model.
    sparsity : the overall target, in [0, 1).

    Returns
    -------
    dict name -> sparsity (``count / size`` exactly), for :func:`layerwise_prune_to`.

    Raises
    ------
    ValueError
        If even the largest scanned amounts cannot reach the budget.

    Examples
    --------
    >>> scan = {"a": [(0.5, 0.60), (0.9, 0.50)], "b": [(0.5, 0.69), (0.9, 0.68)]}
    >>> alloc = sensitivity_allocation(scan, {"a": 100, "b": 100}, baseline=0.70, sparsity=0.7)
    >>> alloc        # b barely cares: it is pruned hard; a, sensitive, is spared
    {'a': 0.5, 'b': 0.9}
    """
    if not isinstance(scan, Mapping) or not scan:
        raise ValueError("scan must be a non-empty dict name -> [(amount, metric), ...]")
    if not isinstance(sizes, Mapping) or set(sizes) != set(scan):
        raise ValueError("sizes must be a dict with the same names as scan")
    s = _check_sparsity(sparsity)
    if isinstance(baseline, bool) or not isinstance(baseline, numbers.Real):
        raise TypeError(f"baseline must be a real number, got {baseline!r}")
    curves = {}
    for name, pts in scan.items():
        pts = sorted((float(a), float(m)) for a, m in pts)
        if not pts or any(not 0 < a <= 1 for a, _ in pts):
            raise ValueError(f"scan[{name!r}] must hold (amount, metric) with 0 < amount <= 1")
        curves[name] = pts
    n = {k: _check_int(v, f"sizes[{k!r}]", 1) for k, v in sizes.items()}
    total = round(s * sum(n.values()))

    def alloc(delta: float) -> dict[str, float]:
        return {k: _tolerated(curves[k], baseline, delta) for k in curves}

    def budget(delta: float) -> float:
        return sum(f * n[k] for k, f in alloc(delta).items())

    hi = max(baseline - min(m for pts in curves.values() for _, m in pts), 0.0) + 1.0
    if budget(hi) < total:
        raise ValueError(
            f"the scan reaches at most {budget(hi) / sum(n.values()):.3f} overall sparsity "
            f"< sparsity={s}: scan larger amounts"
        )
    if budget(0.0) >= total:  # layers that lose nothing already exceed the budget: share it
        base = alloc(0.0)
        scale = total / budget(0.0)
        fracs = {k: f * scale for k, f in base.items()}
    else:
        lo = 0.0
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if budget(mid) < total else (lo, mid)
        fracs = alloc(hi)
    # exact counts: floor, then the largest remainders get one more (never above size)
    raw = {k: min(fracs[k] * n[k], n[k]) for k in curves}
    counts = {k: int(np.floor(v)) for k, v in raw.items()}
    left = total - sum(counts.values())
    for k in sorted(curves, key=lambda k: raw[k] - counts[k], reverse=True):
        if left <= 0:
            break
        if counts[k] < n[k]:
            counts[k] += 1
            left -= 1
    return {k: counts[k] / n[k] for k in curves}


# --------------------------------------------------------------------------- gradient check


def gradient_check(
    model: Model,
    users: ArrayLike,
    items: ArrayLike,
    labels: ArrayLike,
    n_entries: int = 10,
    eps: float = 1e-6,
    seed: int = 0,
) -> dict[str, float]:
    """Compare the hand-written gradients with central finite differences.

    For every trainable array (``model.parameters()``: ``_orig`` for a pruned one),
    ``n_entries`` random entries are perturbed by ``±eps`` and the change of the mean
    BCE loss is compared with ``model.grads()`` (which masks pruned entries). Entries of
    embedding tables are drawn from the rows the batch reads, where gradients are
    non-zero. Returns the relative error ``|a - b| / (|a| + |b|)`` per parameter
    (vectors over the entries); in float64 it should be below ~1e-6.

    Parameters
    ----------
    model : the model (its parameters are restored exactly).
    users, items, labels : one batch.
    n_entries : entries checked per parameter.
    eps : finite-difference step.
    seed : seed of the entry choice.

    Returns
    -------
    dict name -> relative error.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyNeuMF
    >>> m = NumpyNeuMF(5, 6, gmf_dim=3, mlp_dims=(4, 2), seed=0)
    >>> P.magnitude_prune(m, "mlp.0.weight", 0.5)
    >>> errors = gradient_check(m, [0, 1, 2, 3], [5, 4, 3, 3], [1.0, 0.0, 1.0, 0.0])
    >>> max(errors.values()) < 1e-6
    True
    """
    _check_model(model)
    n_entries = _check_int(n_entries, "n_entries", 1)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < 1:
        raise ValueError(f"eps must be a number in (0, 1), got {eps!r}")
    y = np.asarray(labels, dtype=np.float64)
    u, i = model._check_pair(users, items)
    rng = np.random.default_rng(seed)

    def loss() -> float:
        return bce_with_logits(model.forward(u, i), y)[0]

    model.zero_grad()
    _, g = bce_with_logits(model.forward(u, i), y)
    model.backward(g)
    grads = {k: v.copy() for k, v in model.grads().items()}
    errors = {}
    for name, p in model.parameters().items():
        if name.endswith("embedding.weight") and p.shape[0] in (model.n_users, model.n_items):
            rows = np.unique(u if "user" in name else i)
            cand = [(int(r), c) for r in rows for c in range(p.shape[1])]
        else:
            cand = list(np.ndindex(p.shape))
        pick = rng.choice(len(cand), size=min(n_entries, len(cand)), replace=False)
        analytic, numeric = [], []
        for k in pick:
            idx = tuple(int(v) for v in cand[k])
            old = p[idx]
            p[idx] = old + eps
            plus = loss()
            p[idx] = old - eps
            minus = loss()
            p[idx] = old
            numeric.append((plus - minus) / (2 * eps))
            analytic.append(grads[name][idx])
        a, b = np.array(analytic), np.array(numeric)
        denom = np.linalg.norm(a) + np.linalg.norm(b)
        errors[name] = 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)
    P.apply_masks(model)
    return errors
