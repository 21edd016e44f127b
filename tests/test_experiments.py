"""Tests for prunerec.experiments on small synthetic data (fast, CPU)."""

from __future__ import annotations

import json
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from prunerec import data, metrics, training, widgets  # noqa: E402
from prunerec import experiments as ex  # noqa: E402
from prunerec import torch_prune as tp  # noqa: E402
from prunerec.models import NeuMF, count_parameters, state_dict_bytes  # noqa: E402

torch.set_num_threads(1)

SMALL = ex.Recipe(
    gmf_dim=4,
    mlp_dim=4,
    layers=(8, 4),
    epochs=2,
    patience=2,
    batch_size=256,
    finetune_epochs=1,
    finetune_patience=1,
    gradual_epochs=1,
    scratch_epochs=1,
    scratch_patience=1,
)


@pytest.fixture(scope="module")
def split() -> data.LeaveOneOut:
    inter = data.synthetic_interactions(n_users=40, n_items=60, per_user=(6, 15), seed=0)
    return data.leave_one_out(inter, n_negatives=19, seed=0)


@pytest.fixture(scope="module")
def dense(split) -> NeuMF:
    model, _ = ex.train_dense(split, SMALL, seed=0, device="cpu", progress=False)
    return model


def state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------- recipe


def test_recipe_validates_and_round_trips() -> None:
    r = ex.Recipe()
    assert r.with_(finetune_epochs=3).finetune_epochs == 3 and r.finetune_epochs == 8
    assert json.loads(json.dumps(r.to_dict()))["layers"] == [64, 32, 16]
    assert ex.Recipe(layers=[8, 4]).layers == (8, 4)
    with pytest.raises(ValueError, match="finetune_epochs"):
        ex.Recipe(finetune_epochs=0)
    with pytest.raises(TypeError, match="gmf_dim"):
        ex.Recipe(gmf_dim=2.5)
    with pytest.raises(ValueError, match="lr"):
        ex.Recipe(lr=0.0)
    with pytest.raises(ValueError, match="layers is empty"):
        ex.Recipe(layers=())


# --------------------------------------------------------------------------- sparsity


def test_prunable_size_and_structured_sparsity_by_hand() -> None:
    dense = NeuMF(3, 5, gmf_dim=4, mlp_dim=4, layers=(8, 4))
    # embeddings 2 towers x 8 rows x 4 dims, mlp.0 8 x 8, mlp.2 4 x 8
    assert ex.prunable_size(dense) == 64 + 64 + 32
    small = tp.shrink_structured(dense, dim_amount=0.5, mlp_amount=0.5)
    # 2 x 8 x 2 = 32, mlp.0 4 x 4 = 16, mlp.2 2 x 4 = 8
    assert ex.prunable_size(small) == 56
    assert ex.sparsity_vs(small, dense) == pytest.approx(1 - 56 / 160)
    assert ex.sparsity_vs(dense, dense) == 0.0


def test_structured_amounts_keep_one_neuron_and_one_dimension() -> None:
    m = NeuMF(3, 5, gmf_dim=32, mlp_dim=16, layers=(64, 32, 8))
    assert ex.structured_amounts(m, 0.5) == {"dim_amount": 0.5, "mlp_amount": 0.5}
    capped = ex.structured_amounts(m, 0.99)
    assert capped == {"dim_amount": 1 - 1 / 16, "mlp_amount": 1 - 1 / 8}
    small = tp.shrink_structured(m, **capped)  # would raise if a layer lost every neuron
    assert small.layers[-1] == 1 and min(small.gmf_dim, small.mlp_dim) >= 1
    with pytest.raises(ValueError, match="target"):
        ex.structured_amounts(m, 1.0)
    with pytest.raises(TypeError, match="NeuMF"):
        ex.structured_amounts(nn.Linear(2, 2), 0.5)


# --------------------------------------------------------------------------- pruning copies


