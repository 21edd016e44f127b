"""The experiments of the torch case study, shared by chapter 05 and ``bench/case_study.py``.

One recipe (:class:`Recipe`) and a handful of steps, so that the chapter (one seed, short
fine-tuning, live) and the benchmark (three seeds, the full curves) run the same code:

1. :func:`train_dense` — train the dense NeuMF of He et al. (2017) with early stopping on
   the validation item;
2. :func:`prune_copy` — prune a *copy* of it by one method to one target sparsity
   (the dense model is never changed, so every variant starts from the same weights):

   * ``"magnitude"`` — global magnitude pruning, one-shot
     (:func:`prunerec.torch_prune.prune_to_sparsity`);
   * ``"random"`` — the same number of weights, chosen uniformly at random
     (:func:`prunerec.torch_prune.random_prune`);
   * ``"structured"`` — embedding dimensions *and* MLP neurons removed physically
     (:func:`prunerec.torch_prune.shrink_structured`), each by the target fraction;

   and :func:`gradual_prune` — gradual magnitude pruning (Zhu & Gupta 2017) while training
   the copy further; :func:`scratch_model` — a small dense model of the structured
   architecture, trained from scratch (the comparison of Liu et al. 2019);
3. :func:`finetune` — recover with a few epochs of training (pruned weights stay at zero);
4. :func:`measure` — HR@10, NDCG@10, parameters, non-zeros and ``state_dict`` bytes.

:func:`run_point` chains 2-4 into one row (a dict); :func:`run_curve` loops over methods
and sparsities; :func:`summarise` and :func:`tradeoff_results` turn rows of several seeds
into mean ± std tables and into the format of
:func:`prunerec.widgets.tradeoff_explorer`.

Sparsity
--------
All methods are compared at the same **sparsity over the prunable weights**: the weights
of the embedding tables and of the hidden MLP layers (``which=("embeddings", "mlp")`` in
:mod:`prunerec.torch_prune`; biases and the output layer are not pruned). For a masked
model it is the fraction of those weights that are zero; for a physically smaller model,
the fraction of the dense model's prunable weights that no longer exist *or* are zero:
``1 - nonzero_prunable(model) / prunable_size(dense)``.

Recommender-specific diagnostics: :func:`hr_by_popularity` splits the test users by how
popular their held-out item is (to see what pruning does to tail items) and
:func:`shared_support` counts the GMF dimensions that a user and an item vector *both*
keep — the dot product only sees those.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from prunerec import data, metrics, training
from prunerec import torch_prune as tp
from prunerec.models import NeuMF, count_nonzero, count_parameters, state_dict_bytes

__all__ = [
    "PRUNABLE",
    "METHODS",
    "Recipe",
    "build_model",
    "train_dense",
    "prunable_size",
    "prunable_nonzero",
    "sparsity_vs",
    "structured_amounts",
    "prune_copy",
    "finetune",
    "gradual_prune",
    "scratch_model",
    "measure",
    "run_point",
    "run_curve",
    "itempop_metrics",
    "candidate_scores",
    "popularity_groups",
    "hr_by_popularity",
    "shared_support",
    "summarise",
    "tradeoff_results",
]

#: The parameter groups that are pruned and over which sparsity is measured.
PRUNABLE = ("embeddings", "mlp")

#: Methods :func:`run_point` knows. ``"dense"`` is the 0%-sparsity control: the dense
#: model fine-tuned with the same budget as the pruned ones.
METHODS = ("dense", "magnitude", "random", "structured", "gradual", "scratch")


# --------------------------------------------------------------------------- recipe


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of the case study (model, dense training, recovery).

    Defaults are those of the benchmark; the chapter uses the same recipe with shorter
    fine-tuning (``Recipe(finetune_epochs=3, ...)`` or :meth:`with_`).

    Attributes
    ----------
    gmf_dim, mlp_dim, layers : the NeuMF architecture.
    epochs, patience : dense training: at most ``epochs``, early stopping on the
        validation HR@10 with ``patience`` (best weights restored).
    batch_size, lr, n_negatives : as in :func:`prunerec.training.train`.
    finetune_epochs, finetune_patience : recovery after pruning (best weights restored).
    gradual_epochs : epochs over which :func:`gradual_prune` ramps the sparsity up (cubic
        schedule, about ten mask updates per epoch), before fine-tuning.
    scratch_epochs, scratch_patience : training of the small dense models from scratch
        (small models start slowly, hence the longer patience).
    """

    gmf_dim: int = 32
    mlp_dim: int = 32
    layers: tuple[int, ...] = (64, 32, 16)
    epochs: int = 20
    patience: int = 3
    batch_size: int = 1024
    lr: float = 1e-3
    n_negatives: int = 4
    finetune_epochs: int = 8
    finetune_patience: int = 3
    gradual_epochs: int = 3
    scratch_epochs: int = 30
    scratch_patience: int = 5

    def __post_init__(self) -> None:
        for name in (
            "gmf_dim",
            "mlp_dim",
            "epochs",
            "patience",
            "batch_size",
            "n_negatives",
            "finetune_epochs",
            "finetune_patience",
            "gradual_epochs",
            "scratch_epochs",
            "scratch_patience",
        ):
            _check_int(getattr(self, name), name, 1)
        if isinstance(self.layers, str) or not isinstance(self.layers, Sequence):
            raise TypeError(f"layers must be a tuple of ints, got {self.layers!r}")
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise ValueError("layers is empty")
        for i, w in enumerate(self.layers):
            _check_int(w, f"layers[{i}]", 1)
        if not isinstance(self.lr, numbers.Real) or not 0 < float(self.lr) < math.inf:
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")

    def with_(self, **changes: object) -> Recipe:
        """A copy with some fields changed.

        Examples
        --------
        >>> Recipe().with_(finetune_epochs=3).finetune_epochs
        3
        """
        return replace(self, **changes)

    def to_dict(self) -> dict[str, object]:
        """The recipe as a JSON-friendly dict.

        Examples
        --------
        >>> Recipe().to_dict()["layers"]
        [64, 32, 16]
        """
        d = asdict(self)
        d["layers"] = list(self.layers)
        return d


