"""Pruning schedules: the target sparsity at training step ``t``.

A schedule answers one question, "what fraction of the weights should be pruned
now?". The pruner then prunes up to that fraction (see :mod:`prunerec.numpy_prune`).

* :func:`constant`   the same sparsity from the start (train a sparse network);
* :func:`one_shot`   dense until step ``at``, then ``final`` at once;
* :func:`linear`     a straight ramp from ``initial`` to ``final``;
* :func:`cubic`      the gradual schedule of Zhu & Gupta (2017), fast at first, slow at the end;
* :func:`iterative`  prune a fixed fraction of the *remaining* weights each round.

Every function takes the step (or round) as a non-negative ``int``, returns a
``float`` in ``[0, 1)`` and is non-decreasing in ``t``. Sparsities are fractions
in ``[0, 1)``: a sparsity of 1 would leave no weight at all. Keyword-only
arguments keep calls readable, e.g. ``cubic(t, final=0.9, begin=0, end=100)``;
bind them with :func:`functools.partial` to get a function of ``t`` alone, which
is what :func:`schedule_table` expects.

Reference: M. Zhu and S. Gupta, "To prune, or not to prune: exploring the efficacy
of pruning for model compression", ICLR workshop 2018, arXiv:1710.01878.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

__all__ = [
    "constant",
    "one_shot",
    "linear",
    "cubic",
    "iterative",
    "per_round_for",
    "schedule_table",
]

# --------------------------------------------------------------------------- validation


def _check_step(value: int, name: str) -> int:
    """Return ``value`` as an ``int >= 0``, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def _check_sparsity(value: float, name: str) -> float:
    """Return ``value`` as a ``float`` in ``[0, 1)``, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    x = float(value)
    if not (math.isfinite(x) and 0.0 <= x < 1.0):
        raise ValueError(f"{name} must lie in [0, 1) (a fraction of the weights), got {value!r}")
    return x


def _check_ramp(
    initial: float, final: float, begin: int, end: int
) -> tuple[float, float, int, int]:
    s_i = _check_sparsity(initial, "initial")
    s_f = _check_sparsity(final, "final")
    if s_i > s_f:
        raise ValueError(
            f"initial={initial!r} must be <= final={final!r}: a schedule never un-prunes"
        )
    t0 = _check_step(begin, "begin")
    t1 = _check_step(end, "end")
    if t0 > t1:
        raise ValueError(f"begin={begin} must be <= end={end}")
    return s_i, s_f, t0, t1


# --------------------------------------------------------------------------- schedules


def constant(t: int, *, final: float) -> float:
    """Sparsity ``final`` at every step.

    Parameters
    ----------
    t : the step, an int >= 0.
    final : the sparsity, in [0, 1).

    Returns
    -------
    float, ``final``.

    Examples
    --------
    >>> constant(0, final=0.8), constant(1000, final=0.8)
    (0.8, 0.8)
    """
    _check_step(t, "t")
    return _check_sparsity(final, "final")


def one_shot(t: int, *, final: float, at: int) -> float:
    """Dense before step ``at``, sparsity ``final`` from step ``at`` on.

    Parameters
    ----------
    t : the step, an int >= 0.
    final : the sparsity after pruning, in [0, 1).
    at : the step at which all the pruning happens, an int >= 0.

    Returns
    -------
    float, 0 for ``t < at`` and ``final`` for ``t >= at``.

    Examples
    --------
    >>> [one_shot(t, final=0.9, at=2) for t in range(4)]
    [0.0, 0.0, 0.9, 0.9]
    """
    t = _check_step(t, "t")
    s_f = _check_sparsity(final, "final")
    at = _check_step(at, "at")
    return s_f if t >= at else 0.0


def linear(t: int, *, initial: float = 0.0, final: float, begin: int, end: int) -> float:
    """A straight ramp from ``initial`` (at ``begin``) to ``final`` (at ``end``).

    ``s_t = s_i + (s_f - s_i) (t - t0) / (t1 - t0)`` for ``t0 <= t <= t1``;
    ``s_i`` before ``t0`` and ``s_f`` after ``t1``. With ``begin == end`` it is a
    one-shot step at ``begin``.

    Parameters
    ----------
    t : the step, an int >= 0.
    initial : sparsity up to ``begin``, in [0, 1) and <= ``final``.
    final : sparsity from ``end`` on, in [0, 1).
    begin, end : first and last step of the ramp, ints with ``0 <= begin <= end``.

    Returns
    -------
    float, the target sparsity at step ``t``.

    Examples
    --------
    >>> [linear(t, final=0.8, begin=1, end=5) for t in (0, 1, 3, 5, 9)]
    [0.0, 0.0, 0.4, 0.8, 0.8]
    """
    t = _check_step(t, "t")
    s_i, s_f, t0, t1 = _check_ramp(initial, final, begin, end)
    if t < t0:
        return s_i
    if t >= t1:
        return s_f
    return s_i + (s_f - s_i) * (t - t0) / (t1 - t0)


def cubic(
    t: int, *, initial: float = 0.0, final: float, begin: int, end: int, frequency: int = 1
) -> float:
    """The gradual schedule of Zhu & Gupta (2017).

    .. math:: s_t = s_f + (s_i - s_f)\\left(1 - \\frac{t - t_0}{n\\,\\Delta t}\\right)^3
              \\quad\\text{for } t_0 \\le t \\le t_0 + n\\Delta t,

    with ``t0 = begin``, ``nΔt = end - begin`` and ``Δt = frequency``. It prunes
    fast while there are many redundant weights and slowly near the end, when
    every remaining weight matters. The mask is only updated every ``Δt`` steps,
    so ``t`` is first floored to the last update step ``t0 + kΔt <= t``: the
    schedule is flat between updates. Before ``t0`` it is ``s_i``, after
    ``t0 + nΔt`` it is ``s_f``.

    Parameters
    ----------
    t : the step, an int >= 0.
    initial : sparsity ``s_i`` up to ``begin``, in [0, 1) and <= ``final``.
    final : sparsity ``s_f`` from ``end`` on, in [0, 1).
    begin, end : ``t0`` and ``t0 + nΔt``, ints with ``0 <= begin <= end``.
    frequency : ``Δt``, an int >= 1 that divides ``end - begin`` (so that ``n`` is whole).

    Returns
    -------
    float, the target sparsity at step ``t``.

    Examples
    --------
    >>> cubic(50, final=0.5, begin=0, end=100)   # midpoint: s_f + (s_i - s_f) / 8
    0.4375
    >>> [cubic(t, final=0.5, begin=0, end=100, frequency=50) for t in (0, 49, 50, 99, 100)]
    [0.0, 0.0, 0.4375, 0.4375, 0.5]
    """
    t = _check_step(t, "t")
    s_i, s_f, t0, t1 = _check_ramp(initial, final, begin, end)
    if isinstance(frequency, bool) or not isinstance(frequency, numbers.Integral):
        raise TypeError(f"frequency must be an int, got {type(frequency).__name__} {frequency!r}")
    if frequency < 1:
        raise ValueError(f"frequency must be >= 1 (steps between mask updates), got {frequency}")
    span = t1 - t0  # n Δt
    if span % frequency:
        raise ValueError(
            f"frequency={frequency} must divide end - begin = {span} "
            "(the schedule has n whole updates of Δt steps)"
        )
    if t >= t1:
        return s_f
    if t < t0 + frequency:  # before t0, or at t0 and before the first update after it
        return s_i  # (exactly: the formula gives s_i only up to rounding)
    t_update = t0 + (t - t0) // frequency * frequency  # last mask update at or before t
    return s_f + (s_i - s_f) * (1.0 - (t_update - t0) / span) ** 3


def iterative(round: int, *, per_round: float, rounds: int) -> float:
    """Iterative pruning: each round prunes the fraction ``p`` of the *remaining* weights.

    After ``r`` rounds a fraction ``(1 - p)^r`` survives, so

    .. math:: s_r = 1 - (1 - p)^r ,

    the rule of iterative magnitude pruning (Han et al. 2015; Frankle & Carbin 2019,
    with ``p = 0.2``). Rounds after the last one hold the final sparsity
    ``1 - (1 - p)^rounds``. To hit a target sparsity in a given number of rounds,
    get ``p`` from :func:`per_round_for`.

    Parameters
    ----------
    round : the round ``r``, an int >= 0 (round 0 = before any pruning).
    per_round : ``p``, the fraction of the remaining weights pruned per round, in [0, 1).
    rounds : number of pruning rounds, an int >= 0.

    Returns
    -------
    float, the sparsity after ``min(round, rounds)`` rounds.

    Examples
    --------
    >>> [round(iterative(r, per_round=0.5, rounds=3), 3) for r in range(5)]
    [0.0, 0.5, 0.75, 0.875, 0.875]
    """
    r = _check_step(round, "round")
    p = _check_sparsity(per_round, "per_round")
    n = _check_step(rounds, "rounds")
    return 1.0 - (1.0 - p) ** min(r, n)


def per_round_for(final: float, rounds: int) -> float:
    """The per-round fraction ``p`` with which :func:`iterative` reaches ``final``.

    Solves ``1 - (1 - p)^rounds = final``: ``p = 1 - (1 - final)^(1 / rounds)``.

    Parameters
    ----------
    final : the target sparsity, in [0, 1).
    rounds : number of rounds, an int >= 1.

    Returns
    -------
    float, ``p`` in [0, 1).

    Examples
    --------
    >>> p = per_round_for(0.875, 3)
    >>> round(p, 12), round(iterative(3, per_round=p, rounds=3), 12)
    (0.5, 0.875)
    """
    s_f = _check_sparsity(final, "final")
    n = _check_step(rounds, "rounds")
    if n < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    return 1.0 - (1.0 - s_f) ** (1.0 / n)


def schedule_table(
    fn: Callable[[int], float], steps: int | Iterable[int]
) -> list[tuple[int, float]]:
    """Tabulate a schedule for plotting: ``[(t, fn(t)), ...]``.

    Parameters
    ----------
    fn : a function of the step alone,
        e.g. ``functools.partial(cubic, final=0.9, begin=0, end=10)``.
    steps : an int ``T`` (the steps ``0, 1, ..., T``, both ends included, so that a
        schedule's ``end`` can be the last row) or an iterable of ints >= 0.

    Returns
    -------
    list of ``(t, s)`` tuples, ``s`` a float.

    Examples
    --------
    >>> from functools import partial
    >>> schedule_table(partial(linear, final=0.5, begin=0, end=2), 3)
    [(0, 0.0), (1, 0.25), (2, 0.5), (3, 0.5)]
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable (a function of the step), got {type(fn).__name__}")
    if isinstance(steps, numbers.Integral) and not isinstance(steps, bool):
        ts = range(_check_step(steps, "steps") + 1)
    elif isinstance(steps, Iterable) and not isinstance(steps, str | bytes):
        ts = [_check_step(t, "steps[i]") for t in steps]
    else:
        raise TypeError(f"steps must be an int or an iterable of ints, got {type(steps).__name__}")
    return [(int(t), float(fn(t))) for t in ts]
