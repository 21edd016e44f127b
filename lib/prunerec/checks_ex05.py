"""Graded checks of exercise 05 (the PyTorch case study).

Each check builds small models or arrays on the CPU (so a check behaves the same on every
machine, with or without a GPU), runs the learner's function on them and compares the
result with a reference computed here or in :mod:`prunerec.metrics` /
:mod:`prunerec.torch_prune`. The learner's functions get fresh copies, never the
reference's objects.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.utils.prune as prune
from torch import nn

from prunerec import metrics
from prunerec import torch_prune as tp
from prunerec.checks import Case, call, close, report, same_array
from prunerec.models import MLP, NeuMF
from prunerec.schedules import cubic

__all__ = [
    "check_hit_rate",
    "check_global_magnitude",
    "check_shrink_linear_pair",
    "check_prune_rows",
    "check_gradual_loop",
]


def _effective(params: list[tuple[nn.Module, str]]) -> list[torch.Tensor]:
    return [getattr(m, n).detach().clone() for m, n in params]


def _has_mask(params: list[tuple[nn.Module, str]]) -> bool:
    return all(hasattr(m, n + "_mask") and hasattr(m, n + "_orig") for m, n in params)


def _sgd_step(model: nn.Module, users: torch.Tensor, items: torch.Tensor) -> None:
    """One plain SGD step on a made-up loss that pushes every weight away from zero."""
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    loss = -model(users, items).sum() - sum(p.sum() for p in model.parameters())
    loss.backward()
    opt.step()


# --------------------------------------------------------------------------- 5.1


def check_hit_rate(fn: Callable, hidden: bool = False) -> None:
    """5.1: ``fn(scores, k)`` is HR@k with the positive in column 0, ties pessimistic."""
    rng = np.random.default_rng(51)
    cases_in = [
        ("distinct scores", np.array([[0.9, 0.1, 0.5, 0.3], [0.2, 0.7, 0.6, 0.1]]), 2),
        ("a negative tied with the positive ranks above it", np.array([[0.5, 0.5, 0.1]]), 1),
        ("a model that scores everything the same hits nobody", np.zeros((3, 100)), 10),
        ("k >= number of candidates: every user hits", np.array([[0.1, 0.9, 0.8]]), 3),
        (
            "ties among negatives only do not matter",
            np.array([[0.4, 0.9, 0.9, 0.1, 0.1], [0.05, 0.1, 0.1, 0.1, 0.1]]),
            3,
        ),
    ]
    if hidden:
        ints = rng.integers(0, 4, size=(40, 20)).astype(float)  # many ties
        cases_in.append(("random integer scores (many ties)", ints, 5))
        cases_in.append(("random floats", rng.normal(size=(30, 100)), 10))
    cases = []
    for name, scores, k in cases_in:
        expected = metrics.hit_rate_at_k(scores, k)
        cases.append(close(f"{name} (k={k})", call(fn, scores.copy(), k), expected, tol=1e-9))
    report(
        "5.1 hit_rate",
        cases,
        hint="the rank of the positive is the number of negatives scored AT LEAST as high as "
        "it: (scores[:, 1:] >= scores[:, :1]).sum(axis=1); a user hits when rank < k. Counting "
        "only strictly higher negatives (or sorting) rewards a model for ties.",
        quiet=hidden,
    )


# --------------------------------------------------------------------------- 5.2


def _neumf_for_52(seed: int) -> NeuMF:
    m = NeuMF(12, 20, gmf_dim=4, mlp_dim=3, layers=(8, 4), seed=seed)
    with torch.no_grad():  # trained embeddings are not all on the scale of the MLP weights
        m.gmf_user_embedding.weight.mul_(40.0)
        m.mlp_item_embedding.weight.mul_(10.0)
    return m


def check_global_magnitude(fn: Callable, hidden: bool = False) -> None:
    """5.2: ``fn(params, amount)`` prunes, with ``torch.nn.utils.prune`` masks, the
    ``round(amount * n)`` weights of smallest magnitude among all ``params`` together."""
    settings = [
        ("embeddings + MLP, 50%", ("embeddings", "mlp"), 0.5, 0),
        ("embeddings + MLP, 90%", ("embeddings", "mlp"), 0.9, 1),
        ("MLP only, 30%", ("mlp",), 0.3, 2),
    ]
    if hidden:
        settings.append(
            ("everything incl. predict, 75%", ("embeddings", "mlp", "predict"), 0.75, 3)
        )
    cases = []
    for name, which, amount, seed in settings:
        ref, mine = _neumf_for_52(seed), _neumf_for_52(seed)
        ref_params = tp.prunable_parameters(ref, which)
        my_params = tp.prunable_parameters(mine, which)
        prune.global_unstructured(ref_params, pruning_method=prune.L1Unstructured, amount=amount)
        untouched = {
            n: p.detach().clone()
            for n, p in mine.named_parameters()
            if not any(p is getattr(m, w) for m, w in my_params)
        }
        call(fn, my_params, amount)
        want = _effective(ref_params)
        got = _effective(my_params)
        want_counts = [int((w == 0).sum()) for w in want]
        got_counts = [int((g == 0).sum()) for g in got]
        n = sum(w.numel() for w in want)
        cases.append(
            Case(
                f"{name}: number of zeros",
                sum(got_counts) == sum(want_counts),
                f"{sum(want_counts)} of {n} (round(amount * n))",
                f"{sum(got_counts)}",
            )
        )
        same = all(torch.equal(g, w) for g, w in zip(got, want, strict=True))
        cases.append(
            Case(
                f"{name}: the globally smallest weights go",
                same,
                f"zeros per tensor {want_counts}",
                f"zeros per tensor {got_counts}",
            )
        )
        others = dict(mine.named_parameters())
        cases.append(
            Case(
                f"{name}: parameters outside params are untouched",
                all(
                    n_ in others and torch.equal(others[n_].detach(), v)
                    for n_, v in untouched.items()
                ),
                "biases and the other layers unchanged",
                "some changed",
            )
        )
        if same:
            users = torch.arange(12).repeat(3)[:30].reshape(3, 10)
            items = torch.arange(30).remainder(20).reshape(3, 10)
            _sgd_step(mine, users, items)
            after = _effective(my_params)
            kept_zero = all(bool((a[w == 0] == 0).all()) for a, w in zip(after, want, strict=True))
            cases.append(
                Case(
                    f"{name}: pruned weights stay zero after a training step (a mask)",
                    kept_zero and _has_mask(my_params),
                    "weight_orig and weight_mask on every module (prune.* adds them)",
                    "weights that came back"
                    if not kept_zero
                    else "no weight_mask buffer: zeros written into the weights",
                )
            )
    report(
        "5.2 global_magnitude",
        cases,
        hint="one ranking over ALL the chosen tensors: prune.global_unstructured(params, "
        "pruning_method=prune.L1Unstructured, amount=amount). Pruning each tensor by amount "
        "(layer-wise) removes the same total but not the same weights; writing zeros into "
        "weight.data leaves no mask, so training brings the weights back.",
        quiet=hidden,
    )


# --------------------------------------------------------------------------- 5.3


def _pair(n_in: int, n_hidden: int, n_out: int, seed: int) -> tuple[nn.Linear, nn.Linear]:
    gen = torch.Generator().manual_seed(seed)
    first, second = nn.Linear(n_in, n_hidden), nn.Linear(n_hidden, n_out)
    with torch.no_grad():
        for layer in (first, second):
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen))
            layer.bias.copy_(torch.randn(layer.bias.shape, generator=gen))
    return first, second


def _reference_shrink(first: nn.Linear, second: nn.Linear, amount: float) -> torch.Tensor:
    """Indices (sorted) of the neurons that survive."""
    scores = torch.linalg.vector_norm(first.weight.detach(), dim=1)
    k = round(amount * scores.numel())
    return torch.sort(torch.argsort(scores, stable=True)[k:]).values


def check_shrink_linear_pair(fn: Callable, hidden: bool = False) -> None:
    """5.3: ``fn(first, second, amount)`` removes the ``round(amount * width)`` hidden neurons
    of ``second(relu(first(x)))`` whose incoming weights (rows of ``first.weight``) have the
    smallest L2 norm, and returns two new, smaller ``nn.Linear``."""
    settings = [
        ("8 -> 6 -> 3, remove half", (8, 6, 3), 0.5, 0, False),
        ("5 -> 10 -> 2, remove 30%", (5, 10, 2), 0.3, 1, False),
        ("4 -> 4 -> 4, remove nothing", (4, 4, 4), 0.0, 2, False),
        ("6 -> 6 -> 2 with two tied rows: the lower index goes", (6, 6, 2), 1 / 6, 3, True),
    ]
    if hidden:
        settings.append(("32 -> 16 -> 8, remove 75%", (32, 16, 8), 0.75, 4, False))
    cases = []
    for name, (n_in, n_hidden, n_out), amount, seed, tie in settings:
        first, second = _pair(n_in, n_hidden, n_out, seed)
        if tie:
            with torch.no_grad():
                first.weight[1] = 0.01 * torch.arange(n_in, dtype=torch.float32)
                first.weight[4] = first.weight[1]  # an exact tie, the two smallest norms
        keep = _reference_shrink(first, second, amount)
        x = torch.randn(7, n_in, generator=torch.Generator().manual_seed(100 + seed))
        with torch.no_grad():
            hidden_act = torch.relu(first(x))
            mask = torch.zeros(n_hidden)
            mask[keep] = 1
            expected_out = second(hidden_act * mask)
        f0 = copy.deepcopy((first.state_dict(), second.state_dict()))
        got = call(fn, first, second, amount)
        if not (isinstance(got, tuple | list) and len(got) == 2):
            cases.append(Case(name, False, "a tuple (new_first, new_second)", repr(got)[:200]))
            continue
        new_first, new_second = got
        if not (isinstance(new_first, nn.Linear) and isinstance(new_second, nn.Linear)):
            cases.append(
                Case(
                    name,
                    False,
                    "two nn.Linear",
                    f"{type(new_first).__name__}, {type(new_second).__name__}",
                )
            )
            continue
        w = len(keep)
        shapes = (
            tuple(new_first.weight.shape),
            tuple(new_first.bias.shape) if new_first.bias is not None else None,
            tuple(new_second.weight.shape),
        )
        want_shapes = ((w, n_in), (w,), (n_out, w))
        cases.append(
            Case(
                f"{name}: shapes (first.weight, first.bias, second.weight)",
                shapes == want_shapes,
                str(want_shapes),
                str(shapes),
            )
        )
        if shapes != want_shapes:
            continue
        cases.append(
            same_array(
                f"{name}: the kept rows of first.weight",
                new_first.weight.detach().numpy(),
                first.weight.detach()[keep].numpy(),
            )
        )
        with torch.no_grad():
            out = new_second(torch.relu(new_first(x)))
        cases.append(
            Case(
                f"{name}: output equals the masked original",
                bool(torch.allclose(out, expected_out, atol=1e-5)),
                "second(relu(first(x))) with the removed neurons masked",
                f"max difference {float((out - expected_out).abs().max()):.3g}",
            )
        )
        unchanged = all(
            torch.equal(a, b)
            for sd, orig in zip((first.state_dict(), second.state_dict()), f0, strict=True)
            for a, b in zip(sd.values(), orig.values(), strict=True)
        )
        cases.append(
            Case(
                f"{name}: the original layers are not modified",
                unchanged,
                "first and second unchanged",
                "modified in place",
            )
        )
    report(
        "5.3 shrink_linear_pair",
        cases,
        hint="score neuron j by torch.linalg.vector_norm(first.weight[j]) (its ROW: incoming "
        "weights); keep = sorted indices of all but the k = round(amount * width) lowest "
        "(torch.argsort(scores, stable=True)[k:]); new first = Linear(in, len(keep)) with "
        "weight[keep] and bias[keep]; new second = Linear(len(keep), out) with weight[:, keep] "
        "and the same bias.",
        quiet=hidden,
    )


# --------------------------------------------------------------------------- 5.4


def check_prune_rows(fn: Callable, hidden: bool = False) -> None:
    """5.4: ``fn(embedding, counts, amount)`` masks the ``round(amount * n)`` rows with the
    fewest interactions (ties: lower index first) and returns their indices, sorted."""
    rng = np.random.default_rng(54)
    settings = [
        ("8 items, prune 25%", np.array([5, 0, 9, 2, 7, 1, 30, 4]), 0.25),
        (
            "ties: items 1, 3 and 6 have one interaction, prune 2",
            np.array([4, 1, 9, 1, 5, 8, 1]),
            2 / 7,
        ),
        ("prune nothing", np.array([3, 1, 2]), 0.0),
        ("a long tail, prune 60%", np.array([100, 50, 20, 10, 5, 3, 2, 1, 1, 0]), 0.6),
    ]
    if hidden:
        settings.append(("random counts with ties", rng.integers(0, 6, size=40), 0.45))
    cases = []
    for i, (name, counts, amount) in enumerate(settings):
        emb = nn.Embedding(len(counts), 3)
        with torch.no_grad():
            emb.weight.copy_(
                torch.randn(emb.weight.shape, generator=torch.Generator().manual_seed(i))
            )
        before = emb.weight.detach().clone()
        k = round(amount * len(counts))
        expected = np.sort(np.argsort(counts, kind="stable")[:k]).astype(np.int64)
        got = call(fn, emb, counts.copy(), amount)
        try:
            got_arr = np.sort(np.asarray(got, dtype=np.int64).ravel())
        except (TypeError, ValueError):
            got_arr = np.asarray([-1])
        cases.append(same_array(f"{name}: pruned rows", got_arr, expected))
        w = emb.weight.detach()
        keep = np.setdiff1d(np.arange(len(counts)), expected)
        rows_ok = bool((w[expected] == 0).all()) and torch.equal(w[keep], before[keep])
        cases.append(
            Case(
                f"{name}: those rows are zero, the others unchanged",
                rows_ok,
                f"zero rows {expected.tolist()}",
                f"zero rows {np.flatnonzero((w == 0).all(dim=1).numpy()).tolist()}",
            )
        )
        mask_ok = hasattr(emb, "weight_mask") and hasattr(emb, "weight_orig")
        cases.append(
            Case(
                f"{name}: a mask holds them at zero",
                mask_ok,
                "weight_mask / weight_orig (prune.custom_from_mask)",
                "no mask",
            )
        )
    report(
        "5.4 prune_rows",
        cases,
        hint="k = round(amount * n); pruned = np.sort(np.argsort(counts, kind='stable')[:k]) "
        "(the RAREST rows; a stable sort prunes the lower index first among ties); mask = "
        "ones(n, dim) with mask[pruned] = 0; prune.custom_from_mask(embedding, 'weight', mask).",
        quiet=hidden,
    )


# --------------------------------------------------------------------------- 5.5


def _setup_55(seed: int) -> tuple[MLP, list, Callable[[], None]]:
    model = MLP(7, 9, dim=3, layers=(8, 4), seed=seed)
    gen = torch.Generator().manual_seed(seed)
    users = torch.randint(0, 7, (32,), generator=gen)
    items = torch.randint(0, 9, (32,), generator=gen)
    labels = torch.randint(0, 2, (32,), generator=gen).float()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)

    def train_step() -> None:
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(users, items), labels)
        loss.backward()
        opt.step()

    return model, tp.prunable_parameters(model, ("embeddings", "mlp")), train_step


def _reference_loop(params, train_step, final, begin, end, frequency, total):
    n = sum(getattr(m, w).numel() for m, w in params)
    history = []
    for t in range(1, total + 1):
        train_step()
        if begin <= t <= end and (t - begin) % frequency == 0:
            s = cubic(t, final=final, begin=begin, end=end, frequency=frequency)
            extra = round(s * n) - tp.pruned_count_of(params)
            if extra > 0:
                prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=extra)
            zeros = sum(int((getattr(m, w) == 0).sum()) for m, w in params)
            history.append((t, zeros / n))
    return history


def check_gradual_loop(fn: Callable, hidden: bool = False) -> None:
    """5.5: ``fn(params, train_step, final, begin, end, frequency, total_steps)`` runs
    ``train_step()`` ``total_steps`` times and, after step ``t`` whenever
    ``begin <= t <= end`` and ``(t - begin) % frequency == 0``, prunes ``params`` globally by
    magnitude up to the cubic target ``s_t`` *of all the weights*; it returns
    ``[(t, achieved sparsity), ...]`` for those steps."""
    settings = [
        ("80% over steps 0..20, every 5, 30 steps", 0.8, 0, 20, 5, 30, 0),
        ("90% over steps 4..16, every 4, 20 steps", 0.9, 4, 16, 4, 20, 1),
        ("50% over steps 0..6, every 2, 6 steps", 0.5, 0, 6, 2, 6, 2),
    ]
    if hidden:
        settings.append(("95% over steps 10..40, every 10, 50 steps", 0.95, 10, 40, 10, 50, 3))
    cases = []
    for name, final, begin, end, freq, total, seed in settings:
        ref_model, ref_params, ref_step = _setup_55(seed)
        want = _reference_loop(ref_params, ref_step, final, begin, end, freq, total)
        model, params, step = _setup_55(seed)
        got = call(fn, params, step, final, begin, end, freq, total)
        try:
            got_list = [(int(t), float(s)) for t, s in got]
        except (TypeError, ValueError):
            cases.append(Case(name, False, "a list of (step, sparsity) pairs", repr(got)[:200]))
            continue
        cases.append(
            Case(
                f"{name}: the update steps",
                [t for t, _ in got_list] == [t for t, _ in want],
                str([t for t, _ in want]),
                str([t for t, _ in got_list]),
            )
        )
        ok = len(got_list) == len(want) and all(
            abs(g[1] - w[1]) < 1e-9 for g, w in zip(got_list, want, strict=False)
        )
        cases.append(
            Case(
                f"{name}: sparsity after each update",
                ok,
                "[" + ", ".join(f"{s:.3f}" for _, s in want) + "]",
                "[" + ", ".join(f"{s:.3f}" for _, s in got_list) + "]",
            )
        )
        same_weights = all(
            torch.equal(a, b)
            for a, b in zip(_effective(params), _effective(ref_params), strict=True)
        )
        cases.append(
            Case(
                f"{name}: final weights (pruned ones stayed zero while training went on)",
                same_weights and _has_mask(params),
                "the reference's weights, with torch.nn.utils.prune masks",
                "different weights" if not same_weights else "no weight_mask buffers",
            )
        )
    report(
        "5.5 gradual_loop",
        cases,
        hint="s_t is the sparsity of ALL the weights, but prune.global_unstructured(amount=a) "
        "with a float prunes the fraction a of the weights STILL unpruned (masks compose). "
        "Pass a count instead: extra = round(s_t * n) - (number already pruned), and prune "
        "only when extra > 0. Use prunerec.schedules.cubic(t, final=..., begin=..., end=..., "
        "frequency=...) for s_t, and train before pruning at each step.",
        quiet=hidden,
    )
