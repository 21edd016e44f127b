"""Ranking and rating metrics for recommenders (NumPy only).

Ranking metrics follow the leave-one-out protocol of :mod:`prunerec.data`: each
user has one held-out positive and some sampled negatives, and a model scores them
all. Scores come as an array of shape ``(n_users, n_candidates)`` whose **column 0
holds the positive** (the layout of ``LeaveOneOut.test_candidates``).

Tie rule
--------
Ties are counted **pessimistically**: the rank of the positive is the number of
negatives scored *at least as high* as it,

    rank = #{ j >= 1 : scores[u, j] >= scores[u, 0] }   (0 = ranked first).

So a model that scores every candidate the same (e.g. one whose weights were all
pruned) gets rank ``n_candidates - 1`` and HR@K = NDCG@K = 0 for ``K < n_candidates``,
instead of the flattering HR of 1 that an optimistic rule would give it.

Metrics
-------
* HR@K, the hit rate: fraction of users whose positive ranks in the top K
  (``rank < K``).
* NDCG@K with a single relevant item: ``1 / log2(rank + 2)`` if ``rank < K`` else 0,
  averaged over users (so 1 for a positive ranked first, 1/2 for rank 2).
* AUC: probability that a random positive outscores a random negative, ties count
  1/2 (the Mann-Whitney U statistic, computed from ranks).
* RMSE for rating prediction, and the ItemPop baseline (score = training popularity).

Inputs may be NumPy arrays, lists, or tensors of a framework that offers
``.detach()`` / ``.cpu()`` (e.g. PyTorch); torch itself is never imported here.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "positive_rank",
    "hit_rate_at_k",
    "ndcg_at_k",
    "ranking_metrics",
    "rmse",
    "auc",
    "item_popularity",
    "itempop_scores",
    "evaluate_ranking",
]


# --------------------------------------------------------------------------- validation


def _to_numpy(x: object) -> np.ndarray:
    """``np.asarray`` that also takes tensors: ``x.detach().cpu()`` first if it has them."""
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "cpu"):
        x = x.cpu()
    try:
        return np.asarray(x)
    except TypeError:
        if hasattr(x, "float"):  # e.g. a bfloat16 tensor, which NumPy cannot hold
            return np.asarray(x.float())
        raise


def _check_numeric(x: object, name: str) -> np.ndarray:
    try:
        arr = _to_numpy(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers: {exc}") from exc
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    n_nan = int(np.isnan(arr).sum()) if np.issubdtype(arr.dtype, np.floating) else 0
    if n_nan:
        raise ValueError(f"{name} contains {n_nan} NaN value(s) among {arr.size}")
    return arr


def _check_scores(scores: ArrayLike, name: str = "scores") -> np.ndarray:
    arr = _check_numeric(scores, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_users, n_candidates) with the positive in column 0, "
            f"got shape {arr.shape}"
        )
    return arr


def _check_k(k: int) -> int:
    if isinstance(k, bool | np.bool_) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return int(k)


def _check_index(x: ArrayLike, name: str, size: int | None = None) -> NDArray[np.int64]:
    arr = _to_numpy(x)
    if arr.size and (arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must hold integer indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if size is not None and arr.size and (arr.min() < 0 or arr.max() >= size):
        raise ValueError(
            f"{name} must lie in [0, {size}), got values in [{arr.min()}, {arr.max()}]"
        )
    return arr


# --------------------------------------------------------------------------- ranking


def positive_rank(scores: ArrayLike) -> NDArray[np.int64]:
    """0-based rank of the positive (column 0) among each row's candidates, ties pessimistic.

    Parameters
    ----------
    scores : array ``(n_users, n_candidates)``, no NaN, positive in column 0.

    Returns
    -------
    int64 array of length ``n_users``: the number of negatives scored ``>=`` the positive.

    Examples
    --------
    >>> positive_rank([[0.9, 0.1, 0.5], [0.2, 0.7, 0.2], [1.0, 1.0, 1.0]])
    array([0, 2, 2])
    """
    s = _check_scores(scores)
    return (s[:, 1:] >= s[:, :1]).sum(axis=1).astype(np.int64)


def hit_rate_at_k(scores: ArrayLike, k: int = 10) -> float:
    """HR@K: fraction of users whose positive ranks in the top ``k`` (``rank < k``).

    Parameters
    ----------
    scores : array ``(n_users, n_candidates)``, positive in column 0.
    k : cut-off, ``>= 1`` (``k >= n_candidates`` makes every user a hit).

    Returns
    -------
    float in [0, 1].

    Examples
    --------
    >>> hit_rate_at_k([[0.9, 0.1, 0.5], [0.2, 0.7, 0.2]], k=2)
    0.5
    """
    k = _check_k(k)
    return float(np.mean(positive_rank(scores) < k))


def _ndcg(rank: NDArray[np.int64], k: int) -> float:
    gains = np.where(rank < k, 1.0 / np.log2(rank + 2.0), 0.0)
    return float(gains.mean())


def ndcg_at_k(scores: ArrayLike, k: int = 10) -> float:
    """NDCG@K for one relevant item per user: mean of ``1/log2(rank + 2)`` if ``rank < k``.

    Parameters
    ----------
    scores : array ``(n_users, n_candidates)``, positive in column 0.
    k : cut-off, ``>= 1``.

    Returns
    -------
    float in [0, 1].

    Examples
    --------
    >>> ndcg_at_k([[0.9, 0.1, 0.5], [0.2, 0.7, 0.1]], k=2)   # ranks 0 and 1: (1 + 1/log2 3)/2
    0.8154648767857288
    """
    k = _check_k(k)
    return _ndcg(positive_rank(scores), k)


def ranking_metrics(scores: ArrayLike, k: int = 10) -> dict[str, float]:
    """HR@K and NDCG@K together (the ranks are computed once).

    Parameters
    ----------
    scores : array ``(n_users, n_candidates)``, positive in column 0.
    k : cut-off, ``>= 1``.

    Returns
    -------
    dict with keys ``"hr"`` and ``"ndcg"``.

    Examples
    --------
    >>> ranking_metrics([[3.0, 1.0, 2.0], [1.0, 1.0, 0.0]], k=1)
    {'hr': 0.5, 'ndcg': 0.5}
    """
    k = _check_k(k)
    rank = positive_rank(scores)
    return {"hr": float(np.mean(rank < k)), "ndcg": _ndcg(rank, k)}


# --------------------------------------------------------------------------- rmse, auc


def rmse(pred: ArrayLike, target: ArrayLike) -> float:
    """Root mean squared error between predictions and targets of the same shape.

    Examples
    --------
    >>> rmse([3.0, 4.0], [1.0, 4.0])   # sqrt((4 + 0) / 2)
    1.4142135623730951
    """
    p = _check_numeric(pred, "pred").astype(np.float64)
    t = _check_numeric(target, "target").astype(np.float64)
    if p.shape != t.shape:
        raise ValueError(f"pred has shape {p.shape} but target has shape {t.shape}")
    if not (np.isfinite(p).all() and np.isfinite(t).all()):
        raise ValueError("pred and target must be finite (found inf)")
    return float(np.sqrt(np.mean((p - t) ** 2)))


def auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve, from ranks (Mann-Whitney U); ties count 1/2.

    Parameters
    ----------
    scores : 1-D array of scores, no NaN.
    labels : 1-D array of the same length holding 0/1 (or booleans); both classes
        must be present.

    Returns
    -------
    float in [0, 1]: the probability that a random positive outscores a random negative.

    Examples
    --------
    >>> auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    """
    s = _check_numeric(scores, "scores").astype(np.float64)
    y = _to_numpy(labels)
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D, got shape {s.shape}")
    if y.shape != s.shape:
        raise ValueError(f"labels has shape {y.shape} but scores has shape {s.shape}")
    if y.dtype != bool:
        if not np.issubdtype(y.dtype, np.number) or not np.isin(y, (0, 1)).all():
            raise ValueError("labels must contain only 0 and 1 (or True/False)")
    y = y.astype(bool)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            f"labels has only one class ({n_pos} positive, {n_neg} negative): AUC is undefined"
        )
    # average ranks (1-based) with ties sharing the mean of their positions
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    mid_rank = ends - (counts - 1) / 2.0
    ranks = mid_rank[inverse]
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


