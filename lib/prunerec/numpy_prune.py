"""A pruner in NumPy that works the way ``torch.nn.utils.prune`` does.

The mechanism
-------------
Pruning a parameter ``w`` does not overwrite it. Like torch, the pruner keeps

* ``w_orig`` -- the original array, which stays the *trainable* one (an optimiser
  built before pruning keeps updating it, as torch's optimiser keeps updating
  ``weight_orig``),
* ``w_mask`` -- a boolean array, ``True`` = keep,

and the weight the forward pass reads becomes a third array, recomputed as
``w = w_orig * w_mask`` before **every** forward by a forward pre-hook
(:func:`apply_masks`). Gradients reach ``w_orig`` multiplied by the mask (chain
rule), so the pruned entries of ``w`` stay exactly 0 during fine-tuning. As in torch,
``w`` is stale between an optimiser step and the next forward; the functions of
this module recompute it before reading it, and so does
:func:`~prunerec.numpy_nn.train_epoch` at the end of an epoch.
:func:`remove` makes the pruning permanent: ``w = w_orig * w_mask`` becomes the
parameter again and ``w_orig``, ``w_mask`` are dropped.

The state lives on the model, under torch's names: ``model.pruning`` holds
``"mlp.0.weight_orig"`` and ``"mlp.0.weight_mask"``; ``model.weights()`` holds the
recomputed ``"mlp.0.weight"``; ``model.parameters()`` returns ``weight_orig`` under
the name ``"mlp.0.weight"`` (the one difference from torch: the name stays, so an
optimiser's state carries over).

Composition: a second prune acts on the survivors
-------------------------------------------------
Every ``*_prune`` function computes its mask from the *currently effective* weights
and combines it with the existing mask (new mask = old mask AND the new
decision), as torch's ``PruningContainer`` does. ``amount`` (a fraction or an
integer count, as in :mod:`prunerec.masks`) counts the candidates that are **still
alive**:

* unstructured (:func:`magnitude_prune`, :func:`random_prune`,
  :func:`global_magnitude_prune`): the surviving weights. So ``amount=0.5`` twice
  on 100 weights prunes 50, then 25 of the remaining 50: sparsity 75 %, not 100 %
  (``torch.nn.utils.prune.l1_unstructured`` twice does the same);
* structured (:func:`structured_prune`): the slices along ``axis`` that are not
  already entirely pruned.

Masks come from :mod:`prunerec.masks` (its exact-count tie rule applies: among
equal magnitudes, the first in row-major order is pruned first).

Memory
------
A pruned float64 parameter of ``n`` entries holds ``w_orig`` (8n bytes) + ``w_mask``
(n bytes, bool) + ``w`` (8n bytes): 2.1x the dense size (torch, whose mask has the
weight's dtype, holds 3x). :func:`remove` brings it back to 8n bytes, zeros
included: making pruning permanent does not make a dense array smaller; only a
sparse format or physically removing rows/columns does. See :func:`state_bytes`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from tqdm.auto import tqdm

from prunerec.env import progress_disabled
from prunerec.masks import (
    SparsityReport,
    _check_axis,
    _check_mask,
    global_magnitude_masks,
    magnitude_mask,
    pruned_count,
    random_mask,
    sparsity_report,
    structure_norms,
    structured_mask,
)
from prunerec.numpy_nn import Layer, Model

__all__ = [
    "prune",
    "magnitude_prune",
    "random_prune",
    "global_magnitude_prune",
    "structured_prune",
    "apply_masks",
    "remove",
    "is_pruned",
    "masks",
    "sparsity_table",
    "state_arrays",
    "state_bytes",
    "snapshot",
    "rewind",
    "reinitialize",
    "sensitivity_scan",
]

HOOK = "prunerec.numpy_prune"  # key of the forward pre-hook in model.forward_pre_hooks

# --------------------------------------------------------------------------- helpers


def _check_model(model: Model) -> Model:
    if not isinstance(model, Model):
        raise TypeError(f"model must be a prunerec.numpy_nn.Model, got {type(model).__name__}")
    return model


def _locate(model: Model, name: str) -> tuple[Layer, str]:
    """The layer and key of parameter ``name``: ``"mlp.0.weight"`` -> (layer ``mlp.0``, ``weight``)."""
    _check_model(model)
    if not isinstance(name, str):
        raise TypeError(f"name must be a str like 'mlp.0.weight', got {type(name).__name__}")
    layer_name, _, key = name.rpartition(".")
    layer = model.layers.get(layer_name)
    if layer is None or key not in layer.params:
        raise ValueError(
            f"name={name!r} is not a parameter of the model; known: {list(model.weights())}"
        )
    return layer, key


def _check_names(model: Model, names: Sequence[str]) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"names must be a list of parameter names, got {type(names).__name__}")
    if not names:
        raise ValueError("names is empty: give at least one parameter name")
    if len(set(names)) != len(names):
        raise ValueError(f"names has duplicates: {list(names)}")
    for n in names:
        _locate(model, n)
    return list(names)


def _current(model: Model, name: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The effective weight of ``name`` and its current keep-mask (all True if not pruned)."""
    layer, key = _locate(model, name)
    apply_masks(model)  # orig may have been trained since the last forward
    w = layer.params[key]
    keep = model.pruning.get(name + "_mask")
    return w, (np.ones(w.shape, dtype=bool) if keep is None else keep)


