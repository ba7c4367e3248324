"""Follow sunlight onto the mirror and through its reflections.

Rays start on a plane across the sun's direction, beyond the mirror, spread uniformly
over tiles covering the mirror's silhouette (:class:`Beam`), with directions spread over
the sun's disc. Each ray carries the power of its share of those tiles (the direct
normal irradiance, DNI, is 1): a ray's power is an area in m², so powers summed per
m² of ground are multiples of DNI. Hits reflect about the exact surface normal,
losing ``1 - reflectance`` each time, and go on until they leave the mirror. The first
hit does the wall's self-shadowing; later hits the concave half reflecting into itself.

Every straight piece of a reflected ray is handed to a callback as :class:`Segments`,
so what is measured (a ground map, a receiver plane, a focal search) lives elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .engine import Engine, default_engine
from .mirror import MirrorModel
from .sun import Sun

__all__ = ["DEFAULT_CHUNK", "Beam", "Segments", "TraceTotals", "trace"]

#: Rays per batch: big enough that the engine's per-call overhead vanishes, small
#: enough that the per-ray arrays stay around 100 MB.
DEFAULT_CHUNK = 1 << 18


@dataclass(frozen=True)
class Segments:
    """Straight pieces of reflected rays, after reflection number ``bounce`` (1 = first).

    Attributes
    ----------
    origins, directions : float64 (n, 3)
        Start (the hit point on the mirror's facet, metres) and unit direction.
    power : float64 (n,)
        m² × DNI: the ray's share of the sampled beam times ``reflectance ** bounce``.
    length : float64 (n,)
        Metres to the next mirror hit, ``inf`` when the ray leaves the mirror for good.
    bounce : int
    """

    origins: np.ndarray
    directions: np.ndarray
    power: np.ndarray
    length: np.ndarray
    bounce: int


@dataclass
class TraceTotals:
    """Power bookkeeping of a trace, in m² × DNI (W per W/m² of DNI).

    ``intercepted`` = the mirror's area as the sun sees it; of that, ``to_ground``
    leaves the mirror downward, ``escaped_up`` upward, ``trapped`` was still bouncing
    after ``max_bounces``, and the rest was absorbed by the mirror.
    """

    rays: int = 0
    sampled_area: float = 0.0
    intercepted: float = 0.0
    to_ground: float = 0.0
    escaped_up: float = 0.0
    trapped: float = 0.0
    max_bounce_seen: int = 0

    @property
    def absorbed(self) -> float:
        return self.intercepted - self.to_ground - self.escaped_up - self.trapped


class Beam:
    """Where the sun rays start: tiles of a plane across the sun, beyond the mirror.

    The plane is cut into square tiles; only tiles the mirror's silhouette can reach
    (a tile holding a projected vertex, and its 8 neighbours) get rays. A tile is at
    least as wide as the longest projected edge plus the drift of rays tilted across
    the sun's disc, so every triangle's shadow lies inside the kept tiles: the estimate
    stays unbiased while most of the rays that would miss the wall are never made.
    """

    def __init__(self, mirror: MirrorModel, sun: Sun, max_tiles: int = 1 << 16) -> None:
        s, e1, e2 = sun.basis()
        v = mirror.vertices
        centre = 0.5 * (v.min(0) + v.max(0))
        rel = v - centre
        a, b = rel @ e1, rel @ e2
        depth = rel @ s
        back = float(depth.max()) + 1.0
        drift = (back - float(depth.min())) * math.tan(math.radians(sun.disc_deg) / 2.0)
        tri = mirror.triangles
        edges = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
        longest = float(np.hypot(a[edges[:, 0]] - a[edges[:, 1]],
                                 b[edges[:, 0]] - b[edges[:, 1]]).max())
        a0, b0 = float(a.min()), float(b.min())
        span = max(float(a.max()) - a0, float(b.max()) - b0, 1e-9)
        tile = max(longest, drift, 1e-6) * 1.01
        tile = max(tile, span / math.sqrt(max_tiles) * 1.01)
        # One tile of margin all round for the neighbours.
        a0 -= tile
        b0 -= tile
        ia = np.floor((a - a0) / tile).astype(np.int64)
        ib = np.floor((b - b0) / tile).astype(np.int64)
        na, nb = int(ia.max()) + 2, int(ib.max()) + 2
        occupied = np.zeros((na, nb), dtype=bool)
        for da in (-1, 0, 1):
            for db in (-1, 0, 1):
                occupied[ia + da, ib + db] = True
        ta, tb = np.nonzero(occupied)
        self.tile = tile
        self.tiles = np.column_stack([a0 + ta * tile, b0 + tb * tile])  # lower corners
        self.origin = centre + back * s
        self.e1, self.e2 = e1, e2

    @property
    def area(self) -> float:
        """Area of the kept tiles, m²."""
        return float(self.tiles.shape[0] * self.tile**2)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` ray origins spread uniformly over the kept tiles, float32 (n, 3).

        Single precision, as the ray engine takes them (a few µm at 10 m).
        """
        k = rng.integers(0, self.tiles.shape[0], n)
        tile = np.float32(self.tile)
        fa = self.tiles[k, 0].astype(np.float32) + rng.random(n, dtype=np.float32) * tile
        fb = self.tiles[k, 1].astype(np.float32) + rng.random(n, dtype=np.float32) * tile
        o, e1, e2 = (v.astype(np.float32) for v in (self.origin, self.e1, self.e2))
        out = np.empty((n, 3), dtype=np.float32)
        for j in range(3):
            out[:, j] = o[j] + fa * e1[j] + fb * e2[j]
        return out


def trace(
    mirror: MirrorModel,
    sun: Sun,
    on_segments: Callable[[Segments], None],
    *,
    rays: int = 1_000_000,
    reflectance: float = 0.9,
    max_bounces: int = 16,
    seed: int = 0,
    engine: Engine | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> TraceTotals:
    """Trace ``rays`` sun rays; call ``on_segments`` with every reflected piece.

    Parameters
    ----------
    mirror : MirrorModel
    sun : Sun
        A sun at or below the horizon lights nothing (all totals 0).
    rays : int
        Rays over the beam rectangle (1 to 10⁹); the ones that miss cost one query.
    reflectance : float
        Fraction of power kept per reflection, 0 to 1.
    max_bounces : int
        Reflections followed per ray (1 to 1000); power still bouncing after them is
        reported as ``trapped``.
    seed : int
        Seed of numpy's default generator: equal seeds give equal results.
    engine : Engine, optional
        Built over ``mirror``'s triangles; Embree when omitted.

    Returns
    -------
    TraceTotals
    """
    if not (isinstance(rays, int) and 1 <= rays <= 10**9):
        raise ValueError(f"rays={rays!r} is out of range: allowed 1 to 1000000000")
    if not (math.isfinite(reflectance) and 0.0 <= reflectance <= 1.0):
        raise ValueError(f"reflectance={reflectance!r} is out of range: allowed 0 to 1")
    if not (isinstance(max_bounces, int) and 1 <= max_bounces <= 1000):
        raise ValueError(f"max_bounces={max_bounces!r} is out of range: allowed 1 to 1000")
    totals = TraceTotals(rays=rays)
    if sun.elevation_deg <= 0.0:
        return totals
    if engine is None:
        engine = default_engine(mirror.vertices, mirror.triangles)
    beam = Beam(mirror, sun)
    totals.sampled_area = beam.area
    weight = totals.sampled_area / rays
    size = float(np.linalg.norm(np.ptp(mirror.vertices, axis=0)))
    eps = 1e-5 * max(size, 1.0)
    rng = np.random.default_rng(seed)
    tri_coords = _triangle_coords(mirror)
    done = 0
    while done < rays:
        n = min(chunk, rays - done)
        done += n
        origins = beam.sample(rng, n)
        directions = sun.sample_directions(rng, n)
        np.negative(directions, out=directions)
        _follow(mirror, engine, origins, directions, weight, reflectance, max_bounces,
                 eps, totals, on_segments, tri_coords)
    return totals


def _triangle_coords(mirror: MirrorModel) -> np.ndarray | None:
    """Per triangle: the first corner's coordinates and the two edges', float64 (M, 3, 2),
    so a hit's coordinates are one gather and two multiply-adds. None for a uniform grid
    (:attr:`MirrorModel.grid_shape`), whose coordinates follow from the index alone."""
    if mirror.grid_shape is not None:
        return None
    c = mirror.coords[mirror.triangles]
    c[:, 1:] -= c[:, :1]
    return c


def _hit_coords(
    mirror: MirrorModel, tri: np.ndarray, bary: np.ndarray, tri_coords: np.ndarray | None
) -> np.ndarray:
    """Surface coordinates of hits, float64 (n, 2)."""
    if tri_coords is not None:
        t = tri_coords[tri]
        return t[:, 0] + bary[:, :1] * t[:, 1] + bary[:, 1:] * t[:, 2]
    # Grid quads split (0, 1, 2), (0, 2, 3): in the first half the step along u is
    # b1 + b2 and along v b2; in the second, b1 and b1 + b2.
    rows, cols = mirror.grid_shape  # type: ignore[misc]
    quad, second = np.divmod(tri, 2)
    j, i = np.divmod(quad, cols - 1)
    b1, b2 = bary[:, 0], bary[:, 1]
    total = b1 + b2
    out = np.empty((tri.size, 2))
    out[:, 0] = (i + np.where(second, b1, total)) / (cols - 1)
    out[:, 1] = (j + np.where(second, total, b2)) / (rows - 1)
    return out


def _normals_at(
    mirror: MirrorModel, tri: np.ndarray, bary: np.ndarray, tri_coords: np.ndarray | None
) -> np.ndarray:
    n = mirror.normal_fn(_hit_coords(mirror, tri, bary, tri_coords))
    bad = ~np.isfinite(n[:, 0])
    if bad.any():
        v = mirror.vertices
        k = mirror.triangles[tri[bad]]
        facet = np.cross(v[k[:, 1]] - v[k[:, 0]], v[k[:, 2]] - v[k[:, 0]])
        n[bad] = facet / np.linalg.norm(facet, axis=1)[:, None]
    return n


def _follow(
    mirror: MirrorModel, engine: Engine, origins: np.ndarray, directions: np.ndarray,
    weight: float, reflectance: float, max_bounces: int, eps: float, totals: TraceTotals,
    on_segments: Callable[[Segments], None], tri_coords: np.ndarray | None,
) -> None:
    hits = engine.intersect(origins, directions)
    keep = hits.triangle >= 0
    totals.intercepted += weight * int(keep.sum())
    d = directions[keep]
    p = origins[keep] + hits.distance[keep, None] * d
    tri, bary = hits.triangle[keep], hits.bary[keep]
    power = np.full(d.shape[0], weight * reflectance)
    for bounce in range(1, max_bounces + 1):
        if not d.shape[0]:
            return
        totals.max_bounce_seen = max(totals.max_bounce_seen, bounce)
        n = _normals_at(mirror, tri, bary, tri_coords)
        dn = np.einsum("ij,ij->i", d, n)
        d = d - (2.0 * dn)[:, None] * n
        # Start a hair off the surface on the side the light leaves from, so the ray
        # cannot find the surface it starts on.
        o = p + eps * d
        o += np.where(dn < 0.0, eps, -eps)[:, None] * n
        hits = engine.intersect(o, d)
        again = hits.triangle >= 0
        on_segments(Segments(p, d, power, hits.distance, bounce))
        leaving = ~again
        down = leaving & (d[:, 2] < 0.0)
        totals.to_ground += float(power[down].sum())
        totals.escaped_up += float(power[leaving & ~down].sum())
        d, tri, bary = d[again], hits.triangle[again], hits.bary[again]
        p = o[again] + hits.distance[again, None] * d
        power = power[again] * reflectance
    # Still bouncing: the power it carried into this last hit, before absorbing it.
    totals.trapped += float(power.sum()) / reflectance if reflectance > 0 else 0.0