# --------------------------------------------------------------------------- validation


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_sparsity(value: object, name: str = "sparsity") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float in [0, 1), got {type(value).__name__}")
    v = float(value)
    if not 0.0 <= v < 1.0:  # also rejects NaN
        raise ValueError(f"{name}={value!r} must lie in [0, 1)")
    return v


def _check_split(split: object) -> data.LeaveOneOut:
    if not isinstance(split, data.LeaveOneOut):
        raise TypeError(f"split must be a prunerec.data.LeaveOneOut, got {type(split).__name__}")
    return split


def _check_neumf(model: object, name: str = "model") -> NeuMF:
    if not isinstance(model, NeuMF):
        raise TypeError(f"{name} must be a prunerec.models.NeuMF, got {type(model).__name__}")
    return model


def _check_recipe(recipe: object) -> Recipe:
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe, got {type(recipe).__name__}")
    return recipe


# --------------------------------------------------------------------------- dense


def build_model(split: data.LeaveOneOut, recipe: Recipe = Recipe(), *, seed: int = 0) -> NeuMF:
    """A freshly initialised NeuMF of the recipe's shape for ``split``.

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> build_model(split, Recipe(gmf_dim=4, mlp_dim=4, layers=(8, 4))).layers
    (8, 4)
    """
    _check_split(split)
    _check_recipe(recipe)
    return NeuMF(
        split.n_users,
        split.n_items,
        recipe.gmf_dim,
        recipe.mlp_dim,
        recipe.layers,
        seed=_check_int(seed, "seed", 0),
    )


def _train_kw(recipe: Recipe) -> dict[str, object]:
    return {"batch_size": recipe.batch_size, "lr": recipe.lr, "n_negatives": recipe.n_negatives}


def train_dense(
    split: data.LeaveOneOut,
    recipe: Recipe = Recipe(),
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
) -> tuple[NeuMF, training.History]:
    """Train the dense NeuMF: at most ``recipe.epochs`` with early stopping.

    ``seed`` seeds both the initialisation and the training (negatives, shuffling).

    Returns
    -------
    ``(model, history)``; the model holds the best validation weights, on ``device``
    (default: :func:`prunerec.models.pick_device`).

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> m, h = train_dense(split, Recipe(4, 4, (8, 4), epochs=2), device="cpu", progress=False)
    >>> h.epochs
    2
    """
    model = build_model(split, recipe, seed=seed)
    history = training.train(
        model,
        split,
        epochs=recipe.epochs,
        patience=recipe.patience,
        seed=seed,
        device=device,
        progress=progress,
        **_train_kw(recipe),
    )
    return model, history


# --------------------------------------------------------------------------- sparsity


def _prunable(model: nn.Module) -> list[torch.Tensor]:
    return [getattr(m, n) for m, n in tp.prunable_parameters(model, PRUNABLE)]


