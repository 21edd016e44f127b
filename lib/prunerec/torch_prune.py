"""Pruning the torch recommenders: thin helpers on top of ``torch.nn.utils.prune``.

``torch.nn.utils.prune`` does the work: pruning a parameter ``weight`` replaces it by
``weight_orig`` (the trainable values) and the buffer ``weight_mask``; a forward pre-hook
recomputes ``weight = weight_orig * weight_mask``. Masks *compose*: pruning again with
``amount=a`` prunes the fraction ``a`` of the weights that are still unpruned.
:func:`make_permanent` (``prune.remove``) bakes the zeros into a plain ``weight`` again.

Groups of parameters
--------------------
``which`` selects weights by role (biases are never pruned here):

* ``"embeddings"`` — the ``weight`` of every ``nn.Embedding`` (user and item tables, both
  towers of NeuMF);
* ``"mlp"`` — the ``weight`` of every ``nn.Linear`` except the output layer (the MLP tower);
* ``"predict"`` — the ``weight`` of the output ``nn.Linear`` named ``predict``.

Unstructured pruning keeps the shapes: it saves nothing until a sparse format or kernel
uses the zeros. *Structured* pruning here (:func:`shrink_mlp`, :func:`shrink_embedding_dim`)
physically removes neurons and embedding dimensions and builds a smaller model of the same
class; :func:`structured_mask_model` expresses the same choice as masks so that the two can
be compared output for output. :func:`prune_embedding_rows` zeroes whole users or items.

Tie rule (as in :mod:`prunerec.masks`): when candidates share the boundary score, the one
with the lower index is pruned first.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.utils.prune as prune
from numpy.typing import ArrayLike, NDArray
from torch import nn

from prunerec.masks import SparsityReport, SparsityStats, pruned_count
from prunerec.models import GMF, MF, MLP, NeuMF, named_effective_parameters
from prunerec.schedules import cubic

__all__ = [
    "GROUPS",
    "prunable_parameters",
    "pruned_count_of",
    "global_magnitude_prune",
    "prune_to_sparsity",
    "random_prune",
    "make_permanent",
    "sparsity",
    "GradualPruner",
    "shrink_structured",
    "shrink_mlp",
    "shrink_embedding_dim",
    "structured_mask_model",
    "prune_embedding_rows",
]

#: The parameter groups that ``which`` can name.
GROUPS = ("embeddings", "mlp", "predict")

Params = list[tuple[nn.Module, str]]

# --------------------------------------------------------------------------- validation


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _check_which(which: str | Sequence[str]) -> tuple[str, ...]:
    groups = (which,) if isinstance(which, str) else which
    if not isinstance(groups, Sequence) or len(groups) == 0:
        raise ValueError(f"which must name at least one of {GROUPS}, got {which!r}")
    for g in groups:
        if g not in GROUPS:
            raise ValueError(f"which contains {g!r}; valid groups: {', '.join(GROUPS)}")
    return tuple(groups)


def _check_fraction(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float in [0, 1], got {type(value).__name__}")
    v = float(value)
    if not 0.0 <= v <= 1.0:  # also rejects NaN
        raise ValueError(f"{name}={value!r} must lie in [0, 1]")
    return v


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_norm(norm: object) -> int:
    if isinstance(norm, bool) or norm not in (1, 2):
        raise ValueError(f"norm must be 1 (L1) or 2 (L2), got {norm!r}")
    return int(norm)


# --------------------------------------------------------------------------- groups


def prunable_parameters(
    model: nn.Module, which: str | Sequence[str] = ("embeddings", "mlp")
) -> Params:
    """The ``(module, "weight")`` pairs of the chosen groups, in module order.

    Parameters
    ----------
    model : any module; the groups are found by type (``nn.Embedding``, ``nn.Linear``) and
        by the name ``predict`` of the output layer.
    which : a group name or several, from :data:`GROUPS`.

    Returns
    -------
    list of ``(module, "weight")``, the form ``prune.global_unstructured`` takes.

    Examples
    --------
    >>> from prunerec.models import NeuMF
    >>> m = NeuMF(10, 20, gmf_dim=4, mlp_dim=4, layers=(8, 4))
    >>> len(prunable_parameters(m)), len(prunable_parameters(m, "predict"))
    (6, 1)
    """
    _check_model(model)
    groups = _check_which(which)
    params: Params = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Embedding):
            group = "embeddings"
        elif isinstance(module, nn.Linear):
            group = "predict" if name.rsplit(".", 1)[-1] == "predict" else "mlp"
        else:
            continue
        if group in groups:
            params.append((module, "weight"))
    if not params:
        raise ValueError(f"{type(model).__name__} has no weights in the group(s) {groups}")
    return params


def _size(params: Params) -> int:
    return sum(getattr(m, n).numel() for m, n in params)


def pruned_count_of(params: Params) -> int:
    """Number of entries already masked out (mask 0) among ``params``.

    Examples
    --------
    >>> lin = prune.l1_unstructured(nn.Linear(4, 2), "weight", amount=3)
    >>> pruned_count_of([(lin, "weight")])
    3
    """
    total = 0
    for module, name in params:
        mask = getattr(module, name + "_mask", None)
        if mask is not None:
            total += int((mask == 0).sum())
    return total


# --------------------------------------------------------------------------- unstructured


def global_magnitude_prune(
    model: nn.Module, amount: float | int, which: str | Sequence[str] = ("embeddings", "mlp")
) -> nn.Module:
    """Global magnitude pruning: one |w| ranking over all weights of the chosen groups.

    Calls ``prune.global_unstructured(..., pruning_method=prune.L1Unstructured)``. As in
    torch, ``amount`` applies to the weights *still unpruned*: on a dense model
    ``amount=0.9`` gives 90% sparsity over the chosen weights; applying it twice gives 99%.
    Use :func:`prune_to_sparsity` for an absolute target. Layers of small scale (the
    embeddings, ~0.01 at init) can lose far more than ``amount``.

    Parameters
    ----------
    model : the model, pruned in place.
    amount : fraction in [0, 1] or int count of the remaining weights.
    which : the groups to prune (see the module docstring).

    Returns
    -------
    The same ``model``.

    Examples
    --------
    >>> from prunerec.models import NeuMF
    >>> m = global_magnitude_prune(NeuMF(10, 20, 4, 4, (8, 4)), 0.5)
    >>> sparsity(m, which=("embeddings", "mlp")).overall.sparsity
    0.5
    """
    params = prunable_parameters(model, which)
    pruned_count(amount, _size(params) - pruned_count_of(params))  # validates amount
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)
    return model


def prune_to_sparsity(
    model: nn.Module, target: float, which: str | Sequence[str] = ("embeddings", "mlp")
) -> nn.Module:
    """Global magnitude pruning up to an *absolute* sparsity over the chosen weights.

    Because torch's masks compose, the increment is passed as a count: with ``n`` weights of
    which ``p`` are already masked, ``round(target * n) - p`` more are pruned among the
    unpruned ones. A target below the current sparsity changes nothing (masks never grow
    back).

    Parameters
    ----------
    model : the model, pruned in place.
    target : the sparsity to reach, in [0, 1].
    which : the groups to prune.

    Returns
    -------
    The same ``model``.

    Examples
    --------
    >>> from prunerec.models import MLP
    >>> m = MLP(10, 20, 4, (8, 4))
    >>> for s in (0.3, 0.6, 0.9):
    ...     _ = prune_to_sparsity(m, s)
    >>> r = sparsity(m, which=("embeddings", "mlp")).overall
    >>> r.zeros, r.size, round(0.9 * r.size)
    (194, 216, 194)
    """
    target = _check_fraction(target, "target")
    params = prunable_parameters(model, which)
    extra = round(target * _size(params)) - pruned_count_of(params)
    if extra > 0:
        prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=extra)
    return model


def random_prune(
    model: nn.Module,
    amount: float | int,
    which: str | Sequence[str] = ("embeddings", "mlp"),
    *,
    seed: int,
) -> nn.Module:
    """Random pruning, the baseline: ``amount`` of the chosen weights, uniformly at random.

    *Global*: ``prune.global_unstructured(..., pruning_method=prune.RandomUnstructured)``
    removes exactly ``k`` weights drawn uniformly among all unpruned weights of the
    groups, so each layer loses about (not exactly) the fraction ``amount``. The draw uses
    ``seed`` inside ``torch.random.fork_rng``: the global random state is left untouched.

    Parameters
    ----------
    model : the model, pruned in place.
    amount : fraction in [0, 1] or int count of the remaining weights.
    which : the groups to prune.
    seed : the seed of the draw (required, for reproducibility).

    Returns
    -------
    The same ``model``.

    Examples
    --------
    >>> from prunerec.models import GMF
    >>> m = random_prune(GMF(10, 20, 4), 0.25, "embeddings", seed=0)
    >>> sparsity(m, which="embeddings").overall.zeros
    30
    """
    seed = _check_int(seed, "seed", 0)
    params = prunable_parameters(model, which)
    pruned_count(amount, _size(params) - pruned_count_of(params))  # validates amount
    cuda = sorted(
        {getattr(m, n).device.index or 0 for m, n in params if getattr(m, n).device.type == "cuda"}
    )
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        prune.global_unstructured(params, pruning_method=prune.RandomUnstructured, amount=amount)
    return model


def make_permanent(model: nn.Module) -> nn.Module:
    """Bake every mask into its parameter with ``prune.remove``.

    Afterwards each pruned ``weight`` is a plain parameter with zeros where the mask was 0,
    and the ``*_orig`` parameters, ``*_mask`` buffers and hooks are gone. Zeros are then
    ordinary values: fine-tuning can make them non-zero again.

    Returns
    -------
    The same ``model``.

    Examples
    --------
    >>> lin = prune.l1_unstructured(nn.Linear(4, 2), "weight", amount=3)
    >>> sorted(make_permanent(lin).state_dict())
    ['bias', 'weight']
    """
    _check_model(model)
    for module in model.modules():
        masked = [
            b[: -len("_mask")]
            for b, _ in module.named_buffers(recurse=False)
            if b.endswith("_mask")
        ]
        for name in masked:
            if hasattr(module, name + "_orig"):
                prune.remove(module, name)
    return model


def sparsity(model: nn.Module, which: str | Sequence[str] | None = None) -> SparsityReport:
    """Zeros in the effective parameters (masks applied), per parameter and overall.

    Parameters
    ----------
    model : any module, pruned or not.
    which : ``None`` for every parameter (biases included), or groups (their weights only).

    Returns
    -------
    :class:`prunerec.masks.SparsityReport` (print it for a table).

    Examples
    --------
    >>> lin = prune.l1_unstructured(nn.Linear(4, 2), "weight", amount=3)
    >>> r = sparsity(lin)
    >>> [(s.name, s.zeros) for s in r.per_array if s.name == "weight"]
    [('weight', 3)]
    """
    _check_model(model)
    if which is None:
        named = list(named_effective_parameters(model))
    else:
        prefix = {id(m): f"{n}." if n else "" for n, m in model.named_modules()}
        named = [(prefix[id(m)] + p, getattr(m, p)) for m, p in prunable_parameters(model, which)]
    if not named:
        raise ValueError("model has no parameters")
    stats = tuple(
        SparsityStats(name, t.numel(), t.numel() - int(torch.count_nonzero(t))) for name, t in named
    )
    overall = SparsityStats("overall", sum(s.size for s in stats), sum(s.zeros for s in stats))
    return SparsityReport(stats, overall)


# --------------------------------------------------------------------------- gradual


class GradualPruner:
    """Gradual magnitude pruning (Zhu & Gupta 2017) as a :func:`prunerec.training.train` callback.

    At every update step ``t = begin_step, begin_step + frequency, ..., end_step`` the chosen
    weights are globally magnitude-pruned up to the cubic target
    ``s_t = s_f + (s_i - s_f)(1 - (t - t0)/(end_step - t0))³``
    (:func:`prunerec.schedules.cubic`), so sparsity rises fast while the network is
    redundant and slowly near the end. Each increment is computed as a count
    (:func:`prune_to_sparsity`), so the *overall* sparsity equals the target, not the
    compounded amounts. After ``end_step`` the masks stay fixed while training continues.

    Parameters
    ----------
    model : the model being trained (pruned in place).
    final_sparsity : ``s_f`` in [0, 1).
    begin_step, end_step : ``t0`` and the step ``t0 + nΔt`` at which ``s_f`` is reached,
        ``0 <= begin_step <= end_step``. Steps count optimiser steps from 1.
    frequency : ``Δt``, steps between two updates, ``>= 1``, dividing ``end_step - begin_step``.
    which : the groups to prune.
    initial_sparsity : ``s_i`` in [0, final_sparsity] (0 in the paper).

    Attributes
    ----------
    history : list of ``(step, target, achieved)`` for every update.

    Examples
    --------
    >>> from prunerec.models import MLP
    >>> m = MLP(10, 20, 4, (8, 4))
    >>> pruner = GradualPruner(m, 0.8, begin_step=0, end_step=10, frequency=5)
    >>> for step in range(1, 13):
    ...     pruner(m, 1, step)
    >>> [(t, round(s, 3)) for t, s, _ in pruner.history]
    [(5, 0.7), (10, 0.8)]
    """

    def __init__(
        self,
        model: nn.Module,
        final_sparsity: float,
        begin_step: int,
        end_step: int,
        frequency: int,
        which: str | Sequence[str] = ("embeddings", "mlp"),
        initial_sparsity: float = 0.0,
    ) -> None:
        self.model = _check_model(model)
        self.final_sparsity = final_sparsity
        self.initial_sparsity = initial_sparsity
        self.begin_step = _check_int(begin_step, "begin_step", 0)
        self.end_step = _check_int(end_step, "end_step", 0)
        self.frequency = _check_int(frequency, "frequency", 1)
        self.which = _check_which(which)
        self.target(self.begin_step)  # lets schedules.cubic validate the schedule now
        prunable_parameters(model, self.which)  # fails early if the groups are empty
        self.history: list[tuple[int, float, float]] = []

    def target(self, step: int) -> float:
        """The scheduled sparsity at ``step``: :func:`prunerec.schedules.cubic`."""
        return cubic(
            step,
            initial=self.initial_sparsity,
            final=self.final_sparsity,
            begin=self.begin_step,
            end=self.end_step,
            frequency=self.frequency,
        )

    def is_update_step(self, step: int) -> bool:
        """Whether the masks are updated at ``step``: ``t0 + jΔt <= end_step``."""
        return self.begin_step <= step <= self.end_step and (
            (step - self.begin_step) % self.frequency == 0
        )

    def __call__(self, model: nn.Module, epoch: int, step: int) -> None:
        if model is not self.model:
            raise ValueError("model is not the model this GradualPruner was built for")
        step = _check_int(step, "step", 0)
        if not self.is_update_step(step):
            return
        target = self.target(step)
        prune_to_sparsity(self.model, target, self.which)
        achieved = sparsity(self.model, self.which).overall.sparsity
        self.history.append((step, target, achieved))


# --------------------------------------------------------------------------- structured


@dataclass(frozen=True)
class _Tower:
    """One pair of embedding tables and the layer that reads their vectors.

    Dimension ``d`` of the tower is read by input columns ``offset + d`` of ``consumer``
    for each ``offset`` in ``offsets`` (GMF: one block, the product; MLP: user then item).
    """

    dim_key: str  # constructor argument holding the dimension
    user: str
    item: str
    consumer: str | None
    offsets: tuple[int, ...]


_SUPPORTED = (MF, GMF, MLP, NeuMF)


def _check_supported(model: object) -> nn.Module:
    if not isinstance(model, _SUPPORTED):
        names = ", ".join(c.__name__ for c in _SUPPORTED)
        raise TypeError(
            f"model must be one of {names} from prunerec.models, got {type(model).__name__}"
        )
    return model


def _towers(model: nn.Module) -> list[_Tower]:
    if isinstance(model, MF):
        return [_Tower("dim", "user_embedding", "item_embedding", None, ())]
    if isinstance(model, GMF):
        return [_Tower("dim", "user_embedding", "item_embedding", "predict", (0,))]
    if isinstance(model, MLP):
        return [_Tower("dim", "user_embedding", "item_embedding", "mlp.0", (0, model.dim))]
    return [
        _Tower("gmf_dim", "gmf_user_embedding", "gmf_item_embedding", "predict", (0,)),
        _Tower("mlp_dim", "mlp_user_embedding", "mlp_item_embedding", "mlp.0", (0, model.mlp_dim)),
    ]


def _hidden_layers(model: nn.Module) -> list[str]:
    """Names of the hidden Linear layers of the MLP tower (the last one feeds ``predict``)."""
    return [f"mlp.{i}" for i, m in enumerate(model.mlp) if isinstance(m, nn.Linear)]


def _keep(scores: torch.Tensor, amount: float | int, name: str, what: str) -> torch.Tensor:
    """Sorted indices kept after pruning ``amount`` of the lowest ``scores`` (ties: lower index
    pruned first)."""
    n = scores.numel()
    k = pruned_count(amount, n, name)
    if k == n:
        raise ValueError(f"{name}={amount!r} would remove all {n} {what}; keep at least one")
    order = torch.argsort(scores, stable=True)
    return torch.sort(order[k:]).values


@dataclass
class _Plan:
    config: dict[str, object]
    emb_cols: dict[str, torch.Tensor]  # embedding name -> kept columns
    rows: dict[str, torch.Tensor]  # linear name -> kept output rows
    cols: dict[str, torch.Tensor]  # linear name -> kept input columns


def _plan(model: nn.Module, mlp_amount: float | int, dim_amount: float | int, norm: int) -> _Plan:
    """Decide, from the current effective weights, which dims and neurons survive."""
    mods = dict(model.named_modules())
    config = dict(model.config())
    emb_cols: dict[str, torch.Tensor] = {}
    rows: dict[str, torch.Tensor] = {}
    col_keep: dict[str, torch.Tensor] = {}  # linear name -> bool over its input columns

    def drop_block(layer: str, offset: int, width: int, kept: torch.Tensor) -> None:
        """Keep only ``offset + kept`` among the input columns ``[offset, offset + width)``."""
        weight = mods[layer].weight
        keep = col_keep.setdefault(
            layer, torch.ones(weight.shape[1], dtype=torch.bool, device=weight.device)
        )
        block = torch.zeros(width, dtype=torch.bool, device=weight.device)
        block[kept] = True
        keep[offset : offset + width] &= block

    if dim_amount != 0:
        for tower in _towers(model):
            u, i = mods[tower.user].weight.detach(), mods[tower.item].weight.detach()
            scores = torch.linalg.vector_norm(torch.cat([u, i], dim=0), ord=norm, dim=0)
            kept = _keep(scores, dim_amount, "dim_amount", f"dimensions of {tower.user}")
            emb_cols[tower.user] = emb_cols[tower.item] = kept
            config[tower.dim_key] = kept.numel()
            for offset in tower.offsets:
                drop_block(tower.consumer, offset, u.shape[1], kept)

    if mlp_amount != 0:
        if not isinstance(model, MLP | NeuMF):
            raise TypeError(f"{type(model).__name__} has no MLP tower: mlp_amount must be 0")
        hidden = _hidden_layers(model)
        widths = []
        for layer, nxt in zip(hidden, [*hidden[1:], "predict"], strict=True):
            w = mods[layer].weight.detach()
            scores = torch.linalg.vector_norm(w, ord=norm, dim=1)  # incoming weights (rows)
            kept = _keep(scores, mlp_amount, "mlp_amount", f"neurons of {layer}")
            rows[layer] = kept
            widths.append(kept.numel())
            offset = model.gmf_dim if (nxt == "predict" and isinstance(model, NeuMF)) else 0
            drop_block(nxt, offset, w.shape[0], kept)
        config["layers"] = tuple(widths)

    cols = {name: torch.nonzero(keep).squeeze(1) for name, keep in col_keep.items()}
    return _Plan(config, emb_cols, rows, cols)


def _check_amounts(mlp_amount: float | int, dim_amount: float | int) -> None:
    for name, value in (("mlp_amount", mlp_amount), ("dim_amount", dim_amount)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a float in [0, 1] or an int count, got {value!r}")


def shrink_structured(
    model: nn.Module,
    *,
    mlp_amount: float | int = 0.0,
    dim_amount: float | int = 0.0,
    norm: int = 2,
) -> nn.Module:
    """A new, physically smaller model: MLP neurons and embedding dimensions removed.

    * **Neurons** (``mlp_amount``, MLP and NeuMF): in every hidden layer of the MLP tower,
      the neurons whose *incoming* weights (their row of the layer's weight, bias not
      counted) have the smallest L``norm`` norm are removed: their rows and bias entries
      go, and so do the matching input columns of the next layer (``predict`` after the
      last hidden layer). Every layer keeps ``width - k`` neurons, ``k`` from ``amount``.
    * **Embedding dimensions** (``dim_amount``): in each tower, dimension ``d`` is scored by
      the L``norm`` norm of column ``d`` of the user *and* item tables together, and the
      lowest are removed from both tables and from the layer reading them (GMF:
      ``predict``'s input columns; MLP: the user and the item block of ``mlp.0``'s input).
      NeuMF's two towers are shrunk separately, each by ``dim_amount``.

    All choices are made from the original (effective, i.e. masked) weights. The new model
    has the same class, device and dtype and computes exactly what
    :func:`structured_mask_model` with the same arguments computes; the original model is
    not changed. Biases of the MF model are kept.

    Parameters
    ----------
    model : an MF, GMF, MLP or NeuMF.
    mlp_amount : fraction in [0, 1) or int count of neurons removed *per hidden layer*.
    dim_amount : fraction in [0, 1) or int count of dimensions removed *per tower*.
    norm : 1 or 2, the norm ranking neurons and dimensions.

    Returns
    -------
    A new model of the same class with smaller ``layers`` / dims.

    Examples
    --------
    >>> from prunerec.models import NeuMF, count_parameters
    >>> m = NeuMF(10, 20, gmf_dim=8, mlp_dim=8, layers=(16, 8))
    >>> small = shrink_structured(m, mlp_amount=0.5, dim_amount=0.5)
    >>> small.gmf_dim, small.mlp_dim, small.layers
    (4, 4, (8, 4))
    >>> count_parameters(small) < count_parameters(m)
    True
    """
    _check_supported(model)
    _check_amounts(mlp_amount, dim_amount)
    norm = _check_norm(norm)
    plan = _plan(model, mlp_amount, dim_amount, norm)
    ref = next(model.parameters())
    new = type(model)(**plan.config, seed=None).to(device=ref.device, dtype=ref.dtype)
    old_mods = dict(model.named_modules())
    with torch.no_grad():
        for name, module in new.named_modules():
            old = old_mods[name]
            if isinstance(module, nn.Embedding):
                w = old.weight
                if name in plan.emb_cols:
                    w = w[:, plan.emb_cols[name]]
                module.weight.copy_(w)
            elif isinstance(module, nn.Linear):
                w = old.weight
                if name in plan.rows:
                    w = w[plan.rows[name]]
                if name in plan.cols:
                    w = w[:, plan.cols[name]]
                module.weight.copy_(w)
                if module.bias is not None:
                    b = old.bias
                    module.bias.copy_(b[plan.rows[name]] if name in plan.rows else b)
            else:
                for pname, p in module.named_parameters(recurse=False):
                    p.copy_(getattr(old, pname))
    new.train(model.training)
    return new


def shrink_mlp(model: nn.Module, amount: float | int, norm: int = 2) -> nn.Module:
    """Remove ``amount`` of the neurons of every hidden MLP layer, physically.

    Neurons are ranked by the L``norm`` norm of their *incoming* weights (rows of the
    layer's weight); see :func:`shrink_structured` for the details.

    Examples
    --------
    >>> from prunerec.models import MLP
    >>> shrink_mlp(MLP(10, 20, 4, layers=(8, 4)), 0.5).layers
    (4, 2)
    """
    return shrink_structured(model, mlp_amount=amount, norm=norm)


def shrink_embedding_dim(model: nn.Module, amount: float | int, norm: int = 2) -> nn.Module:
    """Remove ``amount`` of the embedding dimensions of every tower, physically.

    Dimensions are ranked by the L``norm`` norm of the user and item columns together;
    see :func:`shrink_structured` for the details.

    Examples
    --------
    >>> from prunerec.models import GMF
    >>> shrink_embedding_dim(GMF(10, 20, dim=8), 0.25).dim
    6
    """
    return shrink_structured(model, dim_amount=amount, norm=norm)


def _clone(model: nn.Module) -> nn.Module:
    """A copy of one of our models, existing pruning masks included.

    ``copy.deepcopy`` fails on a pruned model (its computed ``weight`` is not a graph leaf),
    so the copy is rebuilt: same class and config, ``*_orig`` values copied and each old
    mask re-applied with ``prune.custom_from_mask``.
    """
    ref = next(model.parameters())
    new = type(model)(**model.config(), seed=None).to(device=ref.device, dtype=ref.dtype)
    new_mods = dict(new.named_modules())
    with torch.no_grad():
        for name, old in model.named_modules():
            buffers = dict(old.named_buffers(recurse=False))
            for pname, p in old.named_parameters(recurse=False):
                base = pname.removesuffix("_orig")
                if pname.endswith("_orig") and f"{base}_mask" in buffers:
                    getattr(new_mods[name], base).copy_(p)
                    prune.custom_from_mask(new_mods[name], base, buffers[f"{base}_mask"].clone())
                else:
                    getattr(new_mods[name], pname).copy_(p)
    new.train(model.training)
    return new


def structured_mask_model(
    model: nn.Module,
    *,
    mlp_amount: float | int = 0.0,
    dim_amount: float | int = 0.0,
    norm: int = 2,
) -> nn.Module:
    """The pruning of :func:`shrink_structured` expressed as masks: a copy, shapes unchanged.

    The removed rows, bias entries, columns and embedding columns get mask 0 through
    ``prune.custom_from_mask`` (biases of removed neurons included, so a removed neuron
    outputs ``ReLU(0) = 0``). Same scores as the shrunk model, with every parameter still
    stored: what a learner would get from ``prune.ln_structured`` before physical removal.

    Returns
    -------
    A copy of ``model`` (its own masks, if any, kept) with the structured masks added; the
    original is not changed.

    Examples
    --------
    >>> from prunerec.models import MLP
    >>> m = MLP(10, 20, 4, layers=(8, 4))
    >>> users, items = torch.arange(10), torch.arange(10)
    >>> torch.allclose(structured_mask_model(m, mlp_amount=0.5)(users, items),
    ...                shrink_mlp(m, 0.5)(users, items), atol=1e-6)
    True
    """
    _check_supported(model)
    _check_amounts(mlp_amount, dim_amount)
    norm = _check_norm(norm)
    plan = _plan(model, mlp_amount, dim_amount, norm)
    masked = _clone(model)
    mods = dict(masked.named_modules())

    def keep_vector(n: int, kept: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        v = torch.zeros(n, dtype=like.dtype, device=like.device)
        if kept is None:
            return v + 1
        v[kept] = 1
        return v

    for name, kept in plan.emb_cols.items():
        w = mods[name].weight
        prune.custom_from_mask(mods[name], "weight", keep_vector(w.shape[1], kept, w).expand_as(w))
    for name in sorted(set(plan.rows) | set(plan.cols)):
        module = mods[name]
        w = module.weight
        r = keep_vector(w.shape[0], plan.rows.get(name), w)
        c = keep_vector(w.shape[1], plan.cols.get(name), w)
        prune.custom_from_mask(module, "weight", torch.outer(r, c))
        if name in plan.rows and module.bias is not None:
            prune.custom_from_mask(module, "bias", r)
    return masked


# --------------------------------------------------------------------------- rows


def prune_embedding_rows(
    model: nn.Module,
    amount: float | int,
    by: str = "frequency",
    counts: ArrayLike | None = None,
    side: str = "item",
) -> NDArray[np.int64]:
    """Zero whole rows of the item (or user) embedding tables: drop items from the model.

    Rows are ranked over all the side's tables together (NeuMF: the GMF *and* the MLP
    table, which lose the same rows):

    * ``by="frequency"`` — the rows with the fewest training interactions (``counts``,
      e.g. ``np.bincount(split.train_items, minlength=split.n_items)``) go first: the tail;
    * ``by="norm"`` — the rows with the smallest L2 norm (all the side's tables
      concatenated) go first.

    Ties: the lower index is pruned first. The rows get mask 0 via
    ``prune.custom_from_mask`` on the ``weight`` of each table (they stay zero while
    fine-tuning; :func:`make_permanent` bakes them in).

    What the model then does with a pruned item ``i`` (its embeddings are exactly 0):
    MF scores ``b_u + b_i + b`` (biases are kept); GMF's product is 0, so GMF scores
    ``predict.bias`` for every user; the MLP tower sees a zero item half, so its score
    depends on the user only; NeuMF combines both. The item can still be ranked, but
    no longer personally: every user sees the same item-side signal.

    Parameters
    ----------
    model : an MF, GMF, MLP or NeuMF, pruned in place.
    amount : fraction in [0, 1] or int count of rows.
    by : ``"frequency"`` or ``"norm"``.
    counts : interactions per row (length ``n_items`` or ``n_users``), finite and ``>= 0``;
        required for ``by="frequency"``, not allowed for ``by="norm"``.
    side : ``"item"`` or ``"user"``.

    Returns
    -------
    int64 array of the pruned row indices, sorted.

    Examples
    --------
    >>> from prunerec.models import GMF
    >>> m = GMF(3, 5, dim=2)
    >>> prune_embedding_rows(m, 2, by="frequency", counts=[9, 0, 4, 1, 7])
    array([1, 3])
    >>> m.item_embedding.weight[[1, 3]].abs().sum().item()
    0.0
    """
    _check_supported(model)
    if by not in ("frequency", "norm"):
        raise ValueError(f"by must be 'frequency' or 'norm', got {by!r}")
    if side not in ("item", "user"):
        raise ValueError(f"side must be 'item' or 'user', got {side!r}")
    mods = dict(model.named_modules())
    tables = [mods[t.item if side == "item" else t.user] for t in _towers(model)]
    n = tables[0].weight.shape[0]
    device = tables[0].weight.device
    if by == "frequency":
        if counts is None:
            raise ValueError("counts is required for by='frequency' (interactions per row)")
        c = np.asarray(counts)
        if c.shape != (n,):
            raise ValueError(f"counts must have shape ({n},) (one per {side}), got {c.shape}")
        if c.dtype == bool or not np.issubdtype(c.dtype, np.number):
            raise TypeError(f"counts must be numeric, got dtype {c.dtype}")
        if not np.isfinite(c).all() or (c < 0).any():
            raise ValueError("counts must be finite and >= 0")
        scores = torch.as_tensor(c.astype(np.float64), device=device)
    else:
        if counts is not None:
            raise ValueError("counts is only used with by='frequency'; leave it None for 'norm'")
        weights = torch.cat([t.weight.detach() for t in tables], dim=1)
        scores = torch.linalg.vector_norm(weights.double(), ord=2, dim=1)
    k = pruned_count(amount, n)
    pruned = torch.sort(torch.argsort(scores, stable=True)[:k]).values
    for table in tables:
        w = table.weight
        keep = torch.ones(n, dtype=w.dtype, device=w.device)
        keep[pruned] = 0
        prune.custom_from_mask(table, "weight", keep[:, None].expand_as(w))
    return pruned.cpu().numpy()
