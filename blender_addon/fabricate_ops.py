"""Panelize and Export Cutting Patterns: the workshop view of the active mirror.

The numbers come from :mod:`scurve_geom.fabricate` run on the mirror's *current* shape
(``mirror_object.object_params``: the stored parameters, or a procedural mirror's
modifier inputs at the current frame, keyframed or driven). This module only converts:
the panel quads and seams of :func:`~scurve_geom.fabricate.overlay.panel_overlay` become
an overlay object parented to the mirror, coloured by forming class.

libigl runs inside Blender's Python: measured with the ``bpy`` 4.2, 4.5 and 5.0 modules
(Python 3.11, numpy 1.26; libigl 2.6.3's manylinux wheel). The extension does not bundle
it (libigl + scipy + matplotlib are ~60 MB of native wheels per platform and Python);
without it the operators say which command installs it, and change nothing.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

import bpy
import numpy as np
from bpy.props import FloatProperty, PointerProperty, StringProperty

from scurve_geom.fabricate import FabricationOptions, fabricate
from scurve_geom.fabricate.cli import missing_modules
from scurve_geom.fabricate.drawings import CLASS_COLOURS

from . import compat, mesh_io, mirror_object

__all__ = ["OVERLAY_KEY", "register", "unregister"]

#: Custom property on every ID Panelize makes; its value is the mirror's name.
OVERLAY_KEY = "scurve_panels"
_COLOR_ATTR = "Panel Class"
#: The S-Curve tab's main panel (panels.py), referenced by name to add a sub-panel.
_PARENT_PANEL = "VIEW3D_PT_scurve_mirror"

_FIELDS = {f.name: f for f in FabricationOptions.__dataclass_fields__.values()}
_LABELS = {"plate_width": "Plate Length", "plate_height": "Plate Width",
           "thickness": "Thickness", "density": "Density",
           "seam_allowance": "Seam Allowance"}


def _option(name: str) -> Any:
    f = _FIELDS[name]
    length = name != "density"
    return FloatProperty(name=_LABELS[name], description=f.metadata["doc"], default=f.default,
                         min=f.metadata["min"], max=f.metadata["max"],
                         unit="LENGTH" if length else "NONE", precision=4 if length else 0)


class SCurveFabricationSettings(bpy.types.PropertyGroup):
    """Stock plate and material for Panelize and Export (``Scene.scurve_fabrication``)."""

    plate_width: _option("plate_width")  # type: ignore[valid-type]
    plate_height: _option("plate_height")  # type: ignore[valid-type]
    thickness: _option("thickness")  # type: ignore[valid-type]
    density: _option("density")  # type: ignore[valid-type]
    seam_allowance: _option("seam_allowance")  # type: ignore[valid-type]


# A function, not a method of the group: bpy 4.2 segfaults at interpreter exit after a
# PropertyGroup with a method named ``options`` was registered (found by the render
# scripts' exit status), and what the group holds is only data anyway.
def fabrication_options(settings: Any) -> FabricationOptions:
    """The validated :class:`FabricationOptions` of ``Scene.scurve_fabrication``.

    Raises
    ------
    ValueError
        Naming the option, the value and the allowed range.
    """
    return FabricationOptions(**{name: float(getattr(settings, name)) for name in _LABELS})


def _active_mirror(context: Any) -> Any | None:
    obj = context.active_object
    return obj if mirror_object.is_editable_mirror(obj) else None


def _poll(cls: Any, context: Any) -> bool:
    if context.mode != "OBJECT":
        cls.poll_message_set("Switch to Object Mode first")
        return False
    if _active_mirror(context) is None:
        cls.poll_message_set("Select a mirror made by Add > Mesh > S-Curve Mirror")
        return False
    return True


def _run(op: Any, context: Any, writing: bool) -> Any:
    """``(mirror, fabrication, seconds)``, or None after reporting why not."""
    missing = missing_modules(writing)
    if missing:
        op.report({"ERROR"}, f"needs {', '.join(missing)} in Blender's Python: "
                             f"{sys.executable} -m pip install {' '.join(missing)}")
        return None
    mirror = _active_mirror(context)
    try:
        params = mirror_object.object_params(mirror)
        options = fabrication_options(context.scene.scurve_fabrication)
        start = time.perf_counter()
        fab = fabricate(params, options)
    except ValueError as exc:
        op.report({"ERROR"}, str(exc))
        return None
    return mirror, fab, time.perf_counter() - start


def _summary(fab: Any) -> str:
    counts: dict[str, int] = {}
    for p in fab.panels:
        counts[p.strain_class] = counts.get(p.strain_class, 0) + 1
    classes = ", ".join(f"{n} {name}" for name, n in counts.items())
    worst = max(p.flat.strain_max for p in fab.panels)
    return (f"{len(fab.panels)} panels ({len(fab.panels) // 2} patterns, twins turned over): "
            f"{classes}; largest flattening strain {100 * worst:.2f} %")


def remove_overlay(mirror_name: str | None = None) -> int:
    """Delete Panelize's objects, meshes and materials (of one mirror, or all)."""
    gone = 0
    for coll_name in ("objects", "meshes", "materials"):
        coll = getattr(bpy.data, coll_name)
        for idb in [i for i in coll if i.get(OVERLAY_KEY) is not None]:
            if mirror_name is None or idb.get(OVERLAY_KEY) == mirror_name:
                gone += coll_name == "objects"
                coll.remove(idb)
    return gone


