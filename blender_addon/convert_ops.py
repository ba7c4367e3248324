"""Operators between the two modes: "Make Procedural" and "Apply" (to a plain mesh).

Both act on the active mirror in Object Mode, check everything before changing it, and
report an ERROR with the object unchanged when they cannot proceed.
"""

from collections.abc import Callable
from typing import Any

import bpy

from . import mirror_object
from .common import Result


def _poll_mirror(cls: Any, context: bpy.types.Context, procedural: bool) -> bool:
    if context.mode != "OBJECT":
        cls.poll_message_set("Switch to Object Mode first")
        return False
    obj = context.active_object
    if not mirror_object.is_editable_mirror(obj):
        cls.poll_message_set("The active object is not an S-curve mirror")
        return False
    if mirror_object.is_procedural(obj) != procedural:
        cls.poll_message_set("The mirror is procedural already" if not procedural
                             else "The mirror is a plain mesh already")
        return False
    return True


class OBJECT_OT_scurve_mirror_make_procedural(bpy.types.Operator):
    """Drive the active S-curve mirror by the "S-Curve Mirror" Geometry Nodes group: its \
parameters become modifier inputs that can be changed live, keyframed and driven"""

    bl_idname = "object.scurve_mirror_make_procedural"
    bl_label = "Make Procedural"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _poll_mirror(cls, context, procedural=False)

    def execute(self, context: bpy.types.Context) -> Result:
        obj = context.active_object
        try:
            params = mirror_object.object_params(obj)
        except ValueError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        mirror_object.make_procedural(obj, params)
        return {"FINISHED"}


class OBJECT_OT_scurve_mirror_apply(bpy.types.Operator):
    """Turn the active procedural S-curve mirror into a plain mesh of its current \
parameters (keyframes and drivers on the modifier's inputs go with the modifier)"""

    bl_idname = "object.scurve_mirror_apply"
    bl_label = "Apply"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _poll_mirror(cls, context, procedural=True)

    def execute(self, context: bpy.types.Context) -> Result:
        try:
            mirror_object.make_mesh(context.active_object)
        except ValueError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        return {"FINISHED"}


classes = (OBJECT_OT_scurve_mirror_make_procedural, OBJECT_OT_scurve_mirror_apply)
register: Callable[[], None]
unregister: Callable[[], None]
# The stubs declare the factory as returning None; it returns (register, unregister).
register, unregister = bpy.utils.register_classes_factory(classes)  # type: ignore[func-returns-value, misc]
