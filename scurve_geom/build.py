"""Build the mirror mesh from its parameters: the seed's construction, vectorised.

The seed builds one half (a half-circle arch, a straight seam of as many vertices,
Grid Fill between them), rotates a copy 180° about z and joins the two. Here both
halves come out of one grid over the exact surface (:mod:`scurve_geom.surface`):
columns ``u`` from the −x end to the +x end, rows ``v`` up the arch. The −x half *is*
the rotated twin, because the surface is point-symmetric by construction.
"""

from __future__ import annotations

import numpy as np

from .mesh import GridLayout, Mesh
from .params import MirrorParams
from .surface import Surface

__all__ = ["build_grid", "build_mesh", "grid_parameters"]


def grid_parameters(params: MirrorParams) -> tuple[np.ndarray, np.ndarray]:
    """Surface parameters of the base grid's columns and rows.

    Returns
    -------
    u : float64 (columns,)
        From 0 (−x end) to 1 (+x end); the seam value 0.5 appears twice when the seam
        is not welded (the seed's two coincident columns).
    v : float64 (rows,)
        From 0 (ground) to 1 (top), evenly spaced in arch angle: the circle's vertices.
    """
    k = params.length_segments
    half = np.arange(k + 1) / (2.0 * k)  # 0 .. 0.5, seam included
    # Build the +x half as 1 - (-x half) so the two halves are exact mirrors in u.
    tail = (1.0 - half[::-1])[1:] if params.weld_seam else 1.0 - half[::-1]
    u = np.concatenate([half, tail])
    v = np.arange(params.rows) / (params.rows - 1)
    return u, v


def build_grid(params: MirrorParams) -> Mesh:
    """The base quad grid (no subdivision) sampling the exact surface.

    Vertex ``(row j, column i)`` is ``vertices[j * columns + i]``. Faces wind so their
    normals face the front (−y at the seam).
    """
    surf = Surface(params)
    u, v = grid_parameters(params)
    rows, cols = v.size, u.size
    centre, normal, blend = surf.columns(u)
    prof = surf.profile(v)
    t = np.abs(blend)

    vertices = np.empty((rows, cols, 3))
    x, y, z = vertices[..., 0], vertices[..., 1], vertices[..., 2]
    # w = (s/L) * w_arch, one outer product reused for x and y; every other step writes
    # into the output in place so a million-vertex build stays near memory bandwidth.
    w = np.multiply.outer(prof.w_arch, blend)
    np.multiply(w, normal[:, 0], out=x)
    x += centre[:, 0]
    np.multiply(w, normal[:, 1], out=y)
    y += centre[:, 1]
    np.multiply.outer(prof.z_arch - prof.z_seam, t, out=z)
    z += prof.z_seam[:, None]

    uv = np.empty((rows, cols, 2))
    uv[..., 0] = u
    uv[..., 1] = v[:, None]

    gap = params.length_segments if not params.weld_seam else -1
    layout = GridLayout(rows, cols, gap)
    qc = layout.quad_columns().astype(np.int32)
    faces = np.empty((rows - 1, qc.size, 4), dtype=np.int32)
    # Counter-clockwise seen from -y: +u then +v, whose cross product points to -y.
    np.add.outer(np.arange(rows - 1, dtype=np.int32) * np.int32(cols), qc, out=faces[..., 0])
    np.add(faces[..., 0], 1, out=faces[..., 1])
    np.add(faces[..., 0], cols + 1, out=faces[..., 2])
    np.add(faces[..., 0], cols, out=faces[..., 3])

    return Mesh(vertices.reshape(-1, 3), faces.reshape(-1, 4), uv.reshape(-1, 2), layout)


def build_mesh(params: MirrorParams) -> Mesh:
    """The mirror mesh: the base grid, Catmull-Clark subdivided ``subdivision_levels`` times.

    Parameters
    ----------
    params : MirrorParams
        Validated parameters (lengths in metres, angles in radians).

    Returns
    -------
    Mesh
        float64 positions in metres, int32 quads, per-vertex UVs.
    """
    mesh = build_grid(params)
    if params.subdivision_levels:
        from .subdivide import catmull_clark

        mesh = catmull_clark(mesh, params.subdivision_levels, params.boundary_smooth)
    return mesh
