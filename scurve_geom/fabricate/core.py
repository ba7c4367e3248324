"""Panels, their flat patterns and how hard each is to form: :func:`fabricate`."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..params import MirrorParams
from ..surface import Surface
from .differential import derivatives, panel_area, principal_curvatures
from .flatten import Flattening, flatten, grid_triangles
from .layout import Cell, cells, initial_counts, side_lengths

__all__ = ["CLASSES", "Fabrication", "FabricationOptions", "Panel", "classify", "fabricate"]

#: Forming classes by the flattening's largest principal strain: a plate within 0.5 %
#: takes its shape from rolling alone; up to 2 % it needs an English wheel or a stretch
#: press; beyond that it should be cut smaller.
CLASSES = (("rollable", 0.005), ("wheel or stretch-form", 0.02), ("split it", math.inf))


#: Most panels :func:`fabricate` makes: beyond this the plate is too small for the wall
#: (a typo, e.g. centimetres given as metres) and the flattening would run for minutes.
MAX_PANELS = 600


def classify(strain: float) -> str:
    """The forming class of a panel whose flattening strain is ``strain`` (dimensionless)."""
    return next(name for name, limit in CLASSES if strain <= limit)


def _meta(doc: str, lo: float, hi: float, unit: str) -> Any:
    return {"doc": doc, "min": lo, "max": hi, "unit": unit}


@dataclass(frozen=True)
class FabricationOptions:
    """How the wall is made: stock plate, thickness, material, allowances, mesh.

    Lengths in metres, density in kg/m³. Invalid values raise ValueError naming the
    option, the value and the allowed range.
    """

    plate_width: float = field(default=2.0, metadata=_meta(
        "Stock plate length along the grain (along the wall), m", 0.05, 100.0, "m"))
    plate_height: float = field(default=1.5, metadata=_meta(
        "Stock plate width across the grain (up the wall), m", 0.05, 100.0, "m"))
    thickness: float = field(default=0.010, metadata=_meta(
        "Plate thickness, m", 1e-4, 0.2, "m"))
    density: float = field(default=8000.0, metadata=_meta(
        "Plate density, kg/m³ (8000: stainless 316L)", 100.0, 30000.0, "kg/m3"))
    seam_allowance: float = field(default=0.0, metadata=_meta(
        "Extra material around every pattern for fitting and welding, m", 0.0, 0.2, "m"))
    gap: float = field(default=0.010, metadata=_meta(
        "Clearance between nested patterns and to the plate's edge (kerf), m", 0.0, 0.5, "m"))
    segment: float = field(default=0.04, metadata=_meta(
        "Target edge length of the mesh each panel is flattened on, m", 0.002, 1.0, "m"))

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            lo, hi = f.metadata["min"], f.metadata["max"]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{f.name}={value!r} must be a number")
            if not math.isfinite(value) or not lo <= value <= hi:
                raise ValueError(f"{f.name}={value!r} is out of range: allowed {lo:g} to "
                                 f"{hi:g} {f.metadata['unit']}")
        for name in ("plate_width", "plate_height"):
            if 2.0 * (self.seam_allowance + self.gap) >= getattr(self, name):
                raise ValueError(f"seam_allowance + gap ({self.seam_allowance + self.gap:g} m "
                                 f"each side) leaves no room on a {name} of "
                                 f"{getattr(self, name):g} m")

    @property
    def usable(self) -> tuple[float, float]:
        """The pattern size a plate holds: plate minus allowance and gap on every side, m."""
        margin = 2.0 * (self.seam_allowance + self.gap)
        return self.plate_width - margin, self.plate_height - margin


@dataclass(frozen=True)
class Panel:
    """One plate of the wall: where it sits, its flat pattern and its numbers."""

    cell: Cell
    grid: tuple[int, int]
    vertices: np.ndarray           # float64 (nu*nv, 3), metres, on the surface
    params: np.ndarray             # float64 (nu*nv, 2), (u, v); grid rows run away from the seam
    triangles: np.ndarray          # int64 (m, 3), counter-clockwise seen from the front
    flat: Flattening
    area: float                    # m², on the surface (analytic)
    sides: dict[str, float]        # m, on the surface
    curvature_max: float           # 1/m, largest |principal curvature| (inf: pinched)
    bending_strain: float          # t / 2R at the sharpest point (inf: pinched)
    mass: float                    # kg
    pinched: bool                  # holds a point of unbounded curvature

    @property
    def name(self) -> str:
        """The panel's label, e.g. ``B-R1-C2``."""
        return self.cell.name

    @property
    def size(self) -> tuple[float, float]:
        """Flat pattern's bounding box along and across the grain, metres (no allowance)."""
        w, h = self.flat.uv.max(axis=0)
        return float(w), float(h)

    @property
    def strain_class(self) -> str:
        """Forming class from the flattening strain (see :data:`CLASSES`)."""
        return classify(self.flat.strain_max)

    def outline(self) -> np.ndarray:
        """The pattern's outline, float64 (k, 2), metres, counter-clockwise, not closed.

        Starts at the panel's bottom corner on the seam side.
        """
        nu, nv = self.grid
        idx = np.arange(nu * nv).reshape(nu, nv)
        loop = np.concatenate([idx[:, 0], idx[-1, 1:], idx[-2::-1, -1], idx[0, -2:0:-1]])
        ring = self.flat.uv[loop]
        x, y = ring[:, 0], ring[:, 1]
        if np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y) < 0.0:   # clockwise
            ring = np.concatenate([ring[:1], ring[:0:-1]])
        return ring

    def report(self) -> dict[str, Any]:
        """Plain-data summary for the JSON report (SI units, strains as fractions)."""
        w, h = self.size
        return {
            "name": self.name, "twin": self.cell.twin, "half": self.cell.half,
            "row": self.cell.row, "column": self.cell.column,
            "u": [self.cell.u0, self.cell.u1], "v": [self.cell.v0, self.cell.v1],
            "area_m2": self.area, "flat_area_m2": float(self.flat.area_flat.sum()),
            "bbox_m": [w, h], "sides_m": self.sides, "mass_kg": self.mass,
            "flattening_strain_max": self.flat.strain_max,
            "flattening_strain_mean": self.flat.strain_mean,
            # JSON has no infinity: a pinched panel has radius 0 and no finite strain.
            "min_radius_m": 1.0 / self.curvature_max if self.curvature_max > 0 else None,
            "bending_strain": None if self.pinched else self.bending_strain,
            "pinched": self.pinched,
            "class": self.strain_class,
        }


