"""Where things stand around the mirror: picture planes that the mirror shows.

Positions are in the mirror's own frame (metres; z up, seam on the z axis, the front
toward −y, the concave half on −x). The fixed arrangements (:func:`face_plane_layout`)
stand upright planes facing a point on the mirror; :func:`aimed_layout` works back from
a known camera: it picks points of the mirror the camera sees, reflects the camera's
rays there about the exact surface normal, and puts each picture on its reflected ray,
facing back, shaped so the camera sees it upright and square (in
:mod:`scurve_geom.placement.reflected`, re-exported here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..params import MirrorParams
from ..surface import Surface
from .reflected import MAX_PLANES, PlacedPlanes, aimed_layout

__all__ = ["FACE_LAYOUTS", "LAYOUTS", "MAX_PLANES", "VISIBILITIES", "PlacedPlanes",
           "PlaneLayout", "aimed_layout", "face_plane_layout"]

#: Arrangements of the planes: an arc in front of the concave half, a straight row
#: parallel to the wall, or a ring around the whole sculpture.
LAYOUTS = ("arc", "row", "ring")
#: Every layout Add Face Planes and the scripts offer: ``camera`` aims the planes where
#: the scene camera sees them in the mirror (:func:`aimed_layout`), then the fixed ones.
FACE_LAYOUTS = ("camera", *LAYOUTS)
#: ``reflected``: seen only in reflections; ``visible``: an ordinary object.
VISIBILITIES = ("reflected", "visible")


@dataclass(frozen=True)
class PlaneLayout:
    """Upright square planes.

    Attributes
    ----------
    centres : float64 (n, 3)
        Plane centres, metres.
    yaw : float64 (n,)
        Rotation about z, radians, of a plane whose picture faces −y when ``yaw = 0``
        (Blender's plane rotated 90° about x): the picture then faces the mirror.
    size : float
        Edge length, metres.
    """

    centres: np.ndarray
    yaw: np.ndarray
    size: float

    def facing(self) -> np.ndarray:
        """Unit direction each picture faces, float64 (n, 3)."""
        return np.stack([np.sin(self.yaw), -np.cos(self.yaw), np.zeros_like(self.yaw)], -1)

    def placed(self) -> PlacedPlanes:
        """The same planes as a :class:`PlacedPlanes` (upright squares, none mirrored)."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        zero = np.zeros_like(c)
        frames = np.stack([self.size * np.stack([c, s, zero], -1), np.stack([-s, c, zero], -1),
                           self.size * np.stack([zero, zero, zero + 1], -1)], -1)
        return PlacedPlanes(self.centres, frames, np.zeros(len(c), bool))


def face_plane_layout(
    params: MirrorParams,
    count: int,
    layout: str = "arc",
    *,
    distance: float | None = None,
    size: float | None = None,
) -> PlaneLayout:
    """Upright planes placed where the mirror shows them.

    Parameters
    ----------
    params : MirrorParams
        The mirror (its size and plan shape set the placement).
    count : int
        Number of planes, 1 to 64.
    layout : {"arc", "row", "ring"}
        ``arc``: on a circle of radius ``distance`` around the middle of the concave
        (−x) half, spread over 150° in front of it; ``row``: a line parallel to the
        wall at ``distance`` in front of it; ``ring``: all around the sculpture.
    distance : float, optional
        Metres from the wall; default the wall's height: close enough that the
        concave half magnifies the pictures, far enough to stand clear of it.
    size : float, optional
        Plane edge, metres; default a quarter of the wall's height (smaller when
        crowded), so the planes hide little of the mirror from the cameras.

    Raises
    ------
    ValueError
        For a count out of range, an unknown layout, or a non-positive size/distance.
    """
    if not 1 <= count <= MAX_PLANES:
        raise ValueError(f"count={count!r} is out of range: allowed 1 to {MAX_PLANES}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r} is not allowed: choose one of {LAYOUTS}")
    h = params.height
    distance = h if distance is None else distance
    for name, value in (("distance", distance), ("size", size)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name}={value!r} is out of range: allowed > 0 metres")

    surf = Surface(params)
    # Low, so the boards hide the foot of the wall rather than its middle; the concave
    # half turns them upside down and shows them high up.
    z = np.full(count, 0.3 * h)
    if layout == "ring":
        # Around the whole wall: an ellipse wide enough to clear the ends.
        a = params.half_length + distance
        b = distance + abs(params.s_amplitude)
        ang = -math.pi / 2 + 2 * math.pi * np.arange(count) / count
        centres = np.stack([a * np.cos(ang), b * np.sin(ang), z], -1)
        targets = np.zeros_like(centres)
    else:
        # The middle of the concave half's centre line, at mid-height: the point the
        # planes look at, so each picture faces the mirror where it is hollow.
        mid = surf.point(0.25, 0.5)
        if layout == "arc":
            # From beside the concave end round to the front of the seam; further
            # toward +x the convex half would come too close.
            lo, hi = math.radians(-165.0), math.radians(-65.0)
            ang = np.linspace(lo, hi, count) if count > 1 else np.array([-math.pi / 2])
            along = np.stack([np.cos(ang), np.sin(ang), np.zeros(count)], -1)
            centres = mid + distance * along
            centres[:, 2] = z
        else:  # row
            u = (np.arange(count) + 0.5) / count
            wall = surf.point(u, 0.5)
            centres = wall.copy()
            centres[:, 1] = wall[:, 1].min() - distance
            along = np.broadcast_to(np.array([0.0, -1.0, 0.0]), centres.shape)
        targets = np.broadcast_to(mid, centres.shape)
        if layout == "row":
            targets = centres + np.array([0.0, 1.0, 0.0])
    if size is None:
        # A quarter of the wall's height, shrunk when crowded so neighbours keep a gap.
        spacing = np.linalg.norm(np.diff(centres, axis=0), axis=1).min() if count > 1 else h
        size = min(0.25 * h, 0.75 * float(spacing))
    if layout != "ring":
        centres = _clear_of_wall(surf, centres, along, 0.5 * size + 0.05 * h)
    d = targets[:, :2] - centres[:, :2]
    # facing() is (sin yaw, -cos yaw): solve it for the direction to the target.
    yaw = np.arctan2(d[:, 0], -d[:, 1])
    return PlaneLayout(centres, yaw, float(size))


def _clear_of_wall(
    surf: Surface, centres: np.ndarray, along: np.ndarray, clearance: float
) -> np.ndarray:
    """Move each centre outward along ``along`` until it is ``clearance`` m from the wall.

    A bent wall (``s_amplitude``) can curl its end into an arc's path; the plan footprint
    of the wall, sampled finely, is what the planes must keep away from.
    """
    wall = surf.point(np.linspace(0.0, 1.0, 257)[None, :], np.linspace(0, 1, 9)[:, None])
    wall = wall.reshape(-1, 3)[:, :2]
    out = centres.copy()
    step = 0.05 * clearance + 1e-3
    for _ in range(2000):
        gap = np.linalg.norm(out[:, None, :2] - wall[None], axis=2).min(axis=1)
        close = gap < clearance
        if not close.any():
            break
        out[close] += step * along[close]
    return out
