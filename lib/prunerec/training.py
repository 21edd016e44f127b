"""Training and evaluating the torch recommenders on a leave-one-out split.

The recipe of He et al. (2017) for implicit feedback:

* every training positive ``(u, i)`` is joined by ``n_negatives`` items ``u`` never
  interacted with, drawn afresh each epoch (:func:`prunerec.data.sample_train_negatives`
  with seed ``seed + epoch``);
* the loss is binary cross-entropy on the logits, minimised with Adam on shuffled
  mini-batches;
* after each epoch the model ranks every user's validation candidates (the held-out item
  plus 99 sampled negatives) and HR@10 / NDCG@10 are recorded
  (:func:`prunerec.metrics.ranking_metrics`, ties counted pessimistically);
* with ``patience`` set, training stops after ``patience`` evaluations without a better
  validation HR@10 and the best weights are restored. The test candidates are only touched
  by :func:`evaluate` with ``which="test"``.

Counting: epochs are numbered from 1 and the global step ``t`` is the number of optimiser
steps done so far (1 after the first step), which is what a ``callback`` receives — so a
:class:`prunerec.torch_prune.GradualPruner` can be passed as the callback to prune *during*
training.

Everything runs on the model's device (CUDA, MPS or CPU): batches are moved there and only
scores are brought back with ``.cpu()``.
"""

from __future__ import annotations

import math
import numbers
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from prunerec import data, metrics
from prunerec.env import progress_disabled
from prunerec.models import pick_device

__all__ = [
    "set_seed",
    "History",
    "train",
    "evaluate",
    "candidate_scores",
    "score_all_items",
    "model_device",
]

Callback = Callable[[nn.Module, int, int], Any]

# --------------------------------------------------------------------------- validation


