"""Graded checks of exercise 04 (a NumPy pruner). Each compares the learner's function with
the library's reference (:mod:`prunerec.numpy_nn`, :mod:`prunerec.schedules`,
:mod:`prunerec.masks`) on hand-made cases chosen so that the usual mistakes show, and on
random ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from prunerec import masks, schedules
from prunerec.checks import Case, call, close, report, same_array
from prunerec.numpy_nn import Adam, Linear

__all__ = [
    "check_masked_linear_backward",
    "check_masked_adam_step",
    "check_cubic_sparsity",
    "check_iterative_round",
    "check_sensitivity_scan",
]


def _unpack(got: object, n: int) -> tuple | None:
    """The learner's result as an n-tuple, or None if it is not one."""
    if isinstance(got, tuple | list) and len(got) == n:
        return tuple(got)
    return None


# --------------------------------------------------------------------------- 4.1


def _linear_reference(x, w_orig, mask, grad_out):
    lin = Linear(w_orig.shape[1], w_orig.shape[0], rng=0)
    lin.params["weight"] = w_orig * mask
    lin.params["bias"] = np.zeros(w_orig.shape[0])
    lin.forward(x)
    d_x = lin.backward(grad_out)
    # (+ 0.0 turns the -0.0 of a masked negative entry into 0.0, for readable messages)
    return lin.grads["weight"] * mask + 0.0, lin.grads["bias"].copy(), d_x


def check_masked_linear_backward(fn: Callable, hidden: bool = False) -> None:
    """4.1: ``fn(x, w_orig, mask, grad_out)`` returns ``(d_orig, d_bias, d_x)`` for the layer
    ``y = x @ (w_orig * mask).T + b``."""
    rng = np.random.default_rng(41)
    w = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    m = np.array([[True, False, True], [False, True, True]])
    cases_in = [
        ("one sample, two pruned weights", np.array([[1.0, 2.0, 3.0]]), w, m, np.array([[1.0, -1.0]])),
        ("a batch of 4: the bias gradient sums over it", rng.normal(size=(4, 3)), w, m, rng.normal(size=(4, 2))),
        ("nothing pruned: a plain linear layer", rng.normal(size=(3, 3)), w, np.ones_like(m), rng.normal(size=(3, 2))),
        ("a whole output row pruned", rng.normal(size=(5, 3)), w, np.array([[False] * 3, [True] * 3]), rng.normal(size=(5, 2))),
    ]  # fmt: skip
    if hidden:
        big = rng.normal(size=(6, 5))
        cases_in.append(
            ("random 6 x 5 layer, batch 7", rng.normal(size=(7, 5)), big, rng.random((6, 5)) < 0.4, rng.normal(size=(7, 6)))
        )  # fmt: skip
    cases = []
    for name, x, w_orig, mask, g in cases_in:
        expected = _linear_reference(x, w_orig, mask, g)
        got = _unpack(call(fn, x.copy(), w_orig.copy(), mask.copy(), g.copy()), 3)
        if got is None:
            cases.append(Case(name, False, "a tuple (d_orig, d_bias, d_x)", "something else"))
            continue
        for label, g_arr, e_arr in zip(("d_orig", "d_bias", "d_x"), got, expected, strict=True):
            cases.append(same_array(f"{name}: {label}", g_arr, e_arr))
    report(
        "4.1 masked_linear_backward",
        cases,
        hint="the forward pass used w = w_orig * mask. dW = grad_out.T @ x, and by the chain rule "
        "d_orig = dW * mask (a pruned weight gets no gradient); d_bias = grad_out.sum(axis=0) "
        "(a sum over the batch, not a mean); d_x = grad_out @ w with the MASKED weight.",
        quiet=hidden,
    )


# --------------------------------------------------------------------------- 4.2


def _adam_reference(p, g, m, v, t, mask, lr, beta1, beta2, eps):
    w = p.copy()
    opt = Adam({"w": w}, lr=lr, betas=(beta1, beta2), eps=eps)
    opt.state["w"] = {"m": m.copy(), "v": v.copy()}
    opt.t = t - 1
    opt.step({"w": g}, masks={"w": mask})
    return w + 0.0, opt.state["w"]["m"] + 0.0, opt.state["w"]["v"] + 0.0


