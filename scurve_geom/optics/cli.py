"""``python -m scurve_geom.optics``: sun hot-spot map, JSON report, PNG, day sweep.

    python -m scurve_geom.optics --preset kapoor --sun-elevation 40 --sun-azimuth 200 \\
        --json spots.json --out spots.png
    python -m scurve_geom.optics --preset kapoor --latitude 60.24 --longitude 10.39 \\
        --date 2026-06-21 --timezone Europe/Oslo --json day.json --out day.png

Every geometry flag of ``python -m scurve_geom`` works here. Bad input exits with
status 2 and one line on stderr, and writes no file; files appear whole or not at all.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..cli import UsageError, _Parser, add_param_arguments, check_output, guarded_main
from ..cli import params_from_args as _params_from_args
from ..cli_common.usage import check_range
from ..params import PRESETS, MirrorParams
from .clock import clock_time, day_hours, parse_date, zone
from .files import atomic_outputs
from .hotspots import HotSpotMap, hot_spot_map
from .mirror import DEFAULT_FACET, mirror_from_params
from .sun import SUN_DISC_DEG, Sun

__all__ = ["main", "make_parser", "run"]

PROG = "python -m scurve_geom.optics"


def make_parser() -> argparse.ArgumentParser:
    """The argument parser: geometry flags as in ``python -m scurve_geom``, plus the sun's."""
    p = _Parser(
        prog=PROG,
        description="Where the mirror focuses sunlight on the ground: a map of reflected "
        "irradiance in multiples of the direct normal irradiance (DNI).",
        epilog="Angles in degrees, sun azimuth compass style (0 = +y = north, 90 = +x = "
        "east); lengths in metres. The day sweep takes the mirror's +y as north.",
    )
    p.add_argument("--preset", default="kapoor",
                   help=f"start from this preset (default: kapoor; one of {', '.join(PRESETS)})")
    sun = p.add_argument_group("the sun: a fixed position, or a place and a date")
    sun.add_argument("--sun-elevation", type=float, metavar="DEG",
                     help="degrees above the horizon (0 to 90)")
    sun.add_argument("--sun-azimuth", type=float, metavar="DEG",
                     help="compass degrees, 0 = +y (north), 90 = +x (east)")
    sun.add_argument("--latitude", type=float, metavar="DEG", help="-90 to 90, north positive")
    sun.add_argument("--longitude", type=float, metavar="DEG",
                     help="-180 to 180, east positive")
    sun.add_argument("--date", metavar="YYYY-MM-DD",
                     help="with --latitude/--longitude: sweep the day hour by hour (needs pvlib)")
    sun.add_argument("--time", metavar="HH:MM",
                     help="with --date: one map at this local time (a time the clocks skip "
                     "for daylight saving is refused; one shown twice is taken the first time)")
    sun.add_argument("--timezone", default="UTC",
                     help="IANA name for --date/--time, e.g. Europe/Oslo (default UTC)")
    sun.add_argument("--sun-disc", type=float, default=SUN_DISC_DEG, metavar="DEG",
                     help=f"the sun's angular diameter (default {SUN_DISC_DEG})")
    tr = p.add_argument_group("tracing and the map")
    tr.add_argument("--cell", type=float, default=0.05, metavar="M",
                    help="map cell size in metres (default 0.05)")
    tr.add_argument("--rays", type=int, default=2_000_000, metavar="N",
                    help="sun rays per map (default 2000000)")
    tr.add_argument("--reflectance", type=float, default=0.9, metavar="R",
                    help="fraction reflected per bounce, 0 to 1 (default 0.9)")
    tr.add_argument("--max-bounces", type=int, default=16, metavar="N",
                    help="reflections followed per ray (default 16)")
    tr.add_argument("--height", type=float, default=0.0, metavar="M",
                    help="map a horizontal plane this high instead of the ground (e.g. 1.7)")
    tr.add_argument("--extent", type=float, nargs=4, metavar=("X0", "X1", "Y0", "Y1"),
                    help="map area in metres (default: the wall's plan plus twice its height)")
    tr.add_argument("--facet", type=float, default=DEFAULT_FACET, metavar="M",
                    help=f"facet size of the traced mesh (default {DEFAULT_FACET})")
    tr.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    out = p.add_argument_group("output")
    out.add_argument("--json", type=Path, metavar="REPORT.json", help="the report")
    out.add_argument("--out", type=Path, metavar="MAP.png",
                     help="heat map (a day sweep: each cell's maximum over the day)")
    add_param_arguments(p)
    return p