@pytest.mark.parametrize("method", ["magnitude", "random", "structured"])
@pytest.mark.parametrize("target", [0.5, 0.9])
def test_prune_copy_leaves_the_dense_model_alone(dense, method, target) -> None:
    before = state(dense)
    pruned = ex.prune_copy(dense, method, target, seed=3)
    assert pruned is not dense
    after = state(dense)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    s = ex.sparsity_vs(pruned, dense)
    if method == "structured":
        # whole dimensions and neurons, capped at one per tower and layer: near the target
        assert target - 0.2 < s <= target + 0.05
        assert count_parameters(pruned) < count_parameters(dense)
    else:
        assert s == round(target * ex.prunable_size(dense)) / ex.prunable_size(dense)
        assert count_parameters(pruned) == count_parameters(dense)


def test_prune_copy_methods_differ_and_reject_bad_input(dense) -> None:
    mag = ex.prune_copy(dense, "magnitude", 0.5)
    rnd = ex.prune_copy(dense, "random", 0.5, seed=0)
    zero = [m.weight_mask == 0 for m, _ in tp.prunable_parameters(mag, ex.PRUNABLE)]
    zero_r = [m.weight_mask == 0 for m, _ in tp.prunable_parameters(rnd, ex.PRUNABLE)]
    assert any(not torch.equal(a, b) for a, b in zip(zero, zero_r, strict=True))
    # magnitude: every pruned |w| <= every kept |w|
    w = torch.cat([m.weight_orig.detach().abs().flatten() for m, _ in tp.prunable_parameters(mag)])
    z = torch.cat([m.weight_mask.flatten() for m, _ in tp.prunable_parameters(mag)]) == 0
    assert w[z].max() <= w[~z].min()
    assert ex.sparsity_vs(ex.prune_copy(dense, "dense", 0.0), dense) == 0.0
    with pytest.raises(ValueError, match="0% control"):
        ex.prune_copy(dense, "dense", 0.5)
    with pytest.raises(ValueError, match="method"):
        ex.prune_copy(dense, "gradual", 0.5)
    with pytest.raises(ValueError, match="already carries pruning masks"):
        ex.prune_copy(mag, "magnitude", 0.5)
    with pytest.raises(ValueError, match="target"):
        ex.prune_copy(dense, "magnitude", 1.0)
    with pytest.raises(TypeError, match="NeuMF"):
        ex.prune_copy(nn.Linear(2, 2), "magnitude", 0.5)


def test_finetuning_keeps_pruned_weights_at_zero(dense, split) -> None:
    m = ex.prune_copy(dense, "magnitude", 0.8)
    zeros = ex.prunable_size(m) - ex.prunable_nonzero(m)
    ex.finetune(m, split, SMALL, device="cpu", progress=False)
    assert ex.prunable_size(m) - ex.prunable_nonzero(m) == zeros


def test_gradual_prune_reaches_the_target_on_the_cubic_schedule(dense, split) -> None:
    m, pruner = ex.gradual_prune(dense, split, 0.75, SMALL, device="cpu", progress=False)
    targets = [t for _, t, _ in pruner.history]
    assert targets == sorted(targets) and targets[-1] == 0.75
    n = ex.prunable_size(m)
    assert ex.prunable_size(m) - ex.prunable_nonzero(m) == round(0.75 * n)
    assert ex.sparsity_vs(dense, dense) == 0.0  # the original is untouched


def test_scratch_model_has_the_structured_shape_and_fresh_weights(dense, split) -> None:
    like = ex.prune_copy(dense, "structured", 0.5)
    m, h = ex.scratch_model(like, split, SMALL, seed=1, device="cpu", progress=False)
    assert m.config() == like.config() and h.epochs == 1
    assert not torch.equal(m.gmf_user_embedding.weight.cpu(), like.gmf_user_embedding.weight)


# --------------------------------------------------------------------------- rows


