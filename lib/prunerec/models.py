"""Neural recommenders in PyTorch: MF, GMF, MLP and NeuMF, plus size counters.

The four models of He et al. (2017), *Neural Collaborative Filtering* (WWW), built from
standard ``nn.Embedding`` and ``nn.Linear`` modules so that ``torch.nn.utils.prune``
applies to them unchanged:

* :class:`MF` — dot product of a user and an item vector, plus user, item and global biases;
* :class:`GMF` — generalised MF: a ``Linear(dim, 1)`` on the element-wise product;
* :class:`MLP` — the two vectors concatenated and fed through a ReLU tower;
* :class:`NeuMF` — a GMF tower and an MLP tower with *separate* embeddings, whose outputs are
  concatenated (GMF first) and fed to one final ``Linear`` giving the logit.

Every ``forward(users, items)`` takes two int64 tensors of the same shape — ``(batch,)`` for
training pairs or ``(batch, 100)`` for candidate blocks — and returns logits of that shape
(apply ``torch.sigmoid`` for probabilities).

Names used by the pruning helpers (:mod:`prunerec.torch_prune`): the embedding tables are the
``nn.Embedding`` modules, the MLP tower is the ``nn.Sequential`` called ``mlp`` (``Linear``
and ``ReLU`` alternating) and the output layer is the ``nn.Linear`` called ``predict``.

Initialisation follows the paper's reference code: embeddings ~ N(0, 0.01²), Linear
weights Glorot-uniform, biases 0, drawn from a private generator seeded by ``seed``, so the
initial weights depend on ``seed`` only, not on the global random state.

The size counters understand pruned models: :func:`count_nonzero` counts the *effective*
weights (``weight_orig * weight_mask``) and :func:`state_dict_bytes` measures what
``torch.save`` really writes, masks included.
"""

from __future__ import annotations

import io
import numbers
from collections.abc import Iterator, Sequence

import torch
from torch import nn

__all__ = [
    "MF",
    "GMF",
    "MLP",
    "NeuMF",
    "init_weights",
    "named_effective_parameters",
    "count_parameters",
    "count_nonzero",
    "state_dict_bytes",
    "pick_device",
]

# --------------------------------------------------------------------------- validation


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def _check_layers(layers: Sequence[int]) -> tuple[int, ...]:
    if isinstance(layers, str | bytes) or not isinstance(layers, Sequence):
        raise TypeError(f"layers must be a sequence of positive ints, got {layers!r}")
    if len(layers) == 0:
        raise ValueError("layers is empty: the MLP tower needs at least one hidden layer")
    return tuple(_check_positive_int(w, f"layers[{i}]") for i, w in enumerate(layers))


def _check_pairs(users: torch.Tensor, items: torch.Tensor) -> None:
    if not isinstance(users, torch.Tensor) or not isinstance(items, torch.Tensor):
        raise TypeError(
            f"users and items must be torch tensors, got {type(users).__name__} "
            f"and {type(items).__name__}"
        )
    if users.shape != items.shape:
        raise ValueError(
            f"users and items must have the same shape, got {tuple(users.shape)} "
            f"and {tuple(items.shape)}"
        )


# --------------------------------------------------------------------------- initialisation