def _within(keep: NDArray[np.bool_], amount: float | int, select: Callable) -> NDArray[np.bool_]:
    """Run ``select(n_alive) -> 1-D keep-mask of the survivors`` and put it back in place."""
    n_alive = int(keep.sum())
    if n_alive == 0:  # everything is pruned already: only check that amount makes sense
        pruned_count(amount, 0)
        return keep.copy()
    new = keep.copy()
    new[keep] = select(n_alive)
    return new


def _set_mask(model: Model, name: str, keep: NDArray[np.bool_]) -> None:
    """Combine ``keep`` with ``name``'s mask, reparametrising ``name`` on its first prune."""
    layer, key = _locate(model, name)
    old = model.pruning.get(name + "_mask")
    if old is None:
        orig = layer.params[key]  # the trainable array itself: it becomes name_orig
        model.pruning[name + "_orig"] = orig
        layer.params[key] = np.empty_like(orig)  # the effective weight, from now on recomputed
        model.pruning[name + "_mask"] = keep.copy()
    else:
        model.pruning[name + "_mask"] = old & keep
    model.forward_pre_hooks[HOOK] = apply_masks
    apply_masks(model)


def _unprune(model: Model, name: str) -> None:
    """Undo the reparametrisation *without* applying the mask (restores the original values)."""
    layer, key = _locate(model, name)
    layer.params[key] = model.pruning.pop(name + "_orig")
    del model.pruning[name + "_mask"]
    if not is_pruned(model):
        model.forward_pre_hooks.pop(HOOK, None)


def _fresh_weights(model: Model) -> dict[str, NDArray[np.float64]]:
    """``model.weights()`` after recomputing ``orig * mask`` (an optimiser step since the
    last forward leaves them stale, in torch as here)."""
    apply_masks(_check_model(model))
    return model.weights()


def _pruned_names(model: Model) -> list[str]:
    return [k[: -len("_mask")] for k in model.pruning if k.endswith("_mask")]


# --------------------------------------------------------------------------- pruning


def prune(model: Model, name: str, mask: ArrayLike) -> None:
    """Prune parameter ``name`` with a given mask (torch: ``prune.custom_from_mask``).

    Parameters
    ----------
    model : a :class:`prunerec.numpy_nn.Model`.
    name : parameter name, e.g. ``"mlp.0.weight"``.
    mask : bool (or 0/1) array of the parameter's shape, ``True`` = keep. It is
        combined with any existing mask (AND).

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(2, 3, dim=2)
    >>> prune(mf, "user_embedding.weight", [[True, False], [True, True]])
    >>> sorted(mf.pruning), float(mf.weights()["user_embedding.weight"][0, 1])
    (['user_embedding.weight_mask', 'user_embedding.weight_orig'], 0.0)
    """
    w, _ = _current(model, name)
    _set_mask(model, name, _check_mask(mask, w.shape, name="mask"))


