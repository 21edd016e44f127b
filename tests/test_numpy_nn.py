"""Tests for prunerec.numpy_nn: gradient checks by central differences, optimisers
against hand computations and torch.optim, masked steps, training."""

import numpy as np
import pytest

from prunerec import numpy_nn as nn

EPS = 1e-6  # central-difference step; float64 gives errors ~1e-9 and below
TOL = 1e-6  # relative error allowed


def rel_error(a, b):
    """||a - b|| / (||a|| + ||b||), the usual gradient-check measure."""
    a, b = np.ravel(a), np.ravel(b)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def numeric_grad(f, x, index_list):
    """Central differences of the scalar f() with respect to x[idx] for idx in index_list."""
    out = []
    for idx in index_list:
        old = x[idx]
        x[idx] = old + EPS
        plus = f()
        x[idx] = old - EPS
        minus = f()
        x[idx] = old
        out.append((plus - minus) / (2 * EPS))
    return np.array(out)


def all_indices(a):
    return list(np.ndindex(a.shape))


# --------------------------------------------------------------------------- layers


def test_embedding_gradient_with_repeated_ids():
    rng = np.random.default_rng(0)
    emb = nn.Embedding(5, 3, std=1.0, rng=1)
    ids = np.array([4, 1, 4, 4, 0, 1])  # 4 three times, 1 twice, 2 and 3 never
    R = rng.normal(size=(ids.size, 3))

    def loss():
        return float(np.sum(R * emb.forward(ids)))

    loss()
    emb.backward(R)
    w = emb.params["weight"]
    num = numeric_grad(loss, w, all_indices(w))
    assert rel_error(emb.grads["weight"].ravel(), num) < TOL
    # by hand: the gradient of row 4 is the sum of the three output rows that read it
    assert np.allclose(emb.grads["weight"][4], R[[0, 2, 3]].sum(axis=0))
    assert (emb.grads["weight"][[2, 3]] == 0).all()


def test_linear_gradients_weight_bias_input():
    rng = np.random.default_rng(0)
    lin = nn.Linear(4, 3, rng=2)
    x = rng.normal(size=(6, 4))
    R = rng.normal(size=(6, 3))

    def loss():
        return float(np.sum(R * lin.forward(x)))

    loss()
    dx = lin.backward(R)
    for name in ("weight", "bias"):
        p = lin.params[name]
        assert rel_error(lin.grads[name].ravel(), numeric_grad(loss, p, all_indices(p))) < TOL
    assert rel_error(dx.ravel(), numeric_grad(loss, x, all_indices(x))) < TOL
    assert lin.params["weight"].shape == (3, 4)  # (out, in) as in torch


def test_linear_matches_by_hand():
    lin = nn.Linear(2, 1, rng=0)
    lin.params["weight"][:] = [[2.0, -1.0]]
    lin.params["bias"][:] = [0.5]
    assert lin.forward(np.array([[1.0, 3.0]])).tolist() == [[2.0 - 3.0 + 0.5]]


@pytest.mark.parametrize("layer", [nn.ReLU(), nn.Sigmoid()])
def test_activation_gradients(layer):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 4))
    x[np.abs(x) < 0.05] = 0.5  # keep ReLU inputs away from the kink
    R = rng.normal(size=x.shape)

    def loss():
        return float(np.sum(R * layer.forward(x)))

    loss()
    dx = layer.backward(R)
    assert rel_error(dx.ravel(), numeric_grad(loss, x, all_indices(x))) < TOL


def test_bce_gradient_and_values():
    rng = np.random.default_rng(4)
    x = rng.normal(scale=3.0, size=12)
    y = (rng.random(12) < 0.5).astype(float)
    loss, grad = nn.bce_with_logits(x, y)
    num = numeric_grad(lambda: nn.bce_with_logits(x, y)[0], x, all_indices(x))
    assert rel_error(grad, num) < TOL
    # the textbook formula, where it is safe to evaluate
    p = 1 / (1 + np.exp(-x))
    assert loss == pytest.approx(np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p)), rel=1e-12)
    assert nn.bce_with_logits(np.zeros(3), np.ones(3))[0] == pytest.approx(np.log(2))


def test_bce_is_stable_for_huge_logits():
    x = np.array([-1000.0, 1000.0, -1000.0, 1000.0])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no overflow
        loss, grad = nn.bce_with_logits(x, y)
    assert loss == pytest.approx((0 + 0 + 1000 + 1000) / 4)
    assert grad.tolist() == [0.0, 0.0, -0.25, 0.25]


