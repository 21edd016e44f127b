"""What a pruned weight matrix costs on disk, per storage format — measured and predicted.

Zeros in a dense array still take 4 bytes each (fp32): pruning shrinks a file only when
the weights are stored in a format that skips them. This module serialises a 2-D array
for real in four formats and predicts the payload with a formula, so a chapter can show
both and where each format starts to beat dense.

Formats (payload, for an ``r x c`` matrix with ``n = r*c`` entries and ``z`` non-zeros,
``v`` bytes per value):

``dense``    all values: ``n*v``.
``csr``      values + column indices + row pointers: ``z*v + z*i + (r+1)*p``, with the
             smallest unsigned index type ``i`` that holds ``c-1`` and pointer type ``p``
             that holds ``z`` (or the type you choose).
``bitmask``  one bit per entry + the non-zero values: ``ceil(n/8) + z*v``.
``*+gzip``   any of the above through gzip (level 6): no formula, it depends on the values.

Break-even sparsity (the format is smaller than dense when the sparsity exceeds it),
ignoring the O(r) pointer term: CSR ``i/(v+i)`` (1/3 with uint16 indices and fp32
values, 1/2 with int32, 2/3 with int64), bitmask ``1/(8v)`` (1/32 for fp32).

Files are written with ``np.savez`` (an uncompressed zip of ``.npy`` arrays), so measured
bytes = payload + a small header per array, which :func:`container_overhead` reports.
"""

from __future__ import annotations

import gzip
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "FORMATS",
    "index_dtype_for",
    "to_csr",
    "serialise",
    "serialise_many",
    "measured_bytes",
    "predicted_bytes",
    "break_even_sparsity",
    "container_overhead",
    "SizeRow",
    "size_table",
]

FORMATS = ("dense", "csr", "bitmask")


def _check_matrix(weights: ArrayLike, name: str = "weights") -> NDArray:
    arr = np.asarray(weights)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got ndim={arr.ndim}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point array, got dtype {arr.dtype}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def index_dtype_for(max_value: int) -> np.dtype:
    """Smallest unsigned integer dtype that holds ``max_value``.

    Examples
    --------
    >>> index_dtype_for(255), index_dtype_for(1681), index_dtype_for(70_000)
    (dtype('uint8'), dtype('uint16'), dtype('uint32'))
    """
    if max_value < 0:
        raise ValueError(f"max_value must be >= 0, got {max_value}")
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if max_value <= np.iinfo(dt).max:
            return np.dtype(dt)
    raise ValueError(f"max_value={max_value} does not fit in 64 bits")


def to_csr(
    weights: ArrayLike, index_dtype: str | np.dtype | None = None
) -> tuple[NDArray, NDArray, NDArray]:
    """(values, column indices, row pointers) of a matrix in CSR form.

    Parameters
    ----------
    weights : 2-D float array.
    index_dtype : dtype of the column indices (default: the smallest that fits).

    Returns
    -------
    values (the matrix's dtype), indices, indptr.

    Examples
    --------
    >>> v, i, p = to_csr(np.array([[0.0, 2.0], [3.0, 0.0]], dtype=np.float32))
    >>> v.tolist(), i.tolist(), p.tolist()
    ([2.0, 3.0], [1, 0], [0, 1, 2])
    """
    w = _check_matrix(weights)
    rows, cols = np.nonzero(w)
    idx = np.dtype(index_dtype) if index_dtype is not None else index_dtype_for(w.shape[1] - 1)
    if not np.issubdtype(idx, np.integer) or w.shape[1] - 1 > np.iinfo(idx).max:
        raise ValueError(f"index_dtype {idx} cannot index {w.shape[1]} columns")
    counts = np.bincount(rows, minlength=w.shape[0])
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(index_dtype_for(len(rows)))
    return w[rows, cols], cols.astype(idx), indptr


def serialise(weights: ArrayLike, fmt: str, index_dtype: str | np.dtype | None = None) -> bytes:
    """The bytes of ``weights`` stored in ``fmt`` (see the module docstring), written with
    ``np.savez``. Append ``+gzip`` to the format to gzip the file.

    Examples
    --------
    >>> w = np.zeros((64, 64), dtype=np.float32); w[0, 0] = 1.0
    >>> len(serialise(w, "bitmask")) < len(serialise(w, "dense"))
    True
    """
    base, comp = _check_fmt(fmt)
    buf = io.BytesIO()
    np.savez(buf, **_payload(_check_matrix(weights), base, index_dtype))
    data = buf.getvalue()
    return gzip.compress(data, compresslevel=6, mtime=0) if comp else data


def _check_fmt(fmt: str) -> tuple[str, str]:
    base, _, comp = fmt.partition("+")
    if base not in FORMATS or comp not in ("", "gzip"):
        raise ValueError(f"fmt must be one of {FORMATS}, optionally with '+gzip'; got {fmt!r}")
    return base, comp


def _payload(w: NDArray, base: str, index_dtype: str | np.dtype | None) -> dict[str, NDArray]:
    """The arrays that format ``base`` stores for the checked matrix ``w``."""
    if base == "dense":
        return {"values": w}
    if base == "csr":
        values, indices, indptr = to_csr(w, index_dtype)
        return {"values": values, "indices": indices, "indptr": indptr, "shape": np.array(w.shape)}
    mask = w != 0
    return {"bits": np.packbits(mask.ravel()), "values": w[mask], "shape": np.array(w.shape)}


