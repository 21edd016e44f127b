"""Tests for prunerec.torch_prune: exact sparsities, schedules, physical shrinking, rows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as prune
from torch import nn

from prunerec import data
from prunerec.models import (
    GMF,
    MF,
    MLP,
    NeuMF,
    count_nonzero,
    count_parameters,
    state_dict_bytes,
)
from prunerec.torch_prune import (
    GradualPruner,
    global_magnitude_prune,
    make_permanent,
    prunable_parameters,
    prune_embedding_rows,
    prune_to_sparsity,
    random_prune,
    shrink_embedding_dim,
    shrink_mlp,
    shrink_structured,
    sparsity,
    structured_mask_model,
)
from prunerec.training import train

torch.set_num_threads(1)

N_USERS, N_ITEMS = 30, 50


def neumf(seed: int = 0) -> NeuMF:
    return NeuMF(N_USERS, N_ITEMS, gmf_dim=8, mlp_dim=6, layers=(16, 8, 4), seed=seed)


def weights_of(model: nn.Module, which) -> list[torch.Tensor]:
    return [getattr(m, n).detach().clone() for m, n in prunable_parameters(model, which)]


def random_pairs(n: int = 200, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    users = torch.randint(0, N_USERS, (n // 10, 10), generator=gen)
    return users, torch.randint(0, N_ITEMS, (n // 10, 10), generator=gen)


# --------------------------------------------------------------------------- groups


def test_groups_select_the_right_modules() -> None:
    m = neumf()
    emb = prunable_parameters(m, "embeddings")
    assert [mod for mod, _ in emb] == [
        m.gmf_user_embedding,
        m.gmf_item_embedding,
        m.mlp_user_embedding,
        m.mlp_item_embedding,
    ]
    assert [mod for mod, _ in prunable_parameters(m, "mlp")] == [m.mlp[0], m.mlp[2], m.mlp[4]]
    assert prunable_parameters(m, ["predict"]) == [(m.predict, "weight")]
    assert {n for _, n in prunable_parameters(m, ("embeddings", "mlp", "predict"))} == {"weight"}
    with pytest.raises(ValueError, match="valid groups"):
        prunable_parameters(m, "biases")
    with pytest.raises(ValueError, match="no weights"):
        prunable_parameters(GMF(3, 3, 2), "mlp")
    with pytest.raises(ValueError, match="which"):
        prunable_parameters(m, ())


# --------------------------------------------------------------------------- unstructured


@pytest.mark.parametrize("amount", [0.0, 0.37, 0.9, 1.0, 123])
def test_global_magnitude_prune_hits_the_exact_sparsity_on_the_chosen_weights(amount) -> None:
    m = neumf()
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    chosen = weights_of(m, ("embeddings", "mlp"))
    n = sum(w.numel() for w in chosen)
    k = amount if isinstance(amount, int) else round(amount * n)

    global_magnitude_prune(m, amount, which=("embeddings", "mlp"))

    after = weights_of(m, ("embeddings", "mlp"))
    assert sum(int((w == 0).sum()) for w in after) == k
    assert sparsity(m, ("embeddings", "mlp")).overall.zeros == k
    # the k smallest magnitudes went, globally
    pruned = torch.cat([b[a == 0].abs() for a, b in zip(after, chosen, strict=True)])
    kept = torch.cat([b[a != 0].abs() for a, b in zip(after, chosen, strict=True)])
    if 0 < k < n:
        assert pruned.max() <= kept.min()
    # the predict layer and every bias are untouched
    assert torch.equal(m.predict.weight, before["predict.weight"])
    for name, value in before.items():
        if name.endswith("bias"):
            assert torch.equal(dict(m.named_parameters())[name], value)


def test_masks_compose_and_prune_to_sparsity_counts_correctly() -> None:
    m = neumf()
    n = sum(w.numel() for w in weights_of(m, ("embeddings", "mlp")))
    global_magnitude_prune(m, 0.5)
    global_magnitude_prune(m, 0.5)  # half of the remaining half
    assert sparsity(m, ("embeddings", "mlp")).overall.zeros == round(0.5 * n) + round(
        0.5 * (n - round(0.5 * n))
    )

    m = neumf()
    for target in (0.2, 0.5, 0.75, 0.75, 0.9, 0.6):
        prune_to_sparsity(m, target)
        expected = round(max(target, 0.9 if target == 0.6 else 0.0) * n)  # never un-prunes
        assert sparsity(m, ("embeddings", "mlp")).overall.zeros == expected


def test_random_prune_is_exact_seeded_and_leaves_the_global_rng_alone() -> None:
    n = sum(w.numel() for w in weights_of(neumf(), "mlp"))
    masks = []
    for seed in (1, 1, 2):
        m = neumf()
        torch.manual_seed(99)
        expected_next = torch.rand(2)
        torch.manual_seed(99)
        random_prune(m, 0.3, which="mlp", seed=seed)
        assert torch.equal(torch.rand(2), expected_next)
        assert sparsity(m, "mlp").overall.zeros == round(0.3 * n)
        masks.append(torch.cat([m.mlp[i].weight_mask.flatten() for i in (0, 2, 4)]))
    assert torch.equal(masks[0], masks[1]) and not torch.equal(masks[0], masks[2])


@pytest.mark.parametrize("fn", [global_magnitude_prune, lambda m, a: random_prune(m, a, seed=0)])
@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (1.5, ValueError),
        (-0.1, ValueError),
        (True, TypeError),
        (10**9, ValueError),
        ("0.5", TypeError),
    ],
)
def test_bad_amounts_are_rejected(fn, amount, error) -> None:
    with pytest.raises(error, match="amount"):
        fn(neumf(), amount)


def test_make_permanent_keeps_zeros_and_removes_the_reparametrisation() -> None:
    m = neumf()
    global_magnitude_prune(m, 0.6, which=("embeddings", "mlp", "predict"))
    prune.l1_unstructured(m.mlp[0], "bias", amount=3)
    users, items = random_pairs()
    scores = m(users, items)
    zeros = sparsity(m).overall.zeros
    make_permanent(m)
    keys = m.state_dict().keys()
    assert not [k for k in keys if k.endswith(("_orig", "_mask"))]
    assert all(not mod._forward_pre_hooks for mod in m.modules())
    assert not prune.is_pruned(m)
    assert sparsity(m).overall.zeros == zeros
    torch.testing.assert_close(m(users, items), scores)
    assert isinstance(m.mlp[0].weight, nn.Parameter)


def test_state_dict_bytes_grow_with_masks_and_come_back_after_make_permanent() -> None:
    m = neumf()
    dense = state_dict_bytes(m)
    which = ("embeddings", "mlp", "predict")
    n_weights = sum(w.numel() for w in weights_of(m, which))
    global_magnitude_prune(m, 0.9, which=which)
    masked = state_dict_bytes(m)
    # weight_orig keeps every value, and weight_mask adds 4 bytes (fp32) per weight
    assert masked >= dense + 4 * n_weights
    make_permanent(m)
    assert abs(state_dict_bytes(m) - dense) < 0.01 * dense  # zeros cost as much as any float
    assert count_nonzero(m) < 0.2 * count_parameters(m)


def test_sparsity_report_per_parameter() -> None:
    lin = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    nn.init.ones_(lin[0].weight)
    nn.init.zeros_(lin[0].bias)
    nn.init.ones_(lin[2].weight)
    nn.init.ones_(lin[2].bias)
    prune.custom_from_mask(lin[0], "weight", torch.tensor([[1.0, 0, 0, 0]] * 3))
    report = sparsity(lin)
    by_name = {s.name: (s.size, s.zeros) for s in report.per_array}
    assert by_name == {"0.bias": (3, 3), "0.weight": (12, 9), "2.weight": (3, 0), "2.bias": (1, 0)}
    assert (report.overall.size, report.overall.zeros) == (19, 12)
    assert "overall" in str(report)


# --------------------------------------------------------------------------- gradual


def cubic_by_hand(t: int, s_i: float, s_f: float, t0: int, end: int, dt: int) -> float:
    if t < t0:
        return s_i
    if t >= end:
        return s_f
    t_update = t0 + (t - t0) // dt * dt
    return s_f + (s_i - s_f) * (1 - (t_update - t0) / (end - t0)) ** 3


def test_gradual_pruner_follows_the_cubic_schedule_exactly() -> None:
    m = neumf()
    which = ("embeddings", "mlp")
    n = sum(w.numel() for w in weights_of(m, which))
    pruner = GradualPruner(
        m, 0.85, begin_step=4, end_step=24, frequency=5, which=which, initial_sparsity=0.1
    )
    for step in range(1, 31):
        pruner(m, 1, step)
        expected = cubic_by_hand(step, 0.1, 0.85, 4, 24, 5) if step >= 4 else 0.0
        assert sparsity(m, which).overall.zeros == round(expected * n), step
    assert [t for t, _, _ in pruner.history] == [4, 9, 14, 19, 24]
    for step, target, achieved in pruner.history:
        assert target == pytest.approx(cubic_by_hand(step, 0.1, 0.85, 4, 24, 5))
        assert achieved == round(target * n) / n
    assert pruner.history[-1][2] == round(0.85 * n) / n


def test_gradual_pruner_inside_train_reaches_the_final_sparsity() -> None:
    inter = data.synthetic_interactions(n_users=N_USERS, n_items=N_ITEMS, per_user=(5, 12), seed=1)
    split = data.leave_one_out(inter, n_negatives=20, seed=0)
    m = neumf()
    pruner = GradualPruner(m, 0.8, begin_step=2, end_step=12, frequency=2)
    h = train(m, split, epochs=3, batch_size=128, device="cpu", progress=False, callback=pruner)
    assert h.steps > 12
    assert sparsity(m, ("embeddings", "mlp")).overall.sparsity == pytest.approx(0.8, abs=1e-3)
    # the masks held while training went on after end_step
    assert pruner.history[-1][0] == 12
    with pytest.raises(ValueError, match="not the model"):
        pruner(neumf(), 1, 12)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"final_sparsity": 1.0}, ValueError, "final"),
        ({"final_sparsity": 0.5, "initial_sparsity": 0.6}, ValueError, "initial"),
        ({"frequency": 3}, ValueError, "frequency"),
        ({"frequency": 0}, ValueError, "frequency"),
        ({"begin_step": 20, "end_step": 10}, ValueError, "begin"),
        ({"which": "bogus"}, ValueError, "which"),
    ],
)
def test_gradual_pruner_rejects_bad_schedules(kwargs, error, name) -> None:
    args = {"final_sparsity": 0.5, "begin_step": 0, "end_step": 10, "frequency": 2} | kwargs
    with pytest.raises(error, match=name):
        GradualPruner(neumf(), **args)


# --------------------------------------------------------------------------- structured


CASES = [
    (lambda: MLP(N_USERS, N_ITEMS, 6, (16, 8, 4)), {"mlp_amount": 0.5}),
    (neumf, {"mlp_amount": 0.5}),
    (neumf, {"mlp_amount": 2}),
    (lambda: MF(N_USERS, N_ITEMS, 8), {"dim_amount": 0.5}),
    (lambda: GMF(N_USERS, N_ITEMS, 8), {"dim_amount": 0.25}),
    (lambda: MLP(N_USERS, N_ITEMS, 6, (16, 8, 4)), {"dim_amount": 0.5}),
    (neumf, {"dim_amount": 0.5}),
    (neumf, {"dim_amount": 0.5, "mlp_amount": 0.5}),
    (neumf, {"dim_amount": 0.3, "mlp_amount": 0.7, "norm": 1}),
]


def randomised(model: nn.Module) -> nn.Module:
    """Give every parameter (biases too) a non-trivial value, so no test passes by zeros."""
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    return model


@pytest.mark.parametrize(("build", "kwargs"), CASES)
def test_shrunk_model_scores_like_the_masked_model(build, kwargs) -> None:
    model = randomised(build())
    original = {n: t.clone() for n, t in model.state_dict().items()}
    small = shrink_structured(model, **kwargs)
    masked = structured_mask_model(model, **kwargs)
    users, items = random_pairs()
    torch.testing.assert_close(small(users, items), masked(users, items), rtol=1e-5, atol=1e-5)
    assert type(small) is type(model)
    # the parameters removed physically are exactly the entries masked out
    n_masked = sum(int((b == 0).sum()) for n, b in masked.named_buffers() if n.endswith("_mask"))
    assert n_masked > 0
    assert count_parameters(model) - count_parameters(small) == n_masked
    # the original is intact and the pruning changed the scores
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, original[name]), name
    assert not torch.allclose(model(users, items), small(users, items))


def test_shrunk_sizes_by_hand() -> None:
    small = shrink_structured(neumf(), mlp_amount=0.5, dim_amount=0.5)
    assert (small.gmf_dim, small.mlp_dim, small.layers) == (4, 3, (8, 4, 2))
    # tables (30 + 50) * (4 + 3) = 560; 6->8: 56; 8->4: 36; 4->2: 10; predict (4 + 2) + 1 = 7
    assert count_parameters(small) == 669
    assert shrink_mlp(neumf(), 0.5).layers == (8, 4, 2)
    assert shrink_embedding_dim(neumf(), 0.5).mlp_dim == 3


def test_shrink_mlp_removes_the_neurons_with_the_smallest_incoming_norm() -> None:
    m = MLP(3, 4, dim=1, layers=(4, 2))
    with torch.no_grad():
        # rows (incoming weights) of mlp.0 with L2 norms 5, 1, 13, 2 -> neurons 1 and 3 go
        m.mlp[0].weight.copy_(torch.tensor([[3.0, 4.0], [1.0, 0.0], [5.0, 12.0], [0.0, -2.0]]))
        m.mlp[0].bias.copy_(torch.tensor([0.1, 0.2, 0.3, 0.4]))
        m.mlp[2].weight.copy_(torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.5, 9.0, 0.0]]))
    small = shrink_mlp(m, 0.5)
    torch.testing.assert_close(small.mlp[0].weight, torch.tensor([[3.0, 4.0], [5.0, 12.0]]))
    torch.testing.assert_close(small.mlp[0].bias, torch.tensor([0.1, 0.3]))
    # mlp.2's rows have norms sqrt(30) and sqrt(81.25): the first one goes
    torch.testing.assert_close(small.mlp[2].weight, torch.tensor([[0.0, 9.0]]))
    assert small.predict.weight.shape == (1, 1)
    # L1 instead: rows of mlp.2 have norms 10 and 9.5, so the second one goes
    torch.testing.assert_close(shrink_mlp(m, 0.5, norm=1).mlp[2].weight, torch.tensor([[1.0, 3.0]]))


def test_shrink_embedding_dim_ranks_user_and_item_columns_together() -> None:
    m = GMF(2, 2, dim=3)
    with torch.no_grad():
        m.user_embedding.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
        m.item_embedding.weight.copy_(torch.tensor([[0.0, 0.0, 0.5], [0.0, 3.0, 0.5]]))
    # column norms over both tables: sqrt(2), 3, sqrt(0.5): dimension 2 goes
    small = shrink_embedding_dim(m, 1)
    torch.testing.assert_close(small.item_embedding.weight, torch.tensor([[0.0, 0.0], [0.0, 3.0]]))
    torch.testing.assert_close(small.predict.weight, m.predict.weight[:, :2])


def test_structured_pruning_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match="no MLP tower"):
        shrink_mlp(GMF(3, 3, 4), 0.5)
    with pytest.raises(ValueError, match="keep at least one"):
        shrink_mlp(neumf(), 1.0)
    with pytest.raises(ValueError, match="dim_amount"):
        shrink_embedding_dim(neumf(), 1.5)
    with pytest.raises(ValueError, match="norm"):
        shrink_mlp(neumf(), 0.5, norm=3)
    with pytest.raises(TypeError, match="model must be one of"):
        shrink_mlp(nn.Linear(2, 2), 0.5)


def test_shrinking_a_masked_model_uses_the_effective_weights() -> None:
    m = randomised(neumf())
    global_magnitude_prune(m, 0.5)
    users, items = random_pairs()
    small = shrink_structured(m, mlp_amount=0.25, dim_amount=0.25)
    masked = structured_mask_model(m, mlp_amount=0.25, dim_amount=0.25)
    torch.testing.assert_close(small(users, items), masked(users, items), rtol=1e-5, atol=1e-5)
    assert not prune.is_pruned(small)


# --------------------------------------------------------------------------- rows


def test_prune_embedding_rows_by_frequency_zeroes_exactly_those_rows() -> None:
    m = randomised(neumf())
    before = {n: t.clone() for n, t in m.state_dict().items()}
    counts = np.arange(N_ITEMS)[::-1].copy()  # item 49 is the rarest, then 48, ...
    counts[10] = 0  # tie with item 49: the lower index goes first
    pruned = prune_embedding_rows(m, 3, by="frequency", counts=counts)
    assert pruned.tolist() == [10, 48, 49]
    for table in (m.gmf_item_embedding, m.mlp_item_embedding):
        zero_rows = torch.nonzero(table.weight.abs().sum(1) == 0).squeeze(1).tolist()
        assert zero_rows == [10, 48, 49]
    keep = [i for i in range(N_ITEMS) if i not in (10, 48, 49)]
    torch.testing.assert_close(
        m.gmf_item_embedding.weight[keep], before["gmf_item_embedding.weight"][keep]
    )
    torch.testing.assert_close(m.gmf_user_embedding.weight, before["gmf_user_embedding.weight"])


def test_a_pruned_item_falls_back_to_biases() -> None:
    users = torch.arange(N_USERS)
    item = torch.full((N_USERS,), 7)
    gmf = randomised(GMF(N_USERS, N_ITEMS, 4))
    counts = np.ones(N_ITEMS)
    counts[7] = 0
    prune_embedding_rows(gmf, 1, by="frequency", counts=counts)
    # GMF: the product is 0, so every user gets predict.bias
    torch.testing.assert_close(gmf(users, item), gmf.predict.bias.expand(N_USERS))
    mf = randomised(MF(N_USERS, N_ITEMS, 4))
    prune_embedding_rows(mf, 1, by="frequency", counts=counts)
    torch.testing.assert_close(mf(users, item), mf.user_bias + mf.item_bias[7] + mf.bias)
    # NeuMF: the item-side signal is the same for every item whose rows were pruned
    nm = randomised(neumf())
    counts2 = np.ones(N_ITEMS)
    counts2[[7, 9]] = 0
    prune_embedding_rows(nm, 2, by="frequency", counts=counts2)
    torch.testing.assert_close(nm(users, item), nm(users, torch.full((N_USERS,), 9)))


def test_prune_embedding_rows_by_norm_and_for_users() -> None:
    m = MF(3, 4, dim=2)
    with torch.no_grad():
        m.item_embedding.weight.copy_(
            torch.tensor([[3.0, 4.0], [0.1, 0.0], [1.0, 1.0], [0.0, 0.5]])
        )
        m.user_embedding.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0], [2.0, 2.0]]))
    assert prune_embedding_rows(m, 0.5, by="norm").tolist() == [1, 3]
    assert prune_embedding_rows(m, 1, by="norm", side="user").tolist() == [1]
    assert torch.equal(m.user_embedding.weight[1], torch.zeros(2))
    assert torch.equal(m.item_embedding.weight[0], torch.tensor([3.0, 4.0]))


def test_prune_embedding_rows_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="counts is required"):
        prune_embedding_rows(neumf(), 0.1)
    with pytest.raises(ValueError, match="counts must have shape"):
        prune_embedding_rows(neumf(), 0.1, counts=np.ones(N_USERS))
    with pytest.raises(ValueError, match="counts must be finite"):
        prune_embedding_rows(neumf(), 0.1, counts=np.full(N_ITEMS, -1.0))
    with pytest.raises(ValueError, match="only used"):
        prune_embedding_rows(neumf(), 0.1, by="norm", counts=np.ones(N_ITEMS))
    with pytest.raises(ValueError, match="by must be"):
        prune_embedding_rows(neumf(), 0.1, by="popularity")
    with pytest.raises(ValueError, match="side must be"):
        prune_embedding_rows(neumf(), 0.1, by="norm", side="items")
    with pytest.raises(ValueError, match="amount"):
        prune_embedding_rows(neumf(), 1.2, by="norm")


# --------------------------------------------------------------------------- GPU


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_pruning_helpers_on_cuda() -> None:
    m = randomised(neumf()).to("cuda")
    users, items = (t.to("cuda") for t in random_pairs())
    small = shrink_structured(m, mlp_amount=0.5, dim_amount=0.5)
    masked = structured_mask_model(m, mlp_amount=0.5, dim_amount=0.5)
    assert next(small.parameters()).device.type == "cuda"
    torch.testing.assert_close(small(users, items), masked(users, items), rtol=1e-4, atol=1e-4)
    random_prune(m, 0.5, seed=0)
    prune_to_sparsity(m, 0.8)
    assert sparsity(m, ("embeddings", "mlp")).overall.sparsity == pytest.approx(0.8, abs=1e-3)
    prune_embedding_rows(m, 5, by="frequency", counts=np.arange(N_ITEMS))
    make_permanent(m)
    assert math.isfinite(float(m(users, items).sum()))