def test_sigmoid_values():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        s = nn.sigmoid(np.array([-800.0, -1.0, 0.0, 1.0, 800.0]))
    assert s[2] == 0.5 and s[0] == 0.0 and s[-1] == 1.0
    assert s[1] + s[3] == pytest.approx(1.0)
    assert s[3] == pytest.approx(1 / (1 + np.exp(-1.0)))


# --------------------------------------------------------------------------- models


def model_gradient_check(model, n_entries=12, seed=0):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, model.n_users, 16)
    items = rng.integers(0, model.n_items, 16)
    users[:4] = users[0]  # repeated ids
    items[2:6] = items[2]
    y = (rng.random(16) < 0.5).astype(float)

    def loss():
        return nn.bce_with_logits(model.forward(users, items), y)[0]

    model.zero_grad()
    _, g = nn.bce_with_logits(model.forward(users, items), y)
    model.backward(g)
    grads = {k: v.copy() for k, v in model.grads().items()}
    for name, p in model.parameters().items():
        if p.shape[0] in (model.n_users, model.n_items) and name.endswith("embedding.weight"):
            rows = users if "user" in name else items
            # mostly rows that the batch reads (non-zero gradient), plus one it does not
            unused = np.setdiff1d(np.arange(p.shape[0]), rows)[:1]
            cand = [(r, c) for r in np.concatenate([rows, unused]) for c in range(p.shape[1])]
        else:
            cand = all_indices(p)
        pick = rng.choice(len(cand), size=min(n_entries, len(cand)), replace=False)
        idx = [tuple(int(v) for v in cand[k]) for k in pick]
        analytic = np.array([grads[name][i] for i in idx])
        err = rel_error(analytic, numeric_grad(loss, p, idx))
        assert err < TOL, (name, err)


def test_mf_gradient_check():
    mf = nn.NumpyMF(7, 9, dim=4, seed=0)
    for p in mf.parameters().values():  # a larger scale than the init, for meaningful grads
        p += np.random.default_rng(1).normal(scale=0.5, size=p.shape)
    model_gradient_check(mf)


def test_neumf_gradient_check():
    m = nn.NumpyNeuMF(7, 9, gmf_dim=3, mlp_dims=(6, 4, 2), seed=0)
    rng = np.random.default_rng(2)
    for p in m.parameters().values():
        p += rng.normal(scale=0.5, size=p.shape)
    model_gradient_check(m, n_entries=10)


def test_mf_forward_by_hand():
    mf = nn.NumpyMF(2, 3, dim=2)
    mf.parameters()["user_embedding.weight"][:] = [[1.0, 2.0], [0.0, 1.0]]
    mf.parameters()["item_embedding.weight"][:] = [[3.0, 4.0], [1.0, 1.0], [0.0, 0.0]]
    mf.parameters()["item_bias.weight"][:] = [[0.5], [-1.0], [2.0]]
    assert mf.forward(np.array([0, 1, 0]), np.array([0, 1, 2])).tolist() == [11.5, 0.0, 2.0]


def test_neumf_structure_and_size():
    m = nn.NumpyNeuMF(943, 1682)  # the defaults, MovieLens-100K sizes
    shapes = {k: v.shape for k, v in m.parameters().items()}
    assert shapes == {
        "gmf_user_embedding.weight": (943, 16),
        "gmf_item_embedding.weight": (1682, 16),
        "mlp_user_embedding.weight": (943, 16),
        "mlp_item_embedding.weight": (1682, 16),
        "mlp.0.weight": (16, 32),
        "mlp.0.bias": (16,),
        "mlp.2.weight": (8, 16),
        "mlp.2.bias": (8,),
        "predict.weight": (1, 24),
        "predict.bias": (1,),
    }
    assert sum(v.size for v in m.parameters().values()) == 2625 * 32 + 16 * 33 + 8 * 17 + 25
    assert all(v.dtype == np.float64 for v in m.parameters().values())


def test_seeded_init_is_reproducible():
    a, b, c = (nn.NumpyNeuMF(10, 12, seed=s) for s in (5, 5, 6))
    for k in a.parameters():
        assert np.array_equal(a.parameters()[k], b.parameters()[k])
    assert not np.array_equal(a.parameters()["mlp.0.weight"], c.parameters()["mlp.0.weight"])


