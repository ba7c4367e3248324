"""The stage's command-line flags, generated from :class:`scurve_geom.StageParams`.

One flag per field (``--sun-strength W``, ``--camera VIEW``, ``--props/--no-props``),
its default and help from the field's metadata, angles in degrees. Needs no Blender.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from render_scenes.common import UsageError
from scurve_geom.stage_params import SUN_COLORS, StageParams

__all__ = ["add_stage_arguments", "flag", "stage_from_args"]

_DEFAULTS = StageParams()


def flag(field: dict[str, Any]) -> str:
    """The command line's name of a :meth:`StageParams.describe` entry."""
    return "--" + field.get("flag", field["name"]).replace("_", "-")


def _dest(field: dict[str, Any]) -> str:
    return str(field.get("flag", field["name"]))


def _sun_color(text: str) -> tuple[float, float, float]:
    if text in SUN_COLORS:
        return SUN_COLORS[text]
    try:
        rgb = tuple(float(c) for c in text.split(","))
    except ValueError:
        rgb = ()
    if len(rgb) != 3 or not all(math.isfinite(c) and 0.0 <= c <= 1.0 for c in rgb):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a sun colour: use {' or '.join(SUN_COLORS)}, or R,G,B in 0..1"
        )
    return rgb  # type: ignore[return-value]


def _positive_int(text: str) -> int:
    """An argparse ``type``: a whole number >= 1 (upper bounds are checked with the rest)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (allowed >= 1)") \
            from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def add_stage_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`StageParams` field; defaults are the dataclass's."""
    g = parser.add_argument_group("stage (Set Up Mirror Stage's settings)")
    for field in StageParams.describe():
        name, kind = field["name"], field["type"]
        default = getattr(_DEFAULTS, name)
        doc = field["doc"]
        if name == "sun_color":
            g.add_argument(flag(field), dest=_dest(field), type=_sun_color, default=default,
                           metavar="COLOR", help=f"{doc}: {' or '.join(SUN_COLORS)}, or "
                           "R,G,B in 0..1 (default daylight)")
        elif kind == "bool":
            g.add_argument(flag(field), dest=_dest(field), action=argparse.BooleanOptionalAction,
                           default=default, help=f"{doc} (default {'on' if default else 'off'})")
        elif field.get("choices"):
            g.add_argument(flag(field), dest=_dest(field), choices=field["choices"],
                           default=default, help=f"{doc} (default {default})")
        elif kind == "int":
            g.add_argument(flag(field), dest=_dest(field), type=_positive_int, default=default,
                           metavar="N", help=f"{doc} (default {default})")
        else:
            degrees = field.get("unit") == "ROTATION"
            shown = math.degrees(default) if degrees else default
            unit = "degrees" if degrees else field.get("metavar", "X")
            g.add_argument(flag(field), dest=_dest(field), type=float, default=shown,
                           metavar="DEG" if degrees else field.get("metavar", "X"),
                           help=f"{doc}, {unit} (default {shown:g})")


def stage_from_args(args: argparse.Namespace) -> StageParams:
    """The validated :class:`StageParams` the flags ask for.

    Raises
    ------
    UsageError
        Naming the flag, the value and the allowed range (angles in degrees).
    """
    values: dict[str, Any] = {}
    for field in StageParams.describe():
        value = getattr(args, _dest(field))
        if field.get("unit") == "ROTATION":
            lo, hi = field.get("min"), field.get("max")
            if not math.isfinite(value):
                raise UsageError(f"{flag(field)} {value} is not a number of degrees")
            if lo is not None and hi is not None and not lo <= math.radians(value) <= hi:
                raise UsageError(f"{flag(field)} {value:g} is out of range: allowed "
                                 f"{math.degrees(lo):g} to {math.degrees(hi):g} degrees")
            value = math.radians(value)
        values[field["name"]] = value
    try:
        return StageParams(**values)
    except ValueError as exc:
        raise UsageError(str(exc).replace(f"{_name(exc)}=", f"{_flag_of(exc)} ", 1)) from None


def _name(exc: ValueError) -> str:
    return str(exc).split("=", 1)[0]


def _flag_of(exc: ValueError) -> str:
    by_name = {f["name"]: f for f in StageParams.describe()}
    field = by_name.get(_name(exc))
    return flag(field) if field is not None else _name(exc)