def _check_number(name: str, value: float | None, lo: float, hi: float, unit: str) -> None:
    check_range(name, value, lo, hi, unit)


def _validate(args: argparse.Namespace) -> None:
    fixed = args.sun_elevation is not None or args.sun_azimuth is not None
    place = any(v is not None for v in (args.latitude, args.longitude, args.date, args.time))
    if fixed and place:
        raise UsageError("give either --sun-elevation/--sun-azimuth or --latitude/--longitude/"
                         "--date, not both")
    if fixed and (args.sun_elevation is None or args.sun_azimuth is None):
        raise UsageError("--sun-elevation and --sun-azimuth go together")
    if place and (args.latitude is None or args.longitude is None or args.date is None):
        raise UsageError("a place needs --latitude, --longitude and --date")
    if not fixed and not place:
        raise UsageError("no sun: give --sun-elevation DEG --sun-azimuth DEG, or "
                         "--latitude --longitude --date")
    if args.json is None and args.out is None:
        raise UsageError("nothing to do: give --json REPORT.json and/or --out MAP.png")
    _check_number("--sun-elevation", args.sun_elevation, 0.0, 90.0, "degrees")
    _check_number("--sun-azimuth", args.sun_azimuth, -360.0, 720.0, "degrees")
    _check_number("--latitude", args.latitude, -90.0, 90.0, "degrees")
    _check_number("--longitude", args.longitude, -180.0, 180.0, "degrees")
    _check_number("--sun-disc", args.sun_disc, 0.0, 30.0, "degrees")
    _check_number("--cell", args.cell, 0.001, 10.0, "metres")
    _check_number("--reflectance", args.reflectance, 0.0, 1.0, "")
    _check_number("--height", args.height, 0.0, 1000.0, "metres")
    _check_number("--facet", args.facet, 0.001, 1.0, "metres")
    _check_number("--rays", args.rays, 1, 10**9, "rays")
    _check_number("--max-bounces", args.max_bounces, 1, 1000, "")
    _check_number("--seed", args.seed, 0, 2**32 - 1, "")
    if args.time is not None:
        hh, sep, mm = args.time.partition(":")
        if not (sep and hh.isdigit() and mm.isdigit() and len(mm) == 2
                and 0 <= int(hh) <= 23 and 0 <= int(mm) <= 59):
            raise UsageError(f"--time {args.time!r} is not a clock time: allowed 00:00 to 23:59")
    if args.date is not None:  # before any work: a date, a zone, a time the clock shows
        day = parse_date(args.date)
        zone(args.timezone)
        if args.time is not None:
            clock_time(day, args.time, args.timezone)
    if args.extent is not None:
        x0, x1, y0, y1 = args.extent
        if not all(map(math.isfinite, args.extent)) or x1 <= x0 or y1 <= y0:
            raise UsageError(f"--extent {' '.join(f'{v:g}' for v in args.extent)} must be "
                             "finite with X0 < X1 and Y0 < Y1")
        if (x1 - x0) * (y1 - y0) / args.cell**2 > 25_000_000:
            raise UsageError("--extent/--cell: the map would have over 25000000 cells")
    if args.json is not None:
        check_output(args.json, (".json",))
    if args.out is not None:
        check_output(args.out, (".png",))
        if importlib.util.find_spec("matplotlib") is None:
            raise UsageError("--out needs matplotlib: pip install matplotlib")


