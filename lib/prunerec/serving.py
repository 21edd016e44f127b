"""Serving a pruned recommender: the bytes and the latency that pruning really buys.

Shared by chapter 06 and ``bench/serving.py``. A pruned NeuMF can be held at serving time
in four ways, and each costs something different:

* **masked** — what ``torch.nn.utils.prune`` leaves (:func:`pruned_copy`): every pruned
  ``weight`` is stored twice, as ``weight_orig`` and a float ``weight_mask``, and a hook
  multiplies them before *every* forward pass;
* **dense** — the masks baked in (:func:`dense_copy`): zeros stored as ordinary floats, so
  the file and the arithmetic are exactly those of the unpruned model;
* **CSR** — :func:`to_csr_model`: the ``nn.Linear`` weights (and optionally the embedding
  tables) held as ``torch.sparse_csr_tensor`` and multiplied by torch's sparse kernels;
* **shrunk** — :func:`prunerec.torch_prune.shrink_structured`: whole neurons and embedding
  dimensions removed, a smaller *dense* model.

Bytes are measured by serialising (:func:`model_bytes`, through
:func:`prunerec.storage.serialise_many`) and predicted by formula
(:func:`predicted_model_bytes`). Latency is measured with :mod:`prunerec.latency`, several
ways *interleaved* in rounds (:func:`compare_latency`) so that a busy machine slows them all
alike and their ratios stay meaningful. :func:`crossover_sparsity` reads off where a sparse
kernel starts to beat the dense one.
"""

from __future__ import annotations

import itertools
import numbers
import os
import platform
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.utils.prune as prune
from numpy.typing import NDArray
from torch import nn

from prunerec import latency, storage
from prunerec.env import progress_disabled
from prunerec.masks import magnitude_mask, nm_mask
from prunerec.models import NeuMF, named_effective_parameters, state_dict_bytes
from prunerec.torch_prune import prunable_parameters, prune_to_sparsity
from prunerec.torch_prune import sparsity as sparsity_report

__all__ = [
    "CASE_STUDY",
    "BYTE_FORMATS",
    "machine_info",
    "train_case_study",
    "dense_copy",
    "pruned_copy",
    "effective_arrays",
    "model_bytes",
    "predicted_model_bytes",
    "bytes_sweep",
    "best_format",
    "CsrLinear",
    "CsrTower",
    "CsrEmbedding",
    "to_csr_model",
    "csr_memory_bytes",
    "contenders",
    "score_all_call",
    "compare_latency",
    "crossover_sparsity",
    "csr_layer_sweep",
    "csr_model_sweep",
    "forward_breakdown",
    "semi_structured_support",
    "semi_structured_sweep",
    "STAGES",
    "stats_dict",
    "breakdown_shares",
    "plot_bytes",
    "plot_latency",
    "plot_speedup",
    "plot_breakdown",
]

#: The recommender of chapter 05: NeuMF on MovieLens-100K.
CASE_STUDY: dict[str, Any] = {"gmf_dim": 32, "mlp_dim": 32, "layers": (64, 32, 16)}

#: The formats :func:`bytes_sweep` measures by default (``np.savez`` files, fp32 values).
BYTE_FORMATS = ("dense", "csr", "bitmask", "dense+gzip", "csr+gzip", "bitmask+gzip")


# --------------------------------------------------------------------------- validation


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not hasattr(model, "config"):
        raise TypeError(f"model must be one of prunerec.models (with .config()), got {model!r}")
    return model


def _check_sparsities(sparsities: Sequence[float], name: str = "sparsities") -> list[float]:
    out = []
    for s in sparsities:
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not 0.0 <= float(s) < 1.0:
            raise ValueError(f"{name} must hold floats in [0, 1), got {s!r}")
        out.append(float(s))
    if not out:
        raise ValueError(f"{name} is empty")
    if sorted(out) != out or len(set(out)) != len(out):
        raise ValueError(f"{name} must be strictly increasing, got {out}")
    return out


