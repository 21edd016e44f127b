"""prunerec.serving: copies, bytes, the CSR model, the latency helpers, the plots."""

import io

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.utils.prune as prune
from torch import nn

from prunerec import serving as S
from prunerec import storage
from prunerec.models import GMF, MF, MLP, NeuMF
from prunerec.torch_prune import sparsity
from prunerec.training import score_all_items

matplotlib.use("Agg")


def _model(seed=0):
    return NeuMF(20, 30, gmf_dim=8, mlp_dim=8, layers=(16, 8), seed=seed).eval()


def _pairs():
    users = torch.arange(20)[:, None].expand(-1, 30)
    return users, torch.arange(30).expand_as(users)


# --------------------------------------------------------------------------- copies


def test_dense_copy_bakes_masks_and_leaves_the_original():
    m = S.pruned_copy(_model(), 0.7)
    assert hasattr(m.mlp[0], "weight_mask")
    d = S.dense_copy(m)
    assert not any(name.endswith("_mask") for name, _ in d.named_buffers())
    assert hasattr(m.mlp[0], "weight_mask")  # original untouched
    u, i = _pairs()
    with torch.no_grad():
        assert torch.equal(d(u, i), m(u, i))
    assert sparsity(d, which=("embeddings", "mlp")).overall.sparsity == pytest.approx(0.7, abs=1e-3)


def test_pruned_copy_hits_the_exact_count_and_zero_has_masks_of_ones():
    m = _model()
    n = (20 + 30) * (8 + 8) + 16 * 16 + 8 * 16  # embeddings + mlp.0 + mlp.2 (not predict)
    r = sparsity(S.pruned_copy(m, 0.9), which=("embeddings", "mlp")).overall
    assert r.size == n and r.zeros == round(0.9 * n)
    unpruned = S.pruned_copy(m, 0.0)  # masks of ones, as torch.nn.utils.prune leaves them
    assert all(bool(b.all()) for n, b in unpruned.named_buffers() if n.endswith("_mask"))
    assert sum(n.endswith("_mask") for n, _ in unpruned.named_buffers()) == 6


# --------------------------------------------------------------------------- bytes


def test_model_bytes_is_the_formula_plus_headers():
    m = S.pruned_copy(_model(), 0.8)
    arrays = S.effective_arrays(m)
    assert all(a.ndim == 2 and a.dtype == np.float32 for a in arrays.values())
    for fmt in storage.FORMATS:
        measured, predicted = S.model_bytes(m, fmt), S.predicted_model_bytes(m, fmt)
        n_arrays = len(arrays) * {"dense": 1, "csr": 4, "bitmask": 3}[fmt]
        assert 0 < measured - predicted < 400 * n_arrays, fmt


def test_predicted_model_bytes_by_hand():
    w = np.zeros((10, 8), dtype=np.float32)
    w[3, :5] = 1.0
    b = np.ones((1, 10), dtype=np.float32)
    # csr: w -> 5 values*(4+1) + 11 uint8 pointers; b -> 10*(4+1) + 2 uint8 pointers
    assert S.predicted_model_bytes({"w": w, "b": b}, "csr") == 25 + 11 + 50 + 2
    assert S.predicted_model_bytes({"w": w, "b": b}, "bitmask") == (10 + 20) + (2 + 40)


def test_bytes_sweep_tells_the_torch_prune_story():
    big = NeuMF(200, 300, gmf_dim=16, mlp_dim=16, layers=(32, 16))  # headers are small here
    rows = S.bytes_sweep(big, [0.0, 0.5, 0.9])
    dense0 = rows[0]["torch_save"]["dense (made permanent)"]
    for r in rows:
        ts = r["torch_save"]
        assert ts["dense (made permanent)"] == dense0  # zeros cost as much as any float
        assert 1.8 < ts["masked (torch.nn.utils.prune)"] / dense0 < 2.1  # orig + mask
    # torch's CSR (int64 indices) is larger than dense at 50%, smaller at 90% only
    assert rows[1]["torch_save"]["torch.sparse CSR"] > dense0
    assert rows[2]["measured"]["bitmask"] < rows[2]["measured"]["dense"] / 3
    assert rows[2]["nnz"] < rows[1]["nnz"] < rows[0]["nnz"]


def test_best_format():
    assert S.best_format({"dense": 3, "csr": 2, "bitmask": 1}) == "bitmask"
    assert S.best_format({"dense": 1, "csr": 1}) == "dense"
    with pytest.raises(ValueError, match="empty"):
        S.best_format({})


