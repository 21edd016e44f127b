"""What pruning buys in serving: bytes per format and latency, for chapter 05's NeuMF.

Trains the case-study NeuMF on MovieLens-100K briefly (sizes and speed do not depend on how
well it ranks), then measures, in one run:

- **bytes** of the model pruned (global magnitude, exact count) to 0-99% sparsity, in every
  format of ``prunerec.storage`` (measured files and formulas) and as ``torch.save`` writes it
  (masked, permanent, torch CSR);
- **latency** of scoring all 1,682 items for 1 user and for 16 users: dense, masked, dense
  permanent, CSR tower, CSR everything (all at 90% sparsity) and the structured model with
  half the embedding dimensions and MLP widths, interleaved, torch fixed to one thread;
- the **CSR crossover**: one 64x64 layer (1 and 16 users' rows) and the whole model;
- where the time goes (stages of the forward pass);
- 2:4 semi-structured sparsity when an Ampere-or-newer GPU is present.

All logic lives in ``prunerec.serving`` (shared with chapter 06); this script chooses the
repeats, checks the course's goals and writes ``results/serving.json`` and
``results/serving.png``. Latencies are compared as ratios measured in the same run; the load
average is recorded next to each measurement.

    .venv/bin/python bench/serving.py [--epochs 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from prunerec import serving, storage  # noqa: E402
from prunerec.data import leave_one_out, load_movielens  # noqa: E402
from prunerec.models import count_parameters, state_dict_bytes  # noqa: E402
from prunerec.training import evaluate  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results"
SPARSITIES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
SWEEP = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99)
MODEL_SWEEP = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
THREADS = 1
GOALS = {"bytes_90": 5.0, "structured_throughput": 1.5, "structured_state_dict": 1.9}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def sweep_json(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        row = {k: v for k, v in r.items() if k not in ("dense", "csr")}
        row["dense"], row["csr"] = serving.stats_dict(r["dense"]), serving.stats_dict(r["csr"])
        row["speedup"] = round(r["speedup"], 3)
        out.append(row)
    return out


def crossover(rows: list[dict]) -> float | None:
    return serving.crossover_sparsity(
        [r["sparsity"] for r in rows],
        [r["dense"].p50_ms for r in rows],
        [r["csr"].p50_ms for r in rows],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS / "serving.json")
    args = parser.parse_args()
    scale = 0.3 if args.quick else 1.0

    def reps(n: int) -> int:
        return max(6, round(n * scale))

    started = time.time()
    report: dict = {
        "benchmark": "serving a pruned NeuMF (MovieLens-100K): bytes per format and latency",
        "machine": {**serving.machine_info(), "measurement_threads": THREADS},
        "model": {**serving.CASE_STUDY, "epochs": args.epochs},
    }
    print("machine:", report["machine"])

    split = leave_one_out(load_movielens(), seed=0)
    model, history = serving.train_case_study(split, epochs=args.epochs, progress=False)
    report["model"]["val_hr10"] = round(history.best_val_hr, 4)
    report["model"]["parameters"] = count_parameters(model)
    print(f"trained {args.epochs} epochs, val HR@10 {history.best_val_hr:.3f}")

    # ------------------------------------------------------------------ bytes
    rows = serving.bytes_sweep(model, SPARSITIES)
    dense_bytes = rows[0]["measured"]["dense"]
    at90 = next(r for r in rows if r["sparsity"] == 0.9)
    plain = {f: at90["measured"][f] for f in storage.FORMATS}
    best_plain, best_any = serving.best_format(plain), serving.best_format(at90["measured"])
    report["bytes"] = {
        "rows": rows,
        "at_90": {
            "x_smaller_than_dense": {
                f: round(dense_bytes / b, 2) for f, b in at90["measured"].items()
            },
            "torch_save_vs_dense": {
                k: round(v / at90["torch_save"]["dense (made permanent)"], 3)
                for k, v in at90["torch_save"].items()
            },
            "best_uncompressed": best_plain,
            "best_overall": best_any,
        },
        "smallest_uncompressed_by_sparsity": {
            f"{r['sparsity']:.2f}": serving.best_format(
                {f: r["measured"][f] for f in storage.FORMATS}
            )
            for r in rows
        },
    }
    print(
        f"bytes at 90%: best uncompressed {best_plain} "
        f"{dense_bytes / plain[best_plain]:.2f}x, best overall {best_any} "
        f"{dense_bytes / at90['measured'][best_any]:.2f}x smaller than dense"
    )

    # ------------------------------------------------------------------ latency
    models = serving.contenders(model, sparsity=0.9)
    shrunk = models["shrunk (dims, width / 2)"]
    with torch.no_grad():
        quality = {
            name: round(evaluate(models[name], split, "test")["hr"], 4)
            for name in ("dense", "masked (torch prune)", "shrunk (dims, width / 2)")
        }
    latency = {}
    for n_users, rounds, repeats in ((1, 5, reps(40)), (16, 5, reps(12))):
        before = load()
        stats = serving.compare_latency(
            {name: serving.score_all_call(m, n_users) for name, m in models.items()},
            rounds=rounds,
            repeats=repeats,
            threads=THREADS,
        )
        base = stats["dense"].p50_ms
        latency[f"{n_users}_users"] = {
            "load_average_before": before,
            "load_average_after": load(),
            "contenders": {
                name: {
                    **serving.stats_dict(s),
                    "speedup_vs_dense_p50": round(base / s.p50_ms, 3),
                    "items_per_second": round(s.throughput(n_users * model.n_items)),
                }
                for name, s in stats.items()
            },
        }
        print(
            f"{n_users} user(s):",
            {k: f"{v.p50_ms:.3f}/{v.p95_ms:.3f} ms" for k, v in stats.items()},
            "load",
            load(),
        )
    report["latency"] = latency
    report["quality_test_hr10_no_finetuning"] = quality

    # ------------------------------------------------------------------ structured goals
    sd_ratio = state_dict_bytes(model) / state_dict_bytes(shrunk)
    thr = {
        k: v["contenders"]["shrunk (dims, width / 2)"]["speedup_vs_dense_p50"]
        for k, v in latency.items()
    }
    report["structured"] = {
        "config": {k: v for k, v in shrunk.config().items() if k not in ("n_users", "n_items")},
        "parameters_ratio": round(count_parameters(model) / count_parameters(shrunk), 3),
        "state_dict_bytes": {"dense": state_dict_bytes(model), "shrunk": state_dict_bytes(shrunk)},
        "state_dict_ratio": round(sd_ratio, 3),
        "throughput_ratio": thr,
    }

    # ------------------------------------------------------------------ CSR crossover
    sweeps = {
        "64x64 layer, 1 user (1,682 rows)": serving.csr_layer_sweep(
            64, 64, model.n_items, SWEEP, rounds=3, repeats=reps(20), threads=THREADS
        ),
        "64x64 layer, 16 users (26,912 rows)": serving.csr_layer_sweep(
            64, 64, 16 * model.n_items, SWEEP, rounds=3, repeats=reps(10), threads=THREADS
        ),
        "whole model, 1 user": serving.csr_model_sweep(
            model, MODEL_SWEEP, n_users=1, rounds=3, repeats=reps(20), threads=THREADS
        ),
        "whole model, 16 users": serving.csr_model_sweep(
            model, MODEL_SWEEP, n_users=16, rounds=3, repeats=reps(8), threads=THREADS
        ),
    }
    report["csr_crossover"] = {
        label: {"crossover_sparsity": crossover(r), "rows": sweep_json(r)}
        for label, r in sweeps.items()
    }
    print(
        "CSR crossover:", {k: v["crossover_sparsity"] for k, v in report["csr_crossover"].items()}
    )

    # ------------------------------------------------------------------ breakdown
    breakdowns = {
        "1 user": serving.forward_breakdown(model, 1, rounds=3, repeats=reps(20), threads=THREADS),
        "16 users": serving.forward_breakdown(
            model, 16, rounds=3, repeats=reps(8), threads=THREADS
        ),
    }
    report["breakdown"] = {
        label: {
            "p50_ms": {k: round(s.p50_ms, 4) for k, s in b.items()},
            "shares": {k: round(v, 3) for k, v in serving.breakdown_shares(b).items()},
            "load_average": load(),
        }
        for label, b in breakdowns.items()
    }

    # ------------------------------------------------------------------ 2:4
    reason = serving.semi_structured_support()
    if reason is None:
        rows24 = serving.semi_structured_sweep()
        report["semi_structured_2_4"] = [
            {
                k: (serving.stats_dict(v) if isinstance(v, serving.latency.LatencyStats) else v)
                for k, v in r.items()
            }
            for r in rows24
        ]
    else:
        report["semi_structured_2_4"] = {"skipped": reason}

    # ------------------------------------------------------------------ goals
    bytes_ratio = dense_bytes / min(at90["measured"].values())
    report["goals"] = {
        "bytes_90_best_format_x_smaller": {
            "value": round(bytes_ratio, 2),
            "format": best_any,
            "goal": GOALS["bytes_90"],
            "met": bytes_ratio >= GOALS["bytes_90"],
            "best_uncompressed": {
                "value": round(dense_bytes / plain[best_plain], 2),
                "format": best_plain,
                "met": dense_bytes / plain[best_plain] >= GOALS["bytes_90"],
            },
        },
        "structured_throughput_all_items": {
            "value": thr,
            "goal": GOALS["structured_throughput"],
            "met": {k: v >= GOALS["structured_throughput"] for k, v in thr.items()},
        },
        "structured_state_dict_x_smaller": {
            "value": round(sd_ratio, 3),
            "goal": GOALS["structured_state_dict"],
            "met": sd_ratio >= GOALS["structured_state_dict"],
        },
    }
    report["machine"]["load_average_end"] = load()
    report["seconds"] = round(time.time() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print("goals:", json.dumps(report["goals"]))

    # ------------------------------------------------------------------ figure
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5), dpi=80)
    serving.plot_bytes(axes[0, 0], rows)
    one = {
        name: serving.latency.LatencyStats(
            **{k: v for k, v in d.items() if k in serving.latency.LatencyStats.__annotations__}
        )
        for name, d in latency["1_users"]["contenders"].items()
    }
    serving.plot_latency(
        axes[0, 1],
        one,
        title=f"score all 1,682 items, 1 user (load {latency['1_users']['load_average_after'][0]})",
    )
    serving.plot_speedup(axes[1, 0], sweeps)
    serving.plot_breakdown(axes[1, 1], breakdowns)
    fig.suptitle(
        f"prunerec serving benchmark — {report['machine']['processor']}, "
        f"{report['machine']['cpu_count']} CPUs, torch threads {THREADS}"
    )
    fig.tight_layout()
    png = args.out.with_suffix(".png")
    fig.savefig(png)
    for path in (args.out, png):
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        print(f"wrote {shown}")


if __name__ == "__main__":
    main()