def serialise_many(
    arrays: Mapping[str, ArrayLike], fmt: str, index_dtype: str | np.dtype | None = None
) -> bytes:
    """Several named matrices in one ``np.savez`` file, each stored in ``fmt``: the file a
    whole model's weights make (array ``key`` of matrix ``name`` is saved as ``name.key``).

    Parameters
    ----------
    arrays : name -> 2-D float array (reshape vectors to ``(1, n)`` first).
    fmt : one of :data:`FORMATS`, optionally with ``+gzip`` (the whole file is gzipped).
    index_dtype : CSR column-index dtype for every matrix (default: the smallest per matrix).

    Examples
    --------
    >>> a, b = np.eye(8, dtype=np.float32), np.ones((1, 4), dtype=np.float32)
    >>> with np.load(io.BytesIO(serialise_many({"a": a, "b": b}, "bitmask"))) as f:
    ...     sorted(f.files)
    ['a.bits', 'a.shape', 'a.values', 'b.bits', 'b.shape', 'b.values']
    """
    base, comp = _check_fmt(fmt)
    if not isinstance(arrays, Mapping) or not arrays:
        raise ValueError("arrays must be a non-empty mapping name -> 2-D array")
    payload = {}
    for name, w in arrays.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"arrays keys must be non-empty str, got {name!r}")
        arrays_of_w = _payload(_check_matrix(w, f"arrays[{name!r}]"), base, index_dtype)
        for key, value in arrays_of_w.items():
            payload[f"{name}.{key}"] = value
    buf = io.BytesIO()
    np.savez(buf, **payload)
    data = buf.getvalue()
    return gzip.compress(data, compresslevel=6, mtime=0) if comp else data


def measured_bytes(weights: ArrayLike, fmt: str, index_dtype: str | np.dtype | None = None) -> int:
    """``len(serialise(weights, fmt))``: the honest size of the file."""
    return len(serialise(weights, fmt, index_dtype))


def predicted_bytes(
    shape: tuple[int, int],
    nnz: int,
    fmt: str,
    value_bytes: int = 4,
    index_bytes: int | None = None,
    pointer_bytes: int | None = None,
) -> int:
    """Payload bytes of a format by formula (no container header; no gzip).

    Examples
    --------
    >>> predicted_bytes((1682, 64), 10_000, "csr")  # uint8 indices (64 cols), uint16 pointers
    53366
    >>> predicted_bytes((1682, 64), 10_000, "bitmask")
    53456
    """
    r, c = shape
    n = r * c
    if not 0 <= nnz <= n:
        raise ValueError(f"nnz must lie in [0, {n}], got {nnz}")
    if fmt == "dense":
        return n * value_bytes
    if fmt == "csr":
        i = index_bytes if index_bytes is not None else index_dtype_for(c - 1).itemsize
        p = pointer_bytes if pointer_bytes is not None else index_dtype_for(nnz).itemsize
        return nnz * (value_bytes + i) + (r + 1) * p
    if fmt == "bitmask":
        return math.ceil(n / 8) + nnz * value_bytes
    raise ValueError(f"fmt must be one of {FORMATS} for a prediction, got {fmt!r}")


def break_even_sparsity(fmt: str, value_bytes: int = 4, index_bytes: int = 4) -> float:
    """Sparsity above which ``fmt`` is smaller than dense (large matrices: the O(rows)
    pointer term and container headers ignored).

    Examples
    --------
    >>> break_even_sparsity("csr", 4, 2), break_even_sparsity("csr", 4, 4), break_even_sparsity("bitmask")
    (0.3333333333333333, 0.5, 0.03125)
    """
    if fmt == "csr":
        return index_bytes / (value_bytes + index_bytes)
    if fmt == "bitmask":
        return 1 / (8 * value_bytes)
    if fmt == "dense":
        return float("nan")
    raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")


def container_overhead(fmt: str) -> int:
    """Bytes ``np.savez`` adds around the payload of ``fmt`` (zip + ``.npy`` headers),
    measured on a tiny matrix whose payload is known exactly."""
    w = np.zeros((1, 8), dtype=np.float32)
    w[0, 0] = 1.0
    base = fmt.partition("+")[0]
    return (
        measured_bytes(w, base)
        - predicted_bytes((1, 8), 1, base)
        - (
            16 if base in ("csr", "bitmask") else 0  # the stored shape: two int64
        )
    )


@dataclass(frozen=True)
class SizeRow:
    """Measured and predicted bytes of one matrix in one format."""

    fmt: str
    measured: int
    predicted: int | None


def size_table(weights: ArrayLike, formats: tuple[str, ...] | None = None) -> list[SizeRow]:
    """Measured (and, where a formula exists, predicted) bytes of ``weights`` per format.

    Examples
    --------
    >>> w = np.eye(64, dtype=np.float32)
    >>> [r.fmt for r in size_table(w)]
    ['dense', 'csr', 'bitmask', 'dense+gzip', 'csr+gzip', 'bitmask+gzip']
    """
    w = _check_matrix(weights)
    formats = formats or (*FORMATS, *(f + "+gzip" for f in FORMATS))
    nnz = int(np.count_nonzero(w))
    rows = []
    for fmt in formats:
        predicted = (
            None if "+" in fmt else predicted_bytes(w.shape, nnz, fmt, value_bytes=w.itemsize)
        )
        rows.append(SizeRow(fmt, measured_bytes(w, fmt), predicted))
    return rows