def test_score_matches_forward_and_keeps_the_cache():
    m = nn.NumpyNeuMF(6, 8, gmf_dim=2, mlp_dims=(4, 2), seed=0)
    u, i = np.array([0, 5, 3]), np.array([7, 0, 7])
    logits = m.forward(u, i)
    g = np.array([0.1, -0.2, 0.3])
    m.backward(g)
    expected = {k: v.copy() for k, v in m.grads().items()}
    m.zero_grad()
    m.forward(u, i)
    scores = m.score(np.arange(6), np.full(6, 2), batch_size=4)  # chunks of 4, 2
    m.backward(g)  # still uses the cache of forward(u, i)
    for k in expected:
        assert np.array_equal(m.grads()[k], expected[k])
    assert np.allclose(m.score(u, i), logits, rtol=0, atol=1e-15)
    assert scores.shape == (6,)


@pytest.mark.parametrize(
    "users, items, exc, arg",
    [
        ([0, 3], [0, 0], ValueError, "users"),
        ([0, -1], [0, 0], ValueError, "users"),
        ([0, 1], [0, 4], ValueError, "items"),
        ([0.0, 1.0], [0, 1], TypeError, "users"),
        ([0, 1], [0, 1, 2], ValueError, "users"),
        ([[0, 1]], [[0, 1]], ValueError, "users"),
    ],
)
def test_forward_rejects_bad_ids(users, items, exc, arg):
    with pytest.raises(exc) as info:
        nn.NumpyMF(3, 4, dim=2).forward(users, items)
    assert str(info.value).startswith(arg)


def test_model_constructor_errors():
    with pytest.raises(ValueError, match="^n_users"):
        nn.NumpyMF(0, 3)
    with pytest.raises(ValueError, match="^mlp_dims"):
        nn.NumpyNeuMF(3, 3, mlp_dims=(7, 4))
    with pytest.raises(ValueError, match="^mlp_dims"):
        nn.NumpyNeuMF(3, 3, mlp_dims=(8,))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.NumpyMF(3, 3).backward(np.zeros(2))


# --------------------------------------------------------------------------- optimisers


def test_sgd_momentum_by_hand():
    w = np.array([1.0, -1.0])
    opt = nn.SGD({"w": w}, lr=0.1, momentum=0.9, weight_decay=0.5)
    opt.step({"w": np.array([1.0, 2.0])})
    # g = grad + 0.5 w = [1.5, 1.5]; buf = g; w -= 0.1 g
    assert w == pytest.approx([0.85, -1.15])
    opt.step({"w": np.array([0.0, 0.0])})
    # g = 0.5 w = [0.425, -0.575]; buf = 0.9 [1.5, 1.5] + g = [1.775, 0.775]
    assert w == pytest.approx([0.85 - 0.1775, -1.15 - 0.0775])


def test_adam_by_hand():
    w = np.array([1.0])
    opt = nn.Adam({"w": w}, lr=0.1, betas=(0.5, 0.75), eps=1e-12)
    opt.step({"w": np.array([2.0])})
    assert w == pytest.approx([0.9])  # m̂ = 2, v̂ = 4: step = lr · 2 / 2
    opt.step({"w": np.array([-2.0])})
    # m = 0.5·1 + 0.5·(-2) = -0.5, m̂ = -0.5/0.75; v = 0.75·1 + 0.25·4 = 1.75, v̂ = 1.75/0.4375 = 4
    assert w == pytest.approx([0.9 + 0.1 * (0.5 / 0.75) / 2])


def test_optimisers_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 4))
    grads = [rng.normal(size=(3, 4)) for _ in range(5)]
    cases = [
        (nn.SGD, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
        (nn.Adam, torch.optim.Adam, {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-8}),
    ]
    for ours, theirs, kw in cases:
        w = w0.copy()
        opt = ours({"w": w}, **kw)
        tw = torch.nn.Parameter(torch.tensor(w0))
        topt = theirs([tw], **kw)
        for g in grads:
            opt.step({"w": g})
            tw.grad = torch.tensor(g)
            topt.step()
        assert np.allclose(w, tw.detach().numpy(), rtol=1e-12, atol=1e-12), ours.__name__


@pytest.mark.parametrize("make", [lambda p: nn.SGD(p, lr=0.1, momentum=0.9), nn.Adam])
def test_masked_step_keeps_pruned_weights_and_state_at_zero(make):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 5))
    opt = make({"w": w})
    opt.step({"w": rng.normal(size=w.shape)})  # builds up non-zero state everywhere
    assert all((s != 0).all() for s in opt.state["w"].values())
    mask = rng.random(w.shape) < 0.5
    for _ in range(3):
        opt.step({"w": rng.normal(size=w.shape)}, masks={"w": mask})
        assert (w[~mask] == 0).all()
        for s in opt.state["w"].values():
            assert (s[~mask] == 0).all()
            assert (s[mask] != 0).all()
    assert (w[mask] != 0).all()