def _times(args: argparse.Namespace) -> tuple[Any, str | None]:
    """The instants of ``--date`` (every hour the local clock shows) or of ``--date --time``,
    as a time-zone aware ``pandas.DatetimeIndex`` in ``--timezone`` (see :mod:`.clock`),
    and the note for a ``--time`` the clock shows twice (else None)."""
    day = parse_date(args.date)
    if args.time is not None:
        instant, note = clock_time(day, args.time, args.timezone)
        instants = [instant]
    else:
        instants, note = day_hours(day, args.timezone), None
    try:
        import pandas as pd
        import pvlib  # noqa: F401 - checked here so the message names it
    except ImportError:
        raise UsageError("--date needs pvlib: pip install pvlib") from None
    return pd.DatetimeIndex(instants).tz_convert(args.timezone), note


def _write_outputs(args: argparse.Namespace, report: dict[str, Any],
                   draw: Callable[[Path], None] | None) -> None:
    """The map (``draw(path)``) and the JSON report: both or neither."""
    outputs = [p for p in (args.out, args.json) if p is not None]
    with atomic_outputs(*outputs) as tmps:
        tmp_for = dict(zip(outputs, map(Path, tmps), strict=True))
        if args.out is not None and draw is not None:
            draw(tmp_for[args.out])
        if args.json is not None:
            with open(tmp_for[args.json], "w") as fh:
                json.dump(report, fh, indent=2)
                fh.write("\n")


def _title(args: argparse.Namespace, params: MirrorParams, what: str) -> str:
    plane = "ground" if args.height == 0 else f"plane z = {args.height:g} m"
    return (f"preset {args.preset}: reflected sunlight on the {plane}\n{what}\n"
            f"reflectance {args.reflectance:g}, cell {args.cell:g} m, {args.rays:,} rays")


