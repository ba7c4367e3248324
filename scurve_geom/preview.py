"""A quick shaded 3D picture of a mesh with matplotlib (optional dependency).

This is a look at the geometry, not a render: Lambert shading of the quads from one
light, with the 180° twin's concave and convex halves visible from a raised front view.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .mesh import Mesh

__all__ = ["draw_preview"]

#: Quads drawn at most: matplotlib draws each as a polygon, and a coarser grid of the
#: same surface shows its shape just as well.
MAX_PREVIEW_QUADS = 8000


def _preview_quads(mesh: Mesh) -> np.ndarray:
    """Quad corner positions, float64 (q, 4, 3): a strided sub-grid of a grid mesh."""
    g = mesh.grid
    if g is None or len(mesh.faces) <= MAX_PREVIEW_QUADS:
        return mesh.vertices[mesh.faces]
    stride = int(np.ceil(np.sqrt(len(mesh.faces) / MAX_PREVIEW_QUADS)))
    rows = np.unique(np.r_[np.arange(0, g.rows, stride), g.rows - 1])
    cols = np.unique(np.r_[np.arange(0, g.columns, stride), g.columns - 1])
    grid = mesh.vertices.reshape(g.rows, g.columns, 3)[np.ix_(rows, cols)]
    return np.stack(
        [grid[:-1, :-1], grid[:-1, 1:], grid[1:, 1:], grid[1:, :-1]], axis=2
    ).reshape(-1, 4, 3)


def draw_preview(
    mesh: Mesh, path: str | Path, *, title: str = "", elev: float = 18.0, azim: float = -62.0
) -> None:
    """Write a shaded PNG of ``mesh`` to ``path``.

    Parameters
    ----------
    mesh : Mesh
        The mesh to draw (metres).
    path : str or Path
        Output PNG.
    elev, azim : float
        Camera elevation and azimuth in degrees (matplotlib's convention: azimuth -90
        looks along +y, i.e. the front view).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    quads = _preview_quads(mesh)
    normals = np.cross(quads[:, 2] - quads[:, 0], quads[:, 3] - quads[:, 1])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-300
    # A matcap of a mirror: reflect the view ray and look the result up in a sky-over-
    # ground gradient, so curvature reads as it would in polished steel.
    el, az = np.radians(elev), np.radians(azim)
    view = -np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    refl = view - 2.0 * (normals @ view)[:, None] * normals
    up = refl[:, 2:3]
    sky = np.array([0.55, 0.72, 0.95]) * (0.55 + 0.45 * up) + 0.35 * up**8
    ground = np.array([0.42, 0.36, 0.30]) * (1.0 + 0.6 * up)
    colours = np.clip(np.where(up > 0, sky, ground), 0.0, 1.0)

    fig = plt.figure(figsize=(9, 4.8), dpi=110)
    ax = fig.add_subplot(projection="3d")
    # Edges in the face colour hide the hairline gaps matplotlib leaves between polygons.
    surface = Poly3DCollection(quads, facecolors=colours, edgecolors=colours, linewidths=0.3)
    ax.add_collection3d(surface)
    lo, hi = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
    lo[2] = 0.0
    for k, setter in enumerate((ax.set_xlim, ax.set_ylim, ax.set_zlim)):
        setter(lo[k], hi[k])
    # Equal metres on every axis: a wall 6 m long and 2 m high must look it.
    ax.set_box_aspect(tuple(np.maximum(hi - lo, 1e-3)))
    from matplotlib.ticker import MaxNLocator

    # Short axes (the wall is thin in y) get a crowd of ticks otherwise.
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(4))
    ax.view_init(elev=elev, azim=azim)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_zlabel("z (m)")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