def test_optimiser_errors():
    w = np.zeros(3)
    with pytest.raises(ValueError, match="^lr"):
        nn.SGD({"w": w}, lr=0.0)
    with pytest.raises(TypeError, match="^params"):
        nn.Adam([w])
    with pytest.raises(ValueError, match="^betas"):
        nn.Adam({"w": w}, betas=(0.9, 1.0))
    opt = nn.SGD({"w": w}, lr=0.1)
    with pytest.raises(ValueError, match="^grads.*missing \\['w'\\]"):
        opt.step({"v": np.zeros(3)})
    with pytest.raises(ValueError, match="^grads\\['w'\\]"):
        opt.step({"w": np.zeros(4)})
    with pytest.raises(ValueError, match="^masks has names"):
        opt.step({"w": np.zeros(3)}, masks={"v": np.ones(3, bool)})
    with pytest.raises(ValueError, match="^masks\\['w'\\]"):
        opt.step({"w": np.zeros(3)}, masks={"w": np.ones(2, bool)})


# --------------------------------------------------------------------------- training


def synthetic(n_users=30, n_items=40, seed=0):
    """Users like items of their own group (u % 4 == i % 4): a pattern MF can learn."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, 3000)
    items = rng.integers(0, n_items, 3000)
    labels = (users % 4 == items % 4).astype(float)
    return users, items, labels


@pytest.mark.parametrize(
    "model",
    [nn.NumpyMF(30, 40, dim=8, seed=0), nn.NumpyNeuMF(30, 40, gmf_dim=8, mlp_dims=(16, 8), seed=0)],
)
def test_training_reduces_the_loss(model):
    users, items, labels = synthetic()
    opt = nn.Adam(model.parameters(), lr=0.02)
    before = nn.bce_with_logits(model.score(users, items), labels)[0]
    losses = [train_epoch_quiet(model, opt, users, items, labels, seed) for seed in range(8)]
    after = nn.bce_with_logits(model.score(users, items), labels)[0]
    assert before == pytest.approx(np.log(2), abs=0.05)  # near-zero init logits
    assert losses[-1] < losses[0] and after < 0.5 * before


def train_epoch_quiet(model, opt, users, items, labels, seed):
    return nn.train_epoch(model, opt, users, items, labels, batch_size=128, rng=seed)


def test_train_epoch_with_masks_keeps_zeros():
    users, items, labels = synthetic()
    m = nn.NumpyMF(30, 40, dim=8, seed=0)
    opt = nn.SGD(m.parameters(), lr=0.5, momentum=0.9)
    mask = np.random.default_rng(0).random((30, 8)) < 0.3
    nn.train_epoch(m, opt, users, items, labels, 64, rng=0, masks={"user_embedding.weight": mask})
    w = m.parameters()["user_embedding.weight"]
    assert (w[~mask] == 0).all() and (w[mask] != 0).all()


def test_train_epoch_checks_its_arguments():
    users, items, labels = synthetic()
    m = nn.NumpyMF(30, 40, dim=8)
    other = nn.Adam(nn.NumpyMF(30, 40, dim=8).parameters())
    with pytest.raises(ValueError, match="^opt does not hold"):
        nn.train_epoch(m, other, users, items, labels, 64, rng=0)
    opt = nn.Adam(m.parameters())
    with pytest.raises(ValueError, match="^labels"):
        nn.train_epoch(m, opt, users, items, labels[:-1], 64, rng=0)
    with pytest.raises(ValueError, match="^batch_size"):
        nn.train_epoch(m, opt, users, items, labels, 0, rng=0)
    # the same seed gives the same epoch
    a, b = nn.NumpyMF(30, 40, dim=8), nn.NumpyMF(30, 40, dim=8)
    la = nn.train_epoch(a, nn.Adam(a.parameters()), users, items, labels, 64, rng=3, progress=True)
    lb = nn.train_epoch(b, nn.Adam(b.parameters()), users, items, labels, 64, rng=3)
    assert la == lb
