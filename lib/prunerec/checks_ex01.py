"""Graded checks of exercise 01 (the cost anatomy of recommenders). Each compares the
learner's function with :mod:`prunerec.costs` on hand-made and larger cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prunerec import costs
from prunerec.checks import Case, call, report

__all__ = [
    "check_table_bytes",
    "check_mf_params",
    "check_mlp_flops",
    "check_neumf_split",
]


def _same_int(name: str, got: Any, expected: int) -> Case:
    """A case comparing an exact count (ints, or floats that equal the int exactly)."""
    try:
        ok = bool(got == expected) and float(got) == float(expected)
    except (TypeError, ValueError):
        ok = False
    return Case(name, ok, f"{expected:,}", repr(got)[:200])


def check_table_bytes(fn: Callable, hidden: bool = False) -> None:
    """1.1: ``fn(n_rows, dim, dtype)`` = bytes of one dense embedding table."""
    cases_in = [
        ("MovieLens-100K users, dim 32, float32", 943, 32, "float32"),
        ("MovieLens-100K items, dim 64, float16", 1682, 64, "float16"),
        ("10 million users, dim 64, int8", 10_000_000, 64, "int8"),
        ("one value in float64", 1, 1, "float64"),
        ("bfloat16 is 2 bytes too", 1000, 10, "bfloat16"),
    ]
    if hidden:
        # all 26 Criteo tables in one: more bytes than an int32 holds
        cases_in.append(("33.8M rows, dim 16, float32", 33_762_577, 16, "float32"))
    cases = [
        _same_int(name, call(fn, rows, dim, dtype), rows * dim * costs.dtype_bytes(dtype))
        for name, rows, dim, dtype in cases_in
    ]
    report(
        "1.1 table_bytes",
        cases,
        hint="a dense table stores n_rows * dim values, each taking the dtype's size in bytes "
        "(float64 8, float32 4, float16 and bfloat16 2, int8 1); return a Python int.",
        quiet=hidden,
    )


def check_mf_params(fn: Callable, hidden: bool = False) -> None:
    """1.2: ``fn(n_users, n_items, dim)`` = parameters of MF with user, item and global
    biases (as :class:`prunerec.models.MF`)."""
    cases_in = [
        ("MovieLens-100K, dim 32", 943, 1682, 32),
        ("a tiny model: 2 users, 3 items, dim 1", 2, 3, 1),
        ("10M users, 1M items, dim 64", 10_000_000, 1_000_000, 64),
    ]
    if hidden:
        cases_in.append(("MovieLens-1M sized, dim 8", 6040, 3706, 8))
    cases = [
        _same_int(name, call(fn, u, i, d), costs.mf_cost(u, i, d).params)
        for name, u, i, d in cases_in
    ]
    report(
        "1.2 mf_params",
        cases,
        hint="count both tables ((n_users + n_items) * dim), one bias per user and per item, "
        "and the single global bias.",
        quiet=hidden,
    )


def check_mlp_flops(fn: Callable, hidden: bool = False) -> None:
    """1.3: ``fn(widths)`` = FLOPs of one input through ``Linear`` layers of these widths."""
    cases_in = [
        ("one layer 3 -> 2", (3, 2)),
        ("NeuMF's tower 64-64-32-16", (64, 64, 32, 16)),
        ("DLRM bottom MLP 13-512-256-64-16", (13, 512, 256, 64, 16)),
        ("a list works too", [8, 4, 1]),
    ]
    if hidden:
        cases_in.append(("DLRM top MLP 367-512-256-1", (367, 512, 256, 1)))
    cases = [_same_int(name, call(fn, w), costs.mlp_flops(w)) for name, w in cases_in]
    report(
        "1.3 mlp_flops",
        cases,
        hint="a Linear(a, b) does a*b multiplications and a*b additions (the bias is the first "
        "addend), so 2*a*b FLOPs; sum over consecutive pairs of widths. Do not count ReLU.",
        quiet=hidden,
    )


def check_neumf_split(fn: Callable, hidden: bool = False) -> None:
    """1.4: ``fn(n_users, n_items, gmf_dim, mlp_dim, layers)`` = ``(embedding, dense)``
    parameter counts of NeuMF (as :class:`prunerec.models.NeuMF`)."""
    cases_in = [
        ("MovieLens-100K, dims 32 + 32, layers (64, 32, 16)", 943, 1682, 32, 32, (64, 32, 16)),
        ("tiny: 5 users, 7 items, dims 4 + 2, layers (6, 3)", 5, 7, 4, 2, (6, 3)),
        ("different GMF and MLP dims", 100, 50, 8, 16, (32, 8)),
    ]
    if hidden:
        cases_in.append(("production-like", 10_000_000, 1_000_000, 64, 64, (128, 64, 32)))
    cases = []
    for name, u, i, g, m, layers in cases_in:
        ref = costs.neumf_cost(u, i, g, m, layers)
        expected = (ref.embedding_params, ref.dense_params)
        got = call(fn, u, i, g, m, layers)
        try:
            ok = tuple(int(x) for x in got) == expected and len(got) == 2
        except (TypeError, ValueError):
            ok = False
        cases.append(
            Case(name, ok, f"(embedding, dense) = ({expected[0]:,}, {expected[1]:,})", repr(got))
        )
    report(
        "1.4 neumf_split",
        cases,
        hint="GMF and MLP have separate user and item tables ((n_users + n_items) * (gmf_dim + "
        "mlp_dim) embedding parameters); the tower starts at 2 * mlp_dim; the predict layer "
        "is Linear(gmf_dim + layers[-1], 1). Count biases of Linear layers as dense.",
        quiet=hidden,
    )
