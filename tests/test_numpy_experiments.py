"""Tests for prunerec.numpy_experiments: exact sparsities, schedules that reach their target,
reproducible data order, reconstruction, allocation from a sensitivity scan, gradient check.
Everything runs on small synthetic data (a few seconds in all)."""

import numpy as np
import pytest

from prunerec import numpy_experiments as X
from prunerec import numpy_prune as P
from prunerec.data import leave_one_out, synthetic_interactions
from prunerec.metrics import ranking_metrics
from prunerec.numpy_nn import Embedding, NumpyMF, NumpyNeuMF

CFG = X.TrainConfig(batch_size=64)


@pytest.fixture(scope="module")
def split():
    return leave_one_out(synthetic_interactions(n_users=40, n_items=30, seed=3), n_negatives=15)


@pytest.fixture(scope="module")
def trained(split):
    model = NumpyNeuMF(split.n_users, split.n_items, gmf_dim=4, mlp_dims=(8, 4), seed=0)
    _, early = X.fit(model, split, 2, CFG, snapshot_at=1)
    return model, early


def pruned_count(model, names):
    current = P.masks(model)
    return sum(int((~current[n]).sum()) for n in names if n in current)


# --------------------------------------------------------------------------- basics


def test_prunable_names_are_the_weight_matrices():
    m = NumpyNeuMF(5, 6, gmf_dim=2, mlp_dims=(4, 2))
    names = X.prunable_names(m)
    assert all(not n.endswith("bias") for n in names)
    assert set(m.weights()) - set(names) == {"mlp.0.bias", "predict.bias"}
    assert X.prunable_names(NumpyMF(3, 3, dim=2)) == [
        "user_embedding.weight",
        "item_embedding.weight",
    ]


def test_clone_is_independent_including_the_pruning_state():
    m = NumpyMF(4, 4, dim=3)
    P.magnitude_prune(m, "user_embedding.weight", 0.5)
    c = X.clone(m)
    c.pruning["user_embedding.weight_mask"][:] = False
    P.apply_masks(c)
    assert P.masks(m)["user_embedding.weight"].sum() == 6  # untouched
    assert (c.weights()["user_embedding.weight"] == 0).all()


def test_evaluate_ranks_the_candidates_of_each_user(split):
    m = NumpyMF(split.n_users, split.n_items, dim=3, seed=2)
    for which, cand in (("val", split.val_candidates), ("test", split.test_candidates)):
        users = np.repeat(np.arange(split.n_users), cand.shape[1])
        scores = m.score(users, cand.ravel()).reshape(cand.shape)
        assert X.evaluate(m, split, which, k=5) == ranking_metrics(scores, k=5)
    for p in m.parameters().values():
        p[:] = 0.0
    assert X.evaluate(m, split) == {"hr": 0.0, "ndcg": 0.0}  # ties count against the model


def test_evaluate_rejects_bad_arguments(split):
    m = NumpyMF(split.n_users, split.n_items, dim=2)
    with pytest.raises(ValueError, match="which"):
        X.evaluate(m, split, "train")
    with pytest.raises(TypeError, match="model"):
        X.evaluate("model", split)
    with pytest.raises(TypeError, match="split"):
        X.evaluate(m, "split")


def test_fit_is_reproducible_and_learns(split):
    histories, weights = [], []
    for _ in range(2):
        m = NumpyMF(split.n_users, split.n_items, dim=4, seed=1)
        history, _ = X.fit(m, split, 3, CFG)
        histories.append([h["loss"] for h in history])
        weights.append(m.weights()["item_embedding.weight"].copy())
    assert histories[0] == histories[1]
    np.testing.assert_array_equal(weights[0], weights[1])
    assert histories[0][-1] < histories[0][0]


def test_fit_first_epoch_picks_the_data(split):
    def losses(first):
        m = NumpyMF(split.n_users, split.n_items, dim=4, seed=1)
        return X.fit(m, split, 1, CFG, first_epoch=first)[0][0]

    assert losses(0)["loss"] != losses(5)["loss"]
    assert losses(5)["epoch"] == 6


def test_fit_snapshot(split):
    m = NumpyMF(split.n_users, split.n_items, dim=4, seed=1)
    init = P.snapshot(m)
    _, snap0 = X.fit(m, split, 1, CFG, snapshot_at=0)
    np.testing.assert_array_equal(snap0["user_embedding.weight"], init["user_embedding.weight"])
    with pytest.raises(ValueError, match="snapshot_at"):
        X.fit(m, split, 1, CFG, snapshot_at=2)
    with pytest.raises(ValueError, match="epochs"):
        X.fit(m, split, -1, CFG)
    with pytest.raises(TypeError, match="config"):
        X.fit(m, split, 1, config={"lr": 0.1})


