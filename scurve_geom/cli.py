"""Command line: build a mirror from a preset and flags, check it, export it.

    python -m scurve_geom --preset kapoor --out mirror.glb --radius 1.2
    python -m scurve_geom --list-presets
    python -m scurve_geom --preset blog-part2 --check

Every :class:`~scurve_geom.MirrorParams` field is a ``--flag``; preset values are the
defaults the flags override. Bad arguments or values exit with status 2 and one line on
stderr, and write no file.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .build import build_mesh
from .cli_common.atomic import atomic_outputs
from .cli_common.atomic import check_output as _check_writable
from .cli_common.signals import cli_main
from .cli_common.usage import OneLineParser, UsageError, check_range
from .params import PRESETS, MirrorParams, preset

__all__ = [
    "UsageError",
    "add_param_arguments",
    "check_output",
    "guarded_main",
    "main",
    "make_parser",
    "params_from_args",
]

#: Formats by file extension, with what writes them.
FORMATS = (".obj", ".ply", ".stl", ".glb")


#: The one-line parser (kept under its old name for the modules that import it).
_Parser = OneLineParser


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_param_arguments(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per :class:`MirrorParams` field (angles in degrees), default None.

    :func:`params_from_args` turns the given ones into overrides of a preset.
    """
    group = parser.add_argument_group("mirror parameters (override the preset)")
    for field in MirrorParams.describe():
        name, kind = field["name"], str(field["type"])
        help_text = field["doc"]
        if field.get("min") is not None:
            lo, hi = field["min"], field["max"]
            if field.get("unit") == "ROTATION":
                lo, hi = math.degrees(lo), math.degrees(hi)
                help_text += " (given in degrees)"
            help_text += f"; {lo:g} to {hi:g}"
        if kind == "bool":
            group.add_argument(_flag(name), action=argparse.BooleanOptionalAction,
                               default=None, help=help_text)
        elif kind == "str":
            group.add_argument(_flag(name), choices=field["choices"], default=None,
                               help=help_text)
        else:
            group.add_argument(_flag(name), type=int if kind == "int" else float,
                               default=None, metavar="N" if kind == "int" else "X",
                               help=help_text)


def make_parser() -> argparse.ArgumentParser:
    """The argument parser; parameter flags are generated from ``MirrorParams``."""
    parser = _Parser(
        prog="python -m scurve_geom",
        description="Build the S-curve mirror surface and export it (OBJ, PLY, STL, glTF .glb).",
        epilog="Lengths in metres, angles in degrees on the command line.",
    )
    parser.add_argument("--preset", default="blog-part2", help="start from this preset "
                        f"(default: blog-part2; one of {', '.join(PRESETS)})")
    parser.add_argument("--out", type=Path, help="output file; format from the extension "
                        f"({', '.join(FORMATS)})")
    parser.add_argument("--thickness", type=float, default=0.0,
                        help="solidify to a closed solid this thick (metres) for 3D printing")
    parser.add_argument("--check", action="store_true", help="print the mesh report")
    parser.add_argument("--list-presets", action="store_true", help="list presets and exit")
    parser.add_argument("--preview", type=Path, metavar="PNG",
                        help="draw a 3D preview picture (needs matplotlib)")
    add_param_arguments(parser)
    return parser


def params_from_args(args: argparse.Namespace) -> MirrorParams:
    """The preset named by ``args.preset`` with every given flag applied.

    Raises
    ------
    ValueError
        As :class:`MirrorParams` does; an angle flag out of range is reported in
        degrees, the unit the flag takes, under the flag's own name.
    """
    overrides: dict[str, Any] = {}
    for field in dataclasses.fields(MirrorParams):
        value = getattr(args, field.name)
        if value is None:
            continue
        if field.metadata.get("unit") == "ROTATION":
            _check_degrees(field, value)
            value = math.radians(value)
        overrides[field.name] = value
    return preset(args.preset, **overrides)


def _check_degrees(field: dataclasses.Field[Any], value: float) -> None:
    lo, hi = field.metadata.get("min"), field.metadata.get("max")
    flag = _flag(field.name)
    if not math.isfinite(value):
        raise ValueError(f"{flag} {value!r} is not finite")
    if lo is not None and hi is not None:
        # Compare in radians, as MirrorParams will, so a value shown as allowed is.
        if not lo <= math.radians(value) <= hi:
            raise ValueError(f"{flag} {value:g} is out of range: allowed "
                             f"{math.degrees(lo):.6g} to {math.degrees(hi):.6g} degrees")


def _list_presets() -> str:
    lines = []
    for name, values in PRESETS.items():
        p = preset(name)
        shown = ", ".join(f"{k}={_fmt(k, v)}" for k, v in values.items())
        lines.append(f"{name:15s} {p.vertex_count():>8d} vertices  {shown}")
    return "\n".join(lines)


def _fmt(name: str, value: Any) -> str:
    if name == "arch_angle":
        return f"{math.degrees(value):g}deg"
    return f"{value:g}" if isinstance(value, float) else str(value)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; raises :class:`UsageError` for bad input (``main`` turns it into exit 2)."""
    args = make_parser().parse_args(argv)
    if args.list_presets:
        print(_list_presets())
        return 0
    if args.out is None and not args.check and args.preview is None:
        raise UsageError("nothing to do: give --out FILE, --check or --preview PNG")
    if args.out is not None:
        check_output(args.out, FORMATS)
    if args.preview is not None:
        check_output(args.preview, (".png",), "--preview")
        if importlib.util.find_spec("matplotlib") is None:
            raise UsageError("--preview needs matplotlib: pip install matplotlib")
    # A wall thicker than a metre is not a mirror to print; a typo must not build one.
    check_range("--thickness", args.thickness, 0.0, 1.0, "metres")
    try:
        params = params_from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    mesh = build_mesh(params)
    if args.check:
        print(mesh.check())
    outputs = [p for p in (args.out, args.preview) if p is not None]
    # Both files or neither: each is written under a temporary name, renamed at the end.
    with atomic_outputs(*outputs) as tmps:
        tmp_for = dict(zip(outputs, map(Path, tmps), strict=True))
        if args.out is not None:
            from .export import export

            export(mesh, tmp_for[args.out], thickness=args.thickness)
        if args.preview is not None:
            from .preview import draw_preview

            draw_preview(mesh, tmp_for[args.preview], title=f"preset {args.preset}")
    if args.out is not None:
        solid = ", solidified" if args.thickness > 0 else ""
        print(f"wrote {args.out} ({mesh.n_vertices} vertices, {mesh.n_faces} quads{solid})",
              file=sys.stderr)
    if args.preview is not None:
        print(f"wrote {args.preview}", file=sys.stderr)
    return 0


def check_output(path: Path, suffixes: Sequence[str], flag: str = "--out") -> None:
    """Refuse (:class:`UsageError`) an output of the wrong kind, in a missing or read-only
    folder, or that is a folder: before any work is done."""
    _check_writable(path, suffixes, flag)


_check_output = check_output


def guarded_main(
    run_fn: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None, prog: str
) -> int:
    """Run a CLI's ``run_fn`` the way every CLI here ends (:func:`cli_main`): bad input is
    one line and status 2, Ctrl-C/SIGTERM one line "interrupted" and 130/143, a closed
    pipe quiet."""
    return cli_main(prog, run_fn, argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit status 0 on success, 2 on bad arguments (one line on stderr)."""
    return guarded_main(run, argv, "scurve_geom")
