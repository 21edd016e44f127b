"""Measuring latency honestly: warm-up, fixed threads, CUDA sync, percentiles, a CI.

A latency figure is only worth quoting with how it was measured. :func:`measure`
runs a function ``warmup`` times untimed (caches, lazy initialisation, the allocator),
then ``repeats`` times timed with ``time.perf_counter_ns``, synchronising CUDA before
and after each call when the work runs on a GPU (kernels are asynchronous: without a
sync you time the launch, not the work). It reports the median (p50), p95, p99 and a
distribution-free 95% confidence interval of the median (from binomial order
statistics), so two methods can be compared by their intervals, not by single runs.

The same helper times one request (score all items for one user) and a batch of users.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LatencyStats", "median_ci", "summarise", "sample", "measure", "torch_threads"]


@dataclass(frozen=True)
class LatencyStats:
    """Summary of repeated timings, in milliseconds."""

    n: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    ci95_low_ms: float
    ci95_high_ms: float
    min_ms: float

    def throughput(self, items_per_call: int) -> float:
        """Items per second at the median latency."""
        return items_per_call / (self.p50_ms / 1000.0)

    def __str__(self) -> str:
        return (
            f"p50 {self.p50_ms:.3f} ms [95% CI {self.ci95_low_ms:.3f}–{self.ci95_high_ms:.3f}], "
            f"p95 {self.p95_ms:.3f} ms, p99 {self.p99_ms:.3f} ms (n={self.n})"
        )


def median_ci(samples: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median from order statistics.

    The number of samples below the true median is Binomial(n, 1/2); the interval is
    ``(x_(j), x_(k))`` with ranks from the normal approximation
    ``n/2 ± z·sqrt(n)/2`` (rounded outwards).

    Examples
    --------
    >>> median_ci(np.arange(1.0, 101.0))
    (40.0, 61.0)
    """
    x = np.sort(np.asarray(samples, dtype=float))
    n = x.size
    if n < 6:
        raise ValueError(f"samples needs at least 6 values for a median CI, got {n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    z = {0.9: 1.6449, 0.95: 1.96, 0.99: 2.5758}.get(round(confidence, 2))
    if z is None:
        raise ValueError(f"confidence must be 0.90, 0.95 or 0.99, got {confidence}")
    half = z * math.sqrt(n) / 2
    lo = max(0, math.floor(n / 2 - half) - 1)
    hi = min(n - 1, math.ceil(n / 2 + half))
    return float(x[lo]), float(x[hi])


def summarise(times_ms: np.ndarray) -> LatencyStats:
    """Percentiles and the median's 95% CI of timings in milliseconds.

    Examples
    --------
    >>> s = summarise(np.arange(1.0, 101.0))
    >>> s.p50_ms, s.p95_ms, s.ci95_low_ms, s.ci95_high_ms
    (50.5, 95.05, 40.0, 61.0)
    """
    t = np.asarray(times_ms, dtype=float)
    if t.ndim != 1 or t.size == 0 or not np.isfinite(t).all() or (t < 0).any():
        raise ValueError("times_ms must be a non-empty 1-D array of finite, non-negative values")
    lo, hi = median_ci(t)
    p50, p95, p99 = np.percentile(t, [50, 95, 99])
    return LatencyStats(
        int(t.size), float(t.mean()), float(p50), float(p95), float(p99), lo, hi, float(t.min())
    )


def _cuda_sync(device: Any) -> Callable[[], None]:
    if device is None or str(device).split(":")[0] != "cuda":
        return lambda: None
    import torch

    return lambda: torch.cuda.synchronize(device)


@contextmanager
def torch_threads(n: int | None):
    """Temporarily fix PyTorch's intra-op thread count (``None``: leave it as is)."""
    import torch

    if n is None:
        yield
        return
    if n < 1:
        raise ValueError(f"threads must be >= 1, got {n}")
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def sample(
    fn: Callable[[], Any],
    *,
    repeats: int = 200,
    warmup: int = 20,
    device: Any = None,
    threads: int | None = None,
    max_seconds: float | None = None,
) -> np.ndarray:
    """The raw timings (milliseconds) that :func:`measure` summarises, same arguments.

    Useful to pool timings from several interleaved rounds before summarising.

    Examples
    --------
    >>> sample(lambda: None, repeats=8, warmup=1).shape
    (8,)
    """
    if repeats < 6:
        raise ValueError(f"repeats must be >= 6, got {repeats}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    sync = _cuda_sync(device)
    ctx = torch_threads(threads) if threads is not None else _null()
    with ctx:
        for _ in range(warmup):
            fn()
        sync()
        times = []
        start = time.perf_counter()
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            fn()
            sync()
            times.append((time.perf_counter_ns() - t0) / 1e6)
            if max_seconds is not None and len(times) >= 6:
                if time.perf_counter() - start > max_seconds:
                    break
    return np.array(times)


def measure(
    fn: Callable[[], Any],
    *,
    repeats: int = 200,
    warmup: int = 20,
    device: Any = None,
    threads: int | None = None,
    max_seconds: float | None = None,
) -> LatencyStats:
    """Time ``fn()`` honestly and summarise.

    Parameters
    ----------
    fn : the work, a function of no arguments (wrap it: ``lambda: model(u, i)``).
    repeats : timed calls (at least 6).
    warmup : untimed calls first.
    device : where ``fn`` runs (e.g. ``torch.device("cuda")``): CUDA is synchronised
        before and after each timed call.
    threads : fix PyTorch's thread count during the measurement (``None``: as is).
    max_seconds : stop early (after at least 6 repeats) when this much time is spent.

    Returns
    -------
    :class:`LatencyStats`

    Examples
    --------
    >>> measure(lambda: sum(range(100)), repeats=20, warmup=2).n
    20
    """
    return summarise(
        sample(
            fn,
            repeats=repeats,
            warmup=warmup,
            device=device,
            threads=threads,
            max_seconds=max_seconds,
        )
    )


@contextmanager
def _null():
    yield
