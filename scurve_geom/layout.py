"""Where things stand around the mirror: picture planes that the mirror shows.

Positions are in the mirror's own frame (metres; z up, seam on the z axis, the front
toward −y, the concave half on −x). The fixed arrangements (:func:`face_plane_layout`)
stand upright planes facing a point on the mirror; :func:`aimed_layout` works back from
a known camera: it picks points of the mirror the camera sees, reflects the camera's
rays there about the exact surface normal, and puts each picture on its reflected ray,
facing back, turned and sized so the camera sees it upright and large.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .params import MirrorParams
from .rays import PinholeCamera, reflect, segments_hit, surface_normal, surface_triangles
from .surface import Surface

__all__ = ["LAYOUTS", "PlacedPlanes", "PlaneLayout", "aimed_layout", "face_plane_layout"]

#: Arrangements of the planes: an arc in front of the concave half, a straight row
#: parallel to the wall, or a ring around the whole sculpture.
LAYOUTS = ("arc", "row", "ring")


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

    def corners(self) -> np.ndarray:
        """The four corners of each picture, float64 (n, 4, 3), metres, counter-clockwise
        from the bottom left as seen from the front."""
        signs = 0.5 * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
        right, up = self.frames[:, None, :, 0], self.frames[:, None, :, 2]
        return self.centres[:, None] + signs[None, :, :1] * right + signs[None, :, 1:] * up


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
    if not 1 <= count <= 64:
        raise ValueError(f"count={count!r} is out of range: allowed 1 to 64")
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


# -- aimed at a camera ---------------------------------------------------------------------

#: Candidate mirror points: a (u, v) grid over the surface, off its very edges.
_CANDIDATES = (97, 33)
#: Distances tried from mirror point to picture, in wall heights.
_DISTANCES = np.array([0.35, 0.6, 1.0])
#: Largest ratio of a picture's two sides: where the mirror squashes a reflection more
#: than this, first order no longer describes it over a whole face.
_MAX_SQUASH = 3.0
#: Step in (u, v) of the differences that map image offsets to picture offsets.
_JAC_STEP = 1e-5


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
    if not 1 <= count <= 64:
        raise ValueError(f"count={count!r} is out of range: allowed 1 to 64")
    given_height = face_height is not None
    if face_height is None:
        face_height = min(0.3, 0.45 / math.sqrt(count))
    if distance is not None and not (math.isfinite(distance) and distance > 0):
        raise ValueError(f"distance={distance!r} is out of range: allowed > 0 metres")
    if not (math.isfinite(face_height) and 0 < face_height <= 1):
        raise ValueError(f"face_height={face_height!r} is out of range: allowed 0 to 1")
    obst = np.zeros((0, 4)) if obstacles is None else np.asarray(obstacles, float).reshape(-1, 4)

    surf = Surface(params)
    tris = surface_triangles(surf)
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
    ok = _nearest(c.q, tris[:, 0]) > c.reach + 0.03 * h
    for sphere in obst:
        for a, b in ((cam, c.p), (c.p, c.q)):
            ok &= _segment_distance(a, b, sphere[:3]) > sphere[3]
    skip = 0.02 * h
    idx = np.flatnonzero(ok)
    ok[idx] = ~segments_hit(cam[idx], c.p[idx], tris, skip=skip)
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
    n = surface_normal(surf, u, v)
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
            rr = reflect(dd, surface_normal(surf, uu, vv))
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


def _nearest(points: np.ndarray, cloud: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Distance from each of ``points`` (k, 3) to the nearest of ``cloud`` (m, 3)."""
    out = np.empty(len(points))
    for s in range(0, len(points), chunk):
        diff = points[s:s + chunk, None] - cloud[None]
        out[s:s + chunk] = np.sqrt(np.einsum("kmj,kmj->km", diff, diff).min(axis=1))
    return out


def _segment_distance(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Distance from point ``x`` (3,) to each segment ``a[i] → b[i]`` (k, 3)."""
    ab = b - a
    t = np.clip(np.sum((x - a) * ab, axis=1) / np.maximum(np.sum(ab * ab, axis=1), 1e-300),
                0.0, 1.0)
    return np.linalg.norm(a + t[:, None] * ab - x, axis=1)


def _choose(c: _Candidates, ok: np.ndarray, count: int) -> list[int]:
    """Up to ``count`` usable candidates spread evenly over the image, none in another's way.

    k-means on the image positions of the usable candidates (farthest-point start)
    gives ``count`` evenly spread targets; each takes the nearest candidate that does
    not overlap a chosen one in the image, in space, or on its reflected sight line.
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
    chosen: list[int] = []
    for target in targets:
        for j in np.argsort(np.linalg.norm(pts - target, axis=1), kind="stable"):
            i = int(usable[j])
            if all(_compatible(c, i, k) for k in chosen):
                chosen.append(i)
                break
    # A target whose neighbourhood was taken: fill in farthest from the chosen first.
    while 0 < len(chosen) < count:
        far = np.min([np.linalg.norm(pts - c.xy[k], axis=1) for k in chosen], axis=0)
        extra = next((int(usable[j]) for j in np.argsort(-far, kind="stable")
                      if all(_compatible(c, int(usable[j]), k) for k in chosen)), None)
        if extra is None:
            break
        chosen.append(extra)
    return chosen


def _compatible(c: _Candidates, i: int, k: int) -> bool:
    """Whether pictures ``i`` and ``k`` stay apart in the image and out of each other's way:
    neither cuts the other, nor the pyramid of sight lines from its mirror point."""
    if (np.abs(c.xy[i] - c.xy[k]) < 1.08 * (c.box[i] + c.box[k])).all():
        return False
    for a, b in ((i, k), (k, i)):
        corners = _corners(c.q[a], c.frames[a])
        edges = (corners, np.roll(corners, 1, axis=0))
        sight = (np.broadcast_to(c.p[a], (5, 3)), np.vstack([corners, c.q[a]]))
        for start, end in (edges, sight):
            if _crosses(start, end, c.q[b], c.frames[b]).any():
                return False
    return True


def _corners(centre: np.ndarray, frame: np.ndarray) -> np.ndarray:
    signs = 0.5 * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    return centre + signs[:, :1] * frame[:, 0] + signs[:, 1:] * frame[:, 2]


def _crosses(a: np.ndarray, b: np.ndarray, centre: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Whether segments ``a[i] → b[i]`` (k, 3) cross the parallelogram (with a 5 % rim)."""
    normal = frame[:, 1]
    da, db = (a - centre) @ normal, (b - centre) @ normal
    crossing = da * db <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(crossing, da / (da - db), 0.0)
    x = a + t[:, None] * (b - a) - centre
    coords = np.linalg.lstsq(frame[:, [0, 2]], x.T, rcond=None)[0].T
    return crossing & (np.abs(coords) <= 0.55).all(axis=1)