def prunable_size(model: nn.Module) -> int:
    """Number of prunable weights (embeddings + hidden MLP layers) of ``model``.

    Examples
    --------
    >>> prunable_size(NeuMF(3, 5, gmf_dim=2, mlp_dim=2, layers=(4, 2)))  # 32 + 16 + 8
    56
    """
    return sum(t.numel() for t in _prunable(model))


def prunable_nonzero(model: nn.Module) -> int:
    """Number of non-zero prunable weights, masks applied.

    Examples
    --------
    >>> m = tp.prune_to_sparsity(NeuMF(3, 5, gmf_dim=2, mlp_dim=2, layers=(4, 2)), 0.5)
    >>> prunable_nonzero(m)
    28
    """
    return sum(int(torch.count_nonzero(t)) for t in _prunable(model))


def sparsity_vs(model: nn.Module, dense: nn.Module) -> float:
    """Sparsity of ``model`` relative to ``dense``: ``1 - prunable_nonzero / prunable_size``.

    For a masked copy it is the share of zeros; for a physically smaller model it also
    counts the weights that were removed.

    Examples
    --------
    >>> dense = NeuMF(3, 5, gmf_dim=4, mlp_dim=4, layers=(8, 4))
    >>> small = tp.shrink_structured(dense, dim_amount=0.5, mlp_amount=0.5)
    >>> sparsity_vs(small, dense)  # 1 - (32 + 16 + 8) / (64 + 64 + 32)
    0.65
    """
    return 1.0 - prunable_nonzero(model) / prunable_size(dense)


def structured_amounts(model: NeuMF, target: float) -> dict[str, float]:
    """``dim_amount`` and ``mlp_amount`` for :func:`prunerec.torch_prune.shrink_structured`.

    Both are ``target``, capped so that every tower keeps at least one embedding dimension
    and every hidden layer at least one neuron (at 96.9% a 16-wide layer would otherwise
    lose all of them).

    Examples
    --------
    >>> structured_amounts(NeuMF(3, 5, 32, 32, (64, 32, 16)), 0.96875)
    {'dim_amount': 0.96875, 'mlp_amount': 0.9375}
    """
    _check_neumf(model)
    target = _check_sparsity(target, "target")
    dim_cap = 1.0 - 1.0 / min(model.gmf_dim, model.mlp_dim)
    mlp_cap = 1.0 - 1.0 / min(model.layers)
    return {"dim_amount": min(target, dim_cap), "mlp_amount": min(target, mlp_cap)}


# --------------------------------------------------------------------------- pruning


def prune_copy(dense: NeuMF, method: str, target: float, *, seed: int = 0) -> NeuMF:
    """A pruned copy of ``dense`` (which is not changed), before any fine-tuning.

    Parameters
    ----------
    dense : a trained NeuMF without pruning masks.
    method : ``"dense"`` (a plain copy), ``"magnitude"``, ``"random"`` or ``"structured"``
        (see the module docstring).
    target : sparsity over the prunable weights, in [0, 1). Structured pruning reaches
        it approximately (whole dimensions and neurons); use :func:`sparsity_vs`.
    seed : the draw of ``"random"``.

    Returns
    -------
    A NeuMF on the same device as ``dense``.

    Examples
    --------
    >>> dense = NeuMF(10, 20, gmf_dim=4, mlp_dim=4, layers=(8, 4))
    >>> m = prune_copy(dense, "magnitude", 0.75)
    >>> sparsity_vs(m, dense), prunable_nonzero(dense) == prunable_size(dense)
    (0.75, True)
    >>> prune_copy(dense, "structured", 0.5).gmf_dim
    2
    """
    _check_neumf(dense, "dense")
    target = _check_sparsity(target, "target")
    if any(b.endswith("_mask") for b, _ in dense.named_buffers()):
        raise ValueError("dense already carries pruning masks; pass the unpruned model")
    if method == "dense":
        if target != 0.0:
            raise ValueError(f"method 'dense' is the 0% control: target must be 0, got {target}")
        return copy.deepcopy(dense)
    if method == "magnitude":
        return tp.prune_to_sparsity(copy.deepcopy(dense), target, PRUNABLE)
    if method == "random":
        return tp.random_prune(copy.deepcopy(dense), target, PRUNABLE, seed=seed)
    if method == "structured":
        return tp.shrink_structured(dense, **structured_amounts(dense, target))
    raise ValueError(
        f"method={method!r} is not a pruning of prune_copy; choose 'dense', 'magnitude', "
        "'random' or 'structured' (gradual and scratch have their own functions)"
    )


