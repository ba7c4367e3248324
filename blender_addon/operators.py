"""Operators: "Add S-Curve Mirror" and "Edit S-Curve".

Both turn their properties into a validated ``MirrorParams`` *before* touching any
Blender data, so invalid input reports an ERROR and cancels with the scene unchanged.
Blender gets the base grid (``subdivision_levels=0``), as a mesh or, with
``procedural=True``, from a Geometry Nodes modifier (:mod:`.mirror_object`), and a
Subdivision Surface modifier does the smoothing, which keeps the object light and
editable; the numpy subdivision is for exporters, not for Blender.
"""

from collections.abc import Callable
from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, StringProperty
from bpy_extras import object_utils

from scurve_geom import build_mesh

from . import mesh_io, mirror_object, props
from .common import Result, is_editable_mirror
from .mirror_object import OBJECT_NAME, blender_params

__all__ = [
    "MESH_OT_scurve_mirror_add",
    "OBJECT_OT_scurve_mirror_edit",
    "menu_func",
]


def _preset_property() -> Any:
    return EnumProperty(
        name="Preset",
        description="Fill the parameters from a named preset (Custom keeps them)",
        items=props.preset_items(),
        default=props.CUSTOM,
        # A preset is a one-shot action; remembering it would re-apply it over the
        # user's tweaks the next time the operator runs.
        options={"SKIP_SAVE"},
    )


def _applied_property() -> Any:
    return StringProperty(
        name="Applied Preset",
        description="Internal: the preset whose values the parameters hold",
        default="",
        options={"HIDDEN", "SKIP_SAVE"},
    )


def _procedural_property() -> Any:
    return BoolProperty(
        name="Procedural",
        description="Make the surface with a Geometry Nodes modifier whose inputs can be "
        "changed live, keyframed and driven (the .blend needs no add-on to render)",
        default=False,
    )


def _apply_preset(op: Any) -> None:
    """Copy the chosen preset's values into ``op``'s parameters once per choice.

    On the first run, parameters the caller set explicitly win over the preset
    (``bpy.ops.mesh.scurve_mirror_add(preset="kapoor", radius=2)``); when the preset is
    changed later in the redo panel or dialog, the new preset replaces every value.
    """
    if op.preset != props.CUSTOM and op.preset != op.applied_preset:
        first = op.applied_preset == ""
        values = props.preset_values(op.preset)
        for name in props.PARAM_NAMES:
            if first and op.properties.is_property_set(name):
                continue
            setattr(op, name, values[name])
    op.applied_preset = op.preset


def _draw_params(layout: bpy.types.UILayout, op: bpy.types.Operator) -> None:
    """The preset and every parameter, as the redo panel and the Edit dialog show them."""
    layout.use_property_split = True
    layout.use_property_decorate = False
    layout.prop(op, "preset")
    col = layout.column(align=True)
    for name in props.PARAM_NAMES:
        col.prop(op, name)


class MESH_OT_scurve_mirror_add(
    props.ParamsMixin, object_utils.AddObjectHelper, bpy.types.Operator
):
    """Add an S-curve mirror wall at the 3D cursor, base on the ground and seam at the \
cursor (in Object Mode: the new object keeps its parameters for Edit S-Curve)"""

    bl_idname = "mesh.scurve_mirror_add"
    bl_label = "Add S-Curve Mirror"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        # In Edit Mode object_data_add would join the wall into the edited mesh, which
        # then could not be rebuilt from its parameters.
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode to add an S-curve mirror")
            return False
        return True

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        assert layout is not None
        _draw_params(layout, self)
        col = layout.column()
        col.prop(self, "procedural")
        col.prop(self, "align")
        col.prop(self, "location")
        col.prop(self, "rotation")

    def execute(self, context: bpy.types.Context) -> Result:
        op: Any = self  # the generated properties are invisible to the type checker
        _apply_preset(self)
        try:
            params = props.read_params(self)
        except ValueError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        wm = context.window_manager
        assert wm is not None
        wm.progress_begin(0, 3)
        try:
            if op.procedural:
                # The modifier makes the geometry; the mesh datablock stays empty.
                data = bpy.data.meshes.new(OBJECT_NAME)
            else:
                data = mesh_io.new_mesh(OBJECT_NAME, build_mesh(blender_params(params)))
            wm.progress_update(1)
            obj = object_utils.object_data_add(context, data, operator=self)
            wm.progress_update(2)
            if op.procedural:
                mirror_object.make_procedural(obj, params)
            else:
                mirror_object.set_geometry(obj, params)
            wm.progress_update(3)
        finally:
            wm.progress_end()
        return {"FINISHED"}