# --------------------------------------------------------------------------- ItemPop


def item_popularity(train_items: ArrayLike, n_items: int) -> NDArray[np.int64]:
    """Number of training interactions of every item.

    Parameters
    ----------
    train_items : 1-D int array of item indices in ``[0, n_items)``.
    n_items : number of items, ``>= 1``.

    Returns
    -------
    int64 array of length ``n_items``.

    Examples
    --------
    >>> item_popularity([0, 0, 2], 4)
    array([2, 0, 1, 0])
    """
    if isinstance(n_items, bool) or not isinstance(n_items, numbers.Integral) or n_items < 1:
        raise ValueError(f"n_items must be an int >= 1, got {n_items!r}")
    items = _check_index(train_items, "train_items", int(n_items))
    if items.ndim != 1:
        raise ValueError(f"train_items must be 1-D, got shape {items.shape}")
    return np.bincount(items, minlength=int(n_items)).astype(np.int64)


def itempop_scores(candidates: ArrayLike, popularity: ArrayLike) -> NDArray[np.float64]:
    """ItemPop baseline: score every candidate by its training popularity.

    Parameters
    ----------
    candidates : int array of item indices (e.g. ``LeaveOneOut.test_candidates``).
    popularity : 1-D array, one value per item (see :func:`item_popularity`).

    Returns
    -------
    float64 array of the same shape as ``candidates``.

    Examples
    --------
    >>> itempop_scores([[2, 0, 1]], [5, 1, 3])
    array([[3., 5., 1.]])
    """
    pop = _check_numeric(popularity, "popularity").astype(np.float64)
    if pop.ndim != 1:
        raise ValueError(f"popularity must be 1-D (one value per item), got shape {pop.shape}")
    cand = _check_index(candidates, "candidates", pop.size)
    return pop[cand]


