"""Pictures placed by reflection: where a known camera sees them in the mirror.

Positions are in the mirror's own frame (metres; z up, see :mod:`scurve_geom.surface`).
:func:`aimed_layout` picks points of the mirror the camera sees, reflects the camera's
rays there about the exact surface normal, and puts each picture on its reflected ray,
facing back, shaped so the camera sees it upright and square. :class:`PlacedPlanes` is
the result, shared with the fixed arrangements of :mod:`scurve_geom.placement.layout` (which
re-exports both).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..params import MirrorParams
from ..surface import Surface
from .rays import (
    PinholeCamera,
    nearest_distance,
    reflect,
    segment_distance,
    segments_cross,
    segments_hit,
    surface_triangles,
)

__all__ = ["PlacedPlanes", "aimed_layout"]


@dataclass(frozen=True)
class PlacedPlanes:
    """Pictures, each placed, turned and shaped on its own (parallelograms in general).

    Attributes
    ----------
    centres : float64 (n, 3)
        Picture centres, metres.
    frames : float64 (n, 3, 3)
        Columns: the picture's full width from its left edge to its right (metres), the
        unit normal of its back (the picture side faces the other way) and its full
        height from bottom to top (metres). A unit plane in the xz plane facing −y maps
        onto the picture by this matrix; its determinant is positive.
    mirrored : bool (n,)
        Show the picture left-right swapped: its reflection then reads as the original.
    mirror_points : float64 (n, 3) or None
        Where the camera sees each picture's centre on the mirror (aimed layouts).
    """

    centres: np.ndarray
    frames: np.ndarray
    mirrored: np.ndarray
    mirror_points: np.ndarray | None = None

    def facing(self) -> np.ndarray:
        """Unit direction each picture faces, float64 (n, 3)."""
        return -self.frames[:, :, 1]

    def matrices(self) -> np.ndarray:
        """Object matrices of unit planes (edge 1, in the xz plane, facing −y), (n, 4, 4)."""
        out = np.zeros((len(self.centres), 4, 4))
        out[:, :3, :3] = self.frames
        out[:, :3, 3] = self.centres
        out[:, 3, 3] = 1.0
        return out

    def transformed(self, matrix: np.ndarray) -> PlacedPlanes:
        """The same pictures with every point mapped by ``matrix``.

        Parameters
        ----------
        matrix : float (4, 4)
            An affine map (e.g. the mirror object's world matrix: rotation, any scale).

        Returns
        -------
        PlacedPlanes
            Centres, edges and mirror points mapped; each normal is recomputed from the
            mapped edges (``normalize(height × width)``), so the frames stay what the
            mesh of a mapped picture is, skew included.
        """
        m = np.asarray(matrix, dtype=np.float64)
        lin, shift = m[:3, :3], m[:3, 3]
        width = self.frames[:, :, 0] @ lin.T
        height = self.frames[:, :, 2] @ lin.T
        normal = np.cross(height, width)
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        points = None if self.mirror_points is None else self.mirror_points @ lin.T + shift
        return PlacedPlanes(self.centres @ lin.T + shift, np.stack([width, normal, height], 2),
                            self.mirrored.copy(), points)

    def poses(self) -> tuple[np.ndarray, np.ndarray]:
        """Each picture as a rigid pose and a shape in its own axes.

        An object's transform keeps only location, rotation and scale, so a skewed
        frame assigned to one is lost (Blender decomposes it); a rigid pose survives
        exactly and the shape goes into the mesh.

        Returns
        -------
        poses : float64 (n, 4, 4)
            Rotation (proper, orthonormal) and the picture's centre.
        shapes : float64 (n, 3, 3)
            Upper triangular with a positive diagonal, ``frames = poses[:, :3, :3] @
            shapes``; row 1 is ``(0, 1, 0)``: the unit plane (xz) stays in the xz plane,
            its edges scaled and sheared to the picture's.
        """
        q, r = np.linalg.qr(self.frames)
        sign = np.where(np.diagonal(r, axis1=1, axis2=2) < 0, -1.0, 1.0)
        q, r = q * sign[:, None, :], r * sign[:, :, None]
        poses = np.zeros((len(self.centres), 4, 4))
        poses[:, :3, :3] = q
        poses[:, :3, 3] = self.centres
        poses[:, 3, 3] = 1.0
        return poses, r

    def corners(self) -> np.ndarray:
        """The four corners of each picture, float64 (n, 4, 3), metres, counter-clockwise
        from the bottom left as seen from the front."""
        signs = 0.5 * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
        right, up = self.frames[:, None, :, 0], self.frames[:, None, :, 2]
        return self.centres[:, None] + signs[None, :, :1] * right + signs[None, :, 1:] * up


# -- aimed at a camera ---------------------------------------------------------------------

#: Candidate mirror points: a (u, v) grid over the surface, off its very edges.
_CANDIDATES = (73, 25)
#: Distances tried from mirror point to picture, in wall heights.
_DISTANCES = np.array([0.35, 0.6, 1.0])
#: Largest ratio of a picture's two sides: where the mirror squashes a reflection more
#: than this, first order no longer describes it over a whole face.
_MAX_SQUASH = 3.0
#: Step in (u, v) of the differences that map image offsets to picture offsets.
_JAC_STEP = 1e-5
#: Most face planes any layout places (the add-on's and the scripts' limit too).
MAX_PLANES = 64


def aimed_layout(
    params: MirrorParams,
    camera: PinholeCamera,
    count: int,
    *,
    distance: float | None = None,
    face_height: float | None = None,
    obstacles: np.ndarray | None = None,
) -> PlacedPlanes:
    """Pictures placed where ``camera`` sees them in the mirror, spread over its image.

    For each chosen mirror point ``P`` (in the camera's view, seen directly, not grazing)
    the camera ray ``d`` is reflected about the exact surface normal there; the picture's
    centre is ``P + distance · reflect(d)``, facing ``P``. Its shape undoes the mirror's
    curvature to first order about ``P``: the picture is the parallelogram that the
    camera sees as an upright square ``face_height`` of the image high (an anamorphosis;
    a concave patch that turns things over gets a picture turned the other way). Where
    the reflection would read mirror-reversed, it is marked ``mirrored``. Each sight line
    stays clear of the mirror (no second bounce), of the ``obstacles`` and of the other
    pictures; pictures stay above the ground (z = 0) and clear of the wall.

    Parameters
    ----------
    params : MirrorParams
        The mirror.
    camera : PinholeCamera
        In the mirror's frame.
    count : int
        Number of pictures, 1 to 64.
    distance : float, optional
        Metres from the mirror point to the picture along the reflected ray. Default:
        per picture the nearest of 0.35, 0.6 and 1 wall height that keeps it clear of
        the wall (near, a curved patch of mirror distorts it less).
    face_height : float, optional
        Fraction of the image height each reflection spans. Default the largest of
        ``min(0.3, 0.45 / sqrt(count))`` times 1, 0.85, 0.85², … (six tries) at which
        ``count`` fit.
    obstacles : float64 (k, 4), optional
        Spheres ``(x, y, z, radius)`` no sight line may cross (e.g. the props).

    Returns
    -------
    PlacedPlanes
        With ``mirror_points``; ordered left to right in the image.

    Raises
    ------
    ValueError
        For a count, distance or face_height out of range, or when fewer than
        ``count`` pictures fit (naming how many do).
    """
    if not 1 <= count <= MAX_PLANES:
        raise ValueError(f"count={count!r} is out of range: allowed 1 to {MAX_PLANES}")
    given_height = face_height is not None
    if face_height is None:
        face_height = min(0.3, 0.45 / math.sqrt(count))
    if distance is not None and not (math.isfinite(distance) and distance > 0):
        raise ValueError(f"distance={distance!r} is out of range: allowed > 0 metres")
    if not (math.isfinite(face_height) and 0 < face_height <= 1):
        raise ValueError(f"face_height={face_height!r} is out of range: allowed 0 to 1")
    obst = np.zeros((0, 4)) if obstacles is None else np.asarray(obstacles, float).reshape(-1, 4)

    surf = Surface(params)
    # Chords sag ~0.2 % of the radius from the exact surface at this resolution: well
    # inside the 2 %-of-height margin the ray tests leave around their ends.
    tris = surface_triangles(surf, 64, 24)
    # Without a given height, smaller faces until ``count`` fit.
    heights = [face_height] if given_height else [face_height * 0.85**k for k in range(6)]
    for height in heights:
        placed, fitted = _aimed(surf, tris, camera, count, distance, height, obst)
        if placed is not None:
            return placed
    raise ValueError(f"only {fitted} of count={count} pictures fit where the camera "
                     "sees them in the mirror: ask for fewer")


def _aimed(surf: Surface, tris: np.ndarray, camera: PinholeCamera, count: int,
           distance: float | None, face_height: float,
           obst: np.ndarray) -> tuple[PlacedPlanes | None, int]:
    h = surf.params.height
    # Without a given distance, each mirror point takes the nearest of a few that fits:
    # near keeps the curved patch's distortion small, further clears the wall.
    dists = _DISTANCES * h if distance is None else np.array([distance])
    c = _concat([_candidates(surf, camera, dist, 2.0 * face_height, h) for dist in dists])
    cam = np.broadcast_to(camera.position, c.p.shape)
    # Cheap tests first: each picture's bounding sphere clear of the wall (it cannot cut
    # the mirror) and the sight lines clear of the obstacles.
    ok = nearest_distance(c.q, tris[:, 0]) > c.reach + 0.03 * h
    for sphere in obst:
        for a, b in ((cam, c.p), (c.p, c.q)):
            ok &= segment_distance(a, b, sphere[:3]) > sphere[3]
    skip = 0.02 * h
    # The camera's sight line is the same whatever the distance: test each point once.
    idx = np.flatnonzero(ok)
    points, back = np.unique(c.p[idx], axis=0, return_inverse=True)
    seen = ~segments_hit(np.broadcast_to(camera.position, points.shape), points, tris,
                         skip=skip)
    ok[idx] = seen[back.ravel()]
    idx = np.flatnonzero(ok)
    ok[idx] = ~segments_hit(c.p[idx], c.q[idx], tris, skip=skip)
    chosen = _choose(c, ok, count)
    if len(chosen) < count:
        return None, len(chosen)
    order = np.array(sorted(chosen, key=lambda i: c.xy[i, 0]))
    return PlacedPlanes(c.q[order], c.frames[order], c.mirrored[order], c.p[order]), count


@dataclass(frozen=True)
class _Candidates:
    """Mirror points that pass the cheap tests, with their pictures (arrays (k, ...))."""

    p: np.ndarray        # mirror points
    q: np.ndarray        # picture centres
    frames: np.ndarray   # picture width, back normal, height (columns)
    mirrored: np.ndarray
    reach: np.ndarray    # half the longer diagonal: the picture's bounding sphere
    xy: np.ndarray       # image position of p
    box: np.ndarray      # image half extent of the reflection, (k, 2)


def _concat(parts: list[_Candidates]) -> _Candidates:
    return _Candidates(*(np.concatenate([getattr(p, f.name) for p in parts])
                         for f in dataclasses.fields(_Candidates)))


def _candidates(surf: Surface, camera: PinholeCamera, distance: float, height: float,
                h: float) -> _Candidates:
    nu, nv = _CANDIDATES
    gu, gv = np.meshgrid(np.linspace(0.02, 0.98, nu), np.linspace(0.05, 0.95, nv))
    u, v = gu.ravel(), gv.ravel()
    p = surf.point(u, v)
    xy, depth = camera.screen(p)
    d = p - camera.position
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    n = surf.normal(u, v)
    keep = (depth > 0) & camera.inside(xy, 0.95) & (np.abs(np.sum(d * n, axis=1)) > 0.2)
    u, v, p, xy, d, n = u[keep], v[keep], p[keep], xy[keep], d[keep], n[keep]
    r = reflect(d, n)
    q = p + distance * r

    # Image offsets -> picture-plane offsets, to first order: differentiate the image
    # position (jf) and where the reflected ray crosses the picture's plane (jg) in (u, v).
    up0 = np.array([0.0, 0.0, 1.0]) - r[:, 2:] * r
    flat = np.linalg.norm(up0, axis=1) < 1e-6
    up0[flat] = np.array([0.0, 1.0, 0.0]) - r[flat, 1:2] * r[flat]
    e2 = up0 / np.linalg.norm(up0, axis=1, keepdims=True)
    e1 = np.cross(r, e2)
    jf = np.empty((len(u), 2, 2))
    jg = np.empty((len(u), 2, 2))
    for k, (du, dv) in enumerate(((_JAC_STEP, 0.0), (0.0, _JAC_STEP))):
        fs, gs = [], []
        for sign in (1.0, -1.0):
            uu, vv = u + sign * du, v + sign * dv
            pp = surf.point(uu, vv)
            dd = pp - camera.position
            dd /= np.linalg.norm(dd, axis=1, keepdims=True)
            rr = reflect(dd, surf.normal(uu, vv))
            t = np.sum((q - pp) * r, axis=1) / np.sum(rr * r, axis=1)
            hit = pp + t[:, None] * rr - q
            fs.append(camera.screen(pp)[0])
            gs.append(np.stack([np.sum(hit * e1, axis=1), np.sum(hit * e2, axis=1)], -1))
        jf[:, :, k] = (fs[0] - fs[1]) / (2 * _JAC_STEP)
        jg[:, :, k] = (gs[0] - gs[1]) / (2 * _JAC_STEP)
    good = (np.abs(np.linalg.det(jf)) > 1e-9) & (np.abs(np.linalg.det(jg)) > 1e-12)
    a = np.zeros_like(jf)
    a[good] = jg[good] @ np.linalg.inv(jf[good])  # picture offset per image offset
    # The picture is the parallelogram the camera sees as an upright square `height`
    # (image units) on a side.
    width = height * (a[:, 0, :1] * e1 + a[:, 1, :1] * e2)
    tall = height * (a[:, 0, 1:] * e1 + a[:, 1, 1:] * e2)
    # det[width, r, tall] < 0: the mirror shows it reversed; flip the width (a proper
    # plane) and swap the picture instead.
    mirrored = np.einsum("kj,kj->k", np.cross(width, r), tall) < 0
    width[mirrored] *= -1
    frames = np.stack([width, r, tall], -1)
    wl, tl = np.linalg.norm(width, axis=1), np.linalg.norm(tall, axis=1)
    reach = 0.5 * np.maximum(np.linalg.norm(width + tall, axis=1),
                             np.linalg.norm(width - tall, axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        squash = np.maximum(wl / tl, tl / wl)
        skew = np.abs(np.einsum("kj,kj->k", width, tall)) / (wl * tl)
    corners = q[:, None] + 0.5 * np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]])[None, :, :1] \
        * width[:, None] + 0.5 * np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]])[None, :, 1:] \
        * tall[:, None]
    # The whole reflection must fall on the mirror, to first order: the image square's
    # corners back on the surface stay inside its (u, v) domain.
    half = 0.5 * height * np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], float)
    with np.errstate(all="ignore"):
        uv = np.stack([u, v], -1)[:, None] + np.einsum("kij,cj->kci", np.linalg.pinv(jf), half)
    keep = good & (squash < _MAX_SQUASH) & (skew < 0.7) & (np.maximum(wl, tl) <= 1.5 * h)
    keep &= corners[..., 2].min(axis=1) > 0.02 * h
    keep &= camera.inside(xy[:, None] + half, 0.98).all(axis=1)
    keep &= ((uv > 0.005) & (uv < 0.995)).all(axis=(1, 2))
    box = np.full((len(u), 2), 0.5 * height)
    return _Candidates(p[keep], q[keep], frames[keep], mirrored[keep], reach[keep], xy[keep],
                       box[keep])


def _choose(c: _Candidates, ok: np.ndarray, count: int) -> list[int]:
    """Up to ``count`` usable candidates spread evenly over the image, none in another's way.

    k-means on the image positions of the usable candidates (farthest-point start)
    gives ``count`` evenly spread targets; each takes the nearest candidate still
    compatible with those chosen before (:func:`_compatible`); targets left without one
    are replaced by the compatible candidate farthest from the chosen.
    """
    usable = np.flatnonzero(ok)
    if len(usable) == 0:
        return []
    pts = c.xy[usable]
    centres = [pts[np.argmin(np.linalg.norm(pts - pts.mean(0), axis=1))]]
    while len(centres) < min(count, len(pts)):
        dist = np.min([np.linalg.norm(pts - m, axis=1) for m in centres], axis=0)
        centres.append(pts[np.argmax(dist)])
    targets = np.array(centres)
    for _ in range(30):
        label = np.linalg.norm(pts[:, None] - targets[None], axis=2).argmin(axis=1)
        targets = np.array([pts[label == k].mean(0) if (label == k).any() else targets[k]
                            for k in range(len(targets))])
    free = np.ones(len(usable), dtype=bool)
    chosen: list[int] = []
    for target in targets:
        left = np.flatnonzero(free)
        if len(left) == 0:
            break
        j = left[np.argmin(np.linalg.norm(pts[left] - target, axis=1))]
        chosen.append(int(usable[j]))
        free &= _compatible(c, usable, chosen[-1])
    while len(chosen) < count and free.any():
        far = np.min([np.linalg.norm(pts - c.xy[k], axis=1) for k in chosen], axis=0)
        j = int(np.argmax(np.where(free, far, -np.inf)))
        chosen.append(int(usable[j]))
        free &= _compatible(c, usable, chosen[-1])
    return chosen


def _compatible(c: _Candidates, idx: np.ndarray, k: int) -> np.ndarray:
    """Whether each picture ``idx`` (m,) and picture ``k`` stay apart in the image and out
    of each other's way: neither cuts the other, nor the pyramid of sight lines from the
    other's mirror point to its corners. bool (m,)."""
    apart = ~(np.abs(c.xy[idx] - c.xy[k]) < 1.08 * (c.box[idx] + c.box[k])).all(axis=1)
    seg_a, seg_b = _outline(c.p[idx], c.q[idx], c.frames[idx])      # (m, 9, 3)
    mine_a, mine_b = _outline(c.p[k:k + 1], c.q[k:k + 1], c.frames[k:k + 1])
    hit_k = segments_cross(seg_a, seg_b, c.q[k], c.frames[k]).any(axis=1)
    hit_i = segments_cross(mine_a, mine_b, c.q[idx, None], c.frames[idx, None]).any(axis=1)
    return apart & ~hit_k & ~hit_i


def _outline(p: np.ndarray, q: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A picture's four edges and its five sight lines from the mirror point (to the
    corners and the centre): start and end points, each (m, 9, 3)."""
    signs = 0.5 * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    corners = (q[:, None] + signs[None, :, :1] * frames[:, None, :, 0]
               + signs[None, :, 1:] * frames[:, None, :, 2])
    ends = np.concatenate([np.roll(corners, 1, axis=1), corners, q[:, None]], axis=1)
    starts = np.concatenate([corners, np.broadcast_to(p[:, None], corners.shape),
                             p[:, None]], axis=1)
    return starts, ends
