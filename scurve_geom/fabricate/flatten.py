"""Flatten a triangulated patch with libigl: LSCM for a start, ARAP to refine.

libigl (https://libigl.github.io, PyPI ``libigl``) is imported lazily so the rest of
``scurve_geom`` never needs it. The pattern comes out in metres, seen from the side the
triangles' normals point to (the mirror's front), translated so its bounding box starts at
the origin and turned so the patch's first grid row runs along +x (the grain).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Flattening", "flatten", "grid_triangles", "principal_stretches"]

#: ARAP local/global iterations: the panels start from a conformal map that is already
#: within a few per mille; 100 iterations take the cylinder check to ~1e-9.
ARAP_ITERATIONS = 100


@dataclass(frozen=True)
class Flattening:
    """A flattened patch.

    Attributes
    ----------
    uv : float64 (n, 2)
        Flat positions of the patch's vertices, metres.
    stretch : float64 (m, 2)
        Principal stretches (largest first) of each triangle's map from surface to plate.
    area_3d, area_flat : float64 (m,)
        Triangle areas on the surface and on the plate, m².
    """

    uv: np.ndarray
    stretch: np.ndarray
    area_3d: np.ndarray
    area_flat: np.ndarray

    @property
    def strain(self) -> np.ndarray:
        """Largest principal strain magnitude per triangle, ``max |stretch - 1|`` (m,)."""
        return np.abs(self.stretch - 1.0).max(axis=1)

    @property
    def strain_max(self) -> float:
        """Largest principal strain magnitude over the patch (dimensionless)."""
        return float(self.strain.max())

    @property
    def strain_mean(self) -> float:
        """Area-weighted mean of the per-triangle largest strain magnitude."""
        return float(np.average(self.strain, weights=self.area_3d))


def grid_triangles(nu: int, nv: int) -> np.ndarray:
    """Triangles of an ``nu x nv`` vertex grid (vertex ``i * nv + j``), int64 (2(nu-1)(nv-1), 3).

    Counter-clockwise seen from the side ``P_u x P_v`` points to, ``i`` indexing ``u``.
    """
    idx = np.arange(nu * nv, dtype=np.int64).reshape(nu, nv)
    a, b = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel()
    c, d = idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    return np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])


def principal_stretches(vertices: np.ndarray, triangles: np.ndarray,
                        uv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Singular values of each triangle's surface-to-plane map, and both areas.

    Returns ``stretch`` float64 (m, 2) (largest first), ``area_3d`` and ``area_flat``
    (m,) in m²; ``area_flat`` is signed (negative for a flipped triangle).
    """
    e1 = vertices[triangles[:, 1]] - vertices[triangles[:, 0]]
    e2 = vertices[triangles[:, 2]] - vertices[triangles[:, 0]]
    n = np.cross(e1, e2)
    area_3d = 0.5 * np.linalg.norm(n, axis=1)
    x = e1 / np.linalg.norm(e1, axis=1)[:, None]
    y = np.cross(n / (2.0 * area_3d)[:, None], x)
    local = np.empty((len(triangles), 2, 2))
    local[:, 0, 0], local[:, 1, 0] = np.einsum("ij,ij->i", e1, x), 0.0
    local[:, 0, 1], local[:, 1, 1] = np.einsum("ij,ij->i", e2, x), np.einsum("ij,ij->i", e2, y)
    flat = np.stack([uv[triangles[:, 1]] - uv[triangles[:, 0]],
                     uv[triangles[:, 2]] - uv[triangles[:, 0]]], axis=2)
    jac = flat @ np.linalg.inv(local)
    stretch = np.linalg.svd(jac, compute_uv=False)
    area_flat = 0.5 * np.linalg.det(flat)
    return stretch, area_3d, area_flat


def flatten(vertices: np.ndarray, triangles: np.ndarray, grain: tuple[int, int],
            iterations: int = ARAP_ITERATIONS) -> Flattening:
    """Flatten a disc-like triangle mesh: libigl LSCM, then libigl ARAP.

    Parameters
    ----------
    vertices : float64 (n, 3)
        Positions on the surface, metres.
    triangles : int64 (m, 3)
        Counter-clockwise seen from the side the pattern should be seen from.
    grain : (int, int)
        Two vertex indices whose direction becomes +x in the pattern.
    iterations : int
        ARAP iterations.

    Raises
    ------
    ImportError
        When libigl is not installed (``pip install libigl``).
    """
    import igl

    vertices = np.ascontiguousarray(vertices, dtype=np.float64)
    triangles = np.ascontiguousarray(triangles, dtype=np.int64)
    i0, i1 = grain
    # LSCM's two pins at their true distance: the conformal map then has the right scale
    # along that chord, and ARAP only has to even the stretch out.
    chord = float(np.linalg.norm(vertices[i1] - vertices[i0]))
    pins = np.array([i0, i1], dtype=np.int64)
    uv, _ = igl.lscm(vertices, triangles, pins, np.array([[0.0, 0.0], [chord, 0.0]]))
    data = igl.ARAPData()
    data.max_iter = iterations
    # One pinned vertex fixes the translation; ARAP's energy is rotation invariant, so
    # the solution keeps LSCM's orientation up to a rigid turn we undo below.
    anchor = np.array([i0], dtype=np.int32)
    igl.arap_precomputation(vertices, triangles, 2, anchor, data)
    uv = igl.arap_solve(uv[[i0]], data, uv)
    stretch, area_3d, area_flat = principal_stretches(vertices, triangles, uv)
    if area_flat.sum() < 0.0:   # seen from the back: mirror it to the front's view
        uv[:, 0] *= -1.0
        area_flat = -area_flat
    d = uv[i1] - uv[i0]
    c, s = d / np.linalg.norm(d)
    uv = uv @ np.array([[c, -s], [s, c]])
    uv -= uv.min(axis=0)
    return Flattening(np.ascontiguousarray(uv), stretch, area_3d, area_flat)