def magnitude_prune(model: Model, name: str, amount: float | int) -> None:
    """Prune the ``amount`` smallest-magnitude surviving weights of ``name``
    (torch: ``prune.l1_unstructured``).

    Parameters
    ----------
    model : the model.
    name : parameter name.
    amount : fraction in [0, 1] of the *surviving* weights, or their count.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(10, 10, dim=10)
    >>> magnitude_prune(mf, "item_embedding.weight", 0.5)
    >>> magnitude_prune(mf, "item_embedding.weight", 0.5)   # half of the remaining half
    >>> int((mf.weights()["item_embedding.weight"] == 0).sum())
    75
    """
    w, keep = _current(model, name)
    _set_mask(model, name, _within(keep, amount, lambda n: magnitude_mask(w[keep], amount)))


def random_prune(
    model: Model, name: str, amount: float | int, rng: np.random.Generator | int | None
) -> None:
    """Prune ``amount`` of the surviving weights of ``name`` chosen uniformly at random
    (torch: ``prune.random_unstructured``): the baseline a criterion must beat.

    Parameters
    ----------
    model, name : the model and the parameter name.
    amount : fraction in [0, 1] of the surviving weights, or their count.
    rng : numpy Generator or seed.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(10, 10, dim=10)
    >>> random_prune(mf, "user_embedding.weight", 30, rng=0)
    >>> int((~masks(mf)["user_embedding.weight"]).sum())
    30
    """
    _, keep = _current(model, name)
    _set_mask(model, name, _within(keep, amount, lambda n: random_mask(n, amount, rng)))


def global_magnitude_prune(model: Model, names: Sequence[str], amount: float | int) -> None:
    """Prune the ``amount`` smallest-magnitude surviving weights among several parameters
    ranked together (torch: ``prune.global_unstructured`` with ``L1Unstructured``).

    Every listed parameter becomes pruned (with an all-True mask if it lost nothing),
    as in torch. A parameter of small scale can lose far more than ``amount``.

    Parameters
    ----------
    model : the model.
    names : list of parameter names.
    amount : fraction in [0, 1] of all their surviving weights, or a count.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyNeuMF
    >>> m = NumpyNeuMF(5, 5, gmf_dim=2, mlp_dims=(4, 2))
    >>> global_magnitude_prune(m, ["mlp.0.weight", "predict.weight"], 4)
    >>> sparsity_table(m, ["mlp.0.weight", "predict.weight"]).overall.zeros
    4
    """
    names = _check_names(model, names)
    current = {n: _current(model, n) for n in names}
    alive = {n: w[keep] for n, (w, keep) in current.items() if keep.any()}
    if not alive:  # everything pruned already
        pruned_count(amount, 0)
        decisions = {}
    else:
        decisions = global_magnitude_masks(alive, amount)
    for n, (_, keep) in current.items():
        new = keep.copy()
        if n in decisions:
            new[keep] = decisions[n]
        _set_mask(model, n, new)


