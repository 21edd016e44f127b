"""Tests for prunerec.numpy_prune: the mechanism, composition compared with
torch.nn.utils.prune, make-permanent, memory accounting, rewind and the sensitivity scan."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prunerec import numpy_nn as nn
from prunerec import numpy_prune as P

torch = pytest.importorskip("torch")
tprune = pytest.importorskip("torch.nn.utils.prune")


def small_neumf(seed=0):
    return nn.NumpyNeuMF(6, 8, gmf_dim=4, mlp_dims=(16, 8, 4), seed=seed)


def torch_linear(weight):
    """A float64 torch Linear holding a copy of ``weight`` (out, in)."""
    lin = torch.nn.Linear(weight.shape[1], weight.shape[0]).double()
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(weight.copy()))
    return lin


def torch_mask(lin):
    return lin.weight_mask.detach().numpy().astype(bool)


def zeros(model, name):
    return int((model.weights()[name] == 0).sum())


# --------------------------------------------------------------------------- mechanism


def test_prune_reparametrises_like_torch():
    m = small_neumf()
    w_before = m.parameters()["mlp.0.weight"]
    values = w_before.copy()
    P.magnitude_prune(m, "mlp.0.weight", 0.5)
    orig = m.pruning["mlp.0.weight_orig"]
    mask = m.pruning["mlp.0.weight_mask"]
    # the original array object is kept (an optimiser holding it keeps training it) ...
    assert orig is w_before and np.array_equal(orig, values)
    assert m.parameters()["mlp.0.weight"] is orig
    # ... and the forward reads a new array, orig * mask
    w = m.weights()["mlp.0.weight"]
    assert w is not orig and mask.dtype == bool
    assert np.array_equal(w, values * mask)
    assert P.is_pruned(m) and P.is_pruned(m, "mlp.0.weight") and not P.is_pruned(m, "mlp.2.weight")
    assert list(m.forward_pre_hooks) == [P.HOOK]


def test_effective_weight_is_recomputed_before_every_forward():
    m = small_neumf()
    P.magnitude_prune(m, "predict.weight", 0.5)
    keep = P.masks(m)["predict.weight"]
    m.pruning["predict.weight_orig"][:] = 3.0  # edit the original by hand
    u, i = np.array([0, 1]), np.array([2, 3])
    m.forward(u, i)
    assert np.array_equal(m.weights()["predict.weight"], np.where(keep, 3.0, 0.0))
    m.pruning["predict.weight_orig"][:] = -1.0
    m.score(u, i)  # score runs the hook too
    assert np.array_equal(m.weights()["predict.weight"], np.where(keep, -1.0, 0.0))
    assert not np.signbit(m.weights()["predict.weight"][~keep]).any()  # +0.0, not -0.0


def test_training_a_pruned_model_keeps_pruned_weights_at_zero():
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 6, 200), rng.integers(0, 8, 200)
    labels = (users % 2 == items % 2).astype(float)
    m = small_neumf()
    opt = nn.SGD(m.parameters(), lr=0.5)  # built BEFORE pruning, as usual
    P.magnitude_prune(m, "mlp.0.weight", 0.6)
    P.magnitude_prune(m, "gmf_item_embedding.weight", 0.5)
    keep = P.masks(m)
    orig_before = {n: m.pruning[n + "_orig"].copy() for n in keep}
    loss0 = nn.train_epoch(m, opt, users, items, labels, 32, rng=0)
    loss1 = nn.train_epoch(m, opt, users, items, labels, 32, rng=1)
    assert loss1 < loss0
    for name, k in keep.items():
        w, orig = m.weights()[name], m.pruning[name + "_orig"]
        assert (w[~k] == 0).all() and (w[k] != 0).all()
        # gradients reach orig through the mask: the pruned originals are untouched
        # (plain SGD), the surviving ones are trained
        assert np.array_equal(orig[~k], orig_before[name][~k])
        assert not np.array_equal(orig[k], orig_before[name][k])
        assert np.array_equal(w[k], orig[k])


def test_grads_are_masked_by_the_chain_rule():
    m = small_neumf()
    P.magnitude_prune(m, "mlp.2.weight", 0.5)
    u, i = np.arange(6), np.arange(6)
    m.backward(np.ones(6) + 0 * m.forward(u, i))
    keep = P.masks(m)["mlp.2.weight"]
    raw = m.layers["mlp.2"].grads["weight"]
    assert np.array_equal(m.grads()["mlp.2.weight"], raw * keep)
    assert (raw[~keep] != 0).any()  # the masking is not vacuous


def test_prune_custom_mask_composes_like_torch():
    m = small_neumf()
    w = m.weights()["mlp.2.weight"].copy()
    rng = np.random.default_rng(1)
    m1, m2 = rng.random(w.shape) < 0.7, rng.random(w.shape) < 0.7
    P.prune(m, "mlp.2.weight", m1)
    P.prune(m, "mlp.2.weight", m2.astype(int))  # 0/1 masks are accepted
    lin = torch_linear(w)
    tprune.custom_from_mask(lin, "weight", torch.from_numpy(m1.astype(float)))
    tprune.custom_from_mask(lin, "weight", torch.from_numpy(m2.astype(float)))
    assert np.array_equal(P.masks(m)["mlp.2.weight"], m1 & m2)
    assert np.array_equal(P.masks(m)["mlp.2.weight"], torch_mask(lin))


# --------------------------------------------------------------------------- composition vs torch


@pytest.mark.parametrize(
    "amounts, expected_zeros",
    [
        ((0.5, 0.5), 128 + 64),  # 256 weights: half, then half of the remaining 128
        ((0.3, 0.3), 77 + 54),  # round(76.8) = 77; round(0.3 * 179 = 53.7) = 54
        ((100, 50), 150),  # counts: 100, then 50 of the remaining 156
        ((0.5, 0.0, 1.0), 256),  # 1.0 of the survivors = everything
    ],
)
def test_magnitude_prune_twice_matches_torch_l1_unstructured(amounts, expected_zeros):
    m = nn.NumpyNeuMF(6, 16, gmf_dim=16, mlp_dims=(16, 8), seed=0)
    name = "gmf_item_embedding.weight"  # (16, 16): 256 weights, distinct magnitudes
    w = m.weights()[name].copy()
    assert np.unique(np.abs(w)).size == w.size
    lin = torch_linear(w)
    for a in amounts:
        P.magnitude_prune(m, name, a)
        tprune.l1_unstructured(lin, "weight", amount=a)
    assert zeros(m, name) == expected_zeros
    assert int((~torch_mask(lin)).sum()) == expected_zeros
    assert np.array_equal(P.masks(m)[name], torch_mask(lin))
    assert np.array_equal(m.weights()[name], lin.weight.detach().numpy())


@pytest.mark.parametrize("axis", [0, 1])
def test_structured_prune_twice_matches_torch_ln_structured(axis):
    m = small_neumf()
    name = "mlp.0.weight"  # (8, 16)
    w = m.weights()[name].copy()
    lin = torch_linear(w)
    n_slices = w.shape[axis]
    for a in (0.25, 0.5):  # 0.25 of n, then half of the rest
        P.structured_prune(m, name, a, axis=axis, norm="l2")
        tprune.ln_structured(lin, "weight", amount=a, n=2, dim=axis)
    keep = P.masks(m)[name]
    other = 1 - axis
    pruned_slices = int((~keep.any(axis=other)).sum())
    first = round(0.25 * n_slices)
    assert pruned_slices == first + round(0.5 * (n_slices - first))
    assert np.array_equal(keep, torch_mask(lin))


def test_unstructured_then_structured_matches_torch():
    m = small_neumf()
    name = "mlp.0.weight"
    w = m.weights()[name].copy()
    lin = torch_linear(w)
    P.magnitude_prune(m, name, 0.4)
    tprune.l1_unstructured(lin, "weight", amount=0.4)
    P.structured_prune(m, name, 3, axis=0, norm="l1")  # norms of the *effective* rows
    tprune.ln_structured(lin, "weight", amount=3, n=1, dim=0)
    assert np.array_equal(P.masks(m)[name], torch_mask(lin))


def test_global_magnitude_prune_twice_matches_torch():
    m = small_neumf()
    names = ["mlp.0.weight", "mlp.2.weight", "predict.weight"]
    lins = {n: torch_linear(m.weights()[n].copy()) for n in names}
    total = sum(m.weights()[n].size for n in names)  # 128 + 32 + 8 = 168
    for a in (0.5, 0.5):
        P.global_magnitude_prune(m, names, a)
        tprune.global_unstructured(
            [(lins[n], "weight") for n in names], tprune.L1Unstructured, amount=a
        )
    pruned = sum(zeros(m, n) for n in names)
    assert pruned == round(0.5 * total) + round(0.5 * (total - round(0.5 * total)))
    for n in names:
        assert np.array_equal(P.masks(m)[n], torch_mask(lins[n])), n


def test_random_prune_composes_on_survivors():
    m = small_neumf()
    name = "mlp.0.weight"  # 128 weights
    P.magnitude_prune(m, name, 0.5)
    first = P.masks(m)[name]
    P.random_prune(m, name, 0.5, rng=0)
    second = P.masks(m)[name]
    assert zeros(m, name) == 64 + 32
    assert not (second & ~first).any()  # nothing pruned comes back
    # reproducible with the same seed
    m2 = small_neumf()
    P.magnitude_prune(m2, name, 0.5)
    P.random_prune(m2, name, 0.5, rng=0)
    assert np.array_equal(P.masks(m2)[name], second)


def test_pruning_an_already_empty_parameter():
    m = small_neumf()
    P.magnitude_prune(m, "predict.weight", 1.0)
    P.magnitude_prune(m, "predict.weight", 0.5)  # nothing left: a no-op
    P.structured_prune(m, "predict.weight", 0.5, axis=1)
    assert zeros(m, "predict.weight") == m.weights()["predict.weight"].size
    with pytest.raises(ValueError, match="^amount"):
        P.magnitude_prune(m, "predict.weight", 3)  # a count of 3 out of 0 survivors


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.lists(st.floats(0, 1) | st.integers(0, 3), min_size=1, max_size=4),
    st.booleans(),
)
def test_repeated_pruning_counts_survivors(n_items, dim, amounts, use_random):
    m = nn.NumpyMF(2, n_items, dim=dim, seed=0)
    name = "item_embedding.weight"
    alive = n_items * dim
    previous = np.ones((n_items, dim), bool)
    for a in amounts:
        if isinstance(a, int) and a > alive:
            with pytest.raises(ValueError, match="^amount"):
                P.magnitude_prune(m, name, a)
            continue
        if use_random:
            P.random_prune(m, name, a, rng=1)
        else:
            P.magnitude_prune(m, name, a)
        alive -= a if isinstance(a, int) else round(a * alive)  # amount counts the survivors
        keep = P.masks(m)[name]
        assert int(keep.sum()) == alive
        assert not (keep & ~previous).any()  # a pruned weight never comes back
        orig = m.pruning[name + "_orig"]
        assert np.array_equal(m.weights()[name], np.where(keep, orig, 0.0))
        previous = keep


# --------------------------------------------------------------------------- permanent, memory


def test_remove_makes_pruning_permanent():
    m = small_neumf()
    orig = m.parameters()["mlp.0.weight"]
    P.magnitude_prune(m, "mlp.0.weight", 0.5)
    P.magnitude_prune(m, "predict.weight", 0.5)
    expected = m.weights()["mlp.0.weight"].copy()
    P.remove(m, "mlp.0.weight")
    w = m.weights()["mlp.0.weight"]
    assert w is orig and m.parameters()["mlp.0.weight"] is orig  # same array, now with zeros
    assert np.array_equal(w, expected) and zeros(m, "mlp.0.weight") == 64
    assert "mlp.0.weight_orig" not in m.pruning and "mlp.0.weight_mask" not in m.pruning
    assert P.is_pruned(m) and P.HOOK in m.forward_pre_hooks  # predict.weight still pruned
    P.remove(m, "predict.weight")
    assert not P.is_pruned(m) and m.forward_pre_hooks == {} and m.pruning == {}
    m.parameters()["mlp.0.weight"][:] = 1.0  # no hook overwrites it any more
    m.forward(np.array([0]), np.array([0]))
    assert (m.weights()["mlp.0.weight"] == 1.0).all()
    with pytest.raises(ValueError, match="^name='mlp.0.weight' is not pruned"):
        P.remove(m, "mlp.0.weight")


def test_state_bytes_doubles_then_comes_back():
    m = small_neumf()
    dense = state = P.state_bytes(m)
    n_params = sum(w.size for w in m.weights().values())
    assert dense == 8 * n_params  # float64
    n = m.weights()["gmf_item_embedding.weight"].size  # 8 * 4 = 32
    P.magnitude_prune(m, "gmf_item_embedding.weight", 0.9)
    state = P.state_bytes(m)
    assert state == dense + 8 * n + 1 * n  # orig (float64) + mask (bool)
    P.magnitude_prune(m, "gmf_item_embedding.weight", 0.5)  # a second prune adds nothing
    assert P.state_bytes(m) == state
    arrays = P.state_arrays(m)
    assert arrays["gmf_item_embedding.weight_mask"].nbytes == n
    P.remove(m, "gmf_item_embedding.weight")
    assert P.state_bytes(m) == dense  # permanent, but the zeros are still stored densely


def test_sparsity_table_and_masks():
    m = small_neumf()
    P.magnitude_prune(m, "mlp.0.weight", 0.25)
    P.structured_prune(m, "mlp.2.weight", 1, axis=0)  # one row of (4, 8)
    report = P.sparsity_table(m, ["mlp.0.weight", "mlp.2.weight"])
    assert [s.zeros for s in report.per_array] == [32, 8]
    assert report.overall.sparsity == pytest.approx(40 / (128 + 32))
    assert sorted(P.masks(m)) == ["mlp.0.weight", "mlp.2.weight"]
    k = P.masks(m)["mlp.0.weight"]
    k[:] = False  # a copy: the model is unaffected
    assert zeros(m, "mlp.0.weight") == 32
    assert len(P.sparsity_table(m).per_array) == len(m.weights())


# --------------------------------------------------------------------------- rewind, re-init


def test_rewind_and_reinitialize_keep_the_masks():
    m = small_neumf()
    early = P.snapshot(m)
    for p in m.parameters().values():
        p += 1.0  # stands for training
    P.global_magnitude_prune(m, ["mlp.0.weight", "gmf_user_embedding.weight"], 0.5)
    keep = P.masks(m)
    P.rewind(m, early)
    for name, w in m.weights().items():
        k = keep.get(name, np.ones(w.shape, bool))
        assert np.array_equal(w[k], early[name][k]), name
        assert (w[~k] == 0).all()
    P.reinitialize(m, seed=7, names=["mlp.0.weight"])
    fresh = nn.NumpyNeuMF(**m.config(), seed=7).weights()["mlp.0.weight"]
    k = keep["mlp.0.weight"]
    w = m.weights()["mlp.0.weight"]
    assert np.array_equal(w[k], fresh[k]) and (w[~k] == 0).all()
    assert np.array_equal(m.weights()["predict.weight"], early["predict.weight"])
    with pytest.raises(ValueError, match="^weights\\['mlp.0.weight'\\] has shape"):
        P.rewind(m, {"mlp.0.weight": np.zeros(3)})


# --------------------------------------------------------------------------- sensitivity scan


def full_state(model):
    return {k: v.copy() for k, v in P.state_arrays(model).items()}


def assert_same_state(model, before, ids_before):
    after = P.state_arrays(model)
    assert list(after) == list(before)
    for k in before:
        assert np.array_equal(after[k], before[k]) and after[k].dtype == before[k].dtype, k
    assert {k: id(v) for k, v in model.parameters().items()} == ids_before


@pytest.mark.parametrize("pre_pruned", [False, True])
def test_sensitivity_scan_restores_the_model(pre_pruned):
    m = small_neumf()
    if pre_pruned:
        P.magnitude_prune(m, "mlp.0.weight", 0.5)
    before, ids = full_state(m), {k: id(v) for k, v in m.parameters().items()}
    hooks = dict(m.forward_pre_hooks)
    u, i = np.arange(6), np.arange(6)
    base = m.score(u, i)
    names = ["mlp.0.weight", "gmf_user_embedding.weight"]
    table = P.sensitivity_scan(
        lambda model: (zeros(model, "mlp.0.weight"), float(np.abs(model.score(u, i) - base).max())),
        m,
        names,
        [0.0, 0.5, 1.0],
    )
    assert_same_state(m, before, ids)
    assert m.forward_pre_hooks == hooks
    assert list(table) == names and [a for a, _ in table["mlp.0.weight"]] == [0.0, 0.5, 1.0]
    # pruning mlp.0.weight by a of its survivors: 128 weights, or 64 survivors when pre-pruned
    start = 64 if pre_pruned else 0
    assert [z for _, (z, _) in table["mlp.0.weight"]] == [start, start + (128 - start) // 2, 128]
    assert table["mlp.0.weight"][0][1][1] == 0.0  # amount 0 changes nothing
    assert table["gmf_user_embedding.weight"][2][1][1] > 0  # pruning a whole table does
    assert np.array_equal(m.score(u, i), base)


def test_sensitivity_scan_restores_even_when_evaluate_fails():
    m = small_neumf()
    before, ids = full_state(m), {k: id(v) for k, v in m.parameters().items()}

    def boom(model):
        raise RuntimeError("evaluation failed")

    with pytest.raises(RuntimeError, match="evaluation failed"):
        P.sensitivity_scan(boom, m, ["mlp.0.weight"], [0.5])
    assert_same_state(m, before, ids)
    assert not P.is_pruned(m) and m.forward_pre_hooks == {}
    with pytest.raises(ValueError, match="^amount"):
        P.sensitivity_scan(lambda model: 0, m, ["mlp.0.weight"], [1.5])
    assert not P.is_pruned(m)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call, exc, start",
    [
        (lambda m: P.magnitude_prune(m, "mlp.9.weight", 0.5), ValueError, "name='mlp.9.weight'"),
        (lambda m: P.magnitude_prune(m, "nope", 0.5), ValueError, "name='nope'"),
        (lambda m: P.magnitude_prune(m, 3, 0.5), TypeError, "name"),
        (lambda m: P.magnitude_prune(m, "mlp.0.weight", 1.5), ValueError, "amount=1.5"),
        (lambda m: P.magnitude_prune(m, "mlp.0.weight", -0.1), ValueError, "amount=-0.1"),
        (lambda m: P.magnitude_prune(m, "mlp.0.weight", 500), ValueError, "amount=500"),
        (lambda m: P.random_prune(m, "mlp.0.weight", 2.0, rng=0), ValueError, "amount"),
        (lambda m: P.global_magnitude_prune(m, "mlp.0.weight", 0.5), TypeError, "names"),
        (lambda m: P.global_magnitude_prune(m, [], 0.5), ValueError, "names"),
        (lambda m: P.global_magnitude_prune(m, ["x.weight"], 0.5), ValueError, "name='x.weight'"),
        (lambda m: P.global_magnitude_prune(m, ["mlp.0.weight"] * 2, 0.5), ValueError, "names"),
        (lambda m: P.structured_prune(m, "mlp.0.bias", 1), ValueError, "name='mlp.0.bias'"),
        (lambda m: P.structured_prune(m, "mlp.0.weight", 1, axis=2), ValueError, "axis=2"),
        (lambda m: P.structured_prune(m, "mlp.0.weight", 1, norm="l3"), ValueError, "norm"),
        (lambda m: P.prune(m, "mlp.0.weight", np.ones(3, bool)), ValueError, "mask"),
        (lambda m: P.prune(m, "mlp.0.weight", np.full((8, 16), 2)), ValueError, "mask"),
        (lambda m: P.remove(m, "mlp.0.weight"), ValueError, "name='mlp.0.weight'"),
        (lambda m: P.is_pruned(m, "zzz"), ValueError, "name='zzz'"),
        (lambda m: P.sensitivity_scan(3, m, ["mlp.0.weight"], [0.5]), TypeError, "evaluate_fn"),
        (lambda m: P.sensitivity_scan(len, m, ["mlp.0.weight"], []), ValueError, "amounts"),
        (lambda m: P.masks("model"), TypeError, "model"),
    ],
)
def test_errors_name_the_argument(call, exc, start):
    m = small_neumf()
    before = full_state(m)
    with pytest.raises(exc) as info:
        call(m)
    assert str(info.value).startswith(start), str(info.value)
    assert not P.is_pruned(m) and list(P.state_arrays(m)) == list(before)
