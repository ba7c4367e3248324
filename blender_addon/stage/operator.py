"""Set Up Mirror Stage: the operator, its properties made from :class:`StageParams`."""

from __future__ import annotations

from typing import Any

import bpy

from scurve_geom.stage_params import StageParams

from .build import setup_stage
from .cycles_settings import denoise_note
from .tags import find_mirror

__all__ = ["SCURVE_OT_stage", "classes", "register", "stage_property", "unregister"]


def stage_property(field: dict[str, Any]) -> Any:
    """The ``bpy.props`` definition of one :meth:`StageParams.describe` entry."""
    label = field.get("label", field["name"].replace("_", " ").title())
    common: dict[str, Any] = {"name": label, "description": field["doc"],
                              "default": field["default"]}
    kind, lo, hi = field["type"], field.get("min"), field.get("max")
    if field["name"] == "sun_color":
        return bpy.props.FloatVectorProperty(**common, subtype="COLOR", size=3, min=lo,
                                             max=hi)
    if kind == "bool":
        return bpy.props.BoolProperty(**common)
    if field.get("choices"):
        items = [(c, c.title(), f"{label}: {c}") for c in field["choices"]]
        return bpy.props.EnumProperty(**common, items=items)
    kw: dict[str, Any] = {} if lo is None else {"min": lo, "max": hi}
    if "soft_max" in field:
        kw["soft_max"] = field["soft_max"]
    if kind == "int":
        return bpy.props.IntProperty(**common, **kw)
    unit = field.get("unit")
    if unit == "ROTATION":
        kw.update(subtype="ANGLE", unit="ROTATION")
    elif unit == "POWER":
        kw["unit"] = "POWER"
    return bpy.props.FloatProperty(**common, **kw)


class SCURVE_OT_stage(bpy.types.Operator):
    """Set up a Cycles stage around the S-curve mirror: sky, sun, ground, coloured props,
    area lights and cameras, in the collection "S-Curve Stage". Needs an S-curve mirror
    (the active object or one in the scene) and Object Mode"""

    bl_idname = "scene.scurve_stage"
    bl_label = "Set Up Mirror Stage"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    @classmethod
    def poll(cls, context: Any) -> bool:
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode first")
            return False
        if find_mirror(context) is None:
            cls.poll_message_set(
                "Needs an S-curve mirror: add one with Add > Mesh > S-Curve Mirror"
            )
            return False
        return True

    def execute(self, context: Any) -> Any:  # a set of Blender's result literals
        mirror = find_mirror(context)
        assert mirror is not None  # poll() checked
        try:
            values: dict[str, Any] = {
                f["name"]: tuple(getattr(self, f["name"])) if f["name"] == "sun_color"
                else getattr(self, f["name"])
                for f in StageParams.describe() if f["name"] != "device"}
            setup_stage(context, mirror, StageParams(**values))
        except (ValueError, RuntimeError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        note = denoise_note(context.scene)
        if note:
            self.report({"WARNING"}, f"Stage set up around {mirror.name!r}; {note}")
        else:
            self.report({"INFO"}, f"Stage set up around {mirror.name!r}")
        return {"FINISHED"}


# The dataclass's fields are the operator's properties (the device stays "auto" in the
# UI: Blender's preferences choose the GPU).
SCURVE_OT_stage.__annotations__ = {
    f["name"]: stage_property(f) for f in StageParams.describe() if f["name"] != "device"}

classes = (SCURVE_OT_stage,)
register, unregister = bpy.utils.register_classes_factory(classes)  # type: ignore[func-returns-value, misc]
