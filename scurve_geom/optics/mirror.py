"""What the rays hit: a fine triangle mesh plus the exact normals of the surface it samples.

A :class:`MirrorModel` is triangles (for the ray engine), one surface coordinate per
vertex, and a function giving the exact unit normal at surface coordinates. A hit's
coordinates come from the hit triangle's barycentric weights, so the reflection uses
the true surface's normal, not the facet's: facets are flat, the mirror is not, and
facet normals would print the mesh's rows and columns into the caustic.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..build import build_grid
from ..params import MirrorParams
from ..surface import Surface

__all__ = ["DEFAULT_FACET", "MirrorModel", "exact_normals", "grid_model", "mirror_from_params"]

#: Default facet size of the traced mesh, metres. The wall sits within
#: ``facet²/(8 r)`` of the facets (0.04 mm for kapoor), far below a map cell.
DEFAULT_FACET = 0.02

NormalFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class MirrorModel:
    """A reflecting surface for the tracer; both sides reflect (polished steel).

    Attributes
    ----------
    vertices : float64 (N, 3)
        Metres; the ground is z = 0.
    triangles : int32 (M, 3)
    coords : float64 (N, 2)
        Surface coordinates per vertex, interpolated linearly across each triangle.
    normal_fn : callable
        ``normal_fn(coords (n, 2)) -> float64 (n, 3)`` unit normals (either side).
    grid_shape : (rows, columns) or None
        Set when the vertices are a row-major grid with uniform coordinates
        (``u = i / (columns - 1)``, ``v = j / (rows - 1)``) and the triangles its quads
        split (0, 1, 2), (0, 2, 3) row by row, as :func:`grid_model` and
        :func:`mirror_from_params` make them: the tracer then finds a hit's coordinates
        from the triangle's index, and the footprint's outline from the rows.
    """

    vertices: np.ndarray
    triangles: np.ndarray
    coords: np.ndarray
    normal_fn: NormalFn
    grid_shape: tuple[int, int] | None = None

    def footprint(self) -> np.ndarray:
        """The wall's plan outline, float64 (k, 2), metres, a closed ring (last != first).

        For a grid from :func:`mirror_from_params`: the base row out and the middle row
        back, the two extremes of the arch's sideways offset (0 at the foot and the top,
        largest halfway up). Otherwise the bounding box.
        """
        shape = self.grid_shape
        if shape is None:
            lo, hi = self.vertices[:, :2].min(0), self.vertices[:, :2].max(0)
            return np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
        rows, cols = shape
        grid = self.vertices.reshape(rows, cols, 3)[..., :2]
        return np.concatenate([grid[0], grid[rows // 2, ::-1]])


def quads_to_triangles(faces: np.ndarray) -> np.ndarray:
    """Split quads (M, 4) into triangles (2M, 3), int32, keeping the winding."""
    tri = np.empty((faces.shape[0], 2, 3), dtype=np.int32)
    tri[:, 0] = faces[:, [0, 1, 2]]
    tri[:, 1] = faces[:, [0, 2, 3]]
    return tri.reshape(-1, 3)


def exact_normals(
    params: MirrorParams, uv: np.ndarray, surface: Surface | None = None
) -> np.ndarray:
    """Unit normals of the exact surface at surface coordinates ``uv`` (n, 2), float64
    (n, 3): :meth:`scurve_geom.Surface.normal`. ``surface`` is ``Surface(params)``,
    passed to save solving for the bend each call."""
    surf = Surface(params) if surface is None else surface
    return surf.normal(uv[:, 0], uv[:, 1])


def mirror_from_params(params: MirrorParams, facet: float = DEFAULT_FACET) -> MirrorModel:
    """The exact surface of ``params`` sampled by a grid of about ``facet``-metre facets.

    The surface depends on neither the grid's density nor subdivision, so the grid is
    rebuilt at the tracing density (at least the parameters' own), unsubdivided.
    """
    if not (math.isfinite(facet) and 1e-3 <= facet <= 1.0):
        raise ValueError(f"facet={facet!r} is out of range: allowed 0.001 to 1 metres")
    arc = params.radius * params.arch_angle
    rows = max(params.rows, math.ceil(arc / facet) + 1)
    # circle_vertices counts the whole circle: rows = circle_vertices / 2 + 1; a multiple
    # of 4 puts a row halfway up, where the arch bulges furthest (the footprint).
    circle = 4 * math.ceil((rows - 1) / 2)
    segments = max(params.length_segments, math.ceil(params.half_length / facet))
    fine = params.replace(
        circle_vertices=circle, length_segments=segments, subdivision_levels=0, weld_seam=True
    )
    mesh = build_grid(fine)
    assert mesh.grid is not None
    surface = Surface(params)
    return MirrorModel(
        vertices=mesh.vertices,
        triangles=quads_to_triangles(mesh.faces),
        coords=mesh.uv,
        normal_fn=lambda uv: exact_normals(params, uv, surface),
        grid_shape=(mesh.grid.rows, mesh.grid.columns),
    )


def grid_model(
    point_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
    normal_fn: NormalFn,
    rows: int,
    columns: int,
) -> MirrorModel:
    """Any parametric mirror: ``point_fn(u, v)`` (broadcast arrays in [0, 1]) -> (..., 3)
    metres, sampled on a ``rows`` × ``columns`` grid, with exact ``normal_fn(uv (n, 2))``.

    For test surfaces with known optics (a plane, a circular trough) and other walls.
    """
    if rows < 2 or columns < 2:
        raise ValueError(f"rows={rows}, columns={columns}: allowed at least 2 each")
    u = np.linspace(0.0, 1.0, columns)
    v = np.linspace(0.0, 1.0, rows)
    uu, vv = np.meshgrid(u, v)
    pts = np.asarray(point_fn(uu, vv), dtype=np.float64).reshape(-1, 3)
    q = (np.arange(rows - 1)[:, None] * columns + np.arange(columns - 1)[None, :]).ravel()
    faces = np.stack([q, q + 1, q + columns + 1, q + columns], axis=1).astype(np.int32)
    return MirrorModel(
        vertices=pts,
        triangles=quads_to_triangles(faces),
        coords=np.column_stack([uu.ravel(), vv.ravel()]),
        normal_fn=normal_fn,
        grid_shape=(rows, columns),
    )