def _class_material(mirror_name: str, class_name: str) -> Any:
    """A material in the class's colour: in the Solid viewport (its viewport colour) and in
    Material Preview and renders (a diffuse shader)."""
    colour = (*CLASS_COLOURS[class_name], 1.0)
    mat = bpy.data.materials.new(f"{mirror_name} Panels: {class_name}")
    mat[OVERLAY_KEY] = mirror_name
    mat.diffuse_color = colour
    # The overlay has a layer on each face of the wall and is drawn in front: culling
    # shows the layer on the side the viewer faces.
    mat.use_backface_culling = True
    tree = compat.ensure_node_tree(mat)
    tree.nodes.clear()
    shader = tree.nodes.new("ShaderNodeBsdfDiffuse")
    shader.inputs["Color"].default_value = colour
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    tree.links.new(shader.outputs["BSDF"], out.inputs["Surface"])
    return mat


def _add_overlay(context: Any, mirror: Any, fab: Any) -> tuple[Any, Any]:
    from scurve_geom.fabricate.overlay import panel_overlay

    overlay = panel_overlay(fab)
    name = mirror.name
    mesh = mesh_io.new_mesh(f"{name} Panels", overlay.mesh)
    mesh[OVERLAY_KEY] = name
    colours = np.array([(*CLASS_COLOURS[p.strain_class], 1.0) for p in fab.panels],
                       dtype=np.float32)
    attr: Any = mesh.color_attributes.new(_COLOR_ATTR, "FLOAT_COLOR", "CORNER")
    corner = np.repeat(colours[overlay.face_panel], 4, axis=0)
    attr.data.foreach_set("color", np.ascontiguousarray(corner).ravel())
    mesh.color_attributes.active_color = attr
    panel_index: Any = mesh.attributes.new("panel", "INT", "FACE")
    panel_index.data.foreach_set("value", overlay.face_panel)
    # One material per class present, each face using its panel's.
    present = sorted({p.strain_class for p in fab.panels}, key=list(CLASS_COLOURS).index)
    for class_name in present:
        mesh.materials.append(_class_material(name, class_name))
    slot = np.array([present.index(p.strain_class) for p in fab.panels], dtype=np.int32)
    mesh.polygons.foreach_set("material_index", slot[overlay.face_panel])

    seams = bpy.data.meshes.new(f"{name} Seams")
    seams[OVERLAY_KEY] = name
    seams.vertices.add(len(overlay.seam_vertices))
    compat.set_positions(seams, np.ascontiguousarray(overlay.seam_vertices, np.float32).ravel())
    seams.edges.add(len(overlay.seam_edges))
    compat.set_edge_verts(seams, np.ascontiguousarray(overlay.seam_edges, np.int32).ravel())
    seams.update()

    objs = []
    for data, suffix in ((mesh, "Panels"), (seams, "Seams")):
        obj = bpy.data.objects.new(f"{name} {suffix}", data)
        obj[OVERLAY_KEY] = name
        obj.parent = mirror          # follows the mirror's placement
        obj.hide_select = True
        for collection in mirror.users_collection:
            collection.objects.link(obj)
        objs.append(obj)
    panels_obj, seams_obj = objs
    # A viewport overlay: drawn over the mirror whatever its subdivision makes of the exact
    # surface (a coarse grid's limit surface strays centimetres from it), never rendered.
    for obj in objs:
        obj.show_in_front = True
        obj.hide_render = True
    compat.set_if_present(panels_obj, visible_shadow=False)
    panels_obj["panel_names"] = [p.name for p in fab.panels]
    panels_obj["panel_classes"] = [p.strain_class for p in fab.panels]
    panels_obj["flattening_strain"] = [p.flat.strain_max for p in fab.panels]
    panels_obj["params"] = str(fab.params.to_dict())
    return panels_obj, seams_obj


class OBJECT_OT_scurve_panelize(bpy.types.Operator):
    """Cut the active mirror into plate-sized panels, flatten each (libigl), and show them
    on the wall coloured by forming class (green roll, amber wheel or stretch, red split)"""

    bl_idname = "object.scurve_panelize"
    bl_label = "Panelize"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    @classmethod
    def poll(cls, context: Any) -> bool:
        return _poll(cls, context)

    def execute(self, context: Any) -> Any:
        done = _run(self, context, writing=False)
        if done is None:
            return {"CANCELLED"}
        mirror, fab, seconds = done
        remove_overlay(mirror.name)
        _add_overlay(context, mirror, fab)
        self.report({"INFO"}, f"{_summary(fab)} ({seconds:.1f} s)")
        return {"FINISHED"}


