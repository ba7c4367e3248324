"""The sidebar tab "S-Curve" in the 3D Viewport (N panel).

Draw functions only lay out operators and properties; all work happens in operators.
"""

from collections.abc import Callable

import bpy

from . import convert_ops, face_planes, mirror_object, operators, props

#: The stage operator (``stage.py``); referenced by name so the panel has no import cycle.
STAGE_OPERATOR = "scene.scurve_stage"
#: Sun Hot Spots and its removal (``hotspots.py``), by name likewise.
HOT_SPOTS_OPERATOR = "scene.scurve_sun_hot_spots"
HOT_SPOTS_CLEAR_OPERATOR = "scene.scurve_sun_hot_spots_clear"


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
        if not operators.is_editable_mirror(obj):
            return
        assert obj is not None
        box = layout.box()
        box.label(text=obj.name, icon="OBJECT_DATA")
        box.operator(operators.OBJECT_OT_scurve_mirror_edit.bl_idname, icon="PREFERENCES")
        if mirror_object.is_procedural(obj):
            box.label(text="Procedural: inputs in the S-Curve Geometry modifier",
                      icon="GEOMETRY_NODES")
            box.operator(convert_ops.OBJECT_OT_scurve_mirror_apply.bl_idname, icon="CHECKMARK")
        else:
            box.operator(convert_ops.OBJECT_OT_scurve_mirror_make_procedural.bl_idname,
                         icon="GEOMETRY_NODES")
        # The stored values, read-only here: editing goes through the operator so the
        # mesh is rebuilt and the change is one undo step.
        col = box.column(align=True)
        col.enabled = False
        settings = obj.scurve_mirror  # type: ignore[attr-defined]
        # Labels inside the fields: at the sidebar's default width a split row cuts
        # "Subdivision Levels" to "Subdivision L…".
        for name in props.PARAM_NAMES:
            if settings.bl_rna.properties[name].type == "ENUM":
                row = col.row(align=True)
                row.label(text=settings.bl_rna.properties[name].name)
                row.prop(settings, name, text="")
            else:
                col.prop(settings, name)


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
