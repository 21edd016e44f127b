"""Interactive explorers for the chapters (ipywidgets + matplotlib).

Each explorer is a thin widget around a pure function that does the work, so the
function is unit-tested without a browser:

=====================  ============================  ===========================
explorer               pure function                 chapter
=====================  ============================  ===========================
:func:`threshold_explorer`  :func:`threshold_view`   03 — θ or target sparsity over real weights
:func:`schedule_explorer`   :func:`schedule_curves`  04 — one-shot / iterative / linear / cubic
:func:`tradeoff_explorer`   :func:`tradeoff_point`   05 — HR@10, NDCG@10, size from results
=====================  ============================  ===========================

In a notebook: ``threshold_explorer(weights)`` returns the widget; display it as the
cell's last expression. Under nbval the output of these cells is not compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from prunerec import masks, schedules

__all__ = [
    "ThresholdView",
    "threshold_view",
    "threshold_explorer",
    "schedule_curves",
    "schedule_explorer",
    "tradeoff_point",
    "tradeoff_explorer",
]

# --------------------------------------------------------------------------- threshold (ch 03)


@dataclass(frozen=True)
class ThresholdView:
    """What the threshold explorer draws: θ, the mask and the pruned share."""

    theta: float
    mask: NDArray[np.bool_]
    pruned: int
    size: int

    @property
    def sparsity(self) -> float:
        return self.pruned / self.size

    def caption(self) -> str:
        return (
            f"θ = {self.theta:.4g}: {self.pruned:,} of {self.size:,} weights pruned "
            f"(sparsity {self.sparsity:.1%})"
        )


def threshold_view(
    weights: ArrayLike, *, theta: float | None = None, amount: float | None = None
) -> ThresholdView:
    """The mask for a threshold ``theta`` (prune ``|w| <= θ``) or for a target sparsity
    ``amount`` (exact count, via :func:`prunerec.masks.magnitude_mask`). Give exactly one.

    Examples
    --------
    >>> threshold_view([0.1, -2.0, 0.5, 3.0], theta=0.5).caption()
    'θ = 0.5: 2 of 4 weights pruned (sparsity 50.0%)'
    >>> threshold_view([0.1, -2.0, 0.5, 3.0], amount=0.25).pruned
    1
    """
    if (theta is None) == (amount is None):
        raise ValueError("give exactly one of theta and amount")
    if theta is not None:
        mask = masks.magnitude_mask_threshold(weights, theta)
        t = float(theta)
    else:
        mask = masks.magnitude_mask(weights, amount)
        t = masks.threshold_for_sparsity(weights, amount)
    return ThresholdView(t, mask, int(mask.size - mask.sum()), int(mask.size))


def _draw_threshold(w: NDArray, view: ThresholdView, bins: int, heat_shape: tuple[int, int]):
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2), dpi=80)
    ax1.hist(np.abs(w).ravel(), bins=bins, color="0.6")
    if np.isfinite(view.theta):
        ax1.axvline(view.theta, color="crimson", lw=2, label="θ")
        ax1.legend()
    ax1.set(xlabel="|w|", ylabel="count", title=view.caption())
    r, c = heat_shape
    ax2.imshow(view.mask.reshape(-1)[: r * c].reshape(r, c), cmap="Greys", vmin=0, vmax=1)
    ax2.set(title=f"mask (first {r}×{c} weights; black = kept)", xticks=[], yticks=[])
    fig.tight_layout()
    return fig


def threshold_explorer(weights: ArrayLike, bins: int = 60):
    """A slider over target sparsity (or θ) redrawing the |w| histogram with the cut,
    the mask heatmap and the sparsity. Returns an ipywidgets container."""
    import ipywidgets as W
    import matplotlib.pyplot as plt
    from IPython.display import display

    w = masks._check_weights(weights)
    n = w.size
    side = int(np.sqrt(min(n, 64 * 64)))
    mode = W.ToggleButtons(options=["target sparsity", "threshold θ"], value="target sparsity")
    amount = W.FloatSlider(value=0.5, min=0, max=0.99, step=0.01, description="sparsity")
    theta = W.FloatSlider(
        value=float(np.median(np.abs(w))),
        min=0.0,
        max=float(np.abs(w).max()),
        step=float(np.abs(w).max()) / 200,
        description="θ",
        readout_format=".3g",
    )
    out = W.Output()

    def redraw(*_):
        view = (
            threshold_view(w, amount=amount.value)
            if mode.value == "target sparsity"
            else threshold_view(w, theta=theta.value)
        )
        with out:
            out.clear_output(wait=True)
            fig = _draw_threshold(w, view, bins, (side, side))
            display(fig)
            plt.close(fig)

    for widget in (mode, amount, theta):
        widget.observe(redraw, names="value")
    redraw()
    return W.VBox([mode, W.HBox([amount, theta]), out])


# --------------------------------------------------------------------------- schedules (ch 04)


def schedule_curves(
    final: float, begin: int, end: int, steps: int, *, frequency: int = 1, rounds: int = 4
) -> dict[str, list[tuple[int, float]]]:
    """Target sparsity at every step 0..steps under four schedules that all reach
    ``final``: one-shot at ``end``, iterative (``rounds`` equal rounds spread over
    begin..end), linear and cubic (Zhu & Gupta 2017) from ``begin`` to ``end``.

    Examples
    --------
    >>> c = schedule_curves(0.8, begin=0, end=10, steps=10, rounds=5)
    >>> [round(c[k][-1][1], 6) for k in ("one-shot", "iterative", "linear", "cubic")]
    [0.8, 0.8, 0.8, 0.8]
    >>> round(c["cubic"][5][1], 4)  # halfway: s_f (1 - (1/2)^3)
    0.7
    """
    if not (0 <= begin < end <= steps):
        raise ValueError(
            f"need 0 <= begin < end <= steps, got begin={begin}, end={end}, steps={steps}"
        )
    if rounds < 1 or (end - begin) % rounds:
        raise ValueError(
            f"rounds must be >= 1 and divide end - begin = {end - begin}, got {rounds}"
        )
    per_round = schedules.per_round_for(final, rounds)
    span = (end - begin) // rounds

    def iterative_at(t: int) -> float:
        done = 0 if t < begin else min(rounds, (t - begin) // span)
        return schedules.iterative(done, per_round=per_round, rounds=rounds)

    curves = {
        "one-shot": lambda t: schedules.one_shot(t, final=final, at=end),
        "iterative": iterative_at,
        "linear": lambda t: schedules.linear(t, final=final, begin=begin, end=end),
        "cubic": lambda t: schedules.cubic(
            t, final=final, begin=begin, end=end, frequency=frequency
        ),
    }
    return {name: [(t, float(fn(t))) for t in range(steps + 1)] for name, fn in curves.items()}


def schedule_explorer(steps: int = 100):
    """Sliders for final sparsity, begin, end and update frequency, drawing the four
    schedules of :func:`schedule_curves`. Returns an ipywidgets container."""
    import ipywidgets as W
    import matplotlib.pyplot as plt
    from IPython.display import display

    final = W.FloatSlider(value=0.9, min=0.05, max=0.99, step=0.01, description="final")
    begin = W.IntSlider(value=10, min=0, max=steps - 10, description="begin")
    end = W.IntSlider(value=70, min=10, max=steps, description="end")
    rounds = W.IntSlider(value=4, min=1, max=10, description="rounds")
    out = W.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            span = end.value - begin.value
            if span <= 0 or span % rounds.value:
                print(f"need begin < end and rounds dividing end - begin ({span})")
                return
            curves = schedule_curves(
                final.value, begin.value, end.value, steps, rounds=rounds.value
            )
            fig, ax = plt.subplots(figsize=(7, 3.2), dpi=80)
            for name, pts in curves.items():
                ax.step(*zip(*pts, strict=True), where="post", label=name)
            ax.set(xlabel="training step", ylabel="target sparsity", ylim=(0, 1))
            ax.legend()
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    for widget in (final, begin, end, rounds):
        widget.observe(redraw, names="value")
    redraw()
    return W.VBox([W.HBox([final, rounds]), W.HBox([begin, end]), out])


# --------------------------------------------------------------------------- trade-off (ch 05)


def tradeoff_point(
    results: Mapping[str, Sequence[Mapping[str, float]]], method: str, sparsity: float
) -> dict[str, float]:
    """The measured point of ``method`` closest to ``sparsity`` in precomputed results.

    ``results`` maps a method name to a list of points, each a dict with at least
    ``sparsity`` and metric keys such as ``hr``, ``ndcg``, ``bytes`` (as written by
    ``bench/case_study.py``). Nothing is interpolated: the nearest measured point is
    returned, with its own sparsity.

    Examples
    --------
    >>> res = {"magnitude": [{"sparsity": 0.0, "hr": 0.7}, {"sparsity": 0.9, "hr": 0.6}]}
    >>> tradeoff_point(res, "magnitude", 0.8)
    {'sparsity': 0.9, 'hr': 0.6}
    """
    if method not in results:
        raise ValueError(f"method {method!r} not in results; choose from {sorted(results)}")
    points = results[method]
    if not points:
        raise ValueError(f"results[{method!r}] has no measured point")
    best = min(points, key=lambda p: abs(p["sparsity"] - sparsity))
    return dict(best)


def tradeoff_explorer(results: Mapping[str, Sequence[Mapping[str, float]]]):
    """Pick a method and a sparsity; see the measured HR@10, NDCG@10 and size, and where
    the point sits on every method's curve. Returns an ipywidgets container."""
    import ipywidgets as W
    import matplotlib.pyplot as plt
    from IPython.display import display

    method = W.Dropdown(options=sorted(results), description="method")
    sparsity = W.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="sparsity")
    info = W.HTML()
    out = W.Output()

    def redraw(*_):
        p = tradeoff_point(results, method.value, sparsity.value)
        shown = ", ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
            for k, v in p.items()
            if k != "sparsity"
        )
        info.value = f"<b>{method.value}</b> at measured sparsity {p['sparsity']:.1%}: {shown}"
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(7, 3.2), dpi=80)
            for name, pts in results.items():
                xs = [q["sparsity"] for q in pts]
                ax.plot(xs, [q.get("hr", np.nan) for q in pts], "o-", label=name)
            ax.plot([p["sparsity"]], [p.get("hr", np.nan)], "k*", ms=14)
            ax.set(xlabel="sparsity", ylabel="HR@10")
            ax.legend()
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    method.observe(redraw, names="value")
    sparsity.observe(redraw, names="value")
    redraw()
    return W.VBox([W.HBox([method, sparsity]), info, out])
