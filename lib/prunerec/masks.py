"""Pruning masks in NumPy: the mathematical core of the course.

A *mask* is a boolean array of the same shape as the weights: ``True`` keeps a
weight, ``False`` prunes it. Following ``torch.nn.utils.prune``, deciding *which*
weights matter (importance scores, thresholds, masks) is kept apart from
*applying* a mask (:func:`apply_mask`).

Amounts
-------
Every ``amount`` argument means the same thing as in ``torch.nn.utils.prune``:

* a ``float`` in ``[0, 1]`` is a fraction: ``k = round(amount * n)`` of the ``n``
  candidates are pruned (Python's ``round``, i.e. half to even, as torch does);
* an ``int`` is an absolute count ``0 <= k <= n``.

So ``amount=1`` prunes *one* weight and ``amount=1.0`` prunes *all* of them.

Tie rule
--------
Masks for a target amount prune **exactly** ``k`` candidates. When several
candidates share the boundary magnitude, the ones that come first in row-major
(C) order are pruned first. Selection uses ``np.partition`` (introselect,
O(n) on average) rather than a full sort.

Every public function validates its inputs and raises ``ValueError`` or
``TypeError`` naming the offending argument.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "pruned_count",
    "threshold_for_sparsity",
    "magnitude_mask_threshold",
    "magnitude_mask",
    "global_threshold",
    "global_magnitude_masks",
    "structure_norms",
    "structured_mask",
    "nm_mask",
    "soft_threshold",
    "apply_mask",
    "random_mask",
    "SparsityStats",
    "SparsityReport",
    "sparsity_report",
]

# --------------------------------------------------------------------------- validation


def _check_weights(weights: ArrayLike, name: str = "weights") -> NDArray[np.floating]:
    """Return ``weights`` as a float array, or raise naming ``name``."""
    if isinstance(weights, np.ndarray) and weights.dtype == object:
        raise TypeError(f"{name} must be a numeric array, got dtype object")
    try:
        arr = np.asarray(weights)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like of numbers: {exc}") from exc
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}): nothing to prune")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        n_nan = int(np.isnan(arr).sum())
        raise ValueError(
            f"{name} must be finite: found {n_nan} NaN and {int(bad.sum()) - n_nan} inf "
            f"value(s) among {arr.size}"
        )
    return arr


def _check_mask(mask: ArrayLike, shape: tuple[int, ...], name: str = "mask") -> NDArray[np.bool_]:
    arr = np.asarray(mask)
    if arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape} but the weights have shape {shape}")
    if arr.dtype == bool:
        return arr
    if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must be boolean or contain only 0 and 1 (dtype {arr.dtype})")
    return arr.astype(bool)


def pruned_count(amount: float | int, n: int, name: str = "amount") -> int:
    """Number of candidates that ``amount`` prunes out of ``n``.

    Parameters
    ----------
    amount : float in [0, 1] (a fraction) or int in [0, n] (a count).
    n : number of candidates (weights, rows, ...), ``n >= 0``.
    name : the argument name used in error messages.

    Returns
    -------
    int, the exact number ``k`` of candidates to prune.

    Examples
    --------
    >>> pruned_count(0.5, 10), pruned_count(3, 10), pruned_count(1.0, 10), pruned_count(1, 10)
    (5, 3, 10, 1)
    """
    if isinstance(amount, bool | np.bool_):
        raise TypeError(f"{name} must be a float in [0, 1] or an int count, got bool {amount}")
    if isinstance(amount, numbers.Integral):
        k = int(amount)
        if not 0 <= k <= n:
            raise ValueError(
                f"{name}={k} is a count and must lie in [0, {n}] (the number of candidates)"
            )
        return k
    if isinstance(amount, numbers.Real):
        a = float(amount)
        if not np.isfinite(a) or not 0.0 <= a <= 1.0:
            raise ValueError(f"{name}={amount!r} is a fraction and must lie in [0, 1]")
        return int(round(a * n))
    raise TypeError(
        f"{name} must be a float in [0, 1] or an int count, got {type(amount).__name__}"
    )


# --------------------------------------------------------------------------- selection


def _prune_smallest(scores: NDArray[np.floating], k: int) -> NDArray[np.bool_]:
    """Mask (same shape as ``scores``) that prunes exactly the ``k`` smallest scores.

    Ties at the boundary are broken in row-major order: earlier entries are pruned
    first. O(n): one ``np.partition`` plus a few linear passes.
    """
    flat = scores.ravel()
    n = flat.size
    keep = np.ones(n, dtype=bool)
    if k == 0:
        return keep.reshape(scores.shape)
    if k == n:
        return np.zeros(scores.shape, dtype=bool)
    boundary = np.partition(flat, k - 1)[k - 1]  # the k-th smallest score
    below = flat < boundary
    keep[below] = False
    still = k - int(below.sum())  # how many of the tied boundary entries go too
    tied = np.flatnonzero(flat == boundary)
    keep[tied[:still]] = False
    return keep.reshape(scores.shape)


def threshold_for_sparsity(weights: ArrayLike, amount: float | int) -> float:
    """Magnitude threshold θ for a target sparsity.

    θ is the magnitude of the largest weight that :func:`magnitude_mask` prunes, so
    ``|w| <= θ`` covers every pruned weight. Without ties at θ the rule
    ``prune |w| <= θ`` prunes exactly ``k`` weights; with ties it may prune more,
    which is why :func:`magnitude_mask` uses the exact tie rule instead.
    Returns ``-inf`` when nothing is pruned (``k = 0``).

    Parameters
    ----------
    weights : array of any shape, finite, non-empty.
    amount : fraction in [0, 1] or integer count (see module docstring).

    Returns
    -------
    float, the threshold θ.

    Examples
    --------
    >>> threshold_for_sparsity([0.1, -3.0, 0.5, 2.0], 0.5)
    0.5
    """
    w = _check_weights(weights)
    k = pruned_count(amount, w.size)
    if k == 0:
        return float("-inf")
    return float(np.partition(np.abs(w).ravel(), k - 1)[k - 1])


def magnitude_mask_threshold(weights: ArrayLike, theta: float) -> NDArray[np.bool_]:
    """Hard threshold mask: keep ``|w| > θ``, prune ``|w| <= θ`` (the article's formula).

    Parameters
    ----------
    weights : array of any shape, finite, non-empty.
    theta : the threshold, a finite number ``>= 0``.

    Returns
    -------
    bool array, same shape as ``weights``.

    Examples
    --------
    >>> magnitude_mask_threshold([0.5, -2.0, 2.0, 3.0], 2.0)
    array([False, False, False,  True])
    """
    w = _check_weights(weights)
    if isinstance(theta, bool) or not isinstance(theta, numbers.Real):
        raise TypeError(f"theta must be a real number, got {type(theta).__name__}")
    if not np.isfinite(theta) or theta < 0:
        raise ValueError(f"theta must be finite and >= 0, got {theta!r}")
    return np.abs(w) > theta


def magnitude_mask(weights: ArrayLike, amount: float | int) -> NDArray[np.bool_]:
    """Mask pruning exactly ``k`` weights of smallest magnitude (unstructured, layer-wise).

    Parameters
    ----------
    weights : array of any shape, finite, non-empty.
    amount : fraction in [0, 1] or integer count; ties follow the module's tie rule.

    Returns
    -------
    bool array, same shape as ``weights``, with exactly ``k`` False entries.

    Examples
    --------
    >>> magnitude_mask([1.0, -1.0, 1.0, 5.0], 2)   # three tied at 1: the first two go
    array([False, False,  True,  True])
    """
    w = _check_weights(weights)
    return _prune_smallest(np.abs(w), pruned_count(amount, w.size))


def random_mask(
    shape: int | tuple[int, ...], amount: float | int, rng: np.random.Generator | int | None
) -> NDArray[np.bool_]:
    """Mask pruning exactly ``k`` entries chosen uniformly at random: the baseline
    that any importance criterion must beat.

    Parameters
    ----------
    shape : shape of the mask (an int or a tuple of positive ints).
    amount : fraction in [0, 1] or integer count.
    rng : a ``numpy.random.Generator`` or a seed (required, for reproducibility).

    Returns
    -------
    bool array of ``shape`` with exactly ``k`` False entries.

    Examples
    --------
    >>> int((~random_mask((4, 5), 0.25, rng=0)).sum())
    5
    """
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if not shape or any(not isinstance(s, numbers.Integral) or s <= 0 for s in shape):
        raise ValueError(f"shape must be a tuple of positive ints, got {shape!r}")
    n = int(np.prod(shape))
    k = pruned_count(amount, n)
    gen = np.random.default_rng(rng)
    keep = np.ones(n, dtype=bool)
    keep[gen.choice(n, size=k, replace=False)] = False
    return keep.reshape(shape)


# --------------------------------------------------------------------------- global


def _check_many(arrays: Sequence[ArrayLike] | Mapping[str, ArrayLike]) -> list[tuple[str, NDArray]]:
    if isinstance(arrays, np.ndarray) or not isinstance(arrays, Sequence | Mapping):
        raise TypeError("arrays must be a list or a dict of arrays (one per layer)")
    items = list(arrays.items()) if isinstance(arrays, Mapping) else list(enumerate(arrays))
    if not items:
        raise ValueError("arrays is empty: give at least one array")
    return [(str(key), _check_weights(a, name=f"arrays[{key!r}]")) for key, a in items]


def global_threshold(
    arrays: Sequence[ArrayLike] | Mapping[str, ArrayLike], amount: float | int
) -> float:
    """One magnitude threshold θ shared by several arrays (e.g. all layers of a model).

    The same as :func:`threshold_for_sparsity` applied to all weights concatenated.

    Examples
    --------
    >>> global_threshold([[0.1, 5.0], [0.2, 0.3]], 0.5)
    0.2
    """
    flat = np.concatenate([a.ravel() for _, a in _check_many(arrays)])
    return threshold_for_sparsity(flat, amount)


def global_magnitude_masks(
    arrays: Sequence[ArrayLike] | Mapping[str, ArrayLike], amount: float | int
) -> list[NDArray[np.bool_]] | dict[str, NDArray[np.bool_]]:
    """Masks for several arrays pruned together by one global magnitude ranking.

    Exactly ``k`` weights are pruned in total; layers of small scale can lose much
    more than ``amount`` (or everything). Ties follow the module's rule over the
    arrays taken in order, each in row-major order.

    Parameters
    ----------
    arrays : a list or a dict of arrays.
    amount : fraction in [0, 1] or integer count of all weights together.

    Returns
    -------
    list or dict of bool masks, matching ``arrays``.

    Examples
    --------
    >>> [m.tolist() for m in global_magnitude_masks([[0.1, 5.0], [0.2, 0.3]], 0.5)]
    [[False, True], [False, True]]
    """
    checked = _check_many(arrays)
    flat = np.concatenate([np.abs(a).ravel() for _, a in checked])
    keep = _prune_smallest(flat, pruned_count(amount, flat.size))
    masks, start = [], 0
    for _, a in checked:
        masks.append(keep[start : start + a.size].reshape(a.shape))
        start += a.size
    if isinstance(arrays, Mapping):
        return dict(zip(arrays.keys(), masks, strict=True))
    return masks


# --------------------------------------------------------------------------- structured


def _check_axis(axis: int, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis={axis} is out of range for an array with ndim={ndim}")
    return int(axis) % ndim


def structure_norms(weights: ArrayLike, axis: int = 0, norm: str = "l2") -> NDArray[np.floating]:
    """Norm of every slice ``weights[..., i, ...]`` taken along ``axis``.

    ``axis`` indexes the structures: for a Linear weight of shape (out, in),
    ``axis=0`` scores output neurons (rows) and ``axis=1`` input features (columns);
    for an embedding table (rows, dim), ``axis=0`` scores embedding rows and
    ``axis=1`` embedding dimensions. Same convention as ``dim`` in
    ``torch.nn.utils.prune.ln_structured``.

    Parameters
    ----------
    weights : array with ``ndim >= 2`` (a 1-D array has no structures: use :func:`magnitude_mask`).
    axis : the axis whose indices are the structures.
    norm : ``"l1"`` or ``"l2"``.

    Returns
    -------
    1-D float array of length ``weights.shape[axis]``.

    Examples
    --------
    >>> structure_norms([[3.0, 4.0], [1.0, 0.0]], axis=0)
    array([5., 1.])
    """
    w = _check_weights(weights)
    if w.ndim < 2:
        raise ValueError(f"weights must have ndim >= 2 for structured pruning, got ndim={w.ndim}")
    ax = _check_axis(axis, w.ndim)
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
    other = tuple(i for i in range(w.ndim) if i != ax)
    if norm == "l1":
        return np.abs(w).sum(axis=other)
    return np.sqrt((w.astype(np.float64) ** 2).sum(axis=other))


def structured_mask(
    weights: ArrayLike, amount: float | int, axis: int = 0, norm: str = "l2"
) -> NDArray[np.bool_]:
    """Mask pruning whole slices along ``axis`` with the smallest L1/L2 norm.

    The returned mask has the full shape of ``weights`` and is constant on every
    pruned or kept slice. ``amount`` counts structures (rows, columns, ...), not weights.

    Parameters
    ----------
    weights : array with ``ndim >= 2``.
    amount : fraction in [0, 1] or integer count of structures.
    axis : the axis whose indices are the structures (see :func:`structure_norms`).
    norm : ``"l1"`` or ``"l2"``.

    Returns
    -------
    bool array, same shape as ``weights``.

    Examples
    --------
    >>> structured_mask([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]], 1, axis=0).tolist()
    [[True, True], [False, False], [True, True]]
    """
    w = _check_weights(weights)
    norms = structure_norms(w, axis=axis, norm=norm)
    keep = _prune_smallest(norms, pruned_count(amount, norms.size))
    ax = _check_axis(axis, w.ndim)
    shape = [1] * w.ndim
    shape[ax] = norms.size
    return np.broadcast_to(keep.reshape(shape), w.shape).copy()


def nm_mask(weights: ArrayLike, n: int = 2, m: int = 4, axis: int = -1) -> NDArray[np.bool_]:
    """Semi-structured N:M mask: in every group of ``m`` consecutive weights along
    ``axis``, keep the ``n`` of largest magnitude (2:4 is what sparse tensor cores run).

    Ties inside a group: the earlier weight is pruned first.

    Parameters
    ----------
    weights : array of any shape whose size along ``axis`` is a multiple of ``m``.
    n : survivors per group, ``0 <= n <= m``.
    m : group size, ``m >= 1``.
    axis : the axis along which groups are formed (default: the last, i.e. the
        input dimension of a Linear weight, as NVIDIA's 2:4 kernels expect).

    Returns
    -------
    bool array, same shape as ``weights``, exactly ``n`` True per group.

    Examples
    --------
    >>> nm_mask([[1.0, -4.0, 3.0, 2.0]], n=2, m=4).tolist()
    [[False, True, True, False]]
    """
    w = _check_weights(weights)
    for name, v in (("n", n), ("m", m)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if m < 1 or not 0 <= n <= m:
        raise ValueError(f"need m >= 1 and 0 <= n <= m, got n={n}, m={m}")
    ax = _check_axis(axis, w.ndim)
    if w.shape[ax] % m:
        raise ValueError(
            f"weights has size {w.shape[ax]} along axis {axis}, not a multiple of m={m}"
        )
    moved = np.moveaxis(np.abs(w), ax, -1)
    groups = moved.reshape(*moved.shape[:-1], moved.shape[-1] // m, m)
    order = np.argsort(groups, axis=-1, kind="stable")  # ascending; ties keep index order
    keep = np.ones(groups.shape, dtype=bool)
    np.put_along_axis(keep, order[..., : m - n], False, axis=-1)
    return np.moveaxis(keep.reshape(moved.shape), -1, ax)


# --------------------------------------------------------------------------- soft, apply


def soft_threshold(weights: ArrayLike, lam: float) -> NDArray[np.floating]:
    """Soft thresholding (shrinkage): ``sign(w) * max(|w| - λ, 0)``.

    The proximal operator of ``λ‖w‖₁``: weights with ``|w| <= λ`` become exactly 0,
    the others move ``λ`` towards 0. Unlike a hard mask it changes the survivors too.

    Parameters
    ----------
    weights : array of any shape, finite, non-empty.
    lam : shrinkage ``λ >= 0``.

    Returns
    -------
    float array, same shape as ``weights``.

    Examples
    --------
    >>> soft_threshold([-3.0, 0.5, 2.0], 1.0)
    array([-2.,  0.,  1.])
    """
    w = _check_weights(weights)
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real):
        raise TypeError(f"lam must be a real number, got {type(lam).__name__}")
    if not np.isfinite(lam) or lam < 0:
        raise ValueError(f"lam must be finite and >= 0, got {lam!r}")
    return np.sign(w) * np.maximum(np.abs(w) - lam, 0.0)


def apply_mask(weights: ArrayLike, mask: ArrayLike) -> NDArray[np.floating]:
    """Return a copy of ``weights`` with the pruned entries (mask False/0) set to 0.

    Parameters
    ----------
    weights : array of any shape, finite, non-empty.
    mask : bool (or 0/1) array of the same shape.

    Returns
    -------
    float array, same shape and dtype as ``weights``.

    Examples
    --------
    >>> apply_mask([1.0, -2.0, 3.0], [True, False, True])
    array([1., 0., 3.])
    """
    w = _check_weights(weights)
    keep = _check_mask(mask, w.shape)
    return np.where(keep, w, np.zeros((), dtype=w.dtype))


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class SparsityStats:
    """Zeros and size of one array: ``sparsity = zeros / size``."""

    name: str
    size: int
    zeros: int

    @property
    def nonzeros(self) -> int:
        return self.size - self.zeros

    @property
    def sparsity(self) -> float:
        return self.zeros / self.size


@dataclass(frozen=True)
class SparsityReport:
    """Per-array statistics and the overall figure (weighted by size)."""

    per_array: tuple[SparsityStats, ...]
    overall: SparsityStats

    def to_text(self, digits: int = 2) -> str:
        """A fixed-width table, one line per array plus the total."""
        rows = [*self.per_array, self.overall]
        width = max(len(r.name) for r in rows)
        lines = [f"{'array':<{width}} {'size':>10} {'zeros':>10} {'sparsity':>9}"]
        for r in rows:
            pct = f"{100 * r.sparsity:.{digits}f}%"
            lines.append(f"{r.name:<{width}} {r.size:>10,} {r.zeros:>10,} {pct:>9}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def sparsity_report(arrays: Sequence[ArrayLike] | Mapping[str, ArrayLike]) -> SparsityReport:
    """Count exact zeros per array and overall (works on weights and on masks,
    where False counts as a zero).

    Parameters
    ----------
    arrays : a list or a dict of arrays (or masks).

    Returns
    -------
    :class:`SparsityReport`.

    Examples
    --------
    >>> r = sparsity_report({"a": [0.0, 1.0], "b": [0.0, 0.0, 0.0, 2.0]})
    >>> r.per_array[1].sparsity, round(r.overall.sparsity, 4)
    (0.75, 0.6667)
    """
    if isinstance(arrays, np.ndarray) or not isinstance(arrays, Sequence | Mapping):
        raise TypeError("arrays must be a list or a dict of arrays")
    items = list(arrays.items()) if isinstance(arrays, Mapping) else list(enumerate(arrays))
    if not items:
        raise ValueError("arrays is empty: give at least one array")
    stats = []
    for key, a in items:
        arr = np.asarray(a)
        if arr.dtype != bool:
            arr = _check_weights(arr, name=f"arrays[{key!r}]")
        elif arr.size == 0:
            raise ValueError(f"arrays[{key!r}] is empty")
        stats.append(SparsityStats(str(key), int(arr.size), int(arr.size - np.count_nonzero(arr))))
    total = SparsityStats("overall", sum(s.size for s in stats), sum(s.zeros for s in stats))
    return SparsityReport(tuple(stats), total)