def check_masked_adam_step(fn: Callable, hidden: bool = False) -> None:
    """4.2: ``fn(p, g, m, v, t, mask, lr, beta1, beta2, eps)`` returns ``(p, m, v)`` after
    Adam's step number ``t`` (1 for the first), with pruned weights and their state at 0."""
    rng = np.random.default_rng(42)
    p = np.array([0.5, -1.0, 2.0, 0.1])
    mask = np.array([True, False, True, False])
    cases_in = [
        ("first step, zero state", p, np.array([0.2, -0.4, 1.0, 3.0]), np.zeros(4), np.zeros(4), 1, mask, 0.1),
        (
            "step 5 right after pruning: the pruned weights still have momentum",
            p, np.array([0.2, -0.4, 1.0, 3.0]), np.array([0.1, 0.3, -0.2, 0.5]),
            np.array([0.01, 0.02, 0.03, 0.04]), 5, mask, 0.01,
        ),
        (
            "nothing pruned: plain Adam",
            p, rng.normal(size=4), rng.normal(size=4), rng.random(4), 3, np.ones(4, dtype=bool), 0.05,
        ),
        (
            "a 2-D weight, step 20",
            rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), 0.1 * rng.normal(size=(3, 4)),
            0.1 * rng.random((3, 4)), 20, rng.random((3, 4)) < 0.5, 0.001,
        ),
    ]  # fmt: skip
    if hidden:
        cases_in.append(
            ("random 5 x 6, step 100", rng.normal(size=(5, 6)), rng.normal(size=(5, 6)),
             rng.normal(size=(5, 6)), rng.random((5, 6)), 100, rng.random((5, 6)) < 0.3, 0.02)
        )  # fmt: skip
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    cases = []
    for name, p0, g, m0, v0, t, keep, lr in cases_in:
        expected = _adam_reference(p0, g, m0, v0, t, keep, lr, beta1, beta2, eps)
        args = (p0.copy(), g.copy(), m0.copy(), v0.copy(), t, keep.copy(), lr, beta1, beta2, eps)
        got = _unpack(call(fn, *args), 3)
        if got is None:
            cases.append(Case(name, False, "a tuple (p, m, v)", "something else"))
            continue
        for label, g_arr, e_arr in zip(("p", "m", "v"), got, expected, strict=True):
            cases.append(same_array(f"{name}: {label}", g_arr, e_arr))
    report(
        "4.2 masked_adam_step",
        cases,
        hint="mask first: g, m and v are multiplied by the mask (a pruned weight must keep no "
        "momentum, or it moves again). Then m = beta1*m + (1-beta1)*g, v = beta2*v + "
        "(1-beta2)*g**2, p -= lr * (m / (1-beta1**t)) / (sqrt(v / (1-beta2**t)) + eps), and "
        "finally p[~mask] = 0.",
        quiet=hidden,
    )


# --------------------------------------------------------------------------- 4.3


def check_cubic_sparsity(fn: Callable, hidden: bool = False) -> None:
    """4.3: ``fn(t, final, begin, end, frequency=1, initial=0.0)`` is the cubic schedule of
    Zhu & Gupta (2017), as :func:`prunerec.schedules.cubic`."""
    configs = [
        ("final 0.9 over steps 0..100", dict(final=0.9, begin=0, end=100, frequency=1, initial=0.0),
         [0, 1, 25, 50, 75, 99, 100, 250]),
        ("starts at step 20", dict(final=0.8, begin=20, end=60, frequency=1, initial=0.0),
         [0, 19, 20, 30, 40, 59, 60, 61]),
        ("mask updated every 10 steps: flat in between", dict(final=0.9, begin=0, end=100, frequency=10, initial=0.0),
         [0, 9, 10, 15, 19, 20, 55, 99, 100]),
        ("initial sparsity 0.3", dict(final=0.75, begin=5, end=45, frequency=5, initial=0.3),
         [0, 5, 9, 10, 27, 44, 45, 90]),
    ]  # fmt: skip
    if hidden:
        configs.append(
            ("random steps", dict(final=0.95, begin=7, end=107, frequency=4, initial=0.1),
             sorted(np.random.default_rng(43).integers(0, 150, 12).tolist()))
        )  # fmt: skip
    cases = []
    for name, kw, steps in configs:
        for t in steps:
            expected = schedules.cubic(t, **kw)
            got = call(
                fn, t, kw["final"], kw["begin"], kw["end"],
                frequency=kw["frequency"], initial=kw["initial"],
            )  # fmt: skip
            case = close(f"{name}, t = {t}", got, round(expected, 12), tol=1e-9)
            cases.append(case)
    report(
        "4.3 cubic_sparsity",
        cases,
        hint="before begin + frequency return initial, from end on return final; in between "
        "floor t to the last update step, t_u = begin + ((t - begin) // frequency) * frequency, "
        "and return final + (initial - final) * (1 - (t_u - begin) / (end - begin)) ** 3.",
        quiet=hidden,
    )


