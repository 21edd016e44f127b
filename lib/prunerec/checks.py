"""The machinery of graded checks: cases, their verdict, and one printed line.

An exercise's check function (``prunerec.checks_exNN``) runs the learner's code on
several cases and hands them to :func:`report`. On success it prints one
deterministic line, e.g. ``✓ 3.1 threshold_mask: 5/5 checks passed``, which nbval
compares with the stored line. On failure it raises ``AssertionError`` saying, for
each failed case, what was expected and what came back, followed by a hint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Case", "report", "call", "same_array", "close"]


@dataclass(frozen=True)
class Case:
    """One checked fact: its name, whether it held, and what was expected and got."""

    name: str
    ok: bool
    expected: str = ""
    got: str = ""


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; an unfinished exercise becomes a clear failure.

    Examples
    --------
    >>> call(lambda x: x + 1, 1)
    2
    """
    if not callable(fn):
        raise AssertionError(f"expected a function, got {type(fn).__name__}: did you run its cell?")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        name = getattr(fn, "__name__", "the function")
        raise AssertionError(
            f"{name} is not implemented yet ({exc}). Write it in the cell above, run that "
            "cell, then run this check again."
        ) from None


def _short(value: Any) -> str:
    text = (
        np.array2string(np.asarray(value), threshold=20, precision=4)
        if not isinstance(value, str)
        else value
    )
    return text if len(text) <= 300 else text[:297] + "..."


def same_array(name: str, got: Any, expected: np.ndarray, dtype: type | None = None) -> Case:
    """A case comparing an array with the expected one (shape, optional dtype kind, values).

    Examples
    --------
    >>> same_array("mask", [True, False], np.array([True, False]), bool).ok
    True
    """
    try:
        arr = np.asarray(got)
    except Exception:  # a learner may return anything
        return Case(name, False, f"an array of shape {expected.shape}", repr(got)[:200])
    if arr.shape != expected.shape:
        return Case(name, False, f"shape {expected.shape}", f"shape {arr.shape}")
    if dtype is bool and arr.dtype != bool:
        return Case(name, False, "a boolean mask (dtype bool)", f"dtype {arr.dtype}")
    if np.issubdtype(expected.dtype, np.floating):
        equal = np.isclose(arr, expected, rtol=1e-6, atol=1e-9)
    else:
        equal = arr == expected
    if bool(np.all(equal)):
        return Case(name, True)
    if expected.size <= 12:
        return Case(name, False, _short(expected), _short(arr))
    wrong = np.argwhere(~np.asarray(equal))
    where = ", ".join(
        f"{tuple(int(i) for i in idx)}: {expected[tuple(idx)].item()!r} vs {arr[tuple(idx)].item()!r}"
        for idx in wrong[:3]
    )
    return Case(
        name,
        False,
        f"all {expected.size} entries to match the reference",
        f"{len(wrong)} that differ, e.g. (index: expected vs got) {where}",
    )


def close(name: str, got: Any, expected: float, tol: float = 1e-6) -> Case:
    """A case comparing a number with the expected one (absolute tolerance ``tol``).

    Examples
    --------
    >>> close("theta", 0.30000001, 0.3).ok
    True
    """
    try:
        value = float(got)
    except (TypeError, ValueError):
        return Case(name, False, f"{expected!r}", repr(got)[:200])
    return Case(name, bool(abs(value - expected) <= tol), f"{expected!r}", f"{value!r}")


def report(label: str, cases: list[Case], hint: str, quiet: bool = False) -> None:
    """Print ``✓ label: n/n checks passed`` or raise AssertionError listing failures.

    Parameters
    ----------
    label : the check's name as the learner sees it, e.g. ``"3.1 threshold_mask"``.
    cases : the checked facts.
    hint : what to look at when something failed.
    quiet : print nothing on success (used by hidden tests, whose output is not stored).

    Examples
    --------
    >>> report("0.1 demo", [Case("one plus one", 1 + 1 == 2)], hint="count again")
    ✓ 0.1 demo: 1/1 checks passed
    """
    if not cases:
        raise ValueError("cases is empty: a check must check something")
    failed = [c for c in cases if not c.ok]
    if failed:
        lines = [f"✗ {label}: {len(failed)} of {len(cases)} checks failed"]
        for c in failed:
            detail = f": expected {c.expected}, got {c.got}" if c.expected or c.got else ""
            lines.append(f"  - {c.name}{detail}")
        lines.append(f"Hint: {hint}")
        raise AssertionError("\n".join(lines))
    if not quiet:
        print(f"✓ {label}: {len(cases)}/{len(cases)} checks passed")
