"""Tests for prunerec.training on small synthetic data (fast, CPU)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
from torch import nn

from prunerec import data, training
from prunerec.models import GMF, MF, NeuMF
from prunerec.training import History, evaluate, score_all_items, set_seed, train

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def split() -> data.LeaveOneOut:
    inter = data.synthetic_interactions(n_users=60, n_items=150, per_user=(8, 20), seed=0)
    return data.leave_one_out(inter, n_negatives=99, seed=0)


class Oracle(nn.Module):
    """Scores ``sign`` for each user's held-out item and 0 for every other item."""

    def __init__(self, held: np.ndarray, sign: float = 1.0) -> None:
        super().__init__()
        self.n_items = 150
        self.register_buffer("held", torch.as_tensor(held))
        self.dummy = nn.Parameter(torch.zeros(()))
        self.sign = sign

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.sign * (items == self.held[users]).float() + 0 * self.dummy


# --------------------------------------------------------------------------- seeding


def test_set_seed_seeds_python_numpy_and_torch() -> None:
    set_seed(5)
    first = (random.random(), np.random.rand(), torch.rand(1).item())  # noqa: NPY002
    set_seed(5)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first  # noqa: NPY002
    with pytest.raises(ValueError, match="seed"):
        set_seed(-1)
    with pytest.raises(TypeError, match="seed"):
        set_seed(1.0)


# --------------------------------------------------------------------------- evaluate


def test_evaluate_known_answers(split: data.LeaveOneOut) -> None:
    # a model that knows the held-out item ranks it first: HR = NDCG = 1
    assert evaluate(Oracle(split.test_items), split, "test") == {"hr": 1.0, "ndcg": 1.0}
    assert evaluate(Oracle(split.val_items), split, "val") == {"hr": 1.0, "ndcg": 1.0}
    # ... but knowing the *validation* item says nothing about the test item
    assert evaluate(Oracle(split.val_items), split, "test")["hr"] == 0.0
    # ranking it last, or tying it with everything (ties are pessimistic): HR = 0
    assert evaluate(Oracle(split.test_items, sign=-1.0), split)["hr"] == 0.0
    assert evaluate(Oracle(split.test_items, sign=0.0), split)["hr"] == 0.0


def test_evaluate_runs_in_eval_mode_and_restores_the_mode(split: data.LeaveOneOut) -> None:
    seen = []

    class Spy(Oracle):
        def forward(self, users, items):
            seen.append((self.training, torch.is_grad_enabled()))
            return super().forward(users, items)

    model = Spy(split.test_items)
    model.train()
    evaluate(model, split, batch_size=25)  # 60 users: 3 batches
    assert seen == [(False, False)] * 3
    assert model.training


def test_evaluate_rejects_bad_arguments(split: data.LeaveOneOut) -> None:
    model = GMF(split.n_users, split.n_items, 4)
    with pytest.raises(ValueError, match="which"):
        evaluate(model, split, which="train")
    with pytest.raises(ValueError, match="k must be"):
        evaluate(model, split, k=0)
    with pytest.raises(TypeError, match="split"):
        evaluate(model, {"n_users": 3})
    with pytest.raises(TypeError, match="model"):
        evaluate("model", split)


# --------------------------------------------------------------------------- score_all_items


def test_score_all_items_matches_pairwise_scores() -> None:
    model = NeuMF(7, 11, gmf_dim=4, mlp_dim=4, layers=(8, 4))
    users = np.array([6, 0, 3])
    scores = score_all_items(model, users, batch_size=2)
    assert scores.shape == (3, 11)
    for row, u in enumerate(users):
        expected = model(torch.full((11,), int(u)), torch.arange(11))
        torch.testing.assert_close(scores[row], expected.detach())
    torch.testing.assert_close(score_all_items(model, torch.tensor([6, 0, 3])), scores)


def test_score_all_items_rejects_bad_users() -> None:
    model = MF(4, 6, dim=2)
    with pytest.raises(ValueError, match="users must lie"):
        score_all_items(model, [0, 4])
    with pytest.raises(TypeError, match="users must hold ints"):
        score_all_items(model, [0.5])
    with pytest.raises(ValueError, match="1-D"):
        score_all_items(model, [[0, 1]])


# --------------------------------------------------------------------------- train


