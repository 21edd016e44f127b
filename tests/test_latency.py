"""prunerec.latency: percentiles, the median's CI, and the measuring loop."""

import time

import numpy as np
import pytest
import torch

from prunerec import latency as L


def test_summarise_known_values():
    s = L.summarise(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]))
    assert s.n == 10 and s.p50_ms == 5.5 and s.min_ms == 1.0 and s.mean_ms == 5.5
    assert s.ci95_low_ms <= 5.5 <= s.ci95_high_ms
    assert s.throughput(100) == pytest.approx(100 / 0.0055)


def test_median_ci_covers_the_true_median_about_95_percent():
    rng = np.random.default_rng(0)
    hits = sum(
        lo <= np.log(2) <= hi
        for lo, hi in (L.median_ci(rng.exponential(size=60)) for _ in range(1000))
    )
    assert 0.93 <= hits / 1000 <= 0.995


def test_measure_sees_the_work_and_respects_repeats():
    fast = L.measure(lambda: None, repeats=10, warmup=1)
    slow = L.measure(lambda: time.sleep(0.002), repeats=10, warmup=1)
    assert fast.n == slow.n == 10
    assert slow.p50_ms >= 2.0 > fast.p50_ms


def test_measure_stops_at_max_seconds():
    s = L.measure(lambda: time.sleep(0.01), repeats=1000, warmup=0, max_seconds=0.1)
    assert 6 <= s.n < 1000


def test_threads_fixed_then_restored():
    before = torch.get_num_threads()
    seen = []
    L.measure(lambda: seen.append(torch.get_num_threads()), repeats=6, warmup=0, threads=1)
    assert set(seen) == {1} and torch.get_num_threads() == before


@pytest.mark.parametrize(
    "kwargs, words",
    [({"repeats": 3}, "repeats"), ({"warmup": -1}, "warmup"), ({"threads": 0}, "threads")],
)
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        L.measure(lambda: None, **kwargs)


def test_bad_samples():
    with pytest.raises(ValueError, match="at least 6"):
        L.median_ci(np.ones(3))
    with pytest.raises(ValueError, match="times_ms"):
        L.summarise(np.array([1.0, np.nan]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_sync_times_the_work_not_the_launch():
    x = torch.randn(4096, 4096, device="cuda")
    s = L.measure(lambda: x @ x, repeats=10, warmup=2, device=x.device)
    assert s.p50_ms > 0.1  # a 4096^3 matmul takes far longer than a kernel launch
