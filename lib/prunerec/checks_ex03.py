"""Graded checks of exercise 03 (threshold math). Each compares the learner's
function with :mod:`prunerec.masks` on hand-made and random cases."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from prunerec import masks
from prunerec.checks import Case, call, report, same_array

__all__ = ["ARTICLE_KERNELS", "check_threshold_mask", "check_sparsity_mask"]

#: The five 3x3 "kernels" of the source article's worked example (§4.3).
ARTICLE_KERNELS = np.array(
    [
        [[1, 2, 3], [4, 5, 6], [7, 8, 9]],
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]],
        [[2, 3, 4], [5, 6, 7], [8, 9, 10]],
        [[1, 0, 1], [2, 3, 4], [5, 6, 7]],
        [[0, 1, 0], [3, 4, 5], [6, 7, 8]],
    ],
    dtype=float,
)


def check_threshold_mask(fn: Callable, hidden: bool = False) -> None:
    """3.1: ``fn(w, theta)`` returns the hard mask keeping ``|w| > theta``."""
    rng = np.random.default_rng(31)
    cases_in = [
        ("the article's kernels, theta = 2", ARTICLE_KERNELS, 2.0),
        ("negative weights count by magnitude", np.array([-3.0, -1.0, 0.5, 2.0]), 1.0),
        ("a weight equal to theta is pruned", np.array([[2.0, -2.0], [2.5, 1.9]]), 2.0),
        ("theta = 0 prunes exact zeros only", np.array([0.0, 1e-9, -0.1]), 0.0),
    ]
    if hidden:
        cases_in.append(("random 4-D array", rng.normal(size=(2, 3, 4, 5)), 0.7))
    cases = []
    for name, w, theta in cases_in:
        expected = masks.magnitude_mask_threshold(w, theta)
        cases.append(same_array(name, call(fn, w.copy(), theta), expected, bool))
    report(
        "3.1 threshold_mask",
        cases,
        hint="keep a weight when its absolute value is strictly greater than theta; "
        "return a boolean array of the same shape (np.abs(w) > theta).",
        quiet=hidden,
    )


def check_sparsity_mask(fn: Callable, hidden: bool = False) -> None:
    """3.2: ``fn(w, amount)`` prunes exactly round(amount * w.size) weights of smallest
    magnitude; ties are pruned in row-major order."""
    rng = np.random.default_rng(32)
    cases_in = [
        ("half of six distinct weights", np.array([[0.3, -2.0, 0.1], [-0.05, 1.5, -0.7]]), 0.5),
        ("amount 0.0 prunes nothing", np.arange(1.0, 7.0), 0.0),
        ("amount 1.0 prunes everything", np.arange(1.0, 7.0), 1.0),
        ("ties: four weights of magnitude 1, prune 3 of 6", np.array([2.0, -1, 1, 1, -1, 3]), 0.5),
        ("the article's kernels, 60% sparsity", ARTICLE_KERNELS, 0.6),
    ]
    if hidden:
        cases_in.append(("random ties", rng.integers(-3, 4, size=(7, 9)).astype(float), 0.37))
        cases_in.append(("random floats", rng.normal(size=(50, 40)), 0.9))
    cases = []
    for name, w, amount in cases_in:
        expected = masks.magnitude_mask(w, amount)
        got = call(fn, w.copy(), amount)
        case = same_array(name, got, expected, bool)
        if not case.ok and np.shape(got) == w.shape:
            pruned = int(np.size(got) - np.count_nonzero(got))
            case = Case(
                name,
                False,
                f"{int((~expected).sum())} pruned: {case.expected}",
                f"{pruned} pruned: {case.got}",
            )
        cases.append(case)
    report(
        "3.2 sparsity_mask",
        cases,
        hint="k = round(amount * w.size); find the k-th smallest magnitude with np.partition, "
        "prune everything below it, then prune the first tied weights (np.flatnonzero) until "
        "exactly k are gone.",
        quiet=hidden,
    )
