"""Graded checks of exercise 03 (threshold math). Each compares the learner's
function with :mod:`prunerec.masks` on hand-made and random cases."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from prunerec import masks
from prunerec.checks import Case, call, report, same_array

__all__ = [
    "ARTICLE_KERNELS",
    "check_threshold_mask",
    "check_sparsity_mask",
    "check_global_masks",
    "check_soft_threshold",
    "check_kernel_mask",
]

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


def check_global_masks(fn: Callable, hidden: bool = False) -> None:
    """3.3: ``fn(layers, amount)`` returns one mask per layer, pruning exactly
    ``round(amount * total)`` weights of smallest magnitude over all layers together; ties
    are pruned in order: layers in list order, each in row-major order."""
    rng = np.random.default_rng(33)
    big, small = rng.normal(size=(4, 5)), 0.01 * rng.normal(size=(3, 3))
    cases_in = [
        ("a large-scale and a small-scale layer, 30%", [big, small], 0.3),
        ("the small layer first, 50%", [small, big], 0.5),
        ("ties across layers: the earlier layer goes first", [np.ones((2, 2)), np.ones(3)], 0.5),
        ("amount 0.0 prunes nothing", [big, small], 0.0),
        (
            "three layers of different shapes, 60%",
            [rng.normal(size=(2, 3)), 3 * rng.normal(size=4), rng.normal(size=(2, 2, 2))],
            0.6,
        ),
    ]
    if hidden:
        layers = [s * rng.normal(size=(6, 7)) for s in (0.1, 1.0, 10.0)]
        cases_in.append(("scales 0.1, 1 and 10, 80%", layers, 0.8))
    cases = []
    for name, layers, amount in cases_in:
        expected = masks.global_magnitude_masks(layers, amount)
        got = call(fn, [a.copy() for a in layers], amount)
        if not isinstance(got, list | tuple) or len(got) != len(layers):
            cases.append(Case(name, False, f"a list of {len(layers)} masks", repr(got)[:200]))
            continue
        per_layer = [
            same_array(f"{name}, layer {j}", g, e, bool)
            for j, (g, e) in enumerate(zip(got, expected, strict=True))
        ]
        bad = [(j, c) for j, c in enumerate(per_layer) if not c.ok]
        if not bad:
            cases.append(Case(name, True))
            continue
        want = [int((~e).sum()) for e in expected]
        try:
            pruned = [int(np.size(g) - np.count_nonzero(g)) for g in got]
        except Exception:  # a learner may return anything
            pruned = "?"
        exp, gotten = f"pruned per layer {want}", f"pruned per layer {pruned}"
        if want == pruned:  # right counts, wrong weights: show where
            j, c = bad[0]
            exp += f", layer {j} = {' '.join(c.expected.split())}"
            gotten += f", layer {j} = {' '.join(c.got.split())}"
        cases.append(Case(name, False, exp, gotten))
    report(
        "3.3 global_masks",
        cases,
        hint="concatenate np.abs(layer).ravel() of all layers, prune the k = round(amount * "
        "total) smallest of that one vector exactly as in 3.2, then cut the flat mask back "
        "into pieces of each layer's size and shape. Do not prune each layer separately.",
        quiet=hidden,
    )


def check_soft_threshold(fn: Callable, hidden: bool = False) -> None:
    """3.4: ``fn(w, lam)`` = ``sign(w) * max(|w| - lam, 0)``, the proximal operator of
    ``lam * ||w||_1``."""
    rng = np.random.default_rng(34)
    cases_in = [
        ("positive and negative weights", np.array([-3.0, -0.5, 0.2, 1.0, 2.5]), 1.0),
        ("survivors shrink too: |w| - lam", np.array([[4.0, -4.0], [1.5, -1.5]]), 1.0),
        ("a weight equal to lam becomes 0", np.array([1.0, -1.0, 1.0001]), 1.0),
        ("lam = 0 changes nothing", np.array([-2.0, 0.0, 3.0]), 0.0),
        ("the article's kernels, lam = 2", ARTICLE_KERNELS, 2.0),
    ]
    if hidden:
        cases_in.append(("random 10 x 10", rng.normal(size=(10, 10)), 0.8))
    cases = []
    for name, w, lam in cases_in:
        expected = masks.soft_threshold(w, lam)
        cases.append(same_array(name, call(fn, w.copy(), lam), expected))
    report(
        "3.4 soft_threshold",
        cases,
        hint="every weight moves lam towards 0 and stops at 0: np.sign(w) * np.maximum(np.abs(w) "
        "- lam, 0). Keeping survivors unchanged is hard thresholding; forgetting the sign "
        "breaks negative weights.",
        quiet=hidden,
    )


def check_kernel_mask(fn: Callable, hidden: bool = False) -> None:
    """3.5: ``fn(kernels, theta, norm)`` keeps kernel ``i`` (``kernels[i]``) when its L1 or
    L2 norm is strictly greater than ``theta``; returns one bool per kernel."""
    rng = np.random.default_rng(35)
    cases_in = [
        ("the article's example: theta = 2, L2", ARTICLE_KERNELS, 2.0, "l2"),
        ("theta = 12, L2: only w4 (norm 11.87) goes", ARTICLE_KERNELS, 12.0, "l2"),
        ("theta = 35, L1", ARTICLE_KERNELS, 35.0, "l1"),
        ("a norm equal to theta is pruned (L1 of w1 is 45)", ARTICLE_KERNELS, 45.0, "l1"),
        ("negative weights count by magnitude", -ARTICLE_KERNELS, 15.0, "l2"),
    ]
    if hidden:
        cases_in.append(("random 8 x 3 x 3, L2", rng.normal(size=(8, 3, 3)), 3.0, "l2"))
        cases_in.append(("random 6 x 4, L1", rng.normal(size=(6, 4)), 3.0, "l1"))
    cases = []
    for name, k, theta, norm in cases_in:
        expected = masks.structure_norms(k, axis=0, norm=norm) > theta
        cases.append(same_array(name, call(fn, k.copy(), theta, norm), expected, bool))
    report(
        "3.5 kernel_mask",
        cases,
        hint="one score per kernel: flatten each kernel (kernels.reshape(len(kernels), -1)), take "
        "its L1 norm (sum of |w|) or L2 norm (square root of the sum of squares), and keep it "
        "when the norm is strictly greater than theta. Return shape (n_kernels,).",
        quiet=hidden,
    )