def test_fit_keeps_pruned_weights_at_zero(split):
    m = NumpyMF(split.n_users, split.n_items, dim=4, seed=1)
    P.magnitude_prune(m, "item_embedding.weight", 0.6)
    keep = P.masks(m)["item_embedding.weight"]
    X.fit(m, split, 2, CFG)
    w = m.weights()["item_embedding.weight"]
    assert (w[~keep] == 0).all() and (w[keep] != 0).all()


# --------------------------------------------------------------------------- pruning up to a target


def test_global_prune_to_is_exact_cumulative_and_never_unprunes():
    m = NumpyNeuMF(20, 30, gmf_dim=4, mlp_dims=(8, 4), seed=0)
    names = X.prunable_names(m)
    n = sum(m.weights()[k].size for k in names)
    X.global_prune_to(m, names, 0.5)
    assert pruned_count(m, names) == round(0.5 * n)
    before = P.masks(m)
    X.global_prune_to(m, names, 0.8)
    assert pruned_count(m, names) == round(0.8 * n)
    after = P.masks(m)
    assert all((~before[k] <= ~after[k]).all() for k in names)  # pruned stays pruned
    X.global_prune_to(m, names, 0.3)  # below the current sparsity: nothing happens
    assert pruned_count(m, names) == round(0.8 * n)
    assert X.pruned_fraction(m, names) == round(0.8 * n) / n


def test_global_prune_to_ranks_all_layers_together():
    m = NumpyMF(10, 10, dim=4)
    m.parameters()["user_embedding.weight"][:] = 0.001 * (1 + np.arange(40).reshape(10, 4))
    m.parameters()["item_embedding.weight"][:] = 1.0 + np.arange(40).reshape(10, 4)
    X.global_prune_to(m, ["user_embedding.weight", "item_embedding.weight"], 0.5)
    assert X.layer_sparsities(m, ["user_embedding.weight", "item_embedding.weight"]) == {
        "user_embedding.weight": 1.0,
        "item_embedding.weight": 0.0,
    }


def test_layerwise_and_random_prune_to():
    m = NumpyNeuMF(20, 30, gmf_dim=4, mlp_dims=(8, 4), seed=0)
    target = {"gmf_user_embedding.weight": 0.25, "mlp.0.weight": 0.5}
    X.layerwise_prune_to(m, target)
    assert X.layer_sparsities(m, list(target)) == target
    # magnitude within the layer: every pruned |w| <= every kept |w|
    w, keep = m.pruning["mlp.0.weight_orig"], P.masks(m)["mlp.0.weight"]
    assert np.abs(w[~keep]).max() <= np.abs(w[keep]).min()
    r = NumpyNeuMF(20, 30, gmf_dim=4, mlp_dims=(8, 4), seed=0)
    X.random_prune_to(r, target, rng=0)
    assert X.layer_sparsities(r, list(target)) == target
    with pytest.raises(ValueError, match="sparsities"):
        X.layerwise_prune_to(m, {"mlp.0.weight": 1.0})
    with pytest.raises(ValueError, match="unknown"):
        X.random_prune_to(m, {"nope": 0.5}, rng=0)
    with pytest.raises(ValueError, match="sparsity"):
        X.global_prune_to(m, ["mlp.0.weight"], -0.1)


# --------------------------------------------------------------------------- schedules and methods


def test_prune_on_schedule_follows_the_schedule(split, trained):
    model = X.clone(trained[0])
    names = X.prunable_names(model)
    targets, reached = [0.2, 0.2, 0.5, 0.7, 0.7, 0.7], []

    def pruner(m, s):
        X.global_prune_to(m, names, s)
        reached.append(X.pruned_fraction(m, names))

    history = X.prune_on_schedule(
        model, split, lambda u: targets[u], pruner, epochs=2, updates_per_epoch=3, config=CFG
    )
    assert len(history) == 2
    n = sum(model.weights()[k].size for k in names)
    assert reached == [round(t * n) / n for t in targets]
    with pytest.raises(ValueError, match="schedule"):
        X.prune_on_schedule(model, split, lambda u: 1.5, pruner, epochs=1, config=CFG)


@pytest.mark.parametrize("method", X.METHODS)
def test_every_method_reaches_the_exact_sparsity(split, trained, method):
    dense, early = trained
    names = X.prunable_names(dense)
    before = P.snapshot(dense)
    model, result = X.run_method(
        dense, split, method, 0.7, epochs=1, first_epoch=2, config=CFG, early=early
    )
    n = sum(dense.weights()[k].size for k in names)
    assert X.pruned_fraction(model, names) == round(0.7 * n) / n
    assert set(result) == {"method", "sparsity", "hr", "ndcg", "val_hr", "history"}
    assert len(result["history"]) == (0 if method == "no retraining" else 1)
    assert not P.is_pruned(dense)  # the trained model is not modified
    for k, w in dense.weights().items():
        np.testing.assert_array_equal(w, before[k])


