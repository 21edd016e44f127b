"""Graded checks of exercise 06 (serving: bytes and latency). Each compares the learner's
function with :mod:`prunerec.storage` / :mod:`prunerec.serving`, or, for the timing loop,
with what an honest measurement must see."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from prunerec import serving, storage
from prunerec.checks import Case, call, close, report

__all__ = [
    "check_csr_bytes",
    "check_break_even",
    "check_time_calls",
    "check_choose_format",
    "check_crossover",
]


def check_csr_bytes(fn: Callable, hidden: bool = False) -> None:
    """6.1: ``fn(n_rows, n_cols, nnz, value_bytes, index_bytes, pointer_bytes)`` = the CSR
    payload ``nnz*(value_bytes + index_bytes) + (n_rows + 1)*pointer_bytes``."""
    cases_in = [
        ("the item table at 90%: 1682 x 32, uint8 indices", (1682, 32, 5382, 4, 1, 2)),
        ("an MLP layer at 90%: 64 x 64", (64, 64, 410, 4, 1, 2)),
        ("torch's CSR: int64 indices and pointers", (1682, 32, 5382, 4, 8, 8)),
        ("an empty matrix still stores its row pointers", (100, 300, 0, 4, 2, 1)),
        ("fp16 values, a wide matrix", (10, 70_000, 1000, 2, 4, 2)),
    ]
    if hidden:
        cases_in.append(("one row", (1, 5, 5, 8, 1, 1)))
    cases = []
    for name, (r, c, z, v, i, p) in cases_in:
        expected = storage.predicted_bytes((r, c), z, "csr", v, i, p)
        cases.append(close(name, call(fn, r, c, z, v, i, p), expected, tol=0))
    rng = np.random.default_rng(61)
    w = rng.standard_normal((37, 200)).astype(np.float32)
    w[rng.random(w.shape) < 0.85] = 0
    values, indices, indptr = storage.to_csr(w)
    real = values.nbytes + indices.nbytes + indptr.nbytes
    got = call(fn, 37, 200, int(np.count_nonzero(w)), 4, indices.itemsize, indptr.itemsize)
    cases.append(close("the bytes of the arrays storage.to_csr really builds", got, real, tol=0))
    report(
        "6.1 csr_bytes",
        cases,
        hint="CSR stores every non-zero value (value_bytes each) and its column index "
        "(index_bytes each), plus one row pointer per row AND one more at the end "
        "(n_rows + 1 pointers, pointer_bytes each). n_cols does not appear in the formula.",
        quiet=hidden,
    )


def check_break_even(fn: Callable, hidden: bool = False) -> None:
    """6.2: ``fn(fmt, value_bytes, index_bytes)`` = the sparsity above which ``fmt``
    ("csr" or "bitmask") is smaller than dense (large matrix, pointers ignored)."""
    cases_in = [
        ("csr, fp32 values, uint8 indices", ("csr", 4, 1)),
        ("csr, fp32 values, uint16 indices", ("csr", 4, 2)),
        ("csr as torch stores it: fp32 values, int64 indices", ("csr", 4, 8)),
        ("csr, fp16 values, int16 indices", ("csr", 2, 2)),
        ("bitmask, fp32 values", ("bitmask", 4, 1)),
        ("bitmask, fp16 values", ("bitmask", 2, 1)),
    ]
    if hidden:
        cases_in.append(("csr, fp64 values, int32 indices", ("csr", 8, 4)))
        cases_in.append(("bitmask, int8 values", ("bitmask", 1, 1)))
    cases = []
    for name, (fmt, v, i) in cases_in:
        expected = storage.break_even_sparsity(fmt, v, i)
        cases.append(close(name, call(fn, fmt, v, i), expected, tol=1e-9))
    report(
        "6.2 break_even",
        cases,
        hint="write the size of each format as a function of the sparsity s of an n-entry "
        "matrix and solve 'format size = dense size' for s. CSR: (1-s)*n*(v+i) = n*v. "
        "Bitmask: n/8 + (1-s)*n*v = n*v (the mask costs one BIT per entry, 1/8 byte).",
        quiet=hidden,
    )


class _Clock:
    """Fakes for the timing loop: a function whose first calls are slow (cold caches), and
    a sync that waits for asynchronous 'device' work, recording the order of events."""

    def __init__(self, cold_calls: int, cold_s: float, work_s: float, sync_s: float) -> None:
        self.cold_calls, self.cold_s, self.work_s, self.sync_s = cold_calls, cold_s, work_s, sync_s
        self.events: list[str] = []

    def fn(self) -> None:
        n = self.events.count("fn")
        self.events.append("fn")
        time.sleep(self.cold_s if n < self.cold_calls else self.work_s)

    def sync(self) -> None:
        self.events.append("sync")
        time.sleep(self.sync_s)


def _timings(got: object, repeats: int) -> tuple[np.ndarray | None, str]:
    try:
        t = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return None, repr(got)[:200]
    if t.shape != (repeats,):
        return None, f"shape {t.shape}"
    return t, ""


def check_time_calls(fn: Callable, hidden: bool = False) -> None:
    """6.3: ``fn(work, sync, repeats, warmup)`` times ``work()`` ``repeats`` times after
    ``warmup`` untimed calls, calls ``sync()`` after each call *inside* the timing, and
    returns the timings in milliseconds (an array of length ``repeats``)."""
    cases = []
    # 1. the shape and the unit: 2 ms of work, synchronous
    clock = _Clock(0, 0.0, 0.002, 0.0)
    t, err = _timings(call(fn, clock.fn, clock.sync, 8, 2), 8)
    if t is None:
        cases.append(Case("returns one timing per repeat", False, "an array of shape (8,)", err))
    else:
        cases.append(Case("returns one timing per repeat", True))
        med = float(np.median(t))
        cases.append(
            Case(
                "timings are in milliseconds (2 ms of work)",
                1.8 <= med <= 100,
                "a median between 1.8 and 100",
                f"{med:.6g}",
            )
        )
    # 2. warm-up: the first 3 calls take 40 ms each, later ones nothing
    clock = _Clock(3, 0.040, 0.0, 0.0)
    t, err = _timings(call(fn, clock.fn, clock.sync, 10, 3), 10)
    calls = clock.events.count("fn")
    cases.append(
        Case("work() is called warmup + repeats times", calls == 13, "13 calls", f"{calls}")
    )
    if t is not None:
        slow = int((t >= 35).sum())
        cases.append(
            Case(
                "the warm-up calls are not timed",
                slow == 0,
                "no timing >= 35 ms (the 3 slow cold calls are warm-up)",
                f"{slow} timings >= 35 ms",
            )
        )
    # 3. asynchronous work: work() returns at once, sync() waits 5 ms for it to finish
    clock = _Clock(0, 0.0, 0.0, 0.005)
    t, err = _timings(call(fn, clock.fn, clock.sync, 8, 1), 8)
    if t is not None:
        low = float(t.min())
        cases.append(
            Case(
                "sync() runs after each call, before the clock stops",
                low >= 4.5,
                "every timing >= 4.5 ms (each call's work ends in sync())",
                f"a timing of {low:.3g} ms",
            )
        )
    ev = clock.events
    pairs = sum(1 for a, b in zip(ev, ev[1:], strict=False) if (a, b) == ("fn", "sync"))
    cases.append(
        Case(
            "every call to work() is followed by sync()",
            pairs >= 8,
            "at least 8 'work, sync' pairs",
            f"{pairs}",
        )
    )
    if hidden:
        clock = _Clock(0, 0.0, 0.001, 0.0)
        t, err = _timings(call(fn, clock.fn, clock.sync, 30, 0), 30)
        ok = t is not None and clock.events.count("fn") == 30
        cases.append(Case("warmup = 0 is allowed", ok, "30 timings, 30 calls", err or "?"))
    report(
        "6.3 time_calls",
        cases,
        hint="call work() warmup times without timing, then sync(); for each repeat: t0 = "
        "time.perf_counter(); work(); sync(); append (time.perf_counter() - t0) * 1000. "
        "The sync must be inside the timed region: on a GPU, work() only queues kernels.",
        quiet=hidden,
    )


def _reference_format(n_rows: int, n_cols: int, nnz: int, value_bytes: int) -> str:
    sizes = {
        fmt: storage.predicted_bytes((n_rows, n_cols), nnz, fmt, value_bytes)
        for fmt in storage.FORMATS
    }
    return serving.best_format(sizes)


def check_choose_format(fn: Callable, hidden: bool = False) -> None:
    """6.4: ``fn(n_rows, n_cols, nnz, value_bytes)`` returns ``"dense"``, ``"csr"`` or
    ``"bitmask"``, whichever stores the matrix in the fewest bytes (payload formulas, the
    smallest unsigned index types; ties go to the earlier of dense, csr, bitmask)."""
    n = 1682 * 32
    cases_in = [
        ("item table, 0% sparse", (1682, 32, n, 4)),
        ("item table, 2% sparse", (1682, 32, round(0.98 * n), 4)),
        ("item table, 30% sparse", (1682, 32, round(0.70 * n), 4)),
        ("item table, 60% sparse", (1682, 32, round(0.40 * n), 4)),
        ("item table, 90% sparse", (1682, 32, round(0.10 * n), 4)),
        ("item table, 99% sparse", (1682, 32, round(0.01 * n), 4)),
        ("wide layer (1000 columns: uint16 indices), 90% sparse", (100, 1000, 10_000, 4)),
        ("fp16 values, 95% sparse", (512, 512, round(0.05 * 512 * 512), 2)),
    ]
    if hidden:
        cases_in.append(("an all-zero matrix", (300, 300, 0, 4)))
        cases_in.append(("70,000 columns (uint32 indices), 96% sparse", (50, 70_000, 140_000, 4)))
    cases = []
    for name, args in cases_in:
        expected = _reference_format(*args)
        got = call(fn, *args)
        cases.append(Case(name, got == expected, repr(expected), repr(got)))
    report(
        "6.4 choose_format",
        cases,
        hint="compute all three sizes and return the smallest: dense = n_rows*n_cols*v; csr = "
        "your csr_bytes with the smallest unsigned index type holding n_cols - 1 and pointer "
        "type holding nnz (1, 2, 4 or 8 bytes); bitmask = ceil(n_rows*n_cols/8) + nnz*v. "
        "A rule of thumb on the sparsity alone is wrong somewhere.",
        quiet=hidden,
    )


def check_crossover(fn: Callable, hidden: bool = False) -> None:
    """6.5: ``fn(sparsities, dense_ms, sparse_ms)`` = the lowest sparsity from which the
    sparse kernel is faster at every higher measured sparsity too, or ``None``."""
    cases_in = [
        ("a clean crossing at 80%", ([0.5, 0.7, 0.8, 0.9], [1, 1, 1, 1], [3, 1.5, 0.9, 0.5])),
        (
            "a lucky dip at 60% does not count",
            ([0.5, 0.6, 0.7, 0.8, 0.9], [1, 1, 1, 1, 1], [2, 0.95, 1.2, 0.8, 0.6]),
        ),
        ("never faster", ([0.5, 0.9, 0.99], [1, 1, 1], [4, 2, 1.01])),
        ("faster everywhere", ([0.0, 0.5], [2, 2], [1, 1])),
        ("equal is not faster", ([0.8, 0.9], [1, 1], [1, 0.5])),
        ("faster, then slower again at the top", ([0.8, 0.9, 0.99], [1, 1, 1], [0.9, 0.8, 1.1])),
    ]
    if hidden:
        cases_in.append(("one sparsity", ([0.9], [1.0], [0.5])))
    cases = []
    for name, (s, d, p) in cases_in:
        expected = serving.crossover_sparsity(s, d, p)
        got = call(fn, list(s), list(d), list(p))
        ok = got is None if expected is None else got is not None and abs(got - expected) < 1e-12
        cases.append(Case(name, ok, repr(expected), repr(got)))
    report(
        "6.5 crossover",
        cases,
        hint="walk from the highest sparsity down while the sparse time is strictly below the "
        "dense one; the crossover is the last sparsity you reach (None if the highest already "
        "loses). The first sparsity where sparse wins is not enough: timings are noisy.",
        quiet=hidden,
    )
