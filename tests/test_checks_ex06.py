"""The graded checks of exercise 06: each passes on a correct implementation (written here
independently of prunerec.storage / prunerec.serving), prints one success line, stays
silent when hidden, and fails on plausible mistakes with "expected ... Hint:"."""

import math
import time

import numpy as np
import pytest
from check_contract import assert_fails_with_hint, assert_passes, assert_unfinished_fails

from prunerec import checks_ex06 as c6

# --------------------------------------------------------------------------- correct


def csr_bytes(n_rows, n_cols, nnz, value_bytes, index_bytes, pointer_bytes):
    return nnz * (value_bytes + index_bytes) + (n_rows + 1) * pointer_bytes


def break_even(fmt, value_bytes, index_bytes):
    if fmt == "csr":
        return index_bytes / (value_bytes + index_bytes)
    return 1 / (8 * value_bytes)


def time_calls(work, sync, repeats, warmup):
    for _ in range(warmup):
        work()
    sync()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        work()
        sync()
        out.append((time.perf_counter() - t0) * 1000)
    return np.array(out)


def uint_bytes(max_value):
    return next(b for b in (1, 2, 4, 8) if max_value < 256**b)


def choose_format(n_rows, n_cols, nnz, value_bytes):
    sizes = {
        "dense": n_rows * n_cols * value_bytes,
        "csr": csr_bytes(n_rows, n_cols, nnz, value_bytes, uint_bytes(n_cols - 1), uint_bytes(nnz)),
        "bitmask": math.ceil(n_rows * n_cols / 8) + nnz * value_bytes,
    }
    return min(sizes, key=lambda f: (sizes[f], list(sizes).index(f)))


def crossover(sparsities, dense_ms, sparse_ms):
    k = len(sparsities)
    while k > 0 and sparse_ms[k - 1] < dense_ms[k - 1]:
        k -= 1
    return None if k == len(sparsities) else sparsities[k]


CORRECT = [
    (c6.check_csr_bytes, csr_bytes, "6.1 csr_bytes"),
    (c6.check_break_even, break_even, "6.2 break_even"),
    (c6.check_time_calls, time_calls, "6.3 time_calls"),
    (c6.check_choose_format, choose_format, "6.4 choose_format"),
    (c6.check_crossover, crossover, "6.5 crossover"),
]

# --------------------------------------------------------------------------- wrong


def _no_warmup(work, sync, repeats, warmup):
    return time_calls(work, sync, repeats, 0)


def _no_sync(work, sync, repeats, warmup):
    return time_calls(work, lambda: None, repeats, warmup)


def _sync_after_clock(work, sync, repeats, warmup):
    for _ in range(warmup):
        work()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        work()
        out.append((time.perf_counter() - t0) * 1000)
        sync()
    return np.array(out)


def _seconds(work, sync, repeats, warmup):
    return time_calls(work, sync, repeats, warmup) / 1000


def _first_win(sparsities, dense_ms, sparse_ms):
    for s, d, p in zip(sparsities, dense_ms, sparse_ms, strict=True):
        if p < d:
            return s
    return None


WRONG = {
    "csr_bytes forgets the last row pointer": (
        c6.check_csr_bytes,
        lambda r, c, z, v, i, p: z * (v + i) + r * p,
    ),
    "csr_bytes forgets the row pointers": (
        c6.check_csr_bytes,
        lambda r, c, z, v, i, p: z * (v + i),
    ),
    "csr_bytes uses one pointer per column": (
        c6.check_csr_bytes,
        lambda r, c, z, v, i, p: z * (v + i) + (c + 1) * p,
    ),
    "break_even inverted for csr": (
        c6.check_break_even,
        lambda f, v, i: v / (v + i) if f == "csr" else 1 / (8 * v),
    ),
    "break_even: the mask costs a byte per entry": (
        c6.check_break_even,
        lambda f, v, i: i / (v + i) if f == "csr" else 1 / v,
    ),
    "time_calls skips the warm-up": (c6.check_time_calls, _no_warmup),
    "time_calls never syncs": (c6.check_time_calls, _no_sync),
    "time_calls syncs after stopping the clock": (c6.check_time_calls, _sync_after_clock),
    "time_calls returns seconds": (c6.check_time_calls, _seconds),
    "choose_format by a sparsity rule of thumb": (
        c6.check_choose_format,
        lambda r, c, z, v: "csr" if z < 0.5 * r * c else "dense",
    ),
    "choose_format with int32 indices": (
        c6.check_choose_format,
        lambda r, c, z, v: min(
            {
                "dense": r * c * v,
                "csr": csr_bytes(r, c, z, v, 4, 4),
                "bitmask": math.ceil(r * c / 8) + z * v,
            }.items(),
            key=lambda kv: kv[1],
        )[0],
    ),
    "crossover takes the first win": (c6.check_crossover, _first_win),
    "crossover counts a tie as a win": (
        c6.check_crossover,
        lambda s, d, p: crossover(
            s, d, [x - 1e-9 if x == y else x for x, y in zip(p, d, strict=True)]
        ),
    ),
}

# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize(("check", "fn", "label"), CORRECT, ids=[c[2] for c in CORRECT])
def test_check_passes_on_a_correct_implementation(check, fn, label, capsys):
    assert_passes(check, fn, label, capsys, min_facts=4)  # every check checks several facts


@pytest.mark.parametrize("mistake", sorted(WRONG))
def test_check_fails_on_a_plausible_mistake(mistake):
    check, fn = WRONG[mistake]
    assert_fails_with_hint(check, fn, needs_got=True)


@pytest.mark.parametrize(("check", "fn", "label"), CORRECT, ids=[c[2] for c in CORRECT])
def test_unfinished_exercise_fails_clearly(check, fn, label):
    assert_unfinished_fails(check)


def test_choose_format_cases_cover_every_answer():
    # the visible cases of 6.4 must not be answerable by one constant
    n = 1682 * 32
    answers = {choose_format(1682, 32, round(f * n), 4) for f in (1.0, 0.7, 0.01)}
    assert answers == {"dense", "bitmask", "csr"}