def test_run_method_is_reproducible(split, trained):
    dense, early = trained
    runs = [
        X.run_method(dense, split, "gradual", 0.6, epochs=1, first_epoch=2, config=CFG)[1]["hr"]
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_random_keeps_the_per_layer_counts_of_global_magnitude(split, trained):
    dense, _ = trained
    names = X.prunable_names(dense)
    mag, _ = X.run_method(dense, split, "no retraining", 0.8, epochs=1, first_epoch=2)
    rnd, _ = X.run_method(dense, split, "random", 0.8, epochs=1, first_epoch=2, config=CFG)
    assert X.layer_sparsities(rnd, names) == X.layer_sparsities(mag, names)
    assert any((P.masks(rnd)[k] != P.masks(mag)[k]).any() for k in names)


def test_one_shot_and_iterative_masks_differ_but_schedules_end_at_target(split, trained):
    dense, _ = trained
    names = X.prunable_names(dense)
    one, _ = X.run_method(dense, split, "one-shot", 0.8, epochs=1, first_epoch=2, config=CFG)
    it, _ = X.run_method(dense, split, "iterative", 0.8, epochs=1, first_epoch=2, config=CFG)
    assert X.pruned_fraction(one, names) == X.pruned_fraction(it, names)
    assert any((P.masks(one)[k] != P.masks(it)[k]).any() for k in names)


def test_rewind_and_reinit_keep_the_one_shot_mask(split, trained, monkeypatch):
    dense, early = trained
    names = X.prunable_names(dense)
    captured = {}
    real = X.prune_on_schedule

    def spy(model, *args, **kwargs):  # look at the model just before retraining
        captured["weights"] = P.snapshot(model)
        captured["masks"] = P.masks(model)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(X, "prune_on_schedule", spy)
    reference, _ = X.run_method(dense, split, "no retraining", 0.6, epochs=1, first_epoch=2)
    X.run_method(dense, split, "rewind", 0.6, epochs=1, first_epoch=2, config=CFG, early=early)
    for k in names:
        keep = P.masks(reference)[k]
        np.testing.assert_array_equal(captured["masks"][k], keep)
        np.testing.assert_array_equal(captured["weights"][k][keep], early[k][keep])
    X.run_method(dense, split, "re-init", 0.6, epochs=1, first_epoch=2, config=CFG, seed=7)
    fresh = type(dense)(**dense.config(), seed=7).weights()
    for k in names:
        keep = P.masks(reference)[k]
        np.testing.assert_array_equal(captured["weights"][k][keep], fresh[k][keep])
        assert (captured["weights"][k][~keep] == 0).all()


def test_run_method_rejects_bad_arguments(split, trained):
    dense, _ = trained
    with pytest.raises(ValueError, match="method"):
        X.run_method(dense, split, "magic", 0.5, epochs=1, first_epoch=2)
    with pytest.raises(ValueError, match="early"):
        X.run_method(dense, split, "rewind", 0.5, epochs=1, first_epoch=2)
    with pytest.raises(ValueError, match="rounds"):
        X.run_method(dense, split, "iterative", 0.5, epochs=3, first_epoch=2, rounds=4)
    with pytest.raises(ValueError, match="sparsity"):
        X.run_method(dense, split, "one-shot", 1.0, epochs=1, first_epoch=2)
    with pytest.raises(ValueError, match="ramp"):
        X.run_method(dense, split, "gradual", 0.5, epochs=1, first_epoch=2, ramp=0)


def test_custom_pruner_is_used(split, trained):
    dense, _ = trained
    names = X.prunable_names(dense)
    alloc = {n: (0.9 if n.startswith("mlp_") else 0.1) for n in names}
    model, _ = X.run_method(
        dense,
        split,
        "one-shot",
        0.5,
        epochs=1,
        first_epoch=2,
        config=CFG,
        pruner=lambda m, t: X.layerwise_prune_to(m, alloc),
    )
    got = X.layer_sparsities(model, names)
    assert all(got[n] == pytest.approx(alloc[n], abs=0.5 / model.weights()[n].size) for n in names)


# --------------------------------------------------------------------------- allocation


def test_sensitivity_allocation_by_hand():
    # a loses 0.1 at 50% and 0.2 at 90%; b loses 0.01 and 0.02: for a 70% budget over two
    # layers of 100, the tolerance is 0.1 -> a at 50%, b at 90% (its whole scan)
    scan = {"a": [(0.5, 0.60), (0.9, 0.50)], "b": [(0.5, 0.69), (0.9, 0.68)]}
    alloc = X.sensitivity_allocation(scan, {"a": 100, "b": 100}, baseline=0.70, sparsity=0.7)
    assert alloc == {"a": 0.5, "b": 0.9}
    # 60%: b is still capped at 90% and a takes the rest: 30 weights = 30%, on its first
    # segment (linear from 0 at 0% to a drop of 0.1 at 50%)
    alloc = X.sensitivity_allocation(scan, {"a": 100, "b": 100}, baseline=0.70, sparsity=0.6)
    assert alloc == {"a": 0.3, "b": 0.9}


def test_sensitivity_allocation_is_exact_and_prefers_insensitive_layers():
    rng = np.random.default_rng(0)
    sizes = {"big": 1000, "mid": 333, "tiny": 7}
    scan = {
        "big": [(a, 0.7 - 0.05 * a) for a in (0.5, 0.8, 0.9, 0.99)],  # robust
        "mid": [(a, 0.7 - 0.3 * a + 0.01 * rng.random()) for a in (0.5, 0.8, 0.9, 0.99)],
        "tiny": [(a, 0.7 - 0.6 * a) for a in (0.5, 0.8, 0.9, 0.99)],  # fragile
    }
    total = sum(sizes.values())
    for s in (0.3, 0.5, 0.8, 0.9):
        alloc = X.sensitivity_allocation(scan, sizes, baseline=0.7, sparsity=s)
        assert sum(round(f * sizes[k]) for k, f in alloc.items()) == round(s * total)
        assert alloc["big"] >= alloc["mid"] >= alloc["tiny"]
        assert all(0 <= f <= 1 for f in alloc.values())


def test_sensitivity_allocation_when_layers_lose_nothing():
    scan = {"a": [(0.5, 0.7), (0.99, 0.7)], "b": [(0.5, 0.2), (0.99, 0.1)]}
    alloc = X.sensitivity_allocation(scan, {"a": 100, "b": 100}, baseline=0.7, sparsity=0.3)
    assert alloc == {"a": 0.6, "b": 0.0}  # a alone can take the whole budget


def test_sensitivity_allocation_rejects_an_unreachable_budget():
    scan = {"a": [(0.5, 0.6)], "b": [(0.5, 0.6)]}
    with pytest.raises(ValueError, match="scan larger amounts"):
        X.sensitivity_allocation(scan, {"a": 10, "b": 10}, baseline=0.7, sparsity=0.8)
    with pytest.raises(ValueError, match="sizes"):
        X.sensitivity_allocation(scan, {"a": 10}, baseline=0.7, sparsity=0.3)
    with pytest.raises(ValueError, match="amount"):
        X.sensitivity_allocation({"a": [(0.0, 0.6)]}, {"a": 10}, baseline=0.7, sparsity=0.3)


def test_sensitivity_allocation_on_a_real_scan(split, trained):
    dense, _ = trained
    names = X.prunable_names(dense)
    base = X.evaluate(dense, split, "val")["hr"]
    scan = P.sensitivity_scan(
        lambda m: X.evaluate(m, split, "val")["hr"], dense, names, [0.5, 0.9, 0.99]
    )
    sizes = {n: dense.weights()[n].size for n in names}
    alloc = X.sensitivity_allocation(scan, sizes, base, 0.6)
    m = X.clone(dense)
    X.layerwise_prune_to(m, alloc)
    assert pruned_count(m, names) == round(0.6 * sum(sizes.values()))


# --------------------------------------------------------------------------- gradient check


def test_gradient_check_passes_and_catches_a_wrong_backward(monkeypatch):
    m = NumpyNeuMF(6, 7, gmf_dim=3, mlp_dims=(4, 2), seed=0)
    P.magnitude_prune(m, "gmf_item_embedding.weight", 0.5)
    batch = ([0, 1, 2, 5], [6, 4, 3, 3], [1.0, 0.0, 1.0, 0.0])
    errors = X.gradient_check(m, *batch)
    assert set(errors) == set(m.parameters())
    assert max(errors.values()) < 1e-6
    before = P.snapshot(m)
    X.gradient_check(m, *batch)
    for k, w in m.weights().items():  # parameters restored exactly
        np.testing.assert_array_equal(w, before[k])

    real = Embedding.backward

    def wrong(self, grad_out):  # forgets that a repeated id sums its gradients
        real(self, grad_out)
        self.grads["weight"] *= 2.0

    monkeypatch.setattr(Embedding, "backward", wrong)
    assert max(X.gradient_check(m, *batch).values()) > 0.1


def test_train_config_validates_its_fields():
    with pytest.raises(ValueError, match="lr"):
        X.TrainConfig(lr=0.0)
    with pytest.raises(ValueError, match="batch_size"):
        X.TrainConfig(batch_size=0)
    with pytest.raises(TypeError, match="n_negatives"):
        X.TrainConfig(n_negatives=2.5)
    with pytest.raises(ValueError, match="seed"):
        X.TrainConfig(seed=-1)
