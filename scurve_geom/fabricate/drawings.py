"""Pictures: the nesting sheet (SVG and PNG) and the wall's strain map (PNG).

matplotlib, imported lazily: only the outputs need it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .core import CLASSES, Fabrication
from .nesting import Nesting
from .patterns import offset_outline

__all__ = ["CLASS_COLOURS", "draw_nesting", "draw_strain_map"]

#: One colour per forming class (see :data:`~scurve_geom.fabricate.CLASSES`), RGB 0-1:
#: green to roll, amber to wheel or stretch, red to split. Blender uses the same.
CLASS_COLOURS = {
    CLASSES[0][0]: (0.30, 0.69, 0.29),
    CLASSES[1][0]: (1.00, 0.65, 0.00),
    CLASSES[2][0]: (0.89, 0.10, 0.11),
}


#: Direction the strain map's 3D view is lit from (front left, above), unit length.
_LIGHT = np.array([-0.45, -0.8, 0.4]) / np.linalg.norm([-0.45, -0.8, 0.4])


def _figure(width: float, height: float):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(width, height))


def draw_nesting(fab: Fabrication, nesting: Nesting, paths: list[Path]) -> None:
    """Draw every plate with its patterns (cut line, label) to each of ``paths``
    (the format from the extension: ``.svg``, ``.pdf``, ``.png``). Plates stack in
    columns of at most four, drawn to scale, lengths in metres."""
    import matplotlib.pyplot as plt

    pw, ph = nesting.plate_size
    per_column = min(4, nesting.plates)
    n_columns = -(-nesting.plates // per_column)
    pad = 0.25 * ph
    extent = (n_columns * (pw + pad), per_column * (ph + pad))
    scale = 9.0 / max(extent)
    fig = _figure(1.2 + scale * extent[0], 1.2 + scale * extent[1])
    ax = fig.add_axes((0.06, 0.05, 0.9, 0.88))
    origin = {}
    for k in range(nesting.plates):
        ox = (k // per_column) * (pw + pad)
        oy = -(k % per_column) * (ph + pad)
        origin[k] = (ox, oy)
        ax.add_patch(plt.Rectangle((ox, oy), pw, ph, fill=True, fc=(0.93, 0.94, 0.96),
                                   ec="0.3", lw=1.0))
        ax.text(ox, oy + ph + 0.03, f"plate {k + 1}  ({pw:g} x {ph:g} m)", fontsize=8,
                va="bottom")
    allowance = fab.options.seam_allowance
    for place in nesting.placements:
        panel = fab.panel(place.name)
        ox, oy = origin[place.plate]
        shift = np.array([ox + place.x + allowance, oy + place.y + allowance])
        cut = offset_outline(panel.outline(), allowance) + shift
        colour = CLASS_COLOURS[panel.strain_class]
        ax.fill(cut[:, 0], cut[:, 1], fc=(*colour, 0.35), ec="k", lw=0.8)
        w, h = panel.size
        ax.text(shift[0] + w / 2, shift[1] + h / 2, panel.name, ha="center", va="center",
                fontsize=8)
        ax.annotate("", xy=(shift[0] + 0.65 * w, shift[1] + 0.3 * h),
                    xytext=(shift[0] + 0.35 * w, shift[1] + 0.3 * h),
                    arrowprops={"arrowstyle": "->", "color": "0.35", "lw": 0.8})
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xlabel("m")
    used = sum(p.flat.area_flat.sum() for p in fab.panels)
    ax.set_title(f"{len(fab.panels)} patterns on {nesting.plates} plates, "
                 f"waste {100 * nesting.waste(used):.0f} %  (arrow: grain)", fontsize=10)
    try:
        for path in paths:
            fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def draw_strain_map(fab: Fabrication, path: Path, title: str = "") -> None:
    """Two views of the wall to ``path`` (PNG): in 3D with panels coloured by forming class
    and seams drawn, and developed (arc length along the wall against height) coloured by
    each triangle's flattening strain, panels outlined and labelled."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

    fig = _figure(12.0, 7.5)
    grid = fig.add_gridspec(2, 1, height_ratios=(1.2, 1.0), hspace=0.05)
    ax3 = fig.add_subplot(grid[0], projection="3d")
    quads: list[np.ndarray] = []
    colours: list[np.ndarray] = []
    seams: list[np.ndarray] = []
    for p in fab.panels:
        nu, nv = p.grid
        g = p.vertices.reshape(nu, nv, 3)
        su, sv = max(1, nu // 8), max(1, nv // 8)
        iu = np.unique(np.r_[np.arange(0, nu, su), nu - 1])
        iv = np.unique(np.r_[np.arange(0, nv, sv), nv - 1])
        sub = g[np.ix_(iu, iv)]
        q = np.stack([sub[:-1, :-1], sub[1:, :-1], sub[1:, 1:], sub[:-1, 1:]], axis=2)
        quads.append(q.reshape(-1, 4, 3))
        # Lambert shading from the front-left keeps the shape readable in one colour.
        n = np.cross(quads[-1][:, 2] - quads[-1][:, 0], quads[-1][:, 3] - quads[-1][:, 1])
        with np.errstate(invalid="ignore", divide="ignore"):
            n /= np.linalg.norm(n, axis=1)[:, None]
        # A quad collapsed to a segment (where the wall pinches) has no normal: mid shade.
        lit = np.nan_to_num(np.abs(n @ _LIGHT), nan=0.5)
        shade = np.clip(0.55 + 0.45 * lit, 0.0, 1.0)
        colours.append(np.asarray(CLASS_COLOURS[p.strain_class])[None, :] * shade[:, None])
        ring = np.concatenate([g[:, 0], g[-1, 1:], g[-2::-1, -1], g[0, -2::-1]])
        seams.append(ring)
    polys = Poly3DCollection(np.concatenate(quads), facecolors=np.concatenate(colours),
                             edgecolors="none",
                             alpha=0.95)
    ax3.add_collection3d(polys)
    ax3.add_collection3d(Line3DCollection(seams, colors="k", linewidths=1.0))
    allv = np.concatenate([p.vertices for p in fab.panels])
    lo, hi = allv.min(axis=0), allv.max(axis=0)
    ax3.set_xlim(lo[0], hi[0])
    ax3.set_ylim(lo[1], hi[1])
    ax3.set_zlim(0.0, hi[2])
    # Equal scale on the three axes: the wall's true proportions.
    ax3.set_box_aspect(tuple(np.maximum(hi - lo, 1e-3)), zoom=1.3)
    ax3.view_init(elev=24, azim=-62)
    # The wall is thin in y: ticks at its two ends only, or their labels run together.
    ax3.set_yticks(np.round([lo[1], hi[1]], 1))
    ax3.set_xlabel("x (m)")
    ax3.set_ylabel("y (m)")
    ax3.set_zlabel("z (m)")
    counts = {name: sum(p.strain_class == name for p in fab.panels) for name, _ in CLASSES}
    ax3.legend(handles=[Patch(color=CLASS_COLOURS[n], label=f"{n} ({c})")
                        for n, c in counts.items()], loc="upper left", fontsize=8)
    ax3.set_title("panels by forming class", fontsize=10)

    ax = fig.add_subplot(grid[1])
    L = fab.params.half_length
    vmax = max(max(p.flat.strain_max for p in fab.panels), 1e-6) * 100
    image = None
    for p in fab.panels:
        s = L * (2.0 * p.params[:, 0] - 1.0)
        z = p.vertices[:, 2]
        image = ax.tripcolor(s, z, p.triangles, facecolors=100 * p.flat.strain,
                             cmap="viridis", vmin=0, vmax=vmax)
        nu, nv = p.grid
        idx = np.arange(nu * nv).reshape(nu, nv)
        ring = np.concatenate([idx[:, 0], idx[-1, 1:], idx[-2::-1, -1], idx[0, -1::-1]])
        ax.plot(s[ring], z[ring], color=CLASS_COLOURS[p.strain_class], lw=2.0)
        ax.text(s.mean(), z.mean(), f"{p.name}\n{100 * p.flat.strain_max:.2f} %",
                ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(image, ax=ax, label="flattening strain, largest principal (%)")
    ax.set_xlabel("arc length along the wall from the seam (m)")
    ax.set_ylabel("height (m)")
    ax.set_aspect("equal")
    ax.set_title("developed: strain of each pattern (outline: class)", fontsize=10)
    if title:
        fig.suptitle(title)
    try:
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