# --------------------------------------------------------------------------- 4.4


def _round_reference(weights, keep_masks, per_round):
    out = {}
    for name, w in weights.items():
        keep = keep_masks[name].copy()
        if keep.any():
            keep[keep] = masks.magnitude_mask(w[keep], per_round)
        out[name] = keep
    return out


def check_iterative_round(fn: Callable, hidden: bool = False) -> None:
    """4.4: ``fn(weights, masks, per_round)`` prunes, in every layer, ``round(per_round *
    n_alive)`` of the surviving weights with the smallest magnitude; pruned weights stay
    pruned. ``weights`` are the effective weights (pruned entries are 0)."""
    rng = np.random.default_rng(44)

    def layer(shape, pruned_fraction, scale=1.0):
        keep = rng.random(shape) >= pruned_fraction
        return scale * rng.normal(size=shape) * keep, keep

    w1 = np.array([[0.0, 0.5, -0.1], [0.0, 2.0, -0.3]])
    k1 = np.array([[False, True, True], [False, True, True]])
    a, ka = layer((4, 6), 0.3)
    b, kb = layer((10, 3), 0.6, scale=0.01)
    c, kc = layer((5, 5), 0.0)
    cases_in = [
        ("two weights pruned already, half of the 4 survivors go", {"w": w1}, {"w": k1}, 0.5),
        ("first round: nothing pruned yet", {"w": c}, {"w": kc}, 0.2),
        ("two layers of different scales: each loses its own share", {"a": a, "b": b}, {"a": ka, "b": kb}, 0.2),
        ("per_round 0 prunes nothing more", {"a": a}, {"a": ka}, 0.0),
    ]  # fmt: skip
    if hidden:
        d, kd = layer((8, 9), 0.75)
        cases_in.append(("random, 75% pruned already", {"d": d, "c": c}, {"d": kd, "c": kc}, 0.4))
    cases = []
    for name, weights, keep_masks, per_round in cases_in:
        expected = _round_reference(weights, keep_masks, per_round)
        given = {n: k.copy() for n, k in keep_masks.items()}
        got = call(fn, {n: w.copy() for n, w in weights.items()}, given, per_round)
        if not all(np.array_equal(given[n], keep_masks[n]) for n in keep_masks):
            cases.append(
                Case(f"{name}: the masks passed in", False, "left unchanged", "modified in place")
            )
        if not isinstance(got, Mapping) or set(got) != set(expected):
            cases.append(Case(name, False, f"a dict with keys {sorted(expected)}", repr(got)[:200]))
            continue
        for n in expected:
            case = same_array(f"{name}: layer {n!r}", got[n], expected[n], bool)
            if not case.ok and np.shape(got[n]) == expected[n].shape:
                want = int((~expected[n]).sum())
                have = int(np.size(got[n]) - np.count_nonzero(got[n]))
                case = Case(case.name, False, f"{want} pruned in all", f"{have} pruned")
                if want == have:
                    case = Case(case.name, False, "the smallest survivors pruned", "other ones")
            cases.append(case)
    report(
        "4.4 iterative_round",
        cases,
        hint="work on the survivors only: alive = w[mask]; prune k = round(per_round * "
        "alive.size) of THEM by magnitude (the already pruned zeros are not candidates, or they "
        "would be 'pruned' again); write the result back with new[mask] = keep_alive on a COPY "
        "of the mask.",
        quiet=hidden,
    )