# --------------------------------------------------------------------------- CSR model


@pytest.mark.parametrize("embeddings", [False, True])
def test_csr_model_scores_like_the_pruned_model(embeddings):
    m = S.pruned_copy(_model(), 0.8)
    c = S.to_csr_model(m, embeddings=embeddings)
    assert isinstance(c.mlp, S.CsrTower)
    assert isinstance(c.gmf_item_embedding, S.CsrEmbedding) == embeddings
    u, i = _pairs()
    with torch.no_grad():
        torch.testing.assert_close(c(u, i), m(u, i), atol=1e-5, rtol=1e-5)
    buf = io.BytesIO()
    torch.save(c.state_dict(), buf)  # a CSR model is a checkpoint too
    assert buf.tell() > 0


@pytest.mark.parametrize("cls", [MF, GMF, MLP])
def test_csr_model_on_the_other_models(cls):
    kwargs = {"layers": (8, 4)} if cls is MLP else {}
    m = S.pruned_copy(cls(6, 9, 4, seed=1, **kwargs).eval(), 0.5)
    c = S.to_csr_model(m, embeddings=True)
    u, i = torch.tensor([0, 5, 5]), torch.tensor([8, 0, 3])
    with torch.no_grad():
        torch.testing.assert_close(c(u, i), m(u, i), atol=1e-6, rtol=1e-5)


def test_csr_tower_relu_placement_and_rejects():
    seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))  # no final ReLU
    x = torch.randn(5, 4)
    with torch.no_grad():
        torch.testing.assert_close(S.CsrTower.from_sequential(seq)(x), seq(x))
    with pytest.raises(TypeError, match="only Linear and ReLU"):
        S.CsrTower.from_sequential(nn.Sequential(nn.Linear(4, 3), nn.Tanh()))


def test_csr_embedding_rows_zero_rows_and_repeats():
    emb = nn.Embedding(6, 4)
    with torch.no_grad():
        emb.weight[2] = 0  # a fully pruned row
        emb.weight[0, ::2] = 0
    idx = torch.tensor([[2, 0, 2], [5, 5, 1]])
    assert torch.equal(S.CsrEmbedding.from_embedding(emb)(idx), emb(idx))
    with pytest.raises(TypeError, match="nn.Embedding"):
        S.CsrEmbedding.from_embedding(nn.Linear(2, 2))


def test_csr_linear_matches_and_counts_memory():
    lin = nn.Linear(6, 5)
    prune.l1_unstructured(lin, "weight", amount=20)
    c = S.CsrLinear.from_linear(lin)
    x = torch.randn(2, 3, 6)
    with torch.no_grad():
        torch.testing.assert_close(c(x), lin(x))
    # 10 non-zeros: 10*4 values + 10*8 int64 columns + 6*8 int64 row pointers + 5*4 bias
    assert S.csr_memory_bytes(c) == 40 + 80 + 48 + 20


# --------------------------------------------------------------------------- latency


def test_score_all_call_is_the_serving_workload():
    m = _model()
    out = S.score_all_call(m, n_users=3, first_user=2)()
    torch.testing.assert_close(out, score_all_items(m, [2, 3, 4]))
    with pytest.raises(ValueError, match="do not exist"):
        S.score_all_call(m, n_users=5, first_user=18)
    # works on a model without parameters (everything CSR buffers)
    assert S.score_all_call(S.to_csr_model(m, embeddings=True))().shape == (1, 30)


def test_compare_latency_pools_interleaved_rounds_and_sees_work():
    import time

    order = []
    calls = {"a": lambda: order.append("a"), "b": lambda: (order.append("b"), time.sleep(0.002))}
    r = S.compare_latency(calls, rounds=3, repeats=6, warmup=0, threads=None)
    assert r["a"].n == r["b"].n == 18
    assert r["b"].p50_ms >= 2.0 > r["a"].p50_ms
    assert order[:12] == ["a"] * 6 + ["b"] * 6 and order[12] == "a"  # interleaved
    with pytest.raises(ValueError, match="empty"):
        S.compare_latency({})