class OBJECT_OT_scurve_mirror_edit(bpy.types.Operator):
    """Rebuild the active S-curve mirror from edited parameters (needs an S-curve mirror \
made by Add S-Curve Mirror as the active object, in Object Mode)"""

    bl_idname = "object.scurve_mirror_edit"
    bl_label = "Edit S-Curve"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode to edit an S-curve mirror")
            return False
        if not is_editable_mirror(context.active_object):
            cls.poll_message_set("The active object is not an S-curve mirror")
            return False
        return True

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        assert layout is not None
        _draw_params(layout, self)

    def _load_unset(self, obj: bpy.types.Object) -> None:
        # Parameters the caller did not pass start from the object's stored values, so
        # "Edit" with only radius=2 changes the radius and nothing else.
        try:
            current = mirror_object.object_params(obj).to_dict()
        except ValueError:
            # Inputs the library refuses (e.g. an odd vertex count typed into the
            # modifier): start from the stored values and let execute report.
            current = {n: getattr(obj.scurve_mirror, n) for n in props.PARAM_NAMES}  # type: ignore[attr-defined]
        for name in props.PARAM_NAMES:
            if not self.properties.is_property_set(name):
                setattr(self, name, current[name])

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> Result:
        assert context.active_object is not None
        self._load_unset(context.active_object)
        op: Any = self  # the generated properties are invisible to the type checker
        # The dialog opens on the object's values; a preset picked there replaces them all.
        op.applied_preset = props.CUSTOM
        wm = context.window_manager
        assert wm is not None
        return wm.invoke_props_dialog(self, width=360)

    def execute(self, context: bpy.types.Context) -> Result:
        obj = context.active_object
        assert obj is not None and isinstance(obj.data, bpy.types.Mesh)
        op: Any = self  # the generated properties are invisible to the type checker
        first = op.applied_preset == ""
        _apply_preset(op)
        if first:
            self._load_unset(obj)
        try:
            params = props.read_params(self)
        except ValueError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        wm = context.window_manager
        assert wm is not None
        wm.progress_begin(0, 1)
        try:
            # Mesh mode rebuilds the mesh; procedural mode sets the modifier's inputs.
            mirror_object.set_geometry(obj, params)
            wm.progress_update(1)
        finally:
            wm.progress_end()
        return {"FINISHED"}


MESH_OT_scurve_mirror_add.__annotations__ = {
    "preset": _preset_property(),
    "applied_preset": _applied_property(),
    "procedural": _procedural_property(),
}
# The edit dialog must open on the object's values, not on what was last typed into it
# for another mirror: SKIP_SAVE keeps Blender from remembering them between calls.
OBJECT_OT_scurve_mirror_edit.__annotations__ = {
    **props.param_annotations({"SKIP_SAVE"}),
    "preset": _preset_property(),
    "applied_preset": _applied_property(),
}


def menu_func(self: Any, context: bpy.types.Context) -> None:
    """Add > Mesh entry."""
    self.layout.operator(MESH_OT_scurve_mirror_add.bl_idname, icon="MESH_GRID")


classes = (MESH_OT_scurve_mirror_add, OBJECT_OT_scurve_mirror_edit)
_register: Callable[[], None]
_unregister: Callable[[], None]
# The stubs declare the factory as returning None; it returns (register, unregister).
_register, _unregister = bpy.utils.register_classes_factory(classes)  # type: ignore[func-returns-value, misc]


def register() -> None:
    _register()
    bpy.types.VIEW3D_MT_mesh_add.append(menu_func)


def unregister() -> None:
    bpy.types.VIEW3D_MT_mesh_add.remove(menu_func)
    _unregister()