def finetune(
    model: nn.Module,
    split: data.LeaveOneOut,
    recipe: Recipe = Recipe(),
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
) -> training.History:
    """Recover after pruning: at most ``recipe.finetune_epochs`` epochs, early stopping.

    Masks of ``torch.nn.utils.prune`` keep pruned weights at zero; the best validation
    weights (and masks) are restored. The training seed is ``1000 + seed``, so the
    negatives differ from those of the dense training.

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> m = prune_copy(build_model(split, Recipe(4, 4, (8, 4))), "magnitude", 0.5)
    >>> h = finetune(m, split, Recipe(4, 4, (8, 4), finetune_epochs=1), device="cpu",
    ...              progress=False)
    >>> h.epochs, sparsity_vs(m, build_model(split, Recipe(4, 4, (8, 4))))
    (1, 0.5)
    """
    _check_recipe(recipe)
    return training.train(
        model,
        split,
        epochs=recipe.finetune_epochs,
        patience=recipe.finetune_patience,
        seed=1000 + _check_int(seed, "seed", 0),
        device=device,
        progress=progress,
        **_train_kw(recipe),
    )


def _steps_per_epoch(split: data.LeaveOneOut, recipe: Recipe) -> int:
    return math.ceil(len(split.train_users) * (1 + recipe.n_negatives) / recipe.batch_size)