def test_train_learns_and_records_history(split: data.LeaveOneOut) -> None:
    model = NeuMF(split.n_users, split.n_items, gmf_dim=8, mlp_dim=8, layers=(16, 8))
    before = evaluate(model, split, "val")
    history = train(model, split, epochs=6, batch_size=256, lr=1e-2, device="cpu", progress=False)
    assert isinstance(history, History)
    assert history.epochs == 6
    assert len(history.val_hr) == len(history.val_ndcg) == len(history.train_seconds) == 6
    n_pairs = split.train_items.size * 5
    assert history.steps == 6 * math.ceil(n_pairs / 256)
    assert history.loss[-1] < history.loss[0] < math.log(2) * 1.01
    assert history.best_val_hr == max(history.val_hr)
    assert history.best_val_hr > before["hr"] + 0.2
    assert not history.stopped_early and not history.restored_best
    assert "HR@10" in str(history)


def test_train_is_reproducible(split: data.LeaveOneOut) -> None:
    runs = []
    for _ in range(2):
        model = GMF(split.n_users, split.n_items, 8, seed=3)
        h = train(model, split, epochs=2, batch_size=512, seed=4, device="cpu", progress=False)
        runs.append((h.loss, h.val_hr, model.item_embedding.weight.detach().clone()))
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
    assert torch.equal(runs[0][2], runs[1][2])


def test_callback_sees_every_step_with_1_based_epochs(split: data.LeaveOneOut) -> None:
    calls = []
    model = MF(split.n_users, split.n_items, 4)
    h = train(
        model,
        split,
        epochs=2,
        batch_size=1000,
        device="cpu",
        progress=False,
        callback=lambda m, epoch, step: calls.append((m is model, epoch, step)),
    )
    per_epoch = math.ceil(split.train_items.size * 5 / 1000)
    expected = [(True, 1 + (s - 1) // per_epoch, s) for s in range(1, 2 * per_epoch + 1)]
    assert calls == expected
    assert h.steps == 2 * per_epoch


def test_early_stopping_restores_the_best_weights(split, monkeypatch) -> None:
    scripted = iter([0.5, 0.6, 0.4, 0.6, 0.9])  # best at epoch 2, no better at 3 and 4
    snapshots = []

    def fake_evaluate(model, split, which, k):
        assert which == "val"
        snapshots.append({n: t.detach().clone() for n, t in model.state_dict().items()})
        return {"hr": next(scripted), "ndcg": 0.1}

    monkeypatch.setattr(training, "evaluate", fake_evaluate)
    model = GMF(split.n_users, split.n_items, 4)
    h = train(model, split, epochs=5, patience=2, device="cpu", progress=False, lr=1e-2)
    assert h.epochs == 4 and h.stopped_early and h.restored_best
    assert h.best_epoch == 2 and h.best_val_hr == 0.6
    assert not torch.equal(
        snapshots[1]["item_embedding.weight"], snapshots[3]["item_embedding.weight"]
    )
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, snapshots[1][name]), name


def test_eval_every_leaves_nan_for_skipped_epochs(split: data.LeaveOneOut) -> None:
    model = MF(split.n_users, split.n_items, 4)
    h = train(model, split, epochs=3, eval_every=2, batch_size=2048, device="cpu", progress=False)
    assert math.isnan(h.val_hr[0]) and not math.isnan(h.val_hr[1]) and not math.isnan(h.val_hr[2])


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"epochs": 0}, ValueError, "epochs"),
        ({"epochs": 1.5}, TypeError, "epochs"),
        ({"epochs": 1, "lr": 0.0}, ValueError, "lr"),
        ({"epochs": 1, "lr": float("nan")}, ValueError, "lr"),
        ({"epochs": 1, "batch_size": 0}, ValueError, "batch_size"),
        ({"epochs": 1, "weight_decay": -1e-4}, ValueError, "weight_decay"),
        ({"epochs": 1, "n_negatives": 0}, ValueError, "n_negatives"),
        ({"epochs": 1, "patience": 0}, ValueError, "patience"),
        ({"epochs": 1, "callback": 3}, TypeError, "callback"),
        ({"epochs": 1, "patience": 2, "callback": print}, ValueError, "patience and callback"),
        ({"epochs": 1, "device": "tpu9"}, ValueError, "prefer"),
    ],
)
def test_train_rejects_bad_arguments(split, kwargs, error, name) -> None:
    with pytest.raises(error, match=name):
        train(GMF(split.n_users, split.n_items, 4), split, progress=False, **kwargs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_train_and_evaluate_on_cuda(split: data.LeaveOneOut) -> None:
    model = NeuMF(split.n_users, split.n_items, 8, 8, (16, 8))
    h = train(model, split, epochs=2, device="cuda", progress=False)
    assert next(model.parameters()).device.type == "cuda"
    assert h.epochs == 2
    result = evaluate(model, split)
    assert 0.0 <= result["hr"] <= 1.0
    assert score_all_items(model, [0, 1]).device.type == "cuda"