def structured_prune(
    model: Model, name: str, amount: float | int, axis: int = 0, norm: str = "l2"
) -> None:
    """Prune whole slices of ``name`` along ``axis`` with the smallest L1/L2 norm
    (torch: ``prune.ln_structured`` with ``dim=axis``, ``n=1 or 2``).

    For a Linear weight ``(out, in)``: ``axis=0`` prunes output neurons (rows),
    ``axis=1`` input features. For an embedding table ``(rows, dim)``: ``axis=0``
    prunes ids, ``axis=1`` embedding dimensions. Norms are taken on the effective
    weights; slices already entirely pruned are not candidates again.

    Parameters
    ----------
    model, name : the model and the parameter name (a 2-D parameter).
    amount : fraction in [0, 1] of the surviving slices, or their count.
    axis : the axis indexing the slices.
    norm : ``"l1"`` or ``"l2"``.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyNeuMF
    >>> m = NumpyNeuMF(5, 5, gmf_dim=2, mlp_dims=(8, 4))
    >>> structured_prune(m, "mlp.0.weight", 2, axis=0)
    >>> int((m.weights()["mlp.0.weight"] == 0).all(axis=1).sum())   # 2 of 4 neurons
    2
    """
    w, keep = _current(model, name)
    if w.ndim < 2:
        raise ValueError(f"name={name!r} has shape {w.shape}: structured pruning needs ndim >= 2")
    structure_norms(w, axis=axis, norm=norm)  # validates axis and norm
    ax = _check_axis(axis, w.ndim)
    other = tuple(d for d in range(w.ndim) if d != ax)
    alive = keep.any(axis=other)  # slices not entirely pruned yet
    if not alive.any():
        pruned_count(amount, 0)
        slice_keep = alive
    else:
        sub = structured_mask(np.compress(alive, w, axis=ax), amount, axis=ax, norm=norm)
        slice_keep = alive.copy()
        slice_keep[alive] = sub.any(axis=other)
    shape = [1] * w.ndim
    shape[ax] = -1
    _set_mask(model, name, keep & slice_keep.reshape(shape))


# --------------------------------------------------------------------------- mechanism


def apply_masks(model: Model) -> None:
    """Recompute every pruned weight as ``orig * mask`` (in place).

    Registered as the model's forward pre-hook, so it runs before every forward;
    call it yourself after changing an ``_orig`` or ``_mask`` array by hand.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(2, 2, dim=1)
    >>> prune(mf, "item_bias.weight", [[True], [False]])
    >>> mf.pruning["item_bias.weight_orig"][:] = 7.0
    >>> apply_masks(mf); mf.weights()["item_bias.weight"].ravel()
    array([7., 0.])
    """
    for name in _pruned_names(_check_model(model)):
        layer, key = _locate(model, name)
        orig, mask, w = (
            model.pruning[name + "_orig"],
            model.pruning[name + "_mask"],
            layer.params[key],
        )
        # w = orig * mask, written so that pruned entries are +0.0 (orig * False gives -0.0
        # for a negative orig: equal to 0, but a different bit pattern)
        w.fill(0.0)
        np.copyto(w, orig, where=mask)


def remove(model: Model, name: str) -> None:
    """Make the pruning of ``name`` permanent (torch: ``prune.remove``).

    The parameter becomes ``orig * mask`` again, a plain dense array with zeros;
    ``name_orig`` and ``name_mask`` are dropped. The array is updated in place, so
    an optimiser that trained ``name_orig`` keeps training the same array (whose
    zeros are no longer protected: pass ``masks`` to ``step`` if they must stay 0).

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(4, 4, dim=4)
    >>> magnitude_prune(mf, "user_embedding.weight", 0.25); remove(mf, "user_embedding.weight")
    >>> is_pruned(mf), int((mf.weights()["user_embedding.weight"] == 0).sum())
    (False, 4)
    """
    layer, key = _locate(model, name)
    if not is_pruned(model, name):
        raise ValueError(f"name={name!r} is not pruned: there is nothing to make permanent")
    orig, mask = model.pruning[name + "_orig"], model.pruning[name + "_mask"]
    orig[~mask] = 0.0  # orig * mask, in place
    _unprune(model, name)  # orig (now with zeros) becomes the parameter again


def is_pruned(model: Model, name: str | None = None) -> bool:
    """Whether parameter ``name`` (or, with ``name=None``, any parameter) is pruned.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> is_pruned(NumpyMF(2, 2, dim=1))
    False
    """
    _check_model(model)
    if name is None:
        return bool(_pruned_names(model))
    _locate(model, name)
    return name + "_mask" in model.pruning


def masks(model: Model) -> dict[str, NDArray[np.bool_]]:
    """Copies of the masks of the pruned parameters, by name (``True`` = kept).

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(2, 2, dim=1)
    >>> prune(mf, "item_bias.weight", [[True], [False]]); masks(mf)
    {'item_bias.weight': array([[ True],
           [False]])}
    """
    return {n: model.pruning[n + "_mask"].copy() for n in _pruned_names(_check_model(model))}


