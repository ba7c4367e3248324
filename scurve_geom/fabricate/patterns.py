"""Cutting patterns as DXF (R2010, millimetres): outline, label, grain arrow.

Layers: ``CUT`` (the line the cutter follows: the pattern plus the seam allowance),
``FINISHED`` (the pattern itself, drawn only when there is an allowance), ``LABEL`` and
``GRAIN`` (an arrow along the rows of the panel, i.e. along the wall). The drawing is seen
from the mirror's front face.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .core import Panel

__all__ = ["DXF_VERSION", "offset_outline", "write_dxf"]

#: AutoCAD 2010 format: the oldest every current CAD program reads and writes.
DXF_VERSION = "R2010"


def offset_outline(outline: np.ndarray, distance: float) -> np.ndarray:
    """Offset a counter-clockwise polygon (k, 2) outward by ``distance`` (mitred corners).

    Works for the near-convex outlines of panels; ``distance`` 0 returns a copy.
    """
    if distance == 0.0:
        return outline.copy()
    edge = np.roll(outline, -1, axis=0) - outline
    normal = np.stack([edge[:, 1], -edge[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1)[:, None]
    prev = np.roll(normal, 1, axis=0)
    bisector = normal + prev
    bisector /= np.linalg.norm(bisector, axis=1)[:, None]
    # Mitre: the corner moves along the bisector until both edges are ``distance`` out.
    cos_half = np.einsum("ij,ij->i", bisector, normal)
    return outline + bisector * (distance / cos_half)[:, None]


def write_dxf(panel: Panel, path: str | Path, allowance: float = 0.0) -> None:
    """Write ``panel``'s pattern to ``path`` as a DXF R2010 drawing in millimetres.

    The outline is a closed LWPOLYLINE on layer CUT, with the allowance ``allowance``
    (metres) added; the label is TEXT on LABEL; the grain an arrow on GRAIN.
    """
    import ezdxf
    from ezdxf.enums import TextEntityAlignment

    outline = panel.outline()
    doc = ezdxf.new(DXF_VERSION)
    doc.units = ezdxf.units.MM
    doc.header["$MEASUREMENT"] = 1   # metric
    for name, colour in (("CUT", 1), ("FINISHED", 8), ("LABEL", 7), ("GRAIN", 3)):
        doc.layers.add(name, color=colour)
    msp = doc.modelspace()
    mm = 1000.0
    cut = offset_outline(outline, allowance) * mm
    msp.add_lwpolyline(cut.tolist(), close=True, dxfattribs={"layer": "CUT"})
    if allowance > 0.0:
        msp.add_lwpolyline((outline * mm).tolist(), close=True,
                           dxfattribs={"layer": "FINISHED"})
    w, h = panel.size
    centre = np.array([w, h]) * 0.5 * mm
    size = max(20.0, 0.06 * h * mm)
    text = msp.add_text(panel.name, height=size, dxfattribs={"layer": "LABEL"})
    text.set_placement((centre[0], centre[1] + 1.2 * size),
                       align=TextEntityAlignment.MIDDLE_CENTER)
    detail = (f"{panel.area:.3f} m2  {panel.mass:.0f} kg  {panel.strain_class}  "
              f"twin {panel.cell.twin}")
    small = msp.add_text(detail, height=0.4 * size, dxfattribs={"layer": "LABEL"})
    small.set_placement((centre[0], centre[1] - 0.2 * size),
                        align=TextEntityAlignment.MIDDLE_CENTER)
    # Grain arrow along +x (the panel's rows), a third of the pattern long.
    length = w * mm / 3.0
    y = centre[1] - 2.0 * size
    a, b = (centre[0] - length / 2, y), (centre[0] + length / 2, y)
    msp.add_line(a, b, dxfattribs={"layer": "GRAIN"})
    head = 0.6 * size
    msp.add_line(b, (b[0] - head, y + head / 2), dxfattribs={"layer": "GRAIN"})
    msp.add_line(b, (b[0] - head, y - head / 2), dxfattribs={"layer": "GRAIN"})
    grain = msp.add_text("GRAIN", height=0.4 * size, dxfattribs={"layer": "GRAIN"})
    grain.set_placement((centre[0], y - 0.8 * size),
                        align=TextEntityAlignment.MIDDLE_CENTER)
    doc.saveas(str(path))