def test_run_point_rows_are_consistent(dense, split) -> None:
    for method in ex.METHODS:
        target = 0.0 if method == "dense" else 0.5
        row = ex.run_point(dense, split, method, target, SMALL, seed=0, device="cpu")
        assert row["method"] == method and row["target"] == target and row["seed"] == 0
        assert 0.0 <= row["hr"] <= 1.0 and 0.0 <= row["ndcg"] <= row["hr"]
        assert row["epochs"] >= 1
        no_before = method in ("dense", "scratch")
        assert (row["hr_before"] is None) == no_before
        if method in ("magnitude", "random", "gradual"):
            assert row["sparsity"] == pytest.approx(0.5, abs=1e-3)
            # permanent masks: a masked model takes the dense model's bytes
            assert row["bytes"] == pytest.approx(state_dict_bytes(dense), rel=0.01)
        if method in ("structured", "scratch"):
            assert row["bytes"] < state_dict_bytes(dense)
        json.dumps(row, allow_nan=False)  # JSON-ready
    with pytest.raises(ValueError, match="unknown"):
        ex.run_point(dense, split, "lottery", 0.5, SMALL)


def test_run_curve_order_and_control(dense, split) -> None:
    rows = ex.run_curve(
        dense, split, ["random", "structured"], [0.5, 0.75], SMALL, device="cpu", progress=False
    )
    assert [(r["method"], r["target"]) for r in rows] == [
        ("dense", 0.0),
        ("random", 0.5),
        ("random", 0.75),
        ("structured", 0.5),
        ("structured", 0.75),
    ]
    rows = ex.run_curve(
        dense, split, ["random"], [0.5], SMALL, device="cpu", progress=False, include_control=False
    )
    assert [r["method"] for r in rows] == ["random"]


def test_measure_matches_evaluate(dense, split) -> None:
    m = ex.prune_copy(dense, "random", 0.3, seed=0)
    expected = training.evaluate(m, split)
    row = ex.measure(m, split, dense)
    assert row["hr"] == expected["hr"] and row["ndcg"] == expected["ndcg"]
    assert not any(name.endswith("_mask") for name, _ in m.named_buffers())  # made permanent


# --------------------------------------------------------------------------- summaries


def test_summarise_means_and_sample_std_by_hand() -> None:
    rows = [
        {"method": "a", "target": 0.5, "hr": 0.2, "ndcg": 0.1, "hr_before": None},
        {"method": "a", "target": 0.5, "hr": 0.4, "ndcg": 0.3, "hr_before": 0.1},
        {"method": "a", "target": 0.5, "hr": 0.6, "ndcg": 0.2, "hr_before": 0.3},
        {"method": "b", "target": 0.5, "hr": 0.9, "ndcg": 0.5},
    ]
    a, b = ex.summarise(rows)
    assert (a["method"], a["n"], b["n"]) == ("a", 3, 1)
    assert a["hr_mean"] == pytest.approx(0.4) and a["hr_std"] == pytest.approx(0.2)
    assert a["hr_before_mean"] == pytest.approx(0.2)  # the None is skipped
    assert a["hr_before_std"] == pytest.approx(math.sqrt(0.02))
    assert b["hr_std"] == 0.0
    assert "± " not in ex.summary_table({"summary": [b]}).splitlines()[-1]
    assert "0.400 ± 0.200" in ex.summary_table({"summary": [a]})


def test_tradeoff_results_feed_the_explorer() -> None:
    rows = [
        {"method": "dense", "target": 0.0, "sparsity": 0.0, "hr": 0.7, "ndcg": 0.4, "bytes": 9},
        {"method": "magnitude", "target": 0.9, "sparsity": 0.9, "hr": 0.5, "ndcg": 0.3, "bytes": 9},
        {
            "method": "magnitude",
            "target": 0.5,
            "sparsity": 0.5,
            "hr": 0.6,
            "ndcg": 0.35,
            "bytes": 9,
        },
    ]
    curves = ex.tradeoff_results(ex.summarise(rows))
    assert list(curves) == ["magnitude"]
    assert [p["sparsity"] for p in curves["magnitude"]] == [0.0, 0.5, 0.9]
    assert widgets.tradeoff_point(curves, "magnitude", 0.8)["hr"] == 0.5
    assert widgets.tradeoff_point(curves, "magnitude", 0.1)["hr"] == 0.7


