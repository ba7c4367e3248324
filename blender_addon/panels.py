"""The sidebar tab "S-Curve" in the 3D Viewport (N panel).

Draw functions only lay out operators and properties; all work happens in operators.
"""

import math
from collections.abc import Callable
from typing import Any

import bpy

from . import convert_ops, face_planes, mirror_object, operators, props
from .common import is_editable_mirror

#: The stage operator (``stage/operator.py``); referenced by name so the panel has no import cycle.
STAGE_OPERATOR = "scene.scurve_stage"
#: Sun Hot Spots and its removal (``hotspots.py``), by name likewise.
HOT_SPOTS_OPERATOR = "scene.scurve_sun_hot_spots"
HOT_SPOTS_CLEAR_OPERATOR = "scene.scurve_sun_hot_spots_clear"
#: The note on a procedural mirror, in lines that fit the sidebar at its default width.
PROCEDURAL_NOTE = ("Procedural: edit the", "S-Curve Geometry inputs")
#: Share of the sidebar's width the parameter names get; the values get the rest.
LABEL_FACTOR = 0.58


def parameter_rows(obj: Any, scene: Any, depsgraph: Any | None = None) -> list[tuple[str, str]]:
    """``(name, value)`` of every parameter of the shape ``obj`` shows now, as the panel
    lists them: :func:`.mirror_object.object_params` (a procedural mirror's inputs as
    changed, keyframed or driven), lengths in the scene's units, angles in degrees.
    ``depsgraph``: an evaluated one to read from (a panel passes its view layer's, so
    drawing never evaluates); by default the context's, evaluated now.

    Raises
    ------
    ValueError
        When a procedural mirror's inputs hold values the parameters refuse.
    """
    params = mirror_object.object_params(obj, depsgraph=depsgraph)
    rna: Any = props.SCURVE_PG_mirror.bl_rna.properties
    units = scene.unit_settings
    rows = []
    for name in props.PARAM_NAMES:
        prop, value = rna[name], getattr(params, name)
        if prop.type == "ENUM":
            text = prop.enum_items[value].name
        elif prop.type == "BOOLEAN":
            text = "On" if value else "Off"
        elif prop.type == "INT":
            text = str(value)
        elif prop.unit == "ROTATION":
            text = f"{math.degrees(value):.4g}°"
        elif prop.unit == "LENGTH" and units.system != "NONE":
            text = bpy.utils.units.to_string(units.system, "LENGTH",
                                             value * units.scale_length, precision=4)
        else:
            text = f"{value:.4g}"
        rows.append((prop.name, text))
    return rows


class VIEW3D_PT_scurve_mirror(bpy.types.Panel):
    """Add, edit and stage S-curve mirrors"""

    bl_label = "S-Curve Mirror"
    bl_idname = "VIEW3D_PT_scurve_mirror"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "S-Curve"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        assert layout is not None
        col = layout.column(align=True)
        col.operator(operators.MESH_OT_scurve_mirror_add.bl_idname, icon="MESH_GRID")
        col.operator(STAGE_OPERATOR, icon="SCENE_DATA")
        row = col.row(align=True)
        row.operator(HOT_SPOTS_OPERATOR, icon="LIGHT_SUN")
        row.operator(HOT_SPOTS_CLEAR_OPERATOR, text="", icon="X")

        obj = context.active_object
        if not is_editable_mirror(obj):
            return
        assert obj is not None
        box = layout.box()
        box.label(text=obj.name, icon="OBJECT_DATA")
        box.operator(operators.OBJECT_OT_scurve_mirror_edit.bl_idname, icon="PREFERENCES")
        if mirror_object.is_procedural(obj):
            # Short lines: the sidebar's default width (220 px) cuts a long label.
            box.label(text=PROCEDURAL_NOTE[0], icon="GEOMETRY_NODES")
            box.label(text=PROCEDURAL_NOTE[1], icon="BLANK1")
            box.operator(convert_ops.OBJECT_OT_scurve_mirror_apply.bl_idname, icon="CHECKMARK")
        else:
            box.operator(convert_ops.OBJECT_OT_scurve_mirror_make_procedural.bl_idname,
                         icon="GEOMETRY_NODES")
        # The shape the viewport shows, read-only here: editing goes through the operator
        # (mesh mode) or the modifier's inputs (procedural mode).
        try:
            layer: Any = context.view_layer
            rows = parameter_rows(obj, context.scene, layer.depsgraph)
        except ValueError as exc:
            box.label(text=str(exc), icon="ERROR")
            return
        col = box.column(align=True)
        col.enabled = False
        for name, value in rows:
            split = col.split(factor=LABEL_FACTOR, align=True)
            split.label(text=name)
            split.label(text=value)


class VIEW3D_PT_scurve_face_planes(bpy.types.Panel):
    """Faces decoded by the autoencoder, on planes the mirror reflects"""

    bl_label = "Face Planes"
    bl_idname = "VIEW3D_PT_scurve_face_planes"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "S-Curve"
    bl_parent_id = VIEW3D_PT_scurve_mirror.bl_idname

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        assert layout is not None
        settings = context.scene.scurve_faces  # type: ignore[union-attr]
        col = layout.column()
        col.use_property_split = True
        col.use_property_decorate = False
        col.prop(settings, "count")
        col.prop(settings, "layout")
        col.prop(settings, "visibility")
        col.prop(settings, "source")
        if settings.source == "FOLDER":
            col.prop(settings, "folder")
        else:
            col.prop(settings, "decoder")
            col.prop(settings, "mode")
            if settings.mode == "uniform":
                col.prop(settings, "boundary")
        row = col.row(align=True)
        row.prop(settings, "seed")
        row.operator(face_planes.SCENE_OT_scurve_face_reroll.bl_idname, text="",
                     icon="FILE_REFRESH")
        col.prop(settings, "emission")
        # The strip is filled by the settings' update callbacks and Re-roll, never here.
        error = face_planes.preview_error()
        if error:
            layout.label(text=error, icon="ERROR")
        flow = layout.grid_flow(columns=4, even_columns=True, align=True)
        for icon in face_planes.preview_icons():
            flow.template_icon(icon_value=icon, scale=3.0)
        layout.operator(face_planes.SCENE_OT_scurve_face_planes.bl_idname, icon="IMAGE_PLANE")


classes = (VIEW3D_PT_scurve_mirror, VIEW3D_PT_scurve_face_planes)
register: Callable[[], None]
unregister: Callable[[], None]
# The stubs declare the factory as returning None; it returns (register, unregister).
register, unregister = bpy.utils.register_classes_factory(classes)  # type: ignore[func-returns-value, misc]
