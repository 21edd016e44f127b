"""The graded checks of exercises 01-03: each passes on a correct implementation (written
here independently of prunerec.masks / prunerec.costs), prints one success line, stays
silent when hidden, and fails on plausible mistakes with "expected ... Hint:"."""

import numpy as np
import pytest
from check_contract import assert_fails_with_hint, assert_passes, assert_unfinished_fails

from prunerec import checks_ex01 as c1
from prunerec import checks_ex02 as c2
from prunerec import checks_ex03 as c3

BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}

# --------------------------------------------------------------------------- ex01


def table_bytes(n_rows, dim, dtype):
    return n_rows * dim * BYTES[dtype]


def mf_params(n_users, n_items, dim):
    return (n_users + n_items) * (dim + 1) + 1


def mlp_flops(widths):
    return sum(2 * a * b for a, b in zip(widths[:-1], widths[1:], strict=False))


def neumf_split(n_users, n_items, gmf_dim, mlp_dim, layers):
    widths = [2 * mlp_dim, *layers]
    tower = sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=False))
    return (n_users + n_items) * (gmf_dim + mlp_dim), tower + gmf_dim + layers[-1] + 1


# --------------------------------------------------------------------------- ex02


def column_mask(w, amount):
    k = round(amount * w.shape[1])
    keep = np.ones(w.shape[1], dtype=bool)
    keep[np.argsort(np.abs(w).sum(axis=0), kind="stable")[:k]] = False
    return np.broadcast_to(keep, w.shape).copy()


