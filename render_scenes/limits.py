"""The allowed ranges of the render scripts' numeric flags, checked in one place.

Blender's own properties clamp out-of-range values silently (a negative seed becomes 0,
``--samples 10**9`` Cycles' maximum); a script refuses them instead, naming the flag, the
value and the allowed range. Flags a script does not have are skipped, so ``scurve.py``
and ``face_planes.py`` share the table.
"""

from __future__ import annotations

import argparse

from scurve_geom.cli_common.usage import check_range

__all__ = ["FACE_FLAGS", "LIMITS", "check_limits"]

#: flag -> (attribute, lowest, highest, unit). A turntable or animation of an hour at 60 fps
#: is 3600 frames. The stage's flags (--samples, --sun-*) are not here: their ranges live
#: in ``scurve_geom.stage_params.StageParams`` with the rest of the stage's facts.
LIMITS: dict[str, tuple[str, float, float, str]] = {
    "--turntable": ("turntable", 2, 3600, "frames"),
    "--frames": ("frames", 2, 3600, "frames"),
    "--seed": ("seed", 0, 2**31 - 1, ""),
    "--fps": ("fps", 1, 240, "frames per second"),
    "--face-seed": ("face_seed", 0, 2**32 - 1, ""),
    "--face-boundary": ("face_boundary", 1e-6, 100.0, ""),
    "--face-emission": ("face_emission", 0.0, 1000.0, ""),
}


FACE_FLAGS = ("--face-seed", "--face-boundary", "--face-emission")


def check_limits(args: argparse.Namespace, flags: tuple[str, ...] | None = None) -> None:
    """Raise :class:`~scurve_geom.cli_common.usage.UsageError` for the first flag of
    :data:`LIMITS` (or of ``flags``) outside its range (NaN and infinities included)."""
    for flag, (attr, lo, hi, unit) in LIMITS.items():
        if flags is not None and flag not in flags:
            continue
        if flag == "--frames" and getattr(args, "animate", None) is None:
            continue  # --frames only counts with --animate
        check_range(flag, getattr(args, attr, None), lo, hi, unit)