def _to_csr(t: torch.Tensor) -> torch.Tensor:
    """``t.to_sparse_csr()`` without torch's "CSR support is in beta state" warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return t.detach().to_sparse_csr()


def _check_positive(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- machine, model


def machine_info() -> dict[str, Any]:
    """What a latency figure needs next to it: platform, CPUs, torch threads, device, load.

    Examples
    --------
    >>> sorted(machine_info())[:3]
    ['cpu_count', 'device', 'load_average']
    """
    from prunerec.env import device_summary

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device_summary(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "numpy": np.__version__,
        "torch": torch.__version__,
    }


def train_case_study(
    split: Any,
    *,
    epochs: int = 3,
    batch_size: int = 4096,
    lr: float = 4e-3,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
) -> tuple[NeuMF, Any]:
    """Chapter 05's NeuMF (:data:`CASE_STUDY`), trained briefly, returned on the CPU.

    A few epochs with large batches: enough for serving measurements (sizes and speed
    do not depend on how well the model ranks), not for the accuracy study of chapter 05.

    Returns
    -------
    ``(model, history)``: the model in eval mode on the CPU, and the
    :class:`prunerec.training.History`.
    """
    from prunerec.training import train

    model = NeuMF(split.n_users, split.n_items, **CASE_STUDY, seed=seed)
    history = train(
        model,
        split,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        device=device,
        progress=progress,
    )
    return model.cpu().eval(), history


def dense_copy(model: nn.Module) -> nn.Module:
    """A plain copy of one of our models with every pruning mask baked in.

    The effective weights (``weight_orig * weight_mask`` where pruned) become ordinary
    dense parameters: what :func:`prunerec.torch_prune.make_permanent` gives, without
    touching ``model``.

    Examples
    --------
    >>> import torch.nn.utils.prune as prune
    >>> m = NeuMF(4, 6, 4, 4, (8, 4))
    >>> _ = prune.l1_unstructured(m.mlp[0], "weight", amount=10)
    >>> c = dense_copy(m)
    >>> sorted(c.mlp[0].state_dict()), int((c.mlp[0].weight == 0).sum())
    (['bias', 'weight'], 10)
    """
    _check_model(model)
    ref = next(model.parameters())
    new = type(model)(**model.config(), seed=None).to(device=ref.device, dtype=ref.dtype)
    with torch.no_grad():
        new.load_state_dict({n: t.detach().clone() for n, t in named_effective_parameters(model)})
    return new.train(model.training)


def pruned_copy(
    model: nn.Module, sparsity: float, which: str | Sequence[str] = ("embeddings", "mlp")
) -> nn.Module:
    """A copy pruned by global magnitude to an exact ``sparsity`` of the ``which`` weights,
    left *masked* (``torch.nn.utils.prune``'s ``weight_orig`` + ``weight_mask``; at
    ``sparsity=0`` the masks are all ones, as ``prune.identity`` makes them).

    Examples
    --------
    >>> from prunerec.torch_prune import sparsity
    >>> m = pruned_copy(NeuMF(4, 6, 4, 4, (8, 4)), 0.5)
    >>> sparsity(m, which=("embeddings", "mlp")).overall.sparsity
    0.5
    """
    copy = dense_copy(model)
    if sparsity == 0:  # masks of ones: what torch.nn.utils.prune leaves at amount 0
        for module, name in prunable_parameters(copy, which):
            prune.identity(module, name)
        return copy
    return prune_to_sparsity(copy, sparsity, which)


# --------------------------------------------------------------------------- bytes


def effective_arrays(model: nn.Module) -> dict[str, NDArray[np.float32]]:
    """Every effective parameter as a float32 2-D NumPy array (vectors as ``(1, n)``).

    Examples
    --------
    >>> sorted((k, v.shape) for k, v in effective_arrays(nn.Linear(3, 2)).items())
    [('bias', (1, 2)), ('weight', (2, 3))]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    out = {}
    for name, t in named_effective_parameters(model):
        a = t.detach().cpu().float().numpy()
        out[name] = a.reshape(1, -1) if a.ndim < 2 else a.reshape(a.shape[0], -1)
    return out


def model_bytes(model: nn.Module | Mapping[str, NDArray], fmt: str) -> int:
    """Measured size of the model's weights in one ``np.savez`` file, every tensor in
    ``fmt`` (see :mod:`prunerec.storage`; ``+gzip`` gzips the file).

    Examples
    --------
    >>> lin = nn.Linear(64, 64)
    >>> model_bytes(lin, "dense") > 4 * (64 * 64 + 64)
    True
    """
    arrays = model if isinstance(model, Mapping) else effective_arrays(model)
    return len(storage.serialise_many(arrays, fmt))


def predicted_model_bytes(model: nn.Module | Mapping[str, NDArray], fmt: str) -> int:
    """Payload of the model's weights by formula: the sum of
    :func:`prunerec.storage.predicted_bytes` over its tensors (no container headers).

    Examples
    --------
    >>> w = np.zeros((10, 8), dtype=np.float32); w[0, :2] = 1.0
    >>> predicted_model_bytes({"w": w}, "csr")  # 2 values + 2 uint8 indices + 11 uint8 pointers
    21
    """
    arrays = model if isinstance(model, Mapping) else effective_arrays(model)
    return sum(
        storage.predicted_bytes(a.shape, int(np.count_nonzero(a)), fmt, value_bytes=a.itemsize)
        for a in arrays.values()
    )


def best_format(sizes: Mapping[str, int]) -> str:
    """The format of smallest size (ties: the first listed).

    Examples
    --------
    >>> best_format({"dense": 400, "csr": 300, "bitmask": 300})
    'csr'
    """
    if not sizes:
        raise ValueError("sizes is empty")
    return min(sizes, key=lambda f: (sizes[f], list(sizes).index(f)))


