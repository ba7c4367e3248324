"""The reflected-light map on the ground (or on a horizontal plane at person height).

``concentration[j, i]`` is the reflected irradiance in cell ``(row j, column i)`` over
the direct normal irradiance (DNI): reflected light only, the sun's own light on the
ground is not in it. 1 is "as bright as the sun face-on"; a burning-glass hot spot is
tens. Cells are squares of ``cell`` metres, row 0 at the smallest y.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..params import MirrorParams
from .engine import Engine
from .mirror import DEFAULT_FACET, MirrorModel, mirror_from_params
from .sun import Sun
from .trace import Segments, TraceTotals, trace

__all__ = ["Extent", "HotSpotMap", "default_extent", "hot_spot_map", "map_for_params"]

#: Extent = (x0, x1, y0, y1), metres.
Extent = tuple[float, float, float, float]


@dataclass(frozen=True, eq=False)
class HotSpotMap:
    """A traced map and its bookkeeping.

    Attributes
    ----------
    concentration : float64 (ny, nx)
        Reflected irradiance / DNI per cell.
    sq_power : float64 (ny, nx)
        Sum of squared ray powers per cell (m⁴), for the noise estimate.
    extent : (x0, x1, y0, y1)
        Metres; ``x1 - x0 == nx * cell``.
    cell : float
        Cell size, metres.
    height : float
        The receiving plane's height, metres (0: the ground).
    sun : Sun
    reflectance : float
    totals : TraceTotals
    on_plane : float
        Reflected power crossing the plane, m² × DNI (inside the map or not).
    outside : float
        Of that, the part landing outside the map's extent.
    footprint : float64 (k, 2)
        The wall's outline on the ground, metres (for drawing).
    """

    concentration: np.ndarray
    sq_power: np.ndarray
    extent: Extent
    cell: float
    height: float
    sun: Sun
    reflectance: float
    totals: TraceTotals
    on_plane: float
    outside: float
    footprint: np.ndarray = field(repr=False)

    @property
    def peak_concentration(self) -> float:
        return float(self.concentration.max())

    @property
    def peak_index(self) -> tuple[int, int]:
        """``(row, column)`` of the brightest cell."""
        j, i = np.unravel_index(int(np.argmax(self.concentration)), self.concentration.shape)
        return int(j), int(i)

    @property
    def peak_xy(self) -> tuple[float, float]:
        """Centre of the brightest cell, metres."""
        j, i = self.peak_index
        x0, _, y0, _ = self.extent
        return x0 + (i + 0.5) * self.cell, y0 + (j + 0.5) * self.cell

    @property
    def peak_noise(self) -> float:
        """Relative standard error of the brightest cell (Monte Carlo), e.g. 0.02 = 2 %."""
        j, i = self.peak_index
        total = self.concentration[j, i] * self.cell**2
        return float(math.sqrt(self.sq_power[j, i]) / total) if total > 0 else 0.0

    def report(self) -> dict[str, Any]:
        """The JSON report's fields (plain floats and lists)."""
        t = self.totals

        def frac(x: float) -> float:
            return x / t.intercepted if t.intercepted > 0 else 0.0

        return {
            "sun_elevation_deg": self.sun.elevation_deg,
            "sun_azimuth_deg": self.sun.azimuth_deg,
            "sun_disc_deg": self.sun.disc_deg,
            "reflectance": self.reflectance,
            "receiver_height_m": self.height,
            "cell_m": self.cell,
            "extent_m": list(self.extent),
            "rays": t.rays,
            "peak_concentration": self.peak_concentration,
            "peak_xy": list(self.peak_xy),
            "peak_relative_noise": self.peak_noise,
            "intercepted_area_m2": t.intercepted,
            "fraction_to_ground": frac(t.to_ground),
            "fraction_on_plane": frac(self.on_plane),
            "fraction_escaped_up": frac(t.escaped_up),
            "fraction_absorbed": frac(t.absorbed),
            "fraction_trapped": frac(t.trapped),
            "fraction_outside_map": frac(self.outside),
            "max_bounces_seen": t.max_bounce_seen,
        }


def default_extent(mirror: MirrorModel, cell: float, margin: float | None = None) -> Extent:
    """The wall's ground bounding box plus ``margin`` (default: twice the wall's height).

    Centred on the box's centre and a whole number of cells wide, so a point-symmetric
    wall gets a point-symmetric grid.
    """
    v = mirror.vertices
    lo, hi = v[:, :2].min(0), v[:, :2].max(0)
    if margin is None:
        margin = max(2.0 * float(v[:, 2].max()), 1.0)
    c = 0.5 * (lo + hi)
    half = 0.5 * (hi - lo) + margin
    nx, ny = (np.ceil(2.0 * half / cell)).astype(int)
    return (float(c[0] - nx * cell / 2), float(c[0] + nx * cell / 2),
            float(c[1] - ny * cell / 2), float(c[1] + ny * cell / 2))


