"""Operators: "Add S-Curve Mirror" and "Edit S-Curve".

Both turn their properties into a validated ``MirrorParams`` *before* touching any
Blender data, so invalid input reports an ERROR and cancels with the scene unchanged.
Blender gets the base grid (``subdivision_levels=0``) and a Subdivision Surface modifier
does the smoothing, which keeps the object light and editable; the numpy subdivision is
for exporters, not for Blender.
"""

from collections.abc import Callable
from typing import Any, Literal

import bpy
from bpy.props import EnumProperty, StringProperty
from bpy_extras import object_utils

from scurve_geom import MirrorParams, build_mesh

from . import mesh_io, props

#: What execute/invoke return (the stubs' OperatorReturnItems, spelled out for runtime).
Result = set[Literal["RUNNING_MODAL", "CANCELLED", "FINISHED", "PASS_THROUGH", "INTERFACE"]]

#: Name of the Subdivision Surface modifier the add-on owns on each mirror.
MODIFIER_NAME = "S-Curve Subdivision"
OBJECT_NAME = "S-Curve Mirror"


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


def blender_params(params: MirrorParams) -> MirrorParams:
    """The grid Blender gets: subdivision is left to the modifier."""
    return params.replace(subdivision_levels=0)


def sync_modifier(obj: bpy.types.Object, params: MirrorParams) -> None:
    """Make the add-on's Subdivision Surface modifier match ``params``.

    Levels 0 (the analytic high-resolution mode) means no modifier at all, rather than
    a disabled one, so the exported/evaluated mesh is exactly the grid.
    """
    mod = obj.modifiers.get(MODIFIER_NAME)
    if params.subdivision_levels == 0:
        if mod is not None:
            obj.modifiers.remove(mod)
        return
    if mod is None or mod.type != "SUBSURF":
        if mod is not None:
            obj.modifiers.remove(mod)
        mod = obj.modifiers.new(MODIFIER_NAME, "SUBSURF")
    assert isinstance(mod, bpy.types.SubsurfModifier)
    mod.subdivision_type = "CATMULL_CLARK"
    mod.levels = params.subdivision_levels
    mod.render_levels = params.subdivision_levels
    mod.boundary_smooth = params.boundary_smooth  # type: ignore[assignment]


def _draw_params(layout: bpy.types.UILayout, op: bpy.types.Operator) -> None:
    """The preset and every parameter, as the redo panel and the Edit dialog show them."""
    layout.use_property_split = True
    layout.use_property_decorate = False
    layout.prop(op, "preset")
    col = layout.column(align=True)
    for name in props.PARAM_NAMES:
        col.prop(op, name)


def is_editable_mirror(obj: bpy.types.Object | None) -> bool:
    """Whether ``obj`` is a mirror built by this add-on (it stores its parameters).

    Narrower than ``stage.is_mirror``, which also accepts meshes tagged as mirrors.
    """
    if obj is None or obj.type != "MESH":
        return False
    settings = getattr(obj, "scurve_mirror", None)  # absent while the add-on is unregistered
    return settings is not None and bool(settings.is_mirror)


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
        col.prop(self, "align")
        col.prop(self, "location")
        col.prop(self, "rotation")

    def execute(self, context: bpy.types.Context) -> Result:
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
            grid = build_mesh(blender_params(params))
            wm.progress_update(1)
            data = mesh_io.new_mesh(OBJECT_NAME, grid)
            wm.progress_update(2)
            obj = object_utils.object_data_add(context, data, operator=self)
            obj.scurve_mirror.is_mirror = True  # type: ignore[attr-defined]
            props.write_params(obj.scurve_mirror, params)  # type: ignore[attr-defined]
            sync_modifier(obj, params)
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
        stored = obj.scurve_mirror  # type: ignore[attr-defined]
        for name in props.PARAM_NAMES:
            if not self.properties.is_property_set(name):
                setattr(self, name, getattr(stored, name))

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
        wm.progress_begin(0, 3)
        try:
            grid = build_mesh(blender_params(params))
            wm.progress_update(1)
            mesh_io.fill_mesh(obj.data, grid)
            wm.progress_update(2)
            props.write_params(obj.scurve_mirror, params)  # type: ignore[attr-defined]
            sync_modifier(obj, params)
            wm.progress_update(3)
        finally:
            wm.progress_end()
        return {"FINISHED"}


MESH_OT_scurve_mirror_add.__annotations__ = {
    "preset": _preset_property(),
    "applied_preset": _applied_property(),
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
