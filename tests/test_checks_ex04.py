"""The graded checks of exercise 04: each passes on a correct implementation (written here
from the formulas, independently of prunerec.numpy_nn / schedules / masks), prints one
success line, stays silent when hidden, and fails on plausible mistakes with
"expected ... Hint:"."""

import numpy as np
import pytest
from check_contract import assert_fails_with_hint, assert_passes, assert_unfinished_fails

from prunerec import checks_ex04 as c4

# --------------------------------------------------------------------------- correct answers


def masked_linear_backward(x, w_orig, mask, grad_out):
    w = w_orig * mask
    return (grad_out.T @ x) * mask, grad_out.sum(axis=0), grad_out @ w


def masked_adam_step(p, g, m, v, t, mask, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g, m, v = g * mask, m * mask, v * mask
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    p = p - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return np.where(mask, p, 0.0), m, v


def cubic_sparsity(t, final, begin, end, frequency=1, initial=0.0):
    if t < begin + frequency:
        return initial
    if t >= end:
        return final
    t_u = begin + (t - begin) // frequency * frequency
    return final + (initial - final) * (1 - (t_u - begin) / (end - begin)) ** 3


def _prune_smallest(values, k):
    keep = np.ones(values.size, dtype=bool)
    keep[np.argsort(np.abs(values), kind="stable")[:k]] = False
    return keep


def iterative_round(weights, masks, per_round):
    out = {}
    for name, w in weights.items():
        keep = masks[name].copy()
        alive = w[keep]
        keep[keep] = _prune_smallest(alive, round(per_round * alive.size))
        out[name] = keep
    return out


def sensitivity_scan(evaluate_fn, weights, amounts):
    out = {}
    for name, w in weights.items():
        out[name] = []
        for amount in amounts:
            flat = w.ravel()
            keep = _prune_smallest(flat, round(amount * flat.size)).reshape(w.shape)
            trial = dict(weights)
            trial[name] = np.where(keep, w, 0.0)
            out[name].append((amount, evaluate_fn(trial)))
    return out


CORRECT = [
    (c4.check_masked_linear_backward, masked_linear_backward, "4.1 masked_linear_backward"),
    (c4.check_masked_adam_step, masked_adam_step, "4.2 masked_adam_step"),
    (c4.check_cubic_sparsity, cubic_sparsity, "4.3 cubic_sparsity"),
    (c4.check_iterative_round, iterative_round, "4.4 iterative_round"),
    (c4.check_sensitivity_scan, sensitivity_scan, "4.5 sensitivity_scan"),
]


@pytest.mark.parametrize("check,fn,label", CORRECT, ids=[c[2] for c in CORRECT])
def test_correct_implementation_passes(check, fn, label, capsys):
    assert_passes(check, fn, label, capsys)


# --------------------------------------------------------------------------- plausible mistakes


def linear_unmasked_grad(x, w_orig, mask, grad_out):
    _, db, dx = masked_linear_backward(x, w_orig, mask, grad_out)
    return grad_out.T @ x, db, dx


def linear_dx_from_orig(x, w_orig, mask, grad_out):
    dw, db, _ = masked_linear_backward(x, w_orig, mask, grad_out)
    return dw, db, grad_out @ w_orig


def linear_bias_mean(x, w_orig, mask, grad_out):
    dw, _, dx = masked_linear_backward(x, w_orig, mask, grad_out)
    return dw, grad_out.mean(axis=0), dx


def adam_state_unmasked(p, g, m, v, t, mask, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g = g * mask
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    p = p - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return np.where(mask, p, 0.0), m, v


def adam_no_bias_correction(p, g, m, v, t, mask, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g, m, v = g * mask, m * mask, v * mask
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return np.where(mask, p - lr * m / (np.sqrt(v) + eps), 0.0), m, v


def adam_pruned_weight_not_zeroed(p, g, m, v, t, mask, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    p_new, m, v = masked_adam_step(p, g, m, v, t, mask, lr, beta1, beta2, eps)
    return np.where(mask, p_new, p), m, v


def cubic_no_floor(t, final, begin, end, frequency=1, initial=0.0):
    return cubic_sparsity(t, final, begin, end, 1, initial) if t >= begin + frequency else initial


def cubic_squared(t, final, begin, end, frequency=1, initial=0.0):
    if t < begin + frequency:
        return initial
    if t >= end:
        return final
    t_u = begin + (t - begin) // frequency * frequency
    return final + (initial - final) * (1 - (t_u - begin) / (end - begin)) ** 2


def cubic_not_clamped(t, final, begin, end, frequency=1, initial=0.0):
    t_u = begin + (t - begin) // frequency * frequency
    return final + (initial - final) * (1 - (t_u - begin) / (end - begin)) ** 3


def round_counts_all_weights(weights, masks, per_round):
    out = {}
    for name, w in weights.items():
        keep = masks[name].copy()
        alive = w[keep]
        k = min(round(per_round * w.size), alive.size)
        keep[keep] = _prune_smallest(alive, k)
        out[name] = keep
    return out


def round_reprunes_zeros(weights, masks, per_round):
    out = {}
    for name, w in weights.items():
        keep = _prune_smallest(w.ravel(), round(per_round * w.size)).reshape(w.shape)
        out[name] = keep & masks[name]
    return out


def round_global_ranking(weights, masks, per_round):
    names = list(weights)
    alive = np.concatenate([weights[n][masks[n]] for n in names])
    keep_alive = _prune_smallest(alive, round(per_round * alive.size))
    out, start = {}, 0
    for n in names:
        keep = masks[n].copy()
        size = int(keep.sum())
        keep[keep] = keep_alive[start : start + size]
        start += size
        out[n] = keep
    return out


def round_in_place(weights, masks, per_round):
    for name, w in weights.items():
        keep = masks[name]
        alive = w[keep]
        keep[keep] = _prune_smallest(alive, round(per_round * alive.size))
    return masks


def scan_cumulative(evaluate_fn, weights, amounts):
    out, trial = {}, dict(weights)
    for name, w in weights.items():
        out[name] = []
        for amount in amounts:
            keep = _prune_smallest(w.ravel(), round(amount * w.size)).reshape(w.shape)
            trial[name] = np.where(keep, w, 0.0)  # never restored
            out[name].append((amount, evaluate_fn(trial)))
    return out


def scan_in_place(evaluate_fn, weights, amounts):
    out = {}
    for name, w in weights.items():
        out[name] = []
        original = w.copy()
        for amount in amounts:
            keep = _prune_smallest(original.ravel(), round(amount * w.size)).reshape(w.shape)
            w[...] = np.where(keep, original, 0.0)
            out[name].append((amount, evaluate_fn(weights)))
        # forgets to restore w
    return out


def scan_all_layers_at_once(evaluate_fn, weights, amounts):
    out = {name: [] for name in weights}
    for amount in amounts:
        trial = {
            n: np.where(_prune_smallest(w.ravel(), round(amount * w.size)).reshape(w.shape), w, 0)
            for n, w in weights.items()
        }
        for name in weights:
            out[name].append((amount, evaluate_fn(trial)))
    return out


def scan_prunes_largest(evaluate_fn, weights, amounts):
    out = {}
    for name, w in weights.items():
        out[name] = []
        for amount in amounts:
            order = np.argsort(-np.abs(w.ravel()), kind="stable")
            keep = np.ones(w.size, dtype=bool)
            keep[order[: round(amount * w.size)]] = False
            trial = dict(weights)
            trial[name] = np.where(keep.reshape(w.shape), w, 0.0)
            out[name].append((amount, evaluate_fn(trial)))
    return out


WRONG = {
    "backward: the gradient of orig is not masked": (
        c4.check_masked_linear_backward,
        linear_unmasked_grad,
    ),
    "backward: d_x uses the unpruned weight": (
        c4.check_masked_linear_backward,
        linear_dx_from_orig,
    ),
    "backward: the bias gradient is a mean": (c4.check_masked_linear_backward, linear_bias_mean),
    "adam: momentum of pruned weights kept": (c4.check_masked_adam_step, adam_state_unmasked),
    "adam: no bias correction": (c4.check_masked_adam_step, adam_no_bias_correction),
    "adam: pruned weights not set to 0": (c4.check_masked_adam_step, adam_pruned_weight_not_zeroed),
    "cubic: mask updated every step": (c4.check_cubic_sparsity, cubic_no_floor),
    "cubic: squared instead of cubed": (c4.check_cubic_sparsity, cubic_squared),
    "cubic: not clamped outside [begin, end]": (c4.check_cubic_sparsity, cubic_not_clamped),
    "round: fraction of all weights": (c4.check_iterative_round, round_counts_all_weights),
    "round: already pruned zeros are pruned again": (
        c4.check_iterative_round,
        round_reprunes_zeros,
    ),
    "round: one ranking over all layers": (c4.check_iterative_round, round_global_ranking),
    "round: masks changed in place": (c4.check_iterative_round, round_in_place),
    "scan: layers never restored": (c4.check_sensitivity_scan, scan_cumulative),
    "scan: weights pruned in place": (c4.check_sensitivity_scan, scan_in_place),
    "scan: all layers pruned together": (c4.check_sensitivity_scan, scan_all_layers_at_once),
    "scan: the largest weights pruned": (c4.check_sensitivity_scan, scan_prunes_largest),
}


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_mistake_fails_with_expected_and_hint(mistake, capsys):
    check, fn = WRONG[mistake]
    assert_fails_with_hint(check, fn)
    assert capsys.readouterr().out == ""  # no success line was printed
    with pytest.raises(AssertionError):
        check(fn, hidden=True)


@pytest.mark.parametrize("check,fn,label", CORRECT, ids=[c[2] for c in CORRECT])
def test_unfinished_exercise_fails_clearly(check, fn, label):
    assert_unfinished_fails(check)


@pytest.mark.parametrize("check,fn,label", CORRECT, ids=[c[2] for c in CORRECT])
def test_wrong_return_type_fails_without_crashing(check, fn, label):
    with pytest.raises(AssertionError, match="Hint:"):
        check(lambda *args, **kwargs: None)


def test_the_adam_check_catches_a_pruned_weight_that_moves_again():
    """The reason masks must reach the optimiser state: with momentum left on a pruned
    weight, two steps with zero gradient move it away from 0."""
    p, m, v = np.array([0.0]), np.array([0.5]), np.array([0.1])
    mask, g = np.array([True]), np.zeros(1)
    p_bad, _, _ = adam_state_unmasked(p, g, m, v, 2, mask, lr=0.1)
    assert p_bad[0] != 0.0  # unmasked momentum moves a weight (here kept: the mask is True)
    p_ok, m_ok, _ = masked_adam_step(p, g, m, v, 2, ~mask, lr=0.1)
    assert p_ok[0] == 0.0 and m_ok[0] == 0.0