def init_weights(model: nn.Module, seed: int | None = 0) -> nn.Module:
    """(Re-)initialise a model in place, as in the NCF reference code.

    Embeddings ~ N(0, 0.01²); ``nn.Linear`` weights Glorot (Xavier) uniform, biases 0; any
    other parameter directly on a model (the MF biases) 0. The draws come from a private
    ``torch.Generator``, so the result depends on ``seed`` only.

    Parameters
    ----------
    model : the module to initialise (its submodules are visited).
    seed : seed of the generator; ``None`` draws from the global torch generator.

    Returns
    -------
    The same ``model``, for chaining.

    Examples
    --------
    >>> a, b = GMF(3, 4, 2, seed=None), GMF(3, 4, 2, seed=None)
    >>> torch.equal(init_weights(a, 7).user_embedding.weight,
    ...             init_weights(b, 7).user_embedding.weight)
    True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    gen = None
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
        gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Embedding):
                w = torch.randn(module.weight.shape, generator=gen) * 0.01
                module.weight.copy_(w)
            elif isinstance(module, nn.Linear):
                fan_out, fan_in = module.weight.shape
                bound = (6.0 / (fan_in + fan_out)) ** 0.5
                w = (torch.rand(module.weight.shape, generator=gen) * 2 - 1) * bound
                module.weight.copy_(w)
                if module.bias is not None:
                    module.bias.zero_()
            for p in module.parameters(recurse=False):
                if not isinstance(module, nn.Embedding | nn.Linear):
                    p.zero_()
    return model


# --------------------------------------------------------------------------- models


class MF(nn.Module):
    """Matrix factorisation: ``logit = <p_u, q_i> + b_u + b_i + b``.

    Parameters
    ----------
    n_users, n_items : number of users and items (rows of the embedding tables).
    dim : embedding dimension.
    seed : seed of the initialisation (see :func:`init_weights`).

    Examples
    --------
    >>> m = MF(5, 7, dim=4)
    >>> m(torch.tensor([0, 4]), torch.tensor([6, 1])).shape
    torch.Size([2])
    >>> count_parameters(m) == (5 + 7) * 4 + 5 + 7 + 1
    True
    """

    def __init__(self, n_users: int, n_items: int, dim: int, *, seed: int | None = 0) -> None:
        super().__init__()
        self.n_users = _check_positive_int(n_users, "n_users")
        self.n_items = _check_positive_int(n_items, "n_items")
        self.dim = _check_positive_int(dim, "dim")
        self.user_embedding = nn.Embedding(self.n_users, self.dim)
        self.item_embedding = nn.Embedding(self.n_items, self.dim)
        self.user_bias = nn.Parameter(torch.zeros(self.n_users))
        self.item_bias = nn.Parameter(torch.zeros(self.n_items))
        self.bias = nn.Parameter(torch.zeros(()))
        init_weights(self, seed)

    def config(self) -> dict[str, object]:
        """Constructor arguments that rebuild this architecture (without the weights)."""
        return {"n_users": self.n_users, "n_items": self.n_items, "dim": self.dim}

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        _check_pairs(users, items)
        dot = (self.user_embedding(users) * self.item_embedding(items)).sum(-1)
        return dot + self.user_bias[users] + self.item_bias[items] + self.bias


class GMF(nn.Module):
    """Generalised matrix factorisation: ``logit = predict(p_u ⊙ q_i)``.

    ``predict`` is a ``Linear(dim, 1)`` (weights ``h`` and a bias), as in He et al. (2017).

    Parameters
    ----------
    n_users, n_items : number of users and items.
    dim : embedding dimension.
    seed : seed of the initialisation.

    Examples
    --------
    >>> m = GMF(5, 7, dim=4)
    >>> m(torch.zeros(3, 10, dtype=torch.long), torch.ones(3, 10, dtype=torch.long)).shape
    torch.Size([3, 10])
    >>> count_parameters(m) == (5 + 7) * 4 + 4 + 1
    True
    """

    def __init__(self, n_users: int, n_items: int, dim: int, *, seed: int | None = 0) -> None:
        super().__init__()
        self.n_users = _check_positive_int(n_users, "n_users")
        self.n_items = _check_positive_int(n_items, "n_items")
        self.dim = _check_positive_int(dim, "dim")
        self.user_embedding = nn.Embedding(self.n_users, self.dim)
        self.item_embedding = nn.Embedding(self.n_items, self.dim)
        self.predict = nn.Linear(self.dim, 1)
        init_weights(self, seed)

    def config(self) -> dict[str, object]:
        """Constructor arguments that rebuild this architecture (without the weights)."""
        return {"n_users": self.n_users, "n_items": self.n_items, "dim": self.dim}

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        _check_pairs(users, items)
        x = self.user_embedding(users) * self.item_embedding(items)
        return self.predict(x).squeeze(-1)


def _tower(in_features: int, layers: tuple[int, ...]) -> nn.Sequential:
    """``Linear, ReLU, Linear, ReLU, ...`` with the given hidden widths."""
    modules: list[nn.Module] = []
    for width in layers:
        modules += [nn.Linear(in_features, width), nn.ReLU()]
        in_features = width
    return nn.Sequential(*modules)


class MLP(nn.Module):
    """Multi-layer perceptron on ``[p_u, q_i]``: ``logit = predict(tower([p_u, q_i]))``.

    The tower is ``Linear(2·dim, layers[0]), ReLU, ..., Linear(layers[-2], layers[-1]), ReLU``
    and ``predict`` is ``Linear(layers[-1], 1)``.

    Parameters
    ----------
    n_users, n_items : number of users and items.
    dim : embedding dimension of each table (the tower's input is ``2 * dim``).
    layers : widths of the hidden layers, e.g. ``(64, 32, 16)``.
    seed : seed of the initialisation.

    Examples
    --------
    >>> m = MLP(5, 7, dim=4, layers=(6, 3))
    >>> m(torch.tensor([1, 2]), torch.tensor([3, 4])).shape
    torch.Size([2])
    >>> count_parameters(m) == (5 + 7) * 4 + (8 * 6 + 6) + (6 * 3 + 3) + (3 + 1)
    True
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        dim: int,
        layers: Sequence[int] = (64, 32, 16),
        *,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        self.n_users = _check_positive_int(n_users, "n_users")
        self.n_items = _check_positive_int(n_items, "n_items")
        self.dim = _check_positive_int(dim, "dim")
        self.layers = _check_layers(layers)
        self.user_embedding = nn.Embedding(self.n_users, self.dim)
        self.item_embedding = nn.Embedding(self.n_items, self.dim)
        self.mlp = _tower(2 * self.dim, self.layers)
        self.predict = nn.Linear(self.layers[-1], 1)
        init_weights(self, seed)

    def config(self) -> dict[str, object]:
        """Constructor arguments that rebuild this architecture (without the weights)."""
        return {
            "n_users": self.n_users,
            "n_items": self.n_items,
            "dim": self.dim,
            "layers": self.layers,
        }

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        _check_pairs(users, items)
        x = torch.cat([self.user_embedding(users), self.item_embedding(items)], dim=-1)
        return self.predict(self.mlp(x)).squeeze(-1)


class NeuMF(nn.Module):
    """Neural matrix factorisation (He et al. 2017): a GMF and an MLP tower, fused.

    ``logit = predict([p_u^G ⊙ q_i^G, tower([p_u^M, q_i^M])])`` where the GMF tower
    (``gmf_user_embedding``, ``gmf_item_embedding``) and the MLP tower
    (``mlp_user_embedding``, ``mlp_item_embedding``, ``mlp``) have separate embeddings and
    ``predict`` is ``Linear(gmf_dim + layers[-1], 1)``: its first ``gmf_dim`` input columns
    read the GMF vector, the others the MLP tower's output.

    Parameters
    ----------
    n_users, n_items : number of users and items.
    gmf_dim : embedding dimension of the GMF tower.
    mlp_dim : embedding dimension of each table of the MLP tower.
    layers : hidden widths of the MLP tower.
    seed : seed of the initialisation.

    Examples
    --------
    >>> m = NeuMF(5, 7, gmf_dim=4, mlp_dim=2, layers=(6, 3))
    >>> m(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long)).shape
    torch.Size([2, 3])
    >>> count_parameters(m) == 12 * 4 + 12 * 2 + (4 * 6 + 6) + (6 * 3 + 3) + (4 + 3 + 1)
    True
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        gmf_dim: int = 32,
        mlp_dim: int = 32,
        layers: Sequence[int] = (64, 32, 16),
        *,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        self.n_users = _check_positive_int(n_users, "n_users")
        self.n_items = _check_positive_int(n_items, "n_items")
        self.gmf_dim = _check_positive_int(gmf_dim, "gmf_dim")
        self.mlp_dim = _check_positive_int(mlp_dim, "mlp_dim")
        self.layers = _check_layers(layers)
        self.gmf_user_embedding = nn.Embedding(self.n_users, self.gmf_dim)
        self.gmf_item_embedding = nn.Embedding(self.n_items, self.gmf_dim)
        self.mlp_user_embedding = nn.Embedding(self.n_users, self.mlp_dim)
        self.mlp_item_embedding = nn.Embedding(self.n_items, self.mlp_dim)
        self.mlp = _tower(2 * self.mlp_dim, self.layers)
        self.predict = nn.Linear(self.gmf_dim + self.layers[-1], 1)
        init_weights(self, seed)

    def config(self) -> dict[str, object]:
        """Constructor arguments that rebuild this architecture (without the weights)."""
        return {
            "n_users": self.n_users,
            "n_items": self.n_items,
            "gmf_dim": self.gmf_dim,
            "mlp_dim": self.mlp_dim,
            "layers": self.layers,
        }

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        _check_pairs(users, items)
        gmf = self.gmf_user_embedding(users) * self.gmf_item_embedding(items)
        x = torch.cat([self.mlp_user_embedding(users), self.mlp_item_embedding(items)], dim=-1)
        return self.predict(torch.cat([gmf, self.mlp(x)], dim=-1)).squeeze(-1)


# --------------------------------------------------------------------------- sizes


def named_effective_parameters(model: nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """``(name, tensor)`` for every parameter as the forward pass sees it.

    For a parameter pruned with ``torch.nn.utils.prune`` (stored as ``weight_orig`` plus the
    buffer ``weight_mask``) this yields ``("...weight", weight_orig * weight_mask)``; other
    parameters are yielded unchanged.

    Examples
    --------
    >>> import torch.nn.utils.prune as prune
    >>> lin = prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=1)
    >>> [name for name, _ in named_effective_parameters(lin)]
    ['bias', 'weight']
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for prefix, module in model.named_modules():
        dot = f"{prefix}." if prefix else ""
        buffers = dict(module.named_buffers(recurse=False))
        for name, param in module.named_parameters(recurse=False):
            base = name.removesuffix("_orig")
            if name.endswith("_orig") and f"{base}_mask" in buffers:
                yield dot + base, getattr(module, base)
            else:
                yield dot + name, param


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters (pruned ones included: pruning keeps the shapes).

    Examples
    --------
    >>> count_parameters(nn.Linear(3, 2))
    8
    """
    return sum(t.numel() for _, t in named_effective_parameters(model))


def count_nonzero(model: nn.Module) -> int:
    """Number of non-zero scalars in the effective parameters (masks applied).

    Examples
    --------
    >>> import torch.nn.utils.prune as prune
    >>> lin = nn.Linear(3, 2)              # 6 weights (non-zero) and 2 biases (0 at init)
    >>> _ = prune.l1_unstructured(lin, "weight", amount=4)
    >>> count_nonzero(lin) == 2 + int((lin.bias != 0).sum())
    True
    """
    return sum(int(torch.count_nonzero(t)) for _, t in named_effective_parameters(model))


def state_dict_bytes(model: nn.Module) -> int:
    """Bytes that ``torch.save(model.state_dict(), f)`` writes: the honest size on disk.

    A pruned model that is not yet permanent stores ``weight_orig`` *and* ``weight_mask``, so
    it is larger than the dense one; after ``prune.remove`` it is exactly as large — zeros
    cost as much as any float in a dense tensor.

    Examples
    --------
    >>> state_dict_bytes(nn.Linear(1000, 10)) > 4 * 10_010
    True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