# --------------------------------------------------------------------------- evaluation


def evaluate_ranking(
    score_fn: Callable[[NDArray[np.int64], NDArray[np.int64]], ArrayLike],
    candidates: ArrayLike,
    users: ArrayLike | None = None,
    k: int = 10,
    batch_size: int = 1024,
) -> dict[str, float]:
    """Score the candidates of every user in batches and return HR@K and NDCG@K.

    Framework-agnostic: ``score_fn(users_batch, items_batch)`` receives two int64
    NumPy arrays of the same shape ``(b, n_candidates)`` and returns scores of that
    shape (or ``(b, n_candidates, 1)``) as a NumPy array or a tensor (converted with
    ``.detach().cpu()``). For a torch model, convert inside the function and run
    under ``torch.no_grad()``.

    Parameters
    ----------
    score_fn : the model's scoring function.
    candidates : int array ``(n_users, n_candidates)``, the positive in column 0.
    users : user index of each row (default ``0 .. n_users-1``).
    k : cut-off, ``>= 1``.
    batch_size : rows per call, ``>= 1``.

    Returns
    -------
    dict with keys ``"hr"`` and ``"ndcg"`` (see :func:`ranking_metrics`).

    Examples
    --------
    >>> popularity = np.array([5.0, 1.0, 3.0, 0.0])
    >>> evaluate_ranking(lambda u, i: popularity[i], [[0, 1, 2], [3, 0, 1]], k=1)
    {'hr': 0.5, 'ndcg': 0.5}
    """
    if not callable(score_fn):
        raise TypeError(f"score_fn must be callable, got {type(score_fn).__name__}")
    cand = _check_index(candidates, "candidates")
    if cand.ndim != 2 or cand.size == 0:
        raise ValueError(
            f"candidates must be a non-empty 2-D array (n_users, n_candidates), got {cand.shape}"
        )
    n_rows, n_cand = cand.shape
    if users is None:
        user_idx = np.arange(n_rows, dtype=np.int64)
    else:
        user_idx = _check_index(users, "users")
        if user_idx.shape != (n_rows,):
            raise ValueError(
                f"users must have shape ({n_rows},), one per row of candidates, "
                f"got {user_idx.shape}"
            )
    k = _check_k(k)
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    parts = []
    for start in range(0, n_rows, int(batch_size)):
        stop = min(start + int(batch_size), n_rows)
        items_b = np.array(cand[start:stop])
        users_b = np.repeat(user_idx[start:stop, None], n_cand, axis=1)
        out = _check_numeric(score_fn(users_b, items_b), "score_fn output")
        if out.shape == (stop - start, n_cand, 1):
            out = out[..., 0]
        if out.shape != (stop - start, n_cand):
            raise ValueError(
                f"score_fn output has shape {out.shape}, expected {(stop - start, n_cand)} "
                "(the shape of the items it was given)"
            )
        parts.append(out)
    return ranking_metrics(np.concatenate(parts, axis=0), k)