class OBJECT_OT_scurve_panelize_clear(bpy.types.Operator):
    """Remove the panel overlay from the active mirror"""

    bl_idname = "object.scurve_panelize_clear"
    bl_label = "Remove Panels"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    @classmethod
    def poll(cls, context: Any) -> bool:
        mirror = _active_mirror(context)
        return mirror is not None and any(o.get(OVERLAY_KEY) == mirror.name
                                          for o in bpy.data.objects)

    def execute(self, context: Any) -> Any:
        n = remove_overlay(context.active_object.name)
        self.report({"INFO"}, f"Removed {n} panel overlay objects")
        return {"FINISHED"}


def folder_name(mirror_name: str) -> str:
    """The folder Export makes inside the chosen directory, from the mirror's name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", mirror_name).strip("_") + " cutting patterns"


class OBJECT_OT_scurve_export_patterns(bpy.types.Operator):
    """Write the active mirror's cutting patterns (DXF per panel), nesting sheet (SVG,
    PNG), JSON report and strain map into a folder, all files or none"""

    bl_idname = "object.scurve_export_patterns"
    bl_label = "Export Cutting Patterns"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a plain set

    directory: StringProperty(  # type: ignore[valid-type]
        name="Folder", subtype="DIR_PATH",
        description="The files go into a new sub-folder '<mirror> cutting patterns' here",
    )

    @classmethod
    def poll(cls, context: Any) -> bool:
        return _poll(cls, context)

    def invoke(self, context: Any, event: Any) -> Any:
        if not self.directory:
            self.directory = bpy.path.abspath("//") or str(Path.home())
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context: Any) -> Any:
        from scurve_geom.fabricate.outputs import write_outputs

        folder = Path(bpy.path.abspath(self.directory))
        if not self.directory or not folder.is_dir():
            self.report({"ERROR"}, f"folder {str(folder)!r} does not exist")
            return {"CANCELLED"}
        done = _run(self, context, writing=True)
        if done is None:
            return {"CANCELLED"}
        mirror, fab, _ = done
        out = folder / folder_name(mirror.name)
        try:
            write_outputs(fab, out, title=mirror.name)
        except (ValueError, OSError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Wrote {out}: {_summary(fab)}")
        return {"FINISHED"}


class VIEW3D_PT_scurve_fabrication(bpy.types.Panel):
    """Panels, flat patterns and forming strain of the active mirror"""

    bl_label = "Fabrication"
    bl_idname = "VIEW3D_PT_scurve_fabrication"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "S-Curve"
    bl_parent_id = _PARENT_PANEL
    bl_options = {"DEFAULT_CLOSED"}  # noqa: RUF012 - Blender reads a plain set

    def draw(self, context: Any) -> None:
        layout: Any = self.layout
        settings = context.scene.scurve_fabrication
        col = layout.column(align=True)
        for name in _LABELS:
            col.prop(settings, name)
        row = layout.row(align=True)
        row.operator(OBJECT_OT_scurve_panelize.bl_idname, icon="MOD_TRIANGULATE")
        row.operator(OBJECT_OT_scurve_panelize_clear.bl_idname, text="", icon="X")
        layout.operator(OBJECT_OT_scurve_export_patterns.bl_idname, icon="EXPORT")
        mirror = _active_mirror(context)
        shown: list[Any] = [o for o in bpy.data.objects
                 if mirror is not None and o.get(OVERLAY_KEY) == mirror.name
                 and o.get("panel_names") is not None]
        if shown:
            box = layout.box().column(align=True)
            obj = shown[0]
            for name, cls, strain in zip(obj["panel_names"], obj["panel_classes"],
                                         obj["flattening_strain"], strict=True):
                box.label(text=f"{name}  {100 * strain:.2f} %  {cls}")


classes = (SCurveFabricationSettings, OBJECT_OT_scurve_panelize, OBJECT_OT_scurve_panelize_clear,
           OBJECT_OT_scurve_export_patterns, VIEW3D_PT_scurve_fabrication)
_register: Any
_unregister: Any
_register, _unregister = bpy.utils.register_classes_factory(classes)  # type: ignore[func-returns-value, misc]


def register() -> None:
    _register()
    bpy.types.Scene.scurve_fabrication = PointerProperty(  # type: ignore[attr-defined, func-returns-value]
        type=SCurveFabricationSettings)


def unregister() -> None:
    del bpy.types.Scene.scurve_fabrication  # type: ignore[attr-defined]
    _unregister()
