"""The mirror's parameters: one frozen, validated dataclass and its named presets.

Every length is in metres, every angle in radians (Blender's internal units).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BOUNDARY_RULES",
    "MAX_VERTICES",
    "PRESETS",
    "SMOOTH_LEVELS",
    "MirrorParams",
    "look_levels",
    "preset",
]

#: Largest mesh (after subdivision) the library builds. 10 M vertices is ~0.5 GB of
#: float64 positions, UVs and faces together: well inside a laptop, well past what a
#: render needs (the ``smooth`` preset has ~75 k).
MAX_VERTICES = 10_000_000

#: Blender's Subdivision Surface ``boundary_smooth`` identifiers.
#: ``ALL`` (UI "All", the default) smooths boundary corners too; ``PRESERVE_CORNERS``
#: (UI "Keep Corners") keeps vertices with two boundary edges fixed.
BOUNDARY_RULES = ("ALL", "PRESERVE_CORNERS")


def _meta(doc: str, lo: float | None = None, hi: float | None = None, **extra: Any) -> Any:
    # The range lives in the field's metadata so validation, the CLI and the Blender
    # redo panel all read one source of truth.
    return {"doc": doc, "min": lo, "max": hi, **extra}


@dataclass(frozen=True)
class MirrorParams:
    """Everything that defines the mirror mesh.

    The wall stands on z = 0 with its seam on the z axis; the plan centre line runs
    along +x (see ``docs/design.md``). Construct with keyword arguments or from a preset
    (:func:`preset`); every instance is validated, so a ``MirrorParams`` that exists is
    buildable.

    Raises
    ------
    ValueError
        Naming the parameter, the value and the allowed range, for any invalid value
        or when the mesh would exceed :data:`MAX_VERTICES`.
    """

    radius: float = field(
        default=1.0,
        metadata=_meta("Radius of the end arches in metres", 0.01, 100.0, unit="LENGTH"),
    )
    half_length: float = field(
        default=3.0,
        metadata=_meta(
            "Arc length from the seam to each end along the plan centre line, metres",
            0.01,
            1000.0,
            unit="LENGTH",
        ),
    )
    circle_vertices: int = field(
        default=32,
        metadata=_meta(
            "Vertices of the full circle the arch is cut from (even); 32 gives 17 rows", 4, 8192
        ),
    )
    length_segments: int = field(
        default=1,
        metadata=_meta("Grid columns from the seam to each end", 1, 8192),
    )
    arch_angle: float = field(
        default=math.pi,
        metadata=_meta(
            "Angle of the circular arc used at the ends, radians (pi: a full half circle)",
            0.1,
            math.pi,
            unit="ROTATION",
        ),
    )
    match_heights: bool = field(
        default=True,
        metadata=_meta("Seam vertex heights equal the arch's (the seed's step 10)"),
    )
    weld_seam: bool = field(
        default=True,
        metadata=_meta("The two halves share one seam column (off: two coincident columns)"),
    )
    s_amplitude: float = field(
        default=0.0,
        metadata=_meta(
            "Sideways offset of the plan centre line's ends (the S-bend), metres; "
            "the limit keeps the end heading within 90 degrees",
            unit="LENGTH",
        ),
    )
    subdivision_levels: int = field(
        default=0,
        metadata=_meta("Catmull-Clark subdivision levels applied in numpy", 0, 6),
    )
    boundary_smooth: str = field(
        default="ALL",
        metadata=_meta("Boundary rule for subdivision", choices=BOUNDARY_RULES),
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            _check_type(f.name, value, f.type)
            lo, hi = f.metadata.get("min"), f.metadata.get("max")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name}={value!r} is not finite")
            if lo is not None and hi is not None and not lo <= value <= hi:
                raise ValueError(f"{f.name}={value!r} is out of range: allowed {lo} to {hi}")
            choices = f.metadata.get("choices")
            if choices is not None and value not in choices:
                raise ValueError(f"{f.name}={value!r} is not allowed: choose one of {choices}")
        if self.circle_vertices % 2:
            raise ValueError(
                f"circle_vertices={self.circle_vertices} must be even (a half circle needs "
                "a vertex at each end): allowed even 4 to 8192"
            )
        limit = self.max_s_amplitude()
        if abs(self.s_amplitude) > limit:
            raise ValueError(
                f"s_amplitude={self.s_amplitude!r} is out of range: allowed {-limit:.6g} to "
                f"{limit:.6g} for half_length={self.half_length!r}"
            )
        n = self.vertex_count()
        if n > MAX_VERTICES:
            raise ValueError(
                f"the mesh would have {n} vertices (circle_vertices={self.circle_vertices}, "
                f"length_segments={self.length_segments}, subdivision_levels="
                f"{self.subdivision_levels}): allowed at most {MAX_VERTICES}"
            )

    # -- derived sizes -------------------------------------------------------------
    @property
    def rows(self) -> int:
        """Vertex rows of the base grid: the arch's vertices, ``circle_vertices/2 + 1``."""
        return self.circle_vertices // 2 + 1

    @property
    def columns(self) -> int:
        """Vertex columns of the base grid (two coincident seam columns when unwelded)."""
        return 2 * self.length_segments + (1 if self.weld_seam else 2)

    @property
    def height(self) -> float:
        """Height of the wall in metres: the chord of the end arc, ``2 r sin(arch_angle/2)``."""
        return 2.0 * self.radius * math.sin(self.arch_angle / 2.0)

    def base_counts(self) -> tuple[int, int, int]:
        """``(vertices, edges, faces)`` of the base grid before subdivision."""
        r, c = self.rows, self.columns
        quads_per_row = 2 * self.length_segments
        faces = (r - 1) * quads_per_row
        # Horizontal edges: quads_per_row per row; vertical: one per column per row gap.
        edges = r * quads_per_row + (r - 1) * c
        return r * c, edges, faces

    def vertex_count(self) -> int:
        """Vertices after ``subdivision_levels`` of Catmull-Clark (exact, no building)."""
        v, e, f = self.base_counts()
        for _ in range(self.subdivision_levels):
            # Quad mesh: every face splits in four; V' = V + E + F, E' = 2E + 4F, F' = 4F.
            v, e, f = v + e + f, 2 * e + 4 * f, 4 * f
        return v

    def max_s_amplitude(self) -> float:
        """Largest ``|s_amplitude|`` in metres: the bend whose ends head 90° off the seam."""
        from .plan import max_bend_offset

        return max_bend_offset(self.half_length)

    # -- conveniences ----------------------------------------------------------------
    def replace(self, **changes: Any) -> MirrorParams:
        """A validated copy with ``changes`` applied (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain ``{name: value}``, e.g. to store on a Blender object."""
        return dataclasses.asdict(self)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> MirrorParams:
        """The named preset with ``overrides`` applied; see :data:`PRESETS`."""
        return preset(name, **overrides)

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """One dict per parameter: name, type, default, doc, min, max, unit, choices."""
        out = []
        for f in dataclasses.fields(cls):
            out.append({"name": f.name, "type": f.type, "default": f.default, **f.metadata})
        return out


