"""Rays against the exact mirror: a pinhole camera, reflection, segment tests.

The surface's normals are analytic: :meth:`scurve_geom.Surface.normal`.

Everything is in the mirror's own frame (metres, z up, see :mod:`scurve_geom.surface`).
Used by :mod:`scurve_geom.placement.layout` to put pictures where a camera sees them reflected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..surface import Surface

__all__ = [
    "PinholeCamera",
    "nearest_distance",
    "reflect",
    "segment_distance",
    "segments_cross",
    "segments_hit",
    "surface_triangles",
]

@dataclass(frozen=True)
class PinholeCamera:
    """A perspective camera.

    Attributes
    ----------
    position : float64 (3,)
        Metres.
    rotation : float64 (3, 3)
        Orthonormal; columns are the camera's right, up and backward axes (it looks
        along minus the third column, as Blender cameras do).
    tan_half : (float, float)
        Tangents of half the horizontal and half the vertical field of view.

    Raises
    ------
    ValueError
        For a non-finite position, a rotation that is not orthonormal and right-handed,
        or a field of view outside (0°, 180°).
    """

    position: np.ndarray
    rotation: np.ndarray
    tan_half: tuple[float, float]

    def __post_init__(self) -> None:
        pos = np.asarray(self.position, dtype=np.float64)
        rot = np.asarray(self.rotation, dtype=np.float64)
        if pos.shape != (3,) or not np.isfinite(pos).all():
            raise ValueError(f"camera position={self.position!r} must be 3 finite metres")
        if rot.shape != (3, 3) or not np.isfinite(rot).all() \
                or np.abs(rot.T @ rot - np.eye(3)).max() > 1e-6 or np.linalg.det(rot) < 0:
            raise ValueError("camera rotation must be an orthonormal right-handed 3x3 matrix")
        tx, ty = (float(t) for t in self.tan_half)
        if not all(math.isfinite(t) and t > 0 for t in (tx, ty)):
            raise ValueError(f"camera tan_half={self.tan_half!r} is out of range: allowed > 0")
        object.__setattr__(self, "position", pos)
        object.__setattr__(self, "rotation", rot)
        object.__setattr__(self, "tan_half", (tx, ty))

    @property
    def aspect(self) -> float:
        """Image width over height."""
        return self.tan_half[0] / self.tan_half[1]

    def screen(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where ``points`` (..., 3) land in the image, and their depth.

        Returns
        -------
        xy : float64 (..., 2)
            Image coordinates in units of half the image height: x right in
            ``[-aspect, aspect]``, y up in ``[-1, 1]`` inside the frame.
        depth : float64 (...)
            Metres along the view direction; points behind the camera have depth <= 0.
        """
        rel = (np.asarray(points, dtype=np.float64) - self.position) @ self.rotation
        depth = -rel[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            xy = rel[..., :2] / (depth[..., None] * self.tan_half[1])
        return xy, depth

    def inside(self, xy: np.ndarray, margin: float = 1.0) -> np.ndarray:
        """Whether image coordinates ``xy`` (..., 2) lie in the frame shrunk by ``margin``."""
        return (np.abs(xy[..., 0]) <= margin * self.aspect) & (np.abs(xy[..., 1]) <= margin)


def reflect(d: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Directions ``d`` (..., 3) mirrored about unit normals ``n``: ``d - 2 (d·n) n``."""
    return d - 2.0 * np.sum(d * n, axis=-1, keepdims=True) * n


def surface_triangles(surf: Surface, columns: int = 96, rows: int = 32) -> np.ndarray:
    """The exact surface as ``2 · columns · rows`` triangles, float64 (m, 3, 3), metres."""
    grid = surf.point(np.linspace(0, 1, columns + 1)[None, :], np.linspace(0, 1, rows + 1)[:, None])
    a, b = grid[:-1, :-1], grid[:-1, 1:]
    c, d = grid[1:, 1:], grid[1:, :-1]
    tris = np.concatenate([np.stack([a, b, c], -2), np.stack([a, c, d], -2)])
    return tris.reshape(-1, 3, 3)


def segments_hit(
    origins: np.ndarray, ends: np.ndarray, triangles: np.ndarray, *, skip: float = 0.0,
    chunk: int = 64,
) -> np.ndarray:
    """Whether each segment ``origins[i] → ends[i]`` (k, 3) crosses any triangle.

    Möller–Trumbore, vectorised. Hits within ``skip`` metres of either end do not count:
    a segment that starts or ends on the surface must not hit itself there.

    Returns
    -------
    bool (k,)
    """
    v0 = triangles[:, 0]
    e1 = triangles[:, 1] - v0
    e2 = triangles[:, 2] - v0
    out = np.zeros(len(origins), dtype=bool)
    for s in range(0, len(origins), chunk):
        o, end = origins[s:s + chunk], ends[s:s + chunk]
        seg = end - o
        length = np.linalg.norm(seg, axis=1)
        d = seg / np.where(length > 0, length, 1.0)[:, None]
        p = np.cross(d[:, None, :], e2[None])
        det = np.einsum("tj,rtj->rt", e1, p)
        ok = np.abs(det) > 1e-12
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        tv = o[:, None, :] - v0[None]
        a = np.einsum("rtj,rtj->rt", tv, p) * inv
        q = np.cross(tv, e1[None])
        b = np.einsum("rj,rtj->rt", d, q) * inv
        t = np.einsum("tj,rtj->rt", e2, q) * inv
        # A hair of tolerance: a ray through a shared edge must not slip between the two
        # triangles by rounding.
        tol = 1e-9
        hit = ok & (a >= -tol) & (b >= -tol) & (a + b <= 1 + tol) & (t > skip) \
            & (t < length[:, None] - skip)
        out[s:s + chunk] = hit.any(axis=1)
    return out


def segments_cross(a: np.ndarray, b: np.ndarray, centre: np.ndarray,
                   frame: np.ndarray, rim: float = 0.05) -> np.ndarray:
    """Whether segments ``a → b`` cross parallelograms, all broadcast together.

    Parameters
    ----------
    a, b : float64 (..., 3)
        Segment ends, metres.
    centre : float64 (..., 3)
        Parallelogram centres.
    frame : float64 (..., 3, 3)
        Columns: the full width vector, the unit normal, the full height vector.
    rim : float
        Fraction by which the parallelogram is grown on every side.

    Returns
    -------
    bool (...)
    """
    w, normal, t_ = frame[..., :, 0], frame[..., :, 1], frame[..., :, 2]
    da = np.sum((a - centre) * normal, axis=-1)
    db = np.sum((b - centre) * normal, axis=-1)
    crossing = da * db <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(crossing & (da != db), da / (da - db), 0.0)
    x = a + t[..., None] * (b - a) - centre
    # Coordinates in (w, t_) by the 2x2 normal equations.
    ww, wt, tt = (np.sum(w * w, -1), np.sum(w * t_, -1), np.sum(t_ * t_, -1))
    xw, xt = np.sum(x * w, -1), np.sum(x * t_, -1)
    det = ww * tt - wt * wt
    with np.errstate(divide="ignore", invalid="ignore"):
        cw = (tt * xw - wt * xt) / det
        ct = (ww * xt - wt * xw) / det
    lim = 0.5 + rim
    return crossing & (np.abs(cw) <= lim) & (np.abs(ct) <= lim)


def nearest_distance(points: np.ndarray, cloud: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Distance from each of ``points`` (k, 3) to the nearest of ``cloud`` (m, 3), (k,)."""
    out = np.empty(len(points))
    for s in range(0, len(points), chunk):
        diff = points[s:s + chunk, None] - cloud[None]
        out[s:s + chunk] = np.sqrt(np.einsum("kmj,kmj->km", diff, diff).min(axis=1))
    return out


def segment_distance(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Distance from point ``x`` (3,) to each segment ``a[i] → b[i]`` (k, 3), (k,)."""
    ab = b - a
    t = np.clip(np.sum((x - a) * ab, axis=1) / np.maximum(np.sum(ab * ab, axis=1), 1e-300),
                0.0, 1.0)
    return np.linalg.norm(a + t[:, None] * ab - x, axis=1)
