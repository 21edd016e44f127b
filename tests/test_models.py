"""Tests for prunerec.models: shapes, hand-counted sizes, seeding, devices, bad input."""

from __future__ import annotations

import io

import pytest
import torch
import torch.nn.utils.prune as prune
from torch import nn

from prunerec.models import (
    GMF,
    MF,
    MLP,
    NeuMF,
    count_nonzero,
    count_parameters,
    init_weights,
    named_effective_parameters,
    pick_device,
    state_dict_bytes,
)

torch.set_num_threads(1)

N_USERS, N_ITEMS = 6, 9


def all_models() -> list[nn.Module]:
    return [
        MF(N_USERS, N_ITEMS, dim=4),
        GMF(N_USERS, N_ITEMS, dim=4),
        MLP(N_USERS, N_ITEMS, dim=3, layers=(8, 4)),
        NeuMF(N_USERS, N_ITEMS, gmf_dim=4, mlp_dim=3, layers=(8, 4)),
    ]


# --------------------------------------------------------------------------- forward


@pytest.mark.parametrize("model", all_models(), ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("shape", [(5,), (3, 7), (2, 3, 4)])
def test_forward_keeps_the_shape_of_the_inputs(model: nn.Module, shape: tuple[int, ...]) -> None:
    gen = torch.Generator().manual_seed(0)
    users = torch.randint(0, N_USERS, shape, generator=gen)
    items = torch.randint(0, N_ITEMS, shape, generator=gen)
    out = model(users, items)
    assert out.shape == shape
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("model", all_models(), ids=lambda m: type(m).__name__)
def test_a_candidate_block_scores_like_single_pairs(model: nn.Module) -> None:
    users = torch.tensor([[0, 0, 0], [5, 5, 5]])
    items = torch.tensor([[1, 2, 3], [8, 0, 4]])
    block = model(users, items)
    singles = torch.stack(
        [model(u, i) for u, i in zip(users.flatten(), items.flatten(), strict=True)]
    )
    torch.testing.assert_close(block.flatten(), singles)


def test_mf_is_a_dot_product_plus_biases() -> None:
    m = MF(2, 3, dim=2)
    with torch.no_grad():
        m.user_embedding.weight.copy_(torch.tensor([[1.0, 2.0], [0.0, -1.0]]))
        m.item_embedding.weight.copy_(torch.tensor([[3.0, 1.0], [1.0, 1.0], [2.0, 0.5]]))
        m.user_bias.copy_(torch.tensor([0.5, -0.5]))
        m.item_bias.copy_(torch.tensor([0.0, 1.0, 2.0]))
        m.bias.fill_(0.25)
    out = m(torch.tensor([0, 1]), torch.tensor([0, 2]))
    # user 0, item 0: 1*3 + 2*1 + 0.5 + 0 + 0.25; user 1, item 2: -0.5 - 0.5 + 2 + 0.25
    torch.testing.assert_close(out, torch.tensor([5.75, 1.25]))


def test_neumf_concatenates_gmf_first_then_mlp() -> None:
    m = NeuMF(2, 2, gmf_dim=2, mlp_dim=1, layers=(1,))
    with torch.no_grad():
        m.gmf_user_embedding.weight.copy_(torch.tensor([[1.0, 2.0], [0.0, 0.0]]))
        m.gmf_item_embedding.weight.copy_(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
        m.mlp_user_embedding.weight.fill_(1.0)
        m.mlp_item_embedding.weight.fill_(2.0)
        m.mlp[0].weight.copy_(torch.tensor([[1.0, 1.0]]))
        m.mlp[0].bias.fill_(-1.0)
        m.predict.weight.copy_(torch.tensor([[1.0, 10.0, 100.0]]))
        m.predict.bias.fill_(0.5)
    # gmf = [3, 8]; mlp = relu(1 + 2 - 1) = 2; logit = 3 + 80 + 200 + 0.5
    assert m(torch.tensor([0]), torch.tensor([0])).item() == pytest.approx(283.5)


def test_mismatched_users_and_items_are_rejected() -> None:
    with pytest.raises(ValueError, match="same shape"):
        GMF(3, 3, 2)(torch.tensor([0, 1]), torch.tensor([0]))
    with pytest.raises(TypeError, match="torch tensors"):
        GMF(3, 3, 2)([0], [0])


# --------------------------------------------------------------------------- sizes


def test_count_parameters_matches_hand_counts() -> None:
    # MF: tables (6 + 9) * 4 = 60, biases 6 + 9 + 1 = 16
    assert count_parameters(MF(6, 9, 4)) == 76
    # GMF: tables 60, predict 4 + 1
    assert count_parameters(GMF(6, 9, 4)) == 65
    # MLP: tables (6 + 9) * 3 = 45; 6->8: 48 + 8; 8->4: 32 + 4; predict 4 + 1
    assert count_parameters(MLP(6, 9, 3, layers=(8, 4))) == 142
    # NeuMF: GMF tables 60, MLP tables 45, 6->8: 56, 8->4: 36, predict (4 + 4) + 1
    assert count_parameters(NeuMF(6, 9, 4, 3, layers=(8, 4))) == 206


def test_count_nonzero_and_effective_parameters_see_masks() -> None:
    lin = nn.Linear(4, 3)  # 12 weights, 3 biases (zero after init_weights)
    init_weights(lin, seed=0)
    assert count_nonzero(lin) == 12
    prune.l1_unstructured(lin, "weight", amount=5)
    names = dict(named_effective_parameters(lin))
    assert set(names) == {"weight", "bias"}
    assert int((names["weight"] == 0).sum()) == 5
    assert count_parameters(lin) == 15
    assert count_nonzero(lin) == 7


def test_state_dict_bytes_is_the_length_of_torch_save() -> None:
    m = NeuMF(20, 30, 8, 8, (16, 8))
    buf = io.BytesIO()
    torch.save(m.state_dict(), buf)
    assert state_dict_bytes(m) == len(buf.getvalue())
    assert state_dict_bytes(m) >= 4 * count_parameters(m)  # fp32 payload, plus pickle overhead


# --------------------------------------------------------------------------- init


def test_initialisation_depends_on_the_seed_only() -> None:
    torch.manual_seed(1)
    a = NeuMF(5, 7, seed=1)
    torch.manual_seed(2)  # a different global state changes nothing
    b, c = NeuMF(5, 7, seed=1), NeuMF(5, 7, seed=2)
    for (name, pa), pb, pc in zip(
        a.state_dict().items(), b.state_dict().values(), c.state_dict().values(), strict=True
    ):
        assert torch.equal(pa, pb), name
        if "embedding" in name or name.endswith("weight"):
            assert not torch.equal(pa, pc), name


def test_initialisation_scales() -> None:
    m = NeuMF(500, 800, gmf_dim=16, mlp_dim=16, layers=(64, 32))
    std = m.gmf_item_embedding.weight.std().item()
    assert 0.009 < std < 0.011
    bound = (6 / (32 + 64)) ** 0.5  # Glorot for 32 -> 64 inputs/outputs of mlp.0
    assert m.mlp[0].weight.abs().max().item() <= bound
    assert m.mlp[0].weight.abs().max().item() > 0.9 * bound
    assert torch.count_nonzero(m.mlp[0].bias) == 0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("build", "error", "name"),
    [
        (lambda: MF(0, 5, 4), ValueError, "n_users"),
        (lambda: GMF(5, -1, 4), ValueError, "n_items"),
        (lambda: GMF(5, 5, 2.0), TypeError, "dim"),
        (lambda: MF(5, 5, True), TypeError, "dim"),
        (lambda: MLP(5, 5, 4, layers=()), ValueError, "layers"),
        (lambda: MLP(5, 5, 4, layers=(8, 0)), ValueError, r"layers\[1\]"),
        (lambda: MLP(5, 5, 4, layers=8), TypeError, "layers"),
        (lambda: NeuMF(5, 5, gmf_dim=0), ValueError, "gmf_dim"),
        (lambda: NeuMF(5, 5, mlp_dim="8"), TypeError, "mlp_dim"),
        (lambda: GMF(5, 5, 4, seed=1.5), TypeError, "seed"),
    ],
)
def test_bad_constructor_arguments_name_the_argument(build, error, name) -> None:
    with pytest.raises(error, match=name):
        build()


def test_size_helpers_reject_non_modules() -> None:
    for fn in (count_parameters, count_nonzero, state_dict_bytes):
        with pytest.raises(TypeError, match="model"):
            fn({"weight": torch.zeros(2)})


# --------------------------------------------------------------------------- device


def test_pick_device() -> None:
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert pick_device().type == "cuda"
    else:
        assert pick_device().type in {"mps", "cpu"}
    with pytest.raises(ValueError, match="prefer='gpu0'"):
        pick_device("gpu0")
    with pytest.raises(TypeError, match="prefer"):
        pick_device(0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_pick_device_refuses_missing_cuda() -> None:
    with pytest.raises(ValueError, match="CUDA is not available"):
        pick_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_models_run_on_cuda() -> None:
    with pytest.raises(ValueError, match="CUDA device"):
        pick_device(f"cuda:{torch.cuda.device_count()}")
    for model in all_models():
        cpu_out = model(torch.tensor([[0, 1]]), torch.tensor([[2, 3]]))
        model.to("cuda")
        out = model(torch.tensor([[0, 1]], device="cuda"), torch.tensor([[2, 3]], device="cuda"))
        assert out.device.type == "cuda"
        torch.testing.assert_close(out.cpu(), cpu_out, rtol=1e-4, atol=1e-5)
