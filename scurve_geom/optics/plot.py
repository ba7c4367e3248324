"""Pictures of hot-spot maps (matplotlib; only the command line needs it)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .files import write_atomically
from .hotspots import HotSpotMap

__all__ = ["draw_map", "save_atomically"]


def save_atomically(fig: object, path: Path) -> None:
    """``fig.savefig`` as PNG to ``path``, whole or not at all."""
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=110))  # type: ignore[attr-defined]


def draw_map(
    hmap: HotSpotMap,
    path: Path,
    title: str,
    values: np.ndarray | None = None,
    labels: Sequence[tuple[str, float, float]] = (),
    bar_label: str = "reflected irradiance / DNI",
) -> None:
    """A heat map of ``values`` (default the map's concentration) over the plan, the wall's
    footprint outlined and the peak marked, with a colour bar; written to ``path`` (PNG).

    ``labels`` are ``(text, x, y)`` annotations in metres (e.g. hours of a day sweep).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import PowerNorm

    data = hmap.concentration if values is None else values
    x0, x1, y0, y1 = hmap.extent
    width = 7.5
    fig, ax = plt.subplots(figsize=(width, max(3.0, width * (y1 - y0) / (x1 - x0) + 0.8)))
    try:
        vmax = float(data.max()) if data.max() > 0 else 1.0
        # A square-root scale: the weak spread light stays visible beside a sharp peak.
        im = ax.imshow(data, origin="lower", extent=(x0, x1, y0, y1), cmap="inferno",
                       norm=PowerNorm(0.5, vmin=0.0, vmax=vmax), interpolation="nearest")
        ring = np.vstack([hmap.footprint, hmap.footprint[:1]])
        ax.fill(ring[:, 0], ring[:, 1], facecolor="#7fb2ff", alpha=0.5, edgecolor="none")
        ax.plot(ring[:, 0], ring[:, 1], color="#7fb2ff", lw=1.0, label="wall (plan)")
        j, i = np.unravel_index(int(np.argmax(data)), data.shape)
        px, py = x0 + (i + 0.5) * hmap.cell, y0 + (j + 0.5) * hmap.cell
        ax.plot([px], [py], marker="+", color="#00ff88", ms=12, mew=1.5,
                label=f"peak {float(data.max()):.1f}× DNI")
        for text, lx, ly in labels:
            ax.annotate(text, (lx, ly), color="white", fontsize=7, ha="center", va="bottom")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m, north)")
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=9)
        ax.legend(loc="upper right", fontsize=7, framealpha=0.6)
        fig.colorbar(im, ax=ax, shrink=0.85, label=bar_label + " (square-root scale)")
        fig.tight_layout()
        save_atomically(fig, path)
    finally:
        plt.close(fig)