# --------------------------------------------------------------------------- 4.5


def _fingerprint(weights: Mapping[str, np.ndarray]) -> tuple:
    """What the check's evaluate_fn returns: zeros per layer and the L1 norm per layer."""
    return tuple(
        (int(np.size(w) - np.count_nonzero(w)), round(float(np.abs(w).sum()), 9))
        for w in weights.values()
    )


def _scan_reference(weights, amounts):
    out = {}
    for name in weights:
        out[name] = []
        for amount in amounts:
            trial = dict(weights)
            trial[name] = masks.apply_mask(
                weights[name], masks.magnitude_mask(weights[name], amount)
            )
            out[name].append((amount, _fingerprint(trial)))
    return out


def check_sensitivity_scan(fn: Callable, hidden: bool = False) -> None:
    """4.5: ``fn(evaluate_fn, weights, amounts)`` returns ``{name: [(amount, metric), ...]}``:
    for every layer and amount, the metric of the weights with **only** that layer
    magnitude-pruned by ``amount``; the weights passed in are left unchanged."""
    rng = np.random.default_rng(45)
    w2 = {"emb": rng.normal(size=(6, 4)), "out": rng.normal(size=(1, 5))}
    w3 = {"a": rng.normal(size=(3, 3)), "b": 5 * rng.normal(size=(4, 2)), "c": rng.normal(size=7)}
    cases_in = [
        ("two layers, amounts 0.5 and 0.8", w2, [0.5, 0.8]),
        ("three layers, three amounts", w3, [0.25, 0.5, 0.9]),
        ("amount 1.0 prunes the whole layer", {"x": rng.normal(size=(2, 5))}, [1.0]),
    ]
    if hidden:
        cases_in.append(
            ("random", {"p": rng.normal(size=(9, 4)), "q": rng.normal(size=(2, 2))}, [0.1, 0.6])
        )
    cases = []
    for name, weights, amounts in cases_in:
        expected = _scan_reference(weights, amounts)
        given = {n: w.copy() for n, w in weights.items()}
        got = call(fn, _fingerprint, given, list(amounts))
        if not all(np.array_equal(given[n], weights[n]) for n in weights):
            cases.append(
                Case(f"{name}: the weights passed in", False, "left unchanged", "modified")
            )
        if not isinstance(got, Mapping) or list(got) != list(expected):
            keys = list(got) if isinstance(got, Mapping) else repr(got)[:100]
            cases.append(Case(name, False, f"a dict with keys {list(expected)}", f"{keys}"))
            continue
        for n, points in expected.items():
            want = [(a, [z for z, _ in fp]) for a, fp in points]
            try:
                have = [(a, [z for z, _ in fp]) for a, fp in got[n]]
            except Exception:  # a learner may return anything
                have = repr(got[n])[:200]
            try:
                ok = len(got[n]) == len(points) and all(
                    tuple(p) == e for p, e in zip(got[n], points, strict=True)
                )
            except Exception:  # a learner may return anything
                ok = False
            if ok:
                cases.append(Case(f"{name}: layer {n!r}", True))
            elif want != have:
                cases.append(
                    Case(
                        f"{name}: layer {n!r}",
                        False,
                        f"(amount, zeros in each layer) = {want}",
                        f"{have}",
                    )
                )
            else:
                cases.append(
                    Case(
                        f"{name}: layer {n!r}",
                        False,
                        "the smallest-magnitude weights pruned",
                        "the right number of zeros, but other weights",
                    )
                )
    report(
        "4.5 sensitivity_scan",
        cases,
        hint="for each name and each amount: trial = dict(weights) (a shallow copy), trial[name] "
        "= a pruned COPY of weights[name] (magnitude_mask + apply_mask), metric = "
        "evaluate_fn(trial). Only that layer is pruned, and the next trial starts again from the "
        "original weights; never write into the arrays you were given.",
        quiet=hidden,
    )