def _check_int(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_float(value: object, name: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(
            f"{name} must be finite and {'> 0' if positive else '>= 0'}, got {value!r}"
        )
    return v


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


_SPLIT_FIELDS = (
    "train_users",
    "train_items",
    "n_users",
    "n_items",
    "val_candidates",
    "test_candidates",
)


def _check_split(split: object) -> None:
    missing = [f for f in _SPLIT_FIELDS if not hasattr(split, f)]
    if missing:
        raise TypeError(
            f"split must be a prunerec.data.LeaveOneOut (missing {', '.join(missing)}), "
            f"got {type(split).__name__}"
        )


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's parameters.

    Examples
    --------
    >>> model_device(nn.Linear(2, 1))
    device(type='cpu')
    """
    _check_model(model)
    for p in model.parameters():
        return p.device
    raise ValueError("model has no parameters, so it has no device")


# --------------------------------------------------------------------------- seeding


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every GPU).

    Parameters
    ----------
    seed : a non-negative int.

    Examples
    --------
    >>> set_seed(3); a = torch.rand(2)
    >>> set_seed(3); torch.equal(a, torch.rand(2))
    True
    """
    seed = _check_int(seed, "seed", minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - learners' code may use np.random.*
    torch.manual_seed(seed)  # also seeds every CUDA device
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


# --------------------------------------------------------------------------- history


@dataclass
class History:
    """What :func:`train` measured, one entry per epoch (epoch ``e`` is at index ``e - 1``).

    ``val_hr`` / ``val_ndcg`` hold NaN for epochs without an evaluation (``eval_every > 1``).
    ``best_epoch`` is the (1-based) epoch with the best validation HR@k (ties: higher
    NDCG@k, then the earlier epoch); ``restored_best`` says whether its weights were put back.
    """

    k: int
    loss: list[float] = field(default_factory=list)
    val_hr: list[float] = field(default_factory=list)
    val_ndcg: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    eval_seconds: list[float] = field(default_factory=list)
    steps: int = 0
    best_epoch: int | None = None
    stopped_early: bool = False
    restored_best: bool = False

    @property
    def epochs(self) -> int:
        """Number of epochs trained."""
        return len(self.loss)

    @property
    def best_val_hr(self) -> float:
        """Validation HR@k of the best epoch (NaN if never evaluated)."""
        return math.nan if self.best_epoch is None else self.val_hr[self.best_epoch - 1]

    @property
    def best_val_ndcg(self) -> float:
        """Validation NDCG@k of the best epoch (NaN if never evaluated)."""
        return math.nan if self.best_epoch is None else self.val_ndcg[self.best_epoch - 1]

    def to_text(self, digits: int = 4) -> str:
        """A fixed-width table: epoch, loss, validation metrics, seconds; best epoch marked."""
        lines = [
            f"{'epoch':>5} {'loss':>8} {'HR@' + str(self.k):>8} {'NDCG@' + str(self.k):>8} "
            f"{'seconds':>8}"
        ]
        for e in range(1, self.epochs + 1):
            mark = " *" if e == self.best_epoch else ""
            lines.append(
                f"{e:>5} {self.loss[e - 1]:>8.{digits}f} {self.val_hr[e - 1]:>8.{digits}f} "
                f"{self.val_ndcg[e - 1]:>8.{digits}f} "
                f"{self.train_seconds[e - 1] + self.eval_seconds[e - 1]:>8.1f}{mark}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


# --------------------------------------------------------------------------- scoring


def candidate_scores(
    model: nn.Module, candidates: torch.Tensor, batch_size: int = 512
) -> torch.Tensor:
    """Scores (on the CPU) of row ``u`` of ``candidates`` for user ``u``, batched, no grad,
    in eval mode (the model's train/eval mode is restored afterwards).

    Parameters
    ----------
    model : a model scoring ``model(users, items)``.
    candidates : int64 tensor (n_users, n_candidates), e.g. ``LeaveOneOut.test_candidates``.
    batch_size : users per forward pass.

    Returns
    -------
    float32 tensor of shape ``candidates.shape``, on the CPU.
    """
    device = model_device(model)
    n_rows, n_cand = candidates.shape
    out = torch.empty((n_rows, n_cand), dtype=torch.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, n_rows, batch_size):
                items = candidates[start : start + batch_size].to(device)
                users = torch.arange(start, start + items.shape[0], device=device)
                users = users[:, None].expand_as(items)
                out[start : start + items.shape[0]] = model(users, items).float().cpu()
    finally:
        model.train(was_training)
    return out


def evaluate(
    model: nn.Module,
    split: data.LeaveOneOut,
    which: str = "test",
    k: int = 10,
    device: str | torch.device | None = None,
    batch_size: int = 512,
) -> dict[str, float]:
    """HR@k and NDCG@k of ``model`` on the split's test (or validation) candidates.

    Row ``u`` of ``split.test_candidates`` holds user ``u``'s held-out item (column 0) and
    its sampled negatives; the model scores each row and
    :func:`prunerec.metrics.ranking_metrics` ranks them (ties pessimistic). Runs in eval
    mode without gradients; the model's train/eval mode is restored afterwards.

    Parameters
    ----------
    model : a recommender ``model(users, items) -> logits``.
    split : a :class:`prunerec.data.LeaveOneOut`.
    which : ``"test"`` or ``"val"``.
    k : cut-off of the top-k list.
    device : ``None`` keeps the model where it is; otherwise the model is moved there.
    batch_size : users scored at once.

    Returns
    -------
    dict with ``"hr"`` and ``"ndcg"`` (floats in [0, 1]).

    Examples
    --------
    >>> from prunerec.models import GMF
    >>> split = data.leave_one_out(data.synthetic_interactions(30, 200, seed=0), seed=0)
    >>> r = evaluate(GMF(split.n_users, split.n_items, 8), split, "val")
    >>> sorted(r), 0.0 <= r["hr"] <= 1.0
    (['hr', 'ndcg'], True)
    """
    _check_model(model)
    _check_split(split)
    if which not in ("test", "val"):
        raise ValueError(f"which must be 'test' or 'val', got {which!r}")
    k = _check_int(k, "k")
    batch_size = _check_int(batch_size, "batch_size")
    if device is not None:
        model.to(pick_device(device))
    cand = split.test_candidates if which == "test" else split.val_candidates
    cand = torch.as_tensor(np.asarray(cand, dtype=np.int64))
    if cand.ndim != 2 or cand.shape[0] != split.n_users:
        raise ValueError(
            f"split.{which}_candidates must have shape (n_users={split.n_users}, n_candidates), "
            f"got {tuple(cand.shape)}"
        )
    scores = candidate_scores(model, cand, batch_size)
    result = metrics.ranking_metrics(scores.numpy(), k=k)
    return {name: float(value) for name, value in result.items()}


def score_all_items(
    model: nn.Module,
    users: Sequence[int] | np.ndarray | torch.Tensor,
    n_items: int | None = None,
    batch_size: int = 64,
) -> torch.Tensor:
    """Scores of every item for each user in ``users``: the serving workload.

    Parameters
    ----------
    model : a recommender ``model(users, items) -> logits``.
    users : 1-D int user ids.
    n_items : number of items; defaults to ``model.n_items``.
    batch_size : users scored at once (the work is ``batch_size * n_items`` pairs).

    Returns
    -------
    float tensor of shape ``(len(users), n_items)`` on the model's device (logits).

    Examples
    --------
    >>> from prunerec.models import MF
    >>> score_all_items(MF(4, 6, dim=3), [0, 3]).shape
    torch.Size([2, 6])
    """
    _check_model(model)
    if n_items is None:
        if not hasattr(model, "n_items"):
            raise ValueError("n_items is required: the model has no n_items attribute")
        n_items = model.n_items
    n_items = _check_int(n_items, "n_items")
    batch_size = _check_int(batch_size, "batch_size")
    device = model_device(model)
    if isinstance(users, torch.Tensor):
        u = users
    else:
        arr = np.asarray(users)
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"users must hold ints, got dtype {arr.dtype}")
        u = torch.from_numpy(arr.astype(np.int64))
    if u.dtype == torch.bool or u.dtype.is_floating_point or u.dtype.is_complex:
        raise TypeError(f"users must hold ints, got dtype {u.dtype}")
    if u.ndim != 1:
        raise ValueError(f"users must be 1-D, got shape {tuple(u.shape)}")
    n_users = getattr(model, "n_users", None)
    if u.numel() and (int(u.min()) < 0 or (n_users is not None and int(u.max()) >= n_users)):
        raise ValueError(
            f"users must lie in [0, n_users={n_users}), got {int(u.min())}..{int(u.max())}"
        )
    u = u.to(device=device, dtype=torch.long)
    items = torch.arange(n_items, device=device)
    out = torch.empty((u.numel(), n_items), device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, u.numel(), batch_size):
                block = u[start : start + batch_size]
                uu = block[:, None].expand(-1, n_items)
                out[start : start + block.numel()] = model(uu, items.expand_as(uu))
    finally:
        model.train(was_training)
    return out


# --------------------------------------------------------------------------- training


def train(
    model: nn.Module,
    split: data.LeaveOneOut,
    *,
    epochs: int,
    batch_size: int = 1024,
    lr: float = 1e-3,
    n_negatives: int = 4,
    weight_decay: float = 0.0,
    device: str | torch.device | None = None,
    seed: int = 0,
    patience: int | None = None,
    eval_every: int = 1,
    k: int = 10,
    progress: bool = True,
    callback: Callback | None = None,
) -> History:
    """Train ``model`` in place with BCE on positives and fresh negatives (He et al. 2017).

    Parameters
    ----------
    model : a recommender ``model(users, items) -> logits`` (pruned models too: the masks
        of ``torch.nn.utils.prune`` keep pruned weights at zero while fine-tuning).
    split : a :class:`prunerec.data.LeaveOneOut`.
    epochs : maximum number of epochs.
    batch_size : training pairs per optimiser step.
    lr, weight_decay : Adam's learning rate and L2 penalty.
    n_negatives : sampled negatives per positive, redrawn each epoch (seed ``seed + epoch``).
    device : where to train; ``None`` = :func:`prunerec.models.pick_device` (CUDA → MPS →
        CPU). The model is moved there and stays there.
    seed : seeds the negatives and the shuffling (the model's init has its own seed).
    patience : stop after this many evaluations without a better validation HR@k and
        restore the best weights; ``None`` trains all epochs and keeps the last weights.
        Cannot be combined with ``callback`` (restoring would undo the callback's pruning).
    eval_every : evaluate on the validation candidates every this many epochs (and after
        the last one).
    k : cut-off of HR@k / NDCG@k.
    progress : show a ``tqdm.auto`` progress bar over the optimiser steps.
    callback : ``callback(model, epoch, step)`` called after every optimiser step, with the
        1-based epoch and the global step count (e.g. a ``GradualPruner``).

    Returns
    -------
    :class:`History`.

    Examples
    --------
    >>> from prunerec.models import GMF
    >>> split = data.leave_one_out(data.synthetic_interactions(30, 200, seed=0), seed=0)
    >>> h = train(GMF(split.n_users, split.n_items, 8), split, epochs=2, device="cpu",
    ...           progress=False)
    >>> h.epochs, len(h.val_hr), h.best_epoch in (1, 2)
    (2, 2, True)
    """
    _check_model(model)
    _check_split(split)
    epochs = _check_int(epochs, "epochs")
    batch_size = _check_int(batch_size, "batch_size")
    lr = _check_float(lr, "lr", positive=True)
    weight_decay = _check_float(weight_decay, "weight_decay", positive=False)
    n_negatives = _check_int(n_negatives, "n_negatives")
    seed = _check_int(seed, "seed", minimum=0)
    eval_every = _check_int(eval_every, "eval_every")
    k = _check_int(k, "k")
    if patience is not None:
        patience = _check_int(patience, "patience")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    if patience is not None and callback is not None:
        raise ValueError(
            "patience and callback cannot be combined: restoring the best weights would undo "
            "what the callback (e.g. a pruner) did; use patience=None with a callback"
        )
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")

    device = pick_device(device)
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    shuffle = torch.Generator().manual_seed(seed)
    n_pairs = len(split.train_users) * (1 + n_negatives)
    n_batches = math.ceil(n_pairs / batch_size)
    history = History(k=k)
    best_key: tuple[float, float] | None = None
    best_state: dict[str, torch.Tensor] | None = None
    waited = 0
    step = 0

    bar = tqdm(
        total=epochs * n_batches, disable=progress_disabled(progress), desc="training", unit="step"
    )
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            model.train()
            users, items, labels = data.sample_train_negatives(
                split, n_negatives=n_negatives, seed=seed + epoch
            )
            users = torch.as_tensor(np.asarray(users, dtype=np.int64))
            items = torch.as_tensor(np.asarray(items, dtype=np.int64))
            labels = torch.as_tensor(np.asarray(labels, dtype=np.float32))
            order = torch.randperm(len(users), generator=shuffle)
            users, items, labels = (
                users[order].to(device),
                items[order].to(device),
                labels[order].to(device),
            )
            total, count = 0.0, 0
            for b in range(0, len(users), batch_size):
                logits = model(users[b : b + batch_size], items[b : b + batch_size])
                loss = F.binary_cross_entropy_with_logits(logits, labels[b : b + batch_size])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                step += 1
                if callback is not None:
                    callback(model, epoch, step)
                n = logits.shape[0]
                total += float(loss.detach()) * n
                count += n
                bar.update(1)
            history.loss.append(total / count)
            history.train_seconds.append(time.perf_counter() - start)
            history.steps = step

            start = time.perf_counter()
            hr = ndcg = math.nan
            if epoch % eval_every == 0 or epoch == epochs:
                val = evaluate(model, split, "val", k=k)
                hr, ndcg = val["hr"], val["ndcg"]
                if best_key is None or (hr, ndcg) > best_key:
                    best_key, history.best_epoch, waited = (hr, ndcg), epoch, 0
                    if patience is not None:
                        best_state = {n: t.detach().clone() for n, t in model.state_dict().items()}
                else:
                    waited += 1
            history.val_hr.append(hr)
            history.val_ndcg.append(ndcg)
            history.eval_seconds.append(time.perf_counter() - start)
            bar.set_postfix(epoch=epoch, loss=f"{history.loss[-1]:.4f}", val_hr=f"{hr:.4f}")
            if patience is not None and waited >= patience:
                history.stopped_early = epoch < epochs
                break
    finally:
        bar.close()

    if best_state is not None:
        model.load_state_dict(best_state)
        history.restored_best = True
    return history
