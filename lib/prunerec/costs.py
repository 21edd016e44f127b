"""Cost anatomy of recommender models: parameters, bytes and FLOPs per prediction.

Pure arithmetic on a model's *configuration* (no weights, no torch), so that a
production-scale model with hundreds of millions of parameters can be costed on a laptop.
Chapter 01 uses it; :mod:`prunerec.models` holds the same MF and NeuMF as torch modules,
and the tests check that both count the same parameters.

Conventions
-----------
* **Parameters** are split into *embedding* parameters (tables indexed by a user, item or
  category ID: embedding tables and per-ID biases) and *dense* parameters (every other
  weight and bias: MLP layers, the output layer, a global bias).
* **FLOPs per prediction** count the multiplications and additions of one forward pass
  for one (user, item) pair: a ``Linear(a, b)`` with bias costs ``2·a·b`` (``a``
  multiplications and ``a`` additions per output, the bias being the first addend); a
  dot product of length ``d`` costs ``2·d − 1``; an element-wise product ``d``.
  Embedding look-ups, ReLU and sigmoid are counted as 0 FLOPs: a look-up moves memory,
  it does no arithmetic.
* **Gathered bytes per prediction** are the embedding rows a prediction reads (one row
  per table for one-hot features). Dense weights are read once per *batch*, whatever
  its size, so they are reported separately (``dense_params``).

Bytes use the dtype's item size (:data:`DTYPE_BYTES`); :func:`format_bytes` prints them in
binary units (1 MiB = 2**20 bytes).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "DTYPE_BYTES",
    "CRITEO_KAGGLE_TABLE_SIZES",
    "dtype_bytes",
    "format_bytes",
    "embedding_bytes",
    "linear_params",
    "mlp_params",
    "mlp_flops",
    "Part",
    "ModelCost",
    "mf_cost",
    "neumf_cost",
    "dlrm_cost",
]

#: Bytes per stored value for the dtypes a recommender is served in.
DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}

#: Rows of the 26 categorical embedding tables of the Criteo Kaggle (Display Advertising
#: Challenge) data set after the preprocessing of the DLRM reference code (Naumov et al.
#: 2019, github.com/facebookresearch/dlrm), as used by its ``bench/dlrm_s_criteo_kaggle.sh``
#: configuration (embedding dim 16, bottom MLP 13-512-256-64-16, top MLP 512-256-1).
CRITEO_KAGGLE_TABLE_SIZES = (
    1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194,
    27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572,
)  # fmt: skip

# --------------------------------------------------------------------------- validation


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def _widths(widths: Sequence[int], name: str, min_len: int = 2) -> tuple[int, ...]:
    if isinstance(widths, str | bytes) or not isinstance(widths, Sequence):
        raise TypeError(f"{name} must be a sequence of positive ints, got {widths!r}")
    if len(widths) < min_len:
        raise ValueError(f"{name} needs at least {min_len} widths, got {len(widths)}")
    return tuple(_positive_int(w, f"{name}[{i}]") for i, w in enumerate(widths))


# --------------------------------------------------------------------------- bytes


def dtype_bytes(dtype: str) -> int:
    """Bytes per value of ``dtype`` (one of :data:`DTYPE_BYTES`).

    Examples
    --------
    >>> dtype_bytes("float32"), dtype_bytes("int8")
    (4, 1)
    """
    if not isinstance(dtype, str):
        raise TypeError(f"dtype must be a str such as 'float32', got {type(dtype).__name__}")
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype={dtype!r} is unknown; choose one of {sorted(DTYPE_BYTES)}")
    return DTYPE_BYTES[dtype]


def format_bytes(n: int | float) -> str:
    """A byte count in binary units with three significant digits.

    Examples
    --------
    >>> format_bytes(512), format_bytes(1536), format_bytes(3 * 2**30)
    ('512 B', '1.50 KiB', '3.00 GiB')
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or not math.isfinite(n) or n < 0:
        raise ValueError(f"n must be a finite number of bytes >= 0, got {n!r}")
    if n < 1024:
        return f"{int(n)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        n /= 1024
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if n >= 100 else f"{n:.2f} {unit}"
    raise AssertionError("unreachable")


