"""The stage's settings: one frozen, validated dataclass and its defaults.

Set Up Mirror Stage's properties (``blender_addon.stage.operator``), the flags of
``render_scenes/scurve.py`` (``render_scenes.stage_args``) and ``setup_stage``'s
defaults are all generated from the fields' metadata here, as the geometry's are from
:class:`~scurve_geom.MirrorParams`. Angles are radians (degrees on the command line),
light in W/m² (sun) and W (area lights).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .placement.framing import VIEWS

__all__ = ["DEFAULT_SUN_COLOR", "DEVICES", "RED_SUN_COLOR", "SUN_COLORS", "StageParams"]

#: Linear RGB. The default is a slightly warm daylight; the red sun is the seed post's
#: variant "a change of the sun's color to the red side of the spectrum".
DEFAULT_SUN_COLOR = (1.0, 0.95, 0.88)
RED_SUN_COLOR = (1.0, 0.2, 0.05)
#: Named sun colours (the command line's ``--sun-color daylight``).
SUN_COLORS = {"daylight": DEFAULT_SUN_COLOR, "red": RED_SUN_COLOR}
#: Cycles devices: ``auto`` is the GPU the user's preferences configure, else the CPU.
DEVICES = ("auto", "cpu", "gpu")


def _meta(doc: str, lo: float | None = None, hi: float | None = None, **extra: Any) -> Any:
    # label: the UI name (default: the field's name, title case); flag: the command
    # line's name when it is not the field's; soft_max: the UI slider's end.
    return {"doc": doc, "min": lo, "max": hi, **extra}


@dataclass(frozen=True)
class StageParams:
    """Everything Set Up Mirror Stage and ``scurve.py`` set on the stage.

    Raises
    ------
    ValueError
        Naming the parameter, the value and the allowed range.
    """

    sun_color: tuple[float, float, float] = field(
        default=DEFAULT_SUN_COLOR,
        metadata=_meta("Colour of the sun, linear RGB (toward red for dusk)", 0.0, 1.0,
                       unit="COLOR"),
    )
    sun_strength: float = field(
        default=3.0,
        metadata=_meta("Sun irradiance in W/m²", 0.0, 1000.0, soft_max=20.0, metavar="W"),
    )
    sun_elevation: float = field(
        default=math.radians(32.0),
        metadata=_meta("Sun angle above the horizon", -math.pi / 2, math.pi / 2,
                       unit="ROTATION"),
    )
    sun_azimuth: float = field(
        default=math.radians(205.0),
        # Any angle is a direction; past a turn either way it can only be a typo.
        metadata=_meta("Sun direction about the mirror's vertical axis, from its back "
                       "(+y); 180° is straight in front", -2 * math.pi, 4 * math.pi,
                       unit="ROTATION"),
    )
    sky_strength: float = field(
        default=0.15,
        metadata=_meta("Multiplier of the physical sky's brightness", 0.0, 100.0,
                       soft_max=2.0),
    )
    area_power: float = field(
        default=300.0,
        metadata=_meta("Power of each of the two large area lights, W", 0.0, 1e6,
                       soft_max=2000.0, unit="POWER", label="Area Light Power", metavar="W"),
    )
    props: bool = field(
        default=True,
        metadata=_meta("Show the red cylinder, green cone and blue sphere by the concave "
                       "half", label="Coloured Props"),
    )
    mirror_roughness: float = field(
        default=0.03,
        metadata=_meta("Principled roughness of the mirror's steel (0: a perfect mirror)",
                       0.0, 1.0),
    )
    view: str = field(
        default="front",
        metadata=_meta("The named view the scene camera takes", choices=VIEWS,
                       label="Camera", flag="camera"),
    )
    # bench/bench_render_quality.py (640x360, vs a 1024-sample reference): with the
    # stage's settings 16 samples give 46.3 dB, 32 give 48.1 dB, 64 only 49.3 dB for
    # twice the time; 32 is where the curve flattens. Counts past 65536 are only ever a
    # typo (Cycles would clamp them silently).
    samples: int = field(
        default=32,
        metadata=_meta("Cycles render samples (adaptive sampling stops earlier where it "
                       "can; 4x without a denoiser)", 1, 65536, soft_max=4096),
    )
    device: str = field(
        default="auto",
        metadata=_meta("Cycles device: auto is the GPU configured in Blender's "
                       "preferences, else the CPU", choices=DEVICES),
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            kind = str(f.type)
            if kind == "bool":
                if not isinstance(value, bool):
                    raise ValueError(f"{f.name}={value!r} must be a bool")
                continue
            choices = f.metadata.get("choices")
            if choices is not None:
                if value not in choices:
                    raise ValueError(f"{f.name}={value!r} is not allowed: choose one of "
                                     f"{', '.join(choices)}")
                continue
            if f.name == "sun_color":
                rgb = tuple(value) if isinstance(value, (tuple, list)) else ()
                if len(rgb) != 3 or not all(_number(c) and 0.0 <= c <= 1.0 for c in rgb):
                    raise ValueError(f"sun_color={value!r} must be three numbers in 0..1 "
                                     "(linear RGB)")
                object.__setattr__(self, "sun_color", tuple(float(c) for c in rgb))
                continue
            if not _number(value) or (kind == "int" and not isinstance(value, int)):
                raise ValueError(f"{f.name}={value!r} must be a finite {kind}")
            lo, hi = f.metadata.get("min"), f.metadata.get("max")
            if lo is not None and hi is not None and not lo <= value <= hi:
                raise ValueError(f"{f.name}={value!r} is out of range: allowed {lo:g} to {hi:g}")

    def replace(self, **changes: Any) -> StageParams:
        """A validated copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain ``{name: value}``."""
        return dataclasses.asdict(self)

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """One dict per setting: name, type, default, doc, min, max and the UI/CLI hints."""
        return [{"name": f.name, "type": str(f.type), "default": f.default, **f.metadata}
                for f in dataclasses.fields(cls)]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)