def sparsity_table(model: Model, names: Sequence[str] | None = None) -> SparsityReport:
    """Exact zeros of the effective weights, per parameter and overall.

    Counts every zero, not only pruned ones: a bias initialised to 0 (``item_bias``
    of :class:`~prunerec.numpy_nn.NumpyMF`) counts as sparse until it is trained.
    Print the result for a table (``print(sparsity_table(model))``).

    Parameters
    ----------
    model : the model.
    names : parameter names to report (default: all).

    Returns
    -------
    :class:`prunerec.masks.SparsityReport`.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(4, 4, dim=4)
    >>> magnitude_prune(mf, "user_embedding.weight", 0.5)
    >>> sparsity_table(mf, ["user_embedding.weight"]).overall.sparsity
    0.5
    """
    weights = _fresh_weights(model)
    chosen = list(weights) if names is None else _check_names(model, names)
    return sparsity_report({n: weights[n] for n in chosen})


def state_arrays(model: Model) -> dict[str, NDArray]:
    """Every array the model holds: each weight, then its ``_orig`` and ``_mask`` if pruned.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(2, 2, dim=1)
    >>> magnitude_prune(mf, "user_embedding.weight", 0.5); list(state_arrays(mf))[:3]
    ['user_embedding.weight', 'user_embedding.weight_orig', 'user_embedding.weight_mask']
    """
    out = {}
    for name, w in _fresh_weights(model).items():
        out[name] = w
        for suffix in ("_orig", "_mask"):
            if name + suffix in model.pruning:
                out[name + suffix] = model.pruning[name + suffix]
    return out


def state_bytes(model: Model) -> int:
    """Bytes of every array the model holds (:func:`state_arrays`): weights, originals, masks.

    Pruning a float64 parameter of ``n`` entries adds ``8n`` (orig) + ``n`` (bool mask)
    bytes; :func:`remove` takes them back; the zeros still cost 8 bytes each.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(10, 10, dim=10)                  # 100 + 100 + 10 float64
    >>> dense = state_bytes(mf); magnitude_prune(mf, "user_embedding.weight", 0.9)
    >>> dense, state_bytes(mf) - dense                # + 800 (orig) + 100 (mask)
    (1680, 900)
    >>> remove(mf, "user_embedding.weight"); state_bytes(mf) == dense
    True
    """
    return sum(a.nbytes for a in state_arrays(model).values())


# --------------------------------------------------------------------------- reconstruct


def snapshot(model: Model) -> dict[str, NDArray[np.float64]]:
    """Copies of the effective weights, by name: save them early to :func:`rewind` to later.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> sorted(snapshot(NumpyMF(2, 2, dim=1)))
    ['item_bias.weight', 'item_embedding.weight', 'user_embedding.weight']
    """
    return {n: w.copy() for n, w in _fresh_weights(model).items()}


def rewind(model: Model, weights: Mapping[str, ArrayLike]) -> None:
    """Reset weights to saved values, keeping the current masks (lottery-ticket rewind).

    Every parameter in ``weights`` gets the saved values (into its trainable array,
    ``_orig`` if pruned); the masks then zero the pruned entries again. So the
    survivors restart from their early values and the pruned weights stay 0.
    Parameters not in ``weights`` are left as they are. Build a fresh optimiser
    afterwards: the old one's state belongs to the weights it trained.

    Parameters
    ----------
    model : the model.
    weights : dict name -> array of the parameter's shape, e.g. from :func:`snapshot`.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(3, 3, dim=2); early = snapshot(mf)
    >>> mf.parameters()["user_embedding.weight"] += 1.0            # "training"
    >>> magnitude_prune(mf, "user_embedding.weight", 0.5); rewind(mf, early)
    >>> w, keep = mf.weights()["user_embedding.weight"], masks(mf)["user_embedding.weight"]
    >>> bool((w[keep] == early["user_embedding.weight"][keep]).all()), bool((w[~keep] == 0).all())
    (True, True)
    """
    _check_model(model)
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights must be a dict name -> array, got {type(weights).__name__}")
    trainable = model.parameters()
    checked = {}
    for name, value in weights.items():
        _locate(model, name)
        arr = np.asarray(value)
        if arr.shape != trainable[name].shape:
            raise ValueError(
                f"weights[{name!r}] has shape {arr.shape}, expected {trainable[name].shape}"
            )
        if not np.issubdtype(arr.dtype, np.number) or not np.isfinite(arr).all():
            raise ValueError(f"weights[{name!r}] must be finite numbers")
        checked[name] = arr
    for name, arr in checked.items():
        trainable[name][...] = arr
    apply_masks(model)


