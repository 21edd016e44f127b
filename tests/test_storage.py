"""prunerec.storage: measured bytes agree with the formulas; break-even points hold."""

import numpy as np
import pytest

from prunerec import storage as S
from prunerec.masks import apply_mask, magnitude_mask


def _pruned(shape, sparsity, seed=0):
    w = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    return apply_mask(w, magnitude_mask(w, sparsity)).astype(np.float32)


def test_csr_round_trip_hand_case():
    w = np.array([[0, 1.5, 0], [0, 0, 0], [2.0, 0, -3.0]], dtype=np.float32)
    values, indices, indptr = S.to_csr(w)
    assert values.tolist() == [1.5, 2.0, -3.0]
    assert indices.tolist() == [1, 0, 2] and indices.dtype == np.uint8
    assert indptr.tolist() == [0, 1, 1, 3]
    dense = np.zeros_like(w)
    for r in range(3):
        for k in range(indptr[r], indptr[r + 1]):
            dense[r, indices[k]] = values[k]
    np.testing.assert_array_equal(dense, w)


def test_predicted_payload_by_hand():
    # 100 x 300 fp32, 3,000 non-zeros; 300 columns need uint16, 3,000 fits uint16 pointers
    assert S.predicted_bytes((100, 300), 3000, "dense") == 120_000
    assert S.predicted_bytes((100, 300), 3000, "csr") == 3000 * (4 + 2) + 101 * 2
    assert S.predicted_bytes((100, 300), 3000, "bitmask") == 3750 + 12_000
    assert S.predicted_bytes((100, 300), 3000, "csr", index_bytes=8, pointer_bytes=8) == (
        3000 * 12 + 101 * 8
    )


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.75, 0.9, 0.99])
@pytest.mark.parametrize("fmt", S.FORMATS)
def test_measured_equals_predicted_plus_constant_header(fmt, sparsity):
    w = _pruned((200, 96), sparsity)
    nnz = int(np.count_nonzero(w))
    shape_bytes = 16 if fmt != "dense" else 0
    measured = S.measured_bytes(w, fmt)
    assert measured == S.predicted_bytes(w.shape, nnz, fmt) + shape_bytes + S.container_overhead(
        fmt
    )


@pytest.mark.parametrize("fmt, index_bytes", [("csr", 2), ("csr", 4), ("bitmask", 4)])
def test_break_even_formula_matches_measurement(fmt, index_bytes):
    """Just below the break-even sparsity the format loses to dense, just above it wins."""
    shape = (400, 1000)  # 1000 columns: uint16 indices, or int32 when asked
    s_star = S.break_even_sparsity(fmt, 4, index_bytes)
    idx = {2: np.uint16, 4: np.int32}[index_bytes]
    margin = 0.02
    for s, wins in ((s_star - margin, False), (s_star + margin, True)):
        w = _pruned(shape, s)
        size = S.measured_bytes(w, fmt, index_dtype=idx if fmt == "csr" else None)
        assert (size < S.measured_bytes(w, "dense")) == wins, (fmt, s)


def test_gzip_and_size_table():
    w = _pruned((300, 64), 0.9)
    rows = {r.fmt: r for r in S.size_table(w)}
    assert rows["dense+gzip"].predicted is None
    assert rows["dense+gzip"].measured < rows["dense"].measured  # zeros compress
    assert rows["csr"].measured < rows["dense"].measured / 5


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        S.serialise(np.ones(3, dtype=np.float32), "dense")
    with pytest.raises(ValueError, match="fmt must be one of"):
        S.serialise(np.ones((2, 2), dtype=np.float32), "coo")
    with pytest.raises(TypeError, match="floating"):
        S.serialise(np.ones((2, 2), dtype=int), "dense")
    with pytest.raises(ValueError, match="nnz"):
        S.predicted_bytes((2, 2), 5, "csr")
    with pytest.raises(ValueError, match="cannot index"):
        S.to_csr(np.ones((2, 300), dtype=np.float32), index_dtype=np.uint8)
