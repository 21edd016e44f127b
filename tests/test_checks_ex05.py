"""The graded checks of exercise 05: each passes on a correct implementation (written here
from scratch), prints one success line, stays silent when hidden, and fails on plausible
mistakes with "expected ... Hint:"."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as prune
from check_contract import assert_fails_with_hint, assert_passes, assert_unfinished_fails
from torch import nn

from prunerec import checks_ex05 as c5

torch.set_num_threads(1)

# --------------------------------------------------------------------------- correct answers


def hit_rate(scores, k):
    s = np.asarray(scores)
    rank = (s[:, 1:] >= s[:, :1]).sum(axis=1)
    return float(np.mean(rank < k))


def global_magnitude(params, amount):
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)


def global_magnitude_by_hand(params, amount):
    """Same result through a threshold and custom masks (no global_unstructured)."""
    flat = torch.cat([getattr(m, n).detach().abs().flatten() for m, n in params])
    k = round(amount * flat.numel())
    keep = torch.ones_like(flat)
    keep[torch.argsort(flat, stable=True)[:k]] = 0
    start = 0
    for m, n in params:
        size = getattr(m, n).numel()
        prune.custom_from_mask(m, n, keep[start : start + size].reshape(getattr(m, n).shape))
        start += size


def shrink_linear_pair(first, second, amount):
    scores = first.weight.detach().norm(dim=1)
    k = round(amount * scores.numel())
    keep = torch.sort(torch.argsort(scores, stable=True)[k:]).values
    a = nn.Linear(first.in_features, len(keep))
    b = nn.Linear(len(keep), second.out_features)
    with torch.no_grad():
        a.weight.copy_(first.weight[keep])
        a.bias.copy_(first.bias[keep])
        b.weight.copy_(second.weight[:, keep])
        b.bias.copy_(second.bias)
    return a, b


def prune_rows(embedding, counts, amount):
    k = round(amount * len(counts))
    pruned = np.sort(np.argsort(counts, kind="stable")[:k])
    mask = torch.ones_like(embedding.weight)
    mask[torch.as_tensor(pruned, dtype=torch.long)] = 0
    prune.custom_from_mask(embedding, "weight", mask)
    return pruned


def cubic_target(t, final, begin, end, frequency):
    t = begin + ((min(max(t, begin), end) - begin) // frequency) * frequency
    return final * (1 - (1 - (t - begin) / (end - begin)) ** 3) if end > begin else final


def gradual_loop(params, train_step, final, begin, end, frequency, total_steps):
    n = sum(getattr(m, w).numel() for m, w in params)
    out = []
    for t in range(1, total_steps + 1):
        train_step()
        if begin <= t <= end and (t - begin) % frequency == 0:
            zeros = sum(int((getattr(m, w) == 0).sum()) for m, w in params)
            extra = round(cubic_target(t, final, begin, end, frequency) * n) - zeros
            if extra > 0:
                prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=extra)
            out.append((t, sum(int((getattr(m, w) == 0).sum()) for m, w in params) / n))
    return out


CORRECT = [
    (c5.check_hit_rate, hit_rate, "5.1 hit_rate"),
    (c5.check_global_magnitude, global_magnitude, "5.2 global_magnitude"),
    (c5.check_global_magnitude, global_magnitude_by_hand, "5.2 global_magnitude"),
    (c5.check_shrink_linear_pair, shrink_linear_pair, "5.3 shrink_linear_pair"),
    (c5.check_prune_rows, prune_rows, "5.4 prune_rows"),
    (c5.check_gradual_loop, gradual_loop, "5.5 gradual_loop"),
]


@pytest.mark.parametrize(("check", "fn", "label"), CORRECT, ids=lambda x: getattr(x, "__name__", x))
def test_correct_implementations_pass(check, fn, label, capsys):
    assert_passes(check, fn, label, capsys)


# --------------------------------------------------------------------------- mistakes


def hit_rate_optimistic(scores, k):
    s = np.asarray(scores)
    return float(np.mean((s[:, 1:] > s[:, :1]).sum(axis=1) < k))


def hit_rate_argsort(scores, k):
    order = np.argsort(-np.asarray(scores), axis=1, kind="stable")
    return float(np.mean((order[:, :k] == 0).any(axis=1)))


def layerwise_magnitude(params, amount):
    for m, n in params:
        prune.l1_unstructured(m, n, amount=amount)


def zeros_without_mask(params, amount):
    flat = torch.cat([getattr(m, n).detach().abs().flatten() for m, n in params])
    theta = torch.kthvalue(flat, round(amount * flat.numel())).values
    with torch.no_grad():
        for m, n in params:
            w = getattr(m, n)
            w[w.abs() <= theta] = 0


def shrink_by_outgoing(first, second, amount):
    scores = second.weight.detach().norm(dim=0)  # outgoing weights: the wrong score
    k = round(amount * scores.numel())
    keep = torch.sort(torch.argsort(scores, stable=True)[k:]).values
    a, b = nn.Linear(first.in_features, len(keep)), nn.Linear(len(keep), second.out_features)
    with torch.no_grad():
        a.weight.copy_(first.weight[keep])
        a.bias.copy_(first.bias[keep])
        b.weight.copy_(second.weight[:, keep])
        b.bias.copy_(second.bias)
    return a, b


def shrink_first_only(first, second, amount):
    scores = first.weight.detach().norm(dim=1)
    k = round(amount * scores.numel())
    keep = torch.sort(torch.argsort(scores, stable=True)[k:]).values
    a = nn.Linear(first.in_features, len(keep))
    with torch.no_grad():
        a.weight.copy_(first.weight[keep])
        a.bias.copy_(first.bias[keep])
    return a, second


def prune_popular_rows(embedding, counts, amount):
    k = round(amount * len(counts))
    pruned = np.sort(np.argsort(-np.asarray(counts), kind="stable")[:k])
    mask = torch.ones_like(embedding.weight)
    mask[torch.as_tensor(pruned, dtype=torch.long)] = 0
    prune.custom_from_mask(embedding, "weight", mask)
    return pruned


def prune_rows_unstable_ties(embedding, counts, amount):
    k = round(amount * len(counts))
    pruned = np.sort(np.argsort(-np.asarray(counts), kind="stable")[::-1][:k])  # ties: high id
    mask = torch.ones_like(embedding.weight)
    mask[torch.as_tensor(pruned, dtype=torch.long)] = 0
    prune.custom_from_mask(embedding, "weight", mask)
    return pruned


def gradual_loop_compounding(params, train_step, final, begin, end, frequency, total_steps):
    n = sum(getattr(m, w).numel() for m, w in params)
    out = []
    for t in range(1, total_steps + 1):
        train_step()
        if begin <= t <= end and (t - begin) % frequency == 0:
            s = cubic_target(t, final, begin, end, frequency)
            prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=s)
            out.append((t, sum(int((getattr(m, w) == 0).sum()) for m, w in params) / n))
    return out


def gradual_loop_every_step(params, train_step, final, begin, end, frequency, total_steps):
    return gradual_loop(params, train_step, final, begin, end, 1, total_steps)


MISTAKES = [
    (c5.check_hit_rate, hit_rate_optimistic),
    (c5.check_hit_rate, hit_rate_argsort),
    (c5.check_global_magnitude, layerwise_magnitude),
    (c5.check_global_magnitude, zeros_without_mask),
    (c5.check_shrink_linear_pair, shrink_by_outgoing),
    (c5.check_shrink_linear_pair, shrink_first_only),
    (c5.check_prune_rows, prune_popular_rows),
    (c5.check_prune_rows, prune_rows_unstable_ties),
    (c5.check_gradual_loop, gradual_loop_compounding),
    (c5.check_gradual_loop, gradual_loop_every_step),
]


@pytest.mark.parametrize(("check", "fn"), MISTAKES, ids=lambda x: getattr(x, "__name__", x))
def test_plausible_mistakes_fail_with_expected_and_hint(check, fn):
    assert_fails_with_hint(check, fn)


@pytest.mark.parametrize("check", sorted({c for c, *_ in CORRECT}, key=lambda c: c.__name__))
def test_unfinished_exercise_fails_clearly(check):
    assert_unfinished_fails(check)


def test_checks_do_not_touch_the_gpu():
    """Everything a check builds lives on the CPU, so results agree on every machine."""
    seen = []

    def spy(params, amount):
        seen.extend(getattr(m, n).device.type for m, n in params)
        global_magnitude(params, amount)

    c5.check_global_magnitude(spy)
    assert set(seen) == {"cpu"}
