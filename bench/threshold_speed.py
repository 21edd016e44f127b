"""How fast is a magnitude mask for a target sparsity? prunerec vs a full sort vs torch.

Times the computation of an exact-count magnitude mask (50% sparsity) on 1M, 10M and
100M float32 weights, in one run, three ways:

- ``prunerec``: ``prunerec.masks.magnitude_mask`` (input validation + ``np.partition``, O(n));
- ``full_sort``: the textbook baseline, ``np.argsort`` of all magnitudes (O(n log n));
- ``torch``: ``torch.nn.utils.prune.l1_unstructured`` on a Linear-sized parameter
  (``torch.topk`` over all magnitudes), the PyTorch way.

Each is timed as the median of several repeats after one warm-up; the ratios to torch
are what to read (the machines are noisy). Writes ``results/threshold_speed.json``.

    .venv/bin/python bench/threshold_speed.py [--sizes 1e6 1e7 1e8] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils import prune

from prunerec.masks import magnitude_mask

RESULTS = Path(__file__).resolve().parents[1] / "results"


def full_sort_mask(w: np.ndarray, amount: float) -> np.ndarray:
    """The baseline: sort every magnitude (stable, so the same tie rule as prunerec)."""
    flat = np.abs(w).ravel()
    k = round(amount * flat.size)
    keep = np.ones(flat.size, dtype=bool)
    keep[np.argsort(flat, kind="stable")[:k]] = False
    return keep.reshape(w.shape)


def torch_mask(module: torch.nn.Module, amount: float) -> torch.Tensor:
    prune.l1_unstructured(module, "weight", amount=amount)
    mask = module.weight_mask
    prune.remove(module, "weight")  # undo, so the next repeat starts from a dense layer
    return mask


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7, 1e8])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--amount", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=RESULTS / "threshold_speed.json")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    rows = []
    for size in map(int, args.sizes):
        cols = 1000
        w = rng.standard_normal((size // cols, cols), dtype=np.float32)
        layer = torch.nn.Linear(cols, size // cols, bias=False)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(w))
        # the three must agree on how many weights they prune
        k = round(args.amount * w.size)
        assert int((~magnitude_mask(w, args.amount)).sum()) == k
        assert int((~full_sort_mask(w, args.amount)).sum()) == k
        assert int((torch_mask(layer, args.amount) == 0).sum()) == k
        repeats = args.repeats if size <= 10_000_000 else max(3, args.repeats // 2)
        t = {
            "prunerec": median_time(lambda w=w: magnitude_mask(w, args.amount), repeats),
            "full_sort": median_time(lambda w=w: full_sort_mask(w, args.amount), repeats),
            "torch": median_time(lambda m=layer: torch_mask(m, args.amount), repeats),
        }
        row = {
            "weights": size,
            "repeats": repeats,
            "seconds": t,
            "speedup_vs_torch": {name: t["torch"] / v for name, v in t.items()},
        }
        rows.append(row)
        print(
            f"{size:>11,} weights: prunerec {t['prunerec']:.4f}s  full sort {t['full_sort']:.4f}s"
            f"  torch {t['torch']:.4f}s  -> prunerec is {t['torch'] / t['prunerec']:.2f}x torch"
        )
        del w, layer

    report = {
        "benchmark": "magnitude mask for a target sparsity (exact count)",
        "amount": args.amount,
        "machine": {
            "platform": platform.platform(),
            "processor": cpu_model(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "load_average_after": os.getloadavg(),
        },
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"wrote {args.out.relative_to(Path.cwd()) if args.out.is_relative_to(Path.cwd()) else args.out}"
    )


if __name__ == "__main__":
    main()