_TYPES = {"float": (float, int), "int": (int,), "bool": (bool,), "str": (str,)}


def _check_type(name: str, value: Any, annotation: Any) -> None:
    expected = _TYPES[str(annotation)]
    # bool is an int subclass; a True radius is a bug, not 1 m.
    if isinstance(value, bool) and annotation != "bool":
        raise ValueError(f"{name}={value!r} must be a {annotation}, not a bool")
    if not isinstance(value, expected):
        raise ValueError(f"{name}={value!r} must be a {annotation}")


#: Named parameter sets. Values are keyword arguments to :class:`MirrorParams`.
PRESETS: dict[str, dict[str, Any]] = {
    # The seed post, part II: a 32-vertex circle (17-vertex arch), 3 m from the seam to
    # each end, one Grid Fill strip per half, seam heights matched, halves merged.
    "blog-part2": dict(radius=1.0, half_length=3.0, circle_vertices=32, length_segments=1,
                       match_heights=True, weld_seam=True),
    # The same before step 10: evenly spaced seam heights, so the rows slant.
    "blog-unmatched": dict(radius=1.0, half_length=3.0, circle_vertices=32, length_segments=1,
                           match_heights=False, weld_seam=True),
    # Kistefos' S-Curve: ~9.75 m long, ~2.13 m high, gentle end arcs (not half circles)
    # and a reverse S in plan.
    "kapoor": dict(radius=1.39, half_length=4.875, arch_angle=math.radians(100.0),
                   circle_vertices=128, length_segments=96, s_amplitude=0.9),
    # High-resolution exact surface for rendering: no subdivision needed.
    "smooth": dict(radius=1.0, half_length=3.0, circle_vertices=384, length_segments=192),
}


#: Catmull-Clark levels that make a coarse grid render smooth, as the seed's Part II does
#: with its Subdivision Surface modifier: at the seed's 17 rows, 0 levels show 16 facets
#: in an area light's reflection, 3 levels none (``bench/bench_default_look.py``).
SMOOTH_LEVELS = 3


def look_levels(params: MirrorParams) -> int:
    """Subdivision levels for a smooth look: :data:`SMOOTH_LEVELS` for a coarse grid
    (fewer than 64 circle vertices or 8 length segments), 0 for a grid that already
    samples the exact surface finely (``kapoor``, ``smooth``)."""
    coarse = params.circle_vertices < 64 or params.length_segments < 8
    return SMOOTH_LEVELS if coarse else 0


def preset(name: str, **overrides: Any) -> MirrorParams:
    """The preset ``name`` (a key of :data:`PRESETS`) with ``overrides`` applied.

    Raises
    ------
    ValueError
        For an unknown name (listing the known ones) or an invalid override.
    """
    try:
        base = PRESETS[name]
    except KeyError:
        raise ValueError(
            f"preset={name!r} is unknown: choose one of {', '.join(PRESETS)}"
        ) from None
    unknown = set(overrides) - {f.name for f in dataclasses.fields(MirrorParams)}
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)} for preset {name!r}")
    return MirrorParams(**{**base, **overrides})
