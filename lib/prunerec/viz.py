"""Plots shared by the chapters: masks as heatmaps, weight histograms with a threshold,
and a box-and-arrow flow diagram.

Every function draws with matplotlib (imported lazily, so importing this module is cheap),
returns the figure or axes it drew on, and never calls ``plt.show()``: in a notebook the
figure appears at the end of the cell. Figures are small (``dpi=80``) so that stored
notebooks stay small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["mask_heatmaps", "threshold_histogram", "flow_diagram"]

DPI = 80


def _plt() -> Any:
    import matplotlib.pyplot as plt

    return plt


def mask_heatmaps(
    panels: Sequence[tuple[str, ArrayLike, ArrayLike | None]],
    ncols: int = 4,
    size: float = 2.6,
    annotate: bool = False,
    vmax: float | None = None,
) -> Any:
    """One heatmap per panel: the values, with pruned entries drawn in light grey.

    Parameters
    ----------
    panels : ``(title, values, keep)`` triples. ``values`` is a 2-D array; ``keep`` a
        boolean mask of the same shape (``True`` = kept) or ``None``, in which case the
        exact zeros of ``values`` count as pruned. The panel title gets the sparsity.
    ncols : panels per row.
    size : width and height of one panel, in inches.
    annotate : write every value in its cell (for small matrices).
    vmax : the colour scale is ``[-vmax, vmax]``, shared by all panels (default: the
        largest magnitude over all panels).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = mask_heatmaps([("dense", np.eye(2), None), ("pruned", np.eye(2), np.eye(2) > 0)])
    >>> [ax.get_title().splitlines()[1] for ax in fig.axes[:2]]
    ['sparsity 50.0%', 'sparsity 50.0%']
    """
    plt = _plt()
    if not panels:
        raise ValueError("panels is empty: give at least one (title, values, keep) triple")
    prepared = []
    for title, values, keep in panels:
        v = np.asarray(values, dtype=float)
        if v.ndim != 2:
            raise ValueError(f"panel {title!r}: values must be 2-D, got shape {v.shape}")
        k = v != 0 if keep is None else np.asarray(keep, dtype=bool)
        if k.shape != v.shape:
            raise ValueError(f"panel {title!r}: keep has shape {k.shape}, values {v.shape}")
        prepared.append((title, v, k))
    top = vmax or max(float(np.abs(v).max()) for _, v, _ in prepared) or 1.0
    nrows = -(-len(prepared) // ncols)
    ncols = min(ncols, len(prepared))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows), dpi=DPI, squeeze=False
    )
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#d9d9d9")
    for ax, (title, v, k) in zip(axes.flat, prepared, strict=False):
        ax.imshow(np.ma.masked_array(v, ~k), cmap=cmap, vmin=-top, vmax=top)
        ax.set_title(f"{title}\nsparsity {100 * (1 - k.mean()):.1f}%", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        if annotate:
            for (r, c), x in np.ndenumerate(v):
                ax.text(
                    c,
                    r,
                    f"{x:g}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if k[r, c] else "#7f7f7f",
                )
    for ax in axes.flat[len(prepared) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def threshold_histogram(
    weights: ArrayLike,
    theta: float,
    ax: Any = None,
    bins: int = 60,
    title: str | None = None,
) -> Any:
    """Histogram of the weights with the threshold lines ``±θ`` and the pruned band
    ``|w| <= θ`` shaded; the legend states the pruned share.

    Parameters
    ----------
    weights : array of any shape.
    theta : the threshold (``>= 0``).
    ax : axes to draw on (default: a new figure).
    bins : histogram bins.
    title : axes title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = threshold_histogram([-2.0, -0.5, 0.1, 0.3, 1.0], theta=0.4)
    >>> ax.get_legend().get_texts()[0].get_text()
    'pruned |w| ≤ θ = 0.4: 40.0%'
    """
    plt = _plt()
    w = np.asarray(weights, dtype=float).ravel()
    if w.size == 0 or not np.isfinite(w).all():
        raise ValueError("weights must be non-empty and finite")
    if not np.isfinite(theta) or theta < 0:
        raise ValueError(f"theta must be finite and >= 0, got {theta!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3), dpi=DPI)
    share = float(np.mean(np.abs(w) <= theta))
    ax.hist(w, bins=bins, color="#4c72b0", alpha=0.85)
    ax.axvspan(
        -theta,
        theta,
        color="#dd8452",
        alpha=0.25,
        zorder=0,
        label=f"pruned |w| ≤ θ = {theta:.3g}: {100 * share:.1f}%",
    )
    for x in (-theta, theta):
        ax.axvline(x, color="#c44e52", lw=1.2)
    ax.set_xlabel("weight value")
    ax.set_ylabel("count")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.2)  # room for the legend
    ax.legend(fontsize=8, loc="upper left")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def flow_diagram(
    steps: Sequence[str],
    notes: Sequence[str] | None = None,
    loop: tuple[int, int, str] | None = None,
    width: float = 11.0,
) -> Any:
    """Boxes joined left to right by arrows, with an optional note under each box and an
    optional arrow looping back from one step to an earlier one.

    Parameters
    ----------
    steps : box labels (``\\n`` for line breaks).
    notes : one short text under each box (or ``None``).
    loop : ``(from_index, to_index, label)`` for a feedback arrow drawn above the boxes.
    width : figure width in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = flow_diagram(["train", "prune"], ["dense", "sparse"], loop=(1, 0, "repeat"))
    >>> len(fig.axes)
    1
    """
    plt = _plt()
    n = len(steps)
    if n == 0:
        raise ValueError("steps is empty")
    if notes is not None and len(notes) != n:
        raise ValueError(f"notes has {len(notes)} entries for {n} steps")
    fig, ax = plt.subplots(figsize=(width, 2.6), dpi=DPI)
    ax.set_xlim(0, n)
    ax.set_ylim(-0.9, 1.9)
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.4", "fc": "#eaf1fb", "ec": "#4c72b0"}
    for i, label in enumerate(steps):
        ax.text(i + 0.5, 0.5, label, ha="center", va="center", fontsize=9, bbox=box)
        if notes is not None and notes[i]:
            ax.text(i + 0.5, 0.05, notes[i], ha="center", va="top", fontsize=8, color="#555555")
        if i + 1 < n:
            ax.annotate(
                "",
                xy=(i + 1.12, 0.5),
                xytext=(i + 0.88, 0.5),
                arrowprops={"arrowstyle": "->", "lw": 1.5},
            )
    if loop is not None:
        a, b, label = loop
        if not (0 <= b < a < n):
            raise ValueError(f"loop must go back from a later to an earlier step, got {loop}")
        ax.annotate(
            "",
            xy=(b + 0.5, 0.95),
            xytext=(a + 0.5, 0.95),
            arrowprops={
                "arrowstyle": "->",
                "lw": 1.2,
                "color": "#c44e52",
                "connectionstyle": "arc3,rad=0.25",
            },
        )
        ax.text((a + b) / 2 + 0.5, 1.7, label, ha="center", fontsize=8, color="#c44e52")
    fig.tight_layout()
    return fig
