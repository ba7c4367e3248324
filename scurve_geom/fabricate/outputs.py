"""The workshop files, written as one set: all of them whole, or none.

``<out>/report.json``, ``<out>/nesting.svg``, ``<out>/nesting.png``,
``<out>/strain_map.png`` and ``<out>/patterns/<panel>.dxf``. Everything is written into a
hidden folder beside ``<out>`` and moved into place with renames at the end
(:func:`scurve_geom.cli_common.atomic.atomic_folder`), so an error or Ctrl-C never leaves a
partial set; an existing ``<out>`` is replaced only when it holds an earlier report of this
tool.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from ..cli_common.atomic import atomic_folder, check_output_folder
from ..cli_common.usage import UsageError
from .core import CLASSES, Fabrication
from .drawings import draw_nesting, draw_strain_map
from .nesting import Nesting, nest
from .patterns import DXF_VERSION, write_dxf

__all__ = ["REPORT_NAME", "check_out_dir", "nest_panels", "report", "write_outputs"]

#: The file that marks a folder as this tool's output.
REPORT_NAME = "report.json"


def nest_panels(fab: Fabrication) -> Nesting:
    """Nest ``fab``'s patterns (with allowance) on its stock plates."""
    o = fab.options
    boxes = {p.name: (p.size[0] + 2 * o.seam_allowance, p.size[1] + 2 * o.seam_allowance)
             for p in fab.panels}
    return nest(boxes, (o.plate_width, o.plate_height), o.gap)


def report(fab: Fabrication, nesting: Nesting) -> dict[str, Any]:
    """The JSON report: inputs, every panel, twins, classes and totals (SI units)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        igl_version = version("libigl")
    except PackageNotFoundError:   # e.g. libigl put on sys.path by hand
        igl_version = "(version unknown)"
    o = fab.options
    panels = [p.report() for p in fab.panels]
    flat_area = sum(p["flat_area_m2"] for p in panels)
    cut_area = flat_area + sum(
        2 * o.seam_allowance * (p.size[0] + p.size[1]) for p in fab.panels)
    names = {p.name for p in fab.panels}
    pairs = sorted({tuple(sorted((p.name, p.cell.twin))) for p in fab.panels
                    if p.cell.twin in names})
    params = fab.params.to_dict()
    params["arch_angle_deg"] = math.degrees(params["arch_angle"])
    return {
        "tool": "scurve_geom.fabricate",
        "flattening": f"libigl {igl_version}: LSCM, then ARAP",
        "mirror": params,
        "options": dataclasses.asdict(o),
        "layout": {"rows": fab.rows, "columns_per_half": fab.columns,
                   "cuts": "rows of equal v (equal arc along the end arches), columns of "
                           "equal arc length along the plan centre line, seam at u = 1/2"},
        "classes": {name: {"max_flattening_strain": None if math.isinf(limit) else limit,
                           "panels": sum(p["class"] == name for p in panels)}
                    for name, limit in CLASSES},
        "symmetry": {
            "twin_pairs": [list(p) for p in pairs],
            "unique_patterns": len(fab.panels) - len(pairs),
            "note": "the 180-degree rotation about z maps each panel of half A onto its "
                    "twin in half B: one pattern cut twice, the twin's plate turned over "
                    "(both faces are polished)",
        },
        "totals": {
            "panels": len(fab.panels),
            "surface_area_m2": fab.surface_area,
            "panel_area_sum_m2": sum(p["area_m2"] for p in panels),
            "seam_length_m": fab.seam_length,
            "mass_kg": sum(p["mass_kg"] for p in panels),
            "flat_area_m2": flat_area,
            "cut_area_m2": cut_area,
            "plates": nesting.plates,
            "plate_area_m2": nesting.plates * o.plate_width * o.plate_height,
            "nesting_waste": nesting.waste(cut_area),
            "flattening_strain_max": max(p["flattening_strain_max"] for p in panels),
            "bending_strain_max": max((p["bending_strain"] for p in panels
                                       if p["bending_strain"] is not None), default=None),
            "pinched_panels": [p["name"] for p in panels if p["pinched"]],
        },
        "nesting": [dataclasses.asdict(pl) for pl in nesting.placements],
        "panels": panels,
        "files": {"patterns": f"patterns/<panel>.dxf (DXF {DXF_VERSION}, mm)",
                  "nesting": ["nesting.svg", "nesting.png"], "strain_map": "strain_map.png"},
    }


def check_out_dir(out: Path) -> None:
    """Refuse (ValueError) an output folder that is not new, empty, or an earlier output,
    or that cannot be written (:func:`~scurve_geom.cli_common.atomic.check_output_folder`)."""
    try:
        check_output_folder(out, flag=None)
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    if out.is_dir() and any(out.iterdir()) and not (out / REPORT_NAME).is_file():
        raise ValueError(f"cannot write {str(out)!r}: the folder holds other files "
                         f"(give a new or empty folder, or an earlier output)")


def write_outputs(fab: Fabrication, out: Path, title: str = "") -> dict[str, Any]:
    """Write every file for ``fab`` into the folder ``out`` as one set; return the report.

    Raises
    ------
    ValueError
        From :func:`check_out_dir`.
    """
    out = Path(out)
    check_out_dir(out)
    nesting = nest_panels(fab)
    data = report(fab, nesting)
    with atomic_folder(out) as tmp:
        (tmp / "patterns").mkdir()
        for p in fab.panels:
            write_dxf(p, tmp / "patterns" / f"{p.name}.dxf", fab.options.seam_allowance)
        draw_nesting(fab, nesting, [tmp / "nesting.svg", tmp / "nesting.png"])
        draw_strain_map(fab, tmp / "strain_map.png", title)
        # Strict JSON (no NaN or Infinity): other tools must read it.
        (tmp / REPORT_NAME).write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
    return data