def embedding_bytes(n_users: int, n_items: int, dim: int, dtype: str = "float32") -> int:
    """Bytes of a user table and an item table of ``dim`` columns each, stored dense.

    The function behind chapter 01's calculator widget.

    Parameters
    ----------
    n_users, n_items : rows of the two tables (positive ints).
    dim : embedding dimension (a positive int).
    dtype : storage type, a key of :data:`DTYPE_BYTES`.

    Returns
    -------
    int, ``(n_users + n_items) * dim * bytes_per_value``.

    Examples
    --------
    >>> embedding_bytes(943, 1682, 32)
    336000
    >>> format_bytes(embedding_bytes(10_000_000, 1_000_000, 64, "float16"))
    '1.31 GiB'
    """
    rows = _positive_int(n_users, "n_users") + _positive_int(n_items, "n_items")
    return rows * _positive_int(dim, "dim") * dtype_bytes(dtype)


# --------------------------------------------------------------------------- dense layers


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Parameters of ``Linear(in_features, out_features)``.

    Examples
    --------
    >>> linear_params(64, 32), linear_params(64, 32, bias=False)
    (2080, 2048)
    """
    a = _positive_int(in_features, "in_features")
    b = _positive_int(out_features, "out_features")
    return a * b + (b if bias else 0)


def mlp_params(widths: Sequence[int]) -> int:
    """Parameters of a stack of ``Linear`` layers (with biases) of the given widths.

    ``widths = (a, b, c)`` means ``Linear(a, b)`` then ``Linear(b, c)``.

    Examples
    --------
    >>> mlp_params((8, 4, 1))
    41
    """
    w = _widths(widths, "widths")
    return sum(linear_params(a, b) for a, b in zip(w[:-1], w[1:], strict=True))


def mlp_flops(widths: Sequence[int]) -> int:
    """FLOPs of one input through ``Linear`` layers (with biases) of the given widths:
    ``sum(2·a·b)`` over consecutive widths.

    Examples
    --------
    >>> mlp_flops((8, 4, 1))
    72
    """
    w = _widths(widths, "widths")
    return sum(2 * a * b for a, b in zip(w[:-1], w[1:], strict=True))


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Part:
    """One component of a model: its parameters, FLOPs and gathered values per prediction.

    ``kind`` is ``"embedding"`` (indexed by an ID) or ``"dense"``; ``gathered`` is the
    number of values a prediction reads from an embedding part (0 for dense parts).
    """

    name: str
    kind: str
    params: int
    flops: int = 0
    gathered: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("embedding", "dense"):
            raise ValueError(f"kind must be 'embedding' or 'dense', got {self.kind!r}")


@dataclass(frozen=True)
class ModelCost:
    """The cost anatomy of one model configuration (see the module's conventions).

    Examples
    --------
    >>> c = mf_cost(943, 1682, dim=32)
    >>> c.params, c.embedding_params, c.flops
    (86626, 86625, 66)
    """

    name: str
    parts: tuple[Part, ...]

    @property
    def params(self) -> int:
        return sum(p.params for p in self.parts)

    @property
    def embedding_params(self) -> int:
        return sum(p.params for p in self.parts if p.kind == "embedding")

    @property
    def dense_params(self) -> int:
        return sum(p.params for p in self.parts if p.kind == "dense")

    @property
    def embedding_share(self) -> float:
        """Fraction of all parameters that sit in embedding parts."""
        return self.embedding_params / self.params

    @property
    def flops(self) -> int:
        """FLOPs per prediction."""
        return sum(p.flops for p in self.parts)

    @property
    def gathered(self) -> int:
        """Embedding values read per prediction."""
        return sum(p.gathered for p in self.parts)

    def bytes(self, dtype: str = "float32") -> int:
        """Bytes of all parameters stored dense in ``dtype``."""
        return self.params * dtype_bytes(dtype)

    def gathered_bytes(self, dtype: str = "float32") -> int:
        """Embedding bytes read per prediction."""
        return self.gathered * dtype_bytes(dtype)

    def to_text(self) -> str:
        """A fixed-width table: one line per part, then the total.

        Examples
        --------
        >>> print(mf_cost(943, 1682, 32).to_text())  # doctest: +NORMALIZE_WHITESPACE
        MF (dim 32)                    kind           params  share  FLOPs/pred
        user embedding                 embedding      30,176  34.8%           0
        item embedding                 embedding      53,824  62.1%           0
        user + item biases             embedding       2,625   3.0%           2
        dot product + global bias      dense               1   0.0%          64
        total                                         86,626 100.0%          66
        """
        width = max(len(self.name), *(len(p.name) for p in self.parts), 5)
        lines = [
            f"{self.name:<{width}}  {'kind':<10} {'params':>14} {'share':>6} {'FLOPs/pred':>11}"
        ]
        for p in (*self.parts, Part("total", "dense", self.params, self.flops)):
            kind = "" if p.name == "total" else p.kind
            share = f"{100 * p.params / self.params:.1f}%"
            lines.append(f"{p.name:<{width}}  {kind:<10} {p.params:>14,} {share:>6} {p.flops:>11,}")
        return "\n".join(lines)


def mf_cost(n_users: int, n_items: int, dim: int) -> ModelCost:
    """Matrix factorisation with biases, as :class:`prunerec.models.MF`:
    ``<p_u, q_i> + b_u + b_i + b``.

    FLOPs: the dot product (``2·dim − 1``) plus three bias additions.

    Examples
    --------
    >>> mf_cost(5, 7, 4).params == (5 + 7) * 4 + 5 + 7 + 1
    True
    """
    u = _positive_int(n_users, "n_users")
    i = _positive_int(n_items, "n_items")
    d = _positive_int(dim, "dim")
    parts = (
        Part("user embedding", "embedding", u * d, gathered=d),
        Part("item embedding", "embedding", i * d, gathered=d),
        Part("user + item biases", "embedding", u + i, flops=2, gathered=2),
        Part("dot product + global bias", "dense", 1, flops=2 * d - 1 + 1),
    )
    return ModelCost(f"MF (dim {d})", parts)


def neumf_cost(
    n_users: int,
    n_items: int,
    gmf_dim: int = 32,
    mlp_dim: int = 32,
    layers: Sequence[int] = (64, 32, 16),
) -> ModelCost:
    """NeuMF (He et al. 2017) as :class:`prunerec.models.NeuMF`: GMF and MLP towers with
    separate embeddings, fused by one ``Linear(gmf_dim + layers[-1], 1)``.

    Examples
    --------
    >>> neumf_cost(5, 7, gmf_dim=4, mlp_dim=2, layers=(6, 3)).params
    131
    """
    u, i = _positive_int(n_users, "n_users"), _positive_int(n_items, "n_items")
    g, m = _positive_int(gmf_dim, "gmf_dim"), _positive_int(mlp_dim, "mlp_dim")
    tower = (2 * m, *_widths(layers, "layers", min_len=1))
    parts = (
        Part("GMF user + item embeddings", "embedding", (u + i) * g, gathered=2 * g),
        Part("MLP user + item embeddings", "embedding", (u + i) * m, gathered=2 * m),
        Part("GMF element-wise product", "dense", 0, flops=g),
        Part("MLP tower", "dense", mlp_params(tower), flops=mlp_flops(tower)),
        Part("predict layer", "dense", linear_params(g + tower[-1], 1), flops=2 * (g + tower[-1])),
    )
    return ModelCost(f"NeuMF (dims {g}+{m}, layers {'-'.join(map(str, tower[1:]))})", parts)


def dlrm_cost(
    table_sizes: Sequence[int],
    dim: int,
    n_dense: int,
    bottom: Sequence[int],
    top: Sequence[int],
    name: str = "DLRM-like",
) -> ModelCost:
    """A DLRM-like CTR model (Naumov et al. 2019) with dot-product interactions.

    Dense features go through the bottom MLP ``n_dense → bottom[0] → … → bottom[-1]``
    (``bottom[-1]`` must equal ``dim``); each categorical feature looks up one row of its
    table; the ``F = len(table_sizes) + 1`` vectors interact by all ``F·(F−1)/2`` pairwise
    dot products (no self-interaction), which are concatenated with the bottom output and
    fed to the top MLP ``dim + F·(F−1)/2 → top[0] → … → top[-1]`` (``top[-1] = 1``).

    Examples
    --------
    >>> c = dlrm_cost((10, 20), dim=4, n_dense=3, bottom=(8, 4), top=(5, 1))
    >>> c.embedding_params, c.dense_params
    (120, 114)
    """
    sizes = _widths(table_sizes, "table_sizes", min_len=1)
    d = _positive_int(dim, "dim")
    bot = (_positive_int(n_dense, "n_dense"), *_widths(bottom, "bottom", min_len=1))
    if bot[-1] != d:
        raise ValueError(
            f"bottom must end with dim={d} (the dot interactions need it), got {bot[-1]}"
        )
    n_vec = len(sizes) + 1
    pairs = n_vec * (n_vec - 1) // 2
    tp = (d + pairs, *_widths(top, "top", min_len=1))
    parts = (
        Part(
            f"{len(sizes)} embedding tables", "embedding", sum(sizes) * d, gathered=len(sizes) * d
        ),
        Part("bottom MLP", "dense", mlp_params(bot), flops=mlp_flops(bot)),
        Part(f"{pairs} pairwise dot products", "dense", 0, flops=pairs * (2 * d - 1)),
        Part("top MLP", "dense", mlp_params(tp), flops=mlp_flops(tp)),
    )
    return ModelCost(name, parts)