class _Deposit:
    """Accumulates segment crossings of the plane z = height into the grid."""

    def __init__(self, extent: Extent, cell: float, height: float) -> None:
        self.x0, self.x1, self.y0, self.y1 = extent
        self.cell, self.height = cell, height
        self.nx = round((self.x1 - self.x0) / cell)
        self.ny = round((self.y1 - self.y0) / cell)
        self.power = np.zeros(self.nx * self.ny)
        self.sq = np.zeros(self.nx * self.ny)
        self.on_plane = 0.0
        self.outside = 0.0

    def __call__(self, seg: Segments) -> None:
        dz = seg.directions[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (self.height - seg.origins[:, 2]) / dz
        # A hit at the wall's foot may sit a float32 step below z = 0: keep it.
        ok = (t > -1e-6) & (t < seg.length) & np.isfinite(t)
        if not ok.any():
            return
        t, o, d, w = t[ok], seg.origins[ok], seg.directions[ok], seg.power[ok]
        x = o[:, 0] + t * d[:, 0]
        y = o[:, 1] + t * d[:, 1]
        self.on_plane += float(w.sum())
        i = np.floor((x - self.x0) / self.cell)
        j = np.floor((y - self.y0) / self.cell)
        inside = (i >= 0) & (i < self.nx) & (j >= 0) & (j < self.ny)
        self.outside += float(w[~inside].sum())
        flat = (j[inside] * self.nx + i[inside]).astype(np.int64)
        w = w[inside]
        self.power += np.bincount(flat, weights=w, minlength=self.power.size)
        self.sq += np.bincount(flat, weights=w * w, minlength=self.sq.size)


def hot_spot_map(
    mirror: MirrorModel,
    sun: Sun,
    *,
    cell: float = 0.05,
    extent: Extent | None = None,
    height: float = 0.0,
    rays: int = 1_000_000,
    reflectance: float = 0.9,
    max_bounces: int = 16,
    seed: int = 0,
    engine: Engine | None = None,
) -> HotSpotMap:
    """Trace ``mirror`` in ``sun`` and map the reflected irradiance on the plane z = ``height``.

    Parameters
    ----------
    cell : float
        Cell size, metres (0.001 to 10).
    extent : (x0, x1, y0, y1), optional
        Metres; default :func:`default_extent`. Widths are rounded to whole cells.
    height : float
        The receiving plane, metres above the ground (0 to 1000): e.g. 1.7 for a
        person's head. Rays crossing it either way count; it blocks nothing.
    rays, reflectance, max_bounces, seed, engine
        As in :func:`~scurve_geom.optics.trace.trace`.
    """
    if not (math.isfinite(cell) and 1e-3 <= cell <= 10.0):
        raise ValueError(f"cell={cell!r} is out of range: allowed 0.001 to 10 metres")
    if not (math.isfinite(height) and 0.0 <= height <= 1000.0):
        raise ValueError(f"height={height!r} is out of range: allowed 0 to 1000 metres")
    if extent is None:
        extent = default_extent(mirror, cell)
    x0, x1, y0, y1 = (float(e) for e in extent)
    if not all(map(math.isfinite, (x0, x1, y0, y1))) or x1 <= x0 or y1 <= y0:
        raise ValueError(f"extent={extent!r} must be finite with x0 < x1 and y0 < y1 (metres)")
    nx, ny = max(1, round((x1 - x0) / cell)), max(1, round((y1 - y0) / cell))
    if nx * ny > 25_000_000:
        raise ValueError(f"the map would have {nx * ny} cells: allowed at most 25000000 "
                         "(a larger cell or a smaller extent)")
    extent = (x0, x0 + nx * cell, y0, y0 + ny * cell)
    dep = _Deposit(extent, cell, height)
    totals = trace(mirror, sun, dep, rays=rays, reflectance=reflectance,
                   max_bounces=max_bounces, seed=seed, engine=engine)
    area = cell * cell
    return HotSpotMap(
        concentration=dep.power.reshape(ny, nx) / area,
        sq_power=dep.sq.reshape(ny, nx),
        extent=extent, cell=cell, height=height, sun=sun, reflectance=reflectance,
        totals=totals, on_plane=dep.on_plane, outside=dep.outside,
        footprint=mirror.footprint(),
    )


def map_for_params(
    params: MirrorParams, sun: Sun, *, facet: float = DEFAULT_FACET, **kwargs: Any
) -> HotSpotMap:
    """:func:`hot_spot_map` for the exact surface of ``params`` (see :func:`mirror_from_params`)."""
    return hot_spot_map(mirror_from_params(params, facet), sun, **kwargs)
