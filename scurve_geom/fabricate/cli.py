"""Command line: panels, flat patterns and forming strain for a mirror.

    python -m scurve_geom.fabricate --preset kapoor --out fab/
    python -m scurve_geom.fabricate --preset kapoor --plate 2.5 1.25 --seam-allowance 0.01

Every geometry flag of ``python -m scurve_geom`` applies (they come from the same
:class:`~scurve_geom.MirrorParams` machinery). Prints the panel table; with ``--out DIR``
writes the DXF patterns, nesting sheet, JSON report and strain map there, all or none.
Bad arguments exit 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..cli import UsageError, _Parser, add_param_arguments, guarded_main, params_from_args
from ..params import PRESETS
from .core import Fabrication, FabricationOptions, fabricate

__all__ = ["main", "make_parser", "missing_modules", "options_from_args", "panel_table", "run"]

_DEFAULTS = FabricationOptions()


def make_parser() -> argparse.ArgumentParser:
    """The argument parser: fabrication options plus every mirror parameter flag."""
    parser = _Parser(
        prog="python -m scurve_geom.fabricate",
        description="Cut the mirror wall into plate-sized panels, flatten each with libigl "
                    "(LSCM + ARAP), report forming strain, and write cutting patterns.",
        epilog="Lengths in metres, angles in degrees on the command line.",
    )
    parser.add_argument("--preset", default="kapoor", help="start from this preset "
                        f"(default: kapoor; one of {', '.join(PRESETS)})")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write patterns/*.dxf, nesting.svg/.png, report.json and "
                             "strain_map.png into this folder (new, empty, or an earlier output)")
    parser.add_argument("--plate", type=float, nargs=2, metavar=("W", "H"),
                        default=(_DEFAULTS.plate_width, _DEFAULTS.plate_height),
                        help="stock plate, along the grain (the wall) and across it, m "
                             f"(default {_DEFAULTS.plate_width:g} {_DEFAULTS.plate_height:g})")
    for f in dataclasses.fields(FabricationOptions):
        if f.name in ("plate_width", "plate_height"):
            continue
        parser.add_argument("--" + f.name.replace("_", "-"), type=float, default=f.default,
                            metavar="X", help=f"{f.metadata['doc']} (default {f.default:g}; "
                            f"{f.metadata['min']:g} to {f.metadata['max']:g})")
    add_param_arguments(parser)
    return parser


def options_from_args(args: argparse.Namespace) -> FabricationOptions:
    """The :class:`FabricationOptions` the flags give (ValueError if invalid)."""
    values: dict[str, Any] = {f.name: getattr(args, f.name)
                              for f in dataclasses.fields(FabricationOptions)
                              if f.name not in ("plate_width", "plate_height")}
    return FabricationOptions(plate_width=args.plate[0], plate_height=args.plate[1], **values)


def panel_table(fab: Fabrication) -> str:
    """The panel table as fixed-width text (what the command prints)."""
    head = (f"{'panel':8s} {'twin':8s} {'w x h (m)':>11s} {'area m2':>8s} {'kg':>6s} "
            f"{'flat max':>8s} {'mean':>6s} {'R min m':>7s} {'bend':>7s}  class")
    lines = [head]
    for p in fab.panels:
        r = p.report()
        w, h = r["bbox_m"]
        radius = "0 pinch" if p.pinched else f"{r['min_radius_m']:.2f}"
        bend = "    inf" if p.pinched else f"{100 * r['bending_strain']:6.2f}%"
        lines.append(
            f"{p.name:8s} {p.cell.twin:8s} {w:5.2f}x{h:<5.2f} {r['area_m2']:8.3f} "
            f"{r['mass_kg']:6.1f} {100 * r['flattening_strain_max']:7.2f}% "
            f"{100 * r['flattening_strain_mean']:5.2f}% {radius:>7s} "
            f"{bend}  {r['class']}")
    return "\n".join(lines)


def missing_modules(writing: bool = True) -> list[str]:
    """The PyPI names of the modules fabrication needs and this Python lacks: ``libigl``
    always, ``ezdxf`` and ``matplotlib`` to write files."""
    import importlib.util

    wanted = {"igl": "libigl"}
    if writing:
        wanted.update(ezdxf="ezdxf", matplotlib="matplotlib")
    return [pypi for module, pypi in wanted.items() if importlib.util.find_spec(module) is None]


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; raises :class:`UsageError` for bad input."""
    args = make_parser().parse_args(argv)
    try:
        params = params_from_args(args)
        options = options_from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from .outputs import check_out_dir, nest_panels, report, write_outputs

    if args.out is not None:
        try:
            check_out_dir(args.out)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    missing = missing_modules(writing=args.out is not None)
    if missing:
        raise UsageError(f"this needs {', '.join(missing)}: pip install {' '.join(missing)}")
    try:
        fab = fabricate(params, options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(panel_table(fab))
    if args.out is not None:
        data = write_outputs(fab, args.out, title=f"preset {args.preset}")
    else:
        data = report(fab, nest_panels(fab))
    t = data["totals"]
    sym = data["symmetry"]
    print(f"{t['panels']} panels ({sym['unique_patterns']} patterns: each twin is the same "
          f"plate turned over), {fab.rows} rows x {2 * fab.columns} columns; seams "
          f"{t['seam_length_m']:.2f} m; {t['mass_kg']:.0f} kg; {t['plates']} plates of "
          f"{options.plate_width:g} x {options.plate_height:g} m, waste "
          f"{100 * t['nesting_waste']:.0f} %")
    if args.out is not None:
        print(f"wrote {args.out}/ (report.json, nesting.svg/.png, strain_map.png, "
              f"{len(fab.panels)} DXF patterns)", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 0 on success, 2 on bad input (one line on stderr), 130/143 on
    Ctrl-C/SIGTERM (one line; the output folder is left as it was, see :mod:`.outputs`)."""
    return guarded_main(run, argv, "scurve_geom.fabricate")