def bytes_sweep(
    model: nn.Module,
    sparsities: Sequence[float],
    formats: Sequence[str] = BYTE_FORMATS,
    which: str | Sequence[str] = ("embeddings", "mlp"),
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Bytes of ``model`` pruned (global magnitude, exact count) to each sparsity.

    For each sparsity: the measured size in every ``np.savez`` format, the formula's
    prediction for the formats that have one, and what ``torch.save(state_dict)`` writes
    for the masked model (``torch.nn.utils.prune``), the dense model (masks made
    permanent) and the CSR model of :func:`to_csr_model` (torch's int64 indices).

    Returns
    -------
    list of dicts with ``sparsity``, ``nnz`` (non-zero parameters, biases included),
    ``params``, ``measured`` and ``predicted`` (format -> bytes) and ``torch_save``.
    """
    from tqdm.auto import tqdm

    _check_model(model)
    rows = []
    for s in tqdm(_check_sparsities(sparsities), desc="sizes", disable=progress_disabled(progress)):
        masked = pruned_copy(model, s, which)
        arrays = effective_arrays(masked)
        dense = dense_copy(masked)
        rows.append(
            {
                "sparsity": s,
                "params": sum(a.size for a in arrays.values()),
                "nnz": sum(int(np.count_nonzero(a)) for a in arrays.values()),
                "measured": {f: model_bytes(arrays, f) for f in formats},
                "predicted": {f: predicted_model_bytes(arrays, f) for f in formats if "+" not in f},
                "torch_save": {
                    "masked (torch.nn.utils.prune)": state_dict_bytes(masked),
                    "dense (made permanent)": state_dict_bytes(dense),
                    "torch.sparse CSR": state_dict_bytes(to_csr_model(masked, embeddings=True)),
                },
            }
        )
    return rows


# --------------------------------------------------------------------------- CSR model


class CsrLinear(nn.Module):
    """``nn.Linear`` with its weight held as a ``torch.sparse_csr_tensor`` (a buffer).

    ``forward(x)`` computes ``x @ W.T + b`` as ``(W @ x.T).T + b`` with torch's CSR
    sparse-dense matmul (``torch.sparse.mm``), for any leading shape of ``x``.

    Examples
    --------
    >>> lin = nn.Linear(8, 4)
    >>> x = torch.randn(3, 5, 8)
    >>> torch.allclose(CsrLinear.from_linear(lin)(x), lin(x), atol=1e-6)
    True
    """

    def __init__(self, weight_csr: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        if weight_csr.layout != torch.sparse_csr or weight_csr.ndim != 2:
            raise ValueError("weight_csr must be a 2-D torch.sparse_csr_tensor")
        self.out_features, self.in_features = weight_csr.shape
        self.register_buffer("weight", weight_csr)
        self.register_buffer("bias", None if bias is None else bias.detach().clone())

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> CsrLinear:
        """Convert an ``nn.Linear`` (its effective weight, masks applied)."""
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"linear must be an nn.Linear, got {type(linear).__name__}")
        return cls(_to_csr(linear.weight), linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        y = torch.sparse.mm(self.weight, x.reshape(-1, self.in_features).T).T
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*lead, self.out_features)

    def extra_repr(self) -> str:
        nnz = self.weight.values().numel()
        return f"in_features={self.in_features}, out_features={self.out_features}, nnz={nnz}"


class CsrTower(nn.Module):
    """An MLP tower (``nn.Sequential`` of ``Linear`` and ``ReLU``) with CSR weights,
    computed *feature-major* so that torch's sparse kernel gets what it is fast on.

    torch's CSR x dense product is fast when the dense operand is contiguous with the
    features along its rows (``(in, N)``); :class:`CsrLinear`, fed ``(N, in)``
    activations, hands it a transposed view and loses several-fold. Here the input is
    transposed once, each layer is one fused ``torch.addmm(b, W, h)`` on ``(features, N)``
    activations followed by an in-place ReLU, and the result is transposed back.

    Examples
    --------
    >>> tower = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3), nn.ReLU())
    >>> x = torch.randn(2, 7, 8)
    >>> torch.allclose(CsrTower.from_sequential(tower)(x), tower(x), atol=1e-6)
    True
    """

    def __init__(self, layers: Sequence[tuple[torch.Tensor, torch.Tensor, bool]]) -> None:
        super().__init__()
        if not layers:
            raise ValueError("layers is empty")
        self.relu = []
        for k, (w, b, relu) in enumerate(layers):
            if w.layout != torch.sparse_csr or w.ndim != 2:
                raise ValueError(f"layers[{k}]: the weight must be a 2-D sparse CSR tensor")
            self.register_buffer(f"weight{k}", w)
            self.register_buffer(f"bias{k}", b.detach().clone().reshape(-1, 1))
            self.relu.append(bool(relu))
        self.in_features = layers[0][0].shape[1]
        self.out_features = layers[-1][0].shape[0]

    @classmethod
    def from_sequential(cls, seq: nn.Sequential) -> CsrTower:
        """Convert ``Linear[, ReLU], Linear[, ReLU], ...`` (effective weights)."""
        layers: list[list[Any]] = []
        for module in seq:
            if isinstance(module, nn.Linear):
                bias = module.bias if module.bias is not None else torch.zeros(module.out_features)
                layers.append([_to_csr(module.weight), bias.detach(), False])
            elif isinstance(module, nn.ReLU) and layers and not layers[-1][2]:
                layers[-1][2] = True
            else:
                raise TypeError(f"seq may hold only Linear and ReLU layers, got {module!r}")
        return cls([tuple(layer) for layer in layers])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        h = x.reshape(-1, self.in_features).T.contiguous()
        for k, relu in enumerate(self.relu):
            h = torch.addmm(getattr(self, f"bias{k}"), getattr(self, f"weight{k}"), h)
            if relu:
                h.relu_()
        return h.T.reshape(*lead, self.out_features)


class CsrEmbedding(nn.Module):
    """An embedding table held as a ``torch.sparse_csr_tensor``; ``forward(idx)`` returns
    dense rows, like ``nn.Embedding``.

    torch has no CSR row gather on the CPU (``index_select`` is not implemented for the
    ``SparseCsrCPU`` backend), so the lookup is written here with dense tensor ops: for
    each index, read its row's slice of values and column indices (``crow_indices``) and
    scatter them into a zero row.

    Examples
    --------
    >>> emb = nn.Embedding(5, 3)
    >>> idx = torch.tensor([[4, 0], [4, 2]])
    >>> torch.equal(CsrEmbedding.from_embedding(emb)(idx), emb(idx))
    True
    """

    def __init__(self, weight_csr: torch.Tensor) -> None:
        super().__init__()
        if weight_csr.layout != torch.sparse_csr or weight_csr.ndim != 2:
            raise ValueError("weight_csr must be a 2-D torch.sparse_csr_tensor")
        self.num_embeddings, self.embedding_dim = weight_csr.shape
        self.register_buffer("weight", weight_csr)

    @classmethod
    def from_embedding(cls, embedding: nn.Embedding) -> CsrEmbedding:
        """Convert an ``nn.Embedding`` (its effective weight, masks applied)."""
        if not isinstance(embedding, nn.Embedding):
            raise TypeError(f"embedding must be an nn.Embedding, got {type(embedding).__name__}")
        return cls(_to_csr(embedding.weight))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        flat = idx.reshape(-1)
        crow, col, val = (
            self.weight.crow_indices(),
            self.weight.col_indices(),
            self.weight.values(),
        )
        start = crow[flat]
        count = crow[flat + 1] - start
        total = int(count.sum())
        rows = torch.repeat_interleave(torch.arange(flat.numel(), device=idx.device), count)
        first = torch.cumsum(count, 0) - count  # where each row's entries start in the output
        pos = torch.repeat_interleave(start - first, count) + torch.arange(total, device=idx.device)
        out = torch.zeros(flat.numel(), self.embedding_dim, dtype=val.dtype, device=val.device)
        out[rows, col[pos]] = val[pos]
        return out.reshape(*idx.shape, self.embedding_dim)

    def extra_repr(self) -> str:
        nnz = self.weight.values().numel()
        return f"{self.num_embeddings}, {self.embedding_dim}, nnz={nnz}"


def to_csr_model(model: nn.Module, embeddings: bool = False) -> nn.Module:
    """A copy of one of our models whose MLP tower (and, with ``embeddings``, its
    ``nn.Embedding`` tables) holds its effective weights as torch CSR tensors.

    The tower becomes a :class:`CsrTower` (feature-major, fused ``addmm``: the fastest way
    we found to call torch's CSR kernel); the output layer ``predict`` stays a dense
    ``nn.Linear`` (it is not pruned, and a one-row matrix gains nothing from CSR). The copy
    computes the same scores (up to float rounding) with torch's sparse kernels. Its
    ``state_dict`` holds the CSR tensors, so ``torch.save`` writes values + int64 column
    indices + int64 row pointers.

    Examples
    --------
    >>> m = pruned_copy(NeuMF(4, 6, 4, 4, (8, 4)), 0.8)
    >>> c = to_csr_model(m, embeddings=True)
    >>> u, i = torch.tensor([[0, 3]]), torch.tensor([[5, 1]])
    >>> torch.allclose(c(u, i), m(u, i), atol=1e-6), type(c.mlp).__name__
    (True, 'CsrTower')
    """
    new = dense_copy(model).eval()
    if isinstance(getattr(new, "mlp", None), nn.Sequential):
        new.mlp = CsrTower.from_sequential(new.mlp)
    if embeddings:
        for parent in list(new.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, nn.Embedding):
                    setattr(parent, name, CsrEmbedding.from_embedding(child))
    return new


def csr_memory_bytes(model: nn.Module) -> int:
    """Bytes the model's tensors occupy in memory, CSR buffers counted as
    values + column indices + row pointers.

    Examples
    --------
    >>> csr_memory_bytes(CsrLinear(torch.eye(4).to_sparse_csr(), None))  # 4*4 + 4*8 + 5*8
    88
    """
    total = 0
    for t in [*model.parameters(), *model.buffers()]:
        if t.layout == torch.sparse_csr:
            parts = (t.values(), t.col_indices(), t.crow_indices())
            total += sum(p.numel() * p.element_size() for p in parts)
        else:
            total += t.numel() * t.element_size()
    return total


def contenders(model: nn.Module, sparsity: float = 0.9) -> dict[str, nn.Module]:
    """The ways of serving ``model`` that chapter 06 and ``bench/serving.py`` compare.

    ``dense`` (the model itself), ``masked (torch prune)`` (:func:`pruned_copy` at
    ``sparsity``), ``dense, permanent`` (its masks baked in), ``CSR tower`` and
    ``CSR everything`` (:func:`to_csr_model` without and with CSR embedding tables), and
    ``shrunk (dims, width / 2)``: :func:`prunerec.torch_prune.shrink_structured` with half the
    embedding dimensions and half the MLP neurons removed. All in eval mode.

    Examples
    --------
    >>> list(contenders(NeuMF(4, 6, 4, 4, (8, 4))))  # doctest: +NORMALIZE_WHITESPACE
    ['dense', 'masked (torch prune)', 'dense, permanent', 'CSR tower', 'CSR everything',
     'shrunk (dims, width / 2)']
    """
    from prunerec.torch_prune import shrink_structured

    _check_model(model)
    masked = pruned_copy(model, sparsity).eval()
    return {
        "dense": model.eval(),
        "masked (torch prune)": masked,
        "dense, permanent": dense_copy(masked).eval(),
        "CSR tower": to_csr_model(masked),
        "CSR everything": to_csr_model(masked, embeddings=True),
        "shrunk (dims, width / 2)": shrink_structured(model, mlp_amount=0.5, dim_amount=0.5).eval(),
    }


# --------------------------------------------------------------------------- latency


def score_all_call(
    model: nn.Module, n_users: int = 1, first_user: int = 0
) -> Callable[[], torch.Tensor]:
    """A no-argument function scoring every item for ``n_users`` users: the request
    to time. Index tensors are built once, outside the timed call; the call runs the
    model in ``torch.inference_mode`` (the work of
    :func:`prunerec.training.score_all_items`, without its input checks).

    Examples
    --------
    >>> score_all_call(NeuMF(4, 6, 4, 4, (8, 4)), n_users=2)().shape
    torch.Size([2, 6])
    """
    _check_model(model)
    n_users = _check_positive(n_users, "n_users")
    if not 0 <= first_user <= model.n_users - n_users:
        raise ValueError(
            f"users {first_user}..{first_user + n_users - 1} do not exist (n_users={model.n_users})"
        )
    device = next(itertools.chain(model.parameters(), model.buffers())).device
    users = torch.arange(first_user, first_user + n_users, device=device)[:, None]
    users = users.expand(-1, model.n_items)
    items = torch.arange(model.n_items, device=device).expand_as(users)
    model.eval()

    def call() -> torch.Tensor:
        with torch.inference_mode():
            return model(users, items)

    return call


def compare_latency(
    calls: Mapping[str, Callable[[], Any]],
    *,
    rounds: int = 5,
    repeats: int = 20,
    warmup: int = 3,
    threads: int | None = 1,
    device: Any = None,
) -> dict[str, latency.LatencyStats]:
    """Time several calls *interleaved*: ``rounds`` times, each call ``repeats`` times
    in turn; the timings of all rounds are pooled per call, then summarised.

    On a shared machine the load changes from second to second; interleaving exposes
    every call to the same conditions, so their ratios can be trusted more than their
    absolute values.

    Examples
    --------
    >>> r = compare_latency({"a": lambda: None, "b": lambda: sum(range(1000))}, rounds=2,
    ...                     repeats=6, threads=None)
    >>> r["a"].n, r["a"].p50_ms < r["b"].p50_ms
    (12, True)
    """
    if not calls:
        raise ValueError("calls is empty")
    rounds = _check_positive(rounds, "rounds")
    pooled: dict[str, list[np.ndarray]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, fn in calls.items():
            pooled[name].append(
                latency.sample(fn, repeats=repeats, warmup=warmup, device=device, threads=threads)
            )
    return {name: latency.summarise(np.concatenate(t)) for name, t in pooled.items()}


def crossover_sparsity(
    sparsities: Sequence[float],
    dense_ms: Sequence[float],
    sparse_ms: Sequence[float],
) -> float | None:
    """The lowest measured sparsity from which the sparse kernel is faster than the
    dense one *at every higher sparsity measured too*; ``None`` if it never is.

    Requiring the win to last guards against one lucky measurement below the real
    crossover (timings are noisy).

    Examples
    --------
    >>> crossover_sparsity([0.5, 0.7, 0.8, 0.9], [1, 1, 1, 1], [2.0, 0.9, 1.1, 0.5])
    0.9
    >>> crossover_sparsity([0.5, 0.9], [1, 1], [2, 1.5]) is None
    True
    """
    s = _check_sparsities(sparsities)
    d, p = np.asarray(dense_ms, dtype=float), np.asarray(sparse_ms, dtype=float)
    if d.shape != (len(s),) or p.shape != (len(s),):
        raise ValueError("dense_ms and sparse_ms need one value per sparsity")
    wins = p < d
    if not wins[-1]:
        return None
    k = len(s) - 1
    while k > 0 and wins[k - 1]:
        k -= 1
    return s[k]


def _pruned_weight(shape: tuple[int, int], sparsity: float, seed: int) -> torch.Tensor:
    w = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return torch.from_numpy(w * magnitude_mask(w, sparsity))


def csr_layer_sweep(
    in_features: int,
    out_features: int,
    n_rows: int,
    sparsities: Sequence[float],
    *,
    rounds: int = 3,
    repeats: int = 20,
    threads: int | None = 1,
    seed: int = 0,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """One ``Linear(in_features, out_features)`` applied to ``n_rows`` inputs: the dense
    kernel vs torch's CSR kernel, at each sparsity. The kernel-level crossover.

    Both run the same call in the same layout, ``torch.addmm(bias, W, x_T)`` with
    ``x_T`` of shape ``(in_features, n_rows)`` (the layout of :class:`CsrTower`), so only
    the kernel differs; ``W`` is a seeded Gaussian matrix magnitude-pruned to an exact
    count of zeros, dense or ``torch.sparse_csr``.

    Returns
    -------
    list of dicts: ``sparsity``, ``dense`` and ``csr`` (:class:`prunerec.latency.LatencyStats`),
    ``speedup`` (dense p50 / CSR p50), ``load_average``.

    Examples
    --------
    >>> rows = csr_layer_sweep(8, 4, 10, [0.0, 0.5], rounds=1, repeats=6, threads=None)
    >>> [r["sparsity"] for r in rows], sorted(rows[0])[:2]
    ([0.0, 0.5], ['csr', 'dense'])
    """
    from tqdm.auto import tqdm

    n_rows = _check_positive(n_rows, "n_rows")
    rng = np.random.default_rng(seed + 1)
    x_t = torch.from_numpy(rng.standard_normal((in_features, n_rows)).astype(np.float32))
    bias = torch.zeros(out_features, 1)
    rows = []
    for s in tqdm(
        _check_sparsities(sparsities), desc="CSR vs dense", disable=progress_disabled(progress)
    ):
        w = _pruned_weight((out_features, in_features), s, seed)
        w_csr = _to_csr(w)
        stats = compare_latency(
            {
                "dense": lambda w=w: torch.addmm(bias, w, x_t),
                "csr": lambda w=w_csr: torch.addmm(bias, w, x_t),
            },
            rounds=rounds,
            repeats=repeats,
            threads=threads,
        )
        rows.append(
            {
                "sparsity": s,
                "dense": stats["dense"],
                "csr": stats["csr"],
                "speedup": stats["dense"].p50_ms / stats["csr"].p50_ms,
                "load_average": [round(v, 2) for v in os.getloadavg()],
            }
        )
    return rows


def csr_model_sweep(
    model: nn.Module,
    sparsities: Sequence[float],
    *,
    n_users: int = 1,
    embeddings: bool = False,
    which: str | Sequence[str] = ("embeddings", "mlp"),
    rounds: int = 3,
    repeats: int = 15,
    threads: int | None = 1,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """The whole model scoring every item for ``n_users`` users: dense (masks baked in)
    vs :func:`to_csr_model`, at each global sparsity. The model-level crossover.

    Returns
    -------
    list of dicts like :func:`csr_layer_sweep`'s, plus ``mlp_sparsity``: the sparsity
    global pruning left in the MLP tower (what the CSR kernels see).
    """
    from tqdm.auto import tqdm

    _check_model(model)
    rows = []
    for s in tqdm(
        _check_sparsities(sparsities), desc="CSR model", disable=progress_disabled(progress)
    ):
        masked = pruned_copy(model, s, which)
        dense, csr = dense_copy(masked).eval(), to_csr_model(masked, embeddings=embeddings)
        stats = compare_latency(
            {"dense": score_all_call(dense, n_users), "csr": score_all_call(csr, n_users)},
            rounds=rounds,
            repeats=repeats,
            threads=threads,
        )
        rows.append(
            {
                "sparsity": s,
                "mlp_sparsity": (
                    sparsity_report(masked, which="mlp").overall.sparsity
                    if isinstance(getattr(masked, "mlp", None), nn.Sequential)
                    else None
                ),
                "dense": stats["dense"],
                "csr": stats["csr"],
                "speedup": stats["dense"].p50_ms / stats["csr"].p50_ms,
                "load_average": [round(v, 2) for v in os.getloadavg()],
            }
        )
    return rows


def forward_breakdown(
    model: NeuMF,
    n_users: int = 1,
    *,
    rounds: int = 3,
    repeats: int = 20,
    threads: int | None = 1,
) -> dict[str, latency.LatencyStats]:
    """Where the time of scoring every item goes, stage by stage, for a dense NeuMF.

    Stages (each timed on its own, with its inputs precomputed): ``embedding lookups``
    (the four tables), ``GMF product + concatenations``, ``MLP tower``, ``output layer``;
    then ``whole forward`` (``model(users, items)``) and ``one pair`` — a forward on a
    single (user, item) pair, which does almost no arithmetic: its time is the fixed
    cost of a call (Python, operator dispatch, small allocations).

    Examples
    --------
    >>> r = forward_breakdown(NeuMF(4, 6, 4, 4, (8, 4)), rounds=1, repeats=6, threads=None)
    >>> list(r)[:2], len(r)
    (['embedding lookups', 'GMF product + concatenations'], 6)
    """
    if not isinstance(model, NeuMF) or any(
        not isinstance(getattr(model, n), nn.Embedding)
        for n in ("gmf_user_embedding", "mlp_user_embedding")
    ):
        raise TypeError("model must be a dense NeuMF (use dense_copy on a pruned one)")
    m = model.eval()
    users = torch.arange(_check_positive(n_users, "n_users"))[:, None].expand(-1, m.n_items)
    items = torch.arange(m.n_items).expand_as(users)

    def lookups() -> tuple[torch.Tensor, ...]:
        return (
            m.gmf_user_embedding(users),
            m.gmf_item_embedding(items),
            m.mlp_user_embedding(users),
            m.mlp_item_embedding(items),
        )

    with torch.inference_mode():
        pu, qi, mu, mi = lookups()
        gmf, x = pu * qi, torch.cat([mu, mi], dim=-1)
        h = m.mlp(x)

    def stage(fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with torch.inference_mode():
                return fn()

        return run

    calls = {
        "embedding lookups": stage(lookups),
        "GMF product + concatenations": stage(lambda: (pu * qi, torch.cat([mu, mi], dim=-1))),
        "MLP tower": stage(lambda: m.mlp(x)),
        "output layer": stage(lambda: m.predict(torch.cat([gmf, h], dim=-1)).squeeze(-1)),
        "whole forward": stage(lambda: m(users, items)),
        "one pair": stage(lambda: m(users[:1, :1], items[:1, :1])),
    }
    return compare_latency(calls, rounds=rounds, repeats=repeats, threads=threads)


# --------------------------------------------------------------------------- 2:4 on GPUs


def semi_structured_support(device: int | str | torch.device | None = None) -> str | None:
    """``None`` when 2:4 semi-structured sparse kernels can run here, else the reason.

    They need an NVIDIA GPU of compute capability 8.0 or newer (Ampere: sparse tensor
    cores, Mishra et al. 2021) and ``torch.sparse.to_sparse_semi_structured``.

    Examples
    --------
    >>> reason = semi_structured_support()
    >>> reason is None or isinstance(reason, str)
    True
    """
    if not torch.cuda.is_available():
        return "no CUDA GPU here: 2:4 sparse kernels run only on NVIDIA GPUs"
    cap = torch.cuda.get_device_capability(device)
    if cap < (8, 0):
        return (
            f"GPU compute capability {cap[0]}.{cap[1]} < 8.0: sparse tensor cores need "
            "Ampere or newer"
        )
    if not hasattr(torch.sparse, "to_sparse_semi_structured"):
        return f"torch {torch.__version__} has no torch.sparse.to_sparse_semi_structured"
    return None


def semi_structured_sweep(
    shapes: Sequence[tuple[int, int]] = ((64, 64), (32, 64), (16, 32), (4096, 4096)),
    n_rows: int = 16 * 1682,
    *,
    dtype: torch.dtype = torch.float16,
    rounds: int = 3,
    repeats: int = 20,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Dense vs 2:4 semi-structured ``nn.Linear(in, out)`` layers (``shapes`` as
    ``(out, in)``) on ``n_rows`` inputs, on the GPU, in ``dtype``.

    Each weight is pruned 2:4 along its input dimension (:func:`prunerec.masks.nm_mask`),
    then converted with ``torch.sparse.to_sparse_semi_structured``; the outputs are
    compared with the dense layer's. A shape the kernels reject is reported with the
    error, not skipped silently. Raises ``RuntimeError`` when
    :func:`semi_structured_support` says the GPU cannot run them.

    Returns
    -------
    list of dicts: ``shape``, and either ``dense``/``sparse``
    (:class:`prunerec.latency.LatencyStats`), ``speedup`` and ``max_abs_diff``, or ``error``.
    """
    reason = semi_structured_support()
    if reason is not None:
        raise RuntimeError(reason)
    import copy

    from torch.sparse import to_sparse_semi_structured

    device = torch.device("cuda")
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for out_f, in_f in shapes:
        row: dict[str, Any] = {"shape": (int(out_f), int(in_f))}
        lin = nn.Linear(in_f, out_f)
        with torch.no_grad():
            w = lin.weight.detach().numpy()
            lin.weight.mul_(torch.from_numpy(nm_mask(w, 2, 4, axis=-1)).to(lin.weight.dtype))
        lin = lin.to(device=device, dtype=dtype).eval()
        x = torch.randn(n_rows, in_f, generator=gen).to(device=device, dtype=dtype)
        sparse = copy.deepcopy(lin)
        try:
            sparse.weight = nn.Parameter(to_sparse_semi_structured(sparse.weight))
            with torch.inference_mode():
                diff = (sparse(x) - lin(x)).abs().max().item()
        except Exception as exc:  # noqa: BLE001 - any rejection is reported, per shape
            row["error"] = str(exc).strip().splitlines()[0][:200]
            rows.append(row)
            continue

        def run(layer: nn.Module, x: torch.Tensor = x) -> Callable[[], Any]:
            def call() -> Any:
                with torch.inference_mode():
                    return layer(x)

            return call

        stats = compare_latency(
            {"dense": run(lin), "sparse": run(sparse)},
            rounds=rounds,
            repeats=repeats,
            threads=None,
            device=device,
        )
        row.update(
            dense=stats["dense"],
            sparse=stats["sparse"],
            speedup=stats["dense"].p50_ms / stats["sparse"].p50_ms,
            max_abs_diff=diff,
        )
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- reporting

#: Stages of :func:`forward_breakdown` that partition the forward pass.
STAGES = ("embedding lookups", "GMF product + concatenations", "MLP tower", "output layer")


def stats_dict(stats: latency.LatencyStats, digits: int = 4) -> dict[str, float]:
    """A :class:`prunerec.latency.LatencyStats` as a JSON-ready dict (milliseconds).

    Examples
    --------
    >>> stats_dict(latency.summarise(np.arange(1.0, 11.0)))["p50_ms"]
    5.5
    """
    return {k: (round(v, digits) if isinstance(v, float) else v) for k, v in vars(stats).items()}


def breakdown_shares(stages: Mapping[str, latency.LatencyStats]) -> dict[str, float]:
    """Each stage's p50 as a fraction of the whole forward's p50, plus ``"other"``: what
    the separately timed stages do not account for (never below 0).

    Examples
    --------
    >>> s = {k: latency.summarise(np.full(6, v)) for k, v in zip(
    ...     [*STAGES, "whole forward"], [1.0, 1.0, 4.0, 1.0, 10.0])}
    >>> {k: round(v, 6) for k, v in breakdown_shares(s).items()}  # doctest: +NORMALIZE_WHITESPACE
    {'embedding lookups': 0.1, 'GMF product + concatenations': 0.1, 'MLP tower': 0.4,
     'output layer': 0.1, 'other': 0.3}
    """
    whole = stages["whole forward"].p50_ms
    shares = {k: stages[k].p50_ms / whole for k in STAGES}
    shares["other"] = max(0.0, 1.0 - sum(shares.values()))
    return shares


def _plt() -> Any:
    import matplotlib.pyplot as plt

    return plt


def plot_bytes(
    ax: Any,
    rows: Sequence[Mapping[str, Any]],
    formats: Sequence[str] = ("dense", "csr", "bitmask", "bitmask+gzip"),
    torch_save: bool = True,
) -> Any:
    """Bytes vs sparsity from :func:`bytes_sweep`: measured (markers), predicted by formula
    (dashed), and optionally what ``torch.save`` writes (masked model, torch CSR)."""
    x = [100 * r["sparsity"] for r in rows]
    for fmt in formats:
        (line,) = ax.plot(x, [r["measured"][fmt] / 1e3 for r in rows], "o-", ms=3, label=fmt)
        if fmt in rows[0]["predicted"]:
            pred = [r["predicted"][fmt] / 1e3 for r in rows]
            ax.plot(x, pred, "--", color=line.get_color(), lw=1)
    if torch_save:
        for key, style in (("masked (torch.nn.utils.prune)", "s:"), ("torch.sparse CSR", "^:")):
            ax.plot(
                x,
                [r["torch_save"][key] / 1e3 for r in rows],
                style,
                ms=3,
                label=f"torch.save, {key}",
            )
    ax.set_yscale("log")
    ax.set_xlabel("sparsity of the pruned weights (%)")
    ax.set_ylabel("kB on disk (log)")
    ax.set_title("Bytes on disk (dashed: formula)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ax


def plot_latency(
    ax: Any, table: Mapping[str, latency.LatencyStats], title: str = "Latency", unit: str = "ms"
) -> Any:
    """Horizontal bars of p50 latency with a line to p95, one per contender."""
    names = list(table)[::-1]
    p50 = [table[n].p50_ms for n in names]
    p95 = [table[n].p95_ms for n in names]
    ax.barh(names, p50, color="tab:blue", alpha=0.7, label="p50")
    ax.errorbar(
        p50,
        names,
        xerr=[[0] * len(p50), [b - a for a, b in zip(p50, p95, strict=True)]],
        fmt="none",
        ecolor="k",
        capsize=3,
        label="to p95",
    )
    ax.set_xlabel(f"{unit} per request")
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="x")
    return ax


def plot_speedup(ax: Any, sweeps: Mapping[str, Sequence[Mapping[str, Any]]]) -> Any:
    """Dense p50 / CSR p50 vs sparsity for each sweep (:func:`csr_layer_sweep`,
    :func:`csr_model_sweep`); above the line at 1, CSR is faster."""
    for label, rows in sweeps.items():
        x = [100 * r["sparsity"] for r in rows]
        ax.plot(x, [r["speedup"] for r in rows], "o-", ms=3, label=label)
    ax.axhline(1.0, color="k", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("sparsity (%)")
    ax.set_ylabel("speed-up of CSR over dense (log)")
    ax.set_title("Where torch.sparse CSR starts to pay off")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ax


def plot_breakdown(ax: Any, breakdowns: Mapping[str, Mapping[str, latency.LatencyStats]]) -> Any:
    """Stacked shares of the forward pass (:func:`breakdown_shares`), one bar per setting."""
    labels = list(breakdowns)
    shares = [breakdown_shares(b) for b in breakdowns.values()]
    left = np.zeros(len(labels))
    for stage in [*STAGES, "other"]:
        vals = np.array([100 * s[stage] for s in shares])
        ax.barh(labels, vals, left=left, label=stage)
        left += vals
    ax.set_xlabel("% of the whole forward pass (p50)")
    ax.set_title("Where the time goes")
    ax.legend(fontsize=7, loc="lower right")
    return ax
