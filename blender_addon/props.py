"""Blender properties generated from :meth:`MirrorParams.describe`.

The dataclass is the one source of truth for names, defaults, ranges, units and
tooltips: the redo panel, the "Edit S-Curve" dialog and the parameters stored on each
mirror object are all built here from it, so adding a field to ``MirrorParams`` adds it
everywhere. Lengths are metres (``DISTANCE`` subtype, scene length unit), angles radians.
"""

import math
from collections.abc import Callable
from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty

from scurve_geom import PRESETS, MirrorParams
from scurve_geom.params import look_levels

#: Field names in the dataclass's order (the order the UI shows them in).
PARAM_NAMES: tuple[str, ...] = tuple(f["name"] for f in MirrorParams.describe())

#: The preset enum's "leave the values alone" item.
CUSTOM = "CUSTOM"

# Blender's own UI names for its Subdivision Surface boundary rules, so the redo panel
# reads like the modifier panel the user already knows.
_ENUM_UI = {
    "ALL": ("All", "Smooth boundary corners too (Blender's default)"),
    "PRESERVE_CORNERS": ("Keep Corners", "Keep vertices with two boundary edges fixed"),
}

_FIELDS = {f["name"]: f for f in MirrorParams.describe()}

#: The add-on's defaults: the dataclass's, except that the seed's coarse grid comes with
#: the Subdivision Surface levels that make it look like the seed's result (3: see
#: ``scurve_geom.params.look_levels``), where the library's default is the bare grid.
DEFAULTS: dict[str, Any] = {
    **{name: f["default"] for name, f in _FIELDS.items()},
    "subdivision_levels": look_levels(MirrorParams()),
}


def _label(name: str) -> str:
    return name.replace("_", " ").title()


def _kind(field: dict[str, Any]) -> str:
    # params.py uses postponed annotations, so the type arrives as its name; accept a
    # real type too in case that ever changes.
    t = field["type"]
    return t if isinstance(t, str) else t.__name__


def param_property(field: dict[str, Any], options: set[str] | None = None) -> Any:
    """The ``bpy.props`` definition for one ``MirrorParams.describe()`` entry."""
    common: dict[str, Any] = {"name": _label(field["name"]), "description": field["doc"]}
    default = DEFAULTS[field["name"]]
    if options is not None:
        common["options"] = options
    lo, hi = field.get("min"), field.get("max")
    kind = _kind(field)
    if kind == "float":
        kw: dict[str, Any] = {"default": float(default), "precision": 4}
        if lo is not None:
            kw["min"] = float(lo)
        if hi is not None:
            kw["max"] = float(hi)
        unit = field.get("unit")
        if unit == "LENGTH":
            kw.update(subtype="DISTANCE", unit="LENGTH", step=1)
        elif unit == "ROTATION":
            kw.update(subtype="ANGLE", unit="ROTATION")
        return FloatProperty(**common, **kw)
    if kind == "int":
        kw = {"default": int(default)}
        if lo is not None:
            kw["min"] = int(lo)
        if hi is not None:
            kw["max"] = int(hi)
            # A slider to 8192 is useless; typing larger values still works.
            kw["soft_max"] = min(int(hi), 512)
        return IntProperty(**common, **kw)
    if kind == "bool":
        return BoolProperty(**common, default=bool(default))
    if kind == "str" and field.get("choices"):
        items = [
            (c, *_ENUM_UI.get(c, (_label(c.lower()), c)))
            for c in field["choices"]
        ]
        return EnumProperty(**common, items=items, default=default)
    raise TypeError(f"MirrorParams field {field['name']!r} of type {kind} has no Blender property")


def param_annotations(options: set[str] | None = None) -> dict[str, Any]:
    """``{field name: bpy property}`` for every ``MirrorParams`` field, in order."""
    return {name: param_property(_FIELDS[name], options) for name in PARAM_NAMES}


def preset_items() -> list[tuple[str, str, str]]:
    """Enum items for the preset selector: ``CUSTOM`` then every :data:`PRESETS` key."""
    items = [(CUSTOM, "Custom", "Keep the values as they are")]
    for name, values in PRESETS.items():
        summary = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in values.items())
        items.append((name, name, f"Preset {name}: {summary}"))
    return items


def preset_values(name: str) -> dict[str, Any]:
    """Every field's value for preset ``name``: the dataclass defaults overlaid by the
    preset, with the subdivision levels for a smooth look unless the preset sets them
    (``blog-part2``: 3; ``kapoor`` and ``smooth``, fine already: 0)."""
    values = {**{n: _FIELDS[n]["default"] for n in PARAM_NAMES}, **PRESETS[name]}
    if "subdivision_levels" not in PRESETS[name]:
        values["subdivision_levels"] = look_levels(MirrorParams(**values))
    return values


def _snap(name: str, value: Any) -> Any:
    # Blender stores floats as float32: pi comes back as 3.1415927 > math.pi, which the
    # dataclass would reject as out of range. Snap values within float32 rounding of a
    # bound back onto it; anything further off is a real error for MirrorParams to report.
    if not isinstance(value, float):
        return value
    field = _FIELDS[name]
    for bound in (field.get("min"), field.get("max")):
        if bound is not None and math.isclose(value, bound, rel_tol=2e-7, abs_tol=1e-12):
            return float(bound)
    return value


def read_params(source: Any) -> MirrorParams:
    """``MirrorParams`` from any RNA struct carrying the generated properties.

    Raises
    ------
    ValueError
        From the dataclass's validation, naming the parameter, value and range.
    """
    values = {}
    for name in PARAM_NAMES:
        value = getattr(source, name)
        kind = _kind(_FIELDS[name])
        # RNA hands back Python floats/ints/bools/strs already; the casts document the
        # contract and turn a float property holding 1 into 1.0 for the type check.
        if kind == "float":
            value = float(value)
        elif kind == "int":
            value = int(value)
        values[name] = _snap(name, value)
    return MirrorParams(**values)


def write_params(target: Any, values: MirrorParams | dict[str, Any]) -> None:
    """Copy parameter values (a ``MirrorParams`` or a name → value dict) onto ``target``."""
    data = values.to_dict() if isinstance(values, MirrorParams) else values
    for name in PARAM_NAMES:
        if name in data:
            setattr(target, name, data[name])


class ParamsMixin:
    """Mixin giving a Blender class one property per ``MirrorParams`` field."""


ParamsMixin.__annotations__ = param_annotations()


class SCURVE_PG_mirror(ParamsMixin, bpy.types.PropertyGroup):
    """The parameters an S-curve mirror object was built from (``Object.scurve_mirror``)."""


def _is_mirror_property() -> Any:
    return BoolProperty(
        name="Is S-Curve Mirror",
        description="This object's mesh was built by Add S-Curve Mirror and can be edited",
        default=False,
    )


SCURVE_PG_mirror.__annotations__ = {"is_mirror": _is_mirror_property()}


classes = (SCURVE_PG_mirror,)
_register: Callable[[], None]
_unregister: Callable[[], None]
# The stubs declare the factory as returning None; it returns (register, unregister).
_register, _unregister = bpy.utils.register_classes_factory(classes)  # type: ignore[func-returns-value, misc]


def register() -> None:
    _register()
    bpy.types.Object.scurve_mirror = PointerProperty(  # type: ignore[attr-defined, func-returns-value]
        type=SCURVE_PG_mirror,
        name="S-Curve Mirror",
        description="Parameters of the S-curve mirror this object holds",
    )


def unregister() -> None:
    del bpy.types.Object.scurve_mirror  # type: ignore[attr-defined]
    _unregister()