def nm_mask(w, n, m):
    groups = np.abs(w).reshape(*w.shape[:-1], w.shape[-1] // m, m)
    order = np.argsort(groups, axis=-1, kind="stable")
    keep = np.ones(groups.shape, dtype=bool)
    np.put_along_axis(keep, order[..., : m - n], False, axis=-1)
    return keep.reshape(w.shape)


def is_nm_sparse(x, n, m):
    groups = (np.asarray(x) != 0).reshape(*np.shape(x)[:-1], np.shape(x)[-1] // m, m)
    return bool((groups.sum(axis=-1) <= n).all())


def embedding_row_mask(table, counts, amount):
    k = round(amount * len(counts))
    keep = np.ones(len(counts), dtype=bool)
    keep[np.argsort(counts, kind="stable")[:k]] = False
    return np.broadcast_to(keep[:, None], table.shape).copy()


# --------------------------------------------------------------------------- ex03


def threshold_mask(w, theta):
    return np.abs(w) > theta


def sparsity_mask(w, amount):
    k = round(amount * w.size)
    keep = np.ones(w.size, dtype=bool)
    keep[np.argsort(np.abs(w).ravel(), kind="stable")[:k]] = False
    return keep.reshape(w.shape)


def global_masks(layers, amount):
    flat = sparsity_mask(np.concatenate([np.ravel(a) for a in layers]), amount)
    out, start = [], 0
    for a in layers:
        out.append(flat[start : start + a.size].reshape(a.shape))
        start += a.size
    return out


def soft_threshold(w, lam):
    return np.sign(w) * np.maximum(np.abs(w) - lam, 0)


def kernel_mask(kernels, theta, norm):
    flat = np.abs(kernels.reshape(len(kernels), -1))
    score = flat.sum(axis=1) if norm == "l1" else np.sqrt((flat**2).sum(axis=1))
    return score > theta


CORRECT = [
    (c1.check_table_bytes, table_bytes, "1.1 table_bytes"),
    (c1.check_mf_params, mf_params, "1.2 mf_params"),
    (c1.check_mlp_flops, mlp_flops, "1.3 mlp_flops"),
    (c1.check_neumf_split, neumf_split, "1.4 neumf_split"),
    (c2.check_column_mask, column_mask, "2.1 column_mask"),
    (c2.check_nm_mask, nm_mask, "2.2 nm_mask"),
    (c2.check_is_nm_sparse, is_nm_sparse, "2.3 is_nm_sparse"),
    (c2.check_embedding_row_mask, embedding_row_mask, "2.4 embedding_row_mask"),
    (c3.check_threshold_mask, threshold_mask, "3.1 threshold_mask"),
    (c3.check_sparsity_mask, sparsity_mask, "3.2 sparsity_mask"),
    (c3.check_global_masks, global_masks, "3.3 global_masks"),
    (c3.check_soft_threshold, soft_threshold, "3.4 soft_threshold"),
    (c3.check_kernel_mask, kernel_mask, "3.5 kernel_mask"),
]

WRONG = {
    "table_bytes forgets the dtype size": (c1.check_table_bytes, lambda r, d, t: r * d),
    "table_bytes counts bits": (c1.check_table_bytes, lambda r, d, t: 8 * table_bytes(r, d, t)),
    "mf_params forgets the biases": (c1.check_mf_params, lambda u, i, d: (u + i) * d),
    "mf_params forgets the global bias": (c1.check_mf_params, lambda u, i, d: (u + i) * (d + 1)),
    "mlp_flops counts multiply-adds": (c1.check_mlp_flops, lambda w: mlp_flops(w) // 2),
    "neumf_split shares one table pair": (
        c1.check_neumf_split,
        lambda u, i, g, m, layers: (
            (u + i) * max(g, m),
            neumf_split(u, i, g, m, layers)[1],
        ),
    ),
    "neumf_split feeds the tower mlp_dim": (
        c1.check_neumf_split,
        lambda u, i, g, m, layers: neumf_split(u, i, g, m // 2, layers),
    ),
    "column_mask prunes rows": (
        c2.check_column_mask,
        lambda w, a: column_mask(w.T, a).T if w.shape[0] == w.shape[1] else _rows(w, a),
    ),
    "column_mask uses the L2 norm": (c2.check_column_mask, lambda w, a: _l2_columns(w, a)),
    "nm_mask keeps the smallest": (c2.check_nm_mask, lambda w, n, m: ~nm_mask(w, m - n, m)),
    "nm_mask groups down columns": (
        c2.check_nm_mask,
        lambda w, n, m: nm_mask(w.T, n, m).T if w.ndim == 2 and w.shape[0] % m == 0 else w > 0,
    ),
    "is_nm_sparse checks the overall density": (
        c2.check_is_nm_sparse,
        lambda x, n, m: bool(np.count_nonzero(x) <= x.size * n / m),
    ),
    "is_nm_sparse requires exactly n per group": (
        c2.check_is_nm_sparse,
        lambda x, n, m: bool(
            ((np.asarray(x) != 0).reshape(-1, m).sum(axis=1) == n).all(),
        ),
    ),
    "embedding_row_mask prunes by row norm": (
        c2.check_embedding_row_mask,
        lambda t, c, a: embedding_row_mask(t, np.linalg.norm(t, axis=1), a),
    ),
    "embedding_row_mask prunes the most frequent": (
        c2.check_embedding_row_mask,
        lambda t, c, a: embedding_row_mask(t, -c, a),
    ),
    "threshold_mask uses >=": (c3.check_threshold_mask, lambda w, t: np.abs(w) >= t),
    "sparsity_mask prunes every tie": (
        c3.check_sparsity_mask,
        lambda w, a: (
            np.abs(w) > np.sort(np.abs(w).ravel())[round(a * w.size) - 1]
            if round(a * w.size)
            else np.ones(w.shape, bool)
        ),
    ),
    "global_masks prunes layer by layer": (
        c3.check_global_masks,
        lambda layers, a: [sparsity_mask(x, a) for x in layers],
    ),
    "soft_threshold is hard thresholding": (
        c3.check_soft_threshold,
        lambda w, lam: w * (np.abs(w) > lam),
    ),
    "soft_threshold forgets the sign": (
        c3.check_soft_threshold,
        lambda w, lam: np.maximum(w - lam, 0),
    ),
    "kernel_mask is per weight": (c3.check_kernel_mask, lambda k, t, n: np.abs(k) > t),
    "kernel_mask uses the largest magnitude": (
        c3.check_kernel_mask,
        lambda k, t, n: np.abs(k.reshape(len(k), -1)).max(axis=1) > t,
    ),
    "kernel_mask ignores the norm argument": (
        c3.check_kernel_mask,
        lambda k, t, n: kernel_mask(k, t, "l2"),
    ),
}


def _rows(w, amount):
    k = round(amount * w.shape[0])
    keep = np.ones(w.shape[0], dtype=bool)
    keep[np.argsort(np.abs(w).sum(axis=1), kind="stable")[:k]] = False
    return np.broadcast_to(keep[:, None], w.shape).copy()


def _l2_columns(w, amount):
    k = round(amount * w.shape[1])
    keep = np.ones(w.shape[1], dtype=bool)
    keep[np.argsort(np.sqrt((w**2).sum(axis=0)), kind="stable")[:k]] = False
    return np.broadcast_to(keep, w.shape).copy()


@pytest.mark.parametrize(("check", "fn", "label"), CORRECT, ids=[c[2] for c in CORRECT])
def test_check_passes_on_a_correct_implementation(check, fn, label, capsys):
    assert_passes(check, fn, label, capsys, min_facts=3)  # every check checks several facts


@pytest.mark.parametrize("mistake", sorted(WRONG))
def test_check_fails_on_a_plausible_mistake(mistake):
    check, fn = WRONG[mistake]
    assert_fails_with_hint(check, fn, needs_got=True)


@pytest.mark.parametrize(("check", "fn", "label"), CORRECT, ids=[c[2] for c in CORRECT])
def test_unfinished_exercise_fails_clearly(check, fn, label):
    assert_unfinished_fails(check)


def test_stated_nm_expectations_hold():
    # the cases of check 2.3 whose answer is evident by hand
    assert c2.is_nm_sparse(np.zeros((2, 8)), 2, 4)
    mask = np.array([[True, True, True, False, False, False, False, True]])
    assert not c2.is_nm_sparse(mask, 2, 4)
    assert c2.is_nm_sparse(np.array([[0.0, 3, 0, 0]]), 2, 4)
    with pytest.raises(ValueError, match="multiple of m=4"):
        c2.is_nm_sparse(np.ones((2, 6)), 2, 4)


def test_frequency_row_mask_by_hand():
    table = np.arange(8.0).reshape(4, 2)
    mask = c2.frequency_row_mask(table, np.array([5, 1, 1, 9]), 0.25)
    assert mask.tolist() == [[True, True], [False, False], [True, True], [True, True]]


def test_article_kernel_norms_used_in_check_names():
    # check 3.5 names these values: L2 of w4 and L1 of w1
    l2 = np.sqrt((c3.ARTICLE_KERNELS**2).sum(axis=(1, 2)))
    l1 = np.abs(c3.ARTICLE_KERNELS).sum(axis=(1, 2))
    assert round(float(l2[3]), 2) == 11.87 and l2[3] == l2.min()
    assert l1[0] == 45
