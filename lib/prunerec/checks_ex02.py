"""Graded checks of exercise 02 (the kinds of masks). Each compares the learner's function
with :mod:`prunerec.masks` on hand-made and random cases."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from prunerec import masks
from prunerec.checks import Case, call, report, same_array

__all__ = [
    "check_column_mask",
    "check_nm_mask",
    "check_is_nm_sparse",
    "check_embedding_row_mask",
    "frequency_row_mask",
    "is_nm_sparse",
]


def frequency_row_mask(table: np.ndarray, counts: np.ndarray, amount: float) -> np.ndarray:
    """Reference for 2.4: prune the rows of the ``amount`` least frequent IDs (ties: the
    lower index goes first), as a mask of the table's shape."""
    keep_rows = masks.magnitude_mask(np.asarray(counts, dtype=float), amount)
    return np.broadcast_to(keep_rows[:, None], np.shape(table)).copy()


def is_nm_sparse(x: np.ndarray, n: int, m: int) -> bool:
    """Reference for 2.3: at most ``n`` non-zeros in every group of ``m`` consecutive
    entries along the last axis.

    Examples
    --------
    >>> is_nm_sparse(np.array([[1.0, 0, 0, 2, 0, 3, 4, 0]]), 2, 4)
    True
    >>> is_nm_sparse(np.array([[1.0, 2, 3, 0, 0, 0, 0, 0]]), 2, 4)
    False
    """
    x = np.asarray(x)
    if x.shape[-1] % m:
        raise ValueError(
            f"x has {x.shape[-1]} entries along its last axis, not a multiple of m={m}"
        )
    groups = (x != 0).reshape(*x.shape[:-1], x.shape[-1] // m, m)
    return bool((groups.sum(axis=-1) <= n).all())


def check_column_mask(fn: Callable, hidden: bool = False) -> None:
    """2.1: ``fn(w, amount)`` prunes the ``round(amount * n_columns)`` columns (input
    features of a Linear weight ``(out, in)``) of smallest L1 norm."""
    rng = np.random.default_rng(21)
    l1_not_l2 = np.array([[3.0, 1.2, 5.0, -4.0], [0.0, -1.2, 1.0, 4.0], [0.0, 1.2, -2.0, 1.0]])
    cases_in = [
        ("L1, not L2: column 0 (L1 3.0, L2 3.0) vs column 1 (L1 3.6, L2 2.08)", l1_not_l2, 0.25),
        ("half of 6 columns", rng.normal(size=(4, 6)), 0.5),
        ("a wide matrix: rows are not columns", rng.normal(size=(3, 8)), 0.25),
        ("tied norms: the lower index goes first", np.ones((2, 4)), 0.5),
        ("amount 0.0 prunes nothing", rng.normal(size=(3, 3)), 0.0),
    ]
    if hidden:
        cases_in.append(("random 20 x 30, 70%", rng.normal(size=(20, 30)), 0.7))
    cases = []
    for name, w, amount in cases_in:
        expected = masks.structured_mask(w, amount, axis=1, norm="l1")
        cases.append(same_array(name, call(fn, w.copy(), amount), expected, bool))
    report(
        "2.1 column_mask",
        cases,
        hint="score column j by np.abs(w).sum(axis=0)[j] (its L1 norm), prune the "
        "round(amount * w.shape[1]) smallest (np.argsort(..., kind='stable') breaks ties by "
        "index), and return a full-shape boolean mask, constant down each column.",
        quiet=hidden,
    )


def check_nm_mask(fn: Callable, hidden: bool = False) -> None:
    """2.2: ``fn(w, n, m)`` keeps the ``n`` largest magnitudes in every group of ``m``
    consecutive weights along the last axis."""
    rng = np.random.default_rng(22)
    cases_in = [
        ("2:4 on one row of 8", np.array([[0.1, -0.9, 0.5, 0.2, 3.0, -2.0, 0.0, 1.0]]), 2, 4),
        ("2:4 on a 4 x 8 matrix: groups run along rows", rng.normal(size=(4, 8)), 2, 4),
        ("1:4 keeps one per group", rng.normal(size=(3, 8)), 1, 4),
        ("ties in a group: the earlier weight is pruned first", np.array([[1.0, 1, 1, 1]]), 2, 4),
        ("signs do not matter", np.array([[-5.0, 1.0, -2.0, 0.5]]), 2, 4),
    ]
    if hidden:
        cases_in.append(("4:8 on 6 x 16", rng.normal(size=(6, 16)), 4, 8))
        cases_in.append(("2:4 on a 3-D array", rng.normal(size=(2, 3, 8)), 2, 4))
    cases = []
    for name, w, n, m in cases_in:
        expected = masks.nm_mask(w, n=n, m=m)
        cases.append(same_array(name, call(fn, w.copy(), n, m), expected, bool))
    report(
        "2.2 nm_mask",
        cases,
        hint="reshape |w| to (..., w.shape[-1] // m, m), take np.argsort(groups, axis=-1, "
        "kind='stable') and prune the first m - n indices of every group "
        "(np.put_along_axis), then reshape back to w.shape.",
        quiet=hidden,
    )


def check_is_nm_sparse(fn: Callable, hidden: bool = False) -> None:
    """2.3: ``fn(x, n, m)`` is True when every group of ``m`` consecutive entries along the
    last axis holds at most ``n`` non-zeros (what 2:4 sparse tensor cores accept)."""
    rng = np.random.default_rng(23)
    w = rng.normal(size=(4, 8))
    unstructured = masks.magnitude_mask(np.array([[5.0, 4, 3, 0.1, 0.2, 0.3, 0.4, 2]]), 0.5)
    cases_in = [
        ("a 2:4 mask", masks.nm_mask(w, 2, 4), 2, 4),
        ("a 50% unstructured mask with 3 survivors in one group", unstructured, 2, 4),
        ("weights pruned 2:4 (floats: zeros are pruned)", w * masks.nm_mask(w, 2, 4), 2, 4),
        ("dense weights are not 2:4", w, 2, 4),
        ("fewer than n survivors is fine (1:4 is also 2:4)", masks.nm_mask(w, 1, 4), 2, 4),
        ("all zeros", np.zeros((2, 8)), 2, 4),
    ]
    if hidden:
        down_columns = masks.nm_mask(w.T.copy(), 2, 4).T.copy()
        cases_in.append(("groups run along the last axis, not down columns", down_columns, 2, 4))
        cases_in.append(
            ("4:8 mask checked as 4:8", masks.nm_mask(rng.normal(size=(3, 16)), 4, 8), 4, 8)
        )
    cases = []
    for name, x, n, m in cases_in:
        expected = is_nm_sparse(x, n, m)
        got = call(fn, np.array(x), n, m)
        ok = isinstance(got, bool | np.bool_) and bool(got) == expected
        cases.append(Case(name, ok, repr(expected), repr(got)))
    report(
        "2.3 is_nm_sparse",
        cases,
        hint="the rule is per group, not overall: reshape (x != 0) to (..., x.shape[-1] // m, m), "
        "count non-zeros along the last axis and require every count <= n; return a bool.",
        quiet=hidden,
    )


def check_embedding_row_mask(fn: Callable, hidden: bool = False) -> None:
    """2.4: ``fn(table, counts, amount)`` prunes the rows of the ``round(amount * n_rows)``
    least frequent IDs (ties: lower index first), as a mask of the table's shape."""
    rng = np.random.default_rng(24)
    table = rng.normal(size=(6, 3))
    cases_in = [
        ("prune the 2 rarest of 6 items", table, np.array([50, 3, 7, 1, 20, 9]), 1 / 3),
        (
            "frequency, not norm: the rarest row has the largest norm",
            np.array([[9.0, 9], [0.1, 0.1], [1, 1], [2, 2]]),
            np.array([1, 10, 20, 30]),
            0.25,
        ),
        ("tied counts: the lower index goes first", table, np.array([4, 2, 2, 2, 8, 9]), 1 / 3),
        ("amount 0.0 prunes nothing", table, np.arange(6), 0.0),
        ("amount 1.0 prunes every row", table, np.arange(6), 1.0),
    ]
    if hidden:
        counts = rng.zipf(1.5, size=40).clip(max=1000)
        cases_in.append(("long-tail counts, 40 items", rng.normal(size=(40, 8)), counts, 0.3))
    cases = []
    for name, t, counts, amount in cases_in:
        expected = frequency_row_mask(t, counts, amount)
        cases.append(same_array(name, call(fn, t.copy(), counts.copy(), amount), expected, bool))
    report(
        "2.4 embedding_row_mask",
        cases,
        hint="k = round(amount * len(counts)); the rows to prune are "
        "np.argsort(counts, kind='stable')[:k] (the rarest IDs, ties by index); the mask has "
        "the table's shape and is constant along each row.",
        quiet=hidden,
    )
