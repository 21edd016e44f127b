"""prunerec.costs: hand-computed counts, agreement with the torch models, bad input."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prunerec import costs

# --------------------------------------------------------------------------- bytes


def test_embedding_bytes_by_hand():
    assert costs.embedding_bytes(2, 3, 4) == (2 + 3) * 4 * 4
    assert costs.embedding_bytes(2, 3, 4, "float16") == 40
    assert costs.embedding_bytes(2, 3, 4, "int8") == 20
    assert costs.embedding_bytes(2, 3, 4, "float64") == 160


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.00 KiB"), (10 * 2**20, "10.00 MiB"),
     (123 * 2**30, "123 GiB"), (2**50, "1.00 PiB")],
)  # fmt: skip
def test_format_bytes(n, text):
    assert costs.format_bytes(n) == text


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((0, 3, 4), ValueError, "n_users"),
        ((2, -1, 4), ValueError, "n_items"),
        ((2, 3, 2.5), TypeError, "dim"),
        ((2, 3, True), TypeError, "dim"),
        ((2, 3, 4, "float8"), ValueError, "dtype"),
        ((2, 3, 4, 4), TypeError, "dtype"),
    ],
)
def test_embedding_bytes_rejects_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        costs.embedding_bytes(*args)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "3", True])
def test_format_bytes_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="n must be"):
        costs.format_bytes(bad)


# --------------------------------------------------------------------------- dense layers


def test_mlp_counts_by_hand():
    # Linear(3, 5) + Linear(5, 2): 15 + 5 + 10 + 2 parameters, 2*(15 + 10) FLOPs
    assert costs.mlp_params((3, 5, 2)) == 32
    assert costs.mlp_flops((3, 5, 2)) == 50
    assert costs.linear_params(3, 5, bias=False) == 15


@given(st.lists(st.integers(1, 300), min_size=2, max_size=6))
def test_mlp_flops_are_twice_the_weights(widths):
    # every weight takes part in one multiply-add per input; biases add no FLOP of their own
    assert costs.mlp_flops(widths) == 2 * (costs.mlp_params(widths) - sum(widths[1:]))


@pytest.mark.parametrize("bad", [(4,), (4, 0), "4-2", (4, 2.0)])
def test_mlp_rejects_bad_widths(bad):
    with pytest.raises((ValueError, TypeError), match="widths"):
        costs.mlp_params(bad)


# --------------------------------------------------------------------------- models


def test_mf_by_hand():
    c = costs.mf_cost(10, 20, 8)
    assert c.embedding_params == 30 * 8 + 30
    assert c.dense_params == 1
    assert c.flops == 2 * 8 + 2  # dot product 2d - 1, then three additions
    assert c.gathered == 2 * 8 + 2
    assert c.bytes("float16") == 2 * c.params
    assert c.gathered_bytes() == 4 * c.gathered


def test_neumf_by_hand():
    c = costs.neumf_cost(10, 20, gmf_dim=4, mlp_dim=3, layers=(5, 2))
    embedding = 30 * 4 + 30 * 3
    dense = (6 * 5 + 5) + (5 * 2 + 2) + (4 + 2 + 1)
    assert (c.embedding_params, c.dense_params) == (embedding, dense)
    assert c.flops == 4 + 2 * (6 * 5 + 5 * 2) + 2 * (4 + 2)
    assert c.gathered == 2 * 4 + 2 * 3
    assert c.embedding_share == pytest.approx(embedding / (embedding + dense))


def test_dlrm_by_hand():
    # 3 tables of dim 2, 1 dense feature, bottom 1-4-2, F = 4 vectors -> 6 dot products,
    # top (2 + 6)-3-1
    c = costs.dlrm_cost((5, 6, 7), dim=2, n_dense=1, bottom=(4, 2), top=(3, 1))
    assert c.embedding_params == 18 * 2
    assert c.dense_params == (1 * 4 + 4) + (4 * 2 + 2) + (8 * 3 + 3) + (3 * 1 + 1)
    assert c.flops == 2 * (4 + 8) + 6 * (2 * 2 - 1) + 2 * (24 + 3)
    assert c.gathered == 3 * 2


def test_dlrm_criteo_kaggle_configuration():
    sizes = costs.CRITEO_KAGGLE_TABLE_SIZES
    assert len(sizes) == 26 and sum(sizes) == 33_762_577
    c = costs.dlrm_cost(sizes, 16, 13, (512, 256, 64, 16), (512, 256, 1))
    # top MLP input: 16 + 27 * 26 / 2 = 367, as the DLRM reference code computes it
    assert c.parts[-1].params == (367 * 512 + 512) + (512 * 256 + 256) + (256 + 1)
    assert c.embedding_params == 33_762_577 * 16


def test_dlrm_rejects_a_bottom_mlp_not_ending_with_dim():
    with pytest.raises(ValueError, match="bottom must end with dim=4"):
        costs.dlrm_cost((5,), dim=4, n_dense=2, bottom=(8, 3), top=(1,))


def test_part_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        costs.Part("x", "sparse", 1)


def test_to_text_has_one_line_per_part_and_a_total():
    c = costs.neumf_cost(943, 1682)
    lines = c.to_text().splitlines()
    assert len(lines) == len(c.parts) + 2
    assert lines[-1].split()[:2] == ["total", f"{c.params:,}"]


# --------------------------------------------------------------------------- torch agreement


@pytest.mark.parametrize(("n_users", "n_items"), [(943, 1682), (7, 3)])
def test_counts_agree_with_the_torch_models(n_users, n_items):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from prunerec import models

    mf = models.MF(n_users, n_items, dim=16)
    assert models.count_parameters(mf) == costs.mf_cost(n_users, n_items, 16).params
    net = models.NeuMF(n_users, n_items, gmf_dim=8, mlp_dim=16, layers=(32, 16, 8))
    c = costs.neumf_cost(n_users, n_items, gmf_dim=8, mlp_dim=16, layers=(32, 16, 8))
    assert models.count_parameters(net) == c.params
    users = torch.zeros(5, dtype=torch.long)
    with FlopCounterMode(display=False) as counter:
        net(users, users)
    # torch counts matrix products only: everything but the GMF element-wise product
    assert counter.get_total_flops() == 5 * (c.flops - 8)
