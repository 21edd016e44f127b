"""Tests for prunerec.masks: hand-computed cases first, then hypothesis properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from prunerec import masks as M

# --------------------------------------------------------------------------- known answers


def test_pruned_count_fraction_and_count():
    assert M.pruned_count(0.0, 7) == 0
    assert M.pruned_count(1.0, 7) == 7
    assert M.pruned_count(0.5, 10) == 5
    assert M.pruned_count(0.25, 10) == 2  # round(2.5) = 2: half to even, as torch
    assert M.pruned_count(0.35, 10) == 4  # round(3.5) = 4
    assert M.pruned_count(3, 10) == 3
    assert M.pruned_count(1, 10) == 1  # int 1 is a count, not "everything"
    assert M.pruned_count(np.int64(2), 10) == 2


@pytest.mark.parametrize(
    "amount, exc, words",
    [
        (-0.1, ValueError, "amount=-0.1"),
        (1.5, ValueError, "[0, 1]"),
        (float("nan"), ValueError, "amount"),
        (11, ValueError, "[0, 10]"),
        (-1, ValueError, "amount=-1"),
        (True, TypeError, "bool"),
        ("0.5", TypeError, "str"),
    ],
)
def test_pruned_count_rejects(amount, exc, words):
    with pytest.raises(exc, match="amount") as info:
        M.pruned_count(amount, 10)
    assert words in str(info.value)


def test_magnitude_mask_hand_case():
    w = np.array([[0.3, -2.0, 0.1], [-0.05, 1.5, -0.7]])
    # magnitudes sorted: 0.05, 0.1, 0.3, 0.7, 1.5, 2.0
    expected = np.array([[False, True, False], [False, True, True]])
    np.testing.assert_array_equal(M.magnitude_mask(w, 0.5), expected)
    np.testing.assert_array_equal(M.magnitude_mask(w, 3), expected)
    assert M.threshold_for_sparsity(w, 0.5) == pytest.approx(0.3)


def test_magnitude_mask_amount_zero_and_one():
    w = np.arange(1.0, 7.0).reshape(2, 3)
    assert M.magnitude_mask(w, 0.0).all()
    assert not M.magnitude_mask(w, 1.0).any()
    assert M.threshold_for_sparsity(w, 0) == float("-inf")
    assert M.threshold_for_sparsity(w, 1.0) == 6.0


def test_ties_pruned_in_row_major_order():
    w = np.array([[2.0, -1.0], [1.0, 1.0], [-1.0, 3.0]])
    # four weights tie at |w| = 1 (flat positions 1, 2, 3, 4); prune 2 -> positions 1 and 2
    expected = np.array([[True, False], [False, True], [True, True]])
    np.testing.assert_array_equal(M.magnitude_mask(w, 2), expected)
    # the threshold rule |w| <= theta would prune all four: that is why the exact rule exists
    theta = M.threshold_for_sparsity(w, 2)
    assert theta == 1.0
    assert (~M.magnitude_mask_threshold(w, theta)).sum() == 4


def test_threshold_mask_is_the_article_formula():
    w = np.array([0.0, 1.0, 2.0, -2.0, 2.5, -3.0])
    np.testing.assert_array_equal(
        M.magnitude_mask_threshold(w, 2.0), [False, False, False, False, True, True]
    )
    with pytest.raises(ValueError, match="theta"):
        M.magnitude_mask_threshold(w, -1.0)
    with pytest.raises(TypeError, match="theta"):
        M.magnitude_mask_threshold(w, "2")


def test_integer_weights_accepted():
    np.testing.assert_array_equal(M.magnitude_mask([3, -1, 2], 1), [True, False, True])


def test_global_masks_can_wipe_out_a_small_layer():
    big = np.array([5.0, -4.0, 6.0, 3.0])
    small = np.array([0.01, -0.02, 0.03, 0.04])
    masks = M.global_magnitude_masks({"big": big, "small": small}, 0.5)
    assert not masks["small"].any()  # every small-scale weight goes
    assert masks["big"].all()
    assert M.global_threshold([big, small], 0.5) == pytest.approx(0.04)
    # a list in, a list out
    out = M.global_magnitude_masks([big, small], 3)
    assert isinstance(out, list) and sum((~m).sum() for m in out) == 3


def test_global_ties_follow_array_order():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    m = M.global_magnitude_masks([a, b], 2)
    np.testing.assert_array_equal(m[0], [False, True])
    np.testing.assert_array_equal(m[1], [False, True])


def test_structure_norms_and_rows_columns():
    w = np.array([[3.0, 4.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, -2.0]])
    np.testing.assert_allclose(M.structure_norms(w, axis=0), [5.0, 1.0, np.sqrt(8)])
    np.testing.assert_allclose(M.structure_norms(w, axis=1, norm="l1"), [4.0, 6.0, 2.0])
    rows = M.structured_mask(w, 1, axis=0)
    np.testing.assert_array_equal(rows, [[True] * 3, [False] * 3, [True] * 3])
    cols = M.structured_mask(w, 1, axis=1, norm="l1")
    np.testing.assert_array_equal(cols, [[True, True, False]] * 3)
    # embedding table (items, dim): drop half the dims
    emb = np.array([[1.0, 0.1, 3.0, 0.2], [1.0, 0.1, 3.0, 0.2]])
    dims = M.structured_mask(emb, 0.5, axis=1)
    np.testing.assert_array_equal(dims[0], [True, False, True, False])


def test_structured_3d_kernels():
    # five 3x3 kernels stacked on axis 0: prune the two with smallest L2 norm
    k = np.stack([np.full((3, 3), v) for v in (1.0, 0.1, 2.0, 0.2, 3.0)])
    m = M.structured_mask(k, 2, axis=0)
    assert [bool(m[i].all()) for i in range(5)] == [True, False, True, False, True]
    assert [bool(m[i].any()) for i in range(5)] == [True, False, True, False, True]


def test_structured_rejects():
    with pytest.raises(ValueError, match="ndim"):
        M.structured_mask(np.ones(4), 0.5)
    with pytest.raises(ValueError, match="axis=2"):
        M.structured_mask(np.ones((2, 2)), 0.5, axis=2)
    with pytest.raises(ValueError, match="norm"):
        M.structured_mask(np.ones((2, 2)), 0.5, norm="l3")
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        M.structured_mask(np.ones((2, 5)), 3, axis=0)  # only two rows to prune


def test_nm_mask_hand_case():
    w = np.array([[1.0, -4.0, 3.0, 2.0, 0.0, 0.5, -0.1, 9.0]])
    np.testing.assert_array_equal(
        M.nm_mask(w, 2, 4), [[False, True, True, False, False, True, False, True]]
    )
    # along axis 0: groups of 2 down each column
    v = np.array([[1.0, 5.0], [2.0, -1.0], [0.0, 3.0], [-7.0, 4.0]])
    np.testing.assert_array_equal(
        M.nm_mask(v, 1, 2, axis=0), [[False, True], [True, False], [False, False], [True, True]]
    )
    # ties inside a group: the earlier one goes first
    np.testing.assert_array_equal(
        M.nm_mask([[1.0, 1.0, 1.0, 1.0]], 2, 4), [[False, False, True, True]]
    )


def test_nm_mask_rejects():
    with pytest.raises(ValueError, match="multiple of m=4"):
        M.nm_mask(np.ones((2, 6)), 2, 4)
    with pytest.raises(ValueError, match="n=5"):
        M.nm_mask(np.ones((2, 4)), 5, 4)
    with pytest.raises(TypeError, match="n must be an int"):
        M.nm_mask(np.ones((2, 4)), 2.0, 4)


def test_soft_threshold():
    np.testing.assert_allclose(M.soft_threshold([-3.0, -0.5, 0.0, 0.7, 2.0], 1.0), [-2, 0, 0, 0, 1])
    np.testing.assert_allclose(M.soft_threshold([1.0, -1.0], 0.0), [1.0, -1.0])
    with pytest.raises(ValueError, match="lam"):
        M.soft_threshold([1.0], -0.1)


def test_apply_mask():
    out = M.apply_mask(np.array([1.0, -2.0, 3.0], dtype=np.float32), [1, 0, 1])
    np.testing.assert_array_equal(out, [1.0, 0.0, 3.0])
    assert out.dtype == np.float32
    assert not np.signbit(out[1])  # a pruned weight is +0, not -0
    with pytest.raises(ValueError, match="mask has shape"):
        M.apply_mask(np.ones(3), np.ones(4, dtype=bool))
    with pytest.raises(ValueError, match="mask must be boolean"):
        M.apply_mask(np.ones(3), [0.5, 1, 1])


def test_random_mask_exact_and_seeded():
    a = M.random_mask((10, 10), 0.3, rng=1)
    assert (~a).sum() == 30
    np.testing.assert_array_equal(a, M.random_mask((10, 10), 0.3, rng=1))
    assert not np.array_equal(a, M.random_mask((10, 10), 0.3, rng=2))
    with pytest.raises(ValueError, match="shape"):
        M.random_mask((0, 3), 0.5, rng=0)


def test_sparsity_report():
    r = M.sparsity_report({"w1": np.array([0.0, 1.0, 0.0, 2.0]), "mask": np.array([True, False])})
    assert [(s.name, s.size, s.zeros) for s in r.per_array] == [("w1", 4, 2), ("mask", 2, 1)]
    assert r.overall.zeros == 3 and r.overall.size == 6
    assert r.overall.sparsity == pytest.approx(0.5)
    text = r.to_text()
    assert "w1" in text and "50.00%" in text and text.splitlines()[-1].startswith("overall")


@pytest.mark.parametrize(
    "bad, exc, words",
    [
        (np.array([1.0, np.nan]), ValueError, "1 NaN"),
        (np.array([np.inf, 1.0]), ValueError, "1 inf"),
        (np.array([]), ValueError, "empty"),
        (np.array(["a", "b"]), TypeError, "numeric"),
        (np.array([True, False]), TypeError, "numeric"),
        ([[1.0, 2.0], [3.0]], TypeError, "array-like"),
    ],
)
def test_bad_weights_named(bad, exc, words):
    for fn in (lambda w: M.magnitude_mask(w, 0.5), lambda w: M.soft_threshold(w, 0.1)):
        with pytest.raises(exc, match="weights") as info:
            fn(bad)
        assert words in str(info.value)


def test_bad_array_in_a_list_is_named():
    with pytest.raises(ValueError, match=r"arrays\['fc2'\] must be finite"):
        M.global_magnitude_masks({"fc1": np.ones(2), "fc2": np.array([np.nan])}, 0.5)
    with pytest.raises(ValueError, match="arrays is empty"):
        M.global_magnitude_masks([], 0.5)
    with pytest.raises(TypeError, match="list or a dict"):
        M.global_magnitude_masks(np.ones(3), 0.5)


def test_selection_matches_a_full_sort_baseline():
    # an independent (slow, stable-sort) implementation of the same tie rule
    rng = np.random.default_rng(0)
    w = rng.integers(-5, 6, size=(40, 25)).astype(float)  # many ties
    for k in (0, 1, 17, 500, 999, 1000):
        order = np.argsort(np.abs(w).ravel(), kind="stable")
        ref = np.ones(w.size, dtype=bool)
        ref[order[:k]] = False
        np.testing.assert_array_equal(M.magnitude_mask(w, k), ref.reshape(w.shape))


# --------------------------------------------------------------------------- properties

weights_st = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=8),
    elements=st.floats(-10, 10, allow_nan=False, width=32),
)
matrices_st = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=6),
    elements=st.floats(-10, 10, allow_nan=False, width=32),
)
fractions = st.floats(0.0, 1.0)


@given(weights_st, fractions)
def test_prop_exact_count(w, amount):
    mask = M.magnitude_mask(w, amount)
    assert mask.shape == w.shape
    assert int((~mask).sum()) == round(amount * w.size)


@given(weights_st, fractions)
def test_prop_pruned_are_the_smallest(w, amount):
    mask = M.magnitude_mask(w, amount)
    if mask.all() or not mask.any():
        return
    assert np.abs(w[~mask]).max() <= np.abs(w[mask]).min()
    assert np.abs(w[~mask]).max() == M.threshold_for_sparsity(w, amount)


@given(weights_st, fractions)
def test_prop_idempotent(w, amount):
    mask = M.magnitude_mask(w, amount)
    pruned = M.apply_mask(w, mask)
    np.testing.assert_array_equal(M.apply_mask(pruned, mask), pruned)
    # pruning the pruned weights again by the same count removes nothing more
    again = M.magnitude_mask(pruned, amount)
    np.testing.assert_array_equal(M.apply_mask(pruned, again), pruned)


@given(weights_st, fractions, fractions)
def test_prop_monotone_in_amount(w, a, b):
    lo, hi = sorted((a, b))
    assert (M.magnitude_mask(w, lo) >= M.magnitude_mask(w, hi)).all()  # hi prunes a superset


@given(matrices_st, fractions, st.integers(0, 2), st.sampled_from(["l1", "l2"]))
def test_prop_structured_constant_along_structures(w, amount, axis, norm):
    axis = axis % w.ndim
    mask = M.structured_mask(w, amount, axis=axis, norm=norm)
    per_structure = np.moveaxis(mask, axis, 0).reshape(w.shape[axis], -1)
    assert (per_structure.all(axis=1) | ~per_structure.any(axis=1)).all()
    assert int((~per_structure[:, 0]).sum()) == round(amount * w.shape[axis])


@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.integers(1, 4).map(lambda g: 4 * g)),
        elements=st.floats(-10, 10, allow_nan=False, width=32),
    ),
    st.integers(0, 4),
)
def test_prop_nm_survivors_per_group(w, n):
    mask = M.nm_mask(w, n, 4, axis=1)
    groups = mask.reshape(w.shape[0], -1, 4)
    assert (groups.sum(axis=-1) == n).all()
    kept_min = np.where(groups, np.abs(w).reshape(groups.shape), np.inf).min(axis=-1)
    dropped_max = np.where(~groups, np.abs(w).reshape(groups.shape), -np.inf).max(axis=-1)
    assert (dropped_max <= kept_min).all()


@given(weights_st, st.floats(0, 10))
def test_prop_soft_threshold_is_prox_of_l1(w, lam):
    z = M.soft_threshold(w, lam)
    assert ((z == 0) == (np.abs(w) <= lam)).all()
    # prox optimality: z minimises 0.5 (x - w)^2 + lam |x|; compare to nearby points
    obj = lambda x: 0.5 * (x - w) ** 2 + lam * np.abs(x)  # noqa: E731
    for delta in (-1e-3, 1e-3):
        assert (obj(z) <= obj(z + delta) + 1e-9).all()


@settings(max_examples=50)
@given(st.lists(weights_st, min_size=1, max_size=4), fractions)
def test_prop_global_exact_count_and_single_threshold(arrays, amount):
    masks = M.global_magnitude_masks(arrays, amount)
    total = sum(a.size for a in arrays)
    assert sum(int((~m).sum()) for m in masks) == round(amount * total)
    kept = [np.abs(a[m]) for a, m in zip(arrays, masks, strict=True) if m.any()]
    gone = [np.abs(a[~m]) for a, m in zip(arrays, masks, strict=True) if (~m).any()]
    if kept and gone:
        assert max(g.max() for g in gone) <= min(k.min() for k in kept)