# --------------------------------------------------------------------------- device


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """The device to compute on: CUDA if present, else Apple MPS, else the CPU.

    Parameters
    ----------
    prefer : ``None`` for the automatic choice, or a device (``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ``"mps"``, a ``torch.device``) that must exist on this machine.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> pick_device("cpu")
    device(type='cpu')
    >>> pick_device().type in {"cuda", "mps", "cpu"}
    True
    """
    if prefer is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(prefer, str | torch.device):
        raise TypeError(
            f"prefer must be a str, a torch.device or None, got {type(prefer).__name__}"
        )
    try:
        device = torch.device(prefer)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(
            f"prefer={prefer!r} is not a device name (try 'cpu', 'cuda', 'cuda:0' or 'mps')"
        ) from exc
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"prefer={prefer!r}: CUDA is not available on this machine")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ValueError(f"prefer={prefer!r}: this machine has {count} CUDA device(s)")
        return device
    if device.type == "mps":
        if not _mps_available():
            raise ValueError(f"prefer={prefer!r}: Apple MPS is not available on this machine")
        return device
    backend = getattr(torch, device.type, None)
    if backend is not None and getattr(backend, "is_available", lambda: False)():
        return device
    raise ValueError(f"prefer={prefer!r}: device type {device.type!r} is not available here")