def gradual_prune(
    dense: NeuMF,
    split: data.LeaveOneOut,
    target: float,
    recipe: Recipe = Recipe(),
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
) -> tuple[NeuMF, tp.GradualPruner]:
    """Gradual magnitude pruning of a copy of ``dense`` while it keeps training.

    A :class:`prunerec.torch_prune.GradualPruner` raises the global magnitude sparsity
    from 0 to ``target`` on the cubic schedule of Zhu & Gupta (2017) over the first
    ``recipe.gradual_epochs`` epochs (about ten mask updates per epoch); ``train`` runs
    with the pruner as callback (no early stopping: restoring weights would undo
    pruning). Fine-tune afterwards with :func:`finetune`.

    Returns
    -------
    ``(model, pruner)``; ``pruner.history`` lists ``(step, target, achieved)``.

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> r = Recipe(4, 4, (8, 4), gradual_epochs=2)
    >>> m, pruner = gradual_prune(build_model(split, r), split, 0.8, r, device="cpu",
    ...                           progress=False)
    >>> pruner.history[-1][1], round(sparsity_vs(m, build_model(split, r)), 3)
    (0.8, 0.8)
    """
    _check_neumf(dense, "dense")
    _check_split(split)
    _check_recipe(recipe)
    target = _check_sparsity(target, "target")
    model = copy.deepcopy(dense)
    spe = _steps_per_epoch(split, recipe)
    frequency = max(1, spe // 10)
    end = (recipe.gradual_epochs * spe // frequency) * frequency
    pruner = tp.GradualPruner(model, target, 0, end, frequency, which=PRUNABLE)
    training.train(
        model,
        split,
        epochs=recipe.gradual_epochs,
        seed=2000 + _check_int(seed, "seed", 0),
        device=device,
        progress=progress,
        callback=pruner,
        **_train_kw(recipe),
    )
    return model, pruner


def scratch_model(
    like: NeuMF,
    split: data.LeaveOneOut,
    recipe: Recipe = Recipe(),
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
) -> tuple[NeuMF, training.History]:
    """A dense NeuMF with the architecture of ``like``, trained from scratch.

    Pass the output of ``prune_copy(dense, "structured", s)``: the two models are then
    identical in shape, and differ only in where their weights come from (inherited and
    fine-tuned vs freshly initialised) — the question of Liu et al. (2019).

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> like = NeuMF(split.n_users, split.n_items, 2, 2, (4, 2))
    >>> m, h = scratch_model(like, split, Recipe(scratch_epochs=1), device="cpu",
    ...                      progress=False)
    >>> m.config() == like.config(), h.epochs
    (True, 1)
    """
    _check_neumf(like, "like")
    _check_recipe(recipe)
    model = NeuMF(**like.config(), seed=_check_int(seed, "seed", 0))
    history = training.train(
        model,
        split,
        epochs=recipe.scratch_epochs,
        patience=recipe.scratch_patience,
        seed=seed,
        device=device,
        progress=progress,
        **_train_kw(recipe),
    )
    return model, history


# --------------------------------------------------------------------------- measuring


def measure(
    model: nn.Module, split: data.LeaveOneOut, dense: nn.Module, k: int = 10
) -> dict[str, float | int]:
    """Test HR@k / NDCG@k, sparsity and sizes of ``model``.

    ``bytes`` is what ``torch.save(state_dict)`` writes once pruning is made permanent
    (masks baked in): a masked model then stores its zeros like any other float, so it is
    as large as the dense one; only physical removal makes it smaller. Masks are baked
    into ``model`` itself (call this last).

    Returns
    -------
    dict with ``sparsity``, ``hr``, ``ndcg``, ``params`` (all scalars, pruned included),
    ``nonzeros`` (all non-zero scalars, biases included), ``bytes``.

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> dense = build_model(split, Recipe(4, 4, (8, 4)))
    >>> row = measure(prune_copy(dense, "magnitude", 0.5), split, dense)
    >>> row["sparsity"], row["params"] == count_parameters(dense), row["bytes"] > 0
    (0.5, True, True)
    """
    _check_split(split)
    result = training.evaluate(model, split, "test", k=k)
    row: dict[str, float | int] = {
        "sparsity": sparsity_vs(model, dense),
        "hr": result["hr"],
        "ndcg": result["ndcg"],
        "params": count_parameters(model),
        "nonzeros": count_nonzero(model),
    }
    tp.make_permanent(model)
    row["bytes"] = state_dict_bytes(model)
    return row


def run_point(
    dense: NeuMF,
    split: data.LeaveOneOut,
    method: str,
    target: float,
    recipe: Recipe = Recipe(),
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> dict[str, object]:
    """Prune a copy of ``dense`` by ``method`` to ``target``, recover, measure: one row.

    ``method`` is one of :data:`METHODS`: ``"dense"`` (the 0% control: a copy fine-tuned
    like the others), ``"magnitude"``, ``"random"``, ``"structured"`` (pruned then
    fine-tuned), ``"gradual"`` (:func:`gradual_prune`, then fine-tuned) or ``"scratch"``
    (the structured architecture trained from scratch, :func:`scratch_model`).

    Returns
    -------
    dict: ``method``, ``target``, ``seed``, the keys of :func:`measure`, ``hr_before`` and
    ``ndcg_before`` (test metrics right after pruning, before fine-tuning; ``None`` for
    ``"dense"`` and ``"scratch"``) and ``epochs`` (of fine-tuning, or of training from
    scratch).

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> r = Recipe(4, 4, (8, 4), finetune_epochs=1)
    >>> row = run_point(build_model(split, r), split, "random", 0.5, r, device="cpu")
    >>> row["method"], row["sparsity"], row["epochs"]
    ('random', 0.5, 1)
    """
    _check_neumf(dense, "dense")
    if method not in METHODS:
        raise ValueError(f"method={method!r} is unknown; choose from {', '.join(METHODS)}")
    target = _check_sparsity(target, "target")
    before: dict[str, float] | None = None
    if method == "scratch":
        like = prune_copy(dense, "structured", target)
        model, history = scratch_model(
            like, split, recipe, seed=seed, device=device, progress=progress
        )
    else:
        if method == "gradual":
            model, _ = gradual_prune(
                dense, split, target, recipe, seed=seed, device=device, progress=progress
            )
        else:
            model = prune_copy(dense, method, target, seed=seed)
        if method != "dense":
            before = training.evaluate(model, split, "test")
        history = finetune(model, split, recipe, seed=seed, device=device, progress=progress)
    row: dict[str, object] = {"method": method, "target": target, "seed": seed}
    row.update(measure(model, split, dense))
    row["hr_before"] = None if before is None else before["hr"]
    row["ndcg_before"] = None if before is None else before["ndcg"]
    row["epochs"] = history.epochs
    return row


def run_curve(
    dense: NeuMF,
    split: data.LeaveOneOut,
    methods: Iterable[str],
    targets: Iterable[float],
    recipe: Recipe = Recipe(),
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
    include_control: bool = True,
) -> list[dict[str, object]]:
    """:func:`run_point` for every method and target (one progress bar over the points).

    With ``include_control`` the ``"dense"`` 0% control is run first (once).

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> r = Recipe(4, 4, (8, 4), finetune_epochs=1)
    >>> rows = run_curve(build_model(split, r), split, ["magnitude"], [0.5, 0.75], r,
    ...                  device="cpu", progress=False)
    >>> [(row["method"], row["target"]) for row in rows]
    [('dense', 0.0), ('magnitude', 0.5), ('magnitude', 0.75)]
    """
    points = [("dense", 0.0)] if include_control else []
    points += [(m, float(t)) for m in methods for t in targets]
    rows = []
    for method, target in tqdm(points, desc="pruned models", disable=not progress):
        rows.append(run_point(dense, split, method, target, recipe, seed=seed, device=device))
    return rows


def itempop_metrics(split: data.LeaveOneOut, k: int = 10) -> dict[str, float]:
    """Test HR@k / NDCG@k of ItemPop (score = number of training interactions).

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> sorted(itempop_metrics(split))
    ['hr', 'ndcg']
    """
    _check_split(split)
    pop = metrics.item_popularity(split.train_items, split.n_items)
    return metrics.ranking_metrics(metrics.itempop_scores(split.test_candidates, pop), k=k)


# --------------------------------------------------------------------------- tail items


def candidate_scores(
    model: nn.Module, split: data.LeaveOneOut, which: str = "test", batch_size: int = 512
) -> np.ndarray:
    """Scores of every user's candidates (held-out item in column 0), as a NumPy array.

    The same scoring as :func:`prunerec.training.evaluate`, kept per user so that users
    can be grouped.

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> candidate_scores(build_model(split, Recipe(4, 4, (8, 4))), split).shape
    (20, 10)
    """
    _check_split(split)
    if which not in ("test", "val"):
        raise ValueError(f"which must be 'test' or 'val', got {which!r}")
    cand = split.test_candidates if which == "test" else split.val_candidates
    cand = torch.as_tensor(np.asarray(cand, dtype=np.int64))
    return training.candidate_scores(model, cand, batch_size).numpy()


def popularity_groups(
    split: data.LeaveOneOut, edges: Sequence[float] = (0.5, 0.8)
) -> tuple[np.ndarray, list[str]]:
    """Group the items by training popularity rank, and each test user by their test item.

    Items are ranked from the most to the least popular (ties: lower index first);
    ``edges`` are cumulative shares of the *items*: with ``(0.5, 0.8)`` the least popular
    50% of items are the ``"tail"``, the next 30% the ``"middle"`` and the top 20% the
    ``"head"``.

    Returns
    -------
    ``(group_of_user, names)``: an int array of length ``n_users`` (index into ``names``)
    and the group names, tail first.

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> g, names = popularity_groups(split)
    >>> names, g.shape
    (['tail', 'middle', 'head'], (20,))
    """
    _check_split(split)
    e = [float(x) for x in edges]
    if len(e) != 2 or not 0.0 < e[0] < e[1] < 1.0:
        raise ValueError(f"edges must be two increasing shares in (0, 1), got {edges!r}")
    counts = metrics.item_popularity(split.train_items, split.n_items)
    order = np.argsort(-counts, kind="stable")  # most popular first
    rank = np.empty(split.n_items, dtype=np.int64)
    rank[order] = np.arange(split.n_items)
    share_from_top = rank / split.n_items  # 0 for the most popular item
    item_group = np.where(share_from_top < 1 - e[1], 2, np.where(share_from_top < 1 - e[0], 1, 0))
    return item_group[split.test_items], ["tail", "middle", "head"]


def hr_by_popularity(
    model: nn.Module,
    split: data.LeaveOneOut,
    k: int = 10,
    edges: Sequence[float] = (0.5, 0.8),
) -> list[dict[str, object]]:
    """Test HR@k and NDCG@k per popularity group of the held-out item.

    Returns
    -------
    list of dicts ``{"group", "users", "hr", "ndcg"}``, tail first, then a row ``"all"``.

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> rows = hr_by_popularity(build_model(split, Recipe(4, 4, (8, 4))), split)
    >>> [r["group"] for r in rows], sum(r["users"] for r in rows[:3])
    (['tail', 'middle', 'head', 'all'], 20)
    """
    group, names = popularity_groups(split, edges)
    rank = metrics.positive_rank(candidate_scores(model, split))
    rows: list[dict[str, object]] = []
    for g, name in enumerate([*names, "all"]):
        sel = group == g if name != "all" else np.ones_like(group, dtype=bool)
        r = rank[sel]
        rows.append(
            {
                "group": name,
                "users": int(sel.sum()),
                "hr": float(np.mean(r < k)) if r.size else math.nan,
                "ndcg": float(np.mean(np.where(r < k, 1 / np.log2(r + 2.0), 0.0)))
                if r.size
                else math.nan,
            }
        )
    return rows


def shared_support(model: NeuMF, split: data.LeaveOneOut) -> dict[str, float]:
    """How many GMF dimensions a test user and their test item *both* keep, on average.

    GMF scores ``h·(p_u ⊙ q_i)``: a dimension contributes only when it is non-zero in the
    user vector and in the item vector. Unstructured pruning scatters the survivors, so
    their supports may not meet; removing whole dimensions keeps them aligned.

    Returns
    -------
    dict with ``shared`` (mean number of common non-zero dimensions), ``user`` and
    ``item`` (mean non-zeros per vector) and ``dim`` (the GMF dimension).

    Examples
    --------
    >>> split = data.leave_one_out(data.synthetic_interactions(20, 30, seed=0), n_negatives=9)
    >>> dense = build_model(split, Recipe(4, 4, (8, 4)))
    >>> shared_support(dense, split)["shared"]
    4.0
    """
    _check_neumf(model)
    _check_split(split)
    with torch.no_grad():
        p = model.gmf_user_embedding.weight.detach().cpu() != 0
        q = model.gmf_item_embedding.weight.detach().cpu() != 0
    users = torch.arange(split.n_users)
    items = torch.as_tensor(np.asarray(split.test_items, dtype=np.int64))
    pu, qi = p[users], q[items]
    return {
        "shared": float((pu & qi).sum(1).float().mean()),
        "user": float(pu.sum(1).float().mean()),
        "item": float(qi.sum(1).float().mean()),
        "dim": float(model.gmf_dim),
    }


# --------------------------------------------------------------------------- summaries

_METRICS = ("sparsity", "hr", "ndcg", "params", "nonzeros", "bytes", "hr_before", "ndcg_before")


def _mean_std(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return math.nan, math.nan
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return float(arr.mean()), std


def summarise(rows: Iterable[Mapping[str, object]]) -> list[dict[str, object]]:
    """Mean and sample standard deviation over seeds, per ``(method, target)``.

    Returns
    -------
    list of dicts ``{"method", "target", "n", "<metric>_mean", "<metric>_std", ...}`` for
    the metrics of :func:`run_point` (``None`` values skipped), in first-seen order.

    Examples
    --------
    >>> rows = [{"method": "m", "target": 0.5, "hr": h, "ndcg": 0.1} for h in (0.6, 0.8)]
    >>> s = summarise(rows)[0]
    >>> s["n"], round(s["hr_mean"], 3), round(s["hr_std"], 4)
    (2, 0.7, 0.1414)
    """
    groups: dict[tuple[str, float], list[Mapping[str, object]]] = {}
    for row in rows:
        groups.setdefault((str(row["method"]), float(row["target"])), []).append(row)
    out = []
    for (method, target), members in groups.items():
        entry: dict[str, object] = {"method": method, "target": target, "n": len(members)}
        for key in _METRICS:
            values = [float(r[key]) for r in members if r.get(key) is not None]
            if values:
                entry[f"{key}_mean"], entry[f"{key}_std"] = _mean_std(values)
        out.append(entry)
    return out


def tradeoff_results(
    summary: Iterable[Mapping[str, object]], control: str | None = "dense"
) -> dict[str, list[dict[str, float]]]:
    """Mean points per method in the format of :func:`prunerec.widgets.tradeoff_explorer`.

    ``{method: [{"sparsity", "hr", "ndcg", "bytes", "nonzeros"}, ...]}``, sorted by
    sparsity. The ``control`` method's point (the dense model, fine-tuned) is put at the
    start of every other method's curve, as its 0% point.

    Examples
    --------
    >>> summary = [
    ...     {"method": "dense", "target": 0.0, "sparsity_mean": 0.0, "hr_mean": 0.7},
    ...     {"method": "magnitude", "target": 0.5, "sparsity_mean": 0.5, "hr_mean": 0.6},
    ... ]
    >>> tradeoff_results(summary)
    {'magnitude': [{'sparsity': 0.0, 'hr': 0.7}, {'sparsity': 0.5, 'hr': 0.6}]}
    """
    curves: dict[str, list[dict[str, float]]] = {}
    start: dict[str, float] | None = None
    for entry in summary:
        point = {
            key: float(entry[f"{key}_mean"])
            for key in ("sparsity", "hr", "ndcg", "bytes", "nonzeros")
            if f"{key}_mean" in entry
        }
        if entry["method"] == control:
            start = point
        else:
            curves.setdefault(str(entry["method"]), []).append(point)
    for method, points in curves.items():
        if start is not None:
            points.append(dict(start))
        curves[method] = sorted(points, key=lambda p: p["sparsity"])
    return curves


# --------------------------------------------------------------------------- reporting

#: Colours and labels of the methods in plots.
STYLE = {
    "magnitude": ("tab:blue", "global magnitude, one-shot + fine-tune"),
    "gradual": ("tab:cyan", "global magnitude, gradual (cubic) + fine-tune"),
    "random": ("tab:red", "random + fine-tune"),
    "structured": ("tab:green", "structured: dims + neurons removed + fine-tune"),
    "scratch": ("tab:olive", "small dense from scratch (structured shape)"),
}


def summary_table(result: Mapping[str, object], digits: int = 3) -> str:
    """A text table of ``result["summary"]``: mean ± std of HR@10 and NDCG@10 per method
    and target, with the measured sparsity, HR@10 right after pruning, non-zeros and bytes
    (a single run shows its value without ± ).

    ``result`` is the benchmark's JSON (or any dict with a ``"summary"``; ``"dense"`` and
    ``"itempop"`` summaries, if present, are printed first).

    Examples
    --------
    >>> rows = [{"method": "magnitude", "target": 0.5, "sparsity": 0.5, "hr": h, "ndcg": 0.3,
    ...          "nonzeros": 10, "bytes": 100} for h in (0.6, 0.62)]
    >>> print(summary_table({"summary": summarise(rows)}))  # doctest: +NORMALIZE_WHITESPACE
    method      target  sparsity  HR@10          NDCG@10        HR@10 before FT  non-zeros  bytes
    magnitude   50.00%  50.00%    0.610 ± 0.014  0.300 ± 0.000  -                10         100
    """

    def pm(entry: Mapping[str, object], key: str) -> str:
        if f"{key}_mean" not in entry:
            return "-"
        mean = f"{entry[f'{key}_mean']:.{digits}f}"
        if f"{key}_std" not in entry or entry.get("n", 2) < 2:  # one run: no spread to show
            return mean
        return f"{mean} ± {entry[f'{key}_std']:.{digits}f}"

    head = (
        f"{'method':<11} {'target':>7} {'sparsity':>9}  {'HR@10':<14} {'NDCG@10':<14} "
        f"{'HR@10 before FT':<16} {'non-zeros':>9}  {'bytes':>9}"
    )
    lines = []
    for name in ("itempop", "dense"):
        if name in result:
            e = result[name]
            lines.append(f"{name:<11} {'':>7} {'':>9}  {pm(e, 'hr'):<14} {pm(e, 'ndcg'):<14}")
    lines.append(head)
    for e in result["summary"]:
        nz = f"{e['nonzeros_mean']:,.0f}" if "nonzeros_mean" in e else "-"
        by = f"{e['bytes_mean']:,.0f}" if "bytes_mean" in e else "-"
        lines.append(
            f"{e['method']:<11} {e['target']:>7.2%} {e.get('sparsity_mean', math.nan):>9.2%}  "
            f"{pm(e, 'hr'):<14} {pm(e, 'ndcg'):<14} {pm(e, 'hr_before'):<16} {nz:>9}  {by:>9}"
        )
    return "\n".join(lines)


def plot_curves(
    result: Mapping[str, object],
    methods: Sequence[str] | None = None,
    title: str | None = None,
):
    """HR@10 and NDCG@10 against sparsity, mean ± std over seeds, one line per method.

    The x axis is the fraction of prunable weights *kept*, on a log scale (so 50%, 75%,
    87.5%, ... sparsity are evenly spaced) and labelled with the sparsity. Every curve
    starts at the 0% control (``"dense"`` in the summary, the dense model fine-tuned like
    the others); horizontal lines mark the dense model before fine-tuning and ItemPop
    when ``result`` has them.

    Returns
    -------
    matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    summary = list(result["summary"])
    if methods is None:
        methods = [m for m in STYLE if any(e["method"] == m for e in summary)]
    control = [e for e in summary if e["method"] == "dense"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), dpi=80)
    for ax, key, label in zip(axes, ("hr", "ndcg"), ("HR@10", "NDCG@10"), strict=True):
        for method in methods:
            colour, name = STYLE.get(method, ("0.3", method))
            pts = sorted(
                control + [e for e in summary if e["method"] == method],
                key=lambda e: e["sparsity_mean"],
            )
            x = [max(1.0 - e["sparsity_mean"], 1e-3) for e in pts]
            y = [e[f"{key}_mean"] for e in pts]
            err = [e.get(f"{key}_std", 0.0) for e in pts]
            ax.errorbar(x, y, yerr=err, fmt="o-", ms=4, capsize=3, color=colour, label=name)
        for name, style in (("dense", ("k", "--")), ("itempop", ("0.5", ":"))):
            if name in result and f"{key}_mean" in result[name]:
                ax.axhline(
                    result[name][f"{key}_mean"],
                    color=style[0],
                    ls=style[1],
                    lw=1,
                    label="dense (before fine-tuning)" if name == "dense" else "ItemPop",
                )
        ax.set_xscale("log", base=2)
        ax.invert_xaxis()
        ticks = [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125]
        ax.set_xticks(ticks, [f"{100 * (1 - t):.3g}%" for t in ticks])
        ax.set(xlabel="sparsity of the prunable weights", ylabel=f"test {label}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
