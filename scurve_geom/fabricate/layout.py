"""Where the wall is cut: rows of equal parameter height, columns of equal arc length.

The cuts follow the surface's own parameter lines: every row boundary is a line of
constant ``v`` (a horizontal line when heights match), every column boundary one of
constant ``u`` (a vertical section), and the seam ``u = 1/2`` is always a cut. Rows are
equal in ``v``, i.e. in arc length along the end arches; columns are equal in arc length
along the plan centre line. The same cuts on both halves keep the 180° symmetry, so panel
``(row, column)`` of one half is the turned-over twin of the other half's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..surface import Surface
from .differential import derivatives

__all__ = ["Cell", "cells", "initial_counts", "side_lengths"]

# Gauss-Legendre nodes for boundary arc lengths; the integrands are analytic along a
# parameter line inside one half.
_N, _W = np.polynomial.legendre.leggauss(32)
_N, _W = 0.5 * (_N + 1.0), 0.5 * _W


@dataclass(frozen=True)
class Cell:
    """One panel's parameter rectangle.

    ``half`` is ``"A"`` (the −x half, ``u < 1/2``) or ``"B"``; ``row`` counts from the
    ground, ``column`` from the seam outward, both from 1.
    """

    half: str
    row: int
    column: int
    u0: float
    u1: float
    v0: float
    v1: float

    @property
    def name(self) -> str:
        """Label such as ``B-R1-C2`` (half, row from the ground, column from the seam)."""
        return f"{self.half}-R{self.row}-C{self.column}"

    @property
    def twin(self) -> str:
        """The label of the panel the 180° rotation maps this one onto."""
        return f"{'B' if self.half == 'A' else 'A'}-R{self.row}-C{self.column}"

    @property
    def side(self) -> float:
        """+1 on the +x half, −1 on the −x half (which formula applies on the seam)."""
        return 1.0 if self.half == "B" else -1.0


def cells(rows: int, columns: int) -> list[Cell]:
    """All panels for ``rows`` rows and ``columns`` columns per half, half A first."""
    v = np.linspace(0.0, 1.0, rows + 1)
    # u is proportional to arc length along the centre line (s = L (2u - 1)).
    du = 0.5 / columns
    out = []
    for half in ("A", "B"):
        for r in range(rows):
            for c in range(columns):
                if half == "B":
                    u0, u1 = 0.5 + c * du, 0.5 + (c + 1) * du
                else:
                    u0, u1 = 0.5 - (c + 1) * du, 0.5 - c * du
                out.append(Cell(half, r + 1, c + 1, float(u0), float(u1),
                                float(v[r]), float(v[r + 1])))
    return out


def _line_length(surface: Surface, fixed: np.ndarray, a: float, b: float, along_u: bool,
                 side: float) -> np.ndarray:
    """Arc lengths of parameter lines from ``a`` to ``b`` (one per ``fixed`` value), m."""
    t = a + (b - a) * _N
    if along_u:
        U, V = np.meshgrid(t, fixed, indexing="ij")
        d = derivatives(surface, U.ravel(), V.ravel(), side).pu
    else:
        U, V = np.meshgrid(fixed, t, indexing="ij")
        d = derivatives(surface, U.ravel(), V.ravel(), side).pv
    speed = np.linalg.norm(d, axis=1).reshape(U.shape)
    return (b - a) * (_W @ speed if along_u else speed @ _W)


def side_lengths(surface: Surface, cell: Cell) -> dict[str, float]:
    """Arc lengths of the cell's four sides on the surface, metres:
    ``bottom``/``top`` (constant ``v``) and ``seam_side``/``end_side`` (constant ``u``)."""
    bottom, top = _line_length(surface, np.array([cell.v0, cell.v1]), cell.u0, cell.u1,
                               True, cell.side)
    inner_u, outer_u = (cell.u0, cell.u1) if cell.half == "B" else (cell.u1, cell.u0)
    inner, outer = _line_length(surface, np.array([inner_u, outer_u]), cell.v0, cell.v1,
                                False, cell.side)
    return {"bottom": float(bottom), "top": float(top), "seam_side": float(inner),
            "end_side": float(outer)}


def initial_counts(surface: Surface, width: float, height: float) -> tuple[int, int]:
    """Fewest ``(rows, columns per half)`` whose panels' side lengths fit ``width`` along
    the wall and ``height`` up it (metres); the flat patterns are checked afterwards."""
    u_samples = np.linspace(0.5, 1.0, 33)
    rows = 1
    while rows < 1000:
        v = np.linspace(0.0, 1.0, rows + 1)
        longest = max(_line_length(surface, u_samples, v[i], v[i + 1], False, 1.0).max()
                      for i in range(rows))
        if longest <= height:
            break
        rows += 1
    v_samples = np.linspace(0.0, 1.0, 33)
    columns = 1
    while columns < 1000:
        du = 0.5 / columns
        longest = max(_line_length(surface, v_samples, 0.5 + i * du, 0.5 + (i + 1) * du,
                                   True, 1.0).max() for i in range(columns))
        if longest <= width:
            break
        columns += 1
    return rows, columns