def _hour_labels(peaks: list[tuple[int, float, float]]) -> list[tuple[str, float, float]]:
    """``"11-16h"`` for consecutive hours whose peaks fall within half a metre of each other."""
    groups: list[list[tuple[int, float, float]]] = []
    for hour, x, y in peaks:
        last = groups[-1][-1] if groups else None
        if last and hour == last[0] + 1 and math.hypot(x - last[1], y - last[2]) < 0.5:
            groups[-1].append((hour, x, y))
        else:
            groups.append([(hour, x, y)])
    out = []
    for g in groups:
        text = f"{g[0][0]}h" if len(g) == 1 else f"{g[0][0]}-{g[-1][0]}h"
        out.append((text, sum(p[1] for p in g) / len(g), sum(p[2] for p in g) / len(g)))
    return out


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; :class:`UsageError` for bad input (``main`` turns it into status 2)."""
    args = make_parser().parse_args(argv)
    _validate(args)
    try:
        params = _params_from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.date is not None:
        from .sun import solar_positions

        times, note = _times(args)
        elevation, azimuth = solar_positions(args.latitude, args.longitude, times)
    else:
        times, elevation, azimuth = None, [args.sun_elevation], [args.sun_azimuth]
    try:
        from .engine import default_engine

        model = mirror_from_params(params, args.facet)
        engine = default_engine(model.vertices, model.triangles)
    except ImportError as exc:
        raise UsageError(str(exc)) from None

    if times is None or len(times) == 1:
        sun = Sun(float(elevation[0]), float(azimuth[0]) % 360.0, args.sun_disc)
        if sun.elevation_deg <= 0:
            raise UsageError(f"the sun is below the horizon then (elevation "
                             f"{sun.elevation_deg:.1f} degrees)")
        hmap = hot_spot_map(
            model, sun, cell=args.cell, extent=tuple(args.extent) if args.extent else None,
            height=args.height, rays=args.rays, reflectance=args.reflectance,
            max_bounces=args.max_bounces, seed=args.seed, engine=engine,
        )
        report = {"preset": args.preset, "params": params.to_dict(), **hmap.report()}
        if times is not None:
            report["time"] = times[0].isoformat()
        from .plot import draw_map

        what = f"sun {sun.elevation_deg:.1f}° up, azimuth {sun.azimuth_deg:.1f}°"
        if times is not None:
            what = f"{times[0]:%Y-%m-%d %H:%M} {args.timezone}, {what}"
        _write_outputs(args, report,
                       lambda path: draw_map(hmap, path, _title(args, params, what)))
        if times is not None and note is not None:  # said with the result it concerns
            print(f"scurve_geom.optics: {note}", file=sys.stderr)
        print(f"peak {hmap.peak_concentration:.2f} x DNI at ({hmap.peak_xy[0]:.2f}, "
              f"{hmap.peak_xy[1]:.2f}) m, noise {100 * hmap.peak_noise:.1f} %", file=sys.stderr)
        return 0
    return _sweep(args, params, model, engine, times, elevation, azimuth)


def _sweep(args: argparse.Namespace, params: MirrorParams, model: Any, engine: Any,
           times: Any, elevation: Any, azimuth: Any) -> int:
    import numpy as np

    hours: list[dict[str, Any]] = []
    day_max: np.ndarray | None = None
    last: HotSpotMap | None = None
    peaks: list[tuple[int, float, float]] = []
    for when, e, a in zip(times, elevation, azimuth, strict=True):
        entry: dict[str, Any] = {"time": when.isoformat(), "sun_elevation_deg": float(e),
                                 "sun_azimuth_deg": float(a)}
        if e <= 0:
            entry["peak_concentration"] = 0.0
            hours.append(entry)
            continue
        hmap = hot_spot_map(
            model, Sun(float(e), float(a), args.sun_disc), cell=args.cell,
            extent=tuple(args.extent) if args.extent else None, height=args.height,
            rays=args.rays, reflectance=args.reflectance, max_bounces=args.max_bounces,
            seed=args.seed, engine=engine,
        )
        r = hmap.report()
        for key in ("peak_concentration", "peak_xy", "peak_relative_noise",
                    "intercepted_area_m2", "fraction_to_ground", "fraction_outside_map"):
            entry[key] = r[key]
        hours.append(entry)
        day_max = hmap.concentration if day_max is None else np.maximum(day_max,
                                                                        hmap.concentration)
        if r["peak_concentration"] >= 2.0:
            peaks.append((when.hour, *r["peak_xy"]))
        last = hmap
        print(f"{when:%H:%M} sun {e:5.1f}° up, az {a:5.1f}°: peak {r['peak_concentration']:.2f}"
              f" x DNI at ({r['peak_xy'][0]:.2f}, {r['peak_xy'][1]:.2f}) m", file=sys.stderr)
    lit = [h for h in hours if h["sun_elevation_deg"] > 0]
    best = max(lit, key=lambda h: h["peak_concentration"], default=None)
    report = {
        "preset": args.preset, "params": params.to_dict(), "latitude": args.latitude,
        "longitude": args.longitude, "date": args.date, "timezone": args.timezone,
        "reflectance": args.reflectance, "cell_m": args.cell, "rays_per_hour": args.rays,
        "peak_concentration": best["peak_concentration"] if best else 0.0,
        "peak_time": best["time"] if best else None,
        "peak_xy": best["peak_xy"] if best else None,
        "hours": hours,
    }
    if args.out is not None and (last is None or day_max is None):
        raise UsageError(f"the sun does not rise on {args.date} there: no map to draw")
    from .plot import draw_map

    what = (f"hourly maximum, {args.date}, {args.latitude:g}° {args.longitude:g}° "
            "(+y north); hours of peaks ≥ 2×")
    _write_outputs(args, report, lambda path: draw_map(
        last, path, _title(args, params, what), values=day_max, labels=_hour_labels(peaks),
        bar_label="hourly maximum of reflected irradiance / DNI"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 on success, 2 with one line on stderr for bad input."""
    return guarded_main(run, argv, "scurve_geom.optics")