@dataclass(frozen=True)
class Fabrication:
    """Every panel of one wall, and the totals."""

    params: MirrorParams
    options: FabricationOptions
    rows: int
    columns: int                   # per half
    panels: list[Panel]
    surface_area: float            # m², the whole wall, analytic

    def panel(self, name: str) -> Panel:
        """The panel labelled ``name``."""
        return next(p for p in self.panels if p.name == name)

    @property
    def seam_length(self) -> float:
        """Total length of welded seams on the surface, metres (each seam once)."""
        inner = 0.0
        for p in self.panels:
            c = p.cell
            inner += p.sides["seam_side"]  # the centre seam or a column cut: always inner
            if c.column < self.columns:
                inner += p.sides["end_side"]
            if c.row > 1:
                inner += p.sides["bottom"]
            if c.row < self.rows:
                inner += p.sides["top"]
        return 0.5 * inner


def _panel(surface: Surface, cell: Cell, options: FabricationOptions) -> Panel:
    sides = side_lengths(surface, cell)
    nu = max(9, math.ceil(max(sides["bottom"], sides["top"]) / options.segment) + 1)
    nv = max(9, math.ceil(max(sides["seam_side"], sides["end_side"]) / options.segment) + 1)
    # Grid rows run away from the seam on both halves, so a panel's mesh is exactly the
    # 180-degree turn of its twin's (same diagonals) and the twins flatten alike.
    us = np.linspace(cell.u0, cell.u1, nu) if cell.half == "B" else \
        np.linspace(cell.u1, cell.u0, nu)
    U, V = np.meshgrid(us, np.linspace(cell.v0, cell.v1, nv), indexing="ij")
    params = np.stack([U.ravel(), V.ravel()], axis=1)
    vertices = surface.point(params[:, 0], params[:, 1])
    tris = grid_triangles(nu, nv)
    if cell.half == "A":
        # u decreases along the grid here: reverse the winding to face the front again.
        tris = tris[:, ::-1].copy()
    flat = flatten(vertices, tris, grain=(0, (nu - 1) * nv))
    d = derivatives(surface, params[:, 0], params[:, 1], cell.side)
    k1, k2 = principal_curvatures(d)
    # Where the parametrisation pinches (the seam's ends under a full half-circle arch,
    # where the vertical sections shrink to a point) the curvature is unbounded: those
    # points are flagged, not averaged into a finite-looking radius.
    scale = 2.0 * max(params_span(surface), 1.0)
    pinched = np.linalg.norm(np.cross(d.pu, d.pv), axis=1) < 1e-9 * scale**2
    if pinched.any():
        kmax = math.inf     # the plate would have to fold to a point there
    else:
        kmax = float(np.nanmax(np.maximum(np.abs(k1), np.abs(k2))))
    area = panel_area(surface, cell.u0, cell.u1, cell.v0, cell.v1)
    mass = area * options.thickness * options.density
    return Panel(cell, (nu, nv), vertices, params, tris, flat, area, sides, kmax,
                 0.5 * options.thickness * kmax, mass, bool(pinched.any()))


def params_span(surface: Surface) -> float:
    """A length scale of the wall (m): the larger of its half-length and radius."""
    return max(surface.params.half_length, surface.params.radius)


def fabricate(params: MirrorParams, options: FabricationOptions | None = None) -> Fabrication:
    """Cut the wall of ``params`` into plate-sized panels and flatten each one.

    Panel counts start from the fewest whose side lengths fit the usable plate (plate
    minus allowance and gap); while a flat pattern's bounding box still overflows, the
    offending direction gets one more cut. Needs libigl (``pip install libigl``).
    """
    options = FabricationOptions() if options is None else options
    surface = Surface(params)
    width, height = options.usable
    rows, columns = initial_counts(surface, width, height)
    for _ in range(200):
        if 2 * rows * columns > MAX_PANELS:
            raise ValueError(f"plate {options.plate_width:g} x {options.plate_height:g} m "
                             f"would cut this wall into more than {MAX_PANELS} panels "
                             f"({rows} rows x {2 * columns} columns at least): use a "
                             "larger plate")
        # Twins are congruent, so half B alone decides whether the counts fit.
        half_b = [_panel(surface, c, options) for c in cells(rows, columns) if c.half == "B"]
        too_wide = any(p.size[0] > width for p in half_b)
        too_tall = any(p.size[1] > height for p in half_b)
        if not (too_wide or too_tall):
            break
        columns += too_wide
        rows += too_tall
    half_a = [_panel(surface, c, options) for c in cells(rows, columns) if c.half == "A"]
    total = panel_area(surface, 0.0, 0.5, 0.0, 1.0, order=4) + \
        panel_area(surface, 0.5, 1.0, 0.0, 1.0, order=4)
    return Fabrication(params, options, rows, columns, half_a + half_b, total)