def test_crossover_sparsity_cases_and_validation():
    s = [0.5, 0.7, 0.8, 0.9]
    assert S.crossover_sparsity(s, [1] * 4, [2, 1.1, 0.9, 0.5]) == 0.8
    assert S.crossover_sparsity(s, [1] * 4, [0.5, 1.1, 0.9, 0.5]) == 0.8  # early dip ignored
    assert S.crossover_sparsity(s, [1] * 4, [0.5] * 4) == 0.5
    assert S.crossover_sparsity(s, [1] * 4, [0.5, 0.5, 0.5, 1.0]) is None
    with pytest.raises(ValueError, match="one value per sparsity"):
        S.crossover_sparsity(s, [1, 1], [1, 1])
    with pytest.raises(ValueError, match="increasing"):
        S.crossover_sparsity([0.9, 0.5], [1, 1], [1, 1])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        S.crossover_sparsity([0.5, 1.0], [1, 1], [1, 1])


def test_layer_and_model_sweeps_run_and_agree_in_shape():
    layer = S.csr_layer_sweep(16, 8, 50, [0.0, 0.9], rounds=1, repeats=6, threads=1)
    model = S.csr_model_sweep(_model(), [0.0, 0.9], rounds=1, repeats=6, threads=1)
    for rows in (layer, model):
        assert [r["sparsity"] for r in rows] == [0.0, 0.9]
        assert all(r["speedup"] > 0 and len(r["load_average"]) == 3 for r in rows)


def test_forward_breakdown_and_shares():
    b = S.forward_breakdown(_model(), n_users=2, rounds=1, repeats=6, threads=1)
    assert list(b) == [*S.STAGES, "whole forward", "one pair"]
    shares = S.breakdown_shares(b)
    assert sum(shares.values()) == pytest.approx(1.0) or sum(shares.values()) > 1.0
    assert all(v >= 0 for v in shares.values())
    with pytest.raises(TypeError, match="dense NeuMF"):
        S.forward_breakdown(S.to_csr_model(_model(), embeddings=True))


def test_machine_info_and_stats_dict():
    info = S.machine_info()
    assert info["cpu_count"] >= 1 and len(info["load_average"]) == 3
    d = S.stats_dict(S.compare_latency({"a": lambda: None}, rounds=1, repeats=6)["a"])
    assert d["n"] == 6 and d["p50_ms"] <= d["p95_ms"]


# --------------------------------------------------------------------------- 2:4


def test_semi_structured_support_explains_itself():
    reason = S.semi_structured_support()
    if not torch.cuda.is_available():
        assert "no CUDA GPU" in reason
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            S.semi_structured_sweep()


@pytest.mark.skipif(
    not torch.cuda.is_available() or torch.cuda.get_device_capability() < (8, 0),
    reason="needs an Ampere-or-newer GPU",
)
def test_semi_structured_sweep_on_gpu():
    rows = S.semi_structured_sweep(((64, 64), (16, 32)), n_rows=1024, rounds=1, repeats=6)
    assert [r["shape"] for r in rows] == [(64, 64), (16, 32)]
    for r in rows:
        assert "error" in r or (r["speedup"] > 0 and r["max_abs_diff"] < 0.1)


# --------------------------------------------------------------------------- plots


def test_plots_draw():
    import matplotlib.pyplot as plt

    m = _model()
    fig, axes = plt.subplots(1, 4)
    S.plot_bytes(axes[0], S.bytes_sweep(m, [0.0, 0.9]))
    table = S.compare_latency({"dense": S.score_all_call(m)}, rounds=1, repeats=6)
    S.plot_latency(axes[1], table)
    S.plot_speedup(axes[2], {"layer": S.csr_layer_sweep(8, 4, 10, [0.0, 0.5], rounds=1, repeats=6)})
    S.plot_breakdown(axes[3], {"1 user": S.forward_breakdown(m, rounds=1, repeats=6)})
    assert all(ax.has_data() for ax in axes)
    plt.close(fig)


def test_contenders_score_alike_and_shrunk_is_smaller():
    from prunerec.models import count_parameters

    m = _model()
    c = S.contenders(m, sparsity=0.8)
    u, i = _pairs()
    with torch.no_grad():
        ref = c["masked (torch prune)"](u, i)
        for name in ("dense, permanent", "CSR tower", "CSR everything"):
            torch.testing.assert_close(c[name](u, i), ref, atol=1e-5, rtol=1e-5)
    shrunk = c["shrunk (dims, width / 2)"]
    assert (shrunk.gmf_dim, shrunk.mlp_dim, shrunk.layers) == (4, 4, (8, 4))
    assert count_parameters(shrunk) < count_parameters(m) / 1.9
    assert c["dense"] is m
