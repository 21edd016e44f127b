"""Pruning NeuMF on MovieLens-100K: the trade-off curves of chapter 05, over several seeds.

For every seed: a leave-one-out split (seeded tie-breaks and candidates), ItemPop, a dense
NeuMF trained with early stopping, then copies of it pruned to each target sparsity by

- ``magnitude``  global magnitude pruning, one-shot, then fine-tuning;
- ``gradual``    gradual magnitude pruning (cubic schedule, Zhu & Gupta 2017), then fine-tuning;
- ``random``     as many weights removed at random, then fine-tuning (the baseline);
- ``structured`` embedding dimensions and MLP neurons removed physically, then fine-tuning;
- ``scratch``    the structured architecture trained from scratch (Liu et al. 2019);

plus the ``dense`` control: the dense model fine-tuned with the same budget (0% sparsity).
All the logic lives in :mod:`prunerec.experiments`, shared with the chapter.

Writes ``results/case_study.json`` (every row, mean ± std per method and sparsity, the
points in the format of ``prunerec.widgets.tradeoff_explorer`` under ``"tradeoff"``, the
goals, the machine) and ``results/case_study.png``.

    .venv/bin/python bench/case_study.py [--seeds 0 1 2] [--threads 1] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from prunerec import data, experiments
from prunerec.env import seed_everything
from prunerec.models import pick_device
from prunerec.training import evaluate

RESULTS = Path(__file__).resolve().parents[1] / "results"
TARGETS = (0.5, 0.75, 0.875, 0.9, 0.9375, 0.96875)
METHODS = ("magnitude", "gradual", "random", "structured", "scratch")


def machine(device: torch.device) -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device)
        + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
    }


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every platform
        return None


def point(summary: list[dict], method: str, target: float) -> dict:
    (entry,) = [s for s in summary if s["method"] == method and s["target"] == target]
    return entry


def goals(summary: list[dict], dense: dict, itempop: dict, targets: list[float]) -> dict:
    """The course's targets, each with the measured values and whether it was met."""
    d = dense["hr_mean"]
    at90 = {m: point(summary, m, 0.9)["hr_mean"] for m in METHODS if 0.9 in targets}
    out = {
        "dense_hr_at_least_0.65": {"value": d, "met": d >= 0.65},
        "dense_above_itempop_plus_0.2": {
            "value": d - itempop["hr_mean"],
            "met": d >= itempop["hr_mean"] + 0.2,
        },
    }
    if at90:
        out["hr_at_90pct_at_least_95pct_of_dense"] = {
            "ratio_by_method": {m: v / d for m, v in at90.items()},
            "met_by": sorted(m for m, v in at90.items() if v >= 0.95 * d),
        }
    high = [t for t in targets if t >= 0.5]
    above = {
        t: point(summary, "magnitude", t)["hr_mean"] > point(summary, "random", t)["hr_mean"]
        for t in high
    }
    out["magnitude_above_random_at_every_sparsity_from_50pct"] = {
        "by_target": {str(t): v for t, v in above.items()},
        "met": all(above.values()),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--targets", type=float, nargs="+", default=list(TARGETS))
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--threads", type=int, default=1, help="torch threads (CPU)")
    p.add_argument("--device", default=None, help="default: cuda, then mps, then cpu")
    p.add_argument("--out", type=Path, default=RESULTS / "case_study.json")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    recipe = experiments.Recipe()
    inter = data.load_movielens()
    start, load_start = time.perf_counter(), load_average()
    rows, dense_rows, pop_rows = [], [], []
    split = None
    for seed in args.seeds:
        seed_everything(seed)
        t0 = time.perf_counter()
        split = data.leave_one_out(inter, seed=seed)
        pop = experiments.itempop_metrics(split)
        pop_rows.append({"seed": seed, **pop})
        dense, history = experiments.train_dense(
            split, recipe, seed=seed, device=device, progress=args.progress
        )
        test = evaluate(dense, split, "test")
        dense_rows.append(
            {"seed": seed, **test, "epochs": history.epochs, "best_epoch": history.best_epoch}
        )
        print(
            f"seed {seed}: ItemPop HR@10 {pop['hr']:.4f}, dense HR@10 {test['hr']:.4f} "
            f"(best epoch {history.best_epoch})",
            flush=True,
        )
        seed_rows = experiments.run_curve(
            dense,
            split,
            args.methods,
            args.targets,
            recipe,
            seed=seed,
            device=device,
            progress=args.progress,
        )
        for row in seed_rows:
            print(
                f"  {row['method']:<10} {row['target']:.5f}: sparsity {row['sparsity']:.4f} "
                f"HR@10 {row['hr']:.4f} NDCG@10 {row['ndcg']:.4f} ({row['epochs']} epochs)",
                flush=True,
            )
        rows += seed_rows
        print(f"seed {seed} took {time.perf_counter() - t0:.0f} s", flush=True)

    summary = experiments.summarise(rows)
    dense_summary = experiments.summarise(
        [{"method": "dense", "target": 0.0, **r} for r in dense_rows]
    )[0]
    pop_summary = experiments.summarise(
        [{"method": "itempop", "target": 0.0, **r} for r in pop_rows]
    )[0]
    result = {
        "description": (
            "NeuMF on MovieLens-100K (leave-one-out, 99 sampled negatives, test HR@10 and "
            "NDCG@10, ties pessimistic). Sparsity is over the embedding and hidden-MLP "
            "weights. Each method prunes a copy of the seed's dense model, then fine-tunes it "
            "(early stopping on the validation item); 'dense' at 0% is the dense model "
            "fine-tuned the same way; 'scratch' trains the structured architecture from "
            "scratch. Means and sample standard deviations over seeds; each seed has its own "
            "split, initialisation and training randomness."
        ),
        "machine": machine(device),
        "load_average": {"start": load_start, "end": load_average()},
        "seconds": round(time.perf_counter() - start, 1),
        "recipe": recipe.to_dict(),
        "seeds": args.seeds,
        "targets": args.targets,
        "methods": args.methods,
        "data": {
            "name": inter.name,
            "users": split.n_users,
            "items": split.n_items,
            "train_positives": int(split.train_items.size),
            "negatives_per_test_item": split.n_negatives,
        },
        "itempop": {"per_seed": pop_rows, **pop_summary},
        "dense": {"per_seed": dense_rows, **dense_summary},
        "rows": rows,
        "summary": summary,
        "tradeoff": experiments.tradeoff_results(summary),
    }
    if set(METHODS) <= set(args.methods):
        result["goals"] = goals(summary, dense_summary, pop_summary, args.targets)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, allow_nan=False) + "\n", encoding="utf-8")

    fig = experiments.plot_curves(result)
    fig.savefig(args.out.with_suffix(".png"), dpi=100)
    print(experiments.summary_table(result))
    if "goals" in result:
        print(json.dumps(result["goals"], indent=1))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')} in {result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