def reinitialize(model: Model, seed: int, names: Sequence[str] | None = None) -> None:
    """Give the weights fresh random values, keeping the masks (the "re-init" baseline).

    The values come from a new model of the same class and configuration built with
    ``seed``; comparing with :func:`rewind` tests whether the *values* of a lottery
    ticket matter or only its mask.

    Parameters
    ----------
    model : the model.
    seed : seed of the fresh initialisation.
    names : parameters to re-initialise (default: all).

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(3, 3, dim=2, seed=0)
    >>> magnitude_prune(mf, "user_embedding.weight", 0.5); reinitialize(mf, seed=1)
    >>> int((mf.weights()["user_embedding.weight"] == 0).sum())
    3
    """
    _check_model(model)
    chosen = list(model.weights()) if names is None else _check_names(model, names)
    fresh = type(model)(**model.config(), seed=seed).weights()
    rewind(model, {n: fresh[n] for n in chosen})


def sensitivity_scan(
    evaluate_fn: Callable[[Model], Any],
    model: Model,
    names: Sequence[str],
    amounts: Sequence[float | int],
    progress: bool = False,
) -> dict[str, list[tuple[float | int, Any]]]:
    """Per-parameter sensitivity: prune one parameter at a time, evaluate, restore.

    For every ``name`` and every ``amount``: :func:`magnitude_prune` ``name`` by
    ``amount`` (on top of any mask it already has), call ``evaluate_fn(model)``, then
    restore the parameter's previous mask (or its dense state). The model comes back
    unchanged, even if ``evaluate_fn`` raises. ``evaluate_fn`` must not train the
    model (only the masks are restored, not trained values).

    Parameters
    ----------
    evaluate_fn : function ``model -> metric`` (e.g. HR@10 on the validation items).
    model : the model.
    names : parameter names to scan.
    amounts : the amounts to try, each as in :func:`magnitude_prune`.
    progress : show a tqdm progress bar.

    Returns
    -------
    dict name -> list of ``(amount, metric)``, in the order given.

    Examples
    --------
    >>> from prunerec.numpy_nn import NumpyMF
    >>> mf = NumpyMF(4, 4, dim=4)
    >>> zeros = lambda m: int((m.weights()["user_embedding.weight"] == 0).sum())
    >>> sensitivity_scan(zeros, mf, ["user_embedding.weight"], [0.25, 0.5])
    {'user_embedding.weight': [(0.25, 4), (0.5, 8)]}
    >>> is_pruned(mf)
    False
    """
    if not callable(evaluate_fn):
        raise TypeError(
            f"evaluate_fn must be callable (model -> metric), got {type(evaluate_fn).__name__}"
        )
    names = _check_names(_check_model(model), names)
    if isinstance(amounts, str) or not isinstance(amounts, Sequence) or not amounts:
        raise ValueError(f"amounts must be a non-empty list of amounts, got {amounts!r}")
    table: dict[str, list[tuple[float | int, Any]]] = {n: [] for n in names}
    runs = [(n, a) for n in names for a in amounts]
    for name, amount in tqdm(
        runs, desc="sensitivity", leave=False, disable=progress_disabled(progress)
    ):
        old = model.pruning.get(name + "_mask")
        saved = None if old is None else old.copy()
        try:
            magnitude_prune(model, name, amount)
            metric = evaluate_fn(model)
        finally:
            if saved is None:
                if is_pruned(model, name):
                    _unprune(model, name)
            else:
                model.pruning[name + "_mask"] = saved
                apply_masks(model)
        table[name].append((amount, metric))
    return table