def test_plot_curves_draws_two_panels() -> None:
    rows = [
        {"method": "dense", "target": 0.0, "sparsity": 0.0, "hr": 0.7, "ndcg": 0.4},
        {"method": "random", "target": 0.5, "sparsity": 0.5, "hr": 0.5, "ndcg": 0.3},
    ]
    fig = ex.plot_curves(
        {"summary": ex.summarise(rows), "itempop": {"hr_mean": 0.4, "ndcg_mean": 0.2}}
    )
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "ItemPop",
        ex.STYLE["random"][1],
    ]


# --------------------------------------------------------------------------- tail items


class Oracle(nn.Module):
    """Scores each user's test item 1 and everything else 0."""

    def __init__(self, held: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("held", torch.as_tensor(held))
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, users, items):
        return (items == self.held[users]).float() + 0 * self.dummy


def test_popularity_groups_by_hand() -> None:
    # items 0..9 with 9..0 training interactions: item 0 is the most popular
    train_items = np.concatenate([np.full(9 - i, i) for i in range(10)])
    split = data.LeaveOneOut(
        train_users=np.zeros(train_items.size, dtype=np.int64),
        train_items=train_items.astype(np.int64),
        n_users=10,
        n_items=10,
        val_items=np.arange(10, dtype=np.int64),
        test_items=np.arange(10, dtype=np.int64),
        val_candidates=np.arange(10, dtype=np.int64)[:, None],
        test_candidates=np.arange(10, dtype=np.int64)[:, None],
    )
    group, names = ex.popularity_groups(split)
    assert names == ["tail", "middle", "head"]
    assert group.tolist() == [2, 2, 1, 1, 1, 0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="edges"):
        ex.popularity_groups(split, (0.8, 0.5))


def test_hr_by_popularity_with_an_oracle_and_against_evaluate(dense, split) -> None:
    rows = ex.hr_by_popularity(Oracle(split.test_items), split, k=1)
    assert [r["group"] for r in rows] == ["tail", "middle", "head", "all"]
    assert all(r["hr"] == 1.0 for r in rows if r["users"])
    assert sum(r["users"] for r in rows[:3]) == rows[3]["users"] == split.n_users
    overall = ex.hr_by_popularity(dense, split)[-1]
    expected = training.evaluate(dense, split)
    assert overall["hr"] == pytest.approx(expected["hr"])
    assert overall["ndcg"] == pytest.approx(expected["ndcg"])
    scores = ex.candidate_scores(dense, split)
    assert scores.shape == split.test_candidates.shape
    assert metrics.hit_rate_at_k(scores, 10) == pytest.approx(expected["hr"])


def test_shared_support_counts_common_nonzero_dimensions(split) -> None:
    m = NeuMF(split.n_users, split.n_items, gmf_dim=4, mlp_dim=2, layers=(4, 2))
    assert ex.shared_support(m, split) == {"shared": 4.0, "user": 4.0, "item": 4.0, "dim": 4.0}
    with torch.no_grad():
        m.gmf_user_embedding.weight[:, :2] = 0  # users keep dims 2, 3
        m.gmf_item_embedding.weight[:, 1:] = 0  # items keep dim 0
    s = ex.shared_support(m, split)
    assert (s["user"], s["item"], s["shared"]) == (2.0, 1.0, 0.0)
    small = tp.shrink_embedding_dim(NeuMF(split.n_users, split.n_items, 8, 8, (4, 2)), 0.5)
    assert ex.shared_support(small, split)["shared"] == 4.0
